"""A planner's own portfolio on the first try: `sites template` (every format validates and solves, the
Fields sheet is the schema), `scenarios new` (loads, shows the extended values, solves; plain names only;
no silent overwrite), and `sites validate --scenario` listing every misfit with the scenario at once, each
with its fix."""

import re
import tomllib

import openpyxl
import pandas as pd
import pytest

from models.scenario import load_scenario, resolve_scenario
from models.template import COMMON, toml_value
from tests.conftest import invoke, solve_json
from sites.load import load_sites
from sites.schema import SITE_FIELDS

FORMATS = ("csv", "xlsx", "geojson", "gpkg")




def one_line_exit_2(result) -> str:
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# ============================================================================ sites template
@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The template written in every format, and each one's solve (KPIs) with the base scenario."""
    folder = tmp_path_factory.mktemp("templates")
    written = {}
    for suffix in FORMATS:
        path = folder / f"my_sites.{suffix}"
        result = invoke("sites", "template", path)
        assert result.exit_code == 0, result.output
        written[suffix] = (path, result.stdout, solve_json("--sites", path, "--out", folder / f"plan_{suffix}.xlsx"))
    return written


@pytest.mark.parametrize("suffix", FORMATS)
def test_template_validates_and_solves_in_each_format(templates, suffix):
    path, _, kpis = templates[suffix]
    result = invoke("sites", "validate", path)
    assert result.exit_code == 0, result.output
    assert "valid: 2 sites, 220 MW secured at peak (200 MW firm), 1 AI-eligible, eGRID subregions ERCT, SRSO" \
        in " ".join(result.stdout.split())  # 100 + 20 interruptible (TX mine) + 100 (GA retrofit)
    table = load_sites(path)
    assert list(table.columns[:len(SITE_FIELDS) - 1]) == [f.name for f in SITE_FIELDS if f.name != "name"]
    mine, retrofit = table.iloc[0], table.iloc[1]
    assert (mine["state"], mine["egrid_subregion"], mine["market"]) == ("TX", "ERCT", "TX")  # blanks: from the point
    assert mine["power_steps"] == "2028Q1:+20:interruptible" and not mine["ai_eligible"]
    assert retrofit["ai_eligible"] and retrofit["build_type"] == "retrofit" and retrofit["max_halls"] == 2
    assert kpis["status"] == "optimal" and kpis["check_violations"] == 0
    assert kpis["ai_it_mw_built"] <= 2 * 30  # at most the retrofit's two 30 IT MW halls
    assert kpis["npv_usd"] == pytest.approx(templates["csv"][2]["npv_usd"], rel=1e-9)  # the same plan from each


def test_xlsx_template_has_a_fields_sheet_with_every_field(templates):
    path = templates["xlsx"][0]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Sites", "Fields"]
    fields = pd.read_excel(path, sheet_name="Fields", dtype=object)
    assert list(fields.columns) == ["field", "type", "unit", "required / default", "allowed", "meaning"]
    rows = fields.dropna(subset=["type"])  # the notes below the table have no type
    assert rows["field"].to_list() == [f.name for f in SITE_FIELDS]
    by_name = rows.set_index("field")
    for f in SITE_FIELDS:
        assert by_name.at[f.name, "meaning"] == f.description and by_name.at[f.name, "allowed"] == f.allowed()
    assert by_name.at["secured_mw", "required / default"] == "required"
    assert by_name.at["state", "required / default"] == "optional (blank: the state the point lies in)"
    assert by_name.at["build_type", "required / default"] == "default retrofit (when blank)"
    sites = book["Sites"]
    header = [c.value for c in sites[1]]
    assert header == [f.name for f in SITE_FIELDS]
    assert "Secured grid power at the meter" in sites.cell(1, header.index("secured_mw") + 1).comment.text


def test_csv_template_points_to_the_field_meanings(templates):
    _, stdout, _ = templates["csv"]
    text = " ".join(stdout.split())
    assert "wrote" in text and "2 example sites" in text
    assert "hashpivot sites template my_sites.xlsx (its Fields sheet)" in text


def test_template_refuses_an_existing_file_and_an_unknown_suffix(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("keep me\n")
    assert one_line_exit_2(invoke("sites", "template", path)) == f"{path}: the file exists; pass --force to overwrite it."
    assert path.read_text() == "keep me\n"
    assert invoke("sites", "template", path, "--force").exit_code == 0
    assert path.read_text().startswith("name,state,lat,lon,")
    line = one_line_exit_2(invoke("sites", "template", tmp_path / "mine.txt"))
    assert "unsupported site file type '.txt'" in line and not (tmp_path / "mine.txt").exists()


# ============================================================================ scenarios new
def test_scenarios_new_shows_the_extended_values_and_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("scenarios", "new", "my-case")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "my-case.toml").read_text()
    assert "# btc_price_usd_2026 = 90000  # USD/BTC: BTC price in 2026Q1.\n" in text
    assert "# cash_floor_usd = 200_000_000  # USD: Least cash balance at every quarter end (-inf: no floor).\n" in text
    assert "# GA = 100\n# TX = 100\n" in text
    data = tomllib.loads(text)
    assert data == {"name": "my-case", "description": data["description"], "extends": "base"}
    assert resolve_scenario("my-case.toml")[0] == load_scenario("base")
    assert invoke("scenarios", "show", "my-case.toml").exit_code == 0

    result = invoke("scenarios", "new", "bearish", "--extends", "bear", "--out", tmp_path / "sub" / "bearish.toml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "sub" / "bearish.toml").read_text()
    bear = load_scenario("bear")
    assert "# btc_price_usd_2026 = 60000  # USD/BTC" in text and "# btc_price_growth_per_yr = 0  # 1/yr" in text
    value_line = re.compile(r"^# (\[market_absorption_it_mw_per_quarter\]$|[A-Za-z0-9_]+ = )")
    uncommented = "\n".join(line[2:] if value_line.match(line) else line for line in text.splitlines())
    data = tomllib.loads(uncommented)  # every commented value, uncommented, is valid TOML and bear's value
    keys = [key for _, group in COMMON for key in group]
    assert {k: data[k] for k in keys} == {k: getattr(bear, k) for k in keys}
    assert data["market_absorption_it_mw_per_quarter"] == bear.market_absorption_it_mw_per_quarter


def test_a_new_scenario_edited_and_solved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("sites", "template", "sites.csv").exit_code == 0
    assert invoke("scenarios", "new", "cheap-btc").exit_code == 0
    path = tmp_path / "cheap-btc.toml"
    path.write_text(path.read_text().replace("# btc_price_usd_2026 = 90000", "btc_price_usd_2026 = 0"))
    show = invoke("scenarios", "show", path)
    assert show.exit_code == 0
    row = next(line for line in show.stdout.splitlines() if line.split()[:1] == ["btc_price_usd_2026"])
    assert row.split("│")[1].strip() == "0" and "cheap-btc.toml" in row
    kpis = solve_json("--sites", "sites.csv", "--scenario", path, "--out", "plan.xlsx")
    assert kpis["status"] == "optimal" and kpis["mining_it_mw_start"] == 0  # BTC at $0: no miner runs


@pytest.mark.parametrize("name", ["a/b", "my.toml", "two words", "_x", "../up", "café"])
def test_scenarios_new_refuses_a_name_that_is_not_plain(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(invoke("scenarios", "new", name))
    assert line.startswith(f"scenarios new {name!r}: NAME must be a plain name") and line.endswith("--out.")
    assert list(tmp_path.iterdir()) == []


def test_scenarios_new_refuses_an_existing_file_and_a_missing_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.toml").write_text("# mine\n")
    assert one_line_exit_2(invoke("scenarios", "new", "mine")) == "mine.toml: the file exists; pass --force to overwrite it."
    assert (tmp_path / "mine.toml").read_text() == "# mine\n"
    assert invoke("scenarios", "new", "mine", "--force").exit_code == 0
    assert 'extends = "base"' in (tmp_path / "mine.toml").read_text()
    line = one_line_exit_2(invoke("scenarios", "new", "other", "--extends", "nope"))
    assert "nope" in line and "does not exist" in line and not (tmp_path / "other.toml").exists()
    assert one_line_exit_2(invoke("scenarios", "new", "x", "--out", "x.txt")) == \
        "--out x.txt: the scenario file name must end in .toml."


def test_toml_values_read_back_exactly():
    for value in (90000.0, 0.1, 2e8, 8.5e6, float("inf"), float("-inf"), 1.06, 0.0, 40, "2027Q1"):
        assert tomllib.loads(f"v = {toml_value(value)}")["v"] == value


# ============================================================================ sites validate --scenario
MISFITS = """name,lat,lon,secured_mw,energised_quarter,ai_eligible,hall_it_mw,max_halls,power_usd_per_mwh_2026,market
Pittsburgh,40.44,-79.99,100,2025Q1,true,30,2,50,
Albany,42.65,-73.75,100,2025Q1,true,30,2,50,NYC
Atlanta,33.65,-84.45,100,2025Q1,true,30,3,56,
"""


def test_validate_against_a_scenario_lists_every_misfit_with_its_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sites.csv").write_text(MISFITS)
    result = invoke("sites", "validate", "sites.csv", "--scenario", "base")
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3, result.output
    assert lines[0] == ("sites.csv: row 4 (Atlanta), field max_halls: 3 halls of 30 IT MW need 126 grid MW at 1.4 "
                        "grid MW per IT MW (scenario base) but the site has 100 MW of firm power; allowed: at most 2 "
                        "halls.")  # 3 x 30 x 1.4 = 126 > 100; floor(100 / 42) = 2
    for line, market, site in zip(lines[1:], ("PA", "NYC"), ("Pittsburgh", "Albany")):
        assert line.startswith(f"scenario base, field market_absorption_it_mw_per_quarter: no entry for market "
                               f"'{market}' of the AI-eligible site {site} (sites.csv); ")
        assert f"add --set market_absorption_it_mw_per_quarter.{market}=100, or the TOML line {market} = 100 under " \
               "[market_absorption_it_mw_per_quarter] in a scenario file that extends base" in line
    # the fixes the sentences name do fix it: --set ...
    sets = ["--set", "market_absorption_it_mw_per_quarter.PA=100", "--set", "market_absorption_it_mw_per_quarter.NYC=100"]
    result = invoke("sites", "validate", "sites.csv", *sets)
    assert result.output.strip().splitlines() == lines[:1]  # only the hall misfit is left
    # ... or the TOML lines in a scenario that extends base
    assert invoke("scenarios", "new", "east").exit_code == 0
    with open("east.toml", "a") as toml:
        toml.write("[market_absorption_it_mw_per_quarter]\nPA = 100\nNYC = 100\n")
    (tmp_path / "sites.csv").write_text(MISFITS.replace("100,2025Q1,true,30,3,56", "100,2025Q1,true,30,2,56"))
    result = invoke("sites", "validate", "sites.csv", "--scenario", "east.toml")
    assert result.exit_code == 0, result.output
    assert "Fits scenario east.toml, 2027Q1-2036Q4: every AI market has market absorption (GA, NYC, PA)" in \
        " ".join(result.stdout.split())
    result = invoke("sites", "validate", "sites.csv")  # without --scenario: base
    assert result.exit_code == 2 and result.output.strip().splitlines() == lines[1:]
