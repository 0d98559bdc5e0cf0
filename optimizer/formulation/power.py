"""Power: no site-quarter draws or reserves more grid MW than it has secured, and AI only on firm power
(coupling family).

Symbols: P[s,t] secured grid MW of the quarter, F[s,t] its firm part (sites/ledger.py: 0 before
energisation); power_use_mw the sum of the other families' contributions (mining pue_mine*y, halls
g*B_s*N); N[s,t] halls started by t, g grid MW per IT MW, B_s hall IT MW.

    (P1) sum(power_use_mw[s,t,w]) <= P[s,t]
    (P2) g * B_s * N[s,t] <= F[s,t]      (where F < P and F < g * B_s * H_s: else P1 implies it)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    secured = d.values("secured_mw")
    keys = sorted(m.terms.power_use_mw)
    m.POWER_STW = pyo.Set(initialize=keys, dimen=3)
    m.power_limit = pyo.Constraint(m.POWER_STW, rule=lambda m, s, t, w:
                                   sum(m.terms.power_use_mw[s, t, w]) <= secured[s, t, w])
    firm, g, w0 = d.values("firm_mw"), d.base.grid_mw_per_it_mw, d.scenarios[0]
    binding = [(s, t) for s in d.ai_sites for t in range(d.n_quarters)
               if firm[s, t, w0] < min(secured[s, t, w0],
                                       g * d.sites.at[s, "hall_it_mw"] * d.sites.at[s, "max_halls"]) - 1e-9]
    m.FIRM_ST = pyo.Set(initialize=binding, dimen=2)
    m.firm_power_limit = pyo.Constraint(m.FIRM_ST, rule=lambda m, s, t:
                                        g * d.sites.at[s, "hall_it_mw"] * m.halls_started[s, t] <= firm[s, t, w0])
