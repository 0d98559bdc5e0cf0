"""CFO figures (optimizer/cfo.py): hand-built flow series, a hand DSCR table, and solved plans whose figures
are recomputed here from the exported CashFlow lines with numpy_financial."""

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest

from optimizer import cfo
from optimizer.build import cash_lines
from optimizer.data import build_model_data
from tests.conftest import SHORT, make_scenario, make_sites, solve_case, solve_data
from tests.families.hand import DEBT, HALL, MINER, quarters

TOL_USD = 1.0


def hand_irr(flows) -> float:
    """The quarterly rate zeroing sum_j f_j (1+q)^-j, by bisection on (-0.9, 10) (one sign change assumed)."""
    npv = lambda q: sum(f / (1 + q) ** j for j, f in enumerate(flows))  # noqa: E731
    low, high = -0.9, 10.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if npv(mid) > 0 else (low, mid)
    return (low + high) / 2


def signed(c: pd.DataFrame, categories) -> pd.Series:
    return sum(line.sign * c[line.name] for line in cash_lines() if line.category in categories)


def unlevered_here(plan) -> pd.Series:
    """The test's own UFCF: operating + capex + tax lines (signed) - the tax the interest saves: the project-debt
    shield (at most tau * its interest and the tax paid) and tau * the revolver's interest in the horizon, tau *
    all interest after it."""
    c = plan.cashflow
    sv = plan.data.scenario_values
    tau = c["scenario"].map({w: sc.tax_rate for w, sc in sv.items()})
    rate_p = c["scenario"].map({w: sc.project_debt_rate_per_yr for w, sc in sv.items()})
    rate_r = c["scenario"].map({w: sc.revolver_rate_per_yr for w, sc in sv.items()})
    before = lambda col: c.groupby("scenario", sort=False)[col].shift(1, fill_value=0.0).fillna(0.0)  # noqa: E731
    shield = np.minimum(tau * rate_p / 4 * before("project_debt_balance_usd"), c["taxes_usd"])
    horizon = c["period"] == "horizon"
    assert np.allclose(c["interest_tax_shield_usd"], shield.where(horizon, 0.0), atol=TOL_USD)
    saved = (shield + tau * rate_r / 4 * before("revolver_balance_usd")).where(horizon, tau * c["interest_usd"])
    return signed(c, ("operating", "capex", "tax")) - saved


def expected_here(plan, values: pd.Series) -> np.ndarray:
    """sum_w p_w * values per quarter, in extended-quarter order."""
    c, d = plan.cashflow, plan.data
    return np.array([sum(d.probability[w] * float(values[(c["quarter"] == q) & (c["scenario"] == w)].sum())
                         for w in d.scenarios) for q in d.extended_quarters])


@pytest.fixture(scope="module")
def levered_plan():
    """Miner + one hall, 50% loan-to-cost, a 25% tax rate, no opening cash: what mining cash does not cover
    of the construction gap is equity (5% issuance cost). Two scenarios (BTC $150k / $90k at 0.3 / 0.7)."""
    values = {**SHORT, **DEBT, "loan_to_cost": 0.5, "opening_cash_usd": 0.0, "tax_rate": 0.25,
              "equity_max_usd_per_quarter": 50e6, "equity_issuance_cost_share": 0.05}
    scenarios = {"high": make_scenario(**values, btc_price_usd_2026=150_000),
                 "low": make_scenario(**values, btc_price_usd_2026=90_000)}
    data = build_model_data(make_sites(HALL, MINER), scenarios, probability={"high": 0.3, "low": 0.7})
    return solve_data(data)[0]


# ---------------------------------------------------------------- hand series

def test_hand_series_irr_payback_moic_and_peak_funding():
    flows, labels = [-100.0] + [30.0] * 5, quarters("2027Q1", 6)
    q = hand_irr(flows)                                        # 0.15238 per quarter
    assert cfo.irr_per_yr(flows) == pytest.approx((1 + q) ** 4 - 1, rel=1e-9)
    assert cfo.irr_per_yr([-100.0, 0.0, 121.0]) == pytest.approx(1.1 ** 4 - 1, rel=1e-12)  # 10% a quarter
    # cumulative -100, -70, -40, -10, +20, +50: >= 0 from the fifth quarter, 2028Q1
    assert cfo.payback(labels, flows) == (2028, "2028Q1")
    assert cfo.moic(flows) == pytest.approx(150 / 100)
    assert cfo.peak_funding(labels, flows) == (100.0, "2027Q1")


def test_payback_is_the_year_from_which_cumulative_flow_stays_non_negative():
    labels = quarters("2027Q1", 7)
    dip = [50.0, -100.0, 30.0, 30.0, 30.0, -10.0, 40.0]      # cumulative 50, -50, -20, 10, 40, 30, 70
    assert cfo.payback(labels, dip) == (2027, "2027Q4")
    assert cfo.peak_funding(labels, dip) == (50.0, "2027Q2")
    assert cfo.payback(labels[:3], [-100.0, 30.0, 30.0]) == (None, None)
    positive = [10.0, 20.0, 5.0]
    assert cfo.payback(labels[:3], positive) == (2027, "2027Q1")
    assert cfo.irr_per_yr(positive) is None and cfo.moic(positive) is None
    assert cfo.peak_funding(labels[:3], positive) == (0.0, None)


def test_dscr_hand_table():
    """CFADS 100 - 40 - 10 = 50 a quarter; interest 10 from the second quarter, repayment 15 from the fourth;
    the post-horizon repayment of what is owed at the end is not a scheduled payment."""
    labels = quarters("2027Q1", 7)
    c = pd.DataFrame({line.name: 0.0 for line in cash_lines()}, index=range(7))
    c.insert(0, "quarter", labels)
    c.insert(1, "scenario", "base")
    c.insert(2, "period", ["horizon"] * 6 + ["post-horizon"])
    c["mining_revenue_usd"], c["mining_power_cost_usd"], c["taxes_usd"] = 100.0, 40.0, 10.0
    c["interest_usd"] = [0, 10, 10, 10, 10, 10, 5]
    c["project_debt_repayment_usd"] = [0, 0, 0, 15, 15, 15, 1000]
    four = cfo.dscr_by_quarter(c, 4)
    assert list(four["quarter"]) == labels[1:6]
    assert list(four["dscr"]) == pytest.approx([100 / 10, 150 / 20, 200 / 45, 200 / 70, 200 / 85])
    one = cfo.dscr_by_quarter(c, 1)
    assert list(one["dscr"]) == pytest.approx([5.0, 5.0, 2.0, 2.0, 2.0])


# ---------------------------------------------------------------- solved plans

def test_irr_and_payback_equal_numpy_financial_on_the_exported_flows(reference_plan, levered_plan):
    for plan in (reference_plan, levered_plan):
        got, d = cfo.figures(plan), plan.data
        unlevered = expected_here(plan, unlevered_here(plan))
        equity = expected_here(plan, plan.cashflow["net_cash_flow_usd"])
        for key, flows in (("irr_project_per_yr", unlevered), ("irr_equity_per_yr", equity)):
            q = npf.irr(flows)
            assert got[key] == pytest.approx((1 + q) ** 4 - 1, rel=1e-9)
            assert abs(npf.npv(q, flows)) < 1e-6 * np.abs(flows).sum()
        cumulative = np.cumsum(unlevered)
        k = max(i for i in range(len(cumulative)) if cumulative[i] < -TOL_USD) + 1
        assert got["payback_quarter"] == d.extended_quarters[k]
        assert got["payback_year"] == int(d.extended_quarters[k][:4])
        assert got["peak_funding_usd"] == pytest.approx(-cumulative.min())
        assert got["moic_project"] == pytest.approx(unlevered[unlevered > 0].sum() / -unlevered[unlevered < 0].sum())


def test_unlevered_fcf_is_the_lines_less_the_tax_shield(levered_plan):
    """Per quarter and scenario: OP - NCX - (taxes + tau * interest), and the CashFlow column once exported."""
    u = cfo.unlevered_fcf_usd(levered_plan)
    assert np.allclose(u["unlevered_free_cash_flow_usd"], unlevered_here(levered_plan), atol=TOL_USD)
    assert np.allclose(u["operating_cash_usd"] - u["net_capex_usd"] - u["unlevered_taxes_usd"],
                       u["unlevered_free_cash_flow_usd"], atol=TOL_USD)
    assert (levered_plan.cashflow["interest_usd"] > 1e5).any() and (levered_plan.cashflow["taxes_usd"] > 1e5).any()


def test_sources_equal_uses(reference_plan, levered_plan):
    for plan in (reference_plan, levered_plan):
        table = cfo.sources_and_uses(plan)
        totals = table.groupby("side")["amount_usd"].sum()
        assert abs(totals["sources"] - totals["uses"]) < TOL_USD
    rows = table.set_index("item")["amount_usd"]
    assert rows["Equity raised"] > 1e6 and rows["Project debt drawn"] > 1e6 and rows["Taxes"] > 1e6


def test_pnl_subtotals_rebuild_and_free_cash_flow_is_the_cash_before_debt_principal(reference_plan, levered_plan):
    for plan in (reference_plan, levered_plan):
        pnl, lines = cfo.pnl_by_year(plan), list(cfo.pnl_by_year(plan).index)
        start = 0
        for subtotal in cfo.SUBTOTALS:
            end = lines.index(subtotal)
            assert np.allclose(pnl.iloc[start:end].sum(), pnl.loc[subtotal], atol=TOL_USD)
            start = end
        c = plan.cashflow[plan.cashflow["period"] == "horizon"]
        p = c["scenario"].map(plan.data.probability)
        before_principal = (c["net_cash_flow_usd"] - c["project_debt_draw_usd"] + c["project_debt_repayment_usd"]
                            - c["revolver_draw_usd"] + c["revolver_repayment_usd"] + c["equity_issuance_cost_usd"])
        year = c["quarter"].str[:4].astype(int)
        assert np.allclose(pnl.loc["free_cash_flow_usd"], (before_principal * p).groupby(year).sum(), atol=TOL_USD)
        assert np.allclose(pnl.loc["ebitda_usd"], (signed(c, ("operating",)) * p).groupby(year).sum(), atol=TOL_USD)
    assert (pnl.loc["depreciation_usd"] < -1e6).any() and (pnl.loc["taxes_usd"] < -1e6).any()


def test_a_plan_without_debt_has_no_dscr():
    plan, _ = solve_case(make_sites(MINER))
    assert cfo.dscr_by_quarter(plan.cashflow).empty
    got = cfo.figures(plan)
    assert got["min_dscr"] is None and got["min_dscr_quarter"] is None
    # no financing and no taxes: the unlevered flow is the net cash flow, so the two IRRs agree
    assert np.allclose(cfo.unlevered_fcf_usd(plan)["unlevered_free_cash_flow_usd"], plan.cashflow["net_cash_flow_usd"])
