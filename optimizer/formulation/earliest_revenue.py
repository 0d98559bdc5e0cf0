"""No lease revenue before the earliest revenue quarter (2027Q1 by default), a hard constraint.

With the default horizon and lead times it does not bind; it does for an earlier horizon start or a
shorter lead time.

Symbols:
    t_0             first quarter with lease revenue allowed (earliest_ai_revenue_quarter) [quarter]

Equations:
    (E1) x[s,t,w] = 0 for every t < t_0        (upper bound of the leased-MW variable)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import leasing
from optimizer.formulation.family import TOL_MW, Limit, at_site_quarter, no_columns, quarter, where

REQUIRES = (leasing,)
CASH_LINES = ()
LIMITS = (
    Limit("leased_it_mw", lambda d: f"earliest revenue: no lease before {d.base.earliest_ai_revenue_quarter}",
          at_site_quarter,
          lambda d, i, a: (f"{i[0]}: allow {a:,.1f} IT MW of leases in {quarter(d, i[1])}, before the earliest "
                           f"revenue quarter {d.base.earliest_ai_revenue_quarter}"),
          unit="IT MW", bound="upper", applies=lambda var: var.ub == 0),
)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    for (s, t, w) in m.AI_STW:
        if t < d.earliest_revenue_t:
            m.leased_it_mw[s, t, w].setub(0.0)


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """E1."""
    d, s = plan.data, plan.schedule
    early = (s["quarter"].map(d.quarter_index) < d.earliest_revenue_t) & (
        s["ai_it_mw_leased"] > TOL_MW)
    return [f"earliest revenue: leases before {d.base.earliest_ai_revenue_quarter} at {where(s, early)}."
            ] if early.any() else []
