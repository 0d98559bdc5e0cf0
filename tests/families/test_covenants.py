"""Covenants family (optimizer/formulation/covenants.py) on a hand-sized case: a 20 MW miner and one 10 MW
hall, $31M of opening cash, 80% loan-to-cost at 20% with one quarter of grace and four of amortisation. Without
a covenant the hall starts in 2027Q1 and its construction interest outruns the miner's cash flow (coverage
below 1.30x in a quarter with no lease yet); with a 1.30x DSCR (V1, each quarter) the hall waits a quarter,
while the miner's cash pays down what it must borrow. Pinned to 2027Q1 by a contract,
the plan is infeasible and the explanation names the covenant. The check flags a broken DSCR and leverage (V2).
"""

import dataclasses

import pandas as pd
import pytest

from optimizer.build import build_model
from optimizer.data import build_model_data
from optimizer.formulation import covenants
from optimizer.infeasibility import explain_infeasible
from optimizer.solve import SolveOptions, build_and_solve
from tests.conftest import make_scenario, make_sites, solve_case
from tests.families.hand import HALL, MINER, corrupt

MONEY = dict(btc_price_usd_2026=150_000, opening_cash_usd=31e6, cash_floor_usd=0.0, loan_to_cost=0.8,
             project_debt_rate_per_yr=0.2, project_debt_grace_quarters=1, project_debt_term_quarters=4,
             covenant_dscr_window_quarters=1)
NONE = dict(committed_halls=0, committed_start_quarter="")
SITES = (dict(MINER, secured_mw=20, **NONE), dict(HALL, **NONE))


def coverage(plan) -> list[float]:
    """Hand DSCR per horizon quarter t >= G: (operating inflows - operating outflows - taxes) over (interest +
    project-debt repayment), from the exported lines (inf where nothing is due)."""
    c = plan.cashflow[plan.cashflow["period"] == "horizon"]
    cfads = (c["mining_revenue_usd"] - c["mining_power_cost_usd"] - c["mining_opex_usd"] + c["lease_revenue_usd"]
             - c["ai_opex_usd"] - c["taxes_usd"])
    due = c["interest_usd"] + c["project_debt_repayment_usd"]
    return [f / s if s > 1.0 else float("inf") for f, s in zip(cfads[1:], due[1:])]


@pytest.fixture(scope="module")
def bound():
    return solve_case(make_sites(*SITES), **MONEY, covenant_dscr_min=1.3)[0]


def test_a_binding_dscr_covenant_delays_the_hall(bound):
    """V1: free of the covenant the hall starts in 2027Q1 with coverage under 1.30x; under it, 2027Q2, every
    quarter at or above 1.30x (the covenant binds as a whole-hall choice); the delay costs NPV."""
    free, _ = solve_case(make_sites(*SITES), **MONEY, covenant_dscr_min=0.0)
    assert list(free.builds["start_quarter"]) == ["2027Q1"]
    assert min(coverage(free)) < 1.3 - 0.01
    assert list(bound.builds["start_quarter"]) == ["2027Q2"]
    assert min(coverage(bound)) >= 1.3 - 1e-6
    assert bound.kpis["npv_usd"] < free.kpis["npv_usd"] - 1e6
    assert covenants.check(bound) == []
    held = dataclasses.replace(free, data=dataclasses.replace(free.data, scenario_values={
        "base": free.data.base.with_values(covenant_dscr_min=1.3)}))
    assert covenants.check(held)[0].startswith("covenants: debt-service coverage below 1.30x in")


def test_a_hall_contracted_before_the_covenant_allows_is_explained_by_the_covenant():
    """The contract (H5) pins the start in 2027Q1: no plan keeps 1.30x, and the explanation says so."""
    sites = make_sites(*SITES[:1], dict(HALL, committed_halls=1, committed_start_quarter="2027Q1"))
    data = build_model_data(sites, make_scenario(**MONEY, covenant_dscr_min=1.3))
    model, info = build_and_solve(data, SolveOptions(gap=1e-9, threads=1))
    assert info.status == "infeasible"
    assert "debt-service coverage of at least 1.30x" in explain_infeasible(build_model(data), data)


def test_check_flags_a_broken_covenant(bound):
    """V1 check: 2027Q3's interest raised by $5M breaks 1.30x there; V2 check: with a 0.1x leverage limit the
    bound plan's debt is above it."""
    assert covenants.check(corrupt(bound, "cashflow", 2, "interest_usd", by=5e6)) == [
        "covenants: debt-service coverage below 1.30x in 2027Q3 (base)."]
    values = {"base": bound.data.base.with_values(covenant_leverage_max=0.1)}
    strict = dataclasses.replace(bound, data=dataclasses.replace(bound.data, scenario_values=values))
    assert covenants.check(strict)[0].startswith("covenants: debt above 0.1x trailing EBITDA in")


def test_a_leverage_limit_that_the_free_plan_breaks_cancels_the_hall():
    """V2: the free plan's peak project debt (2027Q4) is above 3x the miner's annualised trailing EBITDA (hand,
    from its flows); with covenant_leverage_max = 3 no financing of the hall keeps it, so the hall is not built
    and the plan holds no debt."""
    free, _ = solve_case(make_sites(*SITES), **MONEY, covenant_dscr_min=0.0)
    c = free.cashflow[free.cashflow["period"] == "horizon"].reset_index(drop=True)
    ebitda = (c["mining_revenue_usd"] - c["mining_power_cost_usd"] - c["mining_opex_usd"] + c["lease_revenue_usd"]
              - c["ai_opex_usd"])
    annualised = [4 / len(covenants.window(t, 4)) * ebitda[list(covenants.window(t, 4))].sum() for t in range(len(c))]
    assert max(c["project_debt_balance_usd"] - 3.0 * pd.Series(annualised)) > 1e5
    capped, _ = solve_case(make_sites(*SITES), **MONEY, covenant_dscr_min=0.0, covenant_leverage_max=3.0)
    assert capped.builds.empty and capped.cashflow["project_debt_balance_usd"].abs().max() < 1e-3
    assert covenants.check(capped) == []
