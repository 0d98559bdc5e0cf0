"""Six deliberately infeasible plans, each explained with the right family, site and quarter."""

from typer.testing import CliRunner

from optimizer.build import build_model
from optimizer.cli import app
from optimizer.data import build_model_data
from optimizer.infeasibility import explain_infeasible
from optimizer.solve import SolveOptions, solve_model
from tests.conftest import make_scenario, make_sites

HORIZON = dict(horizon_start="2027Q1", horizon_end="2029Q4", terminal_quarters=4)


def ai_site(committed=1, by="2027Q1", **fields):
    """One AI retrofit site (10 IT MW halls) with contracted halls, as a site table."""
    sites = make_sites({"name": "Alpha", "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 2,
                        "secured_mw": 30, "mining_allowed": "false", **fields})
    sites["committed_halls"] = committed
    sites["committed_start_quarter"] = by
    return sites


def explain(sites, **scenario) -> str:
    data = build_model_data(sites, make_scenario(**{**HORIZON, **scenario}))
    model = build_model(data)
    info = solve_model(model, SolveOptions(threads=1))
    assert info.status == "infeasible"
    return explain_infeasible(model, data)


def test_cash_floor_above_what_can_be_had():
    message = explain(make_sites({"name": "Alpha", "mining_allowed": "true", "secured_mw": 10}),
                      opening_cash_usd=0.0, cash_floor_usd=1e9, btc_price_usd_2026=0.0)
    assert "liquidity: the cash floor (2027Q1" in message
    assert "lower the cash floor in 2027Q1 by $1,000.0M" in message


def test_carbon_cap_below_what_contracted_leases_emit():
    message = explain(ai_site(), utilization_min_share=0.9, utilization_after_quarters=1,
                      carbon_cap_tco2_per_year=100.0)
    assert "carbon: the annual carbon cap (20" in message and "commitments: contracted halls (Alpha" in message
    # a leased 10 MW hall emits 0.9 * 10 MW * 2,191 h * 1.25 * 0.85 * ~0.32 t/MWh ~ 20,000 t in 2028
    assert "raise the 2028 carbon cap by 20," in message


def test_utilization_floor_above_what_the_ramp_can_bill():
    message = explain(ai_site(), utilization_min_share=1.0, utilization_after_quarters=0)
    assert "utilization: halls online must be leased (Alpha 2028Q1)" in message
    assert "Alpha: lease 5.0 IT MW less than the utilization floor asks in 2028Q1" in message


def test_market_demand_too_small_for_contracted_halls():
    message = explain(ai_site(committed=2), utilization_min_share=0.9, utilization_after_quarters=1,
                      market_absorption_it_mw_per_quarter={"GA": 5.0, "TX": 100.0})
    assert "demand: market absorption of new leases (GA" in message
    assert "market GA: absorb" in message


def test_lead_time_against_the_earliest_revenue_quarter():
    message = explain(ai_site(by="2026Q1"), horizon_start="2026Q1", horizon_end="2027Q4", lead_quarters_retrofit=1,
                      utilization_min_share=0.5, utilization_after_quarters=1)
    assert "earliest revenue: no lease before 2027Q1 (Alpha 2026Q3" in message
    assert "commitments: contracted halls (Alpha 2026Q1)" in message
    assert message.split("The smallest change")[1].count("2026Q3") == 1


def test_capex_budget_below_a_contracted_hall_installment():
    message = explain(ai_site(), capex_budget_usd_per_quarter=10e6)
    assert "capex: the quarterly capex budget (2027Q1" in message
    # one 10 MW retrofit hall: 8.5 $M/MW * 10 MW / 4 quarters = $21.25M a quarter, $11.25M above the budget
    assert "raise the capex budget in 2027Q1 by $11.2M" in message or "raise the capex budget in 2027Q1 by $11.3M" in message


def test_cli_exit_code_and_message_for_an_infeasible_plan(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(app, ["solve", "--out", str(out), "--set", "opening_cash_usd=100000000",
                                      "--set", "revolver_limit_usd=0"])
    assert result.exit_code == 3
    assert result.stderr.startswith("No plan satisfies every constraint (infeasible), so nothing was written.")
    assert "liquidity: the cash floor (2027Q1" in result.stderr and "Traceback" not in result.output
    assert not out.exists()
