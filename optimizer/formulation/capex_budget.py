"""Capex budget (optional): AI capex plus site opening paid in a horizon quarter stays within a budget
(coupling family: it reads the capex lines).

Symbols:
    Bud             cap on AI and site-opening capex paid per quarter (inf: none) [USD/quarter]

Equations:
    (C1) ai_capex_usd[t] + site_opening_usd[t] <= Bud      for t in the horizon (skipped if inf)
"""

import math

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, site_opening
from optimizer.formulation.family import TOL_USD, Limit, at_quarter, horizon_cash, no_columns, quarter
from optimizer.formulation.financing import MUSD

REQUIRES = (halls, site_opening)
CASH_LINES = ()
LIMITS = (
    Limit("capex_budget", "capex: the quarterly capex budget", at_quarter,
          lambda d, i, a: f"raise the capex budget in {quarter(d, i[0])} by ${a:,.1f}M", unit="$M", scale=MUSD),
)
PAID = (halls.CAPEX, site_opening.OPENING)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    budget = d.base.capex_budget_usd_per_quarter
    w0 = d.scenarios[0]  # capex is first-stage: the same in every scenario
    m.capex_budget = pyo.Constraint(list(m.T) if math.isfinite(budget) and d.ai_sites else [], rule=lambda m, t: sum(
        m.terms.cash(line.name, t, w0) for line in PAID) <= budget)


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """C1."""
    budget = plan.data.base.capex_budget_usd_per_quarter
    if not math.isfinite(budget):
        return []
    c = horizon_cash(plan, plan.data.scenarios[0])
    paid = sum(c[line.name] for line in PAID)
    over = paid > budget + TOL_USD
    return [f"capex budget: ${p / 1e6:,.1f}M paid in {q}, above ${budget / 1e6:,.1f}M."
            for q, p in zip(c["quarter"][over], paid[over])]
