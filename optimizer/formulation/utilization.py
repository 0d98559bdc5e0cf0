"""Utilization: a hall online for k_u quarters must be at least u_min leased, so that the model builds
fewer halls when demand cannot fill them instead of leaving stranded capacity silently.

Symbols:
    u_min           least leased share of a hall once online for k_u quarters [ratio]
    k_u             quarters online before the utilization floor applies [quarters]

Equations:
    (U1) x[s,t,w] >= u_min * ai_online_it_mw[s, t - k_u]     (= u_min * B_s * N[s, t - L_s - k_u] without halls
         under construction at the start)
"""

import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, lead_time, leasing
from optimizer.formulation.family import TOL_MW, Limit, at_site_quarter, no_columns, quarter, where

REQUIRES = (halls, lead_time, leasing)
CASH_LINES = ()
LIMITS = (
    Limit("utilization_floor", "utilization: halls online must be leased", at_site_quarter,
          lambda d, i, a: f"{i[0]}: lease {a:,.1f} IT MW less than the utilization floor asks in {quarter(d, i[1])}",
          unit="IT MW", typical=lambda d, i: d.base.utilization_min_share * d.hall_it_mw[i[0]]),
)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    u_min, k = d.base.utilization_min_share, d.base.utilization_after_quarters
    keys = [(s, t, w) for (s, t, w) in m.AI_STW if t - k >= lead_time.first_online_t(d, s)] if u_min > 0 else []
    m.utilization_floor = pyo.Constraint(keys, rule=lambda m, s, t, w: (
        m.leased_it_mw[s, t, w] >= u_min * m.ai_online_it_mw[s, t - k]))


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """U1 from the Builds and Schedule sheets."""
    sc, s = plan.data.base, plan.schedule
    if sc.utilization_min_share <= 0:
        return []
    k = sc.utilization_after_quarters
    need = lead_time.hall_mw(plan, lambda age: sc.utilization_min_share if age >= k else 0.0)
    required = pd.Series([need.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    short = required - s["ai_it_mw_leased"] > TOL_MW
    return [f"utilization: halls less than {sc.utilization_min_share:.0%} leased at {where(s, short)}."
            ] if short.any() else []
