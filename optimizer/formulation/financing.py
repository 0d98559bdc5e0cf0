"""Financing: AI project debt against leased halls, a corporate revolver and optional equity raises.

Money variables are in $M (suffix `_musd`) to keep the rows well scaled. Per scenario w:

Symbols:
    DP[t]           project debt drawn in quarter t [$M]
    BP[t], BR[t]    project debt and revolver balances at the end of quarter t [$M]
    LTC             loan-to-cost: project debt as a share of the capex of halls whose capacity is leased [ratio]
    G, A_term       grace quarters before a draw amortises; straight-line amortisation term [quarters]
    rho_p, rho_r    yearly interest rates of project debt and the revolver [1/yr]
    Eq[t]           equity raised in quarter t, within [0, Eq_max] [$M]
    iss             issuance cost as a share of equity raised [ratio]

Equations:
    (F1) sum_{i<=t} DP[i] <= LTC * sum_s PC[s,t]               (drawn during construction)
    (F2) sum_{i<=T-1} DP[i] <= LTC * sum_s c_s * x[s,T-1]      (only against capacity that is leased)
    (F3) repayment[t] = sum_{i = t-G-A_term}^{t-G-1} DP[i] / A_term;  BP[t] = BP[t-1] + DP[t] - repayment[t];
         revolver: BR[t] = BR[t-1] + draw[t] - repay[t], 0 <= BR[t] <= limit
    (F4) interest[t] = rho_p/4 * BP[t-1] + rho_r/4 * BR[t-1]
    (F5) what is owed at the horizon end is repaid, with a last quarter of interest, in the first
         post-horizon quarter
    (F6) equity: cash in Eq[t] (issued at fair value: in the cash balance, not in the NPV); its issuance
         cost iss * Eq[t] is a loss to existing holders (in the NPV)
    (F7) interest tax shield of project debt, the tax it saves: 0 <= TS[t] <= tau * rho_p/4 * BP[t-1] in the
         horizon (and TS[t] <= the tax paid in t, taxes.py T4: no shield while the plan pays no tax); none after
         the horizon (the debt is repaid in its first quarter: a shield there would reward a loan for its own sake)
    (F8) undrawn tie-break: eps * sum_t (BP[t] + BR[t]) leaves the objective (eps = $10 per $M-quarter), so
         that debt that adds no value is not held
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, leasing
from optimizer.formulation.family import TOL_USD, Limit, at_quarter, horizon_cash, no_columns, quarter, values
from optimizer.formulation.halls import capex_paid_through
from optimizer.formulation.terms import CashLine

MUSD = 1e6
UNDRAWN_TIEBREAK_PER_QUARTER = 1e-5   # eps: USD per USD of debt balance per quarter
REQUIRES = (halls, leasing)
DRAW = CashLine("project_debt_draw_usd", +1, "financing")
REPAY = CashLine("project_debt_repayment_usd", -1, "financing")
REVOLVER_DRAW = CashLine("revolver_draw_usd", +1, "financing")
REVOLVER_REPAY = CashLine("revolver_repayment_usd", -1, "financing")
INTEREST = CashLine("interest_usd", -1, "financing")
EQUITY = CashLine("equity_raised_usd", +1, "financing", in_npv=False)
ISSUANCE = CashLine("equity_issuance_cost_usd", -1, "financing")
CASH_LINES = (DRAW, REPAY, REVOLVER_DRAW, REVOLVER_REPAY, INTEREST, EQUITY, ISSUANCE)
LIMITS = (
    Limit("revolver_balance_musd", "financing: the revolver limit", at_quarter,
          lambda d, i, a: f"raise the revolver limit in {quarter(d, i[0])} by ${a:,.1f}M", unit="$M",
          bound="upper"),
    Limit("project_debt_leased_only", "financing: project debt only against leased halls", lambda d, i: "horizon end"),
    Limit("project_debt_during_construction", "financing: loan-to-cost during construction", at_quarter),
)


def _on(flag: bool, m: pyo.ConcreteModel) -> list:
    return [(t, w) for t in m.T for w in m.W] if flag else []


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    m.PROJECT_DEBT_TW = pyo.Set(initialize=_on(sc.loan_to_cost > 0 and bool(d.ai_sites), m), dimen=2)
    m.REVOLVER_TW = pyo.Set(initialize=_on(sc.revolver_limit_usd > 0, m), dimen=2)
    m.EQUITY_TW = pyo.Set(initialize=_on(sc.equity_max_usd_per_quarter > 0, m), dimen=2)
    _project_debt(m, d)
    _revolver(m, d)
    _tax_shield_and_tiebreak(m, d)
    m.equity_raised_musd = pyo.Var(m.EQUITY_TW, bounds=(0, sc.equity_max_usd_per_quarter / MUSD))
    for (t, w) in m.EQUITY_TW:
        m.terms.add_cash(EQUITY.name, t, w, MUSD * m.equity_raised_musd[t, w])
        m.terms.add_cash(ISSUANCE.name, t, w, sc.equity_issuance_cost_share * MUSD * m.equity_raised_musd[t, w])


def _project_debt(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc, last = d.base, d.n_quarters - 1
    grace, term = sc.project_debt_grace_quarters, sc.project_debt_term_quarters
    m.project_debt_draw_musd = pyo.Var(m.PROJECT_DEBT_TW, domain=pyo.NonNegativeReals)
    m.project_debt_balance_musd = pyo.Var(m.PROJECT_DEBT_TW, domain=pyo.NonNegativeReals)
    draw, balance = m.project_debt_draw_musd, m.project_debt_balance_musd
    m.project_debt_during_construction = pyo.Constraint(m.PROJECT_DEBT_TW, rule=lambda m, t, w: sum(
        draw[i, w] for i in range(t + 1)) <= sc.loan_to_cost * sum(
        capex_paid_through(m, d, s, t) for s in d.ai_sites) / MUSD)
    scenarios = [w for (t, w) in m.PROJECT_DEBT_TW if t == 0]
    m.project_debt_leased_only = pyo.Constraint(scenarios, rule=lambda m, w: sum(draw[i, w] for i in m.T) <= (
        sc.loan_to_cost * sum(d.capex_usd_per_it_mw[s] * m.leased_it_mw[s, last, w] for s in d.ai_sites) / MUSD))
    repayment = {(t, w): sum(draw[i, w] for i in range(max(0, t - grace - term), max(0, t - grace))) / term
                 for (t, w) in m.PROJECT_DEBT_TW}
    m.project_debt_roll = pyo.Constraint(m.PROJECT_DEBT_TW, rule=lambda m, t, w: balance[t, w] == (
        (balance[t - 1, w] if t > 0 else 0) + draw[t, w] - repayment[t, w]))
    _debt_cash(m, d, m.PROJECT_DEBT_TW, draw, repayment, balance, DRAW, REPAY, sc.project_debt_rate_per_yr)


def _revolver(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    m.revolver_balance_musd = pyo.Var(m.REVOLVER_TW, bounds=(0, sc.revolver_limit_usd / MUSD))
    m.revolver_draw_musd = pyo.Var(m.REVOLVER_TW, domain=pyo.NonNegativeReals)
    m.revolver_repay_musd = pyo.Var(m.REVOLVER_TW, domain=pyo.NonNegativeReals)
    balance = m.revolver_balance_musd
    m.revolver_roll = pyo.Constraint(m.REVOLVER_TW, rule=lambda m, t, w: balance[t, w] == (
        (balance[t - 1, w] if t > 0 else 0) + m.revolver_draw_musd[t, w] - m.revolver_repay_musd[t, w]))
    _debt_cash(m, d, m.REVOLVER_TW, m.revolver_draw_musd, m.revolver_repay_musd, balance, REVOLVER_DRAW,
               REVOLVER_REPAY, sc.revolver_rate_per_yr)


def _tax_shield_and_tiebreak(m: pyo.ConcreteModel, d: ModelData) -> None:
    """F7 TS[j, w] in USD (the APV counts it at the project-debt rate) and F8 the tie-break per scenario."""
    sc, bp = d.base, m.project_debt_balance_musd
    shield = sc.tax_rate * sc.project_debt_rate_per_yr / 4
    on = sc.tax_rate > 0 and len(m.PROJECT_DEBT_TW) > 0 and sc.valuation == "apv"  # levered: reported only
    m.TAX_SHIELD_TW = pyo.Set(initialize=[(t, w) for (t, w) in m.PROJECT_DEBT_TW if t > 0] if on else [], dimen=2)
    m.tax_shield_musd = pyo.Var(m.TAX_SHIELD_TW, domain=pyo.NonNegativeReals)
    m.tax_shield_within_interest = pyo.Constraint(m.TAX_SHIELD_TW, rule=lambda m, t, w: (
        m.tax_shield_musd[t, w] <= shield * bp[t - 1, w]))
    m.interest_tax_shield_usd = pyo.Expression(m.TAX_SHIELD_TW, rule=lambda m, t, w: MUSD * m.tax_shield_musd[t, w])
    m.undrawn_tiebreak_usd = pyo.Expression(m.W, rule=lambda m, w: UNDRAWN_TIEBREAK_PER_QUARTER * MUSD * (
        sum(bp[t, w] for t in m.T if (t, w) in bp) + sum(
            m.revolver_balance_musd[t, w] for t in m.T if (t, w) in m.revolver_balance_musd)))


def tiebreak_usd(cashflow, w: str) -> float:
    """F8 from CashFlow: eps * the scenario's debt balances summed over the horizon."""
    c = cashflow[(cashflow["scenario"] == w) & (cashflow["period"] == "horizon")]
    return UNDRAWN_TIEBREAK_PER_QUARTER * float((c["project_debt_balance_usd"] + c["revolver_balance_usd"]).sum())


def _debt_cash(m, d: ModelData, keys, draw, repay, balance, draw_line, repay_line, rate: float) -> None:
    """F3-F5 cash lines of one facility: draws, repayments, interest on the opening balance, and the
    balance left at the horizon end repaid (with its interest) in the first post-horizon quarter."""
    last = d.n_quarters - 1
    for (t, w) in keys:
        m.terms.add_cash(draw_line.name, t, w, MUSD * draw[t, w])
        m.terms.add_cash(repay_line.name, t, w, MUSD * repay[t, w])
        if t > 0:
            m.terms.add_cash(INTEREST.name, t, w, rate / 4 * MUSD * balance[t - 1, w])
        if t == last and d.n_extended > d.n_quarters:
            m.terms.add_cash(repay_line.name, d.n_quarters, w, MUSD * balance[last, w])
            m.terms.add_cash(INTEREST.name, d.n_quarters, w, rate / 4 * MUSD * balance[last, w])


def cashflow_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    return {"project_debt_balance_usd": values(m.project_debt_balance_musd, m.PROJECT_DEBT_TW, MUSD),
            "revolver_balance_usd": values(m.revolver_balance_musd, m.REVOLVER_TW, MUSD),
            "interest_tax_shield_usd": shield_columns(m, d)}


def shield_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """F7 as reported, under either valuation: TS[t] = min(tau * rho_p/4 * BP[t-1], taxes[t]) in the horizon (the
    APV's variable reaches it: the objective gains df_d - df > 0 per dollar)."""
    sc, bp = d.base, values(m.project_debt_balance_musd, m.PROJECT_DEBT_TW, MUSD)
    most = sc.tax_rate * sc.project_debt_rate_per_yr / 4
    return {(t, w): min(most * bp[t - 1, w], float(pyo.value(m.terms.cash("taxes_usd", t, w))))
            for (t, w) in bp if t > 0 and sc.tax_rate > 0}


schedule_columns = no_columns


def check(plan) -> list[str]:
    """F1-F6 from the CashFlow and Schedule sheets."""
    d, problems = plan.data, []
    for w in d.scenarios:
        sc, c = d.scenario_values[w], horizon_cash(plan, w).reset_index(drop=True)
        tail = plan.cashflow[(plan.cashflow["scenario"] == w) & (plan.cashflow["period"] == "post-horizon")]
        off = lambda a, b: bool((abs(a - b) > TOL_USD).any())  # noqa: E731
        drawn = c["project_debt_draw_usd"].cumsum()
        if (drawn > sc.loan_to_cost * c["ai_capex_usd"].cumsum() + TOL_USD).any():
            problems.append(f"financing: project debt drawn above {sc.loan_to_cost:.0%} of the capex paid ({w}).")
        s = plan.schedule[(plan.schedule["scenario"] == w) & (plan.schedule["quarter"] == d.quarters[-1])]
        leased_cost = float((s["site"].map(d.capex_usd_per_it_mw).fillna(0) * s["ai_it_mw_leased"]).sum())
        if drawn.iloc[-1] > sc.loan_to_cost * leased_cost + TOL_USD:
            problems.append(f"financing: project debt above {sc.loan_to_cost:.0%} of the capex of the MW leased ({w}).")
        g, a = sc.project_debt_grace_quarters, sc.project_debt_term_quarters
        draws = c["project_debt_draw_usd"].tolist()
        due = [sum(draws[max(0, t - g - a):max(0, t - g)]) / a for t in range(len(c))]
        if off(c["project_debt_repayment_usd"], due) or off(c["project_debt_balance_usd"], drawn - c[
                "project_debt_repayment_usd"].cumsum()):
            problems.append(f"financing: project debt does not amortise over {a} quarters after {g} of grace ({w}).")
        revolver = (c["revolver_draw_usd"] - c["revolver_repayment_usd"]).cumsum()
        if off(revolver, c["revolver_balance_usd"]) or (c["revolver_balance_usd"] > sc.revolver_limit_usd + TOL_USD).any():
            problems.append(f"financing: revolver does not roll forward within its limit ({w}).")
        opening = (sc.project_debt_rate_per_yr * c["project_debt_balance_usd"]
                   + sc.revolver_rate_per_yr * c["revolver_balance_usd"]).shift(1, fill_value=0.0) / 4
        if off(c["interest_usd"], opening):
            problems.append(f"financing: interest is not the rate on the opening balances ({w}).")
        owed = c["project_debt_balance_usd"].iloc[-1] + c["revolver_balance_usd"].iloc[-1]
        if owed > TOL_USD and (not len(tail) or off(
                tail["project_debt_repayment_usd"].iloc[0] + tail["revolver_repayment_usd"].iloc[0], owed)):
            problems.append(f"financing: the debt owed at the horizon end is not repaid after it ({w}).")
        every = plan.cashflow[plan.cashflow["scenario"] == w].reset_index(drop=True)
        most = sc.tax_rate * sc.project_debt_rate_per_yr / 4 * every["project_debt_balance_usd"].fillna(0.0).shift(
            1, fill_value=0.0)
        ts, tail = every["interest_tax_shield_usd"], every["period"] != "horizon"
        if (ts < -TOL_USD).any() or (ts > most + TOL_USD).any() or (ts[tail].abs() > TOL_USD).any():
            problems.append(f"financing: the interest tax shield is not the tax rate on project-debt interest ({w}).")
        if off(c["equity_issuance_cost_usd"], sc.equity_issuance_cost_share * c["equity_raised_usd"]) or (
                c["equity_raised_usd"] > sc.equity_max_usd_per_quarter + TOL_USD).any():
            problems.append(f"financing: equity raised or its issuance cost is off ({w}).")
    return problems
