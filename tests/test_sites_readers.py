"""Site files as people have them, each case checkable by hand: semicolon- and tab-separated CSVs with decimal
commas, UTF-8 with a BOM, Windows-1252/Latin-1 names, upper-case and padded headers, a workbook whose first sheet
is a cover page (the sheet read is named in every message), one sentence for unknown columns with the closest
field, at most 20 problems listed, values with a meaning (finite, inside hard maxima; soft maxima warn through
`site_warnings`)."""

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from kernel.errors import InputError
from optimizer.cli import app
from sites.load import load_sites, site_warnings
from sites.schema import FIELDS_BY_NAME
from tests.conftest import HORIZON, SITE_COLUMNS, problems_of, write_csv
from tests.test_sites_load import REFERENCE, reference_text

NUMBER_COLUMNS = [c for c in reference_text().columns if FIELDS_BY_NAME[c].kind in ("number", "integer")]
ALLOWED_MW = "allowed: a number from 0 to 10000."


@pytest.fixture(scope="module")
def reference():
    return load_sites(REFERENCE["csv"], HORIZON)


def european(table: pd.DataFrame) -> pd.DataFrame:
    """The table as European Excel writes it: decimal commas in the number columns (33.653 -> 33,653)."""
    table = table.copy()
    for column in NUMBER_COLUMNS:
        table[column] = table[column].str.replace(".", ",", regex=False)
    return table


# ============================================================================ 1. delimiters and decimal commas
def test_a_semicolon_csv_with_decimal_commas_loads_to_the_reference_table(tmp_path, reference):
    table = european(reference_text())
    assert table.loc[0, "lat"] == "33,653" and table.loc[0, "lon"] == "-84,449"  # College Park I
    path = tmp_path / "sites.csv"
    table.to_csv(path, sep=";", index=False)
    assert path.read_text().splitlines()[1].startswith("College Park I;GA;33,653;-84,449;50;2021Q1;")
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_a_decimal_comma_by_hand(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name;lat;lon;secured_mw;energised_quarter;power_usd_per_mwh_2026;site_opening_cost_usd\n"
                    "Alpha;33,6;-84,4;12,5;2024Q1;56,25;1.234.567,5\n")
    row = load_sites(path, HORIZON).loc["Alpha"]
    assert (row["lat"], row["lon"], row["secured_mw"], row["power_usd_per_mwh_2026"]) == (33.6, -84.4, 12.5, 56.25)
    assert row["site_opening_cost_usd"] == 1234567.5  # thousands points dropped


def test_a_tab_separated_file_loads_to_the_reference_table(tmp_path, reference):
    path = tmp_path / "sites.csv"
    reference_text().to_csv(path, sep="\t", index=False)
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)
    european(reference_text()).to_csv(path, sep="\t", index=False)  # decimal commas with tabs too
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_a_decimal_comma_in_a_comma_separated_file_says_how_to_write_it(tmp_path):
    path = write_csv(tmp_path, 'Alpha,GA,33.6,-84.4,"12,5",2024Q1,56')
    assert problems_of(path) == [
        f"{path}: row 2 (Alpha), field secured_mw: '12,5' is not a number (use a decimal point: 12.5); {ALLOWED_MW}"]


def test_trailing_separators_are_ignored_and_a_column_without_header_is_named(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(SITE_COLUMNS.replace(",", ";") + ";;\nAlpha;GA;33,6;-84,4;50;2024Q1;56;;\n")
    assert list(load_sites(path, HORIZON).index) == ["Alpha"]
    path.write_text(SITE_COLUMNS.replace(",", ";") + ";;\nAlpha;GA;33,6;-84,4;50;2024Q1;56;;note\n")
    assert problems_of(path) == [
        f"{path}: column 9 has values but no header; allowed: a site field name above every column with values."]


def test_a_file_whose_separator_cannot_be_told_is_one_sentence(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("site list for 2026\nAlpha Georgia\n")
    assert problems_of(path) == [
        f"{path}: cannot tell how the columns are separated: the first line 'site list for 2026' holds no site "
        "field name; allowed: a header row of site fields (name, lat, lon, ...) separated by commas, semicolons "
        "or tabs."]


# ============================================================================ 2. encodings
def test_latin1_and_cp1252_names_survive(tmp_path):
    latin1 = ["Québec Road,GA,33.6,-84.4,50,2024Q1,56", "Montréal Yard,GA,33.7,-84.4,50,2024Q1,56"]
    cp1252 = latin1 + ["Café “Süd” – 2,GA,33.8,-84.4,50,2024Q1,56"]  # curly quotes and the dash: cp1252 only
    assert "Québec".encode("latin-1") == b"Qu\xe9bec"  # one byte for é: not UTF-8, so read as Windows-1252
    for encoding, rows in (("latin-1", latin1), ("cp1252", cp1252), ("utf-8", cp1252)):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(("\n".join([SITE_COLUMNS, *rows]) + "\n").encode(encoding))
        assert list(load_sites(path, HORIZON).index) == [r.split(",")[0] for r in rows], encoding


def test_a_utf8_file_with_a_bom_loads_to_the_reference_table(tmp_path, reference):
    path = tmp_path / "sites.csv"
    reference_text().to_csv(path, index=False, encoding="utf-8-sig")
    assert path.read_bytes()[:8] == b"\xef\xbb\xbfname,"
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_a_utf16_file_from_excel_unicode_text_loads(tmp_path, reference):
    path = tmp_path / "sites.csv"
    reference_text().to_csv(path, sep="\t", index=False, encoding="utf-16")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_a_file_in_no_known_encoding_is_one_sentence(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_bytes(f"{SITE_COLUMNS}\nAlpha".encode() + b"\x81\n")  # 0x81: no character in cp1252
    position = len(SITE_COLUMNS) + 1 + len("Alpha")
    assert problems_of(path) == [
        f"{path}: cannot be read as CSV (byte 0x81 at position {position}, not text in UTF-8 or Windows-1252 "
        "(Latin-1)); allowed: a CSV file saved as UTF-8 or Windows-1252."]


# ============================================================================ 3. headers
def test_upper_case_and_padded_headers_are_the_fields(tmp_path, reference):
    table = reference_text()
    table.columns = [f" {c.upper()} " if i % 2 else c.title() for i, c in enumerate(table.columns)]
    assert list(table.columns[:3]) == ["Name", " STATE ", "Lat"]
    path = tmp_path / "sites.csv"
    table.to_csv(path, index=False)
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)
    path.write_text("Name;LAT; Lon ; SECURED_MW ;Energised_Quarter;power_usd_per_mwh_2026\n"
                    "Alpha;33,6;-84,4;50;2024Q1;56\n")
    assert load_sites(path, HORIZON).loc["Alpha", "secured_mw"] == 50


def test_upper_case_headers_in_a_geojson(tmp_path, reference):
    frame = gpd.read_file(REFERENCE["geojson"])
    frame.columns = [c if c == "geometry" else c.upper() for c in frame.columns]
    frame = frame.set_geometry("geometry")
    path = tmp_path / "upper.geojson"
    frame.to_file(path, driver="GeoJSON")
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_unknown_columns_are_one_sentence_with_the_closest_field(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,Jo",
                     columns=SITE_COLUMNS.replace("secured_mw", "Secure_MW") + ",owner")
    fields = ", ".join(FIELDS_BY_NAME)
    assert problems_of(path) == [
        f"{path}: columns 'Secure_MW' (closest field: secured_mw), 'owner' are not site fields; allowed: {fields}.",
        f"{path}: required column 'secured_mw' is missing."]
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56", columns=SITE_COLUMNS.replace("lat,", "Latitude,"))
    assert problems_of(path)[0] == (f"{path}: column 'Latitude' (closest field: lat) is not a site field; "
                                    f"allowed: {fields}.")


def test_two_headers_for_one_field(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,50,2024Q1,56,60", columns=SITE_COLUMNS + ", SECURED_MW")
    assert problems_of(path) == [
        f"{path}: columns 'secured_mw', 'SECURED_MW' are all field secured_mw; allowed: one column per field."]


# ============================================================================ 4. workbooks
def workbook(path, sites: pd.DataFrame, startrow: int = 0):
    """A planner's workbook: a cover page first, the sites on sheet Portfolio, notes last."""
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"Hashpivot site portfolio": ["Prepared by the planning team", "", "Version 3"]}).to_excel(
            writer, sheet_name="Cover", index=False)
        sites.to_excel(writer, sheet_name="Portfolio", index=False, startrow=startrow)
        pd.DataFrame({"name": ["Alpha"], "note": ["ask the utility"]}).to_excel(writer, sheet_name="Notes",
                                                                                 index=False)


def test_a_workbook_with_a_cover_sheet_first_reads_the_site_sheet(tmp_path, reference):
    path = tmp_path / "sites.xlsx"
    workbook(path, reference_text())  # Cover: 0 site fields, Portfolio: 17, Notes: 1
    pd.testing.assert_frame_equal(load_sites(path, HORIZON), reference)


def test_the_sheet_read_is_named_in_every_message(tmp_path):
    table = reference_text()
    table.loc[2, "secured_mw"] = "lots"  # Norcross: 3rd site, sheet row 4
    table.loc[12, "power_usd_per_mwh_2026"] = "inf"  # Austin County: 13th site, sheet row 14
    path = tmp_path / "sites.xlsx"
    workbook(path, table)
    assert problems_of(path) == [
        f"{path} (sheet Portfolio): row 4 (Norcross), field secured_mw: 'lots' is not a number; {ALLOWED_MW}",
        f"{path} (sheet Portfolio): row 14 (Austin County), field power_usd_per_mwh_2026: 'inf' is not a finite "
        "number; allowed: a number from 0 to 10000."]


def test_workbook_rows_are_numbered_as_on_the_sheet_below_empty_rows(tmp_path):
    table = reference_text()
    table.loc[2, "secured_mw"] = "-5"
    path = tmp_path / "sites.xlsx"
    workbook(path, table, startrow=2)  # header on sheet row 3: Norcross on row 3 + 3 = 6
    assert problems_of(path) == [
        f"{path} (sheet Portfolio): row 6 (Norcross), field secured_mw: -5 is negative; {ALLOWED_MW}"]


# ============================================================================ 5. how many problems
def test_thirty_bad_rows_give_twenty_lines_and_how_many_more(tmp_path):
    path = write_csv(tmp_path, *[f"Site {i},GA,33.6,-84.4,-5,2024Q1,56" for i in range(1, 31)])
    with pytest.raises(InputError) as caught:
        load_sites(path, HORIZON)
    problems = caught.value.problems
    assert len(problems) == 21
    assert problems[0] == f"{path}: row 2 (Site 1), field secured_mw: -5 is negative; {ALLOWED_MW}"
    assert problems[19] == f"{path}: row 21 (Site 20), field secured_mw: -5 is negative; {ALLOWED_MW}"
    assert problems[20] == "... and 10 more problems."
    assert str(caught.value).startswith("30 problems: ") and "\n" not in str(caught.value)
    result = CliRunner().invoke(app, ["sites", "validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == problems


def test_twenty_problems_are_all_listed(tmp_path):
    path = write_csv(tmp_path, *[f"Site {i},GA,33.6,-84.4,-5,2024Q1,56" for i in range(1, 21)])
    problems = problems_of(path)
    assert len(problems) == 20 and "more problems" not in problems[-1]


# ============================================================================ 6. values with a meaning
@pytest.mark.parametrize("value, words", [
    ("inf", "'inf' is not a finite number"), ("-inf", "'-inf' is not a finite number"),
    ("Infinity", "'Infinity' is not a finite number"), ("nan", "'nan' is not a number"),
    ("1e308", "1e308 is too large"), ("1e5", "1e5 is too large"), ("10000.5", "10000.5 is too large"),
])
def test_meaningless_mw_are_errors_quoting_the_value(tmp_path, value, words):
    path = write_csv(tmp_path, f"Alpha,GA,33.6,-84.4,{value},2024Q1,56")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field secured_mw: {words}; {ALLOWED_MW}"]


@pytest.mark.parametrize("field, value, allowed", [
    ("max_halls", "inf", "a whole number from 0 to 1000"),
    ("committed_halls", "1e308", "a whole number from 0 to 1000"),
    ("hall_it_mw", "2500", "a number from 0 to 2000"), ("mining_commitment_it_mw", "nan", "a number from 0 to 10000"),
    ("site_opening_cost_usd", "2e11", "a number from 0 to 100,000,000,000"),
    ("grid_tco2_per_mwh", "inf", "a number from 0 to 3"),
])
def test_each_hard_maximum(tmp_path, field, value, allowed):
    path = write_csv(tmp_path, f"Alpha,GA,33.6,-84.4,50,2024Q1,56,{value}", columns=SITE_COLUMNS + f",{field}")
    words = {"inf": "'inf' is not a finite number", "nan": "'nan' is not a number"}.get(value, f"{value} is too large")
    assert problems_of(path) == [f"{path}: row 2 (Alpha), field {field}: {words}; allowed: {allowed}."]


def test_the_hard_maximum_itself_is_allowed(tmp_path):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,10000,2024Q1,10000")
    row = load_sites(path, HORIZON).loc["Alpha"]
    assert (row["secured_mw"], row["power_usd_per_mwh_2026"]) == (10000, 10000)


def test_a_value_past_a_soft_maximum_loads_and_is_named_by_site_warnings(tmp_path, reference):
    path = write_csv(tmp_path, "Alpha,GA,33.6,-84.4,2500,2024Q1,56", "Beta,GA,33.7,-84.4,2000,2024Q1,350",
                     "Gamma,GA,33.8,-84.4,50,2024Q1,56,2500000000",
                     columns=SITE_COLUMNS + ",site_opening_cost_usd")
    table = load_sites(path, HORIZON)
    assert table.loc["Alpha", "secured_mw"] == 2500  # loaded
    assert site_warnings(table) == [
        "site Alpha, field secured_mw: 2500 MW is above the usual at most 2000 MW; check it is meant.",
        "site Beta, field power_usd_per_mwh_2026: 350 USD/MWh is above the usual at most 300 USD/MWh; check it is "
        "meant.",  # Beta's 2000 MW is at the soft maximum, not above it
        "site Gamma, field site_opening_cost_usd: 2,500,000,000 USD is above the usual at most 1,000,000,000 USD; "
        "check it is meant."]
    assert site_warnings(reference) == []
