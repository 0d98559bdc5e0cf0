"""Earliest revenue family (optimizer/formulation/earliest_revenue.py), proved on hand-computed tiny cases: no
lease before the earliest revenue quarter (E1), so that the optimum starts a hall just late enough to be fully
billed from that quarter on. The check test proves that `earliest_revenue.check` flags a lease before that
quarter (E1).
"""

import pytest

from optimizer.formulation import earliest_revenue
from tests.conftest import make_sites, site_column, solve_case
from tests.conftest import site_column as col
from tests.families.hand import AI, HALL, assert_unique, corrupt, hall_npv, hand_optimum, solve


def test_no_lease_revenue_before_the_earliest_revenue_quarter():
    """E1: horizon 2026Q1-2027Q4, lead 2, earliest revenue 2027Q1 (t = 4). The hall starts in 2026Q2
    (t = 1): online 2026Q4 at 50% (blocked), fully billed from 2027Q1 exactly when revenue may start; a
    start at t = 0 leases nothing more and pays capex sooner. Leased 0 at t = 3 although 10 MW are online."""
    plan, sc, _ = solve(make_sites(AI), horizon_start="2026Q1", horizon_end="2027Q4",
                        earliest_ai_revenue_quarter="2027Q1", lead_quarters_retrofit=2)
    assert list(plan.builds["start_quarter"]) == ["2026Q2"]
    assert col(plan, "Alpha", "ai_it_mw_online") == pytest.approx([0, 0, 0, 10, 10, 10, 10, 10])
    leased = col(plan, "Alpha", "ai_it_mw_leased")
    assert leased == pytest.approx([0, 0, 0, 0, 10, 10, 10, 10], abs=1e-6)
    revenue = col(plan, "Alpha", "lease_revenue_usd")
    assert revenue[:4] == pytest.approx([0.0] * 4, abs=1e-6)
    assert revenue[4] == pytest.approx(10 * 1500 * 1000 * 3 * 0.97 * 1.02 ** (4 / 4), rel=1e-12)
    best, runner_up = hand_optimum(sc, AI, lead=2, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (1,)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_earliest_revenue_quarter_delays_the_start():
    """E1: no lease before 2028Q3 (t = 6). A start at t = 1 bills 10 MW from t = 6 as a start at t = 0
    would, with capex one quarter later: the optimum starts in 2027Q2 and leases nothing before t = 6."""
    plan, d = solve_case(make_sites(AI), earliest_ai_revenue_quarter="2028Q3")
    leased = [0] * 6 + [10, 10]
    assert list(plan.builds["start_quarter"]) == ["2027Q2"]
    assert site_column(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 1, leased), rel=1e-9)
    assert plan.kpis["npv_usd"] > hall_npv(d, 0, leased)


@pytest.fixture(scope="module")
def late():
    """No lease before 2028Q3: the hall starts 2027Q2 and leases from 2028Q3 only."""
    return solve_case(make_sites(HALL), earliest_ai_revenue_quarter="2028Q3")[0]


def test_check_flags_a_broken_earliest_revenue(late):
    """E1 check: 5 MW leased in 2028Q2 (the hall is online at 50% there) is named."""
    assert earliest_revenue.check(late) == []
    broken = corrupt(late, "schedule", 5, "ai_it_mw_leased", to=5.0)
    assert earliest_revenue.check(broken) == ["earliest revenue: leases before 2028Q3 at Hall 2028Q2."]
