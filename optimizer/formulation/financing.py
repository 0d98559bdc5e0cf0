"""Financing: AI project debt against leased halls, a corporate revolver and optional equity raises.

Money variables are in $M (suffix `_musd`) to keep the rows well scaled. Per scenario w:

Project debt: draws D[t] >= 0, balance BP[t]; LTC loan-to-cost; PC[s,t] AI capex paid through t
(halls.py); c_s capex per IT MW; x[s,T-1] IT MW leased at the horizon end; G grace, A amortisation term
(quarters); rho_p yearly rate.
    (F1) sum_{i<=t} D[i] <= LTC * sum_s PC[s,t]                (drawn during construction)
    (F2) sum_{i<=T-1} D[i] <= LTC * sum_s c_s * x[s,T-1]       (only against capacity that is leased)
    (F3) repayment[t] = sum_{i = t-G-A}^{t-G-1} D[i] / A;  BP[t] = BP[t-1] + D[t] - repayment[t]
Revolver: balance BR[t] in [0, limit], draws and repayments >= 0: BR[t] = BR[t-1] + draw[t] - repay[t].
    (F4) interest[t] = rho_p/4 * BP[t-1] + rho_r/4 * BR[t-1]
    (F5) what is owed at the horizon end is repaid in the first post-horizon quarter
Equity: raised Eq[t] in [0, Eq_max]; issuance cost = share * Eq (in the NPV); the raise itself is cash in
but not value (issued at fair value), so it counts in the cash balance and not in the NPV.
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.halls import capex_paid_through
from optimizer.formulation.terms import cash_line

MUSD = 1e6
DRAW = cash_line("project_debt_draw_usd", +1, "financing")
REPAY = cash_line("project_debt_repayment_usd", -1, "financing")
REVOLVER_DRAW = cash_line("revolver_draw_usd", +1, "financing")
REVOLVER_REPAY = cash_line("revolver_repayment_usd", -1, "financing")
INTEREST = cash_line("interest_usd", -1, "financing")
EQUITY = cash_line("equity_raised_usd", +1, "financing", in_npv=False)
ISSUANCE = cash_line("equity_issuance_cost_usd", -1, "financing")


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    if sc.loan_to_cost > 0 and d.ai_sites:
        _project_debt(m, d)
    if sc.revolver_limit_usd > 0:
        _revolver(m, d)
    if sc.equity_max_usd_per_quarter > 0:
        m.equity_raised_musd = pyo.Var(m.T, m.W, bounds=(0, sc.equity_max_usd_per_quarter / MUSD))
        for t in m.T:
            for w in m.W:
                m.terms.add_cash(EQUITY, t, w, MUSD * m.equity_raised_musd[t, w])
                m.terms.add_cash(ISSUANCE, t, w, sc.equity_issuance_cost_share * MUSD * m.equity_raised_musd[t, w])


def _project_debt(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc, last = d.base, d.n_quarters - 1
    grace, term = sc.project_debt_grace_quarters, sc.project_debt_term_quarters
    m.project_debt_draw_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.project_debt_balance_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    draw = m.project_debt_draw_musd
    m.project_debt_during_construction = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: sum(
        draw[i, w] for i in range(t + 1)) <= sc.loan_to_cost * sum(
        capex_paid_through(m, d, s, t) for s in d.ai_sites) / MUSD)
    m.project_debt_leased_only = pyo.Constraint(m.W, rule=lambda m, w: sum(draw[i, w] for i in m.T) <= (
        sc.loan_to_cost * sum(d.sites.at[s, "capex_usd_per_it_mw"] * m.leased_it_mw[s, last, w]
                              for s in d.ai_sites) / MUSD))
    repayment = {(t, w): sum(draw[i, w] for i in range(max(0, t - grace - term), max(0, t - grace))) / term
                 for t in m.T for w in m.W}
    m.project_debt_roll = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: m.project_debt_balance_musd[t, w] == (
        (m.project_debt_balance_musd[t - 1, w] if t > 0 else 0) + draw[t, w] - repayment[t, w]))
    for t in m.T:
        for w in m.W:
            m.terms.add_cash(DRAW, t, w, MUSD * draw[t, w])
            m.terms.add_cash(REPAY, t, w, MUSD * repayment[t, w])
            if t > 0:
                m.terms.add_cash(INTEREST, t, w, sc.project_debt_rate_per_yr / 4 * MUSD
                                 * m.project_debt_balance_musd[t - 1, w])
    if d.n_extended > d.n_quarters:
        for w in m.W:
            m.terms.add_cash(REPAY, d.n_quarters, w, MUSD * m.project_debt_balance_musd[last, w])
            m.terms.add_cash(INTEREST, d.n_quarters, w, sc.project_debt_rate_per_yr / 4 * MUSD
                             * m.project_debt_balance_musd[last, w])


def _revolver(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc, last = d.base, d.n_quarters - 1
    m.revolver_balance_musd = pyo.Var(m.T, m.W, bounds=(0, sc.revolver_limit_usd / MUSD))
    m.revolver_draw_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.revolver_repay_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.revolver_roll = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: m.revolver_balance_musd[t, w] == (
        (m.revolver_balance_musd[t - 1, w] if t > 0 else 0) + m.revolver_draw_musd[t, w]
        - m.revolver_repay_musd[t, w]))
    for t in m.T:
        for w in m.W:
            m.terms.add_cash(REVOLVER_DRAW, t, w, MUSD * m.revolver_draw_musd[t, w])
            m.terms.add_cash(REVOLVER_REPAY, t, w, MUSD * m.revolver_repay_musd[t, w])
            if t > 0:
                m.terms.add_cash(INTEREST, t, w, sc.revolver_rate_per_yr / 4 * MUSD
                                 * m.revolver_balance_musd[t - 1, w])
    if d.n_extended > d.n_quarters:
        for w in m.W:
            m.terms.add_cash(REVOLVER_REPAY, d.n_quarters, w, MUSD * m.revolver_balance_musd[last, w])
            m.terms.add_cash(INTEREST, d.n_quarters, w, sc.revolver_rate_per_yr / 4 * MUSD
                             * m.revolver_balance_musd[last, w])
