"""Site portfolios end to end: the four file formats, malformed files with their exact sentences, location
lookups (eGRID2023 subregion, state, CO2 rate), the firm/interruptible power ledger in a solve, and the
`sites` CLI (validate, show, map, convert) with the GeoPackage written by `solve --gpkg`."""

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon
from typer.testing import CliRunner

from optimizer.cli import app
from sites import geo
from kernel.errors import InputError
from sites.ledger import Step, negative_balance, parse_steps, peak_mw, secured_mw, site_steps
from sites.load import REFERENCE_PORTFOLIO, load_sites
from kernel.quarters import quarter_range
from tests.conftest import HORIZON, SITE_COLUMNS, make_scenario, make_sites, problems_of, solve_plan, write_csv

DATA = REFERENCE_PORTFOLIO.parent
REFERENCE = {suffix: DATA / f"reference_portfolio.{suffix}" for suffix in ("csv", "xlsx", "geojson", "gpkg")}
RATES_CSV = DATA / "geo" / "egrid2023_subregion_co2_rates.csv"
REFERENCE_NAMES = ["College Park I", "College Park II", "Norcross", "Washington", "Sandersville", "Dalton",
                   "LaFayette", "Rural GA EMC cluster", "Knoxville cluster", "East TN", "Mississippi cluster",
                   "Cheyenne", "Austin County"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
runner = CliRunner(env={"COLUMNS": "200"})


def reference_text() -> pd.DataFrame:
    """The reference CSV as text cells, to edit and write in other formats."""
    return pd.read_csv(REFERENCE["csv"], dtype=str, keep_default_na=False)


def invoke(*args) -> "object":
    return runner.invoke(app, [str(a) for a in args])


def assert_clean_exit_2(result) -> str:
    """Exit 2 from an InputError: a message on stderr, no exception escaped (so no traceback)."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception), result.exception  # SystemExit is not an Exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr


# ============================================================================ 1. formats and the solve
@pytest.mark.parametrize("suffix", ["xlsx", "geojson", "gpkg"])
def test_reference_portfolio_loads_identically_from_every_format(suffix):
    csv_table = load_sites(REFERENCE["csv"], HORIZON)
    other = load_sites(REFERENCE[suffix], HORIZON)
    assert list(csv_table.index) == REFERENCE_NAMES
    pd.testing.assert_frame_equal(other, csv_table)  # dtypes included


def test_solve_from_the_geopackage_gives_the_reference_npv(solved, reference_plan):
    _, kpis = solved
    assert kpis["status"] == "optimal"
    assert kpis["npv_usd"] == pytest.approx(reference_plan.kpis["npv_usd"], rel=1e-9)


# ============================================================================ 2. malformed files
def test_missing_required_column(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,2024Q1,56", columns=SITE_COLUMNS.replace("secured_mw,", ""))
    assert problems_of(path) == [f"{path}: required column 'secured_mw' is missing."]


def test_text_where_a_number_belongs(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,lots,2024Q1,56")
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field secured_mw: 'lots' is not a number; allowed: a number >= 0."]


def test_negative_mw(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56", "Beta,GA,33.6,-84.4,-5,2024Q1,56")
    assert problems_of(path) == [f"{path}: row 3 (Beta), field secured_mw: -5 is negative; allowed: a number >= 0."]


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


@pytest.mark.parametrize("suffix, driver", [("geojson", "GeoJSON"), ("gpkg", "GPKG")])
def test_gis_feature_with_a_polygon_geometry(tmp_path, suffix, driver):
    frame = gpd.read_file(REFERENCE["geojson"])
    frame.loc[2, "geometry"] = Polygon([(-84.3, 33.9), (-84.1, 33.9), (-84.1, 34.0)])  # Norcross, feature 3
    path = tmp_path / f"shapes.{suffix}"
    frame.to_file(path, driver=driver)
    assert problems_of(path) == [
        f"{path}: feature 3 (Norcross), field geometry: a Polygon; allowed: a Point (or no geometry and lat/lon columns)."]


def test_gis_attribute_problem_names_the_feature(tmp_path):
    frame = gpd.read_file(REFERENCE["gpkg"])
    frame.loc[4, "secured_mw"] = -5.0  # Sandersville, the 5th feature
    path = tmp_path / "negative.gpkg"
    frame.to_file(path, driver="GPKG")
    assert problems_of(path) == [
        f"{path}: feature 5 (Sandersville), field secured_mw: -5.0 is negative; allowed: a number >= 0."]


def test_excel_rows_are_numbered_as_on_the_sheet(tmp_path):
    table = reference_text()
    table.loc[2, "secured_mw"] = "lots"  # Norcross: 3rd site, sheet row 4
    path = tmp_path / "sites.xlsx"
    table.to_excel(path, sheet_name="Sites", index=False)
    assert problems_of(path) == [
        f"{path}: row 4 (Norcross), field secured_mw: 'lots' is not a number; allowed: a number >= 0."]


@pytest.mark.parametrize("name", ["sites.txt", "sites.parquet"])
def test_unsupported_file_suffix(tmp_path, name):
    path = tmp_path / name
    path.write_text("name\nAlpha\n")
    assert problems_of(path) == [
        f"{path}: unsupported site file type '{path.suffix}'; allowed: .csv, .geojson, .gpkg, .json, .xlsx."]


def test_corrupt_xlsx_is_one_sentence(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a workbook")
    assert problems_of(path) == [f"{path}: cannot be read as Excel workbook (File is not a zip file)."]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL: "bad application_id"
def test_sqlite_file_that_is_not_a_geopackage_is_one_sentence(tmp_path):
    path = tmp_path / "plain.gpkg"
    with sqlite3.connect(path) as connection:
        connection.execute("create table x (a)")
    connection.close()
    assert problems_of(path) == [
        f"{path}: cannot be read as GeoPackage (At least one of the required GeoPackage tables, "
        "gpkg_spatial_ref_sys or gpkg_contents, is missing)."]


def test_corrupt_gpkg_is_one_clear_sentence(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage")
    (message,) = problems_of(path)
    assert message.startswith(f"{path}: cannot be read as GeoPackage (") and message.endswith(").")
    assert message.count(str(path)) == 1
    assert "<DRIVER>" not in message and "CSV:path" not in message and ".;" not in message


def test_three_problems_in_one_file_are_all_reported_in_row_order(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,-5,2024Q1,56", "Beta,GA,33.6,-84.4,50,2027Q5,56",
                     "Gamma,GA,33.6,-84.4,50,2024Q1,56", "Delta,XX,33.6,-84.4,50,2024Q1,56")
    with pytest.raises(InputError) as caught:
        load_sites(path, HORIZON)
    assert caught.value.problems == [
        f"{path}: row 2 (Alpha), field secured_mw: -5 is negative; allowed: a number >= 0.",
        f"{path}: row 3 (Beta), field energised_quarter: '2027Q5' is not a quarter label; allowed: a quarter label "
        "YYYYQn with n in 1-4, e.g. 2027Q1.",
        f"{path}: row 5 (Delta), field state: 'XX' is not a US state; allowed: a two-letter postal code of the 50 "
        "states, DC or PR (e.g. GA).",
    ]
    assert str(caught.value) == "3 problems: " + " ".join(caught.value.problems)


def test_location_problem_in_an_early_row_is_listed_first(tmp_path):
    path = write_csv(tmp_path, "London,,51.5,-0.12,50,2024Q1,56", "Beta,GA,33.6,-84.4,-5,2024Q1,56",
                     "Gamma,GA,33.6,-84.4,50,2027Q5,56")
    found = problems_of(path)
    assert len(found) == 3
    assert [p.split(", field")[0] for p in found] == [f"{path}: row 2 (London)", f"{path}: row 3 (Beta)",
                                                      f"{path}: row 4 (Gamma)"]


def test_csv_row_number_counts_blank_lines(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(f"{SITE_COLUMNS}\nAlpha,GA,33.6,-84.4,50,2024Q1,56\n\nBeta,GA,33.6,-84.4,-5,2024Q1,56\n")
    assert problems_of(path) == [f"{path}: row 4 (Beta), field secured_mw: -5 is negative; allowed: a number >= 0."]


def test_gis_geometry_problem_and_attribute_problem_are_reported_together(tmp_path):
    frame = gpd.read_file(REFERENCE["geojson"])
    frame.loc[1, "geometry"] = Polygon([(-84.5, 33.6), (-84.4, 33.6), (-84.4, 33.7)])
    frame.loc[4, "secured_mw"] = -5.0
    path = tmp_path / "two.geojson"
    frame.to_file(path, driver="GeoJSON")
    found = problems_of(path)
    assert len(found) == 2
    assert found[0].startswith(f"{path}: feature 2") and "a Polygon" in found[0]
    assert found[1] == f"{path}: feature 5 (Sandersville), field secured_mw: -5.0 is negative; allowed: a number >= 0."


# ============================================================================ 3. location
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


# ============================================================================ 4. the power ledger
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


# ============================================================================ 5. CLI, map and GeoPackage
def test_sites_validate_on_the_reference():
    result = invoke("sites", "validate", REFERENCE["gpkg"])
    assert result.exit_code == 0, result.output
    assert "valid: 13 sites" in result.stdout
    assert "1,306 MW secured at peak (1,246 MW firm), 4 AI-eligible" in result.stdout  # hand sum of the ledger


def test_sites_validate_on_a_bad_file_lists_every_problem(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,-5,2024Q1,56", "Beta,GA,33.6,-84.4,50,2027Q5,56",
                     "Gamma,GA,33.6,-84.4,50,2024Q1,56", "Delta,XX,33.6,-84.4,50,2024Q1,56")
    result = invoke("sites", "validate", path)
    lines = assert_clean_exit_2(result).strip().splitlines()
    assert lines == problems_of(path, horizon=("2027Q1", "2036Q4"))
    assert [line.split(", field")[0] for line in lines] == [f"{path}: row {n}" for n in ("2 (Alpha)", "3 (Beta)",
                                                                                         "5 (Delta)")]
    assert "valid:" not in result.stdout


def test_sites_show_lists_every_site():
    result = invoke("sites", "show", REFERENCE["xlsx"])
    assert result.exit_code == 0, result.output
    for name in REFERENCE_NAMES:
        assert name in result.stdout, name
    assert "SRTV (in SRSO)" in result.stdout  # LaFayette: the file's subregion and the located one
    assert "(13 sites)" in result.stdout


def test_sites_map_writes_a_png(tmp_path):
    png = tmp_path / "m.png"
    result = invoke("sites", "map", REFERENCE["csv"], "--out", png)
    assert result.exit_code == 0, (result.output, result.exception)
    data = png.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 20_000
    again = invoke("sites", "map", REFERENCE["csv"], "--out", png)
    assert assert_clean_exit_2(again).strip() == f"--out {png}: the file exists; pass --force to overwrite it."
    assert png.read_bytes() == data
    assert invoke("sites", "map", REFERENCE["csv"], "--out", png, "--force").exit_code == 0


def test_sites_map_coloured_by_a_plan(solved, tmp_path):
    folder, _ = solved
    png = tmp_path / "plan_2030.png"
    result = invoke("sites", "map", REFERENCE["gpkg"], "--plan", folder / "plan.xlsx", "--year", "2030",
                    "--out", png)
    assert result.exit_code == 0, (result.output, result.exception)
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 20_000
    wrong_year = invoke("sites", "map", REFERENCE["csv"], "--plan", folder / "plan.xlsx", "--year", "2050",
                        "--out", tmp_path / "y.png")
    assert "year 2050 is not in the plan; allowed: 2027-2036" in assert_clean_exit_2(wrong_year)
    assert not (tmp_path / "y.png").exists()


def test_geopackage_from_the_solve(solved):
    folder, kpis = solved
    gpkg = folder / "plan.gpkg"
    assert {layer for layer, _ in gpd.list_layers(gpkg).itertuples(index=False)} == {"sites", "site_years"}
    sites = gpd.read_file(gpkg, layer="sites")
    years = gpd.read_file(gpkg, layer="site_years")
    expected = {"site", "state", "egrid_subregion", "secured_mw_end", "firm_mw_end", "ai_halls", "ai_capex_usd",
                "operating_npv_usd", "mining_it_mw_2027", "ai_it_mw_leased_2036", "geometry"}
    assert expected <= set(sites.columns), expected - set(sites.columns)
    assert sites.crs.to_epsg() == 4326 and years.crs.to_epsg() == 4326
    assert len(sites) == 13 and sorted(sites["site"]) == sorted(REFERENCE_NAMES)
    assert len(years) == 13 * 10 and sorted(years["year"].unique()) == list(range(2027, 2037))
    builds = pd.read_excel(folder / "plan.xlsx", sheet_name="Builds")
    assert len(builds) > 0
    assert sites["ai_capex_usd"].sum() == pytest.approx(builds["capex_usd"].sum(), rel=1e-12)
    assert sites["ai_halls"].sum() == len(builds) == kpis["ai_halls_built"]
    by_site = sites.set_index("site")
    reference = load_sites(REFERENCE["csv"], HORIZON)
    assert np.allclose(by_site.geometry.x.reindex(reference.index), reference["lon"], atol=1e-9)
    assert np.allclose(by_site.geometry.y.reindex(reference.index), reference["lat"], atol=1e-9)
    assert by_site.loc["LaFayette", "egrid_subregion"] == "SRTV"
    assert by_site.loc["Cheyenne", "secured_mw_end"] == 100  # 75 MW + the 2026Q3 step of 25


def test_sites_convert_round_trip_csv_gpkg_csv(tmp_path):
    gpkg, back = tmp_path / "round.gpkg", tmp_path / "round.csv"
    first = invoke("sites", "convert", REFERENCE["csv"], gpkg)
    assert first.exit_code == 0 and f"wrote {gpkg} (13 sites)" in first.stdout
    assert {layer for layer, _ in gpd.list_layers(gpkg).itertuples(index=False)} == {"sites"}
    assert invoke("sites", "convert", gpkg, back).exit_code == 0
    pd.testing.assert_frame_equal(load_sites(back, HORIZON), load_sites(REFERENCE["csv"], HORIZON))
    again = invoke("sites", "convert", gpkg, back)
    assert assert_clean_exit_2(again).strip() == f"{back}: the file exists; pass --force to overwrite it."


def test_sites_convert_into_a_new_folder(tmp_path):
    target = tmp_path / "new" / "sites.gpkg"
    result = invoke("sites", "convert", REFERENCE["csv"], target)
    assert not isinstance(result.exception, Exception), repr(result.exception)
    assert result.exit_code in (0, 2)
    assert result.exit_code == 2 or load_sites(target).index.tolist() == REFERENCE_NAMES
