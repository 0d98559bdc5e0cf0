"""Market and cost tables (models/economics.py): conventions checked against hand arithmetic."""

import numpy as np
import pytest

from models.economics import (discount_factors, grid_tco2_per_mwh, hashprice_usd_per_ph_day,
                              lease_revenue_usd_per_it_mw, mining_grid_mwh_per_it_mw,
                              mining_revenue_usd_per_it_mw, network_hashrate_ehs, subsidy_btc)
from kernel.quarters import quarter_range
from tests.conftest import make_scenario


def test_hashprice_halves_at_the_2028_halving_for_fixed_price_and_hashrate():
    sc = make_scenario(btc_price_growth_per_yr=0.0, hashrate_growth_per_yr=0.0, halving_hashrate_dip=1.0)
    before, at = hashprice_usd_per_ph_day(sc, ["2028Q1", "2028Q2"])
    assert at == pytest.approx(before / 2, rel=1e-12)


def test_hashprice_2026q1_matches_hand_arithmetic():
    sc = make_scenario()
    # 144 blocks/day * 3.125 BTC * 1.01 fees * $90,000 / 1,050,000 PH/s = $39.0 per PH/s per day
    (value,) = hashprice_usd_per_ph_day(sc, ["2026Q1"])
    assert value == pytest.approx(144 * 3.125 * 1.01 * 90_000 / 1_050_000, rel=1e-12)
    assert 38.5 < value < 39.5


def test_halving_dip_applies_only_in_the_halving_quarter():
    sc = make_scenario(hashrate_growth_per_yr=0.0)
    rates = network_hashrate_ehs(sc, ["2028Q1", "2028Q2", "2028Q3", "2032Q2"])
    assert list(rates) == pytest.approx([1050, 1050 * 0.95, 1050, 1050 * 0.95])
    assert list(subsidy_btc(sc, ["2028Q1", "2028Q2", "2032Q1", "2032Q2"])) == [3.125, 1.5625, 1.5625, 0.78125]


def test_growth_compounds_quarterly_from_2026q1():
    sc = make_scenario(lease_escalator_per_yr=0.02)
    (value,) = lease_revenue_usd_per_it_mw(sc, ["2028Q3"])  # k = 10 quarters
    assert value == pytest.approx(150 * 1000 * 3 * 0.97 * 1.02 ** (10 / 4), rel=1e-12)


def test_discount_factors_are_end_of_quarter():
    assert list(discount_factors(0.10, 4)) == pytest.approx([1.1 ** -0.25, 1.1 ** -0.5, 1.1 ** -0.75, 1 / 1.1])


def test_mining_revenue_per_it_mw_hand_computed():
    sc = make_scenario(fleet_efficiency_gain_per_yr=0.0)
    (value,) = mining_revenue_usd_per_it_mw(sc, ["2026Q1"])
    hashprice = 144 * 3.125 * 1.01 * 90_000 / 1_050_000
    assert value == pytest.approx(hashprice * (1000 / 16.7) * 91.3 * 0.95, rel=1e-12)
    assert mining_grid_mwh_per_it_mw(sc) == pytest.approx(1.06 * 24 * 91.3 * 0.95)


def test_grid_carbon_declines_to_its_floor():
    sc = make_scenario()
    quarters = quarter_range("2023Q1", "2100Q4")
    level = 1036.601 * 0.45359237 / 1000  # eGRID2023 RMPA, lb/MWh -> t/MWh
    path = grid_tco2_per_mwh(sc, level, "RMPA", quarters)
    assert path[0] == pytest.approx(level)
    assert path[4] == pytest.approx(level * 0.96)
    assert path.min() == pytest.approx(0.4 * level)
    assert np.all(np.diff(path) <= 0)


def test_grid_carbon_default_decline_and_multiplier():
    sc = make_scenario(grid_tco2_multiplier=1.5)
    path = grid_tco2_per_mwh(sc, 0.5, "CAMX", ["2023Q1", "2024Q1"])  # CAMX has no listed decline
    assert list(path) == pytest.approx([1.5 * 0.5, 1.5 * 0.5 * (1 - sc.grid_tco2_decline_default_per_yr)])


