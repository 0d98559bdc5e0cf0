"""AI halls: integer construction starts, kept as a cumulative count (tight LP relaxation).

Symbols:
    N[s,t]          AI halls whose construction started at or before t (integer, cumulative) [halls]
    n[s,t]          halls started in t: N[s,t] - N[s,t-1] [halls]
    B_s             IT load of one hall at site s [IT MW]
    H_s             most halls at site s (max_halls; must fit the peak firm power) [halls]
    L_s             construction lead time (retrofit 4, greenfield 7) [quarters]
    c_s             AI capex per IT MW (retrofit or greenfield, times the capex multiplier) [USD/IT MW]
    g               grid MW reserved per AI IT MW [grid MW/IT MW]
    S_max           portfolio-wide AI construction starts per quarter (inf: none) [IT MW/quarter]
    C_s, t_C        halls contracted to have started at site s by quarter t_C [halls; quarter]
    PC[s,t]         AI capex of site s paid in quarters 0..t [USD]

Equations:
    (H1) 0 <= N[s,t] <= H_s, integer;  N[s,t] >= N[s,t-1]
    (H2) sum_s B_s * n[s,t] <= S_max                                  (build rate; skipped if inf)
    (H3) power use += g * B_s * N[s,t]    (a hall reserves its grid MW from construction start)
    (H4) capex in quarter j (spread evenly over the L_s build quarters, tail charged after the horizon):
         ai_capex_usd[j] = sum_s c_s * B_s / L_s * (N[s, min(j,T-1)] - N[s, j-L_s])   (N[., <0] = 0)
    (H5) N[s,t] >= C_s for t >= t_C   (commitments: a lower bound, never loosened)
"""

import math

import pandas as pd
import pyomo.environ as pyo

from kernel.quarters import label, ordinal
from optimizer.data import ModelData
from optimizer.formulation.family import TOL_MW, Limit, at_quarter, at_site_quarter, no_columns, quarter
from optimizer.formulation.terms import CashLine

REQUIRES = ()
CAPEX = CashLine("ai_capex_usd", -1, "capex")
CASH_LINES = (CAPEX,)
LIMITS = (
    Limit("build_rate", "build rate: AI starts per quarter", at_quarter,
          lambda d, i, a: f"allow {a:,.1f} IT MW more AI starts in {quarter(d, i[0])}", unit="IT MW"),
    Limit("halls_started", "commitments: contracted halls", at_site_quarter, bound="lower",
          applies=lambda var: (var.lb or 0) > 0),
)


def cumulative(m: pyo.ConcreteModel, s: str, t: int):
    """N[s,t] with N = 0 before the horizon and held at N[s,T-1] after it."""
    if t < 0:
        return 0
    return m.halls_started[s, min(t, len(m.T) - 1)]


def capex_paid_through(m: pyo.ConcreteModel, d: ModelData, s: str, j: int):
    """PC[s,j] = c_s B_s / L_s * sum_{k=j-L_s+1..j} N[s,k] (USD)."""
    if j < 0:
        return 0
    lead = d.lead_quarters[s]
    return d.capex_usd_per_it_mw[s] * d.hall_it_mw[s] / lead * sum(
        cumulative(m, s, k) for k in range(j - lead + 1, j + 1))


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.AI_SITES = pyo.Set(initialize=d.ai_sites)
    m.halls_started = pyo.Var(m.AI_SITES, m.T, domain=pyo.NonNegativeIntegers,
                              bounds=lambda _, s, t: (0, d.max_halls[s]))
    for s in d.ai_sites:
        committed = d.committed_halls[s]
        for t in range(d.committed_t[s], d.n_quarters) if committed else ():
            m.halls_started[s, t].setlb(committed)
    m.halls_monotone = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: pyo.Constraint.Skip if t == 0
        else m.halls_started[s, t] >= m.halls_started[s, t - 1])
    cap = d.base.max_ai_start_it_mw_per_quarter
    rate_limited = list(m.T) if math.isfinite(cap) and d.ai_sites else []
    m.build_rate = pyo.Constraint(rate_limited, rule=lambda m, t: sum(
        d.hall_it_mw[s] * (cumulative(m, s, t) - cumulative(m, s, t - 1)) for s in m.AI_SITES) <= cap)
    g = d.base.grid_mw_per_it_mw
    for s in d.ai_sites:
        hall, lead, cost = d.hall_it_mw[s], d.lead_quarters[s], d.capex_usd_per_it_mw[s]
        for t in m.T:
            for w in m.W:
                m.terms.power_use_mw.add((s, t, w), g * hall * m.halls_started[s, t])
        for j in range(min(d.n_extended, d.n_quarters - 1 + lead)):
            paid = cost * hall / lead * (cumulative(m, s, j) - cumulative(m, s, j - lead))
            for w in m.W:
                m.terms.add_cash(CAPEX.name, j, w, paid)


def started(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """(s, t) -> N[s,t] at the solution (0 for sites that take no hall)."""
    return {(s, t): float(pyo.value(m.halls_started[s, t])) for s in d.ai_sites for t in m.T}


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    n = started(m, d)
    keys = [(s, t, w) for s in d.ai_sites for t in m.T for w in m.W]
    return {"ai_halls_started": {k: n[k[:2]] for k in keys},
            "ai_grid_mw_reserved": {k: d.base.grid_mw_per_it_mw * d.hall_it_mw[k[0]] * n[k[:2]] for k in keys}}


cashflow_columns = no_columns


def builds_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per AI hall started: site, start, online and fully billed quarters, MW and capex."""
    rows = []
    for s in d.ai_sites:
        lead, hall = d.lead_quarters[s], d.hall_it_mw[s]
        before = 0
        for t in range(d.n_quarters):
            count = int(round(pyo.value(m.halls_started[s, t])))
            for number in range(before + 1, count + 1):
                start = ordinal(d.quarters[t])
                rows.append({
                    "site": s, "hall": f"{s} #{number}", "start_quarter": d.quarters[t],
                    "online_quarter": label(start + lead), "fully_billed_quarter": label(start + lead + 1),
                    "lead_quarters": lead, "it_mw": hall, "grid_mw": hall * d.base.grid_mw_per_it_mw,
                    "capex_usd": hall * d.capex_usd_per_it_mw[s],
                })
            before = max(before, count)
    columns = ["site", "hall", "start_quarter", "online_quarter", "fully_billed_quarter", "lead_quarters",
               "it_mw", "grid_mw", "capex_usd"]
    return pd.DataFrame(rows, columns=columns)


def check(plan) -> list[str]:
    """H1-H3, H5 on the Builds sheet, and the Schedule's halls and reserved grid MW against it."""
    d, b, problems = plan.data, plan.builds, []
    cap = d.base.max_ai_start_it_mw_per_quarter
    if len(b) and math.isfinite(cap):
        per_quarter = b.groupby("start_quarter")["it_mw"].sum()
        problems += [f"build rate: {mw:g} IT MW started in {q}, above {cap:g}."
                     for q, mw in per_quarter[per_quarter > cap + TOL_MW].items()]
    count = b.groupby("site").size()
    problems += [f"halls: {s} has {n} halls, above its {d.max_halls[s]}." for s, n in count.items()
                 if n > d.max_halls[s]]
    sched = plan.schedule
    by_site = {site: sorted(group["start_quarter"]) for site, group in b.groupby("site")}
    count = pd.Series([sum(q <= r.quarter for q in by_site.get(r.site, ())) for r in sched.itertuples()],
                      index=sched.index, dtype=float)
    hall = sched["site"].map(d.hall_it_mw).fillna(0.0)
    reserved = d.base.grid_mw_per_it_mw * hall
    if ((sched["ai_halls_started"] - count).abs() > TOL_MW).any() or (
            (sched["ai_grid_mw_reserved"] - reserved * count).abs() > TOL_MW * reserved.clip(lower=1.0)).any():
        problems.append("halls: Schedule's halls started or grid MW reserved differ from the Builds sheet.")
    for s in d.ai_sites:
        if d.committed_halls[s]:
            by = d.quarters[d.committed_t[s]]
            done = int((b[b["site"] == s]["start_quarter"] <= by).sum())
            if done < d.committed_halls[s]:
                problems.append(f"commitments: {s} has started {done} halls by {by}, not the contracted "
                                f"{d.committed_halls[s]}.")
    return problems
