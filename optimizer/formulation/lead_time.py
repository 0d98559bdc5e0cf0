"""Construction lead time and tenant ramp: when halls come online and how much of them can bill.

A hall started in tau is online from tau + L_s and bills 50% of its MW in its first online quarter,
100% from the second; the b_s halls under construction at the horizon start are online from t_b.

Symbols:
    share(a)        billed share of a hall a quarters after it came online: 0 (a < 0), 0.5 (a = 0), 1 (a >= 1) [-]

Equations:
    (L1) ai_online_it_mw[s,t]   = B_s * (N'[s, t-L_s] + b_s [t >= t_b])
    (L2) ai_billable_it_mw[s,t] = B_s * (sum_tau n[s,tau] * share(t-L_s-tau) + b_s * share(t-t_b))
                                = B_s * (0.5 * N'[s, t-L_s] + 0.5 * N'[s, t-L_s-1] + b_s * share(t-t_b))
"""

import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls
from optimizer.formulation.family import TOL_MW, no_columns, values, where
from optimizer.formulation.halls import started_in_horizon

REQUIRES = (halls,)
CASH_LINES = ()
LIMITS = ()


def share(age: int) -> float:
    """Billed share of a hall `age` quarters after it came online."""
    return 0.0 if age < 0 else 0.5 if age == 0 else 1.0


def first_online_t(d: ModelData, s: str) -> int:
    """The first quarter a hall of site s can be online: L_s, or t_b when it has halls under construction."""
    return min(d.lead_quarters[s], d.building_online_t[s]) if d.building_halls[s] else d.lead_quarters[s]


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    hall, lead, b, t_b = d.hall_it_mw, d.lead_quarters, d.building_halls, d.building_online_t
    new = lambda s, t: started_in_horizon(m, d, s, t)  # noqa: E731
    m.ai_online_it_mw = pyo.Expression(
        m.AI_SITES, m.T, rule=lambda m, s, t: hall[s] * (new(s, t - lead[s]) + (b[s] if t >= t_b[s] else 0)))
    m.ai_billable_it_mw = pyo.Expression(
        m.AI_SITES, m.T, rule=lambda m, s, t: hall[s] * (0.5 * new(s, t - lead[s]) + 0.5 * new(s, t - lead[s] - 1)
                                                        + b[s] * share(t - t_b[s])))


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    online = values(m.ai_online_it_mw, list(m.ai_online_it_mw))
    keys = [(s, t, w) for s in d.ai_sites for t in m.T for w in m.W]
    started = halls.started(m, d)
    return {"ai_it_mw_under_construction": {k: d.hall_it_mw[k[0]] * started[k[:2]] - online[k[:2]] for k in keys},
            "ai_it_mw_online": {k: online[k[:2]] for k in keys}}


def hall_mw(plan, share) -> pd.Series:
    """(site, quarter) -> sum over the Builds rows of it_mw * share(t - start - lead)."""
    d, out = plan.data, {}
    index = d.quarter_index
    for row in plan.builds.itertuples(index=False):
        for t in range(d.n_quarters):
            key = (row.site, d.quarters[t])
            out[key] = out.get(key, 0.0) + share(t - index[row.start_quarter] - row.lead_quarters) * row.it_mw
    return pd.Series(out, dtype=float)


def billable_it_mw(plan) -> pd.Series:
    """L2 from the Builds sheet: 50% in a hall's online quarter, 100% after."""
    return hall_mw(plan, share)


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """L1: Schedule's online MW are the Builds' halls past their lead time."""
    s = plan.schedule
    online = hall_mw(plan, lambda age: 1.0 if age >= 0 else 0.0)
    expected = pd.Series([online.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    off = (s["ai_it_mw_online"] - expected).abs() > TOL_MW
    return [f"lead time: online MW differ from the Builds' halls at {where(s, off)}."] if off.any() else []
