"""Shared helpers: tiny site tables and scenarios for hand-computed cases, and a solve shortcut."""

import json
import os

import pandas as pd
import pytest
from hypothesis import settings
from typer.testing import CliRunner

from models.scenario import load_scenario
from optimizer.cli import app
from optimizer.data import build_model_data
from optimizer.results import extract_plan
from optimizer.solve import SolveOptions, build_and_solve
from kernel.errors import InputError
from sites.load import REFERENCE_PORTFOLIO, load_sites, validate_sites

# Property tests draw the same examples on every run, so that CI cannot fail on a draw no one can repeat;
# HYPOTHESIS_PROFILE=explore draws fresh ones (add what they find as @example).
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def pytest_addoption(parser):
    parser.addoption("--update-expected", action="store_true",
                     help="Rewrite tests/expected/ from this run's solves of the bundled scenarios.")

SITE_DEFAULTS = {
    "name": "Alpha", "state": "GA", "lat": 33.0, "lon": -84.0, "secured_mw": 100, "energised_quarter": "2020Q1",
    "egrid_subregion": "SRSO", "ai_eligible": "false", "mining_allowed": "true", "build_type": "retrofit",
    "hall_it_mw": 0, "max_halls": 0, "site_opening_cost_usd": 0, "power_usd_per_mwh_2026": 50, "market": "GA",
}


def make_sites(*rows: dict) -> pd.DataFrame:
    """A validated site table from partial rows (missing fields take SITE_DEFAULTS)."""
    raw = pd.DataFrame([{k: str(v) for k, v in {**SITE_DEFAULTS, **row}.items()} for row in rows])
    return validate_sites(raw, source="test")


# Money and carbon families switched off, so that a tiny case isolates the family it tests.
NEUTRAL_MONEY = dict(
    utilization_min_share=0.0, opening_cash_usd=0.0, cash_floor_usd=float("-inf"), loan_to_cost=0.0,
    revolver_limit_usd=0.0, equity_max_usd_per_quarter=0.0, tax_rate=0.0, carbon_price_usd_per_t=0.0,
    carbon_cap_tco2_per_year=float("inf"), carbon_intensity_cap_tco2_per_mwh=float("inf"),
    certificate_limit_mwh_per_year=0.0, covenant_dscr_min=0.0,
)


# Mining as in v1 for the families that are not about the fleet: an exogenous hashrate path (no feedback, the
# halving dip in its quarter only), no ASIC purchases, the existing fleet alive through any test horizon.
# The mining tests switch these back on (tests/families/test_mining.py, tests/test_economics.py).
NEUTRAL_MINING = dict(hashrate_feedback=0, halving_hashrate_dip=0.95, halving_recovery_quarters=1,
                      asic_purchase_max_ths_per_quarter=0.0, fleet_retire_quarter="2099Q4")


# One lease path for every MW, as in v1, for the families that are not about lease cohorts: with the contract
# escalator equal to the market growth a cohort's rate is the market rate of every quarter (leasing.py X7).
NEUTRAL_LEASES = dict(lease_escalator_per_yr=0.02, lease_market_growth_per_yr=0.02)


def make_scenario(**values):
    """The base scenario with the money, carbon, fleet and lease-cohort families neutral and some values replaced."""
    return load_scenario().with_values(**{**NEUTRAL_MONEY, **NEUTRAL_MINING, **NEUTRAL_LEASES, **values})


def solve_plan(sites: pd.DataFrame, scenario, gap: float = 1e-9):
    """Build, solve and extract a plan (tight gap so tiny optima are exact)."""
    return solve_data(build_model_data(sites, scenario), gap)


def solve_data(data, gap: float = 1e-9):
    """(plan, model) for model data already built."""
    model, info = build_and_solve(data, SolveOptions(gap=gap, threads=1))
    return extract_plan(model, data, info), model


# Tiny hand-computed cases: 2027Q1-2028Q4 (T = 8), 4 terminal quarters, a lease that pays back within it.
SHORT = dict(horizon_start="2027Q1", horizon_end="2028Q4", terminal_quarters=4, lease_usd_per_kw_month=1500.0)


def solve_case(sites: pd.DataFrame, **values):
    """make_scenario(**SHORT, **values) solved exactly: (plan, ModelData) for the hand formulas."""
    data = build_model_data(sites, make_scenario(**{**SHORT, **values}))
    return solve_data(data)[0], data


def site_column(plan, site: str, column: str) -> list:
    """One site's schedule column, quarter by quarter."""
    s = plan.schedule
    return list(s[s["site"] == site][column])


# Site files: a CSV written from text rows, and the problems loading it reports.
HORIZON = ("2027Q1", "2036Q4")
SITE_COLUMNS = "name,state,lat,lon,secured_mw,energised_quarter,power_usd_per_mwh_2026"


def write_csv(tmp_path, *rows: str, columns: str = SITE_COLUMNS, name: str = "sites.csv"):
    path = tmp_path / name
    path.write_text("\n".join([columns, *rows]) + "\n")
    return path


def problems_of(path, horizon=HORIZON) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_sites(path, horizon)
    return caught.value.problems


def invoke(*args):
    """The CLI run in-process with `args` (any objects, as text)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def solve_json(*args) -> dict:
    """`hashpivot solve --threads 1 --json ARGS`, which must succeed: its KPIs."""
    result = invoke("solve", "--threads", "1", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def reference_plan():
    """The bundled reference portfolio solved with the base scenario."""
    return solve_plan(load_sites(), load_scenario(), gap=1e-3)[0]


@pytest.fixture(scope="session")
def solved(tmp_path_factory):
    """One CLI solve of the reference portfolio read from its GeoPackage: (folder with plan.xlsx and
    plan.gpkg, KPIs)."""
    folder = tmp_path_factory.mktemp("solved")
    result = CliRunner().invoke(app, ["solve", "--sites", str(REFERENCE_PORTFOLIO.with_suffix(".gpkg")), "--out",
                                      str(folder / "plan.xlsx"), "--gpkg", str(folder / "plan.gpkg"),
                                      "--threads", "1", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    return folder, json.loads(result.stdout)
