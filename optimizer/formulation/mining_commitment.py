"""Mining commitments: miners that a hosting or offtake contract obliges a site to run, whatever the
quarter's margin, until the contract ends; the power they take is not free for AI halls.

Symbols:
    Y_s             mining IT MW site s must run each quarter under contract (mining_commitment_it_mw) [IT MW]
    t_Y             last quarter of the contract (mining_commitment_end_quarter; default the horizon end) [quarter]

Equations:
    (W1) y[s,t,w] >= Y_s   for t <= t_Y     (a commitment above the fleet M_s, or on power that halls
         reserve, makes the plan infeasible, and is explained as such)
"""

import pyomo.environ as pyo

from kernel.quarters import ordinal
from optimizer.data import ModelData
from optimizer.formulation import mining
from optimizer.formulation.family import TOL_MW, Limit, at_site_quarter, no_columns, quarter, where

REQUIRES = (mining,)
CASH_LINES = ()
LIMITS = (
    Limit("mining_commitment", "mining commitments: contracted mining MW", at_site_quarter,
          lambda d, i, a: f"{i[0]}: run {a:,.1f} IT MW fewer miners than contracted in {quarter(d, i[1])}",
          unit="IT MW"),
)


def last_t(d: ModelData, s: str) -> int:
    """t_Y of site s as a horizon index (the horizon end when the contract names no end quarter)."""
    end = d.mining_commitment_end_quarter[s]
    return d.n_quarters - 1 if not end else ordinal(end) - ordinal(d.quarters[0])


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    committed = d.mining_commitment_it_mw
    keys = [(s, t, w) for (s, t, w) in m.MINING_STW if committed[s] > 0 and t <= last_t(d, s)]
    m.mining_commitment = pyo.Constraint(keys, rule=lambda m, s, t, w: m.mining_it_mw[s, t, w] >= committed[s])


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """W1 on the Schedule sheet."""
    d, s = plan.data, plan.schedule
    index = d.quarter_index
    due = [d.mining_commitment_it_mw[r.site] if index[r.quarter] <= last_t(d, r.site) else 0.0
           for r in s.itertuples()]
    short = s["mining_it_mw"] < [x - TOL_MW for x in due]
    return [f"mining commitments: fewer miners than contracted at {where(s, short)}."] if short.any() else []
