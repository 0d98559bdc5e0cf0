"""Bad input: one sentence naming the file and field, exit code 2, no traceback, nothing written."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.scenario import BASE_SCENARIO
from optimizer.cli import app
from sites.load import REFERENCE_PORTFOLIO


def solve(tmp_path: Path, *args: str):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(app, ["solve", "--out", str(out), *args])
    return result, out


def edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1))
    return path


def assert_clean_failure(result, out: Path, *fragments: str) -> None:
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in message, message
    assert not out.exists()
    assert not list(out.parent.glob(".plan.xlsx.*"))


def test_unknown_scenario_key_in_file(tmp_path):
    scenario = edited(tmp_path, BASE_SCENARIO, "quarter_days = 91.3", "quarter_days = 91.3\nhashprice_fudge = 2")
    result, out = solve(tmp_path, "--scenario", str(scenario))
    assert_clean_failure(result, out, str(scenario), "unknown scenario key 'hashprice_fudge'")


def test_unknown_scenario_key_in_set(tmp_path):
    result, out = solve(tmp_path, "--set", "btc_moon=1")
    assert_clean_failure(result, out, "--set btc_moon=1", "unknown scenario key 'btc_moon'")


def test_missing_scenario_key(tmp_path):
    scenario = edited(tmp_path, BASE_SCENARIO, "quarter_days = 91.3\n", "")
    result, out = solve(tmp_path, "--scenario", str(scenario))
    assert_clean_failure(result, out, str(scenario), "missing scenario key 'quarter_days'")


def test_negative_mw_in_site_file(tmp_path):
    sites = edited(tmp_path, REFERENCE_PORTFOLIO, "Norcross,GA,33.941,-84.214,20,", "Norcross,GA,33.941,-84.214,-20,")
    result, out = solve(tmp_path, "--sites", str(sites))
    assert_clean_failure(result, out, str(sites), "row 4 (Norcross)", "field secured_mw", "-20 is negative")


def test_bad_quarter_label_in_site_file(tmp_path):
    sites = edited(tmp_path, REFERENCE_PORTFOLIO, "2023Q3", "2027Q5")
    result, out = solve(tmp_path, "--sites", str(sites))
    assert_clean_failure(result, out, str(sites), "(Washington)", "field energised_quarter", "'2027Q5'")


def test_bad_quarter_label_in_scenario(tmp_path):
    scenario = edited(tmp_path, BASE_SCENARIO, 'first_halving_quarter = "2028Q2"', 'first_halving_quarter = "2027Q5"')
    result, out = solve(tmp_path, "--scenario", str(scenario))
    assert_clean_failure(result, out, str(scenario), "field first_halving_quarter", "'2027Q5' is not a quarter label")


@pytest.mark.parametrize("args, fragments", [
    (["--set", "btc_price_usd_2026=lots"], ["--set", "field btc_price_usd_2026", "'lots' is not a number"]),
    (["--set", "mining_pue=0.5"], ["field mining_pue", "below the allowed minimum 1"]),
    (["--set", "horizon_end=2036Q5"], ["field horizon_end", "'2036Q5' is not a quarter label"]),
    (["--set", "market_absorption_it_mw_per_quarter=5"], ["is a table"]),
])
def test_bad_set_values(tmp_path, args, fragments):
    result, out = solve(tmp_path, *args)
    assert_clean_failure(result, out, *fragments)


def test_non_numeric_value_in_site_file(tmp_path):
    sites = edited(tmp_path, REFERENCE_PORTFOLIO, "Cheyenne,WY,41.140,-104.820,75,", "Cheyenne,WY,41.140,-104.820,lots,")
    result, out = solve(tmp_path, "--sites", str(sites))
    assert_clean_failure(result, out, "(Cheyenne)", "field secured_mw", "'lots' is not a number")


def test_every_problem_of_a_site_file_is_reported(tmp_path):
    sites = edited(tmp_path, REFERENCE_PORTFOLIO, "Norcross,GA,33.941,-84.214,20,2021Q4",
                   "Norcross,GA,33.941,-84.214,-20,2021Q7")
    result, out = solve(tmp_path, "--sites", str(sites))
    assert_clean_failure(result, out, "field secured_mw", "field energised_quarter")
    assert len(result.stderr.strip().splitlines()) == 2  # one line per problem


def test_hall_that_does_not_fit_is_an_error(tmp_path):
    sites = edited(tmp_path, REFERENCE_PORTFOLIO, "retrofit,50,3,", "retrofit,50,4,")
    result, out = solve(tmp_path, "--sites", str(sites))
    assert_clean_failure(result, out, "site Sandersville", "field max_halls", "at most 3 halls")


def test_missing_site_file(tmp_path):
    result, out = solve(tmp_path, "--sites", str(tmp_path / "nope.csv"))
    assert_clean_failure(result, out, "nope.csv", "does not exist")


def test_existing_plan_untouched_on_bad_input(tmp_path):
    out = tmp_path / "plan.xlsx"
    out.write_bytes(b"previous plan")
    result, _ = solve(tmp_path, "--set", "btc_price_usd_2026=-5")
    assert result.exit_code == 2
    assert out.read_bytes() == b"previous plan"


def test_scenario_extends_chain(tmp_path):
    child = tmp_path / "bear.toml"
    child.write_text('extends = "base"\nbtc_price_usd_2026 = 60000\nbtc_price_growth_per_yr = 0.0\n')
    result, out = solve(tmp_path, "--scenario", str(child), "--json")
    assert result.exit_code == 0, result.stderr
    loop = tmp_path / "loop.toml"
    loop.write_text(f'extends = "{loop}"\n')
    result, out = solve(tmp_path / "x", "--scenario", str(loop))
    assert result.exit_code == 2 and "loops back" in result.stderr
