"""Objective: maximise the expected NPV of every cash-flow line, discounted at the end of each quarter
(coupling family: it reads every cash line). The model objective is in $M (scaled by 1e-6).

Symbols:
    j               quarter of a cash flow, 0..J-1: the horizon plus the post-horizon tail [-]
    p_w             probability of scenario w [-]
    r               discount rate [1/yr]
    df[j]           end-of-quarter discount factor (1+r)^-((j+1)/4) [-]
    a_l[j,w]        amount of cash line l in quarter j; sign_l +1 inflow, -1 outflow [USD]

Every line counts in the NPV but equity raised, which is issued at fair value (only its issuance cost is
a loss to existing holders).

Equations:
    (N1) NPV_w = sum_j df[j] * sum_{l in NPV} sign_l * a_l[j,w]
    (N2) max sum_w p_w * NPV_w
"""

import numpy as np
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import liquidity
from optimizer.formulation.family import TOL_USD, no_columns

OBJECTIVE_SCALE_USD = 1e6
REQUIRES = (liquidity,)
CASH_LINES = ()
LIMITS = ()


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    df = d.discount_factor
    m.npv_usd = pyo.Expression(m.W, rule=lambda m, w: sum(
        df[j] * m.terms.net(j, w, npv_only=True) for j in range(d.n_extended)))
    m.npv_musd = pyo.Objective(
        expr=sum(d.probability[w] * m.npv_usd[w] for w in m.W) / OBJECTIVE_SCALE_USD, sense=pyo.maximize)


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """N1/N2: every line a non-negative amount (taxes may be a credit after the horizon), net flow the
    signed sum of its lines, and the objective the NPV rebuilt from CashFlow."""
    d, c, problems = plan.data, plan.cashflow, []
    negative = [line.name for line in plan.cash_lines if line.category != "tax" and (c[line.name] < -TOL_USD).any()]
    if negative:
        problems.append(f"cash flow: {', '.join(negative)} holds negative amounts (lines are amounts, signed by kind).")
    net = sum(line.sign * c[line.name] for line in plan.cash_lines if line.in_npv)
    if (abs(net - c["net_cash_flow_usd"]) > TOL_USD).any():
        problems.append("cash flow: net_cash_flow_usd differs from the sum of its lines.")
    rebuilt = float(np.dot([d.probability[w] for w in c["scenario"]], c["net_cash_flow_usd"] * c["discount_factor"]))
    npv = plan.info.npv_usd
    if npv is None or abs(rebuilt - npv) > 1e-6 * max(1.0, abs(npv)):
        problems.append(f"objective: NPV rebuilt from CashFlow ${rebuilt:,.0f} differs from the objective "
                        f"${npv or 0:,.0f}.")
    return problems
