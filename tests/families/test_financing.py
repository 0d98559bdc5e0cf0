"""Financing family (optimizer/formulation/financing.py), switched on here (NEUTRAL_MONEY has it off), on
hand-computed tiny cases: project debt drawn up to loan-to-cost of the capex paid (F1) and of the capex of the
leased MW (F2), amortised after its grace (F3) with interest on the opening balance (F4), the balance left at
the horizon end repaid in the first post-horizon quarter (F5); equity raised only to keep the floor, its
issuance cost the NPV loss (F6). The check test proves that `financing.check` flags each of its parts:
loan-to-cost, leased only, amortisation, revolver roll, interest, repayment at the end and equity issuance.
"""

import pytest

from optimizer.formulation import financing
from tests.conftest import make_sites, solve_case
from tests.families.hand import (B, BTC, DEBT, HALL, L, MINER, T, approx, capex, column, corrupt, debt_schedule,
                                 earliest_start_by_cash, lease_margin, leased, mining_margins, npv, terminal)


EQUITY = dict(**BTC, opening_cash_usd=0.0, cash_floor_usd=0.0, equity_max_usd_per_quarter=1e9,
              equity_issuance_cost_share=0.05)


def test_loan_to_cost_lets_the_hall_start_earlier_than_cash_alone():
    """F1/F2: with 80% loan-to-cost the hall starts in 2027Q1 instead of the cash-only quarter, and
    draws never exceed 80% of the capex paid so far; under the levered v1 objective (debt at 0% against a
    10% discount rate adds value) the model draws all 80%, under APV (no tax: debt adds nothing) only what
    keeps cash on its floor, repaying nothing early (F8 holds no more than that)."""
    sites = make_sites(MINER, HALL)
    money = dict(btc_price_usd_2026=150_000, opening_cash_usd=10e6, cash_floor_usd=0.0)
    cash_only, d = solve_case(sites, **money)
    levered, _ = solve_case(sites, **money, loan_to_cost=0.8, project_debt_rate_per_yr=0.0, valuation="levered")
    apv, _ = solve_case(sites, **money, loan_to_cost=0.8, project_debt_rate_per_yr=0.0)
    assert list(apv.builds["start_quarter"]) == ["2027Q1"]
    horizon = apv.cashflow[apv.cashflow["period"] == "horizon"]
    needed = horizon["project_debt_draw_usd"] > 1.0
    assert needed.any() and horizon["cash_balance_usd"][needed].tolist() == approx([0.0] * needed.sum())  # floor
    assert apv.cashflow["project_debt_draw_usd"].sum() < 0.8 * d.base.ai_capex_retrofit_usd_per_it_mw * B - 1e6
    assert apv.kpis["npv_usd"] == approx(apv.kpis["unlevered_npv_usd"]) and apv.kpis["npv_usd"] > cash_only.kpis[
        "npv_usd"]
    assert d.quarters.index(cash_only.builds["start_quarter"].iloc[0]) == earliest_start_by_cash(d, 10e6, 0.0) > 0
    assert list(levered.builds["start_quarter"]) == ["2027Q1"]
    flows = levered.cashflow
    drawn = flows["project_debt_draw_usd"].cumsum()
    paid = flows["ai_capex_usd"].cumsum()
    assert (drawn <= 0.8 * paid + 1e-3).all()
    assert drawn.iloc[-1] == pytest.approx(0.8 * d.base.ai_capex_retrofit_usd_per_it_mw * B, rel=1e-6)
    assert levered.kpis["npv_usd"] > cash_only.kpis["npv_usd"]


def test_project_debt_draws_the_most_allowed_and_amortises_it_after_the_grace():
    """F1/F2/F3/F4/F5, levered (v1) objective: 80% LTC at 8% against a 10% discount rate: every dollar drawn is worth more
    than its repayments and interest discounted, earlier draws the most, so the model draws LTC x capex
    paid in each build quarter (F1 and F2 both bind: 0.8 c B in all). Each draw is repaid in 6 equal
    quarters after a 1-quarter grace (F3), interest is 2% a quarter on the opening balance (F4), and
    the balance left at the horizon end is repaid, with one quarter's interest, in 2029Q1 (F5)."""
    sites = make_sites(HALL)
    plan, d = solve_case(sites, **DEBT, valuation="levered")
    unlevered, _ = solve_case(sites, **{**DEBT, "loan_to_cost": 0.0}, valuation="levered")
    sc = d.base
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    draws = [sc.loan_to_cost * capex(d, t) for t in range(T)]
    flows = plan.cashflow
    assert column(plan, "project_debt_draw_usd")[:T] == approx(draws)
    repay, balance, interest = debt_schedule(d, column(plan, "project_debt_draw_usd")[:T])
    assert column(plan, "project_debt_repayment_usd")[:T + 1] == approx(repay)
    assert column(plan, "project_debt_balance_usd")[:T] == approx(balance)
    assert column(plan, "interest_usd")[:T + 1] == approx(interest)
    assert repay[T] > repay[T - 1] + 1e6  # F5 is a lump, not the next scheduled repayment
    assert sum(column(plan, "project_debt_repayment_usd")) == approx(sum(draws))
    assert flows.loc[T + 1:, ["project_debt_repayment_usd", "interest_usd"]].abs().to_numpy().max() < 1e-6
    drawn = flows["project_debt_draw_usd"].cumsum()
    paid = flows["ai_capex_usd"].cumsum()
    assert (drawn <= sc.loan_to_cost * paid + 1.0).all()  # F1
    assert drawn.iloc[-1] <= sc.loan_to_cost * sc.ai_capex_retrofit_usd_per_it_mw * leased(T - 1) + 1.0  # F2
    debt_value = npv(d, [draws[j] - repay[j] - interest[j] if j < T else -repay[j] - interest[j]
                         for j in range(T + 1)])
    assert debt_value > 0  # why drawing the maximum pays
    base = npv(d, [lease_margin(d, j) - capex(d, j) for j in range(T + d.base.terminal_quarters)])
    assert unlevered.kpis["npv_usd"] == approx(base)
    assert plan.kpis["npv_usd"] == approx(base + debt_value)


def test_apv_holds_no_debt_it_does_not_need_and_values_the_tax_shield_of_what_it_draws():
    """N2/F7/F8: the levered case above under APV. No tax: debt adds no value, opening cash pays the hall, so
    nothing is drawn (F8) and the APV is the unlevered NPV, which is the levered objective's NPV without the
    debt. A 25% tax rate: each dollar of project debt saves tau * rho/4 of its opening balance a quarter, valued
    at the debt rate (F7) in the quarters it pays tax (T4; none while the hall is built), so the model draws the most
    allowed again (no bonus depreciation, so the build year's losses are used within the horizon); the shield column is that hand schedule and
    the APV is unlevered NPV + sum_j df_d[j] TS[j]."""
    sites = make_sites(HALL)
    plan, d = solve_case(sites, **DEBT)
    assert plan.cashflow["project_debt_draw_usd"].abs().max() < 1e-3
    base = npv(d, [lease_margin(d, j) - capex(d, j) for j in range(T + d.base.terminal_quarters)])
    assert plan.kpis["npv_usd"] == approx(base) and plan.kpis["apv_usd"] == approx(base)
    taxed, d = solve_case(sites, **DEBT, tax_rate=0.25, bonus_depreciation_share=0.0)  # taxable from 2028Q1
    sc = d.base
    draws = [sc.loan_to_cost * capex(d, t) for t in range(T)]
    assert column(taxed, "project_debt_draw_usd")[:T] == approx(draws)
    _, balance, _ = debt_schedule(d, draws)
    # the tax saved (F7/T4): none while the hall is built (no revenue, a tax loss), the rate on the opening
    # balance once the lease pays tax, none in the post-horizon repayment quarter
    shield = [0.0] + [0.25 * sc.project_debt_rate_per_yr / 4 * b if t + 1 >= L else 0.0
                      for t, b in enumerate(balance[:-1])] + [0.0]
    assert (taxed.cashflow["taxes_usd"][L:T] > taxed.cashflow["interest_tax_shield_usd"][L:T] + 1e5).all()
    assert column(taxed, "interest_tax_shield_usd")[:T + 1] == approx(shield)
    pv = sum(s * (1 + sc.project_debt_rate_per_yr) ** (-(j + 1) / 4) for j, s in enumerate(shield))
    k = taxed.kpis
    assert k["tax_shield_npv_usd"] == approx(pv) and pv > 1e5
    assert k["npv_usd"] == approx(k["unlevered_npv_usd"] + pv) == approx(k["apv_usd"])


def test_apv_borrows_nothing_for_a_shield_no_tax_realises():
    """F7/T4/F8: the taxed case with $1B of tax losses carried in: no quarter pays tax, so debt saves none and
    the ample opening cash pays the hall; nothing is drawn (a shield booked on interest alone drew $68M beside
    $178M of idle cash), and the APV is the unlevered NPV."""
    plan, d = solve_case(make_sites(HALL), **DEBT, tax_rate=0.25, bonus_depreciation_share=0.0,
                         opening_tax_loss_usd=1e9)
    assert plan.cashflow["taxes_usd"].abs().max() < 1.0 or plan.cashflow["period"].eq("post-horizon")[
        plan.cashflow["taxes_usd"].abs() > 1.0].all()
    assert plan.cashflow["project_debt_draw_usd"].abs().max() < 1e-3
    assert plan.kpis["tax_shield_npv_usd"] == approx(0.0)
    assert plan.kpis["npv_usd"] == approx(plan.kpis["unlevered_npv_usd"])


def test_equity_is_raised_only_to_keep_the_floor_and_its_issuance_cost_is_the_npv_loss():
    """F6: no debt, no opening cash, a $0 floor: in each build quarter the miners' cash falls short of
    the hall's capex, so the least raise keeps cash at 0: Eq (1 - 5%) = shortfall. The raise is in the
    cash balance but not in net_cash_flow_usd; the NPV is lower than with ample opening cash by
    sum_t df[t] 5% Eq[t]."""
    sites = make_sites(MINER, HALL)
    plan, d = solve_case(sites, **EQUITY)
    rich, _ = solve_case(sites, **{**EQUITY, "opening_cash_usd": 1e9})
    share, capacity = d.base.equity_issuance_cost_share, 100 / d.base.mining_pue
    operating = [m * capacity + lease_margin(d, t) - capex(d, t) for t, m in enumerate(mining_margins(d))]
    cash, raised, balances = 0.0, [], []
    for flow in operating:
        raised.append(max(0.0, -(cash + flow)) / (1 - share))
        cash += flow + (1 - share) * raised[-1]
        balances.append(cash)
    assert sum(1 for e in raised if e > 1e6) == L  # a raise in every build quarter, none after
    horizon = plan.cashflow[plan.cashflow["period"] == "horizon"]
    assert horizon["equity_raised_usd"].to_list() == approx(raised)
    assert horizon["equity_issuance_cost_usd"].to_list() == approx([share * e for e in raised])
    assert horizon["net_cash_flow_usd"].to_list() == approx([f - share * e for f, e in zip(operating, raised)])
    assert horizon["cash_balance_usd"].to_list() == approx(balances)
    assert balances[:L] == approx([0.0] * L)
    assert rich.cashflow["equity_raised_usd"].abs().max() < 1e-3
    post = [lease_margin(d, j) for j in terminal(d)]
    assert rich.kpis["npv_usd"] == approx(npv(d, operating + post))
    cost = sum(df * share * e for df, e in zip(d.discount_factor, raised))
    assert rich.kpis["npv_usd"] - plan.kpis["npv_usd"] == approx(cost)


FINANCED = dict(DEBT, opening_cash_usd=0.0, revolver_limit_usd=2e6, equity_max_usd_per_quarter=1e9)


@pytest.fixture(scope="module")
def financed():
    """One hall with no opening cash: 80% project debt at 8% (F1-F5), a $2M revolver and equity (F6) pay
    the rest of its capex."""
    plan = solve_case(make_sites(HALL), **FINANCED)[0]
    assert plan.cashflow["project_debt_draw_usd"].sum() == approx(0.8 * 85e6)
    assert plan.cashflow["equity_raised_usd"].sum() > 1e6
    return plan


FINANCING_PARTS = [
    pytest.param("cashflow", 3, "ai_capex_usd", dict(to=0.0),
                 "financing: project debt drawn above 80% of the capex paid (base).", id="F1 loan-to-cost"),
    pytest.param("schedule", 7, "ai_it_mw_leased", dict(to=5.0),
                 "financing: project debt above 80% of the capex of the MW leased (base).", id="F2 leased only"),
    pytest.param("cashflow", 5, "project_debt_repayment_usd", dict(by=1e6),
                 "financing: project debt does not amortise over 6 quarters after 1 of grace (base).",
                 id="F3 amortisation"),
    pytest.param("cashflow", 0, "revolver_draw_usd", dict(by=1e6),
                 "financing: revolver does not roll forward within its limit (base).", id="F3 revolver roll"),
    pytest.param("cashflow", 2, "interest_usd", dict(by=1e5),
                 "financing: interest is not the rate on the opening balances (base).", id="F4 interest"),
    pytest.param("cashflow", 8, "project_debt_repayment_usd", dict(by=-1e6),
                 "financing: the debt owed at the horizon end is not repaid after it (base).",
                 id="F5 repayment at the end"),
    pytest.param("cashflow", 0, "equity_raised_usd", dict(by=1e6),
                 "financing: equity raised or its issuance cost is off (base).", id="F6 equity issuance"),
    pytest.param("cashflow", 3, "interest_tax_shield_usd", dict(by=1e3),
                 "financing: the interest tax shield is not the tax rate on project-debt interest (base).",
                 id="F7 tax shield"),
]


@pytest.mark.parametrize("table, row, column, change, problem", FINANCING_PARTS)
def test_check_flags_a_broken_financing_line(financed, table, row, column, change, problem):
    """F1-F6 check, each part alone: the last build quarter's capex gone (drawn > 80% of capex paid), 5 MW
    leased at the horizon end (drawn > 80% of their capex), a repayment off the schedule, a revolver draw
    not in its balance, interest off the opening balances, the 2029Q1 lump short of the debt owed, and
    equity raised without its issuance cost."""
    assert financing.check(financed) == []
    assert financing.check(corrupt(financed, table, row, column, **change)) == [problem]


def test_reference_plan_holds_no_revolver_that_cash_above_the_floor_could_repay(reference_plan):
    """F8 under APV on the base plan: in no quarter is a revolver balance held while cash exceeds the floor by
    more than that balance (it would be repaid: the revolver adds no value, the tie-break costs), and the value
    reconciles: APV = unlevered NPV + tax shields at the debt rate - issuance costs = the objective."""
    plan = reference_plan
    c = plan.cashflow[plan.cashflow["period"] == "horizon"]
    spare = c["cash_balance_usd"] - plan.data.base.cash_floor_usd
    assert c["revolver_balance_usd"].max() > 1e6  # the plan does need it
    assert not ((c["revolver_balance_usd"] > 1e3) & (spare > c["revolver_balance_usd"] + 1e3)).any()
    assert not ((c["revolver_balance_usd"] > 1e3) & (spare > 1e3)).any()  # drawn only at the floor
    k = plan.kpis
    assert k["valuation"] == "apv"
    assert k["apv_usd"] == approx(k["unlevered_npv_usd"] + k["tax_shield_npv_usd"] - k["issuance_cost_npv_usd"])
    assert k["npv_usd"] == pytest.approx(k["apv_usd"], rel=1e-9)
