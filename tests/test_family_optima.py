"""One tiny instance per core constraint family, each with its optimum computed by hand in the test.

Every case: horizon 2027Q1-2028Q4 (T = 8 quarters), 4 terminal quarters, a lease rate of $1,500/kW-month (so
that a hall pays back within so short a horizon), money and carbon families neutral
(tests/conftest.py), one AI hall of B = 10 IT MW (g = 1.4 -> 14 grid MW), retrofit lead time L = 4.
The hand computations read the per-quarter inputs (lease rate, mining margin per IT MW, discount factors)
from ModelData, whose economics are checked on their own in tests/test_economics.py.
"""

import pytest

from tests.conftest import make_scenario, make_sites, site_column, solve_case

AI = {"name": "Alpha", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
      "secured_mw": 14}
B, L, T, TQ = 10.0, 4, 8, 4


def hall_npv(d, start: int, leased: list[float]) -> float:
    """NPV of one hall started in `start` with the given leased MW per horizon quarter (hand formula):
    capex c B / L in quarters start..start+L-1; lease (1 - phi) rate[t] x[t]; terminal TQ quarters of
    (1 - phi) rate[T-1] x[T-1]."""
    sc, df = d.base, d.discount_factor
    rate = [d.lease_revenue_usd_per_it_mw[t, "base"] for t in range(T)]
    capex = sc.ai_capex_retrofit_usd_per_it_mw * B
    npv = -sum(df[start + k] * capex / L for k in range(L))
    npv += sum(df[t] * (1 - sc.landlord_opex_share) * rate[t] * leased[t] for t in range(T))
    npv += sum(df[j] * (1 - sc.landlord_opex_share) * rate[T - 1] * leased[T - 1] for j in range(T, T + TQ))
    return npv


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


def test_market_absorption_paces_leases():
    """X2/X3: the market absorbs 3 IT MW a quarter, so leases climb 3, 6, 9, 10 from t = 4 and never fall."""
    plan, d = solve_case(make_sites(AI), market_absorption_it_mw_per_quarter={"GA": 3.0})
    leased = [0, 0, 0, 0, 3, 6, 9, 10]
    assert site_column(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 0, leased), rel=1e-9)


def test_earliest_revenue_quarter_delays_the_start():
    """E1: no lease before 2028Q3 (t = 6). A start at t = 1 bills 10 MW from t = 6 as a start at t = 0
    would, with capex one quarter later: the optimum starts in 2027Q2 and leases nothing before t = 6."""
    plan, d = solve_case(make_sites(AI), earliest_ai_revenue_quarter="2028Q3")
    leased = [0] * 6 + [10, 10]
    assert list(plan.builds["start_quarter"]) == ["2027Q2"]
    assert site_column(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 1, leased), rel=1e-9)
    assert plan.kpis["npv_usd"] > hall_npv(d, 0, leased)


def test_build_rate_staggers_two_sites():
    """H2: with 10 IT MW of starts a quarter, two one-hall sites start in 2027Q1 and 2027Q2."""
    sites = make_sites(AI, {**AI, "name": "Beta"})
    plan, d = solve_case(sites, max_ai_start_it_mw_per_quarter=10.0)
    assert sorted(plan.builds["start_quarter"]) == ["2027Q1", "2027Q2"]
    late = [0, 0, 0, 0, 0, 5, 10, 10]
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 0, [0, 0, 0, 0, 5, 10, 10, 10])
                                                 + hall_npv(d, 1, late), rel=1e-9)


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


def test_capex_budget_blocks_a_hall_below_its_quarterly_capex():
    """C1: the hall pays c B / L = $21.25M a quarter; a budget $1 short of it builds nothing, the exact
    amount builds the hall."""
    quarterly = make_scenario().ai_capex_retrofit_usd_per_it_mw * B / L
    short, _ = solve_case(make_sites(AI), capex_budget_usd_per_quarter=quarterly - 1.0)
    assert short.builds.empty
    enough, _ = solve_case(make_sites(AI), capex_budget_usd_per_quarter=quarterly)
    assert list(enough.builds["start_quarter"]) == ["2027Q1"]


def test_mining_runs_when_the_margin_is_positive():
    """M1/M3: 100 MW of miners (M = 100 / pue_mine IT MW) run in every quarter whose margin per IT MW
    (revenue - power - opex) is positive, and not at all otherwise; NPV = sum_t df[t] max(0, margin) M."""
    sites = make_sites({"name": "Miner", "secured_mw": 100})
    plan, d = solve_case(sites, btc_price_usd_2026=75_000)
    row = d.site_quarter.xs("Miner", level="site")
    margin = (row["mining_revenue_usd_per_it_mw"] - row["mining_power_usd_per_it_mw"]
              - row["mining_opex_usd_per_it_mw"]).to_list()
    assert min(margin) < 0 < max(margin)  # the 2028Q2 halving turns the margin negative
    capacity = 100 / d.base.mining_pue
    assert site_column(plan, "Miner", "mining_it_mw") == pytest.approx([capacity if m > 0 else 0.0 for m in margin])
    expected = sum(d.discount_factor[t] * max(0.0, margin[t]) * capacity for t in range(T))
    assert plan.kpis["npv_usd"] == pytest.approx(expected, rel=1e-9)


def test_btc_price_zero_runs_no_miners():
    plan, _ = solve_case(make_sites({"name": "Miner", "secured_mw": 100}), btc_price_usd_2026=0)
    assert max(site_column(plan, "Miner", "mining_it_mw")) == pytest.approx(0.0, abs=1e-9)


def test_hall_power_displaces_miners_from_construction_start():
    """H3/M2/P1: a 100 MW mining site (miners draw pue_mine grid MW per IT MW) that builds one hall
    reserves 14 grid MW from the start quarter, so miners keep (100 - 14) / pue_mine IT MW, and mining +
    reserved + idle = secured in every quarter."""
    site = {**AI, "mining_allowed": "true", "secured_mw": 100, "max_halls": 1}
    plan, d = solve_case(make_sites(site), btc_price_usd_2026=200_000)
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    assert site_column(plan, "Alpha", "mining_it_mw") == pytest.approx([(100 - 14) / d.base.mining_pue] * T)
    s = plan.schedule
    assert list(s["mining_grid_mw"] + s["ai_grid_mw_reserved"] + s["idle_grid_mw"]) == pytest.approx(
        list(s["secured_mw"]))
    assert (s["mining_grid_mw"] + s["ai_grid_mw_reserved"] <= s["secured_mw"] + 1e-6).all()


def test_no_lease_no_hall():
    plan, _ = solve_case(make_sites(AI), lease_usd_per_kw_month=0.0)
    assert plan.builds.empty and plan.kpis["npv_usd"] == pytest.approx(0.0, abs=1e-3)
