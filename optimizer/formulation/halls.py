"""AI halls: integer construction starts, kept as a cumulative count (tight LP relaxation).

Symbols: N[s,t] halls whose construction started at or before t (integer); n[s,t] = N[s,t] - N[s,t-1]
starts in t; B_s hall IT MW; H_s most halls; L_s lead time (quarters); c_s capex per IT MW (USD);
g grid MW per IT MW; S_max portfolio IT MW of starts per quarter.

    (H1) 0 <= N[s,t] <= H_s, integer;  N[s,t] >= N[s,t-1]
    (H2) sum_s B_s * n[s,t] <= S_max                                  (build rate; skipped if inf)
    (H3) power use += g * B_s * N[s,t]    (a hall reserves its grid MW from construction start)
    (H5) N[s,t] >= C_s for t >= t_C   (commitments: C_s halls contracted to have started by t_C)
    (H4) capex in quarter j (spread evenly over the L_s build quarters, tail charged after the horizon):
         ai_capex_usd[j] = sum_s c_s * B_s / L_s * (N[s, min(j,T-1)] - N[s, j-L_s])   (N[., <0] = 0)
"""

import math

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.terms import cash_line

CAPEX = cash_line("ai_capex_usd", -1, "capex")


def cumulative(m: pyo.ConcreteModel, s: str, t: int):
    """N[s,t] with N = 0 before the horizon and held at N[s,T-1] after it."""
    if t < 0:
        return 0
    return m.halls_started[s, min(t, len(m.T) - 1)]


def capex_paid_through(m: pyo.ConcreteModel, d: ModelData, s: str, j: int):
    """AI capex of site s paid in quarters 0..j (USD) = c_s B_s / L_s * sum_{k=j-L_s+1..j} N[s,k]."""
    if j < 0:
        return 0
    hall, lead = d.sites.at[s, "hall_it_mw"], int(d.sites.at[s, "lead_quarters"])
    return d.sites.at[s, "capex_usd_per_it_mw"] * hall / lead * sum(
        cumulative(m, s, k) for k in range(j - lead + 1, j + 1))


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sites = d.sites
    m.AI_SITES = pyo.Set(initialize=d.ai_sites)
    m.halls_started = pyo.Var(m.AI_SITES, m.T, domain=pyo.NonNegativeIntegers,
                              bounds=lambda _, s, t: (0, int(sites.at[s, "max_halls"])))
    for s in d.ai_sites:
        committed = int(sites.at[s, "committed_halls"])
        for t in range(int(sites.at[s, "committed_t"]), d.n_quarters) if committed else ():
            m.halls_started[s, t].setlb(committed)
    m.halls_monotone = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: pyo.Constraint.Skip if t == 0
        else m.halls_started[s, t] >= m.halls_started[s, t - 1])
    cap = d.base.max_ai_start_it_mw_per_quarter
    if math.isfinite(cap) and d.ai_sites:
        m.build_rate = pyo.Constraint(m.T, rule=lambda m, t: sum(
            sites.at[s, "hall_it_mw"] * (cumulative(m, s, t) - cumulative(m, s, t - 1)) for s in m.AI_SITES)
            <= cap)
    g = d.base.grid_mw_per_it_mw
    for s in d.ai_sites:
        hall, lead, cost = sites.at[s, "hall_it_mw"], int(sites.at[s, "lead_quarters"]), \
            sites.at[s, "capex_usd_per_it_mw"]
        for t in m.T:
            for w in m.W:
                m.terms.power_use_mw[(s, t, w)].append(g * hall * m.halls_started[s, t])
        for j in range(min(d.n_extended, d.n_quarters - 1 + lead)):
            paid = cost * hall / lead * (cumulative(m, s, j) - cumulative(m, s, j - lead))
            for w in m.W:
                m.terms.add_cash(CAPEX, j, w, paid)
