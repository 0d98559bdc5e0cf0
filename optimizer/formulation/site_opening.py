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
from optimizer.formulation.family import TOL_USD, horizon_cash, no_columns
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


schedule_columns = cashflow_columns = no_columns


def check(plan) -> list[str]:
    """O2/O3: by each first-start quarter, the opening costs of every site started so far have been paid."""
    d, problems = plan.data, []
    first = plan.builds.groupby("site")["start_quarter"].min()
    for w in d.scenarios:
        paid = horizon_cash(plan, w).set_index("quarter")["site_opening_usd"].cumsum()
        for quarter_ in sorted(set(first)):
            need = sum(d.site_opening_cost_usd[s] for s, q in first.items() if q <= quarter_)
            if paid[quarter_] < need - TOL_USD:
                problems.append(f"site opening: halls start in {quarter_} at a site not yet opened ({w}).")
    return problems
