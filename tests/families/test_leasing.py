"""Leasing family (optimizer/formulation/leasing.py), proved on hand-computed tiny cases: leases stay within the
billable MW (X1), never fall, even when the margin turns negative (X2), and grow by at most the market's
absorption a quarter (X3), which can delay a second hall; lease revenue and landlord opex (X4) and the terminal
value (X5) enter the hand NPV. The check test proves that `leasing.check` flags each of X1, X2 and X3 on its
own.
"""

import math

import pytest

from optimizer.formulation import leasing
from tests.conftest import SHORT, make_scenario, make_sites, site_column, solve_case
from tests.conftest import site_column as col
from tests.families.hand import (AI, HALL, assert_unique, corrupt, df, hall_npv, hand_optimum, lease_rate, ordinal,
                                 quarters, solve)


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


def test_market_absorption_paces_leases():
    """X2/X3: the market absorbs 3 IT MW a quarter, so leases climb 3, 6, 9, 10 from t = 4 and never fall."""
    plan, d = solve_case(make_sites(AI), market_absorption_it_mw_per_quarter={"GA": 3.0})
    leased = [0, 0, 0, 0, 3, 6, 9, 10]
    assert site_column(plan, "Alpha", "ai_it_mw_leased") == pytest.approx(leased, abs=1e-6)
    assert plan.kpis["npv_usd"] == pytest.approx(hall_npv(d, 0, leased), rel=1e-9)


@pytest.fixture(scope="module")
def paced():
    """One hall in a market absorbing 3 IT MW a quarter: leases 0, 0, 0, 0, 3, 6, 9, 10."""
    plan = solve_case(make_sites(HALL), market_absorption_it_mw_per_quarter={"GA": 3.0})[0]
    assert site_column(plan, "Hall", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 3, 6, 9, 10], abs=1e-6)
    return plan


@pytest.mark.parametrize("row, mw, problem", [
    pytest.param(7, 11.0, "leasing: leased MW exceed the billable MW of online halls at Hall 2028Q4.",
                 id="X1 billable"),
    pytest.param(7, 8.5, "leasing: leased MW fall at Hall 2028Q4.", id="X2 never fall"),
    pytest.param(4, 5.0, "market absorption: 5.0 new IT MW leased in GA in 2028Q1, above 3.", id="X3 absorption"),
])
def test_check_flags_a_broken_lease_schedule(paced, row, mw, problem):
    """X1-X3 check, each part alone: 11 MW leased of a 10 MW hall (2028Q4), leases falling from 9 to 8.5
    (2028Q4), 5 new MW in a market absorbing 3 (2028Q1; still within the 5 MW billable)."""
    assert leasing.check(paced) == []
    assert leasing.check(corrupt(paced, "schedule", row, "ai_it_mw_leased", to=mw)) == [problem]
