"""Carbon family (optimizer/formulation/carbon.py), switched on here (NEUTRAL_MONEY has it off), on hand-computed
tiny cases: certificates within the annual limit (K1) lower the market-based emissions (K2) and so lift the
annual cap (K3) by their limit; the cap curtails a computable number of mining MW and is worth df[t*]
margin[t*]/(c e) per tCO2; the intensity cap lets a dirty site mine what a clean site offsets (K4); a carbon
price stops miners whose margin is below p c e (K5). The check test proves that `carbon.check` flags each of its
parts: market-based emissions, the cap, the intensity cap, the certificate limit and the cost lines.
"""

import pytest

from optimizer.formulation import carbon
from tests.conftest import make_sites, site_column, solve_case
from tests.families.hand import BTC, CARBON, MINER, approx, corrupt, mining_margins


def one_year(**values):
    """The miner alone over 2027 (margins positive in every quarter), grid rate 0.5 t/MWh, constant."""
    sites = make_sites({**MINER, "grid_tco2_per_mwh": 0.5})
    return solve_case(sites, horizon_end="2027Q4", btc_price_usd_2026=150_000, **CARBON, **values)


def test_carbon_cap_curtails_a_computable_number_of_mining_mw():
    """K3: a cap of X tCO2 allows X / (c e) IT MW-quarters of mining in the year (c = 0.5 t/MWh, e grid
    MWh per IT MW-quarter); the rest of 4 M is curtailed."""
    free, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    assert sum(site_column(free, "Miner", "mining_it_mw")) == pytest.approx(4 * capacity)
    cap = 0.5 * e * 2.5 * capacity  # room for 2.5 quarters at full capacity
    capped, _ = one_year(carbon_cap_tco2_per_year=cap, carbon_cap_decline_per_yr=0.0)
    mined = site_column(capped, "Miner", "mining_it_mw")
    assert sum(mined) == pytest.approx(cap / (0.5 * e), rel=1e-9)
    assert 4 * capacity - sum(mined) == pytest.approx(1.5 * capacity, rel=1e-9)  # curtailed MW-quarters
    assert capped.emissions_by_year["location_tco2"].iloc[0] == pytest.approx(cap, rel=1e-9)


def test_certificates_lift_the_cap_by_their_limit():
    """K1/K2: certificates at $1/MWh with a limit R make market-based = location - c r, so miners may
    draw R more MWh under the same cap: sum y = (cap / c + R) / e."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    cap, limit = 0.5 * e * 2.0 * capacity, e * 0.5 * capacity
    plan, _ = one_year(carbon_cap_tco2_per_year=cap, carbon_cap_decline_per_yr=0.0, certificate_usd_per_mwh=1.0,
                       certificate_limit_mwh_per_year=limit)
    assert sum(site_column(plan, "Miner", "mining_it_mw")) == pytest.approx((cap / 0.5 + limit) / e, rel=1e-9)
    year = plan.emissions_by_year.iloc[0]
    assert year["certificates_mwh"] == pytest.approx(limit, rel=1e-9)
    assert year["market_tco2"] == pytest.approx(year["location_tco2"] - 0.5 * limit, rel=1e-9)


def test_carbon_price_stops_miners_whose_margin_is_below_it():
    """K5: miners run in quarter t only if margin[t] > p c e; NPV = sum_t df[t] max(0, margin - p c e) M."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    margins = mining_margins(d)
    price = sorted(margins)[1] / (0.5 * e) + 1.0  # just above the 2nd-lowest margin: two quarters stop
    plan, _ = one_year(carbon_price_usd_per_t=price)
    expected = [capacity if m > price * 0.5 * e else 0.0 for m in margins]
    assert 0 < sum(1 for x in expected if x) < 4
    assert site_column(plan, "Miner", "mining_it_mw") == pytest.approx(expected)
    npv = sum(d.discount_factor[t] * max(0.0, m - price * 0.5 * e) * capacity for t, m in enumerate(margins))
    assert plan.kpis["npv_usd"] == pytest.approx(npv, rel=1e-9)


def test_carbon_cap_marginal_value_is_the_marginal_quarters_margin_per_tco2():
    """Marginals: with the cap binding, one more tCO2 lets the partly curtailed quarter t* mine 1/(c e)
    more IT MW-quarters: its NPV value is df[t*] margin[t*] / (c e)."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    plan, _ = one_year(carbon_cap_tco2_per_year=0.5 * e * 2.5 * capacity, carbon_cap_decline_per_yr=0.0)
    mined = site_column(plan, "Miner", "mining_it_mw")
    partial = next(t for t, y in enumerate(mined) if 1e-6 < y < capacity - 1e-6)
    expected = d.discount_factor[partial] * mining_margins(d)[partial] / (0.5 * e)
    value = plan.carbon_cap_marginals["carbon_cap_value_npv_usd_per_tco2"].iloc[0]
    assert value == pytest.approx(expected, rel=1e-6)


def test_carbon_intensity_cap_lets_the_dirty_site_mine_what_the_clean_site_offsets():
    """K4 (certificates off): Dirty 0.6 and Clean 0.2 tCO2/MWh, cap 0.4 tCO2/MWh over 2027, equal
    power prices: sum_s (c_s - cap) e y_s <= 0, so the clean site mines at capacity and the dirty one
    at most (cap - c_C) / (c_D - cap) * sum y_C IT MW-quarters, in its quarters of highest df * margin."""
    dirty, clean = {**MINER, "name": "Dirty", "grid_tco2_per_mwh": 0.6}, \
        {**MINER, "name": "Clean", "secured_mw": 60, "grid_tco2_per_mwh": 0.2}
    values = dict(**BTC, **CARBON, horizon_end="2027Q4", carbon_intensity_cap_tco2_per_mwh=0.4)
    plan, d = solve_case(make_sites(dirty, clean), **values)
    cap, quarters = d.base.carbon_intensity_cap_tco2_per_mwh, len(d.quarters)
    rate = {s: d.site_quarter.xs(s, level="site")["grid_tco2_per_mwh"].iloc[0] for s in ("Dirty", "Clean")}
    m_d, m_c = 100 / d.base.mining_pue, 60 / d.base.mining_pue
    room = (cap - rate["Clean"]) / (rate["Dirty"] - cap) * quarters * m_c
    assert 0 < room < quarters * m_d  # binding, with a partial quarter
    margins = mining_margins(d, "Dirty")
    expected = [0.0] * quarters
    for t in sorted(range(quarters), key=lambda t: -d.discount_factor[t] * margins[t]):
        expected[t] = min(m_d, room)
        room -= expected[t]
    assert site_column(plan, "Clean", "mining_it_mw") == approx([m_c] * quarters)
    assert site_column(plan, "Dirty", "mining_it_mw") == approx(expected)
    value = sum(d.discount_factor[t] * (margins[t] * expected[t] + mining_margins(d, "Clean")[t] * m_c)
                for t in range(quarters))
    assert plan.kpis["npv_usd"] == approx(value)


CAPPED = dict(**CARBON, **BTC, horizon_end="2027Q4", carbon_cap_tco2_per_year=220_000.0, carbon_cap_decline_per_yr=0.0,
              carbon_intensity_cap_tco2_per_mwh=0.48, certificate_usd_per_mwh=1.0,
              certificate_limit_mwh_per_year=50_000.0, carbon_price_usd_per_t=10.0)


@pytest.fixture(scope="module")
def capped():
    """The miner over 2027 at 0.5 tCO2/MWh with every carbon family on: a 220,000 t cap (binding), a 0.48
    t/MWh intensity cap, 50,000 MWh of certificates at $1 (all bought) and $10/tCO2."""
    plan = solve_case(make_sites({**MINER, "grid_tco2_per_mwh": 0.5}), **CAPPED)[0]
    year = plan.emissions_by_year.iloc[0]
    assert (year["market_tco2"], year["certificates_mwh"]) == (approx(220_000.0), approx(50_000.0))
    return plan


COST = "carbon: certificate or carbon cost differs from the Emissions sheet (base)."
CARBON_PARTS = [
    pytest.param("emissions", 0, "location_tco2", dict(by=100.0),
                 "carbon: market-based emissions or certificates do not follow from the Emissions sheet.",
                 id="K2 market-based"),
    pytest.param("emissions_by_year", 0, "market_tco2", dict(to=221_000.0),
                 "carbon cap: 221,000 tCO2 in 2027, above the cap of 220,000.", id="K3 cap"),
    pytest.param("emissions_by_year", 0, "grid_mwh", dict(to=400_000.0),
                 "carbon intensity cap: 0.5500 tCO2/MWh in 2027, above 0.48.", id="K4 intensity cap"),
    pytest.param("emissions_by_year", 0, "certificates_mwh", dict(to=51_000.0),
                 "certificates: 51,000 MWh bought in 2027, above the limit of 50,000.", id="K1 certificate limit"),
    pytest.param("emissions", 0, "grid_mwh", dict(by=100.0),
                 "carbon: location-based emissions are not grid tCO2/MWh x MWh drawn by mining and AI.",
                 id="M4 location = rate x MWh"),
    pytest.param("emissions_by_year", 0, "location_tco2", dict(by=100.0),
                 "carbon: the yearly emissions table does not add up the Emissions rows.", id="K3 yearly sums"),
    pytest.param("cashflow", 1, "carbon_cost_usd", dict(by=1e3), COST, id="K5 carbon cost"),
    pytest.param("cashflow", 0, "certificate_cost_usd", dict(by=1e3), COST, id="K5 certificate cost"),
]


@pytest.mark.parametrize("table, row, column, change, problem", CARBON_PARTS)
def test_check_flags_a_broken_carbon_row(capped, table, row, column, change, problem):
    """K1-K5 check, each part alone: location tCO2 that no longer give the market-based ones, a year 1,000 t
    above the cap, grid MWh too few for the intensity cap, 1,000 MWh of certificates above the limit, and
    carbon or certificate cost lines that are not the price times the Emissions sheet (a yearly cell also
    breaks the yearly sums)."""
    assert carbon.check(capped) == []
    assert problem in carbon.check(corrupt(capped, table, row, column, **change))
