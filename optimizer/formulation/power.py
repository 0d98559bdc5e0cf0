"""Power: no site-quarter draws or reserves more grid MW than it has secured, and AI only on firm power
(coupling family: it reads the power-use sum).

Symbols:
    P[s,t]          secured grid power of the quarter: the power-ledger steps so far, 0 before energisation (sites/ledger.py) [grid MW]
    F[s,t]          the firm part of P[s,t] [grid MW]

Equations:
    (P1) sum(power_use_mw[s,t,w]) <= P[s,t]     (mining pue_mine * y, halls g * B_s * N, resale q)
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


IDLE_REASONS = ("idle_no_fleet_mw", "idle_unprofitable_mw", "idle_construction_mw", "idle_curtailed_mw")


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
    """Secured and firm MW, and the idle grid MW (P less what miners draw, halls online reserve and resale
    takes) by reason: no fleet to run, a fleet that does not pay at this hashprice, reserved for halls under
    construction, miners curtailed; the four add up to the idle MW."""
    out = {"secured_mw": dict(d.secured_mw), "firm_mw": dict(d.firm_mw)}
    use = {k: float(pyo.value(m.terms.power_use_mw.total(k))) if k in m.POWER_STW else 0.0 for k in d.secured_mw}
    n, g, pue = halls.started(m, d), d.base.grid_mw_per_it_mw, d.base.mining_pue
    fleet = {(s, t): float(pyo.value(m.mining_fleet_it_mw[s, t])) for (s, t) in m.mining_fleet_it_mw}
    reasons = {name: {} for name in IDLE_REASONS}
    for (s, t, w), p in d.secured_mw.items():
        mining_mw = pue * float(pyo.value(m.mining_it_mw[s, t, w])) if (s, t, w) in m.MINING_STW else 0.0
        ai_mw = g * d.hall_it_mw[s] * n.get((s, t), 0.0)
        online = g * float(pyo.value(m.ai_online_it_mw[s, t])) if s in d.ai_sites else 0.0
        free = max(0.0, p - use[s, t, w] + mining_mw)      # P - halls' reservation - resale
        runnable = min(pue * fleet.get((s, t), 0.0), free)
        k = (s, t, w)
        reasons["idle_no_fleet_mw"][k] = free - runnable
        reasons["idle_unprofitable_mw"][k] = max(0.0, runnable - mining_mw)
        reasons["idle_construction_mw"][k] = ai_mw - online
        reasons["idle_curtailed_mw"][k] = (1 - d.mining_run_share[k]) * mining_mw
    out.update(reasons)
    out["idle_grid_mw"] = {k: sum(reasons[name][k] for name in IDLE_REASONS) for k in d.secured_mw}
    return out


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """P1, P2, and the idle MW: its reasons add up to it, and with them secured MW = miners' grid MW + halls'
    reservation + resale + idle without halls under construction or curtailment."""
    s, problems = plan.schedule, []
    used = s["mining_grid_mw"] + s["ai_grid_mw_reserved"] + s["power_resold_mw"]
    over = used - s["secured_mw"] > TOL_MW
    if over.any():
        problems.append(f"power: grid MW used exceeds secured MW at {where(s, over)}.")
    firm = s["ai_grid_mw_reserved"] - s["firm_mw"] > TOL_MW
    if firm.any():
        problems.append(f"power: AI halls reserve more than the firm MW at {where(s, firm)}.")
    parts = s[list(IDLE_REASONS)]
    idle = ((parts.sum(axis=1) - s["idle_grid_mw"]).abs() > TOL_MW) | (parts < -TOL_MW).any(axis=1) | (
        (used + s["idle_no_fleet_mw"] + s["idle_unprofitable_mw"] - s["secured_mw"]).abs() > TOL_MW) & ~over
    if idle.any():
        problems.append(f"power: idle grid MW and its reasons do not add up at {where(s, idle)}.")
    return problems
