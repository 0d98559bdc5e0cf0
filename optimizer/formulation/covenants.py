"""Covenants: the lenders' limits on the plan, as linear rows per scenario w (a finance family).

Money rows are in $M. The DSCR test is the project lenders': it exists where project debt can be drawn
(loan_to_cost > 0 and an AI site; a revolver alone carries none), adds up `k` quarters (trailing window;
fewer at the horizon start) and applies from G = project_debt_grace_quarters into the horizon (not from each
draw's own grace end), whether or not debt is then outstanding: a quarter whose cash flow available for debt
service is negative breaks it too (a mining commitment run at a loss, a carbon price); set the minimum to 0 to
turn it off. The leverage row likewise forbids any debt while trailing EBITDA is not positive.

Symbols:
    CFADS[t]        cash flow available for debt service: operating lines - taxes [USD]
    DS[t]           debt service: interest (project debt and revolver) + scheduled project-debt repayment [USD]
    k               quarters in the DSCR window (covenant_dscr_window_quarters) [quarters]
    DSCR_min        least debt-service coverage (0: none) [ratio]
    Lev_max         most debt over trailing four-quarter EBITDA (inf: none) [ratio]

Equations:
    (V1) sum_{i=t-k+1..t} CFADS[i] >= DSCR_min * sum_{i=t-k+1..t} DS[i]        for t >= G
    (V2) BP[t] + BR[t] <= Lev_max * (4 / n_t) * sum_{i=t-n_t+1..t} EBITDA[i],  n_t = min(4, t+1)
"""

import math

import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import financing, taxes
from optimizer.formulation.family import TOL_USD, Limit, at_quarter, horizon_cash, no_columns, quarter
from optimizer.formulation.financing import INTEREST, MUSD, REPAY
from optimizer.formulation.taxes import TAXES

REQUIRES = (financing, taxes)
CASH_LINES = ()
LIMITS = (
    Limit("dscr_covenant", lambda d: f"covenants: debt-service coverage of at least {d.base.covenant_dscr_min:.2f}x",
          at_quarter, lambda d, i, a: f"find ${a:,.1f}M more cash flow for debt service by {quarter(d, i[0])} "
          "(or a lender's waiver of the DSCR test)", unit="$M"),
    Limit("leverage_covenant", lambda d: f"covenants: debt of at most {d.base.covenant_leverage_max:g}x EBITDA",
          at_quarter, lambda d, i, a: f"carry ${a:,.1f}M less debt (or more EBITDA) in {quarter(d, i[0])}",
          unit="$M"),
)


def tested_quarters(sc, n_quarters: int) -> range:
    """Quarters the DSCR test applies to: t >= G (none when DSCR_min = 0)."""
    return range(sc.project_debt_grace_quarters, n_quarters) if sc.covenant_dscr_min > 0 else range(0)


def window(t: int, k: int) -> range:
    return range(max(0, t - k + 1), t + 1)


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    has_debt, any_debt = len(m.PROJECT_DEBT_TW) > 0, len(m.PROJECT_DEBT_TW) + len(m.REVOLVER_TW) > 0
    cfads = lambda i, w: m.terms.net(i, w, categories=("operating",)) - m.terms.cash(TAXES.name, i, w)  # noqa: E731
    service = lambda i, w: m.terms.cash(INTEREST.name, i, w) + m.terms.cash(REPAY.name, i, w)  # noqa: E731
    k = sc.covenant_dscr_window_quarters
    m.DSCR_TW = pyo.Set(initialize=[(t, w) for t in tested_quarters(sc, d.n_quarters) for w in m.W]
                        if has_debt else [], dimen=2)
    m.dscr_covenant = pyo.Constraint(m.DSCR_TW, rule=lambda m, t, w: sum(
        cfads(i, w) - sc.covenant_dscr_min * service(i, w) for i in window(t, k)) / MUSD >= 0)
    m.LEVERAGE_TW = pyo.Set(initialize=[(t, w) for t in m.T for w in m.W]
                            if any_debt and math.isfinite(sc.covenant_leverage_max) else [], dimen=2)
    debt = lambda t, w: (m.project_debt_balance_musd[t, w] if (t, w) in m.project_debt_balance_musd else 0) + (  # noqa: E731
        m.revolver_balance_musd[t, w] if (t, w) in m.revolver_balance_musd else 0)
    m.leverage_covenant = pyo.Constraint(m.LEVERAGE_TW, rule=lambda m, t, w: debt(t, w) <= (
        sc.covenant_leverage_max * 4 / len(window(t, 4)) * sum(
            m.terms.net(i, w, categories=("operating",)) for i in window(t, 4)) / MUSD))


schedule_columns = cashflow_columns = no_columns


def dscr_parts(c: pd.DataFrame, operating: list) -> tuple[pd.Series, pd.Series]:
    """(CFADS, DS) per CashFlow row from the lines."""
    cfads = sum(line.sign * c[line.name] for line in operating) - c[TAXES.name]
    return cfads, c[INTEREST.name] + c[REPAY.name]


def check(plan) -> list[str]:
    """V1/V2 recomputed from the CashFlow sheet."""
    d, problems = plan.data, []
    operating = [line for line in plan.cash_lines if line.category == "operating"]
    for w in d.scenarios:
        sc, c = d.scenario_values[w], horizon_cash(plan, w).reset_index(drop=True)
        cfads, service = dscr_parts(c, operating)
        k, short = sc.covenant_dscr_window_quarters, []
        for t in tested_quarters(sc, len(c)):
            rows = list(window(t, k))
            if cfads[rows].sum() < sc.covenant_dscr_min * service[rows].sum() - TOL_USD * 10:
                short.append(c["quarter"][t])
        if short and sc.loan_to_cost > 0 and d.ai_sites:
            problems.append(f"covenants: debt-service coverage below {sc.covenant_dscr_min:.2f}x in "
                            f"{', '.join(short[:5])} ({w}).")
        if math.isfinite(sc.covenant_leverage_max):
            ebitda = sum(line.sign * c[line.name] for line in operating)
            debt = c["project_debt_balance_usd"] + c["revolver_balance_usd"]
            over = [c["quarter"][t] for t in range(len(c)) if debt[t] > sc.covenant_leverage_max * 4 / len(
                window(t, 4)) * ebitda[list(window(t, 4))].sum() + TOL_USD * 10]
            if over:
                problems.append(f"covenants: debt above {sc.covenant_leverage_max:g}x trailing EBITDA in "
                                f"{', '.join(over[:5])} ({w}).")
    return problems
