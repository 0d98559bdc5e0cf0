"""Site opening family (optimizer/formulation/site_opening.py), proved on hand-computed tiny cases: a site opens
once and stays open (O1), no hall starts before it opens (O2), and its one-off cost K is paid in the quarter it
opens, so that the NPV falls by df[t] K and an opening cost above the hall's value leaves the site closed (O3).
The check test proves that `site_opening.check` flags a hall started at a site whose opening cost was not paid
(O2/O3).
"""

import pytest

from optimizer.formulation import site_opening
from tests.conftest import SHORT, make_scenario, make_sites, solve_case
from tests.families.hand import AI, HALL, assert_unique, corrupt, df, hand_optimum, hand_schedule, solve


def test_site_opening_cost_is_paid_once_when_the_first_hall_starts():
    """O1-O3: two halls, 10 IT MW of starts a quarter -> starts 2027Q1 and 2027Q2; the site opens in 2027Q1
    (z = 1 from t = 0 and stays 1) and K = $7M is paid there only, once."""
    site = {**AI, "max_halls": 2, "secured_mw": 28, "site_opening_cost_usd": 7e6}
    plan, sc, model = solve(make_sites(site), max_ai_start_it_mw_per_quarter=10.0)
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q2"]
    assert [round(model.site_open["Alpha", t].value) for t in range(8)] == [1] * 8
    opening = list(plan.cashflow["site_opening_usd"])
    assert opening[0] == pytest.approx(7e6) and sum(opening) == pytest.approx(7e6)
    best, runner_up = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0, 1) and best["opening"] == 0
    free, _ = hand_optimum(sc, {**site, "site_opening_cost_usd": 0.0}, lead=4, capex_per_mw=8.5e6)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)
    assert plan.info.npv_usd == pytest.approx(free["npv"] - df(sc, 0) * 7e6, rel=1e-9)


def test_site_opens_in_the_quarter_of_its_first_hall_not_before():
    """O1/O3 + E1: no lease before 2028Q3 (t = 6) makes the hall start in 2027Q2 (t = 1: full billing at
    t = 6 as from t = 0, capex a quarter later); the site opens then (z = 0, 1, 1, ...) and K is paid at
    t = 1, discounted by df[1]."""
    site = {**AI, "site_opening_cost_usd": 3e6}
    plan, sc, model = solve(make_sites(site), earliest_ai_revenue_quarter="2028Q3")
    assert [round(model.site_open["Alpha", t].value) for t in range(8)] == [0] + [1] * 7
    assert list(plan.cashflow["site_opening_usd"])[:3] == pytest.approx([0.0, 3e6, 0.0])
    best, runner_up = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (1,) and best["opening"] == 1
    assert list(plan.builds["start_quarter"]) == ["2027Q2"]
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_opening_cost_above_the_hall_value_means_no_hall():
    """O2: with K above max_tau NPV(tau) / df[tau] (the hall's best value per opening dollar) nothing is
    built and the site stays closed; $1M below it, the hall is built and NPV = NPV(tau*) - df[tau*] K."""
    sc = make_scenario(**SHORT)
    values = {}
    for tau in range(8):
        values[tau] = hand_schedule(sc, AI, (tau,), lead=4, capex_per_mw=8.5e6)["npv"] / df(sc, tau)
    threshold = max(values.values())
    assert max(values, key=values.get) == 0 and threshold > 100e6
    closed, _, model = solve(make_sites({**AI, "site_opening_cost_usd": threshold + 1e6}))
    assert closed.builds.empty and closed.info.npv_usd == pytest.approx(0.0, abs=1e-3)
    assert sum(round(model.site_open["Alpha", t].value) for t in range(8)) == 0
    assert closed.cashflow["site_opening_usd"].sum() == pytest.approx(0.0, abs=1e-6)
    opened, sc, _ = solve(make_sites({**AI, "site_opening_cost_usd": threshold - 1e6}))
    assert list(opened.builds["start_quarter"]) == ["2027Q1"]
    assert opened.info.npv_usd == pytest.approx(df(sc, 0) * 1e6, rel=1e-6)


def test_site_opening_cost_paid_once_or_not_at_all():
    """O1-O3: a cost K is paid once, in the start quarter (NPV falls by df[0] K); a K above the hall's
    NPV leaves the site closed and the NPV at 0."""
    free, d = solve_case(make_sites(AI))
    value = free.kpis["npv_usd"]
    opened, _ = solve_case(make_sites({**AI, "site_opening_cost_usd": 20e6}))
    assert opened.cashflow["site_opening_usd"].sum() == pytest.approx(20e6)
    assert opened.kpis["npv_usd"] == pytest.approx(value - d.discount_factor[0] * 20e6, rel=1e-9)
    closed, _ = solve_case(make_sites({**AI, "site_opening_cost_usd": value / d.discount_factor[0] + 1e6}))
    assert closed.builds.empty and closed.kpis["npv_usd"] == pytest.approx(0.0, abs=1e-3)


@pytest.fixture(scope="module")
def opened():
    """One hall at a site that costs $4M to open: opened and started in 2027Q1."""
    plan = solve_case(make_sites({**HALL, "site_opening_cost_usd": 4e6}))[0]
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    return plan


def test_check_flags_a_broken_site_opening(opened):
    """O2/O3 check: the $4M opening cost missing in 2027Q1 (where the hall starts) is named: from the
    site's Schedule rows it is a hall before the opening, from CashFlow a line that no longer adds up."""
    assert site_opening.check(opened) == []
    site_row = opened.schedule.index[(opened.schedule["quarter"] == "2027Q1") & (opened.schedule["site_opening_usd"] > 0)][0]
    broken = corrupt(opened, "schedule", site_row, "site_opening_usd", to=0.0)
    site = opened.schedule.at[site_row, "site"]
    assert f"site opening: {site} starts a hall in 2027Q1 before paying its opening cost (base)." in site_opening.check(broken)
    assert site_opening.check(corrupt(opened, "cashflow", 0, "site_opening_usd", to=0.0)) == [
        "cash flow: Schedule site_opening_usd does not add up to CashFlow site_opening_usd."]
