"""Liquidity: a quarterly cash roll-forward with a floor; capex is paid from cash on hand plus debt.

Symbols (per scenario w): cash[t] end-of-quarter balance ($M); C0 opening cash; net[t] = sum of every
cash line in t (operating - capex + draws - repayments - interest + equity - taxes); F cash floor.

    (Q1) cash[t] = cash[t-1] + net[t],  cash[-1] = C0
    (Q2) cash[t] >= F                        (a bound; none when F = -inf)
"""

import math

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.financing import MUSD


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    floor = sc.cash_floor_usd / MUSD if math.isfinite(sc.cash_floor_usd) else None
    m.cash_musd = pyo.Var(m.T, m.W, bounds=(floor, None))
    m.cash_roll = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: m.cash_musd[t, w] == (
        (m.cash_musd[t - 1, w] if t > 0 else sc.opening_cash_usd / MUSD) + m.terms.net(t, w) / MUSD))
