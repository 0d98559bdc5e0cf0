"""Taxes: a flat rate on operating profit less depreciation and interest, losses carried forward (linear).

Money variables in $M. Splitting the taxable income into TP - TL is exact: inflating both only moves tax
later, at a loss.

Symbols (per scenario w):
    EBITDA[j]       sum of the operating cash lines of quarter j [USD]
    I[j]            interest paid in quarter j (financing.py) [USD]
    Dep[j]          tax depreciation of quarter j [USD]
    tau             flat corporate tax rate [ratio]
    b               bonus depreciation: share of AI M&E, site opening and ASIC capex expensed when paid [ratio]
    sh              share of AI capex that is building shell (never bonus) [ratio]
    life_m, life_sh, life_a  tax lives of AI M&E and site opening, of the shell, of ASICs [quarters]
    dPC[s,j]        AI capex of site s paid in quarter j: PC[s,j] - PC[s,j-1] (PC counts the capex spent before the horizon on halls under construction as paid in quarter 0, halls.py) [USD]
    O[s,j]          site opening cost of site s paid through j: K_s z[s,j] [USD]
    AC[j], XC[j]    ASIC capex and mining infrastructure capex paid through j (mining.py) [USD]
    S_A[j]          ASIC sale proceeds of quarter j (mining.py), taxed as income (basis taken as depreciated by then) [USD]
    A0              undepreciated ASIC tax basis at the horizon start [USD]
    TP[t], TL[t]    taxable profit and taxable loss of quarter t [$M]
    U[t], NOL[t]    tax losses used in t; losses carried forward at the end of t [$M]

Equations:
    (T1) Dep[j] = sum_s (1-sh) * (b dPC[s,j] + (1-b) (PC[s,j] - PC[s,j-life_m]) / life_m)
                + sum_s sh * (PC[s,j] - PC[s,j-life_sh]) / life_sh
                + sum_s (b (O[s,j] - O[s,j-1]) + (1-b) (O[s,j] - O[s,j-life_m]) / life_m)
                + b (AC[j] - AC[j-1]) + (1-b) (AC[j] - AC[j-life_a]) / life_a
                + b (XC[j] - XC[j-1]) + (1-b) (XC[j] - XC[j-life_m]) / life_m
                + A0 / life_a  for j < life_a
    (T2) horizon: EBITDA[t] + S_A[t] - Dep[t] - I[t] = TP[t] - TL[t]  (TP, TL >= 0);
         NOL[t] = NOL[t-1] + TL[t] - U[t], NOL[-1] = opening losses;  U[t] <= NOL[t-1],  U[t] <= TP[t];
         taxes[t] = tau * (TP[t] - U[t])
    (T3) post-horizon quarters: taxes[j] = tau * (EBITDA[j] + S_A[j] - Dep[j] - I[j]), a credit when negative
         (assumed absorbed by other group income); losses left at the horizon end carry no value.
    (T4) TS[t] <= taxes[t]: project debt's tax shield (financing.py F7) is at most the tax paid
"""

import numpy as np
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import carbon, financing, halls, mining, site_opening
from optimizer.formulation.family import TOL_USD, no_columns, values
from optimizer.formulation.financing import INTEREST, MUSD
from optimizer.formulation.halls import tax_basis_through
from optimizer.formulation.terms import CashLine

REQUIRES = (mining, halls, site_opening, financing, carbon)
TAXES = CashLine("taxes_usd", -1, "tax")
CASH_LINES = (TAXES,)
LIMITS = ()


def lives(sc) -> tuple[int, int, int]:
    """(life_m, life_sh, life_a) in quarters."""
    return int(4 * sc.ai_mep_tax_life_yr), int(4 * sc.ai_shell_tax_life_yr), int(4 * sc.asic_tax_life_yr)


def depreciation(paid_through, opened_through, sc, j: int, asic_through=None, infra_through=None):
    """Dep[j], eq. (T1), from PC(k) = AI capex paid through k, O(k) = opening cost paid through k, AC(k) and
    XC(k) = ASIC and mining infrastructure capex paid through k (all 0 for k < 0); linear, so it holds per
    site and for the portfolio's totals alike."""
    b, sh = sc.bonus_depreciation_share, sc.ai_capex_shell_share
    q_m, q_sh, q_a = lives(sc)
    pc, opened = paid_through, opened_through
    expensed = lambda paid, life: b * (paid(j) - paid(j - 1)) + (1 - b) * (paid(j) - paid(j - life)) / life  # noqa: E731
    return ((sc.asic_tax_basis_usd / q_a if j < q_a else 0.0)
            + (1 - sh) * expensed(pc, q_m) + sh * (pc(j) - pc(j - q_sh)) / q_sh + expensed(opened, q_m)
            + (expensed(asic_through, q_a) if asic_through else 0.0)
            + (expensed(infra_through, q_m) if infra_through else 0.0))


def _cumulative(amounts: list):
    """k -> the sum of amounts[0..k] (0 for k < 0; the last sum past the end)."""
    sums, total = [], 0
    for amount in amounts:
        total = total + amount
        sums.append(total)
    return lambda k: 0 if k < 0 or not sums else sums[min(k, len(sums) - 1)]


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc, last = d.base, d.n_quarters - 1
    on = sc.tax_rate > 0
    pc = lambda k: sum(tax_basis_through(m, d, s, k) for s in d.ai_sites)  # noqa: E731
    opened = lambda k: 0 if k < 0 else sum(d.site_opening_cost_usd[s] * m.site_open[s, min(k, last)]  # noqa: E731
                                           for s in d.ai_sites)
    w0 = d.scenarios[0]
    through = lambda line: _cumulative([m.terms.cash(line.name, i, w0) for i in range(last + 1)])  # noqa: E731
    m.depreciation_usd = pyo.Expression(range(d.n_extended) if on else [], rule=lambda m, j: depreciation(
        pc, opened, sc, j, through(mining.ASIC_CAPEX), through(mining.INFRASTRUCTURE)))
    taxable = lambda j, w: (m.terms.net(j, w, categories=("operating",)) + m.terms.cash(mining.SALVAGE.name, j, w)  # noqa: E731
                            - m.depreciation_usd[j] - m.terms.cash(INTEREST.name, j, w))
    m.TAX_TW = pyo.Set(initialize=[(t, w) for t in m.T for w in m.W] if on else [], dimen=2)
    m.taxable_profit_musd = pyo.Var(m.TAX_TW, domain=pyo.NonNegativeReals)
    m.taxable_loss_musd = pyo.Var(m.TAX_TW, domain=pyo.NonNegativeReals)
    m.tax_loss_used_musd = pyo.Var(m.TAX_TW, domain=pyo.NonNegativeReals)
    m.tax_loss_carried_musd = pyo.Var(m.TAX_TW, domain=pyo.NonNegativeReals)
    opening = sc.opening_tax_loss_usd / MUSD
    carried = lambda t, w: m.tax_loss_carried_musd[t - 1, w] if t > 0 else opening  # noqa: E731
    m.taxable_income_split = pyo.Constraint(m.TAX_TW, rule=lambda m, t, w: taxable(t, w) / MUSD == (
        m.taxable_profit_musd[t, w] - m.taxable_loss_musd[t, w]))
    m.tax_loss_roll = pyo.Constraint(m.TAX_TW, rule=lambda m, t, w: m.tax_loss_carried_musd[t, w] == (
        carried(t, w) + m.taxable_loss_musd[t, w] - m.tax_loss_used_musd[t, w]))
    m.tax_loss_use_available = pyo.Constraint(m.TAX_TW, rule=lambda m, t, w:
                                              m.tax_loss_used_musd[t, w] <= carried(t, w))
    m.tax_loss_use_profit = pyo.Constraint(m.TAX_TW, rule=lambda m, t, w:
                                           m.tax_loss_used_musd[t, w] <= m.taxable_profit_musd[t, w])
    m.tax_shield_within_taxes = pyo.Constraint(m.TAX_SHIELD_TW, rule=lambda m, t, w: m.tax_shield_musd[t, w] <= (
        sc.tax_rate * (m.taxable_profit_musd[t, w] - m.tax_loss_used_musd[t, w])))
    for w in (m.W if on else ()):
        for t in m.T:
            m.terms.add_cash(TAXES.name, t, w, sc.tax_rate * MUSD * (
                m.taxable_profit_musd[t, w] - m.tax_loss_used_musd[t, w]))
        for j in range(d.n_quarters, d.n_extended):
            m.terms.add_cash(TAXES.name, j, w, sc.tax_rate * taxable(j, w))


def cashflow_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    dep = values(m.depreciation_usd, list(m.depreciation_usd))
    return {"depreciation_usd": {(j, w): dep[j] for j in dep for w in d.scenarios},
            "tax_loss_carried_usd": values(m.tax_loss_carried_musd, m.TAX_TW, MUSD)}


schedule_columns = no_columns


def check(plan) -> list[str]:
    """T1-T3 from the CashFlow sheet: depreciation from the capex lines; taxes / tau - change in losses
    carried = taxable income (TP - U minus TL - U) in the horizon, taxes = tau * taxable income after it."""
    d, problems = plan.data, []
    operating = [line for line in plan.cash_lines if line.category == "operating"]
    for w in d.scenarios:
        sc = d.scenario_values[w]
        c = plan.cashflow[plan.cashflow["scenario"] == w].reset_index(drop=True)
        if sc.tax_rate <= 0:
            if (c["taxes_usd"].abs() > TOL_USD).any():
                problems.append(f"taxes: taxes paid at a zero tax rate ({w}).")
            continue
        paid = np.cumsum(c["ai_capex_usd"]) + sum(d.building_spent_usd[s] for s in d.ai_sites)  # + the sunk basis
        opened = np.cumsum(c["site_opening_usd"])
        asic, infra = np.cumsum(c["asic_capex_usd"]), np.cumsum(c["mining_infrastructure_usd"])
        at = lambda series: lambda k: float(series[k]) if k >= 0 else 0.0  # noqa: E731
        dep = np.array([depreciation(at(paid), at(opened), sc, j, at(asic), at(infra)) for j in range(len(c))])
        if (abs(dep - c["depreciation_usd"]) > TOL_USD).any():
            problems.append(f"taxes: depreciation does not follow from the capex paid ({w}).")
        taxable = sum(line.sign * c[line.name] for line in operating) + c["asic_salvage_usd"] - dep - c["interest_usd"]
        horizon = c["period"] == "horizon"
        carried = c["tax_loss_carried_usd"].where(horizon, 0.0)
        change = carried - carried.shift(1, fill_value=sc.opening_tax_loss_usd)
        implied = c["taxes_usd"] / sc.tax_rate - change
        if (abs(implied - taxable)[horizon] > TOL_USD * 10).any() or (carried < -TOL_USD).any() or (
                c["taxes_usd"][horizon] < -TOL_USD).any():
            problems.append(f"taxes: horizon taxes and losses carried do not follow from taxable income ({w}).")
        if (c["interest_tax_shield_usd"][horizon] > c["taxes_usd"][horizon] + TOL_USD).any():
            problems.append(f"taxes: a tax shield above the tax paid in its quarter ({w}).")
        if (abs(c["taxes_usd"] - sc.tax_rate * taxable)[~horizon] > TOL_USD).any():
            problems.append(f"taxes: post-horizon taxes are not the rate on taxable income ({w}).")
    return problems
