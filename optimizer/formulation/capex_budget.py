"""Capex budget (optional): AI capex plus site opening paid in a horizon quarter stays within a budget.

    (C1) ai_capex_usd[t] + site_opening_usd[t] <= budget      for t in the horizon (skipped if inf)
"""

import math

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.halls import CAPEX
from optimizer.formulation.site_opening import OPENING


def capex_paid(m: pyo.ConcreteModel, t: int, w: str):
    return sum(m.terms.cash_usd[line].get((t, w), 0) for line in (CAPEX, OPENING))


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    budget = d.base.capex_budget_usd_per_quarter
    if not math.isfinite(budget) or not d.ai_sites:
        return
    w0 = d.scenarios[0]  # capex is first-stage: the same in every scenario
    m.capex_budget = pyo.Constraint(m.T, rule=lambda m, t: capex_paid(m, t, w0) <= budget)
