"""Site files in four formats, every validation rule with its exact message, location lookups, the power
ledger, maps and the GeoPackage export."""


import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon
from typer.testing import CliRunner

from optimizer.cli import app
from sites import geo
from sites.ledger import Step, parse_steps, secured_mw
from sites.load import REFERENCE_PORTFOLIO, load_sites
from tests.conftest import SITE_COLUMNS, make_scenario, make_sites, problems_of, solve_plan, write_csv

DATA = REFERENCE_PORTFOLIO.parent
runner = CliRunner()


# ------------------------------------------------------------------------------------------ formats
def test_gis_points_are_normalised_to_wgs84(tmp_path):
    table = load_sites(REFERENCE_PORTFOLIO)
    frame = gpd.read_file(DATA / "reference_portfolio.gpkg").to_crs(3857)
    frame.to_file(tmp_path / "mercator.gpkg", driver="GPKG")
    loaded = load_sites(tmp_path / "mercator.gpkg")
    assert loaded["lat"].to_list() == pytest.approx(table["lat"].to_list(), abs=1e-9)
    assert loaded["lon"].to_list() == pytest.approx(table["lon"].to_list(), abs=1e-9)


def test_a_feature_without_geometry_uses_its_lat_lon_columns(tmp_path):
    frame = gpd.read_file(DATA / "reference_portfolio.geojson")
    frame["lat"], frame["lon"] = 33.0, -84.0
    frame.loc[0, "geometry"] = None
    frame.to_file(tmp_path / "partial.geojson", driver="GeoJSON")
    loaded = load_sites(tmp_path / "partial.geojson")
    assert (loaded.iloc[0]["lat"], loaded.iloc[0]["lon"]) == (33.0, -84.0)
    assert loaded.iloc[1]["lat"] == pytest.approx(33.640)


# ------------------------------------------------------------------------------------------ malformed files
def test_negative_mw(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,-5,2024Q1,56")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field secured_mw: -5 is negative; allowed: a number from 0 to 10000."]


def test_latitude_out_of_range(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,133.6,-84.4,50,2024Q1,56")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field lat: 133.6 is too large; allowed: a number from -90 to 90."]


def test_duplicate_names(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56", "Alpha,GA,33.7,-84.4,50,2024Q1,56")
    assert problems_of(path) == [f"{path}: site name 'Alpha' appears more than once; allowed: unique names."]


def test_state_contradicting_the_point(tmp_path):
    path = write_csv(tmp_path, "Alpha,TX,33.6,-84.4,50,2024Q1,56")
    (message,) = problems_of(path)
    assert message.startswith(f"{path}: row 2 (Alpha), field state: TX, but (33.6, -84.4) lies in GA, ")
    assert message.endswith(" km from TX; allowed: the state the point lies in (or leave state empty).")


def test_energisation_after_the_horizon(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2040Q1,56")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field energised_quarter: 2040Q1 is after the horizon end "
                              "2036Q4; allowed: a quarter up to 2036Q4."]


def test_hall_larger_than_the_site(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,true,60,1",
               columns=SITE_COLUMNS + ",ai_eligible,hall_it_mw,max_halls")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field hall_it_mw: a hall of 60 IT MW is larger than the "
                              "site's 50 MW of secured power; allowed: at most 50."]


def test_ai_site_without_firm_power(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,true,10,1,interruptible",
               columns=SITE_COLUMNS + ",ai_eligible,hall_it_mw,max_halls,power_class")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field power_class: AI halls need firm power but the site has "
                              "0 MW firm, less than one hall of 10 IT MW; allowed: firm steps of at least one hall."]


def test_unknown_egrid_subregion(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,SRXX", columns=SITE_COLUMNS + ",egrid_subregion")
    (message,) = problems_of(path)
    assert message.startswith(f"{path}: row 2 (Alpha), field egrid_subregion: 'SRXX' is not an eGRID2023 "
                              "subregion; allowed: one of AKGD, AKMS, AZNM,")


def test_power_steps_taking_a_class_below_zero(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,2030Q1:-80", columns=SITE_COLUMNS + ",power_steps")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field power_steps: firm power falls to -30 MW in 2030Q1; "
                              "allowed: steps that never take a class below 0 MW."]


def test_polygon_geometry(tmp_path):
    frame = gpd.read_file(DATA / "reference_portfolio.geojson")
    frame.loc[2, "geometry"] = Polygon([(-84, 33), (-84, 34), (-83, 34)])
    frame.to_file(tmp_path / "shapes.geojson", driver="GeoJSON")
    assert problems_of(tmp_path / "shapes.geojson") == [
        f"{tmp_path / 'shapes.geojson'}: feature 3 (Norcross), field geometry: a Polygon; allowed: a Point (or no geometry "
        "and lat/lon columns)."]


def test_unsupported_suffix_and_corrupt_files(tmp_path):
    (tmp_path / "sites.txt").write_text("x")
    assert problems_of(tmp_path / "sites.txt") == [
        f"{tmp_path / 'sites.txt'}: unsupported site file type '.txt'; allowed: .csv, .geojson, .gpkg, .json, .xlsx."]
    for name, kind in (("broken.gpkg", "GeoPackage"), ("broken.xlsx", "Excel workbook")):
        (tmp_path / name).write_bytes(b"not a real file")
        (message,) = problems_of(tmp_path / name)
        assert message.startswith(f"{tmp_path / name}: cannot be read as {kind} (") and message.endswith(").")


def test_excel_row_numbers_match_the_sheet(tmp_path):
    table = pd.read_csv(REFERENCE_PORTFOLIO, dtype=str, keep_default_na=False)
    table.loc[3, "secured_mw"] = "-20"  # the 4th site sits on sheet row 5
    table.to_excel(tmp_path / "sites.xlsx", sheet_name="Sites", index=False)
    assert problems_of(tmp_path / "sites.xlsx") == [
        f"{tmp_path / 'sites.xlsx'} (sheet Sites): row 5 (Washington), field secured_mw: -20 is negative; allowed: a number from 0 to 10000."]


def test_three_problems_are_reported_together(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,-5,2024Q1,56", "Beta,XX,33.6,-84.4,50,2024Q1,56",
               "Gamma,,51.5,-0.12,50,2024Q1,56")
    found = problems_of(path)
    assert len(found) == 3
    assert [p.split(", field")[0] for p in found] == [f"{path}: row 2 (Alpha)", f"{path}: row 3 (Beta)",
                                                      f"{path}: row 4 (Gamma)"]


# ------------------------------------------------------------------------------------------ location
@pytest.mark.parametrize("lat, lon, subregion", [(33.749, -84.388, "SRSO"), (36.163, -86.782, "SRTV"),
                                                 (41.140, -104.820, "RMPA"), (29.760, -95.370, "ERCT"),
                                                 (32.299, -90.185, "SRMV")])
def test_known_points_resolve_to_their_subregion(lat, lon, subregion):
    found = geo.locate([lat], [lon]).iloc[0]
    assert (found["egrid_subregion"], found["egrid_km"]) == (subregion, 0.0)


def test_points_off_the_polygons_take_the_nearest_within_50_km():
    offshore = geo.locate([29.20], [-94.70]).iloc[0]  # Gulf of Mexico, off Galveston
    assert offshore["egrid_subregion"] == "ERCT" and 0 < offshore["egrid_km"] <= 50
    assert pd.isna(geo.locate([26.0], [-90.0]).iloc[0]["egrid_subregion"])  # mid-Gulf: none


def test_state_subregion_and_co2_rate_filled_from_location(tmp_path):
    path = write_csv(tmp_path, "Atlanta,,33.749,-84.388,50,2024Q1,56", "Override,,33.749,-84.388,50,2024Q1,56,0.2",
               columns=SITE_COLUMNS + ",grid_tco2_per_mwh")
    table = load_sites(path)
    rates = pd.read_csv(DATA / "geo" / "egrid2023_subregion_co2_rates.csv").set_index("subregion")
    assert table.loc["Atlanta", ["state", "egrid_subregion", "market"]].to_list() == ["GA", "SRSO", "GA"]
    assert table.at["Atlanta", "grid_tco2_per_mwh"] == pytest.approx(rates.at["SRSO", "co2_kg_per_mwh"] / 1000)
    assert table.at["Override", "grid_tco2_per_mwh"] == 0.2


def test_a_subregion_in_the_file_wins_over_the_polygon():
    table = load_sites(REFERENCE_PORTFOLIO)
    assert table.loc["LaFayette", ["egrid_subregion", "egrid_subregion_located"]].to_list() == ["SRTV", "SRSO"]


# ------------------------------------------------------------------------------------------ power ledger
def test_ledger_steps_sum_by_quarter_and_class():
    steps = [Step("2027Q3", 100, "firm"), *parse_steps("2029Q1:+50:interruptible; 2031Q1:-25", "firm")]
    quarters = ["2027Q2", "2027Q3", "2029Q1", "2031Q1"]
    assert list(secured_mw(steps, quarters)) == [0, 100, 150, 125]
    assert list(secured_mw(steps, quarters, "firm")) == [0, 100, 100, 75]


def test_ai_halls_wait_for_firm_power_while_miners_use_interruptible_power():
    """P2: 100 MW interruptible now and +20 MW firm from 2027Q3: the 10 IT MW hall (14 grid MW) cannot
    start before 2027Q3 (t = 2) although leases pay from the start; miners run on the rest throughout."""
    site = {"name": "Alpha", "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 1, "secured_mw": 100,
            "power_class": "interruptible", "power_steps": "2027Q3:+20:firm"}
    scenario = make_scenario(horizon_start="2027Q1", horizon_end="2028Q4", terminal_quarters=4,
                             lease_usd_per_kw_month=1500.0, btc_price_usd_2026=150_000)
    plan, _ = solve_plan(make_sites(site), scenario)
    assert list(plan.builds["start_quarter"]) == ["2027Q3"]
    s = plan.schedule
    assert list(s["firm_mw"]) == [0, 0] + [20] * 6
    assert (s["ai_grid_mw_reserved"] <= s["firm_mw"] + 1e-6).all()
    assert list(s["mining_it_mw"]) == pytest.approx([100 / scenario.mining_pue] * 8)


# ------------------------------------------------------------------------------------------ CLI
def test_geopackage_layers_and_columns(solved):
    folder, _ = solved
    sites = gpd.read_file(folder / "plan.gpkg", layer="sites")
    years = gpd.read_file(folder / "plan.gpkg", layer="site_years")
    expected = {"site", "state", "egrid_subregion", "secured_mw_end", "firm_mw_end", "ai_halls", "ai_capex_usd",
                "mining_tco2", "ai_tco2", "operating_npv_usd", "mining_it_mw_2027", "ai_it_mw_leased_2036",
                "geometry"}
    assert expected <= set(sites.columns) and len(sites) == 13 and sites.crs.to_epsg() == 4326
    assert len(years) == 13 * 10 and {"site", "year", "mining_it_mw", "ai_it_mw_leased"} <= set(years.columns)
    builds = pd.read_excel(folder / "plan.xlsx", sheet_name="Builds")
    assert sites["ai_capex_usd"].sum() == pytest.approx(builds["capex_usd"].sum())
    assert sites["ai_halls"].sum() == len(builds)
    austin = sites.set_index("site").loc["Austin County"]
    assert (austin.geometry.x, austin.geometry.y) == pytest.approx((-96.26, 29.95))


def test_sites_validate_show_and_convert(tmp_path):
    result = runner.invoke(app, ["sites", "validate", str(REFERENCE_PORTFOLIO)])
    assert result.exit_code == 0 and "valid: 13 sites" in result.output
    bad = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,-5,2024Q1,56", "Beta,XX,33.6,-84.4,50,2024Q1,56")
    result = runner.invoke(app, ["sites", "validate", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "row 2 (Alpha)" in result.output and "row 3 (Beta)" in result.output
    result = runner.invoke(app, ["sites", "show", str(DATA / "reference_portfolio.xlsx")], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert all(name in result.output for name in load_sites(REFERENCE_PORTFOLIO).index)
    gpkg, back = tmp_path / "round.gpkg", tmp_path / "round.csv"
    assert runner.invoke(app, ["sites", "convert", str(REFERENCE_PORTFOLIO), str(gpkg)]).exit_code == 0
    assert runner.invoke(app, ["sites", "convert", str(gpkg), str(back)]).exit_code == 0
    pd.testing.assert_frame_equal(load_sites(back), load_sites(REFERENCE_PORTFOLIO), check_dtype=False)
    assert runner.invoke(app, ["sites", "convert", str(gpkg), str(back)]).exit_code == 2  # exists, no --force


def test_sites_map_writes_a_png_with_and_without_a_plan(solved, tmp_path):
    folder, _ = solved
    for args in ([], ["--plan", str(folder / "plan.xlsx"), "--year", "2030"]):
        png = tmp_path / f"map{len(args)}.png"
        result = runner.invoke(app, ["sites", "map", str(REFERENCE_PORTFOLIO), "--out", str(png), *args])
        assert result.exit_code == 0, result.output
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    again = runner.invoke(app, ["sites", "map", str(REFERENCE_PORTFOLIO), "--out", str(png)])
    assert again.exit_code == 2 and "--force" in again.output
    wrong_year = runner.invoke(app, ["sites", "map", str(REFERENCE_PORTFOLIO), "--out", str(tmp_path / "y.png"),
                                     "--plan", str(folder / "plan.xlsx"), "--year", "2050"])
    assert wrong_year.exit_code == 2 and "year 2050 is not in the plan" in wrong_year.output


def test_a_contracted_hall_without_firm_power_is_explained():
    """A hall contracted by 2027Q1 at a site whose firm power arrives in 2027Q3: infeasible, and the
    explanation names the firm-power family and the 14 grid MW missing in 2027Q1 and 2027Q2."""
    from optimizer.build import build_model
    from optimizer.data import build_model_data
    from optimizer.infeasibility import explain_infeasible
    from optimizer.solve import SolveOptions, solve_model
    site = {"name": "Alpha", "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 1, "secured_mw": 100,
            "power_class": "interruptible", "power_steps": "2027Q3:+20:firm", "committed_halls": 1,
            "committed_start_quarter": "2027Q1"}
    data = build_model_data(make_sites(site), make_scenario(horizon_start="2027Q1", horizon_end="2028Q4",
                                                            terminal_quarters=4))
    model = build_model(data)
    assert solve_model(model, SolveOptions(threads=1)).status == "infeasible"
    message = explain_infeasible(model, data)
    assert "power: firm grid MW for AI halls (Alpha 2027Q1)" in message
    assert "Alpha: 14.0 MW more firm power in 2027Q1" in message


def test_a_lowercase_state_is_read_as_its_code(tmp_path):
    assert load_sites(write_csv(tmp_path, "Alpha,ga,33.6,-84.4,50,2024Q1,56")).at["Alpha", "state"] == "GA"
