"""Capex budget family (optimizer/formulation/capex_budget.py), switched on here (the base scenario has no budget),
on hand-computed tiny cases: AI capex plus site opening paid in a quarter stays within the budget (C1), so that
a budget below one hall-quarter builds nothing, a tight one delays the second hall, and the opening cost counts.
The check test proves that `capex_budget.check` flags a quarter paid above the budget (C1).
"""

import pytest

from optimizer.formulation import capex_budget
from tests.conftest import make_scenario, make_sites, solve_case
from tests.families.hand import AI, B, HALL, L, assert_unique, corrupt, hand_optimum, solve


def test_capex_budget_below_one_hall_quarter_builds_nothing():
    """C1: one hall pays c B / L = $21.25M a quarter; a budget $1 below it builds nothing (NPV 0)."""
    plan, _, _ = solve(make_sites(AI), capex_budget_usd_per_quarter=21.25e6 - 1.0)
    assert plan.builds.empty and plan.info.npv_usd == pytest.approx(0.0, abs=1e-3)


def test_capex_budget_delays_the_second_hall():
    """C1: lead 2 -> $42.5M per hall-quarter; a budget of 1.5 * 42.5 = $63.75M lets only one hall pay at a
    time: the first starts 2027Q1 (pays t = 0, 1), the second 2027Q3 (pays t = 2, 3); capex 42.5M in
    t = 0..3, never above the budget."""
    site = {**AI, "max_halls": 2, "secured_mw": 28}
    plan, sc, _ = solve(make_sites(site), lead_quarters_retrofit=2, max_ai_start_it_mw_per_quarter=float("inf"),
                        capex_budget_usd_per_quarter=63.75e6)
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q3"]
    capex = list(plan.cashflow["ai_capex_usd"])
    assert capex[:5] == pytest.approx([42.5e6] * 4 + [0.0], abs=1e-3)
    assert max(capex[:8]) <= 63.75e6 + 1e-3
    best, runner_up = hand_optimum(sc, site, lead=2, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0, 2)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_capex_budget_counts_the_site_opening():
    """C1 with O3: budget = one hall-quarter ($21.25M) + $1M and K = $4M: opening and first hall-quarter
    cannot share a quarter, so the site opens in 2027Q1 and the hall starts in 2027Q2."""
    site = {**AI, "site_opening_cost_usd": 4e6}
    plan, sc, model = solve(make_sites(site), capex_budget_usd_per_quarter=22.25e6)
    assert [round(model.site_open["Alpha", t].value) for t in range(8)] == [1] * 8
    assert list(plan.builds["start_quarter"]) == ["2027Q2"]
    assert list(plan.cashflow["site_opening_usd"])[:2] == pytest.approx([4e6, 0.0])
    best, runner_up = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (1,) and best["opening"] == 0
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_capex_budget_blocks_a_hall_below_its_quarterly_capex():
    """C1: the hall pays c B / L = $21.25M a quarter; a budget $1 short of it builds nothing, the exact
    amount builds the hall."""
    quarterly = make_scenario().ai_capex_retrofit_usd_per_it_mw * B / L
    short, _ = solve_case(make_sites(AI), capex_budget_usd_per_quarter=quarterly - 1.0)
    assert short.builds.empty
    enough, _ = solve_case(make_sites(AI), capex_budget_usd_per_quarter=quarterly)
    assert list(enough.builds["start_quarter"]) == ["2027Q1"]


@pytest.fixture(scope="module")
def budgeted():
    """One hall under a budget of exactly its quarterly capex, $21.25M."""
    plan = solve_case(make_sites(HALL), capex_budget_usd_per_quarter=21.25e6)[0]
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    return plan


def test_check_flags_a_broken_capex_budget(budgeted):
    """C1 check: $1M more AI capex paid in 2027Q1 than the budget allows is named."""
    assert capex_budget.check(budgeted) == []
    broken = corrupt(budgeted, "cashflow", 0, "ai_capex_usd", by=1e6)
    assert capex_budget.check(broken) == ["capex budget: $22.2M paid in 2027Q1, above $21.2M."]
