"""Scenario analysis: bundled scenarios, compare (= separate solves), regret, sweeps on Dask, tornado."""

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from models.scenario import list_scenarios, load_scenario, resolve_scenario
from optimizer.cli import app
from sites.load import REFERENCE_PORTFOLIO

BUNDLED = {"base", "bear", "bull", "ai-demand-shortfall", "halving-shock", "carbon-scrutiny", "tight-liquidity"}


@pytest.fixture(scope="module")
def small_sites(tmp_path_factory) -> Path:
    """Three reference sites: one AI retrofit with mining, one mining-only, one small AI site."""
    lines = REFERENCE_PORTFOLIO.read_text().splitlines()
    keep = [lines[0]] + [l for l in lines[1:] if l.split(",")[0] in ("Sandersville", "Norcross", "College Park I")]
    path = tmp_path_factory.mktemp("sites") / "small.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


def cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result


def test_every_bundled_scenario_resolves_with_its_sources():
    assert {name for name, _, _ in list_scenarios()} == BUNDLED
    for name in BUNDLED:
        load_scenario(name)
    bear, sources = resolve_scenario("bear", ("lease_usd_per_kw_month=160",))
    assert bear.btc_price_usd_2026 == 60_000 and bear.btc_price_growth_per_yr == 0
    assert sources["btc_price_usd_2026"].endswith("bear.toml")
    assert sources["quarter_days"].endswith("base.toml")
    assert sources["lease_usd_per_kw_month"] == "--set lease_usd_per_kw_month=160"
    assert load_scenario("ai-demand-shortfall").market_absorption_it_mw_per_quarter == {"GA": 33.3, "TX": 100}
    scrutiny = load_scenario("carbon-scrutiny")
    assert scrutiny.carbon_cap_tco2(2030) == pytest.approx(0.7 * scrutiny.carbon_cap_tco2(2027))
    assert scrutiny.carbon_cap_tco2(2036) == pytest.approx(0.7 * scrutiny.carbon_cap_tco2(2027))


def test_scenarios_list_and_show():
    assert "tight-liquidity" in cli("scenarios", "list").stdout
    shown = cli("scenarios", "show", "bear").stdout
    assert "btc_price_usd_2026" in shown and "bear.toml" in shown


def test_extends_a_missing_scenario_is_one_sentence(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('extends = "nonesuch"\n')
    result = CliRunner().invoke(app, ["solve", "--scenario", str(child), "--out", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{child}: field extends: scenario 'nonesuch' does not exist."


def test_compare_kpis_equal_separate_solves(tmp_path, small_sites):
    out = tmp_path / "compare.xlsx"
    cli("compare", "base", "bear", "bull", "--sites", str(small_sites), "--out", str(out), "--workers", "2")
    kpis = pd.read_excel(out, sheet_name="KPIs").set_index("kpi")
    for name in ("base", "bear", "bull"):
        solo = json.loads(cli("solve", "--scenario", name, "--sites", str(small_sites), "--json",
                              "--threads", "1", "--out", str(tmp_path / f"{name}.xlsx")).stdout)
        assert float(kpis.at["npv_usd", name]) == pytest.approx(solo["npv_usd"], rel=1e-9)
        assert int(kpis.at["ai_halls_built", name]) == solo["ai_halls_built"]
    assert set(openpyxl.load_workbook(out, read_only=True).sheetnames) == {"KPIs", "MWByYear", "BuildDifferences"}


def test_regret_of_fixing_the_first_year(tmp_path, small_sites):
    """Without the DSCR covenant (with it, base's first-year builds break 1.30x in bear: reported infeasible)."""
    out = tmp_path / "regret.xlsx"
    cli("compare", "base", "bear", "--fix-first-year", "base", "--sites", str(small_sites), "--out", str(out),
        "--workers", "1", "--set", "covenant_dscr_min=0")
    regret = pd.read_excel(out, sheet_name="Regret").set_index("scenario")
    assert regret.at["base", "regret_usd"] == pytest.approx(0, abs=1e-3 * abs(regret.at["base", "own_optimum_npv_usd"]))
    assert regret.at["bear", "regret_usd"] >= -1e-3 * abs(regret.at["bear", "own_optimum_npv_usd"])


def test_sweep_on_a_dask_cluster_matches_the_local_run(tmp_path, small_sites):
    distributed = pytest.importorskip("dask.distributed")
    args = ["sweep", "--vary", "btc_price_usd_2026=60000:120000:2", "--vary", "lease_usd_per_kw_month=130:170:2",
            "--sites", str(small_sites)]
    cli(*args, "--out", str(tmp_path / "local.xlsx"), "--workers", "1")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        cli(*args, "--out", str(tmp_path / "dask.xlsx"), "--dask", cluster.scheduler_address)
    local = pd.read_excel(tmp_path / "local.xlsx")
    remote = pd.read_excel(tmp_path / "dask.xlsx")
    assert len(local) == 4
    assert list(remote["npv_usd"]) == pytest.approx(list(local["npv_usd"]), rel=1e-9)


def test_tornado_writes_the_sheet_and_the_chart(tmp_path, small_sites):
    out = tmp_path / "tornado.xlsx"
    cli("tornado", "--keys", "btc_price_usd_2026,lease_usd_per_kw_month", "--sites", str(small_sites),
        "--out", str(out), "--workers", "2")
    table = pd.read_excel(out)
    assert list(table["key"]) == ["lease_usd_per_kw_month", "btc_price_usd_2026"]  # sorted by swing
    assert (table["npv_high_usd"] > table["npv_low_usd"]).all()
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_vary_is_one_sentence(tmp_path):
    result = CliRunner().invoke(app, ["sweep", "--vary", "btc_price_usd_2026=lots", "--out", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    assert "expected KEY=LOW:HIGH:N" in result.stderr
    assert not (tmp_path / "s.xlsx").exists()
