"""Money and carbon families on tiny instances whose answers are computed by hand in the test.

Sites: `Miner` (100 MW of miners, no AI) and `Hall` (one 10 IT MW retrofit hall, AI only, lead 4).
Horizon 2027Q1-2028Q4 (T = 8), 4 terminal quarters, lease $1,500/kW-month so that one hall pays back
within the horizon; every money and carbon family is neutral (tests/conftest.py) unless a test turns it on.
"""

import pytest
from typer.testing import CliRunner

from optimizer.checks import check_plan
from optimizer.cli import app
from optimizer.build import cash_lines
from tests.conftest import make_sites, site_column, solve_case

MINER = {"name": "Miner", "secured_mw": 100}
HALL = {"name": "Hall", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
        "secured_mw": 14}
B, L, T = 10.0, 4, 8
CARBON = dict(grid_tco2_decline_per_yr={}, grid_tco2_decline_default_per_yr=0.0)  # constant grid rate


def mining_margins(d, site="Miner") -> list[float]:
    row = d.site_quarter.xs(site, level="site")
    return list(row["mining_revenue_usd_per_it_mw"] - row["mining_power_usd_per_it_mw"]
                - row["mining_opex_usd_per_it_mw"])


def hall_cash(d, start: int) -> list[float]:
    """Net cash of the hall per horizon quarter: -c B / L while building, then (1 - phi) rate x with
    x = 5 MW in the first online quarter and 10 MW after."""
    sc = d.base
    flows = []
    for t in range(T):
        capex = sc.ai_capex_retrofit_usd_per_it_mw * B / L if start <= t < start + L else 0.0
        leased = 0.0 if t < start + L else 5.0 if t == start + L else 10.0
        flows.append((1 - sc.landlord_opex_share) * d.lease_revenue_usd_per_it_mw[t, "base"] * leased - capex)
    return flows


# ---------------------------------------------------------------------------------------------- liquidity
def earliest_start_by_cash(d, opening: float, floor: float) -> int:
    """First start quarter whose cash roll-forward (opening + miners at capacity + hall) stays >= floor."""
    capacity = 100 / d.base.mining_pue
    mining = [max(0.0, m) * capacity for m in mining_margins(d)]
    for start in range(T):
        cash, ok = opening, True
        for t, flow in enumerate(hall_cash(d, start)):
            cash += mining[t] + flow
            ok &= cash >= floor - 1e-6
        if ok:
            return start
    raise AssertionError("no start keeps the floor")


def test_cash_floor_delays_the_first_hall_by_a_computable_number_of_quarters():
    """Q1/Q2: $10M opening cash, a $0 floor and no debt: the hall waits until mining cash covers its
    capex; the quarter is found by hand from the roll-forward."""
    sites = make_sites(MINER, HALL)
    unconstrained, d = solve_case(sites, btc_price_usd_2026=150_000)
    assert list(unconstrained.builds["start_quarter"]) == ["2027Q1"]
    plan, d = solve_case(sites, btc_price_usd_2026=150_000, opening_cash_usd=10e6, cash_floor_usd=0.0)
    start = earliest_start_by_cash(d, 10e6, 0.0)
    assert start >= 1  # delayed
    assert list(plan.builds["start_quarter"]) == [d.quarters[start]]
    horizon = plan.cashflow[plan.cashflow["period"] == "horizon"]
    assert horizon["cash_balance_usd"].min() >= -1e-3


def test_loan_to_cost_lets_the_hall_start_earlier_than_cash_alone():
    """F1/F2: with 80% loan-to-cost the hall starts in 2027Q1 instead of the cash-only quarter, and
    draws never exceed 80% of the capex paid so far."""
    sites = make_sites(MINER, HALL)
    money = dict(btc_price_usd_2026=150_000, opening_cash_usd=10e6, cash_floor_usd=0.0)
    cash_only, d = solve_case(sites, **money)
    levered, _ = solve_case(sites, **money, loan_to_cost=0.8, project_debt_rate_per_yr=0.0)
    assert d.quarters.index(cash_only.builds["start_quarter"].iloc[0]) == earliest_start_by_cash(d, 10e6, 0.0) > 0
    assert list(levered.builds["start_quarter"]) == ["2027Q1"]
    flows = levered.cashflow
    drawn = flows["project_debt_draw_usd"].cumsum()
    paid = flows["ai_capex_usd"].cumsum()
    assert (drawn <= 0.8 * paid + 1e-3).all()
    assert drawn.iloc[-1] == pytest.approx(0.8 * d.base.ai_capex_retrofit_usd_per_it_mw * B, rel=1e-6)
    assert levered.kpis["npv_usd"] > cash_only.kpis["npv_usd"]


# ---------------------------------------------------------------------------------------------- taxes
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


# ---------------------------------------------------------------------------------------------- utilization
def test_utilization_floor_builds_fewer_halls_when_demand_cannot_fill_them():
    """U1: the market absorbs 2 IT MW a quarter. Without a floor one hall starts in 2027Q1 and leases
    2, 4, 6, 8 MW from t = 4. With 90% leased one quarter after going online, a hall started by t = 2
    would need 9 MW at t + 5 but can lease at most 4: no hall is built (a later one is unprofitable)."""
    sites = make_sites({**HALL, "max_halls": 2, "secured_mw": 28})
    demand = dict(market_absorption_it_mw_per_quarter={"GA": 2.0})
    free, _ = solve_case(sites, **demand)
    assert list(free.builds["start_quarter"]) == ["2027Q1"]
    assert site_column(free, "Hall", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 2, 4, 6, 8], abs=1e-6)
    floored, _ = solve_case(sites, **demand, utilization_min_share=0.9, utilization_after_quarters=1)
    assert floored.builds.empty


# ---------------------------------------------------------------------------------------------- carbon
def one_year(**values):
    """The miner alone over 2027 (margins positive in every quarter), grid rate 0.5 t/MWh, constant."""
    sites = make_sites({**MINER, "grid_tco2_per_mwh": 0.5})
    return solve_case(sites, horizon_end="2027Q4", btc_price_usd_2026=150_000, **CARBON, **values)


def test_carbon_cap_curtails_a_computable_number_of_mining_mw():
    """K3: a cap of X tCO2 allows X / (c e) IT MW-quarters of mining in the year (c = 0.5 t/MWh, e grid
    MWh per IT MW-quarter); the rest of 4 M is curtailed."""
    free, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    assert sum(site_column(free, "Miner", "mining_it_mw")) == pytest.approx(4 * capacity)
    cap = 0.5 * e * 2.5 * capacity  # room for 2.5 quarters at full capacity
    capped, _ = one_year(carbon_cap_tco2_per_year=cap, carbon_cap_decline_per_yr=0.0)
    mined = site_column(capped, "Miner", "mining_it_mw")
    assert sum(mined) == pytest.approx(cap / (0.5 * e), rel=1e-9)
    assert 4 * capacity - sum(mined) == pytest.approx(1.5 * capacity, rel=1e-9)  # curtailed MW-quarters
    assert capped.emissions_by_year["location_tco2"].iloc[0] == pytest.approx(cap, rel=1e-9)


def test_certificates_lift_the_cap_by_their_limit():
    """K1/K2: certificates at $1/MWh with a limit R make market-based = location - c r, so miners may
    draw R more MWh under the same cap: sum y = (cap / c + R) / e."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    cap, limit = 0.5 * e * 2.0 * capacity, e * 0.5 * capacity
    plan, _ = one_year(carbon_cap_tco2_per_year=cap, carbon_cap_decline_per_yr=0.0, certificate_usd_per_mwh=1.0,
                       certificate_limit_mwh_per_year=limit)
    assert sum(site_column(plan, "Miner", "mining_it_mw")) == pytest.approx((cap / 0.5 + limit) / e, rel=1e-9)
    year = plan.emissions_by_year.iloc[0]
    assert year["certificates_mwh"] == pytest.approx(limit, rel=1e-9)
    assert year["market_tco2"] == pytest.approx(year["location_tco2"] - 0.5 * limit, rel=1e-9)


def test_carbon_price_stops_miners_whose_margin_is_below_it():
    """K5: miners run in quarter t only if margin[t] > p c e; NPV = sum_t df[t] max(0, margin - p c e) M."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    margins = mining_margins(d)
    price = sorted(margins)[1] / (0.5 * e) + 1.0  # just above the 2nd-lowest margin: two quarters stop
    plan, _ = one_year(carbon_price_usd_per_t=price)
    expected = [capacity if m > price * 0.5 * e else 0.0 for m in margins]
    assert 0 < sum(1 for x in expected if x) < 4
    assert site_column(plan, "Miner", "mining_it_mw") == pytest.approx(expected)
    npv = sum(d.discount_factor[t] * max(0.0, m - price * 0.5 * e) * capacity for t, m in enumerate(margins))
    assert plan.kpis["npv_usd"] == pytest.approx(npv, rel=1e-9)


def test_carbon_cap_marginal_value_is_the_marginal_quarters_margin_per_tco2():
    """Marginals: with the cap binding, one more tCO2 lets the partly curtailed quarter t* mine 1/(c e)
    more IT MW-quarters: its NPV value is df[t*] margin[t*] / (c e)."""
    _, d = one_year()
    e, capacity = d.sites.at["Miner", "mining_grid_mwh_per_it_mw"], 100 / d.base.mining_pue
    plan, _ = one_year(carbon_cap_tco2_per_year=0.5 * e * 2.5 * capacity, carbon_cap_decline_per_yr=0.0)
    mined = site_column(plan, "Miner", "mining_it_mw")
    partial = next(t for t, y in enumerate(mined) if 1e-6 < y < capacity - 1e-6)
    expected = d.discount_factor[partial] * mining_margins(d)[partial] / (0.5 * e)
    value = plan.carbon_cap_marginals["carbon_cap_value_npv_usd_per_tco2"].iloc[0]
    assert value == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------------------------------- reference
def test_reference_plan_keeps_the_floor_and_rebuilds_its_npv(reference_plan):
    flows = reference_plan.cashflow
    horizon = flows[flows["period"] == "horizon"]
    floor = reference_plan.data.base.cash_floor_usd
    assert horizon["cash_balance_usd"].min() >= floor - 1e-3
    assert flows["discounted_cash_flow_usd"].sum() == pytest.approx(reference_plan.kpis["npv_usd"], rel=1e-6)
    assert (flows["project_debt_balance_usd"] >= -1e-3).all() and (flows["revolver_balance_usd"] >= -1e-3).all()
    assert check_plan(reference_plan) == []


def test_cli_infeasible_cash_floor_has_its_own_exit_code(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(app, ["solve", "--out", str(out), "--threads", "1",
                                      "--set", "opening_cash_usd=100000000", "--set", "cash_floor_usd=200000000",
                                      "--set", "revolver_limit_usd=0"])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and "cash floor" in result.output
    assert not out.exists()
