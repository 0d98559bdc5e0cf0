"""Flexibility family (optimizer/formulation/flexibility.py) and the idle-power reasons of the Schedule
(optimizer/formulation/power.py), proved on hand-computed tiny cases.

Enrolled miners (interruptible power, or firm power with flex_firm_opt_in) earn v_s / 4 per grid MW of miners
a quarter (G1) and are off a share cut_s of the hours, which scales their revenue, power and grid MWh by 1 - cut_s
(mining.py M4/M8); ERCOT sites default to v = 60,000 USD/MW-yr and c = 3% when enrolled. Idle firm power may be
resold at r_s over the site's power price where r_s > price (G2/G3), but not the power a hall reserves. The
hand side reads only scenario values (hand.mining_at, hand.hand_schedule) and never the solve. The idle MW of a
site-quarter splits into no fleet, unprofitable fleet, halls under construction and curtailed miners.
"""

import pytest

from optimizer.data import ERCOT_FLEXIBILITY
from optimizer.formulation import flexibility, mining, power
from tests.conftest import make_scenario, make_sites, site_column as col, solve_case
from tests.families.hand import SHORT, T, approx, corrupt, df, hand_optimum, hand_schedule, k26, \
    mining_at, quarters, same_fields

PUE = 1.06
I0 = 100 / PUE
QS = quarters("2027Q1", T)
HOURS = 24 * 91.3   # hours a quarter (quarter_days = 91.3)


def power_price(sc, q: str, price_2026: float) -> float:
    """The site's power price in quarter q: p_2026 * multiplier * (1 + escalation)^(k/4) [USD/MWh]."""
    return price_2026 * sc.power_price_multiplier * (1 + sc.power_price_escalation_per_yr) ** (k26(q) / 4)


# ---------------------------------------------------------------- G1: curtailment and demand-response credits

ENROLLED = {"name": "Miner", "secured_mw": 100, "power_class": "interruptible", "flex_usd_per_mw_yr": 200_000,
            "curtailed_share": 0.1}


@pytest.fixture(scope="module")
def enrolled():
    """100 MW of interruptible power at $50/MWh, v = $200,000/MW-yr, c = 10%: the existing fleet I0 = 94.34 IT MW."""
    return solve_case(make_sites(ENROLLED))


def test_flexibility_credit_is_mw_times_value_times_share(enrolled):
    """G1/M1/M4/M8 by hand: the credit is v / 4 * pue * y = 200,000 / 4 * 100 grid MW = $5M every quarter the
    miners run; revenue, power and grid MWh are (1 - 0.1) of the uncurtailed ones (hand.mining_at). The miners
    run every quarter, also after the 2028Q2 halving, where the margin without the credit is negative but the
    credit 200,000 / 4 * 1.06 = $53,000 per IT MW makes it positive. NPV = sum df (0.9 margin + credit) I0."""
    plan, d = enrolled
    sc = make_scenario(**SHORT)
    assert (d.flexibility_usd_per_mw_yr["Miner"], d.curtailed_hours_share["Miner"]) == (200_000, 0.1)
    full = [mining_at(sc, q, 50.0, 16.7) for q in QS]
    cut = [mining_at(sc, q, 50.0, 16.7, curtailed=0.1, flex=200_000) for q in QS]
    assert cut[0]["credit"] == pytest.approx(53_000)
    assert [c["margin"] - c["credit"] < 0 < c["margin"] for c in cut] == [False] * 5 + [True] * 3
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx([I0] * T, abs=1e-6)
    assert col(plan, "Miner", "flexibility_revenue_usd") == approx([200_000 / 4 * 100] * T)
    assert col(plan, "Miner", "mining_revenue_usd") == approx([0.9 * f["revenue"] * I0 for f in full])
    assert col(plan, "Miner", "mining_power_cost_usd") == approx([0.9 * f["power"] * I0 for f in full])
    assert col(plan, "Miner", "grid_mwh") == approx([0.9 * PUE * HOURS * 0.95 * I0] * T)
    assert plan.cashflow["flexibility_revenue_usd"].to_list()[:T] == approx([5e6] * T)
    assert plan.info.npv_usd == approx(sum(df(sc, t) * cut[t]["margin"] * I0 for t in range(T)))
    assert flexibility.check(plan) == [] and mining.check(plan) == [] and power.check(plan) == []


def test_without_the_credit_curtailed_miners_stop_at_the_halving():
    """G1/M1 by hand: the same site with v = 0 (c = 10%) runs only where 0.9 margin > 0, before the halving,
    earns no credit, and NPV = sum df 0.9 margin I0 over those quarters."""
    plan, _ = solve_case(make_sites({**ENROLLED, "flex_usd_per_mw_yr": 0}))
    sc = make_scenario(**SHORT)
    margin = [mining_at(sc, q, 50.0, 16.7, curtailed=0.1)["margin"] for q in QS]
    assert margin[0] == pytest.approx(0.9 * mining_at(sc, QS[0], 50.0, 16.7)["margin"])
    running = [I0 if m > 0 else 0.0 for m in margin]
    assert running == [I0] * 5 + [0.0] * 3
    assert col(plan, "Miner", "mining_it_mw") == pytest.approx(running, abs=1e-6)
    assert col(plan, "Miner", "flexibility_revenue_usd") == pytest.approx([0.0] * T, abs=1e-6)
    assert plan.info.npv_usd == approx(sum(df(sc, t) * margin[t] * running[t] for t in range(T)))


TEXAS = {"state": "TX", "lat": 31.0, "lon": -100.0, "egrid_subregion": "ERCT", "market": "TX"}


def test_ercot_sites_get_the_default_credit_and_ga_firm_sites_none():
    """G1 defaults (optimizer/data.py build_values): blank flex fields. An interruptible ERCOT site, and a firm
    ERCOT site that opts in, get v = 60,000 USD/MW-yr and c = 3%: credit 60,000 / 4 * 100 grid MW = $1.5M a
    quarter, revenue per TH/s 0.97 of the uncurtailed one. A GA firm site without opt-in gets neither; a GA
    firm site that opts in gets the non-ERCOT default 0; an ERCOT firm site without opt-in is not enrolled (0)."""
    assert ERCOT_FLEXIBILITY == (60_000.0, 0.03)
    rows = [{"name": "TexInt", **TEXAS, "power_class": "interruptible"}, {"name": "TexOpt", **TEXAS,
            "flex_firm_opt_in": "true"}, {"name": "TexFirm", **TEXAS}, {"name": "Ga"},
            {"name": "GaOpt", "flex_firm_opt_in": "true"}]
    plan, d = solve_case(make_sites(*same_fields(*rows)), btc_price_usd_2026=150_000)
    enrolled = {"TexInt": True, "TexOpt": True, "TexFirm": False, "Ga": False, "GaOpt": False}
    revenue = d.site_quarter.xs(("Ga", 0, "base"))["mining_revenue_usd_per_ths"]
    for site, on in enrolled.items():
        value, share = (60_000.0, 0.03) if on else (0.0, 0.0)
        assert (d.flexibility_usd_per_mw_yr[site], d.curtailed_hours_share[site]) == (value, share), site
        assert d.site_quarter.xs((site, 0, "base"))["mining_revenue_usd_per_ths"] == pytest.approx(
            (1 - share) * revenue, rel=1e-12)
        assert col(plan, site, "mining_grid_mw") == pytest.approx([100.0] * T, abs=1e-6)
        assert col(plan, site, "flexibility_revenue_usd") == approx([value / 4 * 100] * T)
        assert col(plan, site, "idle_curtailed_mw") == pytest.approx([share * 100] * T, abs=1e-6)
    assert flexibility.check(plan) == []


# ---------------------------------------------------------------- G2/G3: resale of idle firm power

BLOCK = {"name": "Block", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
         "secured_mw": 100, "site_opening_cost_usd": 1e11, "power_resale_usd_per_mwh": 52}


def test_idle_firm_power_is_resold_while_the_resale_price_is_above_the_power_price():
    """G2/G3 by hand: 100 MW of firm power at $50/MWh (2027Q1 50 * 1.03 = $51.50, escalating 3%/yr) on a site
    that neither mines nor builds (its opening cost is prohibitive); resale at r = $52/MWh pays only while
    r > price: 2027Q1 ($51.50) and 2027Q2 ($51.88), not from 2027Q3 ($52.27). Resold MW = 100 then 0; revenue =
    (r - price) * 24 * 91.3 * 100; NPV = sum df revenue. The unsold power is idle for want of a fleet."""
    plan, _ = solve_case(make_sites(BLOCK))
    sc = make_scenario(**SHORT)
    price = [power_price(sc, q, 50.0) for q in QS]
    assert price[:3] == pytest.approx([51.5, 51.8820, 52.2668], abs=1e-4)
    resold = [100.0 if 52 > p else 0.0 for p in price]
    assert resold == [100.0] * 2 + [0.0] * 6
    money = [(52 - p) * HOURS * q for p, q in zip(price, resold)]
    assert col(plan, "Block", "power_resold_mw") == pytest.approx(resold, abs=1e-6)
    assert col(plan, "Block", "power_resale_usd") == approx(money)
    assert plan.cashflow["power_resale_usd"].to_list()[:T] == approx(money)
    assert col(plan, "Block", "idle_no_fleet_mw") == pytest.approx([100.0 - q for q in resold], abs=1e-6)
    assert plan.info.npv_usd == approx(sum(df(sc, t) * money[t] for t in range(T)))
    assert flexibility.check(plan) == [] and power.check(plan) == []


HALL_BLOCK = {**BLOCK, "secured_mw": 30, "site_opening_cost_usd": 0, "power_resale_usd_per_mwh": 60}
LATE = dict(earliest_ai_revenue_quarter="2028Q3")


@pytest.fixture(scope="module")
def hall_block():
    """30 MW of firm power at $50/MWh, resale at $60/MWh, one 10 IT MW hall (14 grid MW), no lease revenue
    before 2028Q3."""
    return solve_case(make_sites(HALL_BLOCK), **LATE)


def test_resale_stops_where_a_hall_reserves_the_power(hall_block):
    """G2/G3/H1 by hand: every start quarter s of the hall (or none) is valued by the hand formulas
    (hand.hand_schedule: capex over L = 4 quarters, online at s + 4, no lease before 2028Q3) plus the resale of
    what the hall does not reserve, (60 - price[t]) * hours * (30 - 14 [t >= s]); the best start is 2027Q2
    (online 2028Q2, so its half-billed first quarter falls before the first lease quarter and 2028Q3 bills in
    full). Resold MW: 30 before it, 16 from its construction start on; the 14 MW are idle for construction
    while it is built (2027Q2-2028Q1). NPV = the hand value."""
    plan, _ = hall_block
    sc = make_scenario(**SHORT, **LATE)
    price = [power_price(sc, q, 50.0) for q in QS]
    assert all(60 > p for p in price)
    site = {"hall_it_mw": 10, "max_halls": 1, "secured_mw": 30, "market": "GA"}

    def value(starts):
        reserved = [14.0 * sum(1 for s in starts if s <= t) for t in range(T)]
        resale = sum(df(sc, t) * (60 - price[t]) * HOURS * (30 - reserved[t]) for t in range(T))
        hall = hand_schedule(sc, site, starts, lead=4, capex_per_mw=sc.ai_capex_retrofit_usd_per_it_mw)["npv"]
        return hall + resale, reserved
    options = sorted([(value(starts)[0], starts) for starts in [()] + [(s,) for s in range(T)]], reverse=True)
    (best, starts), (runner_up, _) = options[:2]
    assert starts == (1,) and best - runner_up > 1e3
    reserved = value(starts)[1]
    assert list(plan.builds["start_quarter"]) == ["2027Q2"]
    assert col(plan, "Block", "ai_grid_mw_reserved") == pytest.approx(reserved, abs=1e-6)
    assert col(plan, "Block", "power_resold_mw") == pytest.approx([30 - r for r in reserved], abs=1e-6)
    assert col(plan, "Block", "power_resale_usd") == approx(
        [(60 - p) * HOURS * (30 - r) for p, r in zip(price, reserved)])
    assert col(plan, "Block", "idle_construction_mw") == pytest.approx([0.0] + [14.0] * 4 + [0.0] * 3, abs=1e-6)
    assert plan.info.npv_usd == approx(best)
    assert flexibility.check(plan) == [] and power.check(plan) == []


def test_a_miner_resells_its_power_where_resale_beats_mining():
    """G2/G3/M1/P1 by hand: 100 MW of firm power at $50/MWh with its fleet I0 and resale at $70/MWh. A grid MW
    earns (70 - price[t]) * hours resold, or margin[t] / pue mined (hand.mining_at), and the 100 MW go to the
    better one: mining before the 2028Q2 halving, resale after it (where the mining margin is negative).
    NPV = sum df 100 max(margin / pue, resale per MW)."""
    plan, _ = solve_case(make_sites({"name": "Miner", "power_resale_usd_per_mwh": 70}))
    sc = make_scenario(**SHORT)
    mined = [mining_at(sc, q, 50.0, 16.7)["margin"] / PUE for q in QS]
    resold = [(70 - power_price(sc, q, 50.0)) * HOURS for q in QS]
    assert [m > r for m, r in zip(mined, resold)] == [True] * 5 + [False] * 3
    assert col(plan, "Miner", "mining_grid_mw") == pytest.approx([100.0] * 5 + [0.0] * 3, abs=1e-6)
    assert col(plan, "Miner", "power_resold_mw") == pytest.approx([0.0] * 5 + [100.0] * 3, abs=1e-6)
    assert col(plan, "Miner", "idle_unprofitable_mw") == pytest.approx([0.0] * T, abs=1e-6)
    assert plan.info.npv_usd == approx(sum(df(sc, t) * 100 * max(mined[t], resold[t]) for t in range(T)))
    assert flexibility.check(plan) == [] and power.check(plan) == []


# ---------------------------------------------------------------- flexibility.check on corrupted tables

@pytest.mark.parametrize("plan_of, row, column, change, problems", [
    ("enrolled", 0, "flexibility_revenue_usd", dict(by=1e4),
     ["flexibility: credits are not v_s / 4 x phi x mining grid MW at Miner 2027Q1.",
      "cash flow: Schedule flexibility_revenue_usd does not add up to CashFlow flexibility_revenue_usd."]),
    ("enrolled", 3, "mining_grid_mw", dict(by=-1.0),
     ["flexibility: credits are not v_s / 4 x phi x mining grid MW at Miner 2027Q4."]),
    ("hall_block", 2, "power_resold_mw", dict(by=1.0),
     ["flexibility: resold power outside 0..the firm MW not reserved for AI at Block 2027Q3.",
      "flexibility: resale money is not (r_s - price) x hours x MW at Block 2027Q3."]),
    ("hall_block", 0, "power_resale_usd", dict(by=1e3),
     ["flexibility: resale money is not (r_s - price) x hours x MW at Block 2027Q1.",
      "cash flow: Schedule power_resale_usd does not add up to CashFlow power_resale_usd."]),
], ids=["G1 credit", "G1 miners", "G2 resold MW", "G3 resale money"])
def test_check_flags_a_corrupted_flexibility_table(request, plan_of, row, column, change, problems):
    """G1-G3 check: a credit that is not v / 4 x the miners' grid MW (moved itself, or the miners' MW moved
    under it), resold MW beyond the firm MW a hall leaves (its money then no longer matches either), and resale
    money that is not (r - price) x hours x MW; each named where it is. The plans themselves pass."""
    plan = request.getfixturevalue(plan_of)[0]
    assert flexibility.check(plan) == []
    assert flexibility.check(corrupt(plan, "schedule", row, column, **change)) == problems


# ---------------------------------------------------------------- the idle reasons (power.py Schedule)

IDLE_SITES = [
    {"name": "NoMine", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
     "secured_mw": 30, "site_opening_cost_usd": 1e11},
    {"name": "Dear", "secured_mw": 100, "power_usd_per_mwh_2026": 50},
    {"name": "Hall", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
     "secured_mw": 14},
    {"name": "Curtailed", "secured_mw": 100, "power_usd_per_mwh_2026": 20, "power_class": "interruptible",
     "flex_usd_per_mw_yr": 0, "curtailed_share": 0.1},
]


def test_each_idle_reason_and_their_sum():
    """The idle grid MW by reason, by hand: NoMine (30 MW, mining not allowed, no hall: its opening cost is
    prohibitive) idles 30 MW for want of a fleet; Dear ($50/MWh) runs its fleet until the 2028Q2 halving and
    then idles 100 MW as unprofitable (hand margin < 0); Hall (14 MW) starts its hall in 2027Q1 (hand
    optimum), whose 14 MW are idle for construction in 2027Q1-Q4 and in use once it is online; Curtailed
    (interruptible, c = 10%, $20/MWh: 0.9 margin > 0 every quarter) runs 100 grid MW of which 10 are idle for
    curtailment. idle_grid_mw is the sum of the four; secured = miners + halls + resale + no fleet +
    unprofitable (power.check)."""
    plan, _ = solve_case(make_sites(*same_fields(*IDLE_SITES)))
    sc = make_scenario(**SHORT)
    dear = [mining_at(sc, q, 50.0, 16.7)["margin"] > 0 for q in QS]
    assert dear == [True] * 5 + [False] * 3
    assert all(mining_at(sc, q, 20.0, 16.7, curtailed=0.1)["margin"] > 0 for q in QS)
    hall, runner_up = hand_optimum(sc, {"hall_it_mw": 10, "max_halls": 1, "secured_mw": 14}, lead=4,
                                   capex_per_mw=sc.ai_capex_retrofit_usd_per_it_mw)
    assert hall["starts"] == (0,) and hall["npv"] - runner_up > 1e3
    assert list(plan.builds["site"]) == ["Hall"] and list(plan.builds["start_quarter"]) == ["2027Q1"]
    hand = {
        "NoMine": {"idle_no_fleet_mw": [30.0] * T},
        "Dear": {"idle_unprofitable_mw": [0.0 if on else 100.0 for on in dear]},
        "Hall": {"idle_construction_mw": [14.0] * 4 + [0.0] * 4},
        "Curtailed": {"idle_curtailed_mw": [10.0] * T},
    }
    for site, reasons in hand.items():
        for reason in power.IDLE_REASONS:
            assert col(plan, site, reason) == pytest.approx(reasons.get(reason, [0.0] * T), abs=1e-6), (site, reason)
        assert col(plan, site, "idle_grid_mw") == pytest.approx(
            [sum(values[t] for values in reasons.values()) for t in range(T)], abs=1e-6)
    s = plan.schedule
    assert (s[list(power.IDLE_REASONS)].sum(axis=1) - s["idle_grid_mw"]).abs().max() < 1e-9
    assert power.check(plan) == [] and flexibility.check(plan) == [] and mining.check(plan) == []


def test_only_the_interruptible_share_of_a_mixed_site_is_enrolled():
    """G1 with phi: 100 MW firm and, from 2027Q3, 50 MW interruptible (no opt-in): phi = 0 in 2027Q1-Q2,
    then 50 / 150; the miners (100 / 1.06 IT MW, no purchases) earn v / 4 x phi x 100 grid MW and run
    1 - 0.1 x phi of their hours (revenue per TH/s scaled alike)."""
    sites = make_sites({"name": "Miner", "secured_mw": 100, "power_steps": "2027Q3:+50:interruptible",
                        "flex_usd_per_mw_yr": 200_000, "curtailed_share": 0.1})
    plan, d = solve_case(sites, btc_price_usd_2026=200_000)
    phi = [0.0, 0.0] + [50 / 150] * 6
    assert [d.flex_enrolled_share["Miner", t, "base"] for t in range(8)] == pytest.approx(phi)
    assert [d.mining_run_share["Miner", t, "base"] for t in range(8)] == pytest.approx([1 - 0.1 * p for p in phi])
    assert col(plan, "Miner", "mining_grid_mw") == pytest.approx([100.0] * 8)
    assert col(plan, "Miner", "flexibility_revenue_usd") == pytest.approx(
        [200_000 / 4 * p * 100.0 for p in phi], abs=1e-6)
    assert col(plan, "Miner", "idle_curtailed_mw") == pytest.approx([0.1 * p * 100.0 for p in phi], abs=1e-9)
