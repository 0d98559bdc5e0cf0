"""Carbon: location- and market-based emissions, clean-energy certificates, an annual cap and a price
(coupling family: it reads the energy and emissions sums).

Symbols:
    E[s,t,w]        location-based emissions (mining.py, leasing.py) [tCO2]
    Q[s,t,w]        grid MWh drawn (mining.py, leasing.py) [MWh]
    ef[s,t]         grid emission factor: the eGRID2023 rate declining per subregion to a floor [tCO2/MWh]
    cert[s,t,w]     clean-energy certificates bought [MWh]
    p_cert          certificate price [USD/MWh]
    cert_max        most certificates purchasable per calendar year [MWh/yr]
    MB[s,t,w]       market-based emissions [tCO2]
    cap(yr)         annual cap on market-based emissions: cap_0 max(floor, 1 - decline (yr - yr_0)) [tCO2/yr]
    i_cap           cap on market-based emissions per MWh drawn, per calendar year [tCO2/MWh]
    p_c             carbon price on market-based emissions [USD/tCO2]

Equations:
    (K1) 0 <= cert[s,t,w] <= Q[s,t,w];  sum_{t in yr} sum_s cert[s,t,w] <= cert_max
    (K2) MB[s,t,w] = E[s,t,w] - ef[s,t] * cert[s,t,w]
    (K3) sum_{t in yr, s} MB[s,t,w] <= cap(yr)      (skipped if inf)
    (K4) sum_{t in yr, s} MB[s,t,w] <= i_cap * sum_{t in yr, s} Q[s,t,w]    (skipped if inf)
    (K5) cash: certificate_cost_usd = p_cert * cert;  carbon_cost_usd = p_c * MB
"""

import math
from collections import defaultdict

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import leasing, mining
from optimizer.formulation.family import TOL_MW, TOL_T, TOL_USD, Limit, at_first, no_columns, values
from optimizer.formulation.terms import CashLine

REQUIRES = (mining, leasing)
CERTIFICATES = CashLine("certificate_cost_usd", -1, "operating")
CARBON = CashLine("carbon_cost_usd", -1, "operating")
CASH_LINES = (CERTIFICATES, CARBON)
KT = 1e3  # elastic slack of the carbon rows in ktCO2 (MWh: thousands)
LIMITS = (
    Limit("carbon_cap", "carbon: the annual carbon cap", at_first,
          lambda d, i, a: f"raise the {i[0]} carbon cap by {a * KT:,.0f} tCO2", unit="ktCO2", scale=KT),
    Limit("carbon_intensity_cap", "carbon: the carbon intensity cap", at_first,
          lambda d, i, a: f"raise the {i[0]} carbon intensity cap by {a * KT:,.0f} tCO2 of that year's emissions",
          unit="ktCO2", scale=KT, typical=lambda d, i: d.base.carbon_intensity_cap_tco2_per_mwh * year_mwh(d, i) / KT),
    Limit("certificate_limit", "carbon: the certificate limit", at_first,
          lambda d, i, a: f"allow {a * KT:,.0f} MWh more certificates in {i[0]}", unit="GWh", scale=KT),
)


def year_mwh(d: ModelData, index) -> float:
    """Grid MWh all secured power would draw in year index[0] of scenario index[1]: the size of that year's
    intensity cap in MWh (for the elastic re-solve's weights)."""
    hours = 24.0 * d.base.quarter_days
    quarters = set(year_quarters(d).get(index[0], ()))
    return sum(mw * hours for (s, t, w), mw in d.secured_mw.items() if t in quarters and w == index[1])


def year_quarters(d: ModelData) -> dict:
    """Calendar year -> horizon quarter indices t."""
    years = defaultdict(list)
    for t, quarter in enumerate(d.quarters):
        years[int(quarter[:4])].append(t)
    return dict(years)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    keys = m.terms.emissions_tco2.keys()
    m.EMIT_STW = pyo.Set(initialize=keys, dimen=3)
    years = year_quarters(d)
    m.YEARS = pyo.Set(initialize=sorted(years))
    energy, location = m.terms.energy_mwh.total, m.terms.emissions_tco2.total
    in_year = {(yr, w): [(s, t) for (s, t, ww) in keys if ww == w and t in years[yr]] for yr in years for w in m.W}
    year_w = [k for k in in_year if in_year[k]]  # a year with no emitting site-quarter has no row
    buying = sc.certificate_limit_mwh_per_year > 0
    m.CERT_STW = pyo.Set(initialize=keys if buying else [], dimen=3)
    m.CERT_YW = pyo.Set(initialize=year_w if buying else [], dimen=2)
    m.CAP_YW = pyo.Set(initialize=year_w if math.isfinite(sc.carbon_cap_tco2_per_year) else [], dimen=2)
    i_cap = sc.carbon_intensity_cap_tco2_per_mwh
    m.INTENSITY_YW = pyo.Set(initialize=year_w if math.isfinite(i_cap) else [], dimen=2)
    m.certificates_mwh = pyo.Var(m.CERT_STW, domain=pyo.NonNegativeReals)
    cert = lambda s, t, w: m.certificates_mwh[s, t, w] if buying else 0  # noqa: E731
    m.certificates_within_use = pyo.Constraint(m.CERT_STW, rule=lambda m, s, t, w:
                                               m.certificates_mwh[s, t, w] <= energy((s, t, w)))
    m.certificate_limit = pyo.Constraint(m.CERT_YW, rule=lambda m, yr, w: sum(
        m.certificates_mwh[s, t, w] for (s, t) in in_year[yr, w]) <= sc.certificate_limit_mwh_per_year)
    m.market_tco2 = pyo.Expression(m.EMIT_STW, rule=lambda m, s, t, w:
                                   location((s, t, w)) - d.grid_tco2_per_mwh[s, t, w] * cert(s, t, w))
    annual = lambda yr, w: sum(m.market_tco2[s, t, w] for (s, t) in in_year[yr, w])  # noqa: E731
    m.carbon_cap = pyo.Constraint(m.CAP_YW, rule=lambda m, yr, w: annual(yr, w) <= sc.carbon_cap_tco2(yr))
    m.carbon_intensity_cap = pyo.Constraint(m.INTENSITY_YW, rule=lambda m, yr, w: (
        annual(yr, w) <= i_cap * sum(energy((s, t, w)) for (s, t) in in_year[yr, w])))
    for (s, t, w) in keys:
        if buying:
            m.terms.add_cash(CERTIFICATES.name, t, w, sc.certificate_usd_per_mwh * m.certificates_mwh[s, t, w])
        if sc.carbon_price_usd_per_t > 0:
            m.terms.add_cash(CARBON.name, t, w, sc.carbon_price_usd_per_t * m.market_tco2[s, t, w])


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    keys = list(m.EMIT_STW)
    return {"grid_tco2_per_mwh": dict(d.grid_tco2_per_mwh),
            "grid_mwh": {k: float(pyo.value(m.terms.energy_mwh.total(k))) for k in keys},
            "location_tco2": {k: float(pyo.value(m.terms.emissions_tco2.total(k))) for k in keys},
            "certificates_mwh": values(m.certificates_mwh, keys),
            "market_tco2": values(m.market_tco2, keys)}


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """K1-K5 on the Emissions sheets and CashFlow."""
    d, e, a = plan.data, plan.emissions, plan.emissions_by_year
    problems = []
    market = e["location_tco2"] - e["grid_tco2_per_mwh"] * e["certificates_mwh"]
    if (abs(market - e["market_tco2"]) > TOL_T).any() or (e["certificates_mwh"] > e["grid_mwh"] + TOL_MW).any():
        problems.append("carbon: market-based emissions or certificates do not follow from the Emissions sheet.")
    location = e["grid_tco2_per_mwh"] * e["grid_mwh"]
    if (abs(location - e["location_tco2"]) > TOL_T).any() or (
            abs(e["mining_tco2"] + e["ai_tco2"] - e["location_tco2"]) > TOL_T).any():
        problems.append("carbon: location-based emissions are not grid tCO2/MWh x MWh drawn by mining and AI.")
    rows = e.assign(year=e["quarter"].str[:4].astype(int)).groupby(["year", "scenario"])[
        ["grid_mwh", "location_tco2", "certificates_mwh", "market_tco2"]].sum()
    yearly = a.set_index(["year", "scenario"])[rows.columns].reindex(rows.index)
    if ((rows - yearly).abs() > TOL_T).any().any():
        problems.append("carbon: the yearly emissions table does not add up the Emissions rows.")
    for r in a.itertuples():
        sc = d.scenario_values[r.scenario]
        if r.cap_tco2 is not None and r.market_tco2 > float(r.cap_tco2) + TOL_T:
            problems.append(f"carbon cap: {r.market_tco2:,.0f} tCO2 in {r.year}, above the cap of {r.cap_tco2:,.0f}.")
        if r.market_tco2 > sc.carbon_intensity_cap_tco2_per_mwh * r.grid_mwh + TOL_T:
            problems.append(f"carbon intensity cap: {r.market_tco2 / r.grid_mwh:.4f} tCO2/MWh in {r.year}, above "
                            f"{sc.carbon_intensity_cap_tco2_per_mwh:g}.")
        if r.certificates_mwh > sc.certificate_limit_mwh_per_year + TOL_MW:
            problems.append(f"certificates: {r.certificates_mwh:,.0f} MWh bought in {r.year}, above the limit of "
                            f"{sc.certificate_limit_mwh_per_year:,.0f}.")
    for w in d.scenarios:
        sc = d.scenario_values[w]
        ew = e[e["scenario"] == w].groupby("quarter")
        c = plan.cashflow[(plan.cashflow["scenario"] == w) & (plan.cashflow["period"] == "horizon")].set_index("quarter")
        cost = (sc.certificate_usd_per_mwh * ew["certificates_mwh"].sum(), sc.carbon_price_usd_per_t * ew["market_tco2"].sum())
        if (abs(cost[0] - c["certificate_cost_usd"]) > TOL_USD).any() or (
                abs(cost[1] - c["carbon_cost_usd"]) > TOL_USD).any():
            problems.append(f"carbon: certificate or carbon cost differs from the Emissions sheet ({w}).")
    return problems
