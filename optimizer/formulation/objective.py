"""Objective: maximise the expected value of the plan, by default its adjusted present value (APV): unlevered
free cash flow at the discount rate, plus project debt's interest tax shields at the cost of debt, less
issuance costs (coupling family: it reads every cash line). `valuation = "levered"` discounts every flow,
financing included, at the discount rate (the v1 objective). The model objective is in $M (scaled by 1e-6).

Symbols:
    j               quarter of a cash flow, 0..J-1: the horizon plus the post-horizon tail [-]
    p_w             probability of scenario w [-]
    r               discount rate of unlevered cash flows [1/yr]
    df[j]           end-of-quarter discount factor (1+r)^-((j+1)/4) [-]
    df_d[j]         the same at the project-debt rate rho_p: (1+rho_p)^-((j+1)/4) [-]
    a_l[j,w]        amount of cash line l in quarter j; sign_l +1 inflow, -1 outflow [USD]
    UFCF[j,w]       unlevered free cash flow: operating - capex - taxes as if unlevered [USD]
    I_r[j,w]        revolver interest: rho_r/4 * BR[j-1] [USD]
    r_e             cost of equity (reported equity NPV only) [1/yr]

Debt and equity are at fair value under APV: draws, repayments and interest carry no value of their own (debt
is there to keep the plan liquid), equity raised is not value either; what financing adds is the tax shield of
project debt (financing.py F7) and what it costs is the issuance cost. The revolver's shield is left out: it
is working capital, and counting it would make borrowing beside idle cash worth something. Taxes as if
unlevered are the levered taxes (taxes.py, interest deducted) plus the tax the interest saves: TS for project
debt (at most the tax paid, F7/T4) and tau * I_r for the revolver (so that its deduction is worth nothing);
after the horizon, where no shield is counted, tau * all interest.

Equations:
    (N1) levered: V_w = sum_j df[j] * sum_{l in NPV} sign_l * a_l[j,w]      (every line but equity raised)
    (N2) apv: UFCF[j,w] = sum_{l in operating, capex, tax} sign_l * a_l[j,w] - TS[j,w] - tau * I_r[j,w]  (j < T),
         ... - tau * interest[j,w]  (j >= T);
         V_w = sum_j (df[j] * UFCF[j,w] + df_d[j] * TS[j,w] - df[j] * issuance[j,w])
    (N3) max sum_w p_w * (V_w - tie-break_w)                 (financing.py F8)
    (N4) reported: equity NPV_w = sum_j (1+r_e)^-((j+1)/4) * sum_{l in NPV} sign_l * a_l[j,w]
"""

import numpy as np
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import liquidity
from optimizer.formulation.family import TOL_USD
from optimizer.formulation.financing import INTEREST, ISSUANCE, MUSD, tiebreak_usd

OBJECTIVE_SCALE_USD = 1e6
REQUIRES = (liquidity,)
CASH_LINES = ()
LIMITS = ()
UNLEVERED = ("operating", "capex", "tax")


def factors(rate_per_yr: float, n: int) -> np.ndarray:
    """End-of-quarter discount factors (1+rate)^-((j+1)/4), j = 0..n-1."""
    return (1 + rate_per_yr) ** (-(np.arange(n) + 1) / 4)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc, df = d.base, d.discount_factor
    if sc.valuation == "levered":
        value = lambda j, w: df[j] * m.terms.net(j, w, npv_only=True)  # noqa: E731
    else:
        df_d = factors(sc.project_debt_rate_per_yr, d.n_extended)
        shield = m.interest_tax_shield_usd
        br, rate_r = m.revolver_balance_musd, sc.revolver_rate_per_yr / 4 * MUSD
        revolver = lambda j, w: rate_r * br[j - 1, w] if (j - 1, w) in br else 0.0  # noqa: E731
        ts = lambda j, w: shield[j, w] if (j, w) in shield else 0.0  # noqa: E731
        saved = lambda j, w: (ts(j, w) + sc.tax_rate * revolver(j, w) if j < d.n_quarters  # noqa: E731
                              else sc.tax_rate * m.terms.cash(INTEREST.name, j, w))
        value = lambda j, w: (df[j] * (m.terms.net(j, w, categories=UNLEVERED) - saved(j, w)  # noqa: E731
                                       - m.terms.cash(ISSUANCE.name, j, w))
                              + df_d[j] * ts(j, w))
    m.npv_usd = pyo.Expression(m.W, rule=lambda m, w: sum(value(j, w) for j in range(d.n_extended)))
    m.npv_musd = pyo.Objective(expr=sum(d.probability[w] * (m.npv_usd[w] - m.undrawn_tiebreak_usd[w])
                                        for w in m.W) / OBJECTIVE_SCALE_USD, sense=pyo.maximize)


def value_columns(table, d: ModelData, lines) -> None:
    """The CashFlow columns of N1/N2/N4, from the lines (in place): unlevered free cash flow, the discount
    factors, and discounted_cash_flow_usd, the quarter's contribution to the objective's value."""
    sc = d.base
    j = table["quarter"].map({q: i for i, q in enumerate(d.extended_quarters)}).to_numpy()
    table["discount_factor"] = np.asarray(d.discount_factor)[j]
    table["debt_discount_factor"] = factors(sc.project_debt_rate_per_yr, d.n_extended)[j]
    table["equity_discount_factor"] = factors(sc.cost_of_equity_per_yr, d.n_extended)[j]
    table["unlevered_free_cash_flow_usd"] = unlevered_usd(table, d, lines)
    table["discounted_cash_flow_usd"] = discounted_value_usd(table, sc.valuation)


def unlevered_usd(table, d: ModelData, lines):
    """N2's UFCF per CashFlow row: the unlevered lines - TS - tau * rho_r/4 * the revolver's opening balance in
    the horizon, - tau * interest after it."""
    tau = table["scenario"].map({w: v.tax_rate for w, v in d.scenario_values.items()})
    rate_r = table["scenario"].map({w: v.revolver_rate_per_yr for w, v in d.scenario_values.items()})
    opening = table.groupby("scenario", sort=False)["revolver_balance_usd"].transform(
        lambda b: b.fillna(0.0).shift(1, fill_value=0.0))
    saved = (table["interest_tax_shield_usd"] + tau * rate_r / 4 * opening).where(
        table["period"] == "horizon", tau * table["interest_usd"])
    return sum(line.sign * table[line.name] for line in lines if line.category in UNLEVERED) - saved


def discounted_value_usd(table, valuation: str):
    """Each CashFlow row's contribution to V_w: net * df (levered, N1), or (UFCF - issuance) * df + TS * df_d
    (apv, N2)."""
    if valuation == "levered":
        return table["net_cash_flow_usd"] * table["discount_factor"]
    return ((table["unlevered_free_cash_flow_usd"] - table["equity_issuance_cost_usd"]) * table["discount_factor"]
            + table["interest_tax_shield_usd"] * table["debt_discount_factor"])


def cashflow_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    return {}


def schedule_columns(m, d) -> dict:
    return {}


def check(plan) -> list[str]:
    """N1-N3: every line a non-negative amount (taxes may be a credit after the horizon), net flow the
    signed sum of its lines, unlevered free cash flow the unlevered lines less tau * interest, and the
    objective the value rebuilt from CashFlow less the tie-break."""
    d, c, problems = plan.data, plan.cashflow, []
    negative = [line.name for line in plan.cash_lines if line.category != "tax" and (c[line.name] < -TOL_USD).any()]
    if negative:
        problems.append(f"cash flow: {', '.join(negative)} holds negative amounts (lines are amounts, signed by kind).")
    net = sum(line.sign * c[line.name] for line in plan.cash_lines if line.in_npv)
    if (abs(net - c["net_cash_flow_usd"]) > TOL_USD).any():
        problems.append("cash flow: net_cash_flow_usd differs from the sum of its lines.")
    if (abs(unlevered_usd(c, d, plan.cash_lines) - c["unlevered_free_cash_flow_usd"]) > TOL_USD).any():
        problems.append("cash flow: unlevered_free_cash_flow_usd is not operating - capex - taxes - the tax the "
                        "interest saves.")
    p = np.array([d.probability[w] for w in c["scenario"]])
    rebuilt = float(np.dot(p, discounted_value_usd(c, d.base.valuation)))
    tiebreak = sum(d.probability[w] * tiebreak_usd(c, w) for w in d.scenarios)
    objective = plan.info.npv_usd
    if objective is None or abs(rebuilt - tiebreak - objective) > 1e-6 * max(1.0, abs(objective)):
        problems.append(f"objective: value rebuilt from CashFlow ${rebuilt:,.0f} (less the ${tiebreak:,.0f} "
                        f"tie-break) differs from the objective ${objective or 0:,.0f}.")
    return problems
