"""Leasing: tenants contract online AI capacity; contracts never shrink; markets absorb so much; each lease keeps
the rate it was signed at.

Leased MW x are the signed leases' MW h (inputs, sites/leases.py) plus the MW the plan signs. A lease the plan
signs in quarter c (a cohort: the growth of x - h in c) bills the market rate of c, rate[c], escalated by the
contract escalator for LT quarters, then re-prices at the market rate of that quarter for another term (a
renewal, again a cohort). The cohorts' revenue is kept by a per-site recursion (X7), so each row holds a few
terms whatever the term; it is an equality, so the LP relaxation is the one of the revenue written out. A
signed lease bills its own rate and escalator over its own ramp and term (C), then its MW re-price at the
market rate like a cohort; the plan must host it (X8, never loosened) and its MW take no market absorption
(they were absorbed when signed).

Symbols:
    x[s,t,w]        AI IT load under lease, signed leases included [IT MW]
    D[m,t,w]        new leased MW market m absorbs per quarter [IT MW/quarter]
    rate[t,w]       revenue per IT MW-quarter of a lease signed in t at the market rate: $/kW-month(t) * 1000 * 3 * billing utilisation [USD/IT MW-quarter]
    esc_w           contract escalator per quarter: (1 + lease_escalator_per_yr)^(1/4) [-]
    LT_w            term of a lease the plan signs (lease_term_quarters) [quarters]
    h[s,t]          signed leases' MW billed at site s: it_mw * min(1, (t - start + 1) / ramp) from their start [IT MW]
    C[s,t]          signed leases' contract revenue: h * rate_c * 1000 * 3 * billing utilisation * (1+esc_c)^((t-start)/4) within their term [USD]
    rn[s,t]         signed MW whose term ends in t (at the market rate from t) [IT MW]
    S[s,t,w]        MW signed at the market rate in t: the plan's new leases and every renewal [IT MW]
    LR[s,t,w]       revenue of the leases signed at the market rate (all cohorts) [$M]
    phi             landlord opex as a share of lease revenue (NNN lease) [ratio]
    TQ              quarters the last quarter's net lease margin is held flat after the horizon [quarters]
    T               horizon length [quarters]
    e_ai            grid MWh per leased IT MW-quarter: 24 * quarter_days * ai_pue * ai_load_factor [MWh/IT MW-quarter]

Equations:
    (X1) x[s,t,w] <= ai_billable_it_mw[s,t]
    (X2) x[s,t,w] - h[s,t] >= x[s,t-1,w] - h[s,t-1]   (the plan's leases outlast the horizon; h never falls)
    (X3) sum_{s in m} ((x[s,t,w] - h[s,t]) - (x[s,t-1,w] - h[s,t-1])) <= D[m,t,w]   (x[s,-1,w] = h[s,-1] = 0)
    (X4) cash: lease_revenue_usd[s,t] = 1e6 * LR[s,t,w] + C[s,t];  ai_opex_usd = phi * lease_revenue_usd
    (X5) terminal value: for j = T..T+TQ-1, lease_revenue_usd[j] = lease_revenue_usd[s,T-1]
         (the last quarter's leases, every cohort at its own rate, held flat; ai_opex_usd likewise)
    (X6) energy_mwh += e_ai * x;  emissions_tco2 += ef[s,t] * e_ai * x
         (the tenant's power is passed through (NNN) but its emissions are the site's)
    (X7) S[s,t,w] = (x[s,t,w] - h[s,t]) - (x[s,t-1,w] - h[s,t-1]) + rn[s,t] + S[s,t-LT_w,w]   (S[., <0] = 0);
         1e6 * LR[s,t,w] = esc_w * 1e6 * LR[s,t-1,w] + rate[t,w] * S[s,t,w] - esc_w^LT_w * rate[t-LT_w,w] * S[s,t-LT_w,w]
         (LR[s,-1,w] = 0): sum over the live cohorts c of rate[c,w] * esc_w^(t-c) * S[s,c,w]
    (X8) x[s,t,w] >= h[s,t] where h[s,t] > 0   (signed leases are hosted; never loosened, nor X2 where h grows)
"""

import math

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, lead_time
from optimizer.formulation.family import (TOL_MW, TOL_USD, Limit, at_site_quarter, no_columns, quarter,
                                          schedule_matches_cashflow, values, where)
from optimizer.formulation.terms import CashLine

MUSD = 1e6   # LR in $M keeps the X7 rows well scaled
REQUIRES = (halls, lead_time)
LEASE = CashLine("lease_revenue_usd", +1, "operating")
AI_OPEX = CashLine("ai_opex_usd", -1, "operating")
CASH_LINES = (LEASE, AI_OPEX)


def signed_here(d: ModelData, index) -> str:
    """The signed leases billing at (site, quarter) of an X8 index, by name, and the quarter."""
    s, t = index[0], index[1]
    names = [lease.name for lease in d.leases if lease.site == s and lease.start_quarter <= quarter(d, t)]
    return f"{', '.join(names) or s} in {quarter(d, t)}"


LIMITS = (
    Limit("market_absorption", "demand: market absorption of new leases", at_site_quarter,
          lambda d, i, a: f"market {i[0]}: absorb {a:,.1f} IT MW more new leases in {quarter(d, i[1])}",
          unit="IT MW"),
    Limit("signed_lease_hosted", "signed leases: their MW must be billable at their site", signed_here),
    Limit("signed_lease_ramp", "signed leases: their MW must be billable at their site", signed_here),
)


def ai_mwh_per_it_mw(d: ModelData) -> float:
    """e_ai = 24 * quarter_days * ai_pue * ai_load_factor."""
    return 24.0 * d.base.quarter_days * d.base.ai_pue * d.base.ai_load_factor


def cohort_mw(x, d: ModelData, s: str, t: int, w: str):
    """S[s,t,w] (X7) of leased MW x (a Pyomo variable or a dict by (s, t, w)): the growth of x - h in t plus
    the signed MW re-priced in t, plus the renewal of the cohort signed LT quarters before."""
    if t < 0:
        return 0.0
    h, before = d.signed_it_mw, (lambda k: x[s, k, w] - d.signed_it_mw[s, k] if k >= 0 else 0.0)
    return (x[s, t, w] - h[s, t]) - before(t - 1) + d.signed_renewal_it_mw[s, t] + \
        cohort_mw(x, d, s, t - d.lease_term_quarters[w], w)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.AI_STW = pyo.Set(initialize=[(s, t, w) for s in d.ai_sites for t in m.T for w in m.W], dimen=3)
    upper = {s: d.hall_it_mw[s] * d.max_halls[s] for s in d.ai_sites}
    m.leased_it_mw = pyo.Var(m.AI_STW, bounds=lambda _, s, t, w: (0.0, upper[s]))
    x, h = m.leased_it_mw, d.signed_it_mw
    m.lease_within_billable = pyo.Constraint(m.AI_STW, rule=lambda m, s, t, w: x[s, t, w] <= m.ai_billable_it_mw[s, t])
    step = lambda s, t: h[s, t] - h[s, t - 1]  # noqa: E731 - the signed MW a lease's ramp adds in t (>= 0)
    never_falls = lambda m, s, t, w: x[s, t, w] - x[s, t - 1, w] >= step(s, t)  # noqa: E731
    m.RAMP_STW = pyo.Set(initialize=[k for k in m.AI_STW if k[1] > 0 and step(*k[:2]) > 0], dimen=3)
    m.lease_never_falls = pyo.Constraint(pyo.Set(initialize=[k for k in m.AI_STW if k[1] > 0 and k not in m.RAMP_STW],
                                                 dimen=3), rule=never_falls)
    m.signed_lease_ramp = pyo.Constraint(m.RAMP_STW, rule=never_falls)  # X2 where a signed lease ramps up
    m.SIGNED_STW = pyo.Set(initialize=[k for k in m.AI_STW if h[k[:2]] > 0], dimen=3)
    m.signed_lease_hosted = pyo.Constraint(m.SIGNED_STW, rule=lambda m, s, t, w: x[s, t, w] >= h[s, t])
    m.MARKET_TW = pyo.Set(initialize=[(mk, t, w) for mk in d.markets for t in m.T for w in m.W
                                      if math.isfinite(d.market_absorption_it_mw[mk, t, w])], dimen=3)
    m.market_absorption = pyo.Constraint(m.MARKET_TW, rule=lambda m, mk, t, w: sum(
        x[s, t, w] - (x[s, t - 1, w] if t > 0 else 0) - h[s, t] + (h[s, t - 1] if t > 0 else 0)
        for s in d.markets[mk]) <= d.market_absorption_it_mw[mk, t, w])
    _cohorts(m, d)
    phi, last, e_ai = d.base.landlord_opex_share, d.n_quarters - 1, ai_mwh_per_it_mw(d)
    for (s, t, w) in m.AI_STW:
        revenue = MUSD * m.lease_cohort_revenue_musd[s, t, w] + d.signed_revenue_usd[s, t]
        m.terms.add_cash(LEASE.name, t, w, revenue)
        m.terms.add_cash(AI_OPEX.name, t, w, phi * revenue)
        m.terms.energy_mwh.add((s, t, w), e_ai * x[s, t, w])
        m.terms.emissions_tco2.add((s, t, w), d.grid_tco2_per_mwh[s, t, w] * e_ai * x[s, t, w])
        if t == last:
            for j in range(d.n_quarters, d.n_quarters + d.base.terminal_quarters):
                m.terms.add_cash(LEASE.name, j, w, revenue)
                m.terms.add_cash(AI_OPEX.name, j, w, phi * revenue)


def _cohorts(m: pyo.ConcreteModel, d: ModelData) -> None:
    """X7: LR[s,t,w] = esc LR[s,t-1,w] + (rate[t] S[t] - esc^LT rate[t-LT] S[t-LT]) / 1e6."""
    x, rate, esc = m.leased_it_mw, d.lease_revenue_usd_per_it_mw, d.lease_escalation_per_quarter
    m.lease_cohort_revenue_musd = pyo.Var(m.AI_STW, domain=pyo.Reals)
    r = m.lease_cohort_revenue_musd

    def row(m, s, t, w):
        term = d.lease_term_quarters[w]
        signed = rate[t, w] * cohort_mw(x, d, s, t, w)
        if t >= term:
            signed -= esc[w] ** term * rate[t - term, w] * cohort_mw(x, d, s, t - term, w)
        return r[s, t, w] == (esc[w] * r[s, t - 1, w] if t > 0 else 0.0) + signed / MUSD
    m.lease_cohort_revenue = pyo.Constraint(m.AI_STW, rule=row)


def cohort_revenue_usd(d: ModelData, leased: dict, s: str, w: str) -> list[float]:
    """LR[s,t,w] in USD for t = 0..T-1 from leased MW {(s, t, w): x} (X7 by its closed form: each cohort S[c]
    at rate[c] esc^(t-c) while t - c < LT)."""
    esc, term = d.lease_escalation_per_quarter[w], d.lease_term_quarters[w]
    signed = [cohort_mw(leased, d, s, c, w) for c in range(d.n_quarters)]
    return [sum(d.lease_revenue_usd_per_it_mw[c, w] * esc ** (t - c) * signed[c] for c in range(max(0, t - term + 1),
                                                                                              t + 1))
            for t in range(d.n_quarters)]


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    x = values(m.leased_it_mw, m.AI_STW)
    cohorts = values(m.lease_cohort_revenue_musd, m.AI_STW, MUSD)
    signed = {k: d.signed_revenue_usd[k[:2]] for k in m.AI_STW}
    revenue = {k: cohorts[k] + signed[k] for k in m.AI_STW}
    e_ai = ai_mwh_per_it_mw(d)
    return {"ai_it_mw_leased": x, "ai_it_mw_signed": {k: d.signed_it_mw[k[:2]] for k in m.AI_STW},
            "lease_revenue_usd": revenue, "lease_signed_revenue_usd": signed,
            "ai_opex_usd": {k: d.base.landlord_opex_share * v for k, v in revenue.items()},
            "ai_tco2": {k: d.grid_tco2_per_mwh[k] * e_ai * v for k, v in x.items()}}


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """X1-X3 and X8 on the Schedule and Builds sheets; X4 and X7: the lease revenue recomputed, cohort by
    cohort, from the Schedule's leased and signed MW and the signed leases; X5: the post-horizon lease revenue
    of CashFlow is the last quarter's, held flat."""
    d = plan.data
    s = plan.schedule.sort_values(["scenario", "site", "quarter"])
    problems = []
    billable = lead_time.billable_it_mw(plan)
    allowed = pd.Series([billable.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    over = s["ai_it_mw_leased"] - allowed > TOL_MW
    if over.any():
        problems.append(f"leasing: leased MW exceed the billable MW of online halls at {where(s, over)}.")
    own = s["ai_it_mw_leased"] - s["ai_it_mw_signed"]
    change = own.groupby([s["scenario"], s["site"]]).diff().fillna(own)
    if (change < -TOL_MW).any():
        problems.append(f"leasing: leased MW fall at {where(s, change < -TOL_MW)}.")
    new = s.assign(market=s["site"].map(d.market), new=change).groupby(["scenario", "market", "quarter"])["new"].sum()
    for (w, mk, q), mw in new.items():
        limit = d.scenario_values[w].market_absorption_it_mw_per_quarter.get(mk)
        if limit is not None and mw > limit + TOL_MW:
            problems.append(f"market absorption: {mw:.1f} new IT MW leased in {mk} in {q}, above {limit:g}.")
    return problems + _signed_problems(plan, s) + _revenue_problems(plan, s) + schedule_matches_cashflow(
        plan, CASH_LINES)


def _signed_problems(plan, s: pd.DataFrame) -> list[str]:
    """X8, and the Schedule's signed MW against the signed leases."""
    d, problems = plan.data, []
    ai = s["site"].isin(d.ai_sites)
    expected = pd.Series([d.signed_it_mw.get((r.site, d.quarter_index[r.quarter]), 0.0) for r in s.itertuples()],
                         index=s.index)
    if ((s["ai_it_mw_signed"] - expected).abs() > TOL_MW).any():
        problems.append(f"signed leases: the Schedule's signed MW differ from the signed leases at "
                        f"{where(s, (s['ai_it_mw_signed'] - expected).abs() > TOL_MW)}.")
    short = ai & (s["ai_it_mw_signed"] - s["ai_it_mw_leased"] > TOL_MW)
    if short.any():
        problems.append(f"signed leases: leased MW below the signed leases' MW at {where(s, short)}.")
    return problems


def _revenue_problems(plan, s: pd.DataFrame) -> list[str]:
    """X4/X7 per site and scenario, and X5 from CashFlow."""
    d, problems, off = plan.data, [], pd.Series(False, index=s.index)
    leased = {(r.site, d.quarter_index[r.quarter], r.scenario): r.ai_it_mw_leased for r in s.itertuples()}
    for (w, site), rows in s[s["site"].isin(d.ai_sites)].groupby(["scenario", "site"]):
        expected = np.array(cohort_revenue_usd(d, leased, site, w)) + np.array(
            [d.signed_revenue_usd[site, t] for t in range(d.n_quarters)])
        got = rows["lease_revenue_usd"].to_numpy()
        off[rows.index] = np.abs(got - expected) > TOL_USD + 1e-7 * np.abs(expected)
    if off.any():
        problems.append(f"leasing: lease revenue is not each cohort at its signing rate, escalated, plus the "
                        f"signed leases' contract revenue at {where(s, off)}.")
    for w in d.scenarios:
        last = s[(s["scenario"] == w) & (s["quarter"] == d.quarters[-1])]["lease_revenue_usd"].sum()
        c = plan.cashflow[(plan.cashflow["scenario"] == w) & (plan.cashflow["period"] == "post-horizon")]
        flat = np.array([last if j < d.base.terminal_quarters else 0.0 for j in range(len(c))])
        if (np.abs(c["lease_revenue_usd"].to_numpy() - flat) > TOL_USD + 1e-7 * abs(last)).any():
            problems.append(f"leasing: post-horizon lease revenue is not the last quarter's held flat for "
                            f"{d.base.terminal_quarters} quarters ({w}).")
    return problems
