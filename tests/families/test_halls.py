"""AI halls family (optimizer/formulation/halls.py), proved on hand-computed tiny cases: integer cumulative hall
starts capped by max_halls (H1), the portfolio-wide build rate (H2), a hall's grid MW reserved from construction
start so that it displaces miners (H3, with M2 and P1), capex spread evenly over the L build quarters with its
tail charged after the horizon (H4), and contracted starts (H5); the NPV is the enumerated hand optimum. The
check test proves that `halls.check` flags each of its parts on the Builds sheet (H1, H2, H5).
"""

import dataclasses

import pandas as pd
import pytest

from optimizer.formulation import halls, taxes
from tests.conftest import make_sites, site_column, solve_case
from tests.conftest import site_column as col
from tests.families.hand import (AI, B, G, L, T, assert_unique, corrupt, cumulative_halls, df, hall_npv, hand_optimum,
                                 hand_schedule, mining_per_it_mw, quarters, solve)


def test_halls_are_integer_and_paced_by_the_build_rate():
    """H1/H2/H4: three 10 MW halls fit (42 grid MW / 14); 25 IT MW of starts a quarter allow 2 halls (not
    the 2.5 of the LP relaxation) in 2027Q1 and the third in 2027Q2. Capex c B / L = 8.5M * 10 / 4
    = $21.25M per hall-quarter: 42.5, 63.75, 63.75, 63.75, 21.25 ($M). Billable = leased (absorption 100):
    10 at t=4 (two halls at 50%), 25 at t=5, 30 from t=6."""
    site = {**AI, "max_halls": 3, "secured_mw": 42}
    plan, sc, _ = solve(make_sites(site), max_ai_start_it_mw_per_quarter=25.0)
    assert cumulative_halls(plan, "Alpha") == [2, 3, 3, 3, 3, 3, 3, 3]
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q1", "2027Q2"]
    capex = list(plan.cashflow["ai_capex_usd"])
    assert capex[:6] == pytest.approx([42.5e6, 63.75e6, 63.75e6, 63.75e6, 21.25e6, 0.0], abs=1e-3)
    assert sum(capex) == pytest.approx(3 * 85e6)
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 10, 25, 30, 30], abs=1e-6)
    best, runner_up = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0, 0, 1)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_hall_count_is_capped_by_max_halls():
    """H1: without a build rate (inf) every profitable hall starts at once, but never more than max_halls = 3
    (the 4th would pay too); capex 3 * 21.25 = $63.75M in t = 0..3; leased 15 then 30."""
    site = {**AI, "max_halls": 3, "secured_mw": 60}   # power for 4 halls; max_halls binds
    plan, sc, _ = solve(make_sites(site), max_ai_start_it_mw_per_quarter=float("inf"))
    assert cumulative_halls(plan, "Alpha") == [3] * 8
    assert list(plan.cashflow["ai_capex_usd"])[:5] == pytest.approx([63.75e6] * 4 + [0.0], abs=1e-3)
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 15, 30, 30, 30], abs=1e-6)
    best, _ = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert best["starts"] == (0, 0, 0)
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)
    uncapped, _ = hand_optimum(sc, {**site, "max_halls": 4}, lead=4, capex_per_mw=8.5e6)
    assert uncapped["starts"] == (0, 0, 0, 0)   # a 4th hall would add value: max_halls binds


def test_build_rate_is_portfolio_wide():
    """H2 across sites: Alpha (one 10 MW hall) and Beta (one 20 MW hall) in the same market, 20 IT MW of
    starts a quarter for the portfolio: they cannot start together (30 > 20). The hand optimum over every
    pair of start quarters (NPV_Alpha(tau_A) + NPV_Beta(tau_B), tau_A != tau_B) starts the bigger hall
    first: Beta 2027Q1, Alpha 2027Q2."""
    beta = {**AI, "name": "Beta", "hall_it_mw": 20, "secured_mw": 28}
    plan, sc, _ = solve(make_sites(AI, beta), max_ai_start_it_mw_per_quarter=20.0)
    value = lambda site, tau: hand_schedule(sc, site, (tau,), lead=4, capex_per_mw=8.5e6)["npv"]  # noqa: E731
    pairs = sorted(((value(AI, a) + value(beta, b), a, b) for a in range(8) for b in range(8) if a != b),
                   reverse=True)
    (best, a, b), (runner_up, _, _) = pairs[0], pairs[1]
    assert (a, b) == (1, 0) and best - runner_up > 1e3
    assert best > max(value(AI, 0), value(beta, 0))          # building both beats either alone
    starts = plan.builds.set_index("site")["start_quarter"].to_dict()
    assert starts == {"Alpha": "2027Q2", "Beta": "2027Q1"}
    assert cumulative_halls(plan, "Beta") == [1] * 8 and cumulative_halls(plan, "Alpha") == [0] + [1] * 7
    assert plan.info.npv_usd == pytest.approx(best, rel=1e-9)


def test_capex_tail_after_the_horizon_is_charged_at_its_own_quarters():
    """H4/H5: a hall contracted to start by 2028Q3 (t = 6) with no lease value starts exactly then (any
    earlier only pays capex sooner); its 4 capex quarters are t = 6, 7 (horizon) and 2029Q1, 2029Q2
    (post-horizon), $21.25M each, and NPV = -21.25M * (df[6] + df[7] + df[8] + df[9])."""
    site = {**AI, "committed_halls": 1, "committed_start_quarter": "2028Q3"}
    plan, sc, _ = solve(make_sites(site), lease_usd_per_kw_month=0.0)
    assert list(plan.builds["start_quarter"]) == ["2028Q3"]
    cash = plan.cashflow.set_index("quarter")["ai_capex_usd"]
    assert list(cash[["2028Q3", "2028Q4", "2029Q1", "2029Q2"]]) == pytest.approx([21.25e6] * 4)
    assert cash.sum() == pytest.approx(85e6)
    assert plan.cashflow.set_index("quarter").loc["2029Q1", "period"] == "post-horizon"
    expected = -21.25e6 * sum(df(sc, j) for j in (6, 7, 8, 9))
    assert plan.info.npv_usd == pytest.approx(expected, rel=1e-9)


def test_hall_reserves_power_from_construction_start():
    """H3/M2/P1: a 100 MW mining site (BTC $200k: margin > 0 in every quarter) with one hall contracted to
    start by 2027Q3 and no lease value starts it exactly in 2027Q3. Miners: 100/1.06 = 94.34 IT MW in t = 0,1;
    (100 - 14)/1.06 = 81.13 from t = 2; a +20 MW step in 2028Q1 lets them back to 94.34 (capacity) with
    120 - 100 - 14 = 6 MW idle for want of a fleet, beside the hall's 14 MW idle while it is built (t = 2..5).
    mining grid + AI reserved + idle without a fleet or unprofitable = secured in every quarter."""
    site = {**AI, "mining_allowed": "true", "secured_mw": 100, "power_steps": "2028Q1:+20",
            "committed_halls": 1, "committed_start_quarter": "2027Q3"}
    plan, sc, _ = solve(make_sites(site), btc_price_usd_2026=200_000.0, lease_usd_per_kw_month=0.0)
    qs = quarters("2027Q1", 8)
    assert all(mining_per_it_mw(sc, q, 50.0)["margin"] > 0 for q in qs)
    assert list(plan.builds["start_quarter"]) == ["2027Q3"]
    secured = [100] * 4 + [120] * 4
    halls = [0, 0, 1, 1, 1, 1, 1, 1]
    mining = [min(100 / 1.06, (secured[t] - G * B * halls[t]) / 1.06) for t in range(8)]
    assert mining == pytest.approx([94.339623] * 2 + [81.132075] * 2 + [94.339623] * 4)
    assert col(plan, "Alpha", "mining_it_mw") == pytest.approx(mining, abs=1e-6)
    assert col(plan, "Alpha", "ai_grid_mw_reserved") == pytest.approx([G * B * h for h in halls])
    no_fleet = [secured[t] - 1.06 * mining[t] - G * B * halls[t] for t in range(8)]
    assert no_fleet == pytest.approx([0, 0, 0, 0, 6, 6, 6, 6], abs=1e-9)
    assert col(plan, "Alpha", "idle_no_fleet_mw") == pytest.approx(no_fleet, abs=1e-6)
    building = [G * B * (halls[t] - (halls[t - L] if t >= L else 0)) for t in range(8)]  # started, not online
    assert building == pytest.approx([0, 0, 14, 14, 14, 14, 0, 0])
    assert col(plan, "Alpha", "idle_construction_mw") == pytest.approx(building, abs=1e-6)
    assert col(plan, "Alpha", "idle_grid_mw") == pytest.approx([a + b for a, b in zip(no_fleet, building)], abs=1e-6)
    s = plan.schedule
    assert list(s["mining_grid_mw"] + s["ai_grid_mw_reserved"] + s["idle_no_fleet_mw"] + s["idle_unprofitable_mw"]
                ) == pytest.approx(list(s["secured_mw"]))
    # the contract allows starts at t = 0, 1, 2; the hand NPV is highest for the latest
    hand = [hand_schedule(sc, {**site, "secured_by_t": secured}, (tau,), lead=4, capex_per_mw=8.5e6,
                          mining_power=50.0) for tau in range(3)]
    assert max(range(3), key=lambda tau: hand[tau]["npv"]) == 2
    hand = hand[2]
    assert hand["mining"] == pytest.approx(mining)
    assert plan.info.npv_usd == pytest.approx(hand["npv"], rel=1e-9)


def test_hall_lead_time_ramp_and_terminal_value():
    """H1/H4/L1/L2/X1/X4/X5/N1: a hall started in 2027Q1 is online in 2028Q1 (t = 4), bills 50% there and
    100% from t = 5; capex is paid evenly over t = 0..3; the NPV is the hand formula."""
    plan, d = solve_case(make_sites(AI))
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    assert list(plan.builds["online_quarter"]) == ["2028Q1"]
    leased = [0, 0, 0, 0, 5, 10, 10, 10]
    assert site_column(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert site_column(plan, "Alpha", "ai_it_mw_online") == pytest.approx([0] * 4 + [10] * 4)
    capex = list(plan.cashflow["ai_capex_usd"])
    assert capex[:4] == pytest.approx([d.base.ai_capex_retrofit_usd_per_it_mw * B / L] * 4)
    assert sum(capex[4:]) == pytest.approx(0.0, abs=1e-6)
    expected = hall_npv(d, 0, leased)
    assert plan.kpis["npv_usd"] == pytest.approx(expected, rel=1e-9)
    assert plan.cashflow["discounted_cash_flow_usd"].sum() == pytest.approx(plan.kpis["npv_usd"], rel=1e-6)


def test_build_rate_staggers_two_sites():
    """H2: with 10 IT MW of starts a quarter, two one-hall sites start in 2027Q1 and 2027Q2."""
    sites = make_sites(AI, {**AI, "name": "Beta"})
    plan, d = solve_case(sites, max_ai_start_it_mw_per_quarter=10.0)
    assert sorted(plan.builds["start_quarter"]) == ["2027Q1", "2027Q2"]
    late = [0, 0, 0, 0, 0, 5, 10, 10]
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 0, [0, 0, 0, 0, 5, 10, 10, 10])
                                                 + hall_npv(d, 1, late), rel=1e-9)


def test_hall_power_displaces_miners_from_construction_start():
    """H3/M2/P1: a 100 MW mining site (miners draw pue_mine grid MW per IT MW) that builds one hall
    reserves 14 grid MW from the start quarter, so miners keep (100 - 14) / pue_mine IT MW, and mining +
    reserved + idle (no fleet, unprofitable) = secured in every quarter."""
    site = {**AI, "mining_allowed": "true", "secured_mw": 100, "max_halls": 1}
    plan, d = solve_case(make_sites(site), btc_price_usd_2026=200_000)
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    assert site_column(plan, "Alpha", "mining_it_mw") == pytest.approx([(100 - 14) / d.base.mining_pue] * T)
    s = plan.schedule
    assert list(s["mining_grid_mw"] + s["ai_grid_mw_reserved"] + s["idle_no_fleet_mw"] + s["idle_unprofitable_mw"]
                ) == pytest.approx(list(s["secured_mw"]))
    assert (s["mining_grid_mw"] + s["ai_grid_mw_reserved"] <= s["secured_mw"] + 1e-6).all()


def test_no_lease_no_hall():
    plan, _ = solve_case(make_sites(AI), lease_usd_per_kw_month=0.0)
    assert plan.builds.empty and plan.kpis["npv_usd"] == pytest.approx(0.0, abs=1e-3)


@pytest.fixture(scope="module")
def two_halls():
    """Two halls contracted by 2027Q2 at 10 IT MW of starts a quarter: started 2027Q1 and 2027Q2."""
    site = {**AI, "max_halls": 2, "secured_mw": 28, "committed_halls": 2, "committed_start_quarter": "2027Q2"}
    plan = solve_case(make_sites(site), max_ai_start_it_mw_per_quarter=10.0)[0]
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q2"]
    return plan


def third_hall(plan):
    """Builds with a third hall (a copy of the second) started in 2027Q3."""
    extra = plan.builds.iloc[[1]].assign(hall="Alpha #3", start_quarter="2027Q3")
    return dataclasses.replace(plan, builds=pd.concat([plan.builds, extra], ignore_index=True))


@pytest.mark.parametrize("breaking, problem", [
    pytest.param(lambda p: corrupt(p, "builds", 1, "start_quarter", to="2027Q1"),
                 "build rate: 20 IT MW started in 2027Q1, above 10.", id="H2 build rate"),
    pytest.param(third_hall, "halls: Alpha has 3 halls, above its 2.", id="H1 max halls"),
    pytest.param(lambda p: corrupt(p, "builds", 1, "start_quarter", to="2027Q3"),
                 "commitments: Alpha has started 1 halls by 2027Q2, not the contracted 2.", id="H5 commitments"),
])
def test_check_flags_a_broken_build_schedule(two_halls, breaking, problem):
    """H1/H2/H5 check, each part on the Builds sheet: both halls in one quarter (20 IT MW > S_max = 10), a
    third hall (> H_s = 2), the second hall moved after the contracted quarter (1 < C_s = 2 by 2027Q2)."""
    assert halls.check(two_halls) == []
    assert problem in halls.check(breaking(two_halls))  # the Schedule then disagrees with Builds too


def test_check_flags_schedule_halls_that_differ_from_the_builds(two_halls):
    """H1/H3 check: the Schedule's halls started (or grid MW reserved) must follow the Builds sheet."""
    problem = "halls: Schedule's halls started or grid MW reserved differ from the Builds sheet."
    assert halls.check(corrupt(two_halls, "schedule", two_halls.schedule.index[-1], "ai_halls_started", to=0.0)) == [problem]
    assert halls.check(corrupt(two_halls, "schedule", two_halls.schedule.index[-1], "ai_grid_mw_reserved", to=0.0)) == [problem]


# ---------------------------------------------------------------- halls under construction at the start (H1-H5, L1/L2)

BUILDING = {**AI, "max_halls": 2, "secured_mw": 28, "building_halls": 1, "building_spent_usd": 30e6,
            "building_remaining_usd": 20e6, "building_online_quarter": "2027Q3"}


@pytest.fixture(scope="module")
def building():
    """One hall under construction at the start (online 2027Q3, $20M still to pay, $30M spent) and room for a
    second (max_halls 2, 28 MW); 10 IT MW of starts a quarter."""
    return solve(make_sites(BUILDING), max_ai_start_it_mw_per_quarter=10.0)


def test_a_hall_under_construction_comes_online_and_pays_its_remaining_capex(building):
    """H1/H2/H4/L2 by hand: the hall under construction reserves its 14 grid MW from t = 0 and comes online in
    t = 2 (5 IT MW billed, 10 from t = 3); its remaining $20M is paid evenly in t = 0, 1 and its $30M spent is
    not in the NPV. It takes no build-rate room: the second hall (10 MW = the whole rate) still starts in
    2027Q1, online t = 4. Leased 0, 0, 5, 10, 15, 20, 20, 20; NPV = sum df (1-phi) rate x + terminal
    - df[0..1] * $10M - df[0..3] * $21.25M."""
    plan, sc, _ = building
    b = plan.builds
    assert list(b["status"]) == ["under construction", "planned"]
    assert list(b["start_quarter"]) == ["2027Q1", "2027Q1"] and list(b["online_quarter"]) == ["2027Q3", "2028Q1"]
    assert list(b["capex_spent_usd"]) == [30e6, 0.0]
    assert cumulative_halls(plan, "Alpha") == [2] * 8
    assert col(plan, "Alpha", "ai_grid_mw_reserved") == pytest.approx([28.0] * 8)
    leased = [0, 0, 5, 10, 15, 20, 20, 20]
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert col(plan, "Alpha", "ai_it_mw_online") == pytest.approx([0, 0, 10, 10, 20, 20, 20, 20])
    capex = list(plan.cashflow["ai_capex_usd"])
    assert capex[:5] == pytest.approx([10e6 + 21.25e6] * 2 + [21.25e6] * 2 + [0.0], abs=1e-3)
    d, phi = plan.data, sc.landlord_opex_share
    rate = [d.lease_revenue_usd_per_it_mw[t, "base"] for t in range(T)]
    npv = sum(df(sc, t) * (1 - phi) * rate[t] * leased[t] for t in range(T))
    npv += sum(df(sc, j) * (1 - phi) * rate[T - 1] * leased[T - 1] for j in range(T, T + sc.terminal_quarters))
    npv -= sum(df(sc, j) * 10e6 for j in range(2)) + sum(df(sc, j) * 21.25e6 for j in range(4))
    assert plan.info.npv_usd == pytest.approx(npv, rel=1e-9)
    assert halls.check(plan) == []


def test_spent_capex_is_a_tax_basis_at_the_start():
    """taxes.py T1 with the sunk $30M counted as AI capex paid in t = 0: no second hall (max_halls 1), 25% tax,
    100% bonus on the 75% M&E share, the 25% shell over 39 years (156 quarters). Basis paid through t: 30 + 10
    (t = 0), 50 from t = 1 ($M), so depreciation = 0.75 * (40, 10, 0, ...) + 0.25 * (40, 50, 50, ...) / 156."""
    site = {**BUILDING, "max_halls": 1, "secured_mw": 14}
    plan, sc, _ = solve(make_sites(site), tax_rate=0.25, bonus_depreciation_share=1.0, ai_capex_shell_share=0.25,
                        ai_shell_tax_life_yr=39)
    paid = [40e6] + [50e6] * 7
    dep = [0.75 * (paid[t] - (paid[t - 1] if t else 0.0)) + 0.25 * paid[t] / 156 for t in range(T)]
    assert list(plan.cashflow["depreciation_usd"])[:T] == pytest.approx(dep, rel=1e-9)
    assert list(plan.cashflow["ai_capex_usd"])[:3] == pytest.approx([10e6, 10e6, 0.0], abs=1e-3)
    assert taxes.check(plan) == []   # its recomputation from CashFlow adds the sunk basis too


def test_check_flags_a_hall_under_construction_that_moved(building):
    """The check: the Builds row of the hall under construction must come online in its quarter."""
    plan = building[0]
    problem = ("halls: Alpha shows 1 halls under construction at the start, not its 1 online in 2027Q3 with "
               "$20,000,000 to pay.")
    assert problem in halls.check(corrupt(plan, "builds", 0, "online_quarter", to="2027Q4"))
