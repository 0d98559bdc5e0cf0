"""Taxes family (optimizer/formulation/taxes.py), switched on here (NEUTRAL_MONEY has it off), on hand-computed
tiny cases: tax depreciation from the capex paid, bonus or straight line over the M&E and shell lives (T1);
horizon taxes on EBITDA - carbon cost - depreciation - interest, losses carried forward and used first (T2);
post-horizon taxes on continuing depreciation and the last interest (T3). The check test proves that
`taxes.check` flags each of its parts: depreciation, horizon taxes and losses carried, post-horizon taxes, and
taxes paid at a zero rate.
"""

import pytest

from optimizer.build import cash_lines
from optimizer.formulation import taxes
from tests.conftest import make_sites, site_column, solve_case
from tests.families.hand import (B, BTC, CARBON, DEBT, HALL, L, MINER, T, approx, capex, column, corrupt,
                                 debt_schedule, lease_margin, leased, mining_margins, npv, terminal)


def depreciation(d, j: int) -> float:
    """T1 for the hall started in t = 0 (no site opening cost)."""
    sc = d.base
    b, sh = sc.bonus_depreciation_share, sc.ai_capex_shell_share
    q_m, q_sh, q_a = int(4 * sc.ai_mep_tax_life_yr), int(4 * sc.ai_shell_tax_life_yr), 4 * sc.asic_tax_life_yr
    paid = lambda k: sum(capex(d, i) for i in range(k + 1)) if k >= 0 else 0.0  # noqa: E731 PC[j]
    return ((1 - sh) * (b * capex(d, j) + (1 - b) * (paid(j) - paid(j - q_m)) / q_m)
            + sh * (paid(j) - paid(j - q_sh)) / q_sh + (sc.asic_tax_basis_usd / q_a if j < q_a else 0.0))


def carried_taxes(d, taxable: list[float]) -> list[float]:
    """T2: losses carried forward from the opening loss and used as soon as there is profit."""
    carried, taxes = d.base.opening_tax_loss_usd, []
    for income in taxable:
        used = min(carried, max(income, 0.0))
        carried += max(-income, 0.0) - used
        taxes.append(d.base.tax_rate * (max(income, 0.0) - used))
    return taxes


def test_tax_losses_are_carried_forward_and_used_first():
    """T1/T2: 100% bonus depreciation expenses the hall's capex as paid (a $21.25M loss a quarter for
    four quarters); lease profit from t = 4 uses the carried loss before any tax is paid."""
    tax = dict(tax_rate=0.25, bonus_depreciation_share=1.0, ai_capex_shell_share=0.0, asic_tax_basis_usd=0.0,
               opening_tax_loss_usd=0.0)
    plan, d = solve_case(make_sites(HALL), **tax)
    flows = plan.cashflow[plan.cashflow["period"] == "horizon"]
    operating = [line for line in cash_lines() if line.category == "operating"]
    ebitda = sum(line.sign * flows[line.name] for line in operating).to_list()
    depreciation = flows["depreciation_usd"].to_list()
    assert depreciation[:4] == pytest.approx([d.base.ai_capex_retrofit_usd_per_it_mw * B / L] * 4)
    carried, taxes = 0.0, []
    for profit in (e - dep for e, dep in zip(ebitda, depreciation)):
        used = min(carried, max(profit, 0.0))
        carried += max(-profit, 0.0) - used
        taxes.append(0.25 * (max(profit, 0.0) - used))
    assert flows["taxes_usd"].to_list() == pytest.approx(taxes, abs=1e-3)
    assert flows["tax_loss_carried_usd"].iloc[3] == pytest.approx(d.base.ai_capex_retrofit_usd_per_it_mw * B)
    first_tax = next(t for t, value in enumerate(taxes) if value > 1e-3)
    assert first_tax > 4  # the first profitable quarter pays nothing: the carried loss absorbs it


def test_post_horizon_taxes_use_continuing_depreciation_and_the_last_interest():
    """T1/T3: 25% tax, bonus depreciation OFF (b = 0), 25% shell: the hall's capex depreciates straight
    line over 15 years (M&E) and 39 years (shell) from when it is paid; horizon taxes carry losses (T2);
    each post-horizon quarter pays 0.25 (terminal lease margin - depreciation - interest), the interest
    being the F5 quarter's on the debt left at the horizon end (draws read from the plan)."""
    plan, d = solve_case(make_sites(HALL), **DEBT, tax_rate=0.25, bonus_depreciation_share=0.0,
                         asic_tax_basis_usd=0.0, opening_tax_loss_usd=0.0)
    sc = d.base
    assert list(plan.builds["start_quarter"]) == ["2027Q1"]
    extended = range(T + sc.terminal_quarters)
    dep = [depreciation(d, j) for j in extended]
    rate = (1 - sc.ai_capex_shell_share) / (4 * sc.ai_mep_tax_life_yr) + sc.ai_capex_shell_share / (
        4 * sc.ai_shell_tax_life_yr)
    assert dep[T:] == approx([rate * sc.ai_capex_retrofit_usd_per_it_mw * B] * sc.terminal_quarters)
    assert column(plan, "depreciation_usd") == approx(dep)
    _, _, interest = debt_schedule(d, column(plan, "project_debt_draw_usd")[:T])
    interest += [0.0] * (len(extended) - len(interest))
    assert interest[T] > 1e5
    taxable = [lease_margin(d, j) - dep[j] - interest[j] for j in extended]
    taxes = carried_taxes(d, taxable[:T]) + [sc.tax_rate * taxable[j] for j in terminal(d)]
    assert column(plan, "taxes_usd") == approx(taxes)
    assert column(plan, "interest_usd") == approx(interest)
    assert taxes[T] < taxes[T + 1] - 1e4  # the last interest lowers the first post-horizon tax


def test_taxes_deduct_the_carbon_cost_and_carry_the_bonus_depreciation_loss():
    """T2/K5: 25% tax, 100% bonus depreciation with no shell (the hall's capex is expensed as paid),
    $15/tCO2 on the miners' and the tenant's location-based emissions: taxable income = mining margin
    + lease margin - carbon cost - depreciation, losses carried forward; miners run in every quarter
    (margin > p c e); post-horizon taxes 0.25 x the terminal lease margin (T3). NPV rebuilt by hand."""
    values = dict(**BTC, hashrate_growth_per_yr=0.10, **CARBON, tax_rate=0.25, bonus_depreciation_share=1.0, ai_capex_shell_share=0.0,
                  asic_tax_basis_usd=0.0, opening_tax_loss_usd=0.0, carbon_price_usd_per_t=15.0)
    plan, d = solve_case(make_sites(MINER, HALL), **values)
    sc = d.base
    price, capacity = sc.carbon_price_usd_per_t, 100 / sc.mining_pue
    hours = 24.0 * sc.quarter_days
    e_mine, e_ai = sc.mining_pue * hours * sc.mining_uptime, hours * sc.ai_pue * sc.ai_load_factor  # M4, X6
    c_mine = list(d.site_quarter.xs("Miner", level="site")["grid_tco2_per_mwh"])
    c_hall = list(d.site_quarter.xs("Hall", level="site")["grid_tco2_per_mwh"])
    margins = mining_margins(d)
    assert all(m > 1.2 * price * c * e_mine for m, c in zip(margins, c_mine))
    assert site_column(plan, "Miner", "mining_it_mw") == approx([capacity] * T)
    carbon = [price * (c_mine[t] * e_mine * capacity + c_hall[t] * e_ai * leased(t)) for t in range(T)]
    ebitda = [margins[t] * capacity + lease_margin(d, t) for t in range(T)]
    dep = [depreciation(d, t) for t in range(T)]
    assert dep == approx([capex(d, t) for t in range(T)])
    taxes = carried_taxes(d, [ebitda[t] - carbon[t] - dep[t] for t in range(T)])
    post = [lease_margin(d, j) for j in terminal(d)]
    flows = plan.cashflow
    assert column(plan, "carbon_cost_usd")[:T] == approx(carbon)
    assert column(plan, "taxes_usd") == approx(taxes + [sc.tax_rate * p for p in post])
    assert flows["tax_loss_carried_usd"].iloc[L - 1] > 1e6  # the bonus loss is carried into t = L
    untaxed_carbon = carried_taxes(d, [ebitda[t] - dep[t] for t in range(T)])
    assert max(abs(a - b) for a, b in zip(taxes, untaxed_carbon)) > 1e4  # the deduction shows
    cash = [ebitda[t] - carbon[t] - capex(d, t) - taxes[t] for t in range(T)]
    assert plan.kpis["npv_usd"] == approx(npv(d, cash + [(1 - sc.tax_rate) * p for p in post]))


BONUS = dict(tax_rate=0.25, bonus_depreciation_share=1.0, ai_capex_shell_share=0.0, asic_tax_basis_usd=0.0,
             opening_tax_loss_usd=0.0)


@pytest.fixture(scope="module")
def taxed():
    """The miner and one hall at 25% tax with 100% bonus depreciation (a loss carried through 2027), and
    the same portfolio with the tax family off."""
    sites = make_sites(MINER, HALL)
    plans = {"on": solve_case(sites, **BTC, **BONUS)[0], "off": solve_case(sites, **BTC)[0]}
    assert plans["on"].cashflow["tax_loss_carried_usd"].iloc[0] > 1e6
    return plans


UNTAXED = "taxes: horizon taxes and losses carried do not follow from taxable income (base)."
TAX_PARTS = [
    pytest.param("on", 0, "depreciation_usd", "taxes: depreciation does not follow from the capex paid (base).",
                 id="T1 depreciation"),
    pytest.param("on", 5, "taxes_usd", UNTAXED, id="T2 horizon taxes"),
    pytest.param("on", 2, "tax_loss_carried_usd", UNTAXED, id="T2 losses carried"),
    pytest.param("on", 8, "taxes_usd", "taxes: post-horizon taxes are not the rate on taxable income (base).",
                 id="T3 post-horizon taxes"),
    pytest.param("off", 5, "taxes_usd", "taxes: taxes paid at a zero tax rate (base).", id="zero rate"),
]


@pytest.mark.parametrize("which, row, column, problem", TAX_PARTS)
def test_check_flags_a_broken_tax_line(taxed, which, row, column, problem):
    """T1-T3 check, each part alone, $1,000 moved: depreciation of 2027Q1, taxes of 2028Q2, the loss carried
    out of 2027Q3, taxes of the first post-horizon quarter 2029Q1, and taxes paid with the family off."""
    plan = taxed[which]
    assert taxes.check(plan) == []
    assert taxes.check(corrupt(plan, "cashflow", row, column, by=1e3)) == [problem]
