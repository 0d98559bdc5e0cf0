"""Lead time and onboarding ramp family (optimizer/formulation/lead_time.py), proved on hand-computed tiny cases: a
hall started in tau is online from tau + L_s (L1; retrofit L = 2 or 4, greenfield L = 7) and bills 50% of its MW
in its first online quarter, 100% after (L2). The check test proves that `lead_time.check` flags online MW that
differ from the Builds' halls (L1).
"""

import pytest

from optimizer.formulation import lead_time
from tests.conftest import make_sites, solve_case
from tests.conftest import site_column as col
from tests.families.hand import AI, B, HALL, assert_unique, corrupt, hand_optimum, share, solve


def test_lead_time_and_ramp_retrofit_two_halls():
    """L1/L2: lead 2, two halls started 2027Q1 and 2027Q2 (10 MW of starts a quarter): online 2027Q3 and
    2027Q4; first lease quarter t = 2 at 50% of 10 MW; leased 5, 15, then 20 MW."""
    site = {**AI, "max_halls": 2, "secured_mw": 28}
    plan, sc, _ = solve(make_sites(site), max_ai_start_it_mw_per_quarter=10.0, lead_quarters_retrofit=2)
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q2"]
    assert list(plan.builds["online_quarter"]) == ["2027Q3", "2027Q4"]
    assert list(plan.builds["fully_billed_quarter"]) == ["2027Q4", "2028Q1"]
    leased = [B * (share(t - 2 - 0) + share(t - 2 - 1)) for t in range(8)]
    assert leased == [0, 0, 5, 15, 20, 20, 20, 20]
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert col(plan, "Alpha", "ai_it_mw_online") == pytest.approx([0, 0, 10, 20, 20, 20, 20, 20])
    assert list(plan.cashflow["ai_capex_usd"])[:4] == pytest.approx([42.5e6, 85e6, 42.5e6, 0.0], abs=1e-3)
    best, runner_up = hand_optimum(sc, site, lead=2, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0, 1) and best["leased"] == leased
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_lead_time_greenfield_seven_quarters():
    """L1/L2/H4: a greenfield hall (L = 7, $11.5M per IT MW) started 2027Q1 is online 2028Q4 (t = 7), bills
    5 MW there and 10 MW from 2029Q1; capex 115M / 7 = $16.43M a quarter over t = 0..6."""
    site = {**AI, "build_type": "greenfield"}
    plan, sc, _ = solve(make_sites(site), horizon_end="2029Q4")
    assert list(plan.builds["online_quarter"]) == ["2028Q4"]
    leased = [B * share(t - 7) for t in range(12)]
    assert leased == [0] * 7 + [5] + [10] * 4
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert list(plan.cashflow["ai_capex_usd"])[:8] == pytest.approx([115e6 / 7] * 7 + [0.0], rel=1e-9, abs=1e-3)
    best, runner_up = hand_optimum(sc, site, lead=7, capex_per_mw=11.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0,)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


@pytest.fixture(scope="module")
def one_hall():
    """One hall started in 2027Q1, online from 2028Q1 (L = 4)."""
    return solve_case(make_sites(HALL))[0]


def test_check_flags_a_broken_online_capacity(one_hall):
    """L1 check: 10 MW shown online in 2027Q4, a quarter before the lead time ends, is named."""
    assert lead_time.check(one_hall) == []
    broken = corrupt(one_hall, "schedule", 3, "ai_it_mw_online", to=10.0)
    assert lead_time.check(broken) == ["lead time: online MW differ from the Builds' halls at Hall 2027Q4."]
