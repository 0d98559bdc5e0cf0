"""Carbon: location- and market-based emissions, clean-energy certificates, an annual cap and a price.

Symbols: E[s,t,w] location-based tCO2 (mining.py, leasing.py); Q[s,t,w] grid MWh drawn; c[s,t] grid
tCO2/MWh; r[s,t,w] certificates bought (MWh); p_r certificate price (USD/MWh); R annual certificate
limit (MWh); cap annual cap (tCO2); i_cap intensity cap (tCO2/MWh); p_c carbon price (USD/tCO2); y(t)
the calendar year of t.

    (K1) 0 <= r[s,t,w] <= Q[s,t,w];  sum_{t in year} sum_s r[s,t,w] <= R
    (K2) market-based  F[s,t,w] = E[s,t,w] - c[s,t] * r[s,t,w]
    (K3) sum_{t in year, s} F[s,t,w] <= cap(y) = cap_0 max(floor, 1 - decline (y - y_0))   (skipped if inf)
    (K4) sum_{t in year, s} F[s,t,w] <= i_cap * sum Q[s,t,w]    (skipped if inf)
    (K5) cash: certificate_cost_usd = p_r * r;  carbon_cost_usd = p_c * F
"""

import math
from collections import defaultdict

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.terms import cash_line

CERTIFICATES = cash_line("certificate_cost_usd", -1, "operating")
CARBON = cash_line("carbon_cost_usd", -1, "operating")


def year_quarters(d: ModelData) -> dict:
    """Calendar year -> horizon quarter indices t."""
    years = defaultdict(list)
    for t, quarter in enumerate(d.quarters):
        years[int(quarter[:4])].append(t)
    return dict(years)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    grid_co2 = d.values("grid_tco2_per_mwh")
    keys = sorted(m.terms.emissions_tco2)
    m.EMIT_STW = pyo.Set(initialize=keys, dimen=3)
    m.YEARS = pyo.Set(initialize=sorted(year_quarters(d)))
    years = year_quarters(d)
    energy = lambda s, t, w: sum(m.terms.energy_mwh[s, t, w])  # noqa: E731
    location = lambda s, t, w: sum(m.terms.emissions_tco2[s, t, w])  # noqa: E731
    in_year = {(y, w): [(s, t) for (s, t, ww) in keys if ww == w and t in years[y]] for y in years for w in m.W}
    skip_empty = lambda rule: lambda m, y, w: rule(m, y, w) if in_year[y, w] else pyo.Constraint.Skip  # noqa: E731
    if sc.certificate_limit_mwh_per_year > 0:
        m.certificates_mwh = pyo.Var(m.EMIT_STW, domain=pyo.NonNegativeReals)
        m.certificates_within_use = pyo.Constraint(
            m.EMIT_STW, rule=lambda m, s, t, w: m.certificates_mwh[s, t, w] <= energy(s, t, w))
        m.certificate_limit = pyo.Constraint(m.YEARS, m.W, rule=skip_empty(lambda m, y, w: sum(
            m.certificates_mwh[s, t, w] for (s, t) in in_year[y, w]) <= sc.certificate_limit_mwh_per_year))
    certificates = lambda s, t, w: m.certificates_mwh[s, t, w] if hasattr(m, "certificates_mwh") else 0  # noqa: E731
    m.market_tco2 = pyo.Expression(m.EMIT_STW, rule=lambda m, s, t, w:
                                   location(s, t, w) - grid_co2[s, t, w] * certificates(s, t, w))
    annual = lambda y, w: sum(m.market_tco2[s, t, w] for (s, t) in in_year[y, w])  # noqa: E731
    if math.isfinite(sc.carbon_cap_tco2_per_year):
        m.carbon_cap = pyo.Constraint(m.YEARS, m.W, rule=skip_empty(lambda m, y, w:
                                      annual(y, w) <= sc.carbon_cap_tco2(y)))
    if math.isfinite(sc.carbon_intensity_cap_tco2_per_mwh):
        m.carbon_intensity_cap = pyo.Constraint(m.YEARS, m.W, rule=skip_empty(lambda m, y, w: annual(y, w) <= (
            sc.carbon_intensity_cap_tco2_per_mwh * sum(energy(s, t, w) for (s, t) in in_year[y, w]))))
    for (s, t, w) in keys:
        if hasattr(m, "certificates_mwh"):
            m.terms.add_cash(CERTIFICATES, t, w, sc.certificate_usd_per_mwh * m.certificates_mwh[s, t, w])
        if sc.carbon_price_usd_per_t > 0:
            m.terms.add_cash(CARBON, t, w, sc.carbon_price_usd_per_t * m.market_tco2[s, t, w])
