"""Leasing family (optimizer/formulation/leasing.py), proved on hand-computed tiny cases: leases stay within the
billable MW (X1), never fall, even when the margin turns negative (X2), and grow by at most the market's
absorption a quarter (X3), which can delay a second hall; lease revenue and landlord opex (X4) and the terminal
value (X5) enter the hand NPV. The check test proves that `leasing.check` flags each of X1, X2 and X3 on its
own.
"""

import dataclasses
import math

import pytest

from optimizer.build import build_model
from optimizer.data import build_model_data
from optimizer.formulation import leasing
from optimizer.infeasibility import explain_infeasible
from optimizer.solve import SolveOptions, solve_model
from sites.leases import SignedLease
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


REVENUE_OFF = "leasing: lease revenue is not each cohort at its signing rate, escalated, plus the signed leases' " \
              "contract revenue at Hall {}."


@pytest.mark.parametrize("row, mw, problem, quarter", [
    pytest.param(7, 11.0, "leasing: leased MW exceed the billable MW of online halls at Hall 2028Q4.", "2028Q4",
                 id="X1 billable"),
    pytest.param(7, 8.5, "leasing: leased MW fall at Hall 2028Q4.", "2028Q4", id="X2 never fall"),
    pytest.param(4, 5.0, "market absorption: 5.0 new IT MW leased in GA in 2028Q1, above 3.", "2028Q1",
                 id="X3 absorption"),
])
def test_check_flags_a_broken_lease_schedule(paced, row, mw, problem, quarter):
    """X1-X3 check, each part first: 11 MW leased of a 10 MW hall (2028Q4), leases falling from 9 to 8.5
    (2028Q4), 5 new MW in a market absorbing 3 (2028Q1; still within the 5 MW billable); the revenue check
    (X7) then flags that quarter too, whose revenue no longer follows from its leased MW."""
    assert leasing.check(paced) == []
    found = leasing.check(corrupt(paced, "schedule", row, "ai_it_mw_leased", to=mw))
    assert found == [problem, REVENUE_OFF.format(quarter)]


# ---------------------------------------------------------------- cohorts (X7) and signed leases (X8)

ESC_Q = 1.03 ** 0.25   # a 3%/yr contract escalator, per quarter


def market_rate(sc, t: int) -> float:
    """Hand market rate of a lease signed in t (2027Q1 = 0): $/kW-month(2026Q1) * (1+g)^(k/4) * 1000 * 3 * 0.97."""
    return sc.lease_usd_per_kw_month * 3000 * sc.ai_billing_utilisation * (
        1 + sc.lease_market_growth_per_yr) ** ((t + 4) / 4)


def npv_of(sc, revenue: list[float], capex_quarters: int = 4) -> float:
    """sum_t df (1 - phi) revenue[t] + the last quarter's held flat for TQ quarters - one hall's capex
    c B / L = $21.25M in t = 0..3."""
    margin = [(1 - sc.landlord_opex_share) * r for r in revenue]
    value = sum(df(sc, t) * m for t, m in enumerate(margin))
    value += sum(df(sc, j) * margin[-1] for j in range(len(revenue), len(revenue) + sc.terminal_quarters))
    return value - sum(df(sc, j) * 21.25e6 for j in range(capex_quarters))


def test_cohorts_keep_their_signing_rate_then_reprice_when_their_term_ends():
    """X7 with the market falling 20%/yr, a 3%/yr contract escalator and a 2-quarter term: the contracted hall
    bills 5 IT MW in 2028Q1 (t = 4) and 10 from t = 5, so cohorts of 5 MW are signed at t = 4 and t = 5. By
    hand, with r[t] the market rate of t and e = 1.03^(1/4): revenue 5 r4; 5 r4 e + 5 r5; then the t = 4
    cohort re-prices at r6: 5 r6 + 5 r5 e; and the t = 5 one at r7: 5 r6 e + 5 r7 (X5 holds the last flat)."""
    plan, sc, _ = solve(make_sites({**AI, "committed_halls": 1}), lease_market_growth_per_yr=-0.2,
                        lease_escalator_per_yr=0.03, lease_term_quarters=2)
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 5, 10, 10, 10], abs=1e-6)
    r = {t: market_rate(sc, t) for t in range(4, 8)}
    revenue = [0, 0, 0, 0, 5 * r[4], 5 * r[4] * ESC_Q + 5 * r[5], 5 * r[6] + 5 * r[5] * ESC_Q,
               5 * r[6] * ESC_Q + 5 * r[7]]
    assert col(plan, "Alpha", "lease_revenue_usd") == pytest.approx(revenue, rel=1e-9, abs=1e-3)
    assert revenue[7] != pytest.approx(10 * r[7], rel=1e-3)   # not the market rate of every quarter (v1)
    assert plan.info.npv_usd == pytest.approx(npv_of(sc, revenue), rel=1e-9)
    assert leasing.check(plan) == []


def acme(it_mw: float = 10.0, start: str = "2028Q2") -> SignedLease:
    return SignedLease("Acme", "Alpha", it_mw, 150.0, 0.03, start, 12, 1)


def with_leases(sites, *leases):
    sites.attrs["leases"] = tuple(leases)
    return sites


# the market of new signings falls from $150/kW-month in 2026Q1 to $120 in 2028Q2 (k = 9): (1+g)^(9/4) = 0.8
FALLING = dict(lease_usd_per_kw_month=150.0, lease_market_growth_per_yr=0.8 ** (4 / 9) - 1,
               market_absorption_it_mw_per_quarter={"GA": 0.0})


@pytest.fixture(scope="module")
def signed():
    """One 10 MW hall hosting Acme's signed lease: 10 IT MW at $150/kW-month, 3%/yr, from 2028Q2 (t = 5)."""
    return solve(with_leases(make_sites(AI), acme()), **FALLING)


def test_a_signed_lease_keeps_its_rate_when_the_market_falls(signed):
    """X8, X4, X3: Acme's 10 IT MW must bill in full from t = 5, so the hall starts in 2027Q1 (online t = 4 at
    50%, t = 5 at 100%); the market absorbs no new lease (0 a quarter) yet the signed MW are leased: they were
    absorbed when signed. The market rate of 2028Q2 is $120, but Acme pays its $150 escalated:
    10 MW * 150 * 1000 * 3 * 0.97 * 1.03^(k/4), k = 0, 1, 2 in t = 5, 6, 7; the hall's $21.25M a quarter in
    t = 0..3; X5 holds 2028Q4's revenue flat."""
    plan, sc, _ = signed
    d = plan.data
    assert d.lease_revenue_usd_per_it_mw[5, "base"] == pytest.approx(120 * 3000 * 0.97, rel=1e-12)
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    assert col(plan, "Alpha", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 0, 10, 10, 10], abs=1e-6)
    assert col(plan, "Alpha", "ai_it_mw_signed") == [0, 0, 0, 0, 0, 10, 10, 10]
    revenue = [0.0] * 5 + [10 * 150 * 3000 * 0.97 * 1.03 ** (k / 4) for k in range(3)]
    assert col(plan, "Alpha", "lease_revenue_usd") == pytest.approx(revenue, rel=1e-9, abs=1e-3)
    assert col(plan, "Alpha", "lease_signed_revenue_usd") == pytest.approx(revenue, rel=1e-12)
    assert plan.info.npv_usd == pytest.approx(npv_of(sc, revenue), rel=1e-9)


@pytest.mark.parametrize("table, row, column, by, problem", [
    pytest.param("schedule", 6, "lease_revenue_usd", 1e4, "leasing: lease revenue is not each cohort at its signing "
                 "rate, escalated, plus the signed leases' contract revenue at Alpha 2028Q3.", id="X7 revenue"),
    pytest.param("schedule", 6, "ai_it_mw_signed", -10.0, "signed leases: the Schedule's signed MW differ from the "
                 "signed leases at Alpha 2028Q3.", id="signed MW"),
    pytest.param("schedule", 7, "ai_it_mw_leased", -1.0, "signed leases: leased MW below the signed leases' MW at "
                 "Alpha 2028Q4.", id="X8 hosted"),
    pytest.param("cashflow", 9, "lease_revenue_usd", 1e4, "leasing: post-horizon lease revenue is not the last "
                 "quarter's held flat for 4 quarters (base).", id="X5 terminal"),
])
def test_check_flags_broken_signed_lease_revenue(signed, table, row, column, by, problem):
    """Each part of the check against a corrupted copy of the signed-lease plan: $10k more revenue in 2028Q3,
    no signed MW shown in 2028Q3, 9 of Acme's 10 MW leased in 2028Q4, $10k more lease revenue in the second
    post-horizon quarter."""
    plan = signed[0]
    assert leasing.check(plan) == []
    assert problem in leasing.check(corrupt(plan, table, row, column, by=by))


def test_a_signed_lease_the_plan_cannot_host_is_named():
    """X8 never loosened: Acme's 20 IT MW cannot bill at a site of one 10 MW hall; the explanation names the
    contract."""
    data = build_model_data(with_leases(make_sites(AI), acme(20.0)), make_scenario(**{**SHORT, **FALLING}))
    model = build_model(data)
    assert solve_model(model, SolveOptions(threads=1)).status == "infeasible"
    message = explain_infeasible(model, data)
    assert "signed leases: their MW must be billable at their site (Acme's 20 IT MW at Alpha from 2028Q2 in 2028Q2" \
        in message, message


def test_a_signed_lease_reprices_at_the_market_when_its_term_ends():
    """X7 rn: Acme's lease for 2 quarters only (t = 5, 6 at $150 escalated); from t = 7 its 10 MW stay leased
    as a cohort signed then, at the market rate of 2028Q4: 150 * (1+g)^(11/4) * 1000 * 3 * 0.97."""
    lease = dataclasses.replace(acme(), term_quarters=2)
    plan, sc, _ = solve(with_leases(make_sites(AI), lease), **FALLING)
    contract = [10 * 150 * 3000 * 0.97 * 1.03 ** (k / 4) for k in range(2)]
    assert col(plan, "Alpha", "lease_signed_revenue_usd") == pytest.approx([0.0] * 5 + contract + [0.0], rel=1e-12)
    assert col(plan, "Alpha", "lease_revenue_usd") == pytest.approx([0.0] * 5 + contract + [10 * market_rate(sc, 7)],
                                                                    rel=1e-9, abs=1e-3)
    assert market_rate(sc, 7) < 150 * 3000 * 0.97 * 0.81   # below $121.5: the market fell
    assert leasing.check(plan) == []
