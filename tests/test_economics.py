"""Market and cost tables (models/economics.py): conventions checked against hand arithmetic, the hashrate
feedback rule replayed on observed data (shared/data/economics.md, economics-2.md) and its properties."""

import math

import numpy as np
import pandas as pd
import pytest

from models.economics import (asic_capex_usd_per_ph_day, asic_usd_per_th, cash_hashcost_usd_per_ph_day,
                              discount_factors, economics_table, existing_fleet_j_per_th, frontier_j_per_th,
                              grid_tco2_per_mwh, halving_shock, hashprice_of, hashprice_usd_per_ph_day,
                              hashrate_path, lease_revenue_usd_per_it_mw, mining_grid_mwh_per_it_mw,
                              network_hashrate_ehs, quarter_table, revenue_usd_per_ths, subsidy_btc)
from kernel.quarters import quarter_range
from models.scenario import load_scenario
from optimizer.data import build_values
from tests.conftest import make_scenario, make_sites

# The feedback rule as bundled (base.toml): on, the halving dip of 0.88 recovering over 2 quarters.
FEEDBACK = dict(hashrate_feedback=1, halving_hashrate_dip=0.88, halving_recovery_quarters=2)


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


def test_halving_dip_applies_only_in_the_halving_quarter_with_a_one_quarter_recovery():
    sc = make_scenario(hashrate_growth_per_yr=0.0)  # NEUTRAL_MINING: dip 0.95, recovered after 1 quarter
    rates = network_hashrate_ehs(sc, ["2028Q1", "2028Q2", "2028Q3", "2032Q2"])
    assert list(rates) == pytest.approx([1050, 1050 * 0.95, 1050, 1050 * 0.95])
    assert list(subsidy_btc(sc, ["2028Q1", "2028Q2", "2032Q1", "2032Q2"])) == [3.125, 1.5625, 1.5625, 0.78125]


def test_halving_dip_recovers_linearly():
    """shock = 1 - (1 - dip) * (1 - i/R) in the i-th quarter after the halving: 0.85, 0.90, 0.95, then 1."""
    sc = make_scenario(halving_hashrate_dip=0.85, halving_recovery_quarters=3)
    shock = halving_shock(sc, ["2028Q1", "2028Q2", "2028Q3", "2028Q4", "2029Q1", "2032Q2"])
    assert list(shock) == pytest.approx([1.0, 0.85, 0.90, 0.95, 1.0, 0.85])


def test_growth_compounds_quarterly_from_2026q1():
    sc = make_scenario(lease_escalator_per_yr=0.02)
    (value,) = lease_revenue_usd_per_it_mw(sc, ["2028Q3"])  # k = 10 quarters
    assert value == pytest.approx(150 * 1000 * 3 * 0.97 * 1.02 ** (10 / 4), rel=1e-12)


def test_frontier_j_per_th_and_usd_per_th_compound_quarterly_from_2026q1():
    sc = make_scenario()  # 12 J/TH and $14/TH in 2026Q1, both -12%/yr
    quarters = ["2025Q1", "2026Q1", "2027Q3", "2030Q1"]  # k = -4, 0, 6, 16
    assert list(frontier_j_per_th(sc, quarters)) == pytest.approx(
        [12 / 0.88, 12, 12 * 0.88 ** 1.5, 12 * 0.88 ** 4], rel=1e-12)
    assert list(asic_usd_per_th(sc, quarters)) == pytest.approx(
        [14 / 0.88, 14, 14 * 0.88 ** 1.5, 14 * 0.88 ** 4], rel=1e-12)
    (j,) = frontier_j_per_th(sc.with_values(asic_efficiency_gain_per_yr=0.20), ["2026Q2"])
    assert j == pytest.approx(12 * 0.8 ** 0.25, rel=1e-12)


def test_discount_factors_are_end_of_quarter():
    assert list(discount_factors(0.10, 4)) == pytest.approx([1.1 ** -0.25, 1.1 ** -0.5, 1.1 ** -0.75, 1 / 1.1])


def test_mining_revenue_per_ths_and_grid_mwh_hand_computed():
    sc = make_scenario()
    hashprice = 144 * 3.125 * 1.01 * 90_000 / 1_050_000  # USD/PH/day
    (value,) = revenue_usd_per_ths(sc, ["2026Q1"])
    assert value == pytest.approx(hashprice / 1000 * 91.3 * 0.95, rel=1e-12)
    (curtailed,) = revenue_usd_per_ths(sc, ["2026Q1"], curtailed_share=0.03)
    assert curtailed == pytest.approx(value * 0.97, rel=1e-12)
    assert mining_grid_mwh_per_it_mw(sc) == pytest.approx(1.06 * 24 * 91.3 * 0.95)
    assert mining_grid_mwh_per_it_mw(sc, 0.03) == pytest.approx(1.06 * 24 * 91.3 * 0.95 * 0.97)


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


# Replays of observed network data


def test_dec_2025_hashprice_replays_the_observed_38_7():
    """Dec-2025: BTC $87,600 (25Q4 quarter end, economics-2.md 1a), 1,045 EH/s (Dec-2025 average, JPMorgan,
    economics.md 1b), fees 0.78% of the subsidy (trailing 3 months, mid/late 2025, economics.md 1a), subsidy
    3.125 BTC. Observed hashprice: $38.7/PH/day (JPMorgan, Dec-2025, economics.md 1c).
    Hand: 144 * 3.125 * 1.0078 * 87,600 / 1,045,000 PH/s = 453.51 BTC/day * 87,600 / 1,045,000 = $38.02."""
    sc = make_scenario(btc_price_usd_2026=87_600, network_hashrate_ehs_2026=1_045, fee_share_of_subsidy=0.0078,
                       subsidy_btc_2026=3.125)
    hand = 144 * 3.125 * 1.0078 * 87_600 / 1_045_000
    assert hand == pytest.approx(38.02, abs=0.01)
    assert hashprice_of(sc, 87_600, 3.125, 1_045) == pytest.approx(hand, rel=1e-12)
    (model,) = hashprice_usd_per_ph_day(sc, ["2026Q1"])  # the 2026 levels are 2026Q1 values
    assert model == pytest.approx(hand, rel=1e-12)
    assert abs(model / 38.7 - 1) < 0.10


REPLAY = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1"]


def hashcost_2024(k_from_2025q4: np.ndarray) -> np.ndarray:
    """The network's median all-in hashcost, $44/PH/day in 2025Q4 (economics.md 1c), grown back at -12%/yr
    (economics-2.md 1c): 44 * 0.88^(k/4), k = quarters from 2025Q4 (negative before)."""
    return 44 * 0.88 ** (np.asarray(k_from_2025q4, dtype=float) / 4)


def test_2024_halving_replay_dips_recovers_and_lands_near_the_observed_hashrate():
    """The feedback rule run from 2024Q1 through the April-2024 halving to 2025Q1 on observed inputs.

    Observed (quarter end unless said):
      BTC, USD: 24Q1 71,334; 24Q2 62,678; 24Q3 63,330 (economics-2.md 1a); 24Q4 93,390 (31 Dec 2024 close,
        HC Wainwright, economics.md 1d); 25Q1 82,549 (economics-2.md 1a).
      Subsidy: 6.25 BTC until the halving of ~20 Apr 2024, then 3.125 (economics.md 1a).
      Fees: 3% of the subsidy, the 2024 regime: 2.42-2.7% in Dec-2024, 1.93% in Mar-2025, the Runes spike at
        the halving (economics.md 1a); below 2023's 7.6% (Ordinals).
      Hashcost: $44/PH/day in 2025Q4 (economics.md 1c) at -12%/yr, so ~$55 in 2024Q1 (hashcost_2024).
      Halving shock: the base dip 0.88 in 2024Q2, recovering over 2 quarters (0.94 in 2024Q3).
      Ratios before 2024Q1 (the entry lag of 2 quarters): 23Q3 HP 61.71 (Sep-2023 average, HI, economics-2.md
        1a) over a hashcost of 44 / 0.88^2.25 = 58.7: R = 1.05; 23Q4 derived as economics-2.md does,
        BTC ~42,000 (start-2024, economics.md 1d) * 144 * 6.25 * 1.076 (2023 fees 7.6%) / 516,000 PH/s
        (end-2023 7-day average, economics.md 1b) = $78.9 over 44 / 0.88^2 = 56.8: R = 1.39. (They do not
        enter here: R < 1 in 2024Q2, so exit answers to it at once, and from 2024Q3 the lag reaches 2024Q1.)
      Hashrate, EH/s: 24Q1 585 (81.80 T difficulty, 14 Mar); 24Q2 556 weekly average on 29 Jun (650 -> 556,
        -14.5% in ~10 weeks); 24Q3 ~630 7-day (7 Oct), back at the prior high after 5 weeks, sustained highs
        after ~3-4.5 months; 25Q1 811 (first half of March) (economics-2.md 1a, 1b).
    """
    sc = make_scenario(**FEEDBACK, fee_share_of_subsidy=0.03)
    price = np.array([71_334, 62_678, 63_330, 93_390, 82_549], dtype=float)
    subsidy = np.array([6.25, 3.125, 3.125, 3.125, 3.125])
    hashcost = hashcost_2024(np.arange(-7, -2))  # 2024Q1 is 7 quarters before 2025Q4
    shock = halving_shock(sc.with_values(first_halving_quarter="2024Q2"), REPLAY)
    assert list(shock) == pytest.approx([1.0, 0.88, 0.94, 1.0, 1.0])
    r_23q3 = 61.71 / hashcost_2024(-9)
    r_23q4 = 42_000 * 144 * 6.25 * 1.076 / 516_000 / hashcost_2024(-8)
    assert (r_23q3, r_23q4) == pytest.approx((1.05, 1.39), abs=0.01)
    path = hashrate_path(sc, price, subsidy, hashcost, shock, 585.0, ratio_before=(r_23q3, r_23q4))
    assert path[0] == 585.0
    assert 0.05 <= 1 - path[1] / path[0] <= 0.25       # the halving dip (observed 650 -> 556: -14.5%)
    assert path[2] > path[0]                           # back above 2024Q1 by 2024Q3 (observed 630 > 585)
    assert abs(path[4] / 811 - 1) < 0.25               # 2025Q1 near the observed 811 EH/s


# Properties of the feedback rule


def run(sc, price, hashcost, ratio_before=(), start_ehs=1000.0, subsidy=3.125):
    """hashrate_path without a halving shock, at a constant subsidy; returns (path, quarterly growth)."""
    price, hashcost = np.asarray(price, dtype=float), np.asarray(hashcost, dtype=float)
    path = hashrate_path(sc, price, np.full(len(price), subsidy), hashcost, np.ones(len(price)), start_ehs,
                         ratio_before)
    return path, path[1:] / path[:-1] - 1


def test_at_hashprice_equal_to_hashcost_growth_is_the_intercept():
    sc = make_scenario(**FEEDBACK, hashrate_feedback_intercept=0.03)
    hashcost = hashprice_of(sc, 90_000, 3.125, 1000.0)  # R = 1 now, in the first quarter and before it
    _, growth = run(sc, [90_000, 90_000], [hashcost, hashcost], ratio_before=(1.0, 1.0))
    assert growth == pytest.approx([0.03], rel=1e-12)


@pytest.mark.parametrize("ratio, expected", [(100.0, 0.10), (0.01, -0.05)])
def test_growth_is_clipped_at_its_bounds(ratio, expected):
    sc = make_scenario(**FEEDBACK, hashrate_entry_lag_quarters=0, hashrate_growth_max_per_quarter=0.10,
                       hashrate_growth_min_per_quarter=-0.05)
    hashcost = hashprice_of(sc, 90_000, 3.125, 1000.0) / ratio
    _, growth = run(sc, [90_000] * 3, [hashcost] * 3)
    assert growth == pytest.approx([expected, expected], rel=1e-12)


def test_exit_answers_to_the_current_ratio_at_once():
    """R = 0.8 now, after quarters of R = 3: growth a + b ln 0.8 < 0 in the same quarter, the lag ignored."""
    sc = make_scenario(**FEEDBACK)
    now = hashprice_of(sc, 90_000, 3.125, 1000.0)
    _, growth = run(sc, [90_000, 90_000], [now / 3, now / 0.8], ratio_before=(3.0, 3.0))
    assert growth == pytest.approx([0.005 + 0.47 * math.log(0.8)], rel=1e-9)
    assert growth[0] < 0


def test_entry_waits_the_lag():
    """R = 1 until 2 quarters before; the price rises 20% in quarter 1: entry grows at the intercept for 2
    quarters (it answers to R of 2 quarters earlier, 1), then at a + b ln R(1), R(1) = 1.2 / 1.005."""
    sc = make_scenario(**FEEDBACK)
    assert sc.hashrate_entry_lag_quarters == 2
    hashcost = hashprice_of(sc, 90_000, 3.125, 1000.0)
    _, growth = run(sc, [90_000] + [108_000] * 3, [hashcost] * 4, ratio_before=(1.0, 1.0))
    assert growth == pytest.approx([0.005, 0.005, 0.005 + 0.47 * math.log(1.2 / 1.005)], rel=1e-9)


def test_with_feedback_the_hashprice_recovers_toward_the_hashcost_after_the_2028_halving():
    quarters = quarter_range("2028Q1", "2029Q2")
    base = load_scenario("base")
    assert base.hashrate_feedback == 1
    ratio = quarter_table(base, quarters)["hashprice_to_hashcost"].to_numpy()
    assert ratio[1] < 0.75 * ratio[0]                  # the halving halves the hashprice (less the exit)
    assert np.all(np.diff(ratio[1:]) > 0)              # then miners exit and the ratio climbs back
    assert 0.8 <= ratio[-1] <= 1.3                     # within 4 quarters of the halving
    exogenous = quarter_table(base.with_values(hashrate_feedback=0), quarters)["hashprice_to_hashcost"]
    assert exogenous.iloc[-1] < 0.8                    # without feedback it does not recover


def test_feedback_off_reproduces_the_exogenous_path():
    sc = make_scenario(**{**FEEDBACK, "hashrate_feedback": 0})
    quarters = ["2026Q1", "2027Q3", "2028Q1", "2028Q2", "2028Q3", "2028Q4", "2032Q2"]
    k = np.array([0, 6, 8, 9, 10, 11, 25])
    shock = np.array([1, 1, 1, 0.88, 0.94, 1, 0.88])
    expected = 1050 * 1.20 ** (k / 4) * shock
    assert list(network_hashrate_ehs(sc, quarters)) == pytest.approx(list(expected), rel=1e-12)


# This portfolio's fleet hashcosts


def test_the_data_sheet_hashcosts_are_reproduced():
    """economics.md 2c: J/TH * 24 h * PUE * $/kWh = $23.8/PH/day for the CleanSpark fleet (16.7 J/TH, 1.06,
    $56/MWh) and ~$17 at 12 J/TH (power only)."""
    sc = make_scenario(mining_opex_usd_per_mwh=0.0)
    assert cash_hashcost_usd_per_ph_day(sc, 16.7, 56.0) == pytest.approx(16.7 * 24 * 1.06 * 0.056)
    assert cash_hashcost_usd_per_ph_day(sc, 16.7, 56.0) == pytest.approx(23.8, abs=0.05)
    assert cash_hashcost_usd_per_ph_day(sc, 12.0, 56.0) == pytest.approx(17.1, abs=0.05)
    # $14/TH less 5% salvage over 16 quarters of 91.3 days: $9.10 per PH/s-day
    assert asic_capex_usd_per_ph_day(sc, 14.0) == pytest.approx(1000 * 14 * 0.95 / (16 * 91.3), rel=1e-12)


def test_economics_table_fleet_and_refresh_hashcosts_hand_computed():
    """Two mining sites: Alpha 106 MW at $50/MWh with a blank fleet (its 100 IT MW at 16.7 J/TH), Beta at
    $80/MWh with a 2.5 EH/s fleet of 20 J/TH (2.5e6 TH/s * 20 J/TH = 50 IT MW), and an AI site that does not mine.
    Weighted by fleet IT MW: power (100 * 50 + 50 * 80) / 150 = $60/MWh; J/TH = 150 / (100/16.7 + 50/20)."""
    blank = {"fleet_ths": "", "fleet_j_per_th": ""}
    sites = make_sites({"name": "Alpha", "secured_mw": 106, "power_usd_per_mwh_2026": 50, **blank},
                       {"name": "Beta", "secured_mw": 106, "power_usd_per_mwh_2026": 80, "fleet_ths": 2.5e6,
                        "fleet_j_per_th": 20},
                       {"name": "Gamma", "secured_mw": 106, "power_usd_per_mwh_2026": 10, "mining_allowed": "false",
                        "ai_eligible": "true", "hall_it_mw": 20, "max_halls": 2,
                        **blank})
    sc = make_scenario(horizon_start="2027Q1", horizon_end="2028Q4")
    table = pd.concat([sites, build_values(sites, sc)], axis=1)
    j_fleet = 150 / (100 / 16.7 + 50 / 20)
    assert existing_fleet_j_per_th(table) == pytest.approx(j_fleet, rel=1e-12)
    values = economics_table(table, sc)
    quarters = quarter_range("2027Q1", "2028Q4")
    assert list(values.index) == quarters
    k = np.arange(4, 12)
    power = 60 * 1.03 ** (k / 4)  # USD/MWh
    fleet = j_fleet * 24 * 1.06 * (power + 5) / 1000
    refresh = 12 * 0.88 ** (k / 4) * 24 * 1.06 * (power + 5) / 1000 + 1000 * 14 * 0.88 ** (k / 4) * 0.95 / (16 * 91.3)
    assert list(values["fleet_hashcost_usd_per_ph_day"]) == pytest.approx(list(fleet), rel=1e-12)
    assert list(values["refresh_hashcost_usd_per_ph_day"]) == pytest.approx(list(refresh), rel=1e-12)
    market = quarter_table(sc, quarters)
    for column in ("btc_price_usd", "network_hashrate_ehs", "hashprice_usd_per_ph_day",
                   "network_hashcost_usd_per_ph_day", "frontier_j_per_th", "asic_usd_per_th"):
        assert list(values[column]) == pytest.approx(list(market[column]), rel=1e-12)


def test_without_an_existing_fleet_the_refresh_is_priced_at_the_mining_capacity():
    """No existing fleet (fleet_ths = 0): its hashcost is NaN and the refresh's power price is weighted by the
    mining capacity: (100 * 50 + 50 * 80) / 150 = $60/MWh in 2026."""
    sites = make_sites({"name": "Alpha", "secured_mw": 106, "power_usd_per_mwh_2026": 50, "fleet_ths": 0,
                        "fleet_j_per_th": ""},
                       {"name": "Beta", "secured_mw": 53, "power_usd_per_mwh_2026": 80, "fleet_ths": 0,
                        "fleet_j_per_th": ""})
    sc = make_scenario(horizon_start="2026Q1", horizon_end="2026Q1")
    values = economics_table(pd.concat([sites, build_values(sites, sc)], axis=1), sc)
    assert values["fleet_hashcost_usd_per_ph_day"].isna().all()
    (refresh,) = values["refresh_hashcost_usd_per_ph_day"]
    assert refresh == pytest.approx(12 * 24 * 1.06 * (60 + 5) / 1000 + 1000 * 14 * 0.95 / (16 * 91.3), rel=1e-12)
