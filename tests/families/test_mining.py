"""Mining family (optimizer/formulation/mining.py), proved on hand-computed tiny cases.

The existing fleet (NEUTRAL_MINING: alive through the horizon, no purchases): miners run at their installed
fleet E_s = P / pue_mine (M1) in every quarter whose margin per IT MW, (1 - pool fee) hashprice revenue - power -
opex (M4), is positive, and not at all otherwise (the 2028Q2 halving, BTC at $0); uptime scales revenue, power
and opex alike; the NPV is sum_t df[t] max(0, margin) y.

The fleet as vintages (ASIC purchases switched on): a refresh pays below a break-even power price computed by
hand and not above it (M1/M5/M6); a vintage runs from its delivery for its life and is sold at the salvage
share in its retirement quarter (M1/M5/M6); the existing fleet stops at its retirement quarter (M1); power
that arrives later is used only through purchases plus mining infrastructure (M2/M5); the purchase cap binds
(M7); cheaper ASICs never mine less (metamorphic). The hand side reads only scenario values and ModelData's
input tables (hand.vintage, hand.mining_at); the check tests prove that each part of `mining.check` flags a
corrupted table.
"""

import numpy as np
import pytest

from optimizer.formulation import mining, power
from tests.conftest import make_scenario, make_sites, site_column, solve_case
from tests.conftest import site_column as col
from tests.families.hand import MINER, SHORT, T, approx, asic_usd_per_th, break_even, corrupt, df, \
    frontier_j_per_th, mining_at, mining_margins, mining_per_it_mw, quarters, solve, vintage

PUE = 1.06
I0 = 100 / PUE                                  # IT MW of miners a 100 MW site holds
QS = quarters("2027Q1", T)
BUY = dict(asic_purchase_max_ths_per_quarter=float("inf"))   # purchases on (NEUTRAL_MINING switches them off)


@pytest.mark.parametrize("uptime", [0.95, 0.5])
def test_mining_runs_installed_capacity_only_in_positive_margin_quarters(uptime):
    """M1/M3/M4 + P1: 100 grid MW site, power $50/MWh, a ledger step of -30 MW in 2027Q3. Installed miners
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
    """M1/M4: with BTC at $0 the margin is -(power + opex) < 0 every quarter: no miner runs, NPV = 0."""
    plan, sc, _ = solve(make_sites({"name": "Miner", "secured_mw": 100}), btc_price_usd_2026=0.0)
    margin = [mining_per_it_mw(sc, q, 50.0)["margin"] for q in quarters("2027Q1", 8)]
    assert margin[0] == pytest.approx(-(1.06 * 24 * 91.3 * 0.95 * (50 * 1.03 + 5)), rel=1e-12)
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx([0.0] * 8, abs=1e-9)
    assert plan.info.npv_usd == pytest.approx(0.0, abs=1e-3)


def test_mining_runs_when_the_margin_is_positive():
    """M1/M4: 100 MW of miners (E = 100 / pue_mine IT MW) run in every quarter whose margin per IT MW
    (revenue - power - opex) is positive, and not at all otherwise; NPV = sum_t df[t] max(0, margin) M."""
    sites = make_sites({"name": "Miner", "secured_mw": 100})
    plan, d = solve_case(sites, btc_price_usd_2026=75_000)
    margin = mining_margins(d)
    assert min(margin) < 0 < max(margin)  # the 2028Q2 halving turns the margin negative
    capacity = 100 / d.base.mining_pue
    assert site_column(plan, "Miner", "mining_it_mw") == pytest.approx([capacity if m > 0 else 0.0 for m in margin])
    expected = sum(d.discount_factor[t] * max(0.0, margin[t]) * capacity for t in range(T))
    assert plan.kpis["npv_usd"] == pytest.approx(expected, rel=1e-9)


def test_btc_price_zero_runs_no_miners():
    """M1: no miner runs when every margin is negative."""
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
    assert "mining: miners outside 0..the installed fleet at Miner 2027Q1." in mining.check(broken)


@pytest.mark.parametrize("column, change, problem", [
    ("mining_it_mw", dict(to=-1.0), "mining: miners outside 0..the installed fleet at Miner 2027Q1."),
    ("mining_grid_mw", dict(by=1.0), "mining: grid MW are not pue_mine x IT MW at Miner 2027Q1."),
    ("mining_revenue_usd", dict(by=1e6), "cash flow: Schedule mining_revenue_usd does not add up to CashFlow "
                                         "mining_revenue_usd."),
])
def test_check_flags_each_mining_part(miner, column, change, problem):
    """M1/M3/M4 check: a negative miner, grid MW that are not pue_mine x IT MW, a Schedule money cell that no
    longer adds up to its CashFlow line."""
    assert problem in mining.check(corrupt(miner, "schedule", 0, column, **change))


# ---------------------------------------------------------------- the fleet as vintages

def hand_npv_of_refresh(sc, power_2026: float) -> tuple[int, float]:
    """The best vintage to refresh a site without a fleet and its NPV per IT MW (hand.vintage). With an ASIC
    life longer than the horizon every vintage bought lives to the horizon end, so the fleet-fits row (M2) at
    the last quarter reads sum_v a[v] <= I0: the optimum puts all of I0 into the best vintage, if it pays."""
    npvs = [vintage(sc, v, power_2026)["npv"] for v in range(T - 1)]   # bought in T-1: runs after the horizon
    best = max(range(T - 1), key=lambda v: npvs[v])
    return best, npvs[best]


@pytest.fixture(scope="module")
def refresh():
    """Hand break-even of the refresh case: power price p* (2026 level, USD/MWh) at which the best vintage,
    the one bought in 2027Q1, just pays."""
    sc = make_scenario(**SHORT, **BUY, fleet_retire_quarter="2027Q1")
    p_star = break_even(lambda p: hand_npv_of_refresh(sc, p)[1], 20.0, 80.0)
    return sc, p_star


def test_refresh_break_even_is_computed_by_hand(refresh):
    """M1/M5/M6 by hand: vintage 0 (2027Q1) has J_0 = 12 * 0.88^(4/4) = 10.56 J/TH, p_A = 14 * 0.88 = 12.32
    $/TH, so an IT MW of it holds k_0 = 1e6 / 10.56 = 94,697 TH/s and costs 12.32 k_0 = $1,166,667; it runs
    2027Q2..2028Q4 (delivery 1 quarter) and, alive at the horizon end (life 16), is sold in 2029Q1 at its book
    value 0.05 + 0.95 * 9/16 = 0.584375 of its price. It pays iff
    sum_{t=1..7} df[t] max(0, margin_0[t]) + df[8] 0.584375 price > df[0] price; the break-even power price
    is p* = $46.63/MWh in 2026 (2027Q1: p* * 1.03 = $48.03), where no later vintage pays either."""
    sc, p_star = refresh
    h = vintage(sc, 0, p_star)
    assert (h["j_per_th"], h["usd_per_th"]) == (pytest.approx(10.56), pytest.approx(12.32))
    assert h["price"] == pytest.approx(12.32e6 / 10.56)
    assert h["live"] == list(range(1, T)) and h["sale"] == T and h["share"] == pytest.approx(0.584375)
    assert p_star == pytest.approx(46.6275, abs=1e-3)
    earned = sum(df(sc, t) * max(0.0, m) for t, m in h["margin"].items()) + df(sc, T) * h["share"] * h["price"]
    assert earned == pytest.approx(df(sc, 0) * h["price"], rel=1e-9)
    assert all(vintage(sc, v, p_star)["npv"] < 0 for v in range(1, T - 1))
    assert min(h["margin"].values()) > 0   # at p* vintage 0 runs every quarter, the halving included


@pytest.mark.parametrize("side", ["cheap", "dear"])
@pytest.mark.parametrize("no_fleet", ["retired at the horizon start", "fleet_ths = 0"])
def test_refresh_pays_when_power_is_cheap_and_not_when_it_is_dear(refresh, side, no_fleet):
    """M1/M2/M5/M6: a 100 MW site without a fleet (it retires at 2027Q1, or the site has fleet_ths = 0), ASIC
    purchases allowed, power $2/MWh below or above the hand break-even p*: on the cheap side the whole
    I0 = 94.34 IT MW is bought in 2027Q1 (k_0 I0 TH/s at p_A[0]) and runs where its margin is positive, NPV =
    I0 * (sum df max(0, margin) - df[0] price + df[8] book value); on the dear side nothing is bought, NPV = 0."""
    sc, p_star = refresh
    power_2026 = p_star - 2.0 if side == "cheap" else p_star + 2.0
    site = {"name": "Miner", "secured_mw": 100, "power_usd_per_mwh_2026": power_2026}
    if no_fleet == "fleet_ths = 0":
        plan, d = solve_case(make_sites({**site, "fleet_ths": 0}), **BUY)
    else:
        plan, d = solve_case(make_sites(site), **BUY, fleet_retire_quarter="2027Q1")
    best, npv = hand_npv_of_refresh(sc, power_2026)
    h = vintage(sc, 0, power_2026)
    assert mining_margins(d, j_per_th=h["j_per_th"])[1:] == pytest.approx(list(h["margin"].values()), rel=1e-9)
    bought = col(plan, "Miner", "asic_bought_ths")
    if side == "cheap":
        assert best == 0 and npv > 0
        assert bought == pytest.approx([I0 * h["ths_per_it_mw"]] + [0.0] * (T - 1), rel=1e-9, abs=1e-3)
        assert col(plan, "Miner", "asic_capex_usd") == approx([I0 * h["ths_per_it_mw"] * 12.32] + [0.0] * (T - 1))
        assert col(plan, "Miner", "mining_it_mw") == pytest.approx(
            [0.0] + [I0 if h["margin"][t] > 0 else 0.0 for t in range(1, T)], abs=1e-6)
        assert plan.info.npv_usd == approx(I0 * npv)
    else:
        assert npv < 0
        assert bought == pytest.approx([0.0] * T, abs=1e-3)
        assert col(plan, "Miner", "mining_it_mw") == pytest.approx([0.0] * T, abs=1e-9)
        assert plan.info.npv_usd == pytest.approx(0.0, abs=1e-3)
    assert mining.check(plan) == []


LIFE = dict(**BUY, asic_life_quarters=3, asic_usd_per_th_2026=3.0)
SHORT_LIVED = {"name": "Miner", "secured_mw": 100, "power_usd_per_mwh_2026": 65, "fleet_retire_quarter": "2027Q3"}


@pytest.fixture(scope="module")
def short_lived():
    """The existing fleet (16.7 J/TH, filling I0) retires at 2027Q3 (site field); ASICs at $3/TH in 2026 with a
    3-quarter life, power $65/MWh."""
    return solve_case(make_sites(SHORT_LIVED), **LIFE)


def test_a_vintage_runs_from_delivery_for_its_life_and_is_sold_at_retirement(short_lived):
    """M1/M2/M5/M6 by hand: the existing fleet fills I0 until 2027Q3, so vintage 0 cannot fit (M2: E + a[0] <=
    I0 in 2027Q2); vintage 1 (bought 2027Q2, J_1 = 12 * 0.88^(5/4), p_A[1] = 3 * 0.88^(5/4)) runs 2027Q3..2028Q1
    (t = 1 + d_A .. 1 + d_A + L_A - 1) and is sold in 2028Q2 at 5% of its price. By hand it has the best NPV per
    IT MW of the vintages 1..6 that share the 2028Q1 fleet-fits row (later ones run into the halving, where the
    margin at $65 is negative even at the frontier J/TH), so I0 of it is bought. Schedule: miners I0 every
    quarter to 2028Q1, 0 after; fleet EH/s = I0 k_E / 1e6 (k_E = 1e6 / 16.7) then I0 k_1 / 1e6; J/TH 16.7 then
    J_1; capex k_1 I0 p_A[1] in 2027Q2 only; CashFlow salvage 0.05 of it in 2028Q2 only (no book value later).
    NPV = I0 (sum_{t<2} df m_E[t] + vintage 1's NPV)."""
    plan, d = short_lived
    sc = make_scenario(**SHORT, **LIFE)
    v1 = vintage(sc, 1, 65.0)
    assert v1["live"] == [2, 3, 4] and (v1["sale"], v1["share"]) == (5, 0.05)
    assert v1["j_per_th"] == pytest.approx(12 * 0.88 ** 1.25) and v1["usd_per_th"] == pytest.approx(3 * 0.88 ** 1.25)
    assert all(v1["npv"] > vintage(sc, v, 65.0)["npv"] for v in range(2, T - 1)) and v1["npv"] > 0
    assert all(m < 0 for v in range(2, T - 1) for t, m in vintage(sc, v, 65.0)["margin"].items() if t >= 5)
    assert all(m > 0 for m in v1["margin"].values())
    existing = [mining_at(sc, q, 65.0, 16.7)["margin"] for q in QS[:2]]
    assert min(existing) > 0
    k_e, k_1 = 1e6 / 16.7, v1["ths_per_it_mw"]
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx([I0] * 5 + [0.0] * 3, abs=1e-6)
    assert col(plan, "Miner", "fleet_it_mw") == pytest.approx([I0] * 5 + [0.0] * 3, abs=1e-6)
    assert col(plan, "Miner", "fleet_ehs") == pytest.approx([I0 * k_e / 1e6] * 2 + [I0 * k_1 / 1e6] * 3 + [0.0] * 3)
    assert col(plan, "Miner", "mining_ehs") == pytest.approx(col(plan, "Miner", "fleet_ehs"))
    assert col(plan, "Miner", "fleet_j_per_th") == pytest.approx([16.7] * 2 + [v1["j_per_th"]] * 3 + [0.0] * 3)
    price = I0 * k_1 * v1["usd_per_th"]
    assert col(plan, "Miner", "asic_bought_ths") == pytest.approx([0.0, I0 * k_1] + [0.0] * 6, abs=1e-3)
    assert col(plan, "Miner", "asic_capex_usd") == approx([0.0, price] + [0.0] * 6)
    cash = plan.cashflow
    assert cash["asic_capex_usd"].to_list() == approx([0.0, price] + [0.0] * (len(cash) - 2))
    assert cash["asic_salvage_usd"].to_list() == approx([0.0] * 5 + [0.05 * price] + [0.0] * (len(cash) - 6))
    npv = I0 * (sum(df(sc, t) * existing[t] for t in range(2)) + v1["npv"])
    assert plan.info.npv_usd == approx(npv)
    assert mining.check(plan) == [] and power.check(plan) == []


def test_the_existing_fleet_stops_at_its_retirement_quarter():
    """M1: no purchases (NEUTRAL_MINING). Site A leaves the fleet fields blank: its fleet fills I0 = 94.34 IT MW
    at the scenario's 16.7 J/TH and retires at the scenario's fleet_retire_quarter 2027Q4; site B has
    fleet_ths = 2,000,000 TH/s at fleet_j_per_th = 20 (E = 2e6 * 20 / 1e6 = 40 IT MW) and retires at its own
    2028Q1. Power $20/MWh: every margin is positive while they live (hand), so A runs I0 in 2027Q1-Q3, B 40 IT
    MW in 2027Q1-2028Q1, nothing after; the retired MW are idle for want of a fleet. NPV = sum df margin y."""
    sites = make_sites({"name": "A", "power_usd_per_mwh_2026": 20, "fleet_ths": "", "fleet_j_per_th": "",
                        "fleet_retire_quarter": ""},
                       {"name": "B", "power_usd_per_mwh_2026": 20, "fleet_ths": 2e6, "fleet_j_per_th": 20,
                        "fleet_retire_quarter": "2028Q1"})
    plan, _ = solve_case(sites, fleet_retire_quarter="2027Q4")
    sc = make_scenario(**SHORT, fleet_retire_quarter="2027Q4")
    hand = {"A": ([I0] * 3 + [0.0] * 5, 16.7), "B": ([40.0] * 4 + [0.0] * 4, 20.0)}
    npv = 0.0
    for site, (fleet, j) in hand.items():
        margin = [mining_at(sc, q, 20.0, j)["margin"] for q in QS]
        assert all(m > 0 for m, y in zip(margin, fleet) if y > 0)
        assert col(plan, site, "mining_it_mw") == pytest.approx(fleet, abs=1e-6)
        assert col(plan, site, "fleet_it_mw") == pytest.approx(fleet, abs=1e-6)
        assert col(plan, site, "fleet_j_per_th") == pytest.approx([j if y else 0.0 for y in fleet])
        assert col(plan, site, "idle_no_fleet_mw") == pytest.approx([100 - PUE * y for y in fleet], abs=1e-6)
        npv += sum(df(sc, t) * margin[t] * fleet[t] for t in range(T))
    assert plan.info.npv_usd == approx(npv)
    assert mining.check(plan) == [] and power.check(plan) == []


GROWS = {"name": "Miner", "secured_mw": 100, "power_steps": "2027Q3:+50", "power_usd_per_mwh_2026": 25}
NEW = 50 / PUE   # IT MW the 50 MW step holds


def hand_infrastructure(sc, power_2026: float) -> tuple[int, float]:
    """Best vintage for the 50 MW that arrive in 2027Q3 (t = 2), and its NPV per IT MW (M2/M5): it is installed
    from v + d_A, which needs mining infrastructure X from then on (paid df[v + d_A] c_X), earns only from 2027Q3
    (P1: the existing fleet holds the first 100 MW), and all vintages share I0 + sum X <= Imax (alive to the
    end), so the optimum puts all 50 / 1.06 IT MW into the best vintage."""
    def value(v):
        h = vintage(sc, v, power_2026)
        early = sum(df(sc, t) * max(0.0, m) for t, m in h["margin"].items() if t < 2)
        return h["npv"] - early - df(sc, v + sc.asic_delivery_quarters) * sc.mining_infra_usd_per_it_mw
    values = [value(v) for v in range(T - 1)]
    best = max(range(T - 1), key=lambda v: values[v])
    return best, values[best]


@pytest.mark.parametrize("case", ["pays", "infrastructure too dear", "no purchases"])
def test_new_power_is_mined_only_through_purchases_and_infrastructure(case):
    """M1/M2/M5 by hand: 100 MW at $25/MWh whose existing fleet fills I0 = 94.34 IT MW, +50 MW in 2027Q3. The
    extra 47.17 IT MW can only run on new ASICs in new infrastructure. At c_X = $100k/IT MW the best vintage
    (by hand: 2027Q2, installed 2027Q3) pays: 47.17 IT MW bought in 2027Q2, X = 47.17 IT MW in 2027Q3 (capex
    c_X X then), miners 141.5 IT MW from 2027Q3; NPV = I0 sum df m_E + 47.17 * its NPV. At the default $350k
    (or with purchases off) nothing is bought and the 50 MW idle for want of a fleet."""
    values = {"pays": dict(mining_infra_usd_per_it_mw=100_000.0), "infrastructure too dear": {},
              "no purchases": dict(mining_infra_usd_per_it_mw=100_000.0, asic_purchase_max_ths_per_quarter=0.0)}
    scenario = {**BUY, **values[case]}
    plan, d = solve_case(make_sites(GROWS), **scenario)
    sc = make_scenario(**SHORT, **scenario)
    assert (d.mining_capacity_it_mw["Miner"], d.mining_peak_it_mw["Miner"]) == (pytest.approx(I0),
                                                                                pytest.approx(150 / PUE))
    existing = [mining_at(sc, q, 25.0, 16.7)["margin"] for q in QS]
    assert min(existing) > 0
    npv = I0 * sum(df(sc, t) * existing[t] for t in range(T))
    best, value = hand_infrastructure(sc, 25.0)
    if case == "pays":
        assert best == 1 and value > 0
        h = vintage(sc, 1, 25.0)
        assert all(m > 0 for m in h["margin"].values())
        assert col(plan, "Miner", "asic_bought_ths") == pytest.approx([0.0, NEW * h["ths_per_it_mw"]] + [0.0] * 6,
                                                                      abs=1e-3)
        assert col(plan, "Miner", "mining_infra_it_mw") == pytest.approx([I0] * 2 + [I0 + NEW] * 6)
        assert col(plan, "Miner", "mining_infrastructure_usd") == approx([0.0, 0.0, 100_000 * NEW] + [0.0] * 5)
        assert plan.cashflow["mining_infrastructure_usd"].to_list()[:T] == approx([0.0, 0.0, 100_000 * NEW] + [0.0] * 5)
        assert col(plan, "Miner", "fleet_it_mw") == pytest.approx([I0] * 2 + [I0 + NEW] * 6)
        assert col(plan, "Miner", "mining_it_mw") == pytest.approx([I0] * 2 + [I0 + NEW] * 6, abs=1e-6)
        assert col(plan, "Miner", "idle_no_fleet_mw") == pytest.approx([0.0] * T, abs=1e-6)
        npv += NEW * value
    else:
        assert case == "no purchases" or value < 0
        assert col(plan, "Miner", "asic_bought_ths") == pytest.approx([0.0] * T, abs=1e-3)
        assert col(plan, "Miner", "mining_infra_it_mw") == pytest.approx([I0] * T)
        assert col(plan, "Miner", "mining_it_mw") == pytest.approx([I0] * T, abs=1e-6)
        assert col(plan, "Miner", "idle_no_fleet_mw") == pytest.approx([0.0] * 2 + [50.0] * 6, abs=1e-6)
    assert plan.info.npv_usd == approx(npv)
    assert mining.check(plan) == [] and power.check(plan) == []


def test_the_asic_purchase_cap_binds():
    """M7 by hand: a 100 MW site at $20/MWh without a fleet (retires 2027Q1), purchases capped at Cap_A = 2
    EH/s (2e6 TH/s) a quarter. By hand vintages 0..3 pay and 4..6 do not (they run into the halving); the cap
    holds a[v] <= Cap_A / k_v = 2 J_v IT MW, and 2 (J_0 + .. + J_3) = 80.6 IT MW < I0, so each of 2027Q1-2028Q1
    buys exactly 2e6 TH/s, which run from the next quarter; NPV = sum_v 2 J_v NPV_v. Uncapped, all of I0 goes
    into vintage 0."""
    cap = 2e6
    plan, d = solve_case(make_sites({"name": "Miner", "power_usd_per_mwh_2026": 20}),
                         fleet_retire_quarter="2027Q1", asic_purchase_max_ths_per_quarter=cap)
    sc = make_scenario(**SHORT, fleet_retire_quarter="2027Q1")
    hands = [vintage(sc, v, 20.0) for v in range(T - 1)]
    assert [h["npv"] > 0 for h in hands] == [True] * 4 + [False] * 3
    mw = [cap / hands[v]["ths_per_it_mw"] for v in range(4)]
    assert mw == pytest.approx([2 * frontier_j_per_th(sc, QS[v]) for v in range(4)])
    assert sum(mw) == pytest.approx(80.58, abs=0.01) and sum(mw) < I0
    assert col(plan, "Miner", "asic_bought_ths") == pytest.approx([cap] * 4 + [0.0] * 4, abs=1e-3)
    assert col(plan, "Miner", "asic_capex_usd") == approx(
        [cap * asic_usd_per_th(sc, QS[v]) for v in range(4)] + [0.0] * 4)
    running = [sum(mw[v] for v in range(4) if v < t and hands[v]["margin"][t] > 0) for t in range(T)]
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx(running, abs=1e-6)
    assert plan.info.npv_usd == approx(sum(mw[v] * hands[v]["npv"] for v in range(4)))
    uncapped, _ = solve_case(make_sites({"name": "Miner", "power_usd_per_mwh_2026": 20}), **BUY,
                             fleet_retire_quarter="2027Q1")
    assert col(uncapped, "Miner", "asic_bought_ths") == pytest.approx([I0 * hands[0]["ths_per_it_mw"]] + [0.0] * 7,
                                                                      abs=1e-3)
    assert uncapped.info.npv_usd == approx(I0 * hands[0]["npv"])
    assert mining.check(plan) == []


@pytest.fixture(scope="module")
def rivals():
    """Two sites: North (60 MW, $30/MWh, its fleet retires 2027Q3) mines only; South (40 MW, $35/MWh, fleet
    retires 2027Q2) may mine or build up to two 10 IT MW halls at $500/kW-month; ASIC purchases allowed."""
    return make_sites({"name": "North", "secured_mw": 60, "power_usd_per_mwh_2026": 30,
                       "fleet_retire_quarter": "2027Q3"},
                      {"name": "South", "secured_mw": 40, "power_usd_per_mwh_2026": 35, "ai_eligible": "true",
                       "hall_it_mw": 10, "max_halls": 2, "fleet_retire_quarter": "2027Q2"})


def test_cheaper_asics_never_mine_less(rivals):
    """Metamorphic (M1/M2/M5 against H1/P1): lowering asic_usd_per_th_2026 (30 -> 18 -> 14 -> 8 -> 2 $/TH)
    makes every vintage cheaper and nothing else, so the operated mining MW summed over sites and quarters never
    falls: a cheaper refresh only adds purchases or takes power from halls. The case is not vacuous: the sum
    rises from the dearest to the cheapest price, and the halls at the dearest price give way to miners."""
    mined, halls = [], []
    for price in (30.0, 18.0, 14.0, 8.0, 2.0):
        plan, _ = solve_case(rivals, **BUY, asic_usd_per_th_2026=price, lease_usd_per_kw_month=500.0)
        assert plan.info.status == "optimal" and mining.check(plan) == []
        mined.append(float(plan.schedule["mining_it_mw"].sum()))
        halls.append(len(plan.builds))
    assert all(later >= earlier - 1e-6 for earlier, later in zip(mined, mined[1:])), mined
    assert mined[-1] > mined[0] + 100 and halls[0] > 0 == halls[-1]


# ---------------------------------------------------------------- mining.check on corrupted tables

@pytest.mark.parametrize("table, row, column, change, problem", [
    ("schedule", 0, "mining_it_mw", dict(by=1.0), ["mining: miners outside 0..the installed fleet at Miner 2027Q1.",
                                                    "mining: grid MW are not pue_mine x IT MW at Miner 2027Q1."]),
    ("schedule", 2, "mining_infra_it_mw", dict(by=-1.0),
     "mining: the fleet exceeds the mining infrastructure at Miner 2027Q3."),
    ("schedule", 2, "fleet_it_mw", dict(by=1.0),
     "mining: the fleet exceeds the mining infrastructure at Miner 2027Q3."),
    ("schedule", 2, "fleet_ehs", dict(by=0.1),
     "mining: the installed fleet is not the existing fleet plus the live purchases at Miner 2027Q3."),
    ("schedule", 5, "fleet_ehs", dict(to=9.2), "mining: the installed fleet is not the existing fleet plus the live "
                                               "purchases at Miner 2028Q2."),
    ("schedule", 0, "mining_grid_mw", dict(by=1.0), "mining: grid MW are not pue_mine x IT MW at Miner 2027Q1."),
    ("schedule", 1, "asic_capex_usd", dict(by=1e3),
     ["mining: ASIC capex is not the TH/s bought x the quarter's $/TH at Miner 2027Q2.",
      "cash flow: Schedule asic_capex_usd does not add up to CashFlow asic_capex_usd."]),
    ("cashflow", 1, "asic_capex_usd", dict(by=1e3),
     "cash flow: Schedule asic_capex_usd does not add up to CashFlow asic_capex_usd."),
    ("schedule", 2, "mining_revenue_usd", dict(by=1e6),
     "cash flow: Schedule mining_revenue_usd does not add up to CashFlow mining_revenue_usd."),
    ("schedule", 2, "mining_power_cost_usd", dict(by=1e3),
     "cash flow: Schedule mining_power_cost_usd does not add up to CashFlow mining_power_cost_usd."),
    ("schedule", 2, "mining_opex_usd", dict(by=1e3),
     "cash flow: Schedule mining_opex_usd does not add up to CashFlow mining_opex_usd."),
    ("cashflow", 2, "mining_infrastructure_usd", dict(by=1e3),
     "cash flow: Schedule mining_infrastructure_usd does not add up to CashFlow mining_infrastructure_usd."),
], ids=["M1 miners", "M2 infrastructure", "M2 fleet", "M1 fleet", "M1 retired", "M3 grid", "M5 capex",
        "M5 capex cash", "M4 revenue", "M4 power", "M4 opex", "M5 infrastructure cash"])
def test_check_flags_each_fleet_part(short_lived, table, row, column, change, problem):
    """M1-M5 check on the short-lived-vintage plan (existing fleet to 2027Q2, vintage 1 in 2027Q3-2028Q1): miners
    above the fleet; a fleet above its infrastructure (either side moved); a fleet that is not the existing fleet
    plus the purchases alive (one moved, and vintage 1's EH/s put back in 2028Q2, after its retirement); grid MW
    not pue_mine x IT MW; ASIC capex not TH/s bought x $/TH; each mining money line of the Schedule no longer
    adding up to CashFlow's. The plan itself passes; each corruption is named where it is, and nothing else
    (a miner moved also moves its grid MW ratio, Schedule capex also its CashFlow sum)."""
    plan = short_lived[0]
    assert mining.check(plan) == []
    expected = problem if isinstance(problem, list) else [problem]
    assert mining.check(corrupt(plan, table, row, column, **change)) == expected


def test_an_old_fleet_is_retired_early_to_make_room_for_a_refresh():
    """M9 with M1/M2: a 100 MW site at $40/MWh holds an old 30 J/TH fleet that would live past the horizon.
    A frontier vintage (10.56 J/TH in 2027Q1) earns ~3x as much per MW, so the plan retires the old fleet for
    good (R rises to E_s and never falls), buys into the freed infrastructure and earns more than the same
    site without purchases; the fleet never exceeds the infrastructure. A retirement that falls is flagged."""
    site = {"name": "Miner", "secured_mw": 100, "power_usd_per_mwh_2026": 40, "fleet_j_per_th": 30}
    plan, d = solve_case(make_sites(site), **BUY)
    kept, _ = solve_case(make_sites(site))
    retired = col(plan, "Miner", "fleet_retired_it_mw")
    assert max(retired) == pytest.approx(100 / PUE) and all(b >= a - 1e-9 for a, b in zip(retired, retired[1:]))
    assert sum(col(plan, "Miner", "asic_bought_ths")) > 0
    fleet, infra = col(plan, "Miner", "fleet_it_mw"), col(plan, "Miner", "mining_infra_it_mw")
    assert all(f <= i + 1e-6 for f, i in zip(fleet, infra))
    assert plan.info.npv_usd > kept.info.npv_usd
    i = int(np.argmax(np.array(retired) > 1.0))
    broken = corrupt(plan, "schedule", i + 1, "fleet_retired_it_mw", to=0.0)
    assert any("early retirement falls" in p for p in mining.check(broken))


def test_refresh_break_even_j_per_th_is_computed_by_hand():
    """M1/M5/M6 by hand, the other way round: at $60/MWh (2026; Tennessee's price) an IT MW of vintage 0 earns
    revenue proportional to k_0 = 1e6 / J_0 and costs p_A k_0, while its power and opex do not depend on J_0;
    so its NPV falls with J_0 and the break-even J* solves npv(J*) = 0 (hand bisection over the scenario's
    asic_j_per_th_2026, J_0 = 0.88 of it). The solver buys the site's 94.34 IT MW in 2027Q1 at 5% below J*
    and nothing at 5% above, with the hand NPV."""
    site = {"name": "Miner", "secured_mw": 100, "power_usd_per_mwh_2026": 60.0, "fleet_ths": 0}
    npv_at = lambda j26: vintage(make_scenario(**SHORT, **BUY, asic_j_per_th_2026=j26), 0, 60.0)["npv"]  # noqa: E731
    j_star = break_even(npv_at, 3.0, 20.0)
    assert 5.0 < 0.88 * j_star < 15.0  # a plausible frontier J/TH for 2027
    for j26, buys in ((0.95 * j_star, True), (1.05 * j_star, False)):
        plan, _ = solve_case(make_sites(site), **BUY, asic_j_per_th_2026=j26)
        h = vintage(make_scenario(**SHORT, **BUY, asic_j_per_th_2026=j26), 0, 60.0)
        bought = col(plan, "Miner", "asic_bought_ths")
        if buys:
            assert h["npv"] > 0 and bought[0] == pytest.approx(I0 * h["ths_per_it_mw"], rel=1e-9)
            assert sum(bought[1:]) == pytest.approx(0.0, abs=1e-3)
            assert plan.info.npv_usd == approx(I0 * h["npv"])
        else:
            assert h["npv"] < 0 and sum(bought) == pytest.approx(0.0, abs=1e-3)
            assert plan.info.npv_usd == approx(0.0)
