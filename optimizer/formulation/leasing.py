"""Leasing: tenants contract online AI capacity; contracts never shrink; markets absorb so much.

Symbols:
    x[s,t,w]        AI IT load under lease [IT MW]
    D[m,t,w]        new leased MW market m absorbs per quarter [IT MW/quarter]
    rate[t,w]       lease revenue per leased IT MW-quarter: $/kW-month * 1000 * 3 * billing utilisation [USD/IT MW-quarter]
    phi             landlord opex as a share of lease revenue (NNN lease) [ratio]
    TQ              quarters the last quarter's net lease margin is held flat after the horizon [quarters]
    T               horizon length [quarters]
    e_ai            grid MWh per leased IT MW-quarter: 24 * quarter_days * ai_pue * ai_load_factor [MWh/IT MW-quarter]

Equations:
    (X1) x[s,t,w] <= ai_billable_it_mw[s,t]
    (X2) x[s,t,w] >= x[s,t-1,w]                                     (leases outlast the horizon)
    (X3) sum_{s in m} (x[s,t,w] - x[s,t-1,w]) <= D[m,t,w]           (x[s,-1,w] = 0)
    (X4) cash: lease_revenue_usd[t] = rate[t,w] * x[s,t,w];  ai_opex_usd = phi * lease_revenue_usd
    (X5) terminal value: for j = T..T+TQ-1, lease_revenue_usd[j] = rate[T-1,w] * x[s,T-1,w]
         (the last quarter's lease held flat, discounted at its own quarter; ai_opex_usd likewise)
    (X6) energy_mwh += e_ai * x;  emissions_tco2 += ef[s,t] * e_ai * x
         (the tenant's power is passed through (NNN) but its emissions are the site's)
"""

import math

import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, lead_time
from optimizer.formulation.family import (TOL_MW, Limit, at_site_quarter, no_columns, quarter, schedule_matches_cashflow,
                                         values, where)
from optimizer.formulation.terms import CashLine

REQUIRES = (halls, lead_time)
LEASE = CashLine("lease_revenue_usd", +1, "operating")
AI_OPEX = CashLine("ai_opex_usd", -1, "operating")
CASH_LINES = (LEASE, AI_OPEX)
LIMITS = (
    Limit("market_absorption", "demand: market absorption of new leases", at_site_quarter,
          lambda d, i, a: f"market {i[0]}: absorb {a:,.1f} IT MW more new leases in {quarter(d, i[1])}",
          unit="IT MW"),
)


def ai_mwh_per_it_mw(d: ModelData) -> float:
    """e_ai = 24 * quarter_days * ai_pue * ai_load_factor."""
    return 24.0 * d.base.quarter_days * d.base.ai_pue * d.base.ai_load_factor


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.AI_STW = pyo.Set(initialize=[(s, t, w) for s in d.ai_sites for t in m.T for w in m.W], dimen=3)
    upper = {s: d.hall_it_mw[s] * d.max_halls[s] for s in d.ai_sites}
    m.leased_it_mw = pyo.Var(m.AI_STW, bounds=lambda _, s, t, w: (0.0, upper[s]))
    x = m.leased_it_mw
    m.lease_within_billable = pyo.Constraint(m.AI_STW, rule=lambda m, s, t, w: x[s, t, w] <= m.ai_billable_it_mw[s, t])
    m.lease_never_falls = pyo.Constraint(
        m.AI_STW, rule=lambda m, s, t, w: pyo.Constraint.Skip if t == 0 else x[s, t, w] >= x[s, t - 1, w])
    m.MARKET_TW = pyo.Set(initialize=[(mk, t, w) for mk in d.markets for t in m.T for w in m.W
                                      if math.isfinite(d.market_absorption_it_mw[mk, t, w])], dimen=3)
    m.market_absorption = pyo.Constraint(m.MARKET_TW, rule=lambda m, mk, t, w: sum(
        x[s, t, w] - (x[s, t - 1, w] if t > 0 else 0) for s in d.markets[mk]) <= d.market_absorption_it_mw[mk, t, w])
    phi, last, e_ai = d.base.landlord_opex_share, d.n_quarters - 1, ai_mwh_per_it_mw(d)
    for (s, t, w) in m.AI_STW:
        revenue = d.lease_revenue_usd_per_it_mw[t, w] * x[s, t, w]
        m.terms.add_cash(LEASE.name, t, w, revenue)
        m.terms.add_cash(AI_OPEX.name, t, w, phi * revenue)
        m.terms.energy_mwh.add((s, t, w), e_ai * x[s, t, w])
        m.terms.emissions_tco2.add((s, t, w), d.grid_tco2_per_mwh[s, t, w] * e_ai * x[s, t, w])
        if t == last:
            for j in range(d.n_quarters, d.n_quarters + d.base.terminal_quarters):
                m.terms.add_cash(LEASE.name, j, w, revenue)
                m.terms.add_cash(AI_OPEX.name, j, w, phi * revenue)


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    x = values(m.leased_it_mw, m.AI_STW)
    revenue = {k: d.lease_revenue_usd_per_it_mw[k[1], k[2]] * v for k, v in x.items()}
    e_ai = ai_mwh_per_it_mw(d)
    return {"ai_it_mw_leased": x, "lease_revenue_usd": revenue,
            "ai_opex_usd": {k: d.base.landlord_opex_share * v for k, v in revenue.items()},
            "ai_tco2": {k: d.grid_tco2_per_mwh[k] * e_ai * v for k, v in x.items()}}


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """X1-X3 on the Schedule and Builds sheets."""
    d = plan.data
    s = plan.schedule.sort_values(["scenario", "site", "quarter"])
    problems = []
    billable = lead_time.billable_it_mw(plan)
    allowed = pd.Series([billable.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    over = s["ai_it_mw_leased"] - allowed > TOL_MW
    if over.any():
        problems.append(f"leasing: leased MW exceed the billable MW of online halls at {where(s, over)}.")
    change = s.groupby(["scenario", "site"])["ai_it_mw_leased"].diff().fillna(s["ai_it_mw_leased"])
    if (change < -TOL_MW).any():
        problems.append(f"leasing: leased MW fall at {where(s, change < -TOL_MW)}.")
    new = s.assign(market=s["site"].map(d.market), new=change).groupby(["scenario", "market", "quarter"])["new"].sum()
    for (w, mk, q), mw in new.items():
        limit = d.scenario_values[w].market_absorption_it_mw_per_quarter.get(mk)
        if limit is not None and mw > limit + TOL_MW:
            problems.append(f"market absorption: {mw:.1f} new IT MW leased in {mk} in {q}, above {limit:g}.")
    return problems + schedule_matches_cashflow(plan, CASH_LINES)
