"""Site opening: a one-off cost opens a site for AI before (or as) its first hall starts.

Symbols:
    z[s,t]          1 once site s is open for AI (binary, non-decreasing) [-]
    K_s             one-off cost to open site s for AI (substation, fibre, cooling plant) [USD]

Equations:
    (O1) z[s,t] >= z[s,t-1]                          (a site stays open)
    (O2) N[s,t] <= H_s * z[s,t]                      (cumulative link: no hall before the site opens)
    (O3) cash: site_opening_usd[t] = K_s * (z[s,t] - z[s,t-1])     (paid in the quarter z turns on)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls
from optimizer.formulation.family import TOL_USD, no_columns, schedule_matches_cashflow
from optimizer.formulation.terms import CashLine

REQUIRES = (halls,)
OPENING = CashLine("site_opening_usd", -1, "capex")
CASH_LINES = (OPENING,)
LIMITS = ()


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.site_open = pyo.Var(m.AI_SITES, m.T, domain=pyo.Binary)
    m.site_open_monotone = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: pyo.Constraint.Skip if t == 0
        else m.site_open[s, t] >= m.site_open[s, t - 1])
    m.site_open_before_halls = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: m.halls_started[s, t] <= d.max_halls[s] * m.site_open[s, t])
    for s in d.ai_sites:
        for t in m.T:
            opened = m.site_open[s, t] - (m.site_open[s, t - 1] if t > 0 else 0)
            for w in m.W:
                m.terms.add_cash(OPENING.name, t, w, d.site_opening_cost_usd[s] * opened)


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """The opening cost each site pays in each quarter (O3)."""
    z = {(s, t): float(pyo.value(m.site_open[s, t])) for s in d.ai_sites for t in m.T}
    return {"site_opening_usd": {(s, t, w): d.site_opening_cost_usd[s] * (z[s, t] - (z[s, t - 1] if t else 0.0))
                                 for s in d.ai_sites for t in m.T for w in m.W}}


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """O2/O3 per site: its opening cost is paid by the quarter its first hall starts; the Schedule's opening
    costs add up to CashFlow's."""
    d, s, problems = plan.data, plan.schedule, []
    first = plan.builds.groupby("site")["start_quarter"].min()
    for (site, w), rows in s[s["site"].isin(first.index)].groupby(["site", "scenario"]):
        paid = rows[rows["quarter"] <= first[site]]["site_opening_usd"].sum()
        if paid < d.site_opening_cost_usd[site] - TOL_USD:
            problems.append(f"site opening: {site} starts a hall in {first[site]} before paying its opening cost ({w}).")
    return problems + schedule_matches_cashflow(plan, CASH_LINES)
