"""Deliberately infeasible plans, one per planner-limit family, each explained with the right family,
site and quarter and the smallest change named in that limit's own unit."""

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


def test_build_rate_below_two_contracted_halls_in_one_quarter():
    two = make_sites(*({"name": n, "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 1, "secured_mw": 30,
                        "mining_allowed": "false", "committed_halls": 1} for n in ("Alpha", "Beta")))
    message = explain(two, max_ai_start_it_mw_per_quarter=15.0, utilization_min_share=0.0)
    assert "build rate: AI starts per quarter (2027Q1)" in message
    assert "allow 5.0 IT MW more AI starts in 2027Q1" in message


def test_firm_power_that_arrives_after_a_contracted_hall():
    """The site's firm power arrives in 2028Q1 (interruptible before): a hall contracted by 2027Q1 cannot
    reserve firm MW in 2027."""
    sites = ai_site(secured_mw=30, power_class="interruptible", power_steps="2028Q1:+30:firm")
    message = explain(sites, utilization_min_share=0.0)
    assert "power: firm grid MW for AI halls (Alpha 2027Q1" in message
    assert "Alpha: 14.0 MW more firm power in 2027Q1" in message


def test_secured_power_shared_by_a_mining_contract_and_a_contracted_hall():
    """30 MW: a contracted 10 IT MW hall reserves 14 grid MW, the hosting contract 20 IT MW of miners draws
    21.2: 5.2 MW short in every quarter of the contract."""
    sites = ai_site(mining_allowed="true", mining_commitment_it_mw=20)
    message = explain(sites, utilization_min_share=0.0)
    assert "power: secured grid MW (Alpha 2027Q1" in message or "mining commitments" in message
    assert "Alpha: 5.2 MW more secured power in 2027Q1" in message or \
        "Alpha: run 4.9 IT MW fewer miners than contracted in 2027Q1" in message


def test_intensity_cap_below_what_contracted_leases_emit():
    message = explain(ai_site(), utilization_min_share=0.9, utilization_after_quarters=1,
                      carbon_intensity_cap_tco2_per_mwh=0.01)
    assert "carbon: the carbon intensity cap (20" in message
    # relative to each limit's size, leasing the hall less is as small a change as a 7x higher intensity cap
    changes = message.split("The smallest change that makes a plan possible: ")[1]
    assert "carbon intensity cap by" in changes or "less than the utilization floor asks" in changes


def test_revolver_limit_or_cash_floor_against_a_contracted_hall():
    message = explain(ai_site(), opening_cash_usd=0.0, cash_floor_usd=0.0, revolver_limit_usd=1e6,
                      utilization_min_share=0.0, btc_price_usd_2026=0.0)
    changes = message.split("The smallest change that makes a plan possible: ")[1]
    assert changes.startswith(("raise the revolver limit in 20", "lower the cash floor in 20"))


def test_cli_an_impossible_cash_floor_is_named_as_the_cash_floor(tmp_path):
    result = CliRunner().invoke(app, ["solve", "--out", str(tmp_path / "plan.xlsx"), "--set", "cash_floor_usd=1e12",
                                      "--threads", "1"])
    assert result.exit_code == 3
    changes = result.stderr.split("The smallest change that makes a plan possible: ")[1]
    assert changes.startswith("lower the cash floor in ") and "secured power" not in changes
