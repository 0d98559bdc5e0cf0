"""Financing, equity, post-horizon tax, the carbon intensity cap, and tax with a carbon price, on tiny
instances whose answers are computed by hand from the scenario values and the documented formulas.

Sites: `Miner` (100 MW of miners, no AI) and `Hall` (one 10 IT MW retrofit hall, AI only, lead 4), as in
tests/test_money_carbon_cases.py. Horizon 2027Q1-2028Q4 (T = 8), 4 terminal quarters, lease
$1,500/kW-month; every money and carbon family is neutral (tests/conftest.py) unless a test turns it on.
Only the plan tables are read; every expected value is rebuilt here from `data` and the formulas.
"""

import pytest

from tests.conftest import make_sites, site_column, solve_case

MINER = {"name": "Miner", "secured_mw": 100}
HALL = {"name": "Hall", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
        "secured_mw": 14}
B, L, T = 10.0, 4, 8
CARBON = dict(grid_tco2_decline_per_yr={}, grid_tco2_decline_default_per_yr=0.0)  # constant grid rate
BTC = dict(btc_price_usd_2026=150_000)  # mining margins positive in every quarter of 2027-2028
approx = lambda value: pytest.approx(value, rel=1e-6, abs=1.0)  # noqa: E731


def mining_margins(d, site="Miner") -> list[float]:
    row = d.site_quarter.xs(site, level="site")
    return list(row["mining_revenue_usd_per_it_mw"] - row["mining_power_usd_per_it_mw"]
                - row["mining_opex_usd_per_it_mw"])


def capex(d, t: int) -> float:
    """Hall started in t = 0: c B / L in each of its L build quarters (H4)."""
    return d.base.ai_capex_retrofit_usd_per_it_mw * B / L if 0 <= t < L else 0.0


def leased(t: int) -> float:
    """Hall started in t = 0: online at t = L billing half (L2), full from L + 1."""
    return 0.0 if t < L else B / 2 if t == L else B


def lease_margin(d, t: int) -> float:
    """(1 - phi) rate x; after the horizon the last quarter's lease held flat (X5)."""
    return (1 - d.base.landlord_opex_share) * d.lease_revenue_usd_per_it_mw[min(t, T - 1), "base"] * leased(t)


def terminal(d) -> range:
    return range(T, T + d.base.terminal_quarters)


def debt_schedule(d, draws: list[float]):
    """F3/F4/F5 from the draws: (repayment, balance, interest) over j = 0..T (j = T post-horizon)."""
    sc = d.base
    grace, term = sc.project_debt_grace_quarters, sc.project_debt_term_quarters
    q_rate = sc.project_debt_rate_per_yr / 4
    repay, balance, interest = [], [], []
    for t in range(T):
        repay.append(sum(draws[i] for i in range(max(0, t - grace - term), max(0, t - grace))) / term)
        balance.append((balance[-1] if t else 0.0) + draws[t] - repay[-1])
        interest.append(q_rate * balance[t - 1] if t else 0.0)
    return repay + [balance[-1]], balance, interest + [q_rate * balance[-1]]  # F5: all owed repaid at T


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


def npv(d, flows: list[float]) -> float:
    return sum(df * f for df, f in zip(d.discount_factor, flows))


def column(plan, name: str) -> list[float]:
    return plan.cashflow[name].to_list()


# ---------------------------------------------------------------------------------------------- project debt
DEBT = dict(loan_to_cost=0.8, project_debt_rate_per_yr=0.08, project_debt_grace_quarters=1,
            project_debt_term_quarters=6, opening_cash_usd=200e6, cash_floor_usd=0.0)


def test_project_debt_draws_the_most_allowed_and_amortises_it_after_the_grace():
    """F1/F2/F3/F4/F5: 80% LTC at 8% against a 10% discount rate: every dollar drawn is worth more
    than its repayments and interest discounted, earlier draws the most, so the model draws LTC x capex
    paid in each build quarter (F1 and F2 both bind: 0.8 c B in all). Each draw is repaid in 6 equal
    quarters after a 1-quarter grace (F3), interest is 2% a quarter on the opening balance (F4), and
    the balance left at the horizon end is repaid, with one quarter's interest, in 2029Q1 (F5)."""
    sites = make_sites(HALL)
    plan, d = solve_case(sites, **DEBT)
    unlevered, _ = solve_case(sites, **{**DEBT, "loan_to_cost": 0.0})
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


# ---------------------------------------------------------------------------------------------- equity
EQUITY = dict(**BTC, opening_cash_usd=0.0, cash_floor_usd=0.0, equity_max_usd_per_quarter=1e9,
              equity_issuance_cost_share=0.05)


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


# ---------------------------------------------------------------------------------------------- taxes
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


# ---------------------------------------------------------------------------------------------- carbon
def test_carbon_intensity_cap_lets_the_dirty_site_mine_what_the_clean_site_offsets():
    """K4 (certificates off): Dirty 0.6 and Clean 0.2 tCO2/MWh, cap 0.4 tCO2/MWh over 2027, equal
    power prices: sum_s (c_s - cap) e y_s <= 0, so the clean site mines at capacity and the dirty one
    at most (cap - c_C) / (c_D - cap) * sum y_C IT MW-quarters, in its quarters of highest df * margin."""
    dirty, clean = {**MINER, "name": "Dirty", "grid_tco2_per_mwh": 0.6}, \
        {**MINER, "name": "Clean", "secured_mw": 60, "grid_tco2_per_mwh": 0.2}
    values = dict(**BTC, **CARBON, horizon_end="2027Q4", carbon_intensity_cap_tco2_per_mwh=0.4)
    plan, d = solve_case(make_sites(dirty, clean), **values)
    cap, quarters = d.base.carbon_intensity_cap_tco2_per_mwh, len(d.quarters)
    rate = {s: d.site_quarter.xs(s, level="site")["grid_tco2_per_mwh"].iloc[0] for s in ("Dirty", "Clean")}
    m_d, m_c = 100 / d.base.mining_pue, 60 / d.base.mining_pue
    room = (cap - rate["Clean"]) / (rate["Dirty"] - cap) * quarters * m_c
    assert 0 < room < quarters * m_d  # binding, with a partial quarter
    margins = mining_margins(d, "Dirty")
    expected = [0.0] * quarters
    for t in sorted(range(quarters), key=lambda t: -d.discount_factor[t] * margins[t]):
        expected[t] = min(m_d, room)
        room -= expected[t]
    assert site_column(plan, "Clean", "mining_it_mw") == approx([m_c] * quarters)
    assert site_column(plan, "Dirty", "mining_it_mw") == approx(expected)
    value = sum(d.discount_factor[t] * (margins[t] * expected[t] + mining_margins(d, "Clean")[t] * m_c)
                for t in range(quarters))
    assert plan.kpis["npv_usd"] == approx(value)


def test_taxes_deduct_the_carbon_cost_and_carry_the_bonus_depreciation_loss():
    """T2/K5: 25% tax, 100% bonus depreciation with no shell (the hall's capex is expensed as paid),
    $15/tCO2 on the miners' and the tenant's location-based emissions: taxable income = mining margin
    + lease margin - carbon cost - depreciation, losses carried forward; miners run in every quarter
    (margin > p c e); post-horizon taxes 0.25 x the terminal lease margin (T3). NPV rebuilt by hand."""
    values = dict(**BTC, **CARBON, tax_rate=0.25, bonus_depreciation_share=1.0, ai_capex_shell_share=0.0,
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
