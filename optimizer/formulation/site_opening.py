"""Site opening: a one-off cost opens a site for AI before (or as) its first hall starts.

Symbols: z[s,t] binary, 1 once site s is open; K_s opening cost (USD); H_s most halls; N[s,t] halls
started so far (halls.py).

    (O1) z[s,t] >= z[s,t-1]                          (a site stays open)
    (O2) N[s,t] <= H_s * z[s,t]                      (cumulative link: no hall before the site opens)
    (O3) cash: site_opening_usd[t] = K_s * (z[s,t] - z[s,t-1])     (paid in the quarter z turns on)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.terms import cash_line

OPENING = cash_line("site_opening_usd", -1, "capex")


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sites = d.sites
    m.site_open = pyo.Var(m.AI_SITES, m.T, domain=pyo.Binary)
    m.site_open_monotone = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: pyo.Constraint.Skip if t == 0
        else m.site_open[s, t] >= m.site_open[s, t - 1])
    m.site_open_before_halls = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t:
        m.halls_started[s, t] <= int(sites.at[s, "max_halls"]) * m.site_open[s, t])
    for s in d.ai_sites:
        cost = sites.at[s, "site_opening_cost_usd"]
        for t in m.T:
            opened = m.site_open[s, t] - (m.site_open[s, t - 1] if t > 0 else 0)
            for w in m.W:
                m.terms.add_cash(OPENING, t, w, cost * opened)
