"""The one pipeline behind every entry point: the Python API, `solve`, the runs of compare/sweep/tornado."""

import json

import pytest
from typer.testing import CliRunner

from kernel.errors import InputError
from optimizer import pipeline
from optimizer.cli import app
from optimizer.runs import Case, run_case
from sites.load import REFERENCE_PORTFOLIO


@pytest.fixture(scope="module")
def small_sites(tmp_path_factory):
    lines = REFERENCE_PORTFOLIO.read_text().splitlines()
    keep = [lines[0]] + [line for line in lines[1:] if line.split(",")[0] in ("Sandersville", "Norcross")]
    path = tmp_path_factory.mktemp("sites") / "small.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


@pytest.fixture(scope="module")
def outcome(small_sites):
    return pipeline.solve(pipeline.Request(sites=str(small_sites), threads=1, marginals=False))


def test_the_api_solves_and_checks_a_portfolio(outcome):
    assert outcome.info.status == "optimal" and outcome.violations == []
    assert outcome.plan.kpis["check_violations"] == 0
    assert outcome.plan.kpis["npv_usd"] == pytest.approx(outcome.plan.kpis["npv_from_cashflow_usd"], rel=1e-9)


def test_the_cli_and_a_run_give_the_api_s_plan(outcome, small_sites, tmp_path):
    result = CliRunner().invoke(app, ["solve", "--sites", str(small_sites), "--threads", "1", "--json",
                                      "--out", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["npv_usd"] == pytest.approx(outcome.plan.kpis["npv_usd"], rel=1e-9)
    run = run_case(Case("small", outcome.request))
    assert run.kpis["npv_usd"] == pytest.approx(outcome.plan.kpis["npv_usd"], rel=1e-9)


def test_keeping_a_plan_s_own_first_year_keeps_its_optimum(outcome):
    decisions = pipeline.first_year(outcome)
    assert decisions and all(len(d) == 3 for d in decisions)
    assert {name for name, _, _ in decisions} >= {"halls_started", "site_open"}
    again = pipeline.solve(outcome.request.but(fixed=decisions))
    assert again.plan.kpis["npv_usd"] == pytest.approx(outcome.plan.kpis["npv_usd"], rel=2e-3)
    assert pipeline.first_year(again) == decisions


def test_bad_input_stops_in_prepare_before_any_model_is_built(small_sites):
    with pytest.raises(InputError, match="btc_price_usd_2026"):
        pipeline.prepare(pipeline.Request(sites=str(small_sites), overrides=("btc_price_usd_2026=lots",)))
