"""Mining family (optimizer/formulation/mining.py), proved on hand-computed tiny cases: miners run at their
installed capacity M_s = P / pue_mine (M1) in every quarter whose margin per IT MW, hashprice revenue - power -
opex (M3), is positive, and not at all otherwise (the 2028Q2 halving, BTC at $0); uptime scales revenue, power
and opex alike; the NPV is sum_t df[t] max(0, margin) y. The check test proves that `mining.check` flags miners
above their installed capacity (M1).
"""

import pytest

from optimizer.formulation import mining
from tests.conftest import make_scenario, make_sites, site_column, solve_case
from tests.conftest import site_column as col
from tests.families.hand import MINER, T, corrupt, df, mining_per_it_mw, quarters, solve


@pytest.mark.parametrize("uptime", [0.95, 0.5])
def test_mining_runs_installed_capacity_only_in_positive_margin_quarters(uptime):
    """M1/M3 + P1: 100 grid MW site, power $50/MWh, a ledger step of -30 MW in 2027Q3. Installed miners
    = 100 / 1.06 = 94.34 IT MW; they run at min(94.34, P[t] / 1.06) while the hand margin
    hashprice * 1000/J * days * uptime - power - opex is positive (2027Q1-2028Q1) and not at all from the
    2028Q2 halving on (revenue halves, margin < 0). Uptime scales revenue, power and opex alike."""
    site = {"name": "Miner", "secured_mw": 100, "power_steps": "2027Q3:-30"}
    plan, sc, _ = solve(make_sites(site), mining_uptime=uptime)
    qs = quarters("2027Q1", 8)
    secured = [100, 100, 70, 70, 70, 70, 70, 70]
    econ = [mining_per_it_mw(sc, q, 50.0) for q in qs]
    margin = [e["margin"] for e in econ]
    assert [m > 0 for m in margin] == [True] * 5 + [False] * 3   # the 2028Q2 halving
    capacity = 100 / 1.06
    expected = [min(capacity, secured[t] / 1.06) if margin[t] > 0 else 0.0 for t in range(8)]
    assert expected[:2] == pytest.approx([94.339623] * 2) and expected[2] == pytest.approx(66.037736)
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx(expected, abs=1e-6)
    assert col(plan, "Miner", "mining_revenue_usd") == pytest.approx(
        [econ[t]["revenue"] * expected[t] for t in range(8)], rel=1e-9, abs=1e-6)
    assert col(plan, "Miner", "mining_power_cost_usd") == pytest.approx(
        [econ[t]["power"] * expected[t] for t in range(8)], rel=1e-9, abs=1e-6)
    # uptime: the hand revenue per IT MW is proportional to uptime (2027Q1: ~$195k at 0.95)
    base = mining_per_it_mw(make_scenario(), "2027Q1", 50.0)["revenue"]
    assert econ[0]["revenue"] == pytest.approx(base * uptime / 0.95, rel=1e-12)
    npv = sum(df(sc, t) * margin[t] * expected[t] for t in range(8))
    assert plan.info.npv_usd == pytest.approx(npv, rel=1e-9)


def test_mining_stops_when_btc_price_is_zero():
    """With BTC at $0 the margin is -(power + opex) < 0 every quarter: no miner runs, NPV = 0."""
    plan, sc, _ = solve(make_sites({"name": "Miner", "secured_mw": 100}), btc_price_usd_2026=0.0)
    margin = [mining_per_it_mw(sc, q, 50.0)["margin"] for q in quarters("2027Q1", 8)]
    assert margin[0] == pytest.approx(-(1.06 * 24 * 91.3 * 0.95 * (50 * 1.03 + 5)), rel=1e-12)
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx([0.0] * 8, abs=1e-9)
    assert plan.info.npv_usd == pytest.approx(0.0, abs=1e-3)


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


@pytest.fixture(scope="module")
def miner():
    """The 100 MW miner alone: 100 / 1.06 = 94.34 IT MW of installed miners."""
    return solve_case(make_sites(MINER))[0]


def test_check_flags_a_broken_mining_capacity(miner):
    """M1 check: one IT MW of miners more than the installed 94.34 in 2027Q1 is named, the plan itself passes."""
    assert mining.check(miner) == []
    broken = corrupt(miner, "schedule", 0, "mining_it_mw", by=1.0)
    assert "mining: miners outside 0..installed capacity at Miner 2027Q1." in mining.check(broken)


@pytest.mark.parametrize("column, change, problem", [
    ("mining_it_mw", dict(to=-1.0), "mining: miners outside 0..installed capacity at Miner 2027Q1."),
    ("mining_grid_mw", dict(by=1.0), "mining: grid MW are not pue_mine x IT MW at Miner 2027Q1."),
    ("mining_revenue_usd", dict(by=1e6), "cash flow: Schedule mining_revenue_usd does not add up to CashFlow "
                                         "mining_revenue_usd."),
])
def test_check_flags_each_mining_part(miner, column, change, problem):
    """M1-M3 check: a negative miner, grid MW that are not pue_mine x IT MW, a Schedule money cell that no
    longer adds up to its CashFlow line."""
    assert problem in mining.check(corrupt(miner, "schedule", 0, column, **change))
