"""End-to-end: the `hashpivot solve` command on the bundled reference portfolio."""

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.build import cash_lines

SHEETS = ["Summary", "P&L", "Portfolio", "Timeline", "Schedule", "Builds", "CashFlow", "Emissions", "Marginals",
          "Sites", "Assumptions", "Run"]
GEORGIA_AI = {"College Park I", "College Park II", "Sandersville"}
MINING_ONLY = {"Norcross", "Washington", "Dalton", "LaFayette", "Rural GA EMC cluster", "Knoxville cluster",
               "East TN", "Mississippi cluster", "Cheyenne"}


def run(tmp_path: Path, *args: str):
    """Invoke the CLI in-process; returns (exit code, stdout, stderr)."""
    result = CliRunner().invoke(app, ["solve", "--out", str(tmp_path / "plan.xlsx"), *args])
    return result.exit_code, result.stdout, result.stderr


def kpis(tmp_path: Path, *args: str) -> dict:
    code, stdout, stderr = run(tmp_path, "--json", *args)
    assert code == 0, stderr
    return json.loads(stdout)


@pytest.fixture(scope="module")
def solved_json(tmp_path_factory) -> tuple[Path, dict]:
    """One in-process `hashpivot solve --json` of the reference portfolio: (folder with plan.xlsx, KPIs)."""
    folder = tmp_path_factory.mktemp("cli")
    return folder, kpis(folder)


def test_console_script_writes_the_workbook_with_every_sheet(tmp_path):
    """The installed entry point (a 5% gap: the sheets, not the optimum, are under test)."""
    out = tmp_path / "plan.xlsx"
    done = subprocess.run([Path(sys.executable).parent / "hashpivot", "solve", "--out", str(out), "--gap", "0.05"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "NPV $" in done.stdout and "MIP gap" in done.stdout
    assert openpyxl.load_workbook(out, read_only=True).sheetnames == SHEETS


def test_json_kpis_and_the_reference_plan_makes_sense(solved_json):
    k = solved_json[1]
    for key in ("status", "npv_usd", "mip_gap", "build_seconds", "solve_seconds", "ai_it_mw_leased_end",
                "mining_it_mw_start", "lp_relaxation_gap", "rows", "columns", "nonzeros"):
        assert key in k
    assert k["status"] == "optimal"
    assert k["mip_gap"] <= 1e-3
    assert k["npv_from_cashflow_usd"] == pytest.approx(k["npv_usd"], rel=1e-6)
    assert k["ai_it_mw_leased_end"] > 0 and k["mining_it_mw_start"] > 0


def test_georgia_goes_partly_to_ai_and_mining_only_sites_keep_mining(reference_plan):
    builds = reference_plan.builds
    assert GEORGIA_AI & set(builds["site"])
    schedule = reference_plan.schedule
    first_year = schedule[schedule["quarter"].str.startswith("2027")]
    mined = first_year.groupby("site")["mining_it_mw"].min()
    assert all(mined[s] > 0 for s in MINING_ONLY)
    assert all(s in GEORGIA_AI | {"Austin County"} for s in builds["site"])


def test_zero_lease_rate_builds_no_ai(tmp_path):
    k = kpis(tmp_path, "--set", "lease_usd_per_kw_month=0")
    assert k["ai_halls_built"] == 0 and k["ai_it_mw_leased_end"] == 0


def test_zero_btc_price_runs_no_miners(tmp_path):
    code, stdout, stderr = run(tmp_path, "--json", "--set", "btc_price_usd_2026=0", "--gap", "0.01")
    assert code == 0, stderr
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx", read_only=True)
    rows = list(wb["Schedule"].values)
    column = rows[0].index("mining_it_mw")
    assert max(r[column] for r in rows[1:]) == 0
    assert json.loads(stdout)["mining_it_mw_start"] == 0


def test_workbook_objective_equals_npv_rebuilt_from_cashflow_sheet(solved_json):
    folder, k = solved_json
    wb = openpyxl.load_workbook(folder / "plan.xlsx", read_only=True)
    rows = list(wb["CashFlow"].values)
    header = rows[0]
    lines = {line.name: line.sign for line in cash_lines() if line.in_npv}
    assert {"lease_revenue_usd", "ai_capex_usd", "taxes_usd", "interest_usd"} <= set(lines)
    table = [r for r in rows[1:] if r[header.index("period")] in ("horizon", "post-horizon")]  # not the NPV block
    at = lambda r, name: r[header.index(name)]  # noqa: E731
    levered = sum(sum(sign * at(r, line) for line, sign in lines.items()) * at(r, "discount_factor") for r in table)
    assert levered == pytest.approx(k["levered_npv_usd"], rel=1e-6)
    # APV (objective.py N2): the unlevered lines, less the tax the interest saves (the project-debt shield and the
    # tax rate x the revolver's interest on its opening balance; after the horizon the tax rate x all interest),
    # at the discount rate; the shield at the project-debt rate
    unlevered = {line.name: line.sign for line in cash_lines() if line.category in ("operating", "capex", "tax")}
    apv, opening = 0.0, 0.0
    for r in table:
        saved = (at(r, "interest_tax_shield_usd") + 0.25 * 0.11 / 4 * opening if at(r, "period") == "horizon"
                 else 0.25 * at(r, "interest_usd"))
        ufcf = sum(sign * at(r, line) for line, sign in unlevered.items()) - saved
        apv += (ufcf - at(r, "equity_issuance_cost_usd")) * at(r, "discount_factor") + at(
            r, "interest_tax_shield_usd") * at(r, "debt_discount_factor")
        opening = at(r, "revolver_balance_usd") or 0.0
    assert apv == pytest.approx(k["npv_usd"], rel=1e-6) and k["valuation"] == "apv"


def test_write_mps_gives_plain_highs_the_same_model(tmp_path):
    """--write-mps / --write-lp: the model HiGHS solved, written before the solve; plain highspy on the MPS
    reaches the same optimum (tiny case, solved to optimality)."""
    import highspy
    sites = tmp_path / "one.csv"
    sites.write_text("name,lat,lon,secured_mw,energised_quarter,power_usd_per_mwh_2026,ai_eligible,hall_it_mw,max_halls\n"
                     "Alpha,33.0,-84.0,100,2020Q1,50,true,20,2\n")
    mps, lp = tmp_path / "m.mps", tmp_path / "m.lp"
    result = CliRunner().invoke(app, ["solve", "--sites", str(sites), "--out", str(tmp_path / "p.xlsx"), "--gap", "0",
                                      "--threads", "1", "--json", "--write-mps", str(mps), "--write-lp", str(lp)])
    assert result.exit_code == 0, result.output
    k = json.loads(result.stdout)
    npv = k["npv_usd"] - k["undrawn_tiebreak_usd"]  # the objective: the APV less the undrawn tie-break
    assert "\nmax\n" in lp.read_text()[:200]  # the LP file of the same (maximised) model
    plain = highspy.Highs()
    plain.setOptionValue("output_flag", False)
    plain.readModel(str(mps))
    plain.setOptionValue("mip_rel_gap", 0.0)
    plain.run()
    assert plain.getInfo().objective_function_value * 1e6 == pytest.approx(npv, rel=1e-9)
