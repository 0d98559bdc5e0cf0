"""Per-family tiny cases whose optimum is computed by hand, here, from the scenario's inputs.

The hand side never reads solver output. It recomputes the per-quarter economics from the scenario values
with the DESIGN.md "Conventions (v1)" formulas (lease rate, discount factor, hashprice -> mining margin,
grid CO2), and, for the AI families, it enumerates every hall start schedule of a one-site case
(`hand_optimum`) with the hand formulas: capex spread evenly over the L build quarters, a hall online at
start + L billing 50% then 100%, greedy leasing (x[t] = min(billable[t], x[t-1] + D), optimal because
every lease margin is positive), no lease before the earliest revenue quarter, the site opening cost paid
in the quarter it opens, the build rate and the capex budget, mining displaced by g * B per hall from
construction start, and the terminal value of the last quarter's net lease margin held flat.

Every case: money and carbon families neutral (tests/conftest.py: NEUTRAL_MONEY), horizon shortened to
a few quarters through horizon_start/horizon_end, a small terminal_quarters, and a lease rate of
$1,500/kW-month so that a hall pays back within so short a horizon. Hall B = 10 IT MW (g = 1.4 -> 14 grid
MW per hall), retrofit lead time 4 unless a test says otherwise.
"""

import itertools
import math

import pytest

from tests.conftest import make_scenario, make_sites, solve_plan
from optimizer.data import build_model_data

SHORT = dict(horizon_start="2027Q1", horizon_end="2028Q4", terminal_quarters=4, lease_usd_per_kw_month=1500.0)
AI = {"name": "Alpha", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
      "secured_mw": 14}
B, G = 10.0, 1.4
MUSD = 1e6


# ---------------------------------------------------------------- hand economics (DESIGN.md conventions)

def ordinal(q: str) -> int:
    return 4 * int(q[:4]) + int(q[-1]) - 1


def quarters(start: str, n: int) -> list[str]:
    k = ordinal(start)
    return [f"{(k + i) // 4}Q{(k + i) % 4 + 1}" for i in range(n)]


def k26(q: str) -> int:
    """Quarters since 2026Q1."""
    return ordinal(q) - ordinal("2026Q1")


def df(sc, j: int) -> float:
    """End-of-quarter discount factor (1+r)^-((j+1)/4)."""
    return (1 + sc.discount_rate_per_yr) ** (-(j + 1) / 4)


def lease_rate(sc, q: str) -> float:
    """Billed lease revenue per leased IT MW-quarter: $/kW-month * 1000 * 3 * billing utilisation * escalator."""
    return sc.lease_usd_per_kw_month * 1000 * 3 * sc.ai_billing_utilisation * (
        1 + sc.lease_escalator_per_yr) ** (k26(q) / 4)


def mining_per_it_mw(sc, q: str, power_2026: float) -> dict:
    """Revenue, power cost, opex and margin of one IT MW of miners for one quarter (USD)."""
    k = k26(q)
    first = ordinal(sc.first_halving_quarter)
    halvings = 0 if ordinal(q) < first else 1 + (ordinal(q) - first) // sc.halving_interval_quarters
    halving_quarter = ordinal(q) >= first and (ordinal(q) - first) % sc.halving_interval_quarters == 0
    subsidy = sc.subsidy_btc_2026 * 0.5 ** halvings
    hashrate_ehs = sc.network_hashrate_ehs_2026 * (1 + sc.hashrate_growth_per_yr) ** (k / 4) * (
        sc.halving_hashrate_dip if halving_quarter else 1.0)
    price = sc.btc_price_usd_2026 * (1 + sc.btc_price_growth_per_yr) ** (k / 4)
    hashprice = sc.blocks_per_day * subsidy * (1 + sc.fee_share_of_subsidy) * price / (hashrate_ehs * 1000)
    j_per_th = max(sc.fleet_j_per_th_floor, sc.fleet_j_per_th_2026 * (1 - sc.fleet_efficiency_gain_per_yr) ** (k / 4))
    revenue = hashprice * (1000 / j_per_th) * sc.quarter_days * sc.mining_uptime
    mwh = sc.mining_pue * 24 * sc.quarter_days * sc.mining_uptime
    power = mwh * power_2026 * sc.power_price_multiplier * (1 + sc.power_price_escalation_per_yr) ** (k / 4)
    opex = sc.pool_fee_share * revenue + sc.mining_opex_usd_per_mwh * mwh
    return {"revenue": revenue, "power": power, "opex": opex, "margin": revenue - power - opex}


def share(age: int) -> float:
    """Billed share of a hall `age` quarters after it came online (ramp: 50% then 100%)."""
    return 0.0 if age < 0 else 0.5 if age == 0 else 1.0


def terminal_value(sc, x_last: float, T: int) -> float:
    """DESIGN.md: the last quarter's net lease margin held flat for TQ quarters, each discounted at its own
    quarter; closed form df[T-1] * a (1 - a^TQ) / (1 - a), a = (1+r)^-1/4."""
    a = (1 + sc.discount_rate_per_yr) ** -0.25
    annuity = df(sc, T - 1) * a * (1 - a ** sc.terminal_quarters) / (1 - a)
    return (1 - sc.landlord_opex_share) * lease_rate(sc, quarters(sc.horizon_start, T)[-1]) * x_last * annuity


# ---------------------------------------------------------------- hand optimum of a one-site AI case

def hand_schedule(sc, site: dict, starts: tuple, opening: int | None = None, *, lead: int,
                  capex_per_mw: float, mining_power: float | None = None) -> dict | None:
    """Everything about one start schedule (hall start quarters, sorted), by the hand formulas; None when
    the schedule breaks the build rate, the capex budget, max_halls or the site's power."""
    T = ordinal(sc.horizon_end) - ordinal(sc.horizon_start) + 1
    qs = quarters(sc.horizon_start, T)
    hall, cap = float(site.get("hall_it_mw", B)), int(site.get("max_halls", 1))
    if len(starts) > cap:
        return None
    if starts and opening is None:
        opening = starts[0]
    if starts and opening > starts[0]:
        return None
    N = [sum(1 for s in starts if s <= t) for t in range(T)]
    if any(hall * sum(1 for s in starts if s == t) > sc.max_ai_start_it_mw_per_quarter + 1e-9 for t in range(T)):
        return None
    secured = site.get("secured_by_t") or [float(site.get("secured_mw", 14))] * T
    if any(G * hall * N[t] > secured[t] + 1e-9 for t in range(T)):
        return None
    J = T + max(sc.terminal_quarters, lead - 1)
    capex = [sum(capex_per_mw * hall / lead for s in starts if s <= j < s + lead) for j in range(J)]
    k_open = float(site.get("site_opening_cost_usd", 0.0))
    opened = [k_open if opening is not None and j == opening else 0.0 for j in range(J)]
    if any(capex[t] + opened[t] > sc.capex_budget_usd_per_quarter + 1e-6 for t in range(T)):
        return None
    billable = [hall * sum(share(t - lead - s) for s in starts) for t in range(T)]
    earliest = ordinal(sc.earliest_ai_revenue_quarter) - ordinal(sc.horizon_start)
    absorption = sc.market_absorption_it_mw_per_quarter[site.get("market", "GA")]
    leased, before = [], 0.0
    for t in range(T):
        before = 0.0 if t < earliest else min(billable[t], before + absorption)
        leased.append(before)
    phi = sc.landlord_opex_share
    npv = sum(df(sc, t) * (1 - phi) * lease_rate(sc, qs[t]) * leased[t] for t in range(T))
    npv += terminal_value(sc, leased[-1], T)
    npv -= sum(df(sc, j) * (capex[j] + opened[j]) for j in range(J))
    mining = [0.0] * T
    if mining_power is not None:
        capacity = secured[0] / sc.mining_pue
        for t in range(T):
            margin = mining_per_it_mw(sc, qs[t], mining_power)["margin"]
            mining[t] = min(capacity, (secured[t] - G * hall * N[t]) / sc.mining_pue) if margin > 0 else 0.0
            npv += df(sc, t) * margin * mining[t]
    return {"starts": starts, "opening": opening, "N": N, "capex": capex, "opened": opened,
            "billable": billable, "leased": leased, "mining": mining, "npv": npv}


def hand_optimum(sc, site: dict, **kw) -> tuple[dict, float]:
    """The best start schedule by enumeration, and the NPV of the runner-up (to check uniqueness)."""
    T = ordinal(sc.horizon_end) - ordinal(sc.horizon_start) + 1
    plans = []
    for n in range(int(site.get("max_halls", 1)) + 1):
        for starts in itertools.combinations_with_replacement(range(T), n):
            k_open = float(site.get("site_opening_cost_usd", 0.0))
            for opening in (range(starts[0] + 1) if starts and k_open > 0 else [None]):
                plan = hand_schedule(sc, site, starts, opening, **kw)
                if plan is not None:
                    plans.append(plan)
    plans.sort(key=lambda p: -p["npv"])
    return plans[0], plans[1]["npv"]


# ---------------------------------------------------------------- solver side

def solve(sites, **values):
    sc = make_scenario(**{**SHORT, **values})
    plan, model = solve_plan(sites, sc)
    assert plan.info.status == "optimal"
    return plan, sc, model


def col(plan, site, column):
    s = plan.schedule
    return list(s[s["site"] == site][column])


def cumulative_halls(plan, site):
    return [round(v) for v in col(plan, site, "ai_halls_started")]


def assert_unique(best, runner_up):
    """The hand optimum must be strictly better than any other schedule, so the solver has to find it."""
    assert best["npv"] - runner_up > 1e3


# ================================================================ 1. mining

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


# ================================================================ 2. halls

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


# ================================================================ 3. site opening

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


# ================================================================ 4. lead time and onboarding ramp

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


# ================================================================ 5. power reserved from construction start

def test_hall_reserves_power_from_construction_start():
    """H3/M2/P1: a 100 MW mining site (BTC $200k: margin > 0 in every quarter) with one hall contracted to
    start by 2027Q3 and no lease value starts it exactly in 2027Q3. Miners: 100/1.06 = 94.34 IT MW in t = 0,1;
    (100 - 14)/1.06 = 81.13 from t = 2; a +20 MW step in 2028Q1 lets them back to 94.34 (capacity) with
    120 - 100 - 14 = 6 MW idle. mining grid + AI reserved + idle = secured in every quarter."""
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
    idle = [secured[t] - 1.06 * mining[t] - G * B * halls[t] for t in range(8)]
    assert idle == pytest.approx([0, 0, 0, 0, 6, 6, 6, 6], abs=1e-9)
    assert col(plan, "Alpha", "idle_grid_mw") == pytest.approx(idle, abs=1e-6)
    s = plan.schedule
    assert list(s["mining_grid_mw"] + s["ai_grid_mw_reserved"] + s["idle_grid_mw"]) == pytest.approx(
        list(s["secured_mw"]))
    # the contract allows starts at t = 0, 1, 2; the hand NPV is highest for the latest
    hand = [hand_schedule(sc, {**site, "secured_by_t": secured}, (tau,), lead=4, capex_per_mw=8.5e6,
                          mining_power=50.0) for tau in range(3)]
    assert max(range(3), key=lambda tau: hand[tau]["npv"]) == 2
    hand = hand[2]
    assert hand["mining"] == pytest.approx(mining)
    assert plan.info.npv_usd == pytest.approx(hand["npv"], rel=1e-9)


# ================================================================ 6. leasing

def test_market_absorption_paces_leases_and_delays_the_second_hall():
    """X2/X3: the market absorbs 4 IT MW a quarter, so leases climb 4, 8, 12, 16 from t = 4 and never fall.
    Two halls: the first starts 2027Q1 (billable 5 >= 4 at t = 4); the second can start as late as 2027Q3
    (total billable 10, 15, 20 at t = 5, 6, 7 still >= 8, 12, 16) and does, to pay its capex later."""
    site = {**AI, "max_halls": 2, "secured_mw": 28}
    plan, sc, _ = solve(make_sites(site), max_ai_start_it_mw_per_quarter=float("inf"),
                        market_absorption_it_mw_per_quarter={"GA": 4.0})
    leased = col(plan, "Alpha", "ai_it_mw_leased")
    assert leased == pytest.approx([0, 0, 0, 0, 4, 8, 12, 16], abs=1e-6)
    assert all(b >= a - 1e-9 for a, b in zip(leased, leased[1:]))
    assert list(plan.builds["start_quarter"]) == ["2027Q1", "2027Q3"]
    best, runner_up = hand_optimum(sc, site, lead=4, capex_per_mw=8.5e6)
    assert_unique(best, runner_up)
    assert best["starts"] == (0, 2) and best["leased"] == [0, 0, 0, 0, 4, 8, 12, 16]
    assert plan.info.npv_usd == pytest.approx(best["npv"], rel=1e-9)


def test_leases_never_fall_even_when_the_margin_turns_negative():
    """X2 binding: no terminal value, a contracted hall started 2027Q1, a carbon price and a grid CO2 rate
    rising 60%/yr (decline -0.6) make the net lease margin per MW-quarter
    m[t] = (1 - phi) rate[t] - p_c c[t] e_ai positive up to t = 6 and negative at t = 7. Without X2 the
    plan would drop its lease at t = 7; with it, the increments at t = 4 and t = 5 are worth
    V_k = sum_{t>=k} df[t] m[t] > 0, so leases are 5, 10, 10, 10 and stay 10 at t = 7."""
    sc0 = make_scenario(**SHORT)
    qs = quarters("2027Q1", 8)
    site = {**AI, "grid_tco2_per_mwh": 0.4, "committed_halls": 1}
    e_ai = 24 * sc0.quarter_days * sc0.ai_pue * sc0.ai_load_factor
    c = [0.4 * (1 + 0.6) ** ((ordinal(q) - ordinal("2023Q1")) / 4) for q in qs]
    net = [(1 - sc0.landlord_opex_share) * lease_rate(sc0, q) for q in qs]
    # a carbon price that makes the margin cross 0 between t = 6 and t = 7
    price = round(net[7] / (e_ai * math.sqrt(c[6] * c[7])), 2)
    plan, sc, _ = solve(make_sites(site), terminal_quarters=0, carbon_price_usd_per_t=price,
                        grid_tco2_decline_per_yr={"SRSO": -0.6})
    margin = [net[t] - price * c[t] * e_ai for t in range(8)]
    assert margin[6] > 0 > margin[7]
    value = {k: sum(df(sc, t) * margin[t] for t in range(k, 8)) for k in (4, 5)}
    assert value[4] > 0 and value[5] > 0
    leased = [0, 0, 0, 0, 5, 10, 10, 10]
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    npv = sum(df(sc, t) * margin[t] * leased[t] for t in range(8)) - sum(df(sc, j) * 21.25e6 for j in range(4))
    assert plan.info.npv_usd == pytest.approx(npv, rel=1e-9)


# ================================================================ 7. earliest revenue quarter

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


# ================================================================ 8. capex budget

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


# ================================================================ 9. objective and terminal value

def test_objective_is_the_discounted_cashflow_with_the_terminal_value():
    """N1/N2/X5: a mining site (BTC $200k) and an AI hall, 6 terminal quarters. The objective equals
    sum_j df[j] * (inflows - outflows) of plan.cashflow rebuilt with the hand df, and the hand NPV; the
    terminal value is 0.92 * rate(2028Q4) * 10 MW * df[7] * a (1 - a^6) / (1 - a), a = 1.1^-1/4, equal to
    the discounted post-horizon lease margin rows."""
    sites = make_sites({"name": "Miner", "secured_mw": 50}, AI)
    plan, sc, _ = solve(sites, btc_price_usd_2026=200_000.0, terminal_quarters=6)
    T, qs = 8, quarters("2027Q1", 8)
    cash = plan.cashflow
    assert len(cash) == T + 6
    inflow = cash["lease_revenue_usd"] + cash["mining_revenue_usd"]
    outflow = (cash["ai_opex_usd"] + cash["mining_power_cost_usd"] + cash["mining_opex_usd"]
               + cash["ai_capex_usd"] + cash["site_opening_usd"])
    rebuilt = sum(df(sc, j) * (i - o) for j, (i, o) in enumerate(zip(inflow, outflow)))
    assert plan.info.npv_usd == pytest.approx(rebuilt, rel=1e-6)
    assert plan.info.npv_usd == pytest.approx(plan.cashflow["discounted_cash_flow_usd"].sum(), rel=1e-6)
    # terminal value by hand
    rate_last = 1500 * 1000 * 3 * 0.97 * 1.02 ** (11 / 4)
    a = 1.1 ** -0.25
    tv = 0.92 * rate_last * 10 * 1.1 ** (-8 / 4) * a * (1 - a ** 6) / (1 - a)
    assert tv == pytest.approx(terminal_value(sc, 10.0, T), rel=1e-12)
    post = cash[cash["period"] == "post-horizon"]
    assert list(post["lease_revenue_usd"]) == pytest.approx([rate_last * 10] * 6, rel=1e-12)
    assert sum(df(sc, T + i) * (r - o) for i, (r, o) in enumerate(zip(post["lease_revenue_usd"], post["ai_opex_usd"]))
               ) == pytest.approx(tv, rel=1e-9)
    # the whole NPV by hand: miners at capacity every quarter + one hall started 2027Q1
    margin = [mining_per_it_mw(sc, q, 50.0)["margin"] for q in qs]
    assert min(margin) > 0
    mining = sum(df(sc, t) * margin[t] * 50 / 1.06 for t in range(T))
    hall = hand_schedule(sc, AI, (0,), lead=4, capex_per_mw=8.5e6)
    assert hall["leased"] == [0, 0, 0, 0, 5, 10, 10, 10]
    assert plan.info.npv_usd == pytest.approx(mining + hall["npv"], rel=1e-9)
    # the model's discount factors follow the convention
    d = build_model_data(sites, sc)
    assert list(d.discount_factor) == pytest.approx([df(sc, j) for j in range(T + 6)], rel=1e-12)
