"""Shared helpers: tiny site tables and scenarios for hand-computed cases, and a solve shortcut."""

import pandas as pd
import pytest

from models.scenario import load_scenario
from optimizer.data import build_model_data
from optimizer.results import extract_plan
from optimizer.solve import SolveOptions, build_and_solve
from sites.load import validate_sites

SITE_DEFAULTS = {
    "name": "Alpha", "state": "GA", "lat": 33.0, "lon": -84.0, "secured_mw": 100, "energised_quarter": "2020Q1",
    "egrid_subregion": "SRSO", "ai_eligible": "false", "mining_allowed": "true", "build_type": "retrofit",
    "hall_it_mw": 0, "max_halls": 0, "site_opening_cost_usd": 0, "power_usd_per_mwh_2026": 50, "market": "GA",
}


def make_sites(*rows: dict) -> pd.DataFrame:
    """A validated site table from partial rows (missing fields take SITE_DEFAULTS)."""
    raw = pd.DataFrame([{k: str(v) for k, v in {**SITE_DEFAULTS, **row}.items()} for row in rows])
    return validate_sites(raw, source="test")


def make_scenario(**values):
    """The base scenario with some values replaced."""
    return load_scenario().with_values(**values)


def solve_plan(sites: pd.DataFrame, scenario, gap: float = 1e-9):
    """Build, solve and extract a plan (tight gap so tiny optima are exact)."""
    data = build_model_data(sites, scenario)
    model, info = build_and_solve(data, SolveOptions(gap=gap, threads=1))
    return extract_plan(model, data, info), model


@pytest.fixture(scope="session")
def reference_plan():
    """The bundled reference portfolio solved with the base scenario."""
    from sites.load import load_sites
    return solve_plan(load_sites(), load_scenario(), gap=1e-3)[0]
