"""AI halls: integer construction starts, kept as a cumulative count (tight LP relaxation).

Halls already under construction at the horizon start (b_s of them, site fields building_*) count in N from
the start: they take max_halls places and reserve their grid MW, come online in t_b (lead_time.py), and their
remaining capex is paid evenly until then; the capex spent before the horizon is sunk (not in the NPV) and
enters the AI tax basis at the horizon start (taxes.py, as AI capex paid in quarter 0). Their site is
open: its opening cost is sunk too (optimizer/data.py).

Symbols:
    N[s,t]          AI halls whose construction started at or before t (integer, cumulative), those under construction at the start included [halls]
    n[s,t]          halls started in t: N[s,t] - N[s,t-1], N[s,-1] = b_s [halls]
    b_s             halls under construction at the horizon start (building_halls) [halls]
    t_b             quarter they come online (building_online_quarter; 1 <= t_b <= T-1) [quarter]
    Rb_s            their capex still to pay (building_remaining_usd) [USD]
    Sb_s            their capex spent before the horizon (building_spent_usd): sunk, a tax basis [USD]
    B_s             IT load of one hall at site s [IT MW]
    H_s             most halls at site s (max_halls; must fit the peak firm power) [halls]
    L_s             construction lead time (retrofit 4, greenfield 7) [quarters]
    c_s             AI capex per IT MW (retrofit or greenfield, times the capex multiplier) [USD/IT MW]
    g               grid MW reserved per AI IT MW [grid MW/IT MW]
    S_max           portfolio-wide AI construction starts per quarter (inf: none) [IT MW/quarter]
    C_s, t_C        halls contracted to have started at site s by quarter t_C [halls; quarter]
    PC[s,t]         AI capex of site s paid in quarters 0..t [USD]

Equations:
    (H1) b_s <= N[s,t] <= H_s, integer;  N[s,t] >= N[s,t-1]
    (H2) sum_s B_s * n[s,t] <= S_max                                  (build rate; skipped if inf)
    (H3) power use += g * B_s * N[s,t]    (a hall reserves its grid MW from construction start)
    (H4) capex in quarter j (spread evenly over the L_s build quarters, tail charged after the horizon):
         ai_capex_usd[j] = sum_s c_s * B_s / L_s * (N'[s, min(j,T-1)] - N'[s, j-L_s]) + Rb_s / t_b [j < t_b]
         with N'[s,t] = N[s,t] - b_s the halls started in the horizon (N'[., <0] = 0)
    (H5) N[s,t] >= b_s + C_s for t >= t_C   (commitments: a lower bound, never loosened)
"""

import math

import pandas as pd
import pyomo.environ as pyo

from kernel.quarters import label, ordinal
from optimizer.data import ModelData
from optimizer.formulation.family import TOL_MW, TOL_USD, Limit, at_quarter, at_site_quarter, no_columns, quarter
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


def started_in_horizon(m: pyo.ConcreteModel, d: ModelData, s: str, t: int):
    """N'[s,t] = N[s,t] - b_s: halls started in the horizon by t (0 before it, held after it)."""
    return 0 if t < 0 else cumulative(m, s, t) - d.building_halls[s]


def building_paid_through(d: ModelData, s: str, j: int) -> float:
    """Remaining capex of the halls under construction paid in quarters 0..j: Rb_s * min(j+1, t_b) / t_b."""
    if j < 0 or not d.building_halls[s]:
        return 0.0
    return d.building_remaining_usd[s] * min(j + 1, d.building_online_t[s]) / d.building_online_t[s]


def capex_paid_through(m: pyo.ConcreteModel, d: ModelData, s: str, j: int):
    """PC[s,j] = c_s B_s / L_s * sum_{k=j-L_s+1..j} N'[s,k] + Rb_s * min(j+1, t_b) / t_b (USD)."""
    if j < 0:
        return 0
    lead = d.lead_quarters[s]
    return d.capex_usd_per_it_mw[s] * d.hall_it_mw[s] / lead * sum(
        started_in_horizon(m, d, s, k) for k in range(j - lead + 1, j + 1)) + building_paid_through(d, s, j)


def tax_basis_through(m: pyo.ConcreteModel, d: ModelData, s: str, j: int):
    """PC[s,j] + Sb_s (j >= 0): the AI tax basis, the capex spent before the horizon on the halls under
    construction counted as paid in quarter 0 (taxes.py T1)."""
    return 0 if j < 0 else capex_paid_through(m, d, s, j) + d.building_spent_usd[s]


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.AI_SITES = pyo.Set(initialize=d.ai_sites)
    m.halls_started = pyo.Var(m.AI_SITES, m.T, domain=pyo.NonNegativeIntegers,
                              bounds=lambda _, s, t: (0, d.max_halls[s]))
    for s in d.ai_sites:
        building, committed = d.building_halls[s], d.committed_halls[s]
        for t in m.T:
            lower = building + (committed if t >= d.committed_t[s] else 0)
            if lower:
                m.halls_started[s, t].setlb(lower)
    m.halls_monotone = pyo.Constraint(
        m.AI_SITES, m.T, rule=lambda m, s, t: pyo.Constraint.Skip if t == 0
        else m.halls_started[s, t] >= m.halls_started[s, t - 1])
    cap = d.base.max_ai_start_it_mw_per_quarter
    rate_limited = list(m.T) if math.isfinite(cap) and d.ai_sites else []
    m.build_rate = pyo.Constraint(rate_limited, rule=lambda m, t: sum(
        d.hall_it_mw[s] * (started_in_horizon(m, d, s, t) - started_in_horizon(m, d, s, t - 1))
        for s in m.AI_SITES) <= cap)
    g = d.base.grid_mw_per_it_mw
    for s in d.ai_sites:
        hall, lead, cost = d.hall_it_mw[s], d.lead_quarters[s], d.capex_usd_per_it_mw[s]
        for t in m.T:
            for w in m.W:
                m.terms.power_use_mw.add((s, t, w), g * hall * m.halls_started[s, t])
        for j in range(min(d.n_extended, d.n_quarters - 1 + lead)):
            paid = cost * hall / lead * (started_in_horizon(m, d, s, j) - started_in_horizon(m, d, s, j - lead)) \
                + building_paid_through(d, s, j) - building_paid_through(d, s, j - 1)
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
    """One row per AI hall: site, start, online and fully billed quarters, MW and capex paid in the plan. The
    halls under construction at the horizon start come first at their site (status "under construction":
    start_quarter = the horizon start, lead_quarters = t_b, capex_usd = their share of Rb_s, capex_spent_usd =
    their share of the sunk Sb_s); the others are "planned" (capex_usd = c_s B_s)."""
    rows = []
    for s in d.ai_sites:
        lead, hall, building = d.lead_quarters[s], d.hall_it_mw[s], d.building_halls[s]
        before = 0
        for t in range(d.n_quarters):
            count = int(round(pyo.value(m.halls_started[s, t])))
            for number in range(before + 1, count + 1):
                start, ahead = ordinal(d.quarters[t]), d.building_online_t[s] if number <= building else lead
                rows.append({
                    "site": s, "hall": f"{s} #{number}", "start_quarter": d.quarters[t],
                    "online_quarter": label(start + ahead), "fully_billed_quarter": label(start + ahead + 1),
                    "lead_quarters": ahead, "it_mw": hall, "grid_mw": hall * d.base.grid_mw_per_it_mw,
                    "capex_usd": d.building_remaining_usd[s] / building if number <= building
                    else hall * d.capex_usd_per_it_mw[s],
                    "capex_spent_usd": d.building_spent_usd[s] / building if number <= building else 0.0,
                    "status": "under construction" if number <= building else "planned",
                })
            before = max(before, count)
    columns = ["site", "hall", "start_quarter", "online_quarter", "fully_billed_quarter", "lead_quarters",
               "it_mw", "grid_mw", "capex_usd", "capex_spent_usd", "status"]
    return pd.DataFrame(rows, columns=columns)


def check(plan) -> list[str]:
    """H1-H3, H5 on the Builds sheet (the build rate and the commitments on its planned halls), the halls under
    construction at the start (H1, H4: their capex spread evenly until online), and the Schedule's halls and
    reserved grid MW against it."""
    d, b, problems = plan.data, plan.builds, []
    cap = d.base.max_ai_start_it_mw_per_quarter
    planned = b[b["status"] == "planned"]
    if len(planned) and math.isfinite(cap):
        per_quarter = planned.groupby("start_quarter")["it_mw"].sum()
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
        rows = b[(b["site"] == s) & (b["status"] == "under construction")]
        if len(rows) != d.building_halls[s] or (len(rows) and (
                (rows["online_quarter"] != d.quarters[d.building_online_t[s]]).any()
                or abs(rows["capex_usd"].sum() - d.building_remaining_usd[s]) > TOL_USD)):
            problems.append(f"halls: {s} shows {len(rows)} halls under construction at the start, not its "
                            f"{d.building_halls[s]} online in {d.quarters[d.building_online_t[s]]} with "
                            f"${d.building_remaining_usd[s]:,.0f} to pay.")
        if d.committed_halls[s]:
            by = d.quarters[d.committed_t[s]]
            done = int((planned[planned["site"] == s]["start_quarter"] <= by).sum())
            if done < d.committed_halls[s]:
                problems.append(f"commitments: {s} has started {done} halls by {by}, not the contracted "
                                f"{d.committed_halls[s]}.")
    return problems
