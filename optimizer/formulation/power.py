"""Power: no site-quarter draws or reserves more grid MW than it has secured, and AI only on firm power
(coupling family: it reads the power-use sum).

Symbols:
    P[s,t]          secured grid power of the quarter: the power-ledger steps so far, 0 before energisation (sites/ledger.py) [grid MW]
    F[s,t]          the firm part of P[s,t] [grid MW]

Equations:
    (P1) sum(power_use_mw[s,t,w]) <= P[s,t]     (mining pue_mine * y, halls g * B_s * N)
    (P2) g * B_s * N[s,t] <= F[s,t]      (rows only where F < P and F < g * B_s * H_s: else P1 or H1 implies it)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, mining
from optimizer.formulation.family import TOL_MW, Limit, at_site_quarter, no_columns, quarter, where

REQUIRES = (mining, halls)
CASH_LINES = ()
LIMITS = (
    Limit("power_limit", "power: secured grid MW", at_site_quarter,
          lambda d, i, a: f"{i[0]}: {a:,.1f} MW more secured power in {quarter(d, i[1])}", unit="MW"),
    Limit("firm_power_limit", "power: firm grid MW for AI halls", at_site_quarter,
          lambda d, i, a: f"{i[0]}: {a:,.1f} MW more firm power in {quarter(d, i[1])}", unit="MW"),
)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    secured, use = d.secured_mw, m.terms.power_use_mw
    m.POWER_STW = pyo.Set(initialize=use.keys(), dimen=3)
    m.power_limit = pyo.Constraint(m.POWER_STW, rule=lambda m, s, t, w: use.total((s, t, w)) <= secured[s, t, w])
    firm, g, w0 = d.firm_mw, d.base.grid_mw_per_it_mw, d.scenarios[0]
    binding = [(s, t) for s in d.ai_sites for t in range(d.n_quarters)
               if firm[s, t, w0] < min(secured[s, t, w0], g * d.hall_it_mw[s] * d.max_halls[s]) - 1e-9]
    m.FIRM_ST = pyo.Set(initialize=binding, dimen=2)
    m.firm_power_limit = pyo.Constraint(m.FIRM_ST, rule=lambda m, s, t:
                                        g * d.hall_it_mw[s] * m.halls_started[s, t] <= firm[s, t, w0])


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """Secured and firm MW, and the idle grid MW = P - every family's power use."""
    use = m.terms.power_use_mw
    idle = {k: p - (float(pyo.value(use.total(k))) if k in m.POWER_STW else 0.0) for k, p in d.secured_mw.items()}
    return {"secured_mw": dict(d.secured_mw), "firm_mw": dict(d.firm_mw), "idle_grid_mw": idle}


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """P1, P2."""
    s = plan.schedule
    over = s["mining_grid_mw"] + s["ai_grid_mw_reserved"] - s["secured_mw"] > TOL_MW
    firm = s["ai_grid_mw_reserved"] - s["firm_mw"] > TOL_MW
    return ([f"power: grid MW used exceeds secured MW at {where(s, over)}."] if over.any() else []) + \
        ([f"power: AI halls reserve more than the firm MW at {where(s, firm)}."] if firm.any() else [])
