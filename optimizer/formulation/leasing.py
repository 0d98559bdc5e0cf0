"""Leasing: tenants contract online AI capacity; contracts never shrink; markets absorb so much.

Symbols: x[s,t,w] leased IT MW; ai_billable_it_mw[s,t] from lead_time.py; D[m,t,w] new leased IT MW
market m absorbs per quarter; rate[t,w] lease revenue per leased IT MW-quarter (USD); phi landlord opex
share; TQ terminal quarters; T horizon length.

    (X1) x[s,t,w] <= ai_billable_it_mw[s,t]
    (X2) x[s,t,w] >= x[s,t-1,w]                                     (leases outlast the horizon)
    (X3) sum_{s in m} (x[s,t,w] - x[s,t-1,w]) <= D[m,t,w]           (x[s,-1,w] = 0)
    (X4) cash: lease_revenue_usd[t] = rate[t,w] * x[s,t,w];  ai_opex_usd = phi * lease_revenue_usd
    (X5) terminal value: for j = T..T+TQ-1, lease_revenue_usd[j] = rate[T-1,w] * x[s,T-1,w]
         (the last quarter's lease held flat, discounted at its own quarter; ai_opex_usd likewise)
    (X6) energy_mwh += e_ai * x;  emissions_tco2 += c[s,t] * e_ai * x
         (e_ai = 24 * quarter_days * ai_pue * ai_load_factor MWh per leased IT MW-quarter; the tenant's
         power is passed through (NNN) but its emissions are the site's)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.terms import cash_line

LEASE = cash_line("lease_revenue_usd", +1, "operating")
AI_OPEX = cash_line("ai_opex_usd", -1, "operating")


def ai_mwh_per_it_mw(d: ModelData) -> float:
    """Grid MWh per leased IT MW-quarter: 24 * quarter_days * ai_pue * ai_load_factor."""
    return 24.0 * d.base.quarter_days * d.base.ai_pue * d.base.ai_load_factor


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.AI_STW = pyo.Set(initialize=[(s, t, w) for s in d.ai_sites for t in m.T for w in m.W], dimen=3)
    upper = {s: float(d.sites.at[s, "hall_it_mw"] * d.sites.at[s, "max_halls"]) for s in d.ai_sites}
    m.leased_it_mw = pyo.Var(m.AI_STW, bounds=lambda _, s, t, w: (0.0, upper[s]))
    m.lease_within_billable = pyo.Constraint(
        m.AI_STW, rule=lambda m, s, t, w: m.leased_it_mw[s, t, w] <= m.ai_billable_it_mw[s, t])
    m.lease_never_falls = pyo.Constraint(
        m.AI_STW, rule=lambda m, s, t, w: pyo.Constraint.Skip if t == 0
        else m.leased_it_mw[s, t, w] >= m.leased_it_mw[s, t - 1, w])
    m.MARKET_TW = pyo.Set(initialize=[(mk, t, w) for mk in d.markets for t in m.T for w in m.W], dimen=3)
    m.market_absorption = pyo.Constraint(m.MARKET_TW, rule=lambda m, mk, t, w: sum(
        m.leased_it_mw[s, t, w] - (m.leased_it_mw[s, t - 1, w] if t > 0 else 0) for s in d.markets[mk])
        <= d.market_absorption_it_mw[mk, t, w])
    phi, last = d.base.landlord_opex_share, d.n_quarters - 1
    e_ai = ai_mwh_per_it_mw(d)
    grid_co2 = d.values("grid_tco2_per_mwh")
    for (s, t, w) in m.AI_STW:
        revenue = d.lease_revenue_usd_per_it_mw[t, w] * m.leased_it_mw[s, t, w]
        m.terms.add_cash(LEASE, t, w, revenue)
        m.terms.add_cash(AI_OPEX, t, w, phi * revenue)
        m.terms.energy_mwh[(s, t, w)].append(e_ai * m.leased_it_mw[s, t, w])
        m.terms.emissions_tco2[(s, t, w)].append(grid_co2[s, t, w] * e_ai * m.leased_it_mw[s, t, w])
        if t == last:
            for j in range(d.n_quarters, d.n_quarters + d.base.terminal_quarters):
                m.terms.add_cash(LEASE, j, w, revenue)
                m.terms.add_cash(AI_OPEX, j, w, phi * revenue)
