"""Taxes: a flat rate on operating profit less depreciation and interest, losses carried forward (linear).

Symbols (per scenario w, money variables in $M): EBITDA[j] = sum of the operating cash lines; I[j]
interest; Dep[j] tax depreciation; tau tax rate; b bonus share; sh shell share of AI capex; Q_m, Q_sh,
Q_a tax lives in quarters (AI M&E and site opening, shell, ASICs); PC[s,j] AI capex paid through j;
p[s,j] = PC[s,j] - PC[s,j-1]; O[s,j] = K_s z[s,j] site opening paid through j; A0 ASIC basis.

    (T1) Dep[j] = sum_s (1-sh) * (b p[s,j] + (1-b) (PC[s,j] - PC[s,j-Q_m]) / Q_m)
                + sum_s sh * (PC[s,j] - PC[s,j-Q_sh]) / Q_sh
                + sum_s (b (O[s,j] - O[s,j-1]) + (1-b) (O[s,j] - O[s,j-Q_m]) / Q_m)
                + A0 / Q_a  for j < Q_a
    (T2) horizon: EBITDA[t] - Dep[t] - I[t] = P[t] - L[t]  (P, L >= 0: profit, loss)
         NOL[t] = NOL[t-1] + L[t] - U[t], NOL[-1] = opening losses;  U[t] <= NOL[t-1],  U[t] <= P[t]
         taxes[t] = tau * (P[t] - U[t])
    (T3) post-horizon quarters: taxes[j] = tau * (EBITDA[j] - Dep[j] - I[j]), a credit when negative
         (assumed absorbed by other group income); losses left at the horizon end carry no value.
Splitting the taxable income into P - L is exact: inflating both only moves tax later, at a loss.
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.financing import INTEREST, MUSD
from optimizer.formulation.halls import capex_paid_through
from optimizer.formulation.terms import cash_line

TAXES = cash_line("taxes_usd", -1, "tax")


def depreciation(m: pyo.ConcreteModel, d: ModelData, j: int):
    """Dep[j] (USD), eq. (T1)."""
    sc = d.base
    b, sh = sc.bonus_depreciation_share, sc.ai_capex_shell_share
    q_m, q_sh, q_a = 4 * sc.ai_mep_tax_life_yr, 4 * sc.ai_shell_tax_life_yr, 4 * sc.asic_tax_life_yr
    total = sc.asic_tax_basis_usd / q_a if j < q_a else 0.0
    last = d.n_quarters - 1
    for s in d.ai_sites:
        pc = lambda k: capex_paid_through(m, d, s, k)  # noqa: E731
        opened = lambda k: 0 if k < 0 else d.sites.at[s, "site_opening_cost_usd"] * m.site_open[s, min(k, last)]  # noqa: E731
        total += (1 - sh) * (b * (pc(j) - pc(j - 1)) + (1 - b) * (pc(j) - pc(j - int(q_m))) / q_m)
        total += sh * (pc(j) - pc(j - int(q_sh))) / q_sh
        total += b * (opened(j) - opened(j - 1)) + (1 - b) * (opened(j) - opened(j - int(q_m))) / q_m
    return total


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    if sc.tax_rate <= 0:
        return
    m.depreciation_usd = pyo.Expression(range(d.n_extended), rule=lambda m, j: depreciation(m, d, j))
    taxable = lambda j, w: (m.terms.net(j, w, categories=("operating",)) - m.depreciation_usd[j]  # noqa: E731
                            - m.terms.cash(INTEREST, j, w))
    m.taxable_profit_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.taxable_loss_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.tax_loss_used_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    m.tax_loss_carried_musd = pyo.Var(m.T, m.W, domain=pyo.NonNegativeReals)
    opening = sc.opening_tax_loss_usd / MUSD
    carried = lambda t, w: m.tax_loss_carried_musd[t - 1, w] if t > 0 else opening  # noqa: E731
    m.taxable_income_split = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: taxable(t, w) / MUSD == (
        m.taxable_profit_musd[t, w] - m.taxable_loss_musd[t, w]))
    m.tax_loss_roll = pyo.Constraint(m.T, m.W, rule=lambda m, t, w: m.tax_loss_carried_musd[t, w] == (
        carried(t, w) + m.taxable_loss_musd[t, w] - m.tax_loss_used_musd[t, w]))
    m.tax_loss_use_available = pyo.Constraint(m.T, m.W, rule=lambda m, t, w:
                                              m.tax_loss_used_musd[t, w] <= carried(t, w))
    m.tax_loss_use_profit = pyo.Constraint(m.T, m.W, rule=lambda m, t, w:
                                           m.tax_loss_used_musd[t, w] <= m.taxable_profit_musd[t, w])
    for w in m.W:
        for t in m.T:
            m.terms.add_cash(TAXES, t, w, sc.tax_rate * MUSD * (
                m.taxable_profit_musd[t, w] - m.tax_loss_used_musd[t, w]))
        for j in range(d.n_quarters, d.n_extended):
            m.terms.add_cash(TAXES, j, w, sc.tax_rate * taxable(j, w))
