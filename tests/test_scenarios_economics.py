"""`hashpivot scenarios economics`: the market and this portfolio's hashcosts per horizon quarter, printed and
written as CSV (models/economics.py economics_table)."""

import re

import pandas as pd
import pytest

from kernel.quarters import quarter_range
from models.economics import ECONOMICS_COLUMNS, economics_table, quarter_table
from models.scenario import load_scenario
from optimizer.data import build_values
from sites.load import REFERENCE_PORTFOLIO, load_sites
from tests.conftest import invoke

HEADERS = ("quarter", "BTC", "$/BTC", "network", "EH/s", "hashprice", "$/PH/day", "hashcost", "frontier", "J/TH",
           "ASIC", "$/TH", "fleet", "refresh")
ROW = re.compile(r"^(\d{4}Q[1-4])\s")


def csv_of(tmp_path, name: str, *args) -> pd.DataFrame:
    """`scenarios economics ARGS --csv FILE`, which must succeed: the CSV read back (index: quarter)."""
    path = tmp_path / f"{name}.csv"
    result = invoke("scenarios", "economics", *args, "--csv", path)
    assert result.exit_code == 0, result.output
    return pd.read_csv(path, index_col="quarter")


def assert_one_sentence(result, *fragments: str) -> None:
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message


def test_prints_one_row_per_horizon_quarter_with_the_headers():
    result = invoke("scenarios", "economics", "base")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = [m.group(1) for m in map(ROW.match, lines) if m]
    base = load_scenario("base")
    assert rows == quarter_range(*base.horizon)
    head = "\n".join(lines[:lines.index(next(l for l in lines if ROW.match(l)))])
    for header in HEADERS:
        assert header in head, head
    assert max(len(line) for line in lines if ROW.match(line)) <= 80  # fits a plain 80-column terminal


def test_csv_equals_economics_table_and_its_hashprice_the_quarter_table(tmp_path):
    written = csv_of(tmp_path, "bear", "bear", "--sites", REFERENCE_PORTFOLIO)
    sc = load_scenario("bear")
    sites = load_sites(REFERENCE_PORTFOLIO, sc.horizon)
    expected = economics_table(pd.concat([sites, build_values(sites, sc)], axis=1), sc)
    assert list(written.columns) == list(ECONOMICS_COLUMNS)
    assert list(written.index) == quarter_range(*sc.horizon)
    pd.testing.assert_frame_equal(written, expected, check_exact=False, rtol=1e-12, check_names=False)
    market = quarter_table(sc, quarter_range(*sc.horizon))
    assert list(written["hashprice_usd_per_ph_day"]) == pytest.approx(list(market["hashprice_usd_per_ph_day"]),
                                                                      rel=1e-12)


def test_an_existing_csv_is_refused_without_force_and_kept(tmp_path):
    path = tmp_path / "economics.csv"
    path.write_text("keep me\n")
    result = invoke("scenarios", "economics", "base", "--csv", path)
    assert_one_sentence(result, str(path), "--force")
    assert path.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["economics.csv"]  # no temp file left
    assert invoke("scenarios", "economics", "base", "--csv", path, "--force").exit_code == 0
    assert pd.read_csv(path).shape[0] == len(quarter_range(*load_scenario("base").horizon))


def test_a_csv_name_without_the_csv_suffix_is_refused(tmp_path):
    assert_one_sentence(invoke("scenarios", "economics", "base", "--csv", tmp_path / "economics.txt"), ".csv")
    assert not list(tmp_path.iterdir())


def test_unknown_scenario_is_one_sentence(tmp_path):
    result = invoke("scenarios", "economics", "nonesuch", "--csv", tmp_path / "e.csv")
    assert_one_sentence(result, "nonesuch", "is not a bundled scenario")
    assert not list(tmp_path.iterdir())


def test_bad_set_and_bad_sites_are_one_sentence(tmp_path):
    assert_one_sentence(invoke("scenarios", "economics", "base", "--set", "hashprice_fudge=2"),
                        "unknown scenario key 'hashprice_fudge'")
    assert_one_sentence(invoke("scenarios", "economics", "base", "--sites", tmp_path / "missing.csv"),
                        "missing.csv")


def test_a_lower_btc_price_lowers_every_hashprice_without_feedback(tmp_path):
    """Without feedback the hashrate path is exogenous, so the hashprice scales with the price: 60/90."""
    off = ("--set", "hashrate_feedback=0")
    before = csv_of(tmp_path, "before", "base", *off)
    after = csv_of(tmp_path, "after", "base", *off, "--set", "btc_price_usd_2026=60000")
    assert (after["hashprice_usd_per_ph_day"] < before["hashprice_usd_per_ph_day"]).all()
    ratio = after["hashprice_usd_per_ph_day"] / before["hashprice_usd_per_ph_day"]
    assert list(ratio) == pytest.approx([60 / 90] * len(ratio), rel=1e-12)


def test_with_feedback_a_lower_btc_price_lowers_the_hashprice_until_the_network_has_shrunk(tmp_path):
    """With feedback (base) a lower price lowers the first quarters' hashprice; miners then leave until the
    hashprice is back at the network's hashcost, so later quarters match the base path (free entry)."""
    before = csv_of(tmp_path, "before", "base")
    after = csv_of(tmp_path, "after", "base", "--set", "btc_price_usd_2026=60000")
    ratio = after["hashprice_usd_per_ph_day"] / before["hashprice_usd_per_ph_day"]
    assert ratio.iloc[0] < 0.95                             # 2027Q1: lower
    assert (after["network_hashrate_ehs"] < before["network_hashrate_ehs"]).all()
    assert list(ratio.iloc[-8:]) == pytest.approx([1.0] * 8, abs=0.01)  # the last two years: the same
