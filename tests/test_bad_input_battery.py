"""A generated battery of bad inputs (over 1,000 cases): every one is a clean `InputError` (one line, no
traceback) or, through the CLI, exit 2 with one sentence and nothing written; nothing meaningless (an
infinite or astronomically large number, a NaN, text where a number belongs) is ever accepted.

Cases: every site field x {missing column, blank, text, negative, NaN, inf, 1e308, wrong type}; every
scenario key (table entries too) x {text, blank, NaN, inf, -inf, 1e308, -1e308, a bad quarter} as `--set`
and as a TOML file; damaged site files of each format; a CLI sample of each kind with unwritable outputs.
"""

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kernel.errors import InputError
from models.scenario import SCENARIO_FIELDS, load_scenario
from optimizer.cli import app
from optimizer.data import build_model_data
from sites.convert import write_sites
from sites.load import REFERENCE_PORTFOLIO, load_sites
from sites.schema import SITE_FIELDS

BASE = load_scenario()
ROW = {"name": "Alpha", "state": "GA", "lat": "33.0", "lon": "-84.0", "secured_mw": "100",
       "energised_quarter": "2020Q1", "power_class": "firm", "power_steps": "", "egrid_subregion": "SRSO",
       "grid_tco2_per_mwh": "", "ai_eligible": "true", "mining_allowed": "true", "build_type": "retrofit",
       "hall_it_mw": "20", "max_halls": "2", "site_opening_cost_usd": "0", "power_usd_per_mwh_2026": "50",
       "market": "GA", "committed_halls": "0", "committed_start_quarter": "", "mining_commitment_it_mw": "0",
       "mining_commitment_end_quarter": "", "fleet_ths": "", "fleet_j_per_th": "", "fleet_retire_quarter": "",
       "flex_usd_per_mw_yr": "", "curtailed_share": "", "flex_firm_opt_in": "false", "power_resale_usd_per_mwh": "0",
       "building_halls": "0", "building_spent_usd": "0", "building_remaining_usd": "0", "building_online_quarter": ""}
SITE_VALUES = {"blank": "", "text": "abc", "negative": "-5", "nan": "nan", "inf": "inf", "huge": "1e308"}
WRONG_TYPE = {"number": "12,5", "integer": "1.5", "bool": "maybe", "quarter": "2027Q5", "choice": "sometimes",
              "text": ";"}
MEANINGLESS = ("nan", "inf", "huge", "text")  # never acceptable for a number


def one_line(problem: InputError) -> None:
    text = str(problem)
    assert "\n" not in text and "Traceback" not in text and len(text) < 2000, text


def site_cases():
    for f in SITE_FIELDS:
        yield f.name, "missing", None
        for kind, value in SITE_VALUES.items():
            yield f.name, kind, value
        yield f.name, "wrong type", WRONG_TYPE[f.kind]


@pytest.mark.parametrize("field,kind,value", list(site_cases()))
def test_a_bad_site_cell_is_one_clean_sentence(tmp_path, field, kind, value):
    row = dict(ROW)
    if value is None:
        del row[field]
    else:
        row[field] = value
    path = tmp_path / "sites.csv"
    pd.DataFrame([row]).to_csv(path, index=False)
    try:
        table = load_sites(path, BASE.horizon)
        build_model_data(table, BASE)
    except InputError as problem:
        one_line(problem)
        return
    number_field = next(f for f in SITE_FIELDS if f.name == field).kind in ("number", "integer")
    assert not (number_field and kind in MEANINGLESS), f"{field}={value!r} was accepted"


def scenario_keys():
    for name, f in SCENARIO_FIELDS.items():
        value = getattr(BASE, name)
        yield from ([f"{name}.{next(iter(value))}"] if isinstance(value, dict) and value else
                    [] if isinstance(value, dict) else [name])


SCENARIO_VALUES = {"text": "lots", "blank": "", "nan": "nan", "inf": "inf", "-inf": "-inf", "huge": "1e308",
                   "-huge": "-1e308", "bad quarter": "2027Q5"}


def accepted_ok(key: str, kind: str, scenario) -> bool:
    """An accepted value must mean something: finite (or an infinity the key defines), inside the range."""
    name, _, sub = key.partition(".")
    f = SCENARIO_FIELDS[name]
    value = getattr(scenario, name)
    value = value[sub] if sub else value
    if isinstance(value, str):
        return kind not in ("text", "nan", "inf", "bad quarter", "huge")
    return (math.isfinite(value) or f.metadata["infinite"]) and kind not in ("text", "nan", "blank", "bad quarter")


@pytest.mark.parametrize("key", list(scenario_keys()))
@pytest.mark.parametrize("kind", list(SCENARIO_VALUES))
def test_a_bad_set_value_is_one_clean_sentence(key, kind):
    try:
        scenario = load_scenario("base", (f"{key}={SCENARIO_VALUES[kind]}",))
    except InputError as problem:
        one_line(problem)
        assert str(problem).startswith("--set"), str(problem)
        return
    assert accepted_ok(key, kind, scenario), f"--set {key}={SCENARIO_VALUES[kind]} was accepted"


@pytest.mark.parametrize("key", [k for k in scenario_keys() if "." not in k])
@pytest.mark.parametrize("toml_value", ['"lots"', "true", "[1, 2]", "nan", "inf"])
def test_a_bad_value_in_a_scenario_file_is_one_clean_sentence(tmp_path, key, toml_value):
    path = tmp_path / "mine.toml"
    path.write_text(f'extends = "base"\n{key} = {toml_value}\n')
    try:
        scenario = load_scenario(path)
    except InputError as problem:
        one_line(problem)
        assert str(path) in str(problem)
        return
    assert accepted_ok(key, {"inf": "inf", "nan": "nan"}.get(toml_value, "text"), scenario), f"{key} = {toml_value}"


def damaged_files(folder: Path):
    table = load_sites()
    for suffix in (".csv", ".xlsx", ".geojson", ".gpkg"):
        good = folder / f"good{suffix}"
        write_sites(table, good)
        data = good.read_bytes()
        yield f"empty{suffix}", b""
        yield f"garbage{suffix}", bytes(range(256)) * 8
        yield f"truncated{suffix}", data[: data.index(b"\n") + 12] if suffix == ".csv" else data[: len(data) // 2]
        yield f"text{suffix}", b"this is not a site file\n"
        yield f"wrong-format{suffix}", REFERENCE_PORTFOLIO.read_bytes() if suffix != ".csv" else b"PK\x03\x04" + data[4:]
        yield f"header-only{suffix}", (b"name,lat\n" if suffix == ".csv" else data[:64])


DAMAGED = [name for name, _ in damaged_files(Path(__import__("tempfile").mkdtemp()))]


@pytest.mark.parametrize("name", DAMAGED)
def test_a_damaged_site_file_is_one_clean_sentence(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(dict(damaged_files(tmp_path))[name])
    with pytest.raises(InputError) as caught:
        load_sites(path)
    one_line(caught.value)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("name", ["missing.csv", "folder.csv", "sites.txt"])
def test_a_site_path_that_is_not_a_site_file(tmp_path, name):
    path = tmp_path / name
    if name == "folder.csv":
        path.mkdir()
    if name == "sites.txt":
        shutil.copy(REFERENCE_PORTFOLIO, path)
    with pytest.raises(InputError) as caught:
        load_sites(path)
    one_line(caught.value)


CLI_CASES = [
    ["--set", "btc_price_usd_2026=inf"], ["--set", "cash_floor_usd=1e300"], ["--set", "horizon_end=2099Q4"],
    ["--set", "lease_usd_per_kw_month=nan"], ["--set", "market_absorption_it_mw_per_quarter.GA=-1"],
    ["--set", "discount_rate_per_yr=-0.5"], ["--set", "max_ai_start_it_mw_per_quarter=-1"], ["--gap", "1"],
    ["--scenario", "nosuch"], ["--sites", "nosuch.csv"], ["--out", "/proc/plan.xlsx"], ["--out", "plan.txt"],
    ["--json-out", "/proc/k.json"], ["--gpkg", "/proc/p.gpkg"], ["--csv", "/proc/tables"], ["--gpkg", "plan.shp"],
]


@pytest.mark.parametrize("args", CLI_CASES, ids=lambda a: " ".join(a))
def test_the_cli_answers_each_kind_with_exit_2_and_one_sentence(tmp_path, args, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["solve", "--out", str(tmp_path / "plan.xlsx"), *args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert [p for p in tmp_path.iterdir()] == []
