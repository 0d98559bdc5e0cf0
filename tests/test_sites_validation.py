"""Site rows as validated: each field rule with its exact sentence (numbers, ranges, unique names, states,
quarters within the horizon, hall size, eGRID subregions, power steps and classes), location lookups (eGRID2023
subregion, state and CO2 rate filled from the point, the file's values winning), and the firm/interruptible power
ledger by hand and in a solve (AI halls on firm power, P2). Reading files and the CLI are in
tests/test_sites_load.py."""

import pandas as pd
import pytest

from sites import geo
from sites.ledger import Step, negative_balance, parse_steps, peak_mw, secured_mw, site_steps
from sites.load import load_sites
from kernel.quarters import quarter_range
from tests.conftest import HORIZON, SITE_COLUMNS, make_scenario, make_sites, problems_of, solve_plan, write_csv
from tests.test_sites_load import RATES_CSV, REFERENCE


# ============================================================================ 1. field and row rules
def test_text_where_a_number_belongs(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,lots,2024Q1,56")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field secured_mw: 'lots' is not a number; allowed: a number from 0 to 10000."]


def test_negative_mw(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56", "Beta,GA,33.6,-84.4,-5,2024Q1,56")
    assert problems_of(path) == [f"{path}: row 3 (Beta), field secured_mw: -5 is negative; allowed: a number from 0 to 10000."]


@pytest.mark.parametrize("lat, words", [("95", "95 is too large"), ("-91.5", "-91.5 is too small")])
def test_latitude_out_of_range(tmp_path, lat, words):
    path = write_csv(tmp_path, f"Alpha,GA,{lat},-84.4,50,2024Q1,56")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field lat: {words}; allowed: a number from -90 to 90."]


def test_duplicate_site_names(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56", "Beta,GA,33.7,-84.4,50,2024Q1,56",
                     "Alpha,GA,33.8,-84.4,50,2024Q1,56")
    assert problems_of(path) == [f"{path}: site name 'Alpha' appears more than once; allowed: unique names."]


def test_unknown_state(tmp_path):
    path = write_csv(tmp_path, "Alpha,XX,33.6,-84.4,50,2024Q1,56")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field state: 'XX' is not a US state; allowed: a two-letter postal code of the "
        "50 states, DC or PR (e.g. GA)."]


def test_energisation_after_the_horizon_end(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2037Q1,56")
    assert problems_of(path, horizon=("2027Q1", "2036Q4")) == [
        f"{path}: row 2 (Alpha), field energised_quarter: 2037Q1 is after the horizon end 2036Q4; allowed: a "
        "quarter up to 2036Q4."]
    assert list(load_sites(path, horizon=("2027Q1", "2037Q1")).index) == ["Alpha"]  # the horizon decides


def test_power_step_after_the_horizon_end(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,2037Q2:+5", columns=SITE_COLUMNS + ",power_steps")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field power_steps: 2037Q2 is after the horizon end 2036Q4; allowed: a quarter "
        "up to 2036Q4."]


def test_bad_quarter_label(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2027Q5,56")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field energised_quarter: '2027Q5' is not a quarter label; allowed: a quarter "
        "label YYYYQn with n in 1-4, e.g. 2027Q1."]


def test_hall_larger_than_the_secured_power(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,40,2024Q1,56,true,45,1",
                     columns=SITE_COLUMNS + ",ai_eligible,hall_it_mw,max_halls")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field hall_it_mw: a hall of 45 IT MW is larger than the site's 40 MW of secured "
        "power; allowed: at most 40."]


def test_coordinates_outside_the_us(tmp_path):
    path = write_csv(tmp_path, "London,,51.5,-0.12,50,2024Q1,56")
    assert problems_of(path) == [
        f"{path}: row 2 (London), field lat/lon: (51.5, -0.12) is more than 50 km from every US state; allowed: "
        "a point in the 50 states, DC or PR."]


def test_stated_state_contradicting_the_point(tmp_path):
    # Downtown Atlanta stated as Alabama: the GA/AL line is ~88 km west at that latitude
    path = write_csv(tmp_path, "Alpha,AL,33.749,-84.388,50,2024Q1,56")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field state: AL, but (33.749, -84.388) lies in GA, 88 km from AL; allowed: the "
        "state the point lies in (or leave state empty)."]


def test_stated_state_within_the_border_tolerance_is_kept(tmp_path):
    # a Georgia point ~14 km from Alabama stated as AL: within the 25 km tolerance, the file's state stands
    path = write_csv(tmp_path, "Alpha,AL,33.749,-85.2,50,2024Q1,56")
    assert load_sites(path, HORIZON).at["Alpha", "state"] == "AL"


def test_unknown_egrid_subregion(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,SRXX", columns=SITE_COLUMNS + ",egrid_subregion")
    codes = sorted(set(pd.read_csv(RATES_CSV)["subregion"]) - {"US"})
    assert len(codes) == 27
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field egrid_subregion: 'SRXX' is not an eGRID2023 subregion; allowed: one of "
        f"{', '.join(codes)}."]


@pytest.mark.parametrize("steps, reason", [
    ("2029Q1+50", "item '2029Q1+50' is not QUARTER:+MW[:CLASS]"),
    ("2029Q1:+fifty", "item '2029Q1:+fifty': '+fifty' is not a number of MW"),
    ("2029Q1:+50:nuclear", "item '2029Q1:+50:nuclear': class 'nuclear' is not firm or interruptible"),
])
def test_malformed_power_steps_item(tmp_path, steps, reason):
    path = write_csv(tmp_path, f"Alpha,GA,33.6,-84.4,50,2024Q1,56,{steps}", columns=SITE_COLUMNS + ",power_steps")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field power_steps: {reason}; allowed: QUARTER:+MW[:firm|interruptible] items "
        "separated by ';', e.g. 2029Q1:+50:interruptible."]


def test_power_steps_taking_a_class_below_zero(tmp_path):
    # 50 firm from 2024Q1, +20 interruptible 2029Q1, -30 interruptible 2031Q1: interruptible goes to -10
    # although the site's total (40 MW) stays positive
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,2029Q1:+20:interruptible; 2031Q1:-30:interruptible",
                     columns=SITE_COLUMNS + ",power_steps")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field power_steps: interruptible power falls to -10 MW in 2031Q1; allowed: "
        "steps that never take a class below 0 MW."]


def test_ai_eligible_site_with_only_interruptible_power(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,40,2024Q1,56,true,20,1,interruptible",
                     columns=SITE_COLUMNS + ",ai_eligible,hall_it_mw,max_halls,power_class")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field power_class: AI halls need firm power but the site has 0 MW firm, less "
        "than one hall of 20 IT MW; allowed: firm steps of at least one hall."]


# ============================================================================ 2. location
@pytest.mark.parametrize("place, lat, lon, subregion, state", [
    ("Atlanta", 33.749, -84.388, "SRSO", "GA"), ("Nashville", 36.163, -86.782, "SRTV", "TN"),
    ("Cheyenne", 41.140, -104.820, "RMPA", "WY"), ("Houston", 29.760, -95.370, "ERCT", "TX"),
    ("Jackson MS", 32.299, -90.185, "SRMV", "MS"),
])
def test_known_points_resolve_inside_their_subregion(place, lat, lon, subregion, state):
    found = geo.locate([lat], [lon]).iloc[0]
    assert (found["egrid_subregion"], found["state"]) == (subregion, state), place
    assert found["egrid_km"] == 0.0 and found["state_km"] == 0.0


def test_point_offshore_takes_the_nearest_subregion_within_50_km(tmp_path):
    # Gulf of Mexico ~20 km off Galveston: in no polygon, nearest is ERCOT / Texas
    found = geo.locate([29.20], [-94.70]).iloc[0]
    assert found["egrid_subregion"] == "ERCT" and 5 < found["egrid_km"] < geo.NEAREST_LIMIT_KM
    assert found["state"] == "TX" and found["state_km"] > 0
    assert found["egrid_km"] < geo.locate([29.20], [-94.60]).iloc[0]["egrid_km"]  # farther out, farther away
    assert geo.locate([26.0], [-90.0]).iloc[0].isna().all()  # mid-Gulf: beyond 50 km of everything
    path = write_csv(tmp_path, "Rig,,29.20,-94.70,50,2024Q1,56")
    assert load_sites(path, HORIZON).loc["Rig", ["state", "egrid_subregion"]].to_list() == ["TX", "ERCT"]


def test_state_subregion_and_rate_filled_from_the_location(tmp_path):
    path = write_csv(tmp_path, "Atlanta,33.749,-84.388,50,2024Q1,56,", "Houston,29.760,-95.370,50,2024Q1,56,",
                     "Jackson,32.299,-90.185,50,2024Q1,56,0.25",
                     columns="name,lat,lon,secured_mw,energised_quarter,power_usd_per_mwh_2026,grid_tco2_per_mwh")
    table = load_sites(path, HORIZON)
    rates = pd.read_csv(RATES_CSV).set_index("subregion")["co2_kg_per_mwh"] / 1000
    assert table["state"].to_list() == ["GA", "TX", "MS"]
    assert table["egrid_subregion"].to_list() == ["SRSO", "ERCT", "SRMV"]
    assert table["market"].to_list() == ["GA", "TX", "MS"]  # market defaults to the state
    assert table.at["Atlanta", "grid_tco2_per_mwh"] == pytest.approx(rates["SRSO"], rel=1e-12)  # 0.382074
    assert table.at["Houston", "grid_tco2_per_mwh"] == pytest.approx(rates["ERCT"], rel=1e-12)  # 0.332874
    assert table.at["Jackson", "grid_tco2_per_mwh"] == 0.25  # the file's rate wins over SRMV's 0.3355


def test_columns_absent_from_the_file_are_filled_too(tmp_path):
    path = write_csv(tmp_path, "Nashville,36.163,-86.782,50,2024Q1,56",
                     columns="name,lat,lon,secured_mw,energised_quarter,power_usd_per_mwh_2026")
    row = load_sites(path, HORIZON).loc["Nashville"]
    assert (row["state"], row["egrid_subregion"], row["egrid_subregion_located"]) == ("TN", "SRTV", "SRTV")
    assert row["grid_tco2_per_mwh"] == pytest.approx(0.407362)


def test_subregion_in_the_file_wins_over_the_located_one():
    table = load_sites(REFERENCE["csv"], HORIZON)
    lafayette = table.loc["LaFayette"]
    assert (lafayette["egrid_subregion"], lafayette["egrid_subregion_located"]) == ("SRTV", "SRSO")
    assert lafayette["grid_tco2_per_mwh"] == pytest.approx(0.407362)  # SRTV's rate, not SRSO's 0.382074
    assert geo.locate([lafayette["lat"]], [lafayette["lon"]]).iloc[0]["egrid_subregion"] == "SRSO"


# ============================================================================ 3. the power ledger
def test_ledger_by_quarter_on_a_hand_example():
    # 100 MW firm from 2027Q3, +50 interruptible from 2029Q1, -25 firm from 2031Q1
    steps = [Step("2027Q3", 100.0, "firm"), *parse_steps("2029Q1:+50:interruptible; 2031Q1:-25", "firm")]
    assert steps[1:] == [Step("2029Q1", 50.0, "interruptible"), Step("2031Q1", -25.0, "firm")]
    quarters = ["2027Q2", "2027Q3", "2028Q4", "2029Q1", "2030Q4", "2031Q1", "2036Q4"]
    assert secured_mw(steps, quarters).tolist() == [0, 100, 100, 150, 150, 125, 125]
    assert secured_mw(steps, quarters, "firm").tolist() == [0, 100, 100, 100, 100, 75, 75]
    assert secured_mw(steps, quarters, "interruptible").tolist() == [0, 0, 0, 50, 50, 50, 50]
    assert (peak_mw(steps), peak_mw(steps, "firm"), peak_mw(steps, "interruptible")) == (150, 100, 50)
    assert negative_balance(steps) is None
    assert negative_balance([*steps, Step("2032Q1", -80, "firm")]) == ("2032Q1", "firm", -5)


def test_site_steps_sorts_by_quarter_and_defaults_the_class():
    site = {"energised_quarter": "2027Q3", "secured_mw": 100, "power_class": "interruptible",
            "power_steps": "2031Q1:-25 ; 2029Q1:+50MW:firm"}
    assert site_steps(site) == [Step("2027Q3", 100.0, "interruptible"), Step("2029Q1", 50.0, "firm"),
                                Step("2031Q1", -25.0, "interruptible")]


def test_ai_halls_wait_for_firm_power_while_miners_run_on_interruptible_power():
    """100 MW interruptible since 2020Q1, then +15 MW firm in 2027Q3 and +15 MW firm in 2028Q2; halls of 10
    IT MW reserve 1.4 * 10 = 14 grid MW of firm power each, so (P2) by hand:
        2027Q1-2027Q2: firm 0  -> 0 halls;   2027Q3-2028Q1: firm 15 -> floor(15/14) = 1;   2028Q2-: firm 30 -> 2.
    Leases pay far more than capex, so each hall starts as soon as its firm power exists: 2027Q3 and 2028Q2.
    The fleet is 100 / 1.06 IT MW (the first quarter's power) and runs every quarter, on interruptible power
    before 2027Q3 and beside the halls after (100 + 28 <= 130)."""
    site = {"name": "Alpha", "power_class": "interruptible", "secured_mw": 100, "energised_quarter": "2020Q1",
            "power_steps": "2027Q3:+15:firm; 2028Q2:+15:firm", "ai_eligible": "true", "hall_it_mw": 10,
            "max_halls": 2, "build_type": "retrofit"}
    scenario = make_scenario(horizon_start="2027Q1", horizon_end="2029Q4", terminal_quarters=8,
                             lease_usd_per_kw_month=1500.0, btc_price_usd_2026=400_000)
    assert (scenario.grid_mw_per_it_mw, scenario.mining_pue, scenario.lead_quarters_retrofit) == (1.40, 1.06, 4)
    plan, _ = solve_plan(make_sites(site), scenario)
    quarters = quarter_range("2027Q1", "2029Q4")
    firm_quarter = {1: "2027Q3", 2: "2028Q2"}  # first quarter with firm >= n * 14 grid MW
    assert sorted(plan.builds["start_quarter"]) == [firm_quarter[1], firm_quarter[2]]
    s = plan.schedule.set_index("quarter").loc[quarters]
    assert s["firm_mw"].tolist() == [0, 0, 15, 15, 15, 30, 30, 30, 30, 30, 30, 30]
    assert s["secured_mw"].tolist() == [100, 100, 115, 115, 115, 130, 130, 130, 130, 130, 130, 130]
    assert s["ai_halls_started"].tolist() == pytest.approx([0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2])
    assert (s["ai_grid_mw_reserved"] <= s["firm_mw"] + 1e-6).all()
    assert s["mining_it_mw"].tolist() == pytest.approx([100 / 1.06] * 12)
    assert s["mining_grid_mw"].tolist() == pytest.approx([100.0] * 12)
