"""Signed leases read beside a site file (sites/leases.py: NAME.leases.csv, a site workbook's Leases sheet, a plan
workbook's Leases sheet on --from), each bad row in one sentence; and the row rules of halls under construction at
the horizon start (sites/load.py)."""

import pandas as pd
import pytest

from optimizer.plan_inputs import read_inputs
from optimizer.workbook import write_workbook
from sites.leases import SignedLease
from sites.load import load_sites
from tests.conftest import HORIZON, SITE_COLUMNS, make_scenario, make_sites, problems_of, solve_plan, write_csv

AI_COLUMNS = SITE_COLUMNS + ",ai_eligible,hall_it_mw,max_halls"
SITES = ("Alpha,GA,33.6,-84.4,100,2024Q1,56,true,20,2", "Beta,GA,33.7,-84.4,50,2024Q1,56,false,0,0")
LEASE_COLUMNS = "tenant,site,it_mw,rate_usd_per_kw_month,escalator_per_yr,start_quarter,term_quarters,ramp_quarters"
ACME = SignedLease("Acme", "Alpha", 20.0, 150.0, 0.03, "2028Q2", 60, 4)


def portfolio(tmp_path, *leases: str):
    """sites.csv (Alpha AI-eligible, Beta not) with sites.leases.csv beside it holding `leases`."""
    write_csv(tmp_path, *leases, columns=LEASE_COLUMNS, name="sites.leases.csv")
    return write_csv(tmp_path, *SITES, columns=AI_COLUMNS)


def test_leases_beside_a_site_file_are_read_with_the_sites(tmp_path):
    path = portfolio(tmp_path, "Acme,Alpha,20,150,0.03,2028Q2,60,4", "Byte,Alpha,10,140,0.02,2029Q1,40,")
    leases = load_sites(path, HORIZON).attrs["leases"]
    assert leases == (ACME, SignedLease("Byte", "Alpha", 10.0, 140.0, 0.02, "2029Q1", 40, 1))  # ramp blank: 1
    assert [ACME.billed_share(k) for k in (-1, 0, 1, 3, 9)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert load_sites(write_csv(tmp_path, *SITES, columns=AI_COLUMNS, name="other.csv"), HORIZON).attrs["leases"] == ()


def test_each_bad_lease_row_is_one_sentence(tmp_path):
    path = portfolio(tmp_path, "Acme,Gamma,20,150,0.03,2028Q2,60,1", "Byte,Beta,10,140,0.02,2029Q1,40,1",
                     "Core,Alpha,lots,140,0.02,2029Q1,40,1", "Dyn,Alpha,0,140,0.02,2029Q1,8,12",
                     "Eon,Alpha,5,140,0.9,2026Q4,40,1", ",Alpha,5,140,0.02,2029Q1,,1")
    leases = tmp_path / "sites.leases.csv"
    assert problems_of(path) == [
        f"{leases}: row 2 (Acme), field site: 'Gamma' is not a site of the portfolio; allowed: one of Alpha, Beta.",
        f"{leases}: row 3 (Byte), field site: Beta is not AI-eligible, so it cannot host a lease; allowed: an "
        "AI-eligible site (or set ai_eligible true for Beta).",
        f"{leases}: row 4 (Core), field it_mw: 'lots' is not a number; allowed: a number from 0 to 10000.",
        f"{leases}: row 5 (Dyn), field it_mw: 0 IT MW leases nothing; allowed: a number above 0.",
        f"{leases}: row 5 (Dyn), field ramp_quarters: a ramp of 12 quarters is longer than the term of 8; allowed: at "
        "most term_quarters.",
        f"{leases}: row 6 (Eon), field escalator_per_yr: 0.9 is too large; allowed: a number from -0.5 to 0.5.",
        f"{leases}: row 7 (no tenant), field tenant: value is missing; allowed: a non-empty text.",
        f"{leases}: row 7 (no tenant), field term_quarters: value is missing; allowed: a whole number from 1 to 400."]
    path = portfolio(tmp_path, "Eon,Alpha,5,140,0.02,2026Q4,40,1")
    assert problems_of(path) == [f"{leases}: row 2 (Eon), field start_quarter: 2026Q4 is outside the horizon "
                                 "2027Q1-2036Q4; allowed: a quarter from 2027Q1 to 2036Q4."]


def test_lease_columns_are_checked(tmp_path):
    write_csv(tmp_path, "Acme,Alpha,20,150", columns="tenant,site,mw,rate_usd_per_kw_month", name="sites.leases.csv")
    path = write_csv(tmp_path, *SITES, columns=AI_COLUMNS)
    leases = tmp_path / "sites.leases.csv"
    assert problems_of(path) == [
        f"{leases}: column 'mw' is not a lease field; allowed: tenant, site, it_mw, rate_usd_per_kw_month, "
        "escalator_per_yr, start_quarter, term_quarters, ramp_quarters.",
        f"{leases}: required column 'it_mw' is missing.", f"{leases}: required column 'escalator_per_yr' is missing.",
        f"{leases}: required column 'start_quarter' is missing.",
        f"{leases}: required column 'term_quarters' is missing."]


def test_a_leases_sheet_of_a_site_workbook(tmp_path):
    path = tmp_path / "sites.xlsx"
    sites = pd.DataFrame([row.split(",") for row in SITES], columns=AI_COLUMNS.split(","))
    leases = pd.DataFrame([["Acme", "Alpha", 20, 150, 0.03, "2028Q2", 60, 4]], columns=LEASE_COLUMNS.split(","))
    with pd.ExcelWriter(path) as writer:
        sites.to_excel(writer, sheet_name="Sites", index=False)
        leases.to_excel(writer, sheet_name="Leases", index=False)
    assert load_sites(path, HORIZON).attrs["leases"] == (ACME,)


def test_signed_leases_round_trip_through_the_plan_workbook(tmp_path):
    """A solved plan writes its signed leases to a Leases sheet; --from reads them back."""
    sites = make_sites({"name": "Alpha", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10,
                        "max_halls": 1, "secured_mw": 14})
    lease = SignedLease("Acme", "Alpha", 10.0, 1500.0, 0.03, "2028Q2", 12, 2)
    sites.attrs["leases"] = (lease,)
    sc = make_scenario(horizon_start="2027Q1", horizon_end="2028Q4", terminal_quarters=4)
    plan, _ = solve_plan(sites, sc)
    write_workbook(plan, tmp_path / "plan.xlsx")
    sites_back, _ = read_inputs(tmp_path / "plan.xlsx")
    assert sites_back.attrs["leases"] == (lease,)


# ============================================================================ halls under construction (row rules)
BUILDING_COLUMNS = AI_COLUMNS + ",committed_halls,building_halls,building_spent_usd,building_online_quarter"


@pytest.mark.parametrize("row, problem", [
    pytest.param("Alpha,GA,33.6,-84.4,100,2024Q1,56,true,20,2,1,2,3e7,2027Q3",
                 "field building_halls: 2 halls under construction and 1 contracted exceed max_halls 2; allowed: "
                 "building_halls + committed_halls at most max_halls.", id="max_halls"),
    pytest.param("Alpha,GA,33.6,-84.4,100,2024Q1,56,true,20,2,0,1,3e7,",
                 "field building_online_quarter: value is missing for 1 halls under construction; allowed: the "
                 "quarter they come online, e.g. 2027Q3.", id="online missing"),
    pytest.param("Alpha,GA,33.6,-84.4,100,2024Q1,56,true,20,2,0,1,3e7,2027Q1",
                 "field building_online_quarter: 2027Q1 is not after the horizon start 2027Q1 and up to its end "
                 "2036Q4; allowed: a quarter from 2027Q2 to 2036Q4.", id="online at the start"),
    pytest.param("Alpha,GA,33.6,-84.4,100,2024Q1,56,true,20,2,0,0,3e7,",
                 "field building_spent_usd: set, but building_halls is 0; allowed: blank or 0, or the number of halls "
                 "under construction in building_halls.", id="capex without halls"),
    pytest.param("Alpha,GA,33.6,-84.4,100,2024Q1,56,false,0,0,0,1,3e7,2027Q3",
                 "field building_halls: 1 halls under construction at a site that is not AI-eligible; allowed: 0, or "
                 "ai_eligible true.", id="not AI"),
])
def test_halls_under_construction_rules(tmp_path, row, problem):
    path = write_csv(tmp_path, row, columns=BUILDING_COLUMNS)
    assert problems_of(path) == [f"{path}: row 2 (Alpha), {problem}"]
