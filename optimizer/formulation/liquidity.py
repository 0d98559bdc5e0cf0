"""Liquidity: a quarterly cash roll-forward with a floor; capex is paid from cash on hand plus debt
(coupling family: it reads every cash line).

Symbols (per scenario w):
    cash[t]         cash balance at the end of quarter t [$M]
    C0              cash on hand at the start of the horizon [USD]
    C_min           least cash balance at every quarter end (-inf: none) [USD]
    net[t]          sum_l sign_l * a_l[t], every cash line (operating - capex + draws - repayments - interest + equity - taxes) [USD]

Equations:
    (Q1) cash[t] = cash[t-1] + net[t],  cash[-1] = C0
    (Q2) cash[t] >= C_min                        (a bound; none when C_min = -inf)
"""

import math

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import financing, taxes
from optimizer.formulation.family import TOL_USD, Limit, at_quarter, horizon_cash, no_columns, quarter, values
from optimizer.formulation.financing import MUSD

REQUIRES = (financing, taxes)
CASH_LINES = ()
LIMITS = (
    Limit("cash_musd", "liquidity: the cash floor", at_quarter,
          lambda d, i, a: f"lower the cash floor in {quarter(d, i[0])} by ${a:,.1f}M", unit="$M", bound="lower"),
)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    floor = sc.cash_floor_usd / MUSD if math.isfinite(sc.cash_floor_usd) else None
    m.cash_musd = pyo.Var(m.T, m.W, bounds=(floor, None))
    m.cash_roll = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: m.cash_musd[t, w] == (
        (m.cash_musd[t - 1, w] if t > 0 else sc.opening_cash_usd / MUSD) + m.terms.net(t, w) / MUSD))


def cashflow_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    return {"cash_balance_usd": values(m.cash_musd, list(m.cash_musd), MUSD)}


schedule_columns = no_columns


def check(plan) -> list[str]:
    """Q1/Q2: the balance rolls forward from opening cash by every line, and stays on the floor."""
    problems = []
    for w in plan.data.scenarios:
        sc, c = plan.data.scenario_values[w], horizon_cash(plan, w)
        signed = sum(line.sign * c[line.name] for line in plan.cash_lines)
        rolled = sc.opening_cash_usd + signed.cumsum()
        if (abs(rolled - c["cash_balance_usd"]) > TOL_USD * len(c)).any():
            problems.append(f"liquidity: cash_balance_usd does not roll forward from opening cash ({w}).")
        low = c[c["cash_balance_usd"] < sc.cash_floor_usd - TOL_USD]
        if len(low):
            problems.append(f"liquidity: cash below the ${sc.cash_floor_usd / 1e6:,.0f}M floor in "
                            f"{', '.join(low['quarter'].head(5))} ({w}).")
    return problems
