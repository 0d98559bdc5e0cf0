"""Regression on the shipped cases (Switch style): every bundled scenario on the reference portfolio.

`tests/expected/scenarios.json` holds, per scenario, the NPV, the bound, the MIP gap, the AI halls and the
first and last hall start of a `--threads 1` solve at gap GAP. A new solve agrees when its [NPV, bound]
interval overlaps the recorded one (both contain the true optimum, so intervals that do not overlap mean
the optimum moved) and the halls and start quarters match. `pytest --update-expected` rewrites the file
(review the diff: it is the behaviour change); the README's scenario table is generated from it.
"""

import json
from pathlib import Path

import pytest

from models.scenario import list_scenarios, load_scenario
from optimizer.data import build_model_data
from optimizer.results import extract_plan
from optimizer.solve import SolveOptions, build_and_solve
from sites.load import load_sites

EXPECTED = Path(__file__).parent / "expected" / "scenarios.json"
GAP = 1e-3
SCENARIOS = [name for name, _, _ in list_scenarios()]


# The base plan under the v1 objective (every flow at the discount rate), as recorded before the APV objective
# became the default (issue 14): valuation = "levered" must reproduce it, with v1's lease terms (the 2%/yr
# escalator was also the market path) and no covenant.
V1 = ("valuation=levered", "lease_escalator_per_yr=0.02", "covenant_dscr_min=0")
LEVERED_V1 = {"ai_halls_built": 10, "bound_usd": 1527962563.02, "first_ai_start_quarter": "2027Q1",
              "last_ai_start_quarter": "2030Q3", "npv_usd": 1526564731.63}


def pinned(name: str, overrides: tuple = ()) -> dict:
    """The pinned figures of one bundled scenario, solved here."""
    data = build_model_data(load_sites(), load_scenario(name, overrides))
    model, info = build_and_solve(data, SolveOptions(gap=GAP, threads=1))
    builds = extract_plan(model, data, info, marginals=False).builds
    return {"npv_usd": round(info.npv_usd, 2), "bound_usd": round(info.bound_usd, 2), "mip_gap": info.mip_gap,
            "ai_halls_built": len(builds),
            "first_ai_start_quarter": builds["start_quarter"].min() if len(builds) else None,
            "last_ai_start_quarter": builds["start_quarter"].max() if len(builds) else None}


def agree(expected: dict, now: dict) -> bool:
    """The two [NPV, bound] intervals overlap (within a cent)."""
    return now["npv_usd"] <= expected["bound_usd"] + 0.01 and expected["npv_usd"] <= now["bound_usd"] + 0.01


@pytest.fixture(scope="module")
def expected(request):
    update = request.config.getoption("--update-expected")
    recorded = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    yield recorded
    if update:
        EXPECTED.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


@pytest.mark.parametrize("name", SCENARIOS)
def test_bundled_scenario_matches_expected(name, expected, request):
    now = pinned(name)
    if request.config.getoption("--update-expected"):
        expected[name] = now
        return
    assert name in expected, f"{name} is not in {EXPECTED.name}: run pytest --update-expected"
    was = expected[name]
    assert agree(was, now), (f"{name}: NPV ${now['npv_usd']:,.0f} (bound ${now['bound_usd']:,.0f}) does not "
                             f"overlap the expected ${was['npv_usd']:,.0f} (bound ${was['bound_usd']:,.0f})")
    for key in ("ai_halls_built", "first_ai_start_quarter", "last_ai_start_quarter"):
        assert now[key] == was[key], f"{name}: {key} {now[key]} differs from the expected {was[key]}"


def test_levered_valuation_reproduces_the_v1_objective():
    """valuation = "levered" is the v1 objective: the base plan's [NPV, bound] overlaps the v1 record."""
    now = pinned("base", V1)
    assert agree(LEVERED_V1, now), f"levered NPV ${now['npv_usd']:,.0f} (bound ${now['bound_usd']:,.0f})"
    assert [now[k] for k in ("ai_halls_built", "first_ai_start_quarter", "last_ai_start_quarter")] == [
        LEVERED_V1[k] for k in ("ai_halls_built", "first_ai_start_quarter", "last_ai_start_quarter")]


def test_expected_file_lists_every_bundled_scenario():
    assert sorted(json.loads(EXPECTED.read_text())) == sorted(SCENARIOS)
