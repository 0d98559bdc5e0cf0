"""Objective: maximise the expected NPV of every cash-flow line, discounted at the end of each quarter.

Symbols: p_w scenario probability; df[j] = (1+r)^-((j+1)/4); sign_l +1 inflow, -1 outflow;
a_l[j,w] amount of cash line l in quarter j (USD), over every line that counts in the NPV (all but equity
raised, which is issued at fair value: only its issuance cost is a loss to existing holders). The model
objective is in $M (scaled by 1e-6).

    (N1) NPV_w = sum_j df[j] * sum_{l in NPV} sign_l * a_l[j,w]
    (N2) max sum_w p_w * NPV_w
"""

import pyomo.environ as pyo

from optimizer.data import ModelData

OBJECTIVE_SCALE_USD = 1e6


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    df = d.discount_factor
    m.npv_usd = pyo.Expression(m.W, rule=lambda m, w: sum(
        df[j] * m.terms.net(j, w, npv_only=True) for j in range(d.n_extended)))
    m.npv_musd = pyo.Objective(
        expr=sum(d.probability[w] * m.npv_usd[w] for w in m.W) / OBJECTIVE_SCALE_USD, sense=pyo.maximize)
