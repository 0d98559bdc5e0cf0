"""Objective family (optimizer/formulation/objective.py), on a hand-computed tiny case: the objective is the
discounted net cash flow sum_j df[j] (inflows - outflows) with the hand discount factors (N1, N2) and the
terminal value of the last quarter's lease margin held flat (X5). The check test proves that `objective.check`
flags each of its parts: a net flow that is not the signed sum of its lines (N1) and an NPV rebuilt from
CashFlow that is not the objective (N2).
"""

import pytest

from optimizer.data import build_model_data
from optimizer.formulation import objective
from tests.conftest import make_sites, solve_case
from tests.families.hand import (AI, BTC, HALL, MINER, corrupt, df, hand_schedule, mining_per_it_mw, quarters, solve,
                                 terminal_value)


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


@pytest.fixture(scope="module")
def portfolio():
    """The miner and one hall (BTC $150k: mining pays in every quarter)."""
    return solve_case(make_sites(MINER, HALL), **BTC)[0]


@pytest.mark.parametrize("column, by, prefix", [
    pytest.param("lease_revenue_usd", 1e3, "cash flow: net_cash_flow_usd differs from the sum of its lines.",
                 id="N1 net flow"),
    pytest.param("discount_factor", 0.01, "objective: value rebuilt from CashFlow $", id="N3 objective"),
])
def test_check_flags_a_broken_npv(portfolio, column, by, prefix):
    """N1/N2 check, each part alone: $1,000 more lease revenue in 2028Q2 than net_cash_flow_usd holds, and a
    discount factor of 2028Q2 moved by 0.01 so that the NPV rebuilt from CashFlow is not the objective."""
    assert objective.check(portfolio) == []
    problems = objective.check(corrupt(portfolio, "cashflow", 5, column, by=by))
    assert problems[0].startswith(prefix)
    assert problems[1:] == ([] if column == "discount_factor" else [  # N2: a lease line is in the unlevered flow too
        "cash flow: unlevered_free_cash_flow_usd is not operating - capex - taxes - the tax the interest saves."])


def test_equity_npv_is_the_levered_flow_at_the_cost_of_equity(portfolio):
    """N4: equity_npv_usd = sum_j (1 + r_e)^-((j+1)/4) * net_cash_flow_usd[j], r_e = 18%, by hand; N1: the levered
    NPV is the same flows at the 10% discount rate."""
    flows = portfolio.cashflow["net_cash_flow_usd"].to_list()
    equity = sum(f * 1.18 ** (-(j + 1) / 4) for j, f in enumerate(flows))
    levered = sum(f * 1.1 ** (-(j + 1) / 4) for j, f in enumerate(flows))
    assert portfolio.kpis["equity_npv_usd"] == pytest.approx(equity, rel=1e-9)
    assert portfolio.kpis["levered_npv_usd"] == pytest.approx(levered, rel=1e-9) and levered > equity > 0


def test_check_flags_a_negative_cash_line(portfolio):
    """N1 check: lines are non-negative amounts, their sign comes from their kind (a negative draw with a
    matching negative repayment would otherwise pass every sum)."""
    broken = corrupt(portfolio, "cashflow", 5, "revolver_draw_usd", to=-1e6)
    assert "cash flow: revolver_draw_usd holds negative amounts (lines are amounts, signed by kind)." in \
        objective.check(broken)
