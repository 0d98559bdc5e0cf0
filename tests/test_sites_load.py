"""Site files as read: the four formats loading identically (and the solve from the GeoPackage), malformed and
unreadable files with their exact sentences (row and feature numbers as the user sees them, every problem reported
in row order), and the `sites` CLI (validate, show, map, convert) with the GeoPackage written by `solve --gpkg`.
The field and row rules, locations and the power ledger are in tests/test_sites_validation.py."""

import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon
from typer.testing import CliRunner

from optimizer.cli import app
from kernel.errors import InputError
from sites.load import REFERENCE_PORTFOLIO, load_sites
from tests.conftest import HORIZON, SITE_COLUMNS, problems_of, write_csv

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


# ============================================================================ 2. malformed and unreadable files
def test_missing_required_column(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,2024Q1,56", columns=SITE_COLUMNS.replace("secured_mw,", ""))
    assert problems_of(path) == [f"{path}: required column 'secured_mw' is missing."]


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
        f"{path}: feature 5 (Sandersville), field secured_mw: -5.0 is negative; allowed: a number from 0 to 10000."]


def test_excel_rows_are_numbered_as_on_the_sheet(tmp_path):
    table = reference_text()
    table.loc[2, "secured_mw"] = "lots"  # Norcross: 3rd site, sheet row 4
    path = tmp_path / "sites.xlsx"
    table.to_excel(path, sheet_name="Sites", index=False)
    assert problems_of(path) == [
        f"{path} (sheet Sites): row 4 (Norcross), field secured_mw: 'lots' is not a number; allowed: a number from 0 to 10000."]


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
        f"{path}: row 2 (Alpha), field secured_mw: -5 is negative; allowed: a number from 0 to 10000.",
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
    assert problems_of(path) == [f"{path}: row 4 (Beta), field secured_mw: -5 is negative; allowed: a number from 0 to 10000."]


def test_gis_geometry_problem_and_attribute_problem_are_reported_together(tmp_path):
    frame = gpd.read_file(REFERENCE["geojson"])
    frame.loc[1, "geometry"] = Polygon([(-84.5, 33.6), (-84.4, 33.6), (-84.4, 33.7)])
    frame.loc[4, "secured_mw"] = -5.0
    path = tmp_path / "two.geojson"
    frame.to_file(path, driver="GeoJSON")
    found = problems_of(path)
    assert len(found) == 2
    assert found[0].startswith(f"{path}: feature 2") and "a Polygon" in found[0]
    assert found[1] == f"{path}: feature 5 (Sandersville), field secured_mw: -5.0 is negative; allowed: a number from 0 to 10000."


# ============================================================================ 3. CLI, map and GeoPackage
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
