"""Liquidity family (optimizer/formulation/liquidity.py), switched on here (NEUTRAL_MONEY has it off): the cash
balance rolls forward from opening cash by every cash line (Q1) and stays on the floor (Q2), so that a floor
delays the first hall by a computable number of quarters, the reference plan keeps its floor, and an infeasible
floor has its own CLI exit code. The check test proves that `liquidity.check` flags each of Q1 and Q2 on its
own.
"""

import pytest
from typer.testing import CliRunner

from optimizer.checks import check_plan
from optimizer.cli import app
from optimizer.formulation import liquidity
from tests.conftest import make_sites, solve_case
from tests.families.hand import BTC, HALL, MINER, corrupt, earliest_start_by_cash


def test_cash_floor_delays_the_first_hall_by_a_computable_number_of_quarters():
    """Q1/Q2: $10M opening cash, a $0 floor and no debt: the hall waits until mining cash covers its
    capex; the quarter is found by hand from the roll-forward."""
    sites = make_sites(MINER, HALL)
    unconstrained, d = solve_case(sites, btc_price_usd_2026=150_000)
    assert list(unconstrained.builds["start_quarter"]) == ["2027Q1"]
    plan, d = solve_case(sites, btc_price_usd_2026=150_000, opening_cash_usd=10e6, cash_floor_usd=0.0)
    start = earliest_start_by_cash(d, 10e6, 0.0)
    assert start >= 1  # delayed
    assert list(plan.builds["start_quarter"]) == [d.quarters[start]]
    horizon = plan.cashflow[plan.cashflow["period"] == "horizon"]
    assert horizon["cash_balance_usd"].min() >= -1e-3


def test_reference_plan_keeps_the_floor_and_rebuilds_its_npv(reference_plan):
    flows = reference_plan.cashflow
    horizon = flows[flows["period"] == "horizon"]
    floor = reference_plan.data.base.cash_floor_usd
    assert horizon["cash_balance_usd"].min() >= floor - 1e-3
    assert flows["discounted_cash_flow_usd"].sum() == pytest.approx(reference_plan.kpis["npv_usd"], rel=1e-6)
    assert (flows["project_debt_balance_usd"] >= -1e-3).all() and (flows["revolver_balance_usd"] >= -1e-3).all()
    assert check_plan(reference_plan) == []


def test_cli_infeasible_cash_floor_has_its_own_exit_code(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(app, ["solve", "--out", str(out), "--threads", "1",
                                      "--set", "opening_cash_usd=100000000", "--set", "cash_floor_usd=200000000",
                                      "--set", "revolver_limit_usd=0"])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "cash floor" in result.output
    assert not out.exists()


@pytest.fixture(scope="module")
def cash_bound():
    """The miner and one hall, $10M opening cash, a $0 floor and no debt."""
    return solve_case(make_sites(MINER, HALL), **BTC, opening_cash_usd=10e6, cash_floor_usd=0.0)[0]


def spent_below_the_floor(plan):
    """$1M more than the 2028Q4 balance spent on capex in 2028Q4, the balance rolled consistently: -$1M."""
    spent = plan.cashflow.at[7, "cash_balance_usd"] + 1e6
    return corrupt(corrupt(plan, "cashflow", 7, "ai_capex_usd", by=spent), "cashflow", 7, "cash_balance_usd", by=-spent)


@pytest.mark.parametrize("breaking, problem", [
    pytest.param(lambda p: corrupt(p, "cashflow", 3, "cash_balance_usd", by=1e6),
                 "liquidity: cash_balance_usd does not roll forward from opening cash (base).", id="Q1 roll-forward"),
    pytest.param(spent_below_the_floor, "liquidity: cash below the $0M floor in 2028Q4 (base).", id="Q2 floor"),
])
def test_check_flags_a_broken_cash_balance(cash_bound, breaking, problem):
    """Q1/Q2 check, each part alone: a 2027Q4 balance $1M above its roll-forward, and a 2028Q4 balance that
    rolls forward correctly from $1M too much capex but ends below the floor."""
    assert liquidity.check(cash_bound) == []
    assert liquidity.check(breaking(cash_bound)) == [problem]
