"""The plan workbook: sheets, native charts, live CashFlow formulas recalculated by LibreOffice, the run
manifest, editable inputs that re-solve (`--from`), and the CSV/Parquet exports."""

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer.cli import app

SHEETS = ["Summary", "Portfolio", "Timeline", "Schedule", "Builds", "CashFlow", "Emissions", "Marginals", "Sites",
          "Assumptions"]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""
runner = CliRunner()


def solve(*args) -> dict:
    result = runner.invoke(app, ["solve", "--threads", "1", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("workbook")
    kpis = solve("--out", str(folder / "plan.xlsx"), "--csv", str(folder / "csv"), "--parquet", str(folder / "pq"))
    return folder, kpis


def cashflow_cells(path: Path, data_only: bool) -> dict:
    """The CashFlow sheet's NPV block (label -> column C) of a workbook."""
    ws = openpyxl.load_workbook(path, data_only=data_only)["CashFlow"]
    return {row[0].value: row[2].value for row in ws.iter_rows(min_col=1, max_col=3) if isinstance(row[0].value, str)
            and (row[0].value.startswith("NPV") or row[0].value in ("objective (optimizer)", "difference"))}


def recalculate(path: Path, folder: Path) -> Path:
    """LibreOffice headless: open (recalculating every formula on load) and save as xlsx in `folder`."""
    profile = folder / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    out = folder / "recalculated"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--calc", "--convert-to",
                    "xlsx", "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
    return out / path.name


def test_sheets_charts_and_manifest(plan):
    folder, kpis = plan
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    assert book.sheetnames == SHEETS
    charts = [n for n in zipfile.ZipFile(folder / "plan.xlsx").namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 4  # MW by use, NPV by site, cash and debt, emissions against the cap
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows(min_col=1, max_col=2)}
    assert summary["npv_usd"] == pytest.approx(kpis["npv_usd"])
    assert "run manifest" in summary and len(summary["site_file_sha256"]) == 64
    assert summary["versions.highspy"] and summary["solver_options.gap"] == 0.001
    assert book["Summary"].freeze_panes == "B2" and book["CashFlow"].freeze_panes == "B2"
    timeline = book["Timeline"]
    assert timeline.max_row - 5 == kpis["ai_halls_built"]  # header, one row per hall, a blank, 3 legend rows


def test_cashflow_formulas_with_cached_values(plan):
    folder, kpis = plan
    formulas, cached = cashflow_cells(folder / "plan.xlsx", False), cashflow_cells(folder / "plan.xlsx", True)
    assert formulas["NPV (expected)"].startswith("=") and formulas["NPV base"].startswith("=SUMIF(")
    assert cached["NPV (expected)"] == pytest.approx(kpis["npv_usd"], abs=1.0)
    ws = openpyxl.load_workbook(folder / "plan.xlsx")["CashFlow"]
    header = [c.value for c in ws[1]]
    discounted = ws.cell(2, header.index("discounted_cash_flow_usd") + 1).value
    assert discounted.startswith("=") and "*" in discounted


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_libreoffice_recalculates_the_npv_to_the_objective(plan, tmp_path):
    folder, kpis = plan
    stripped = tmp_path / "stripped.xlsx"  # openpyxl drops the cached values: only a recalculation fills them
    openpyxl.load_workbook(folder / "plan.xlsx").save(stripped)
    assert cashflow_cells(stripped, True)["NPV (expected)"] is None
    npv = cashflow_cells(recalculate(stripped, tmp_path), True)["NPV (expected)"]
    assert npv == pytest.approx(kpis["npv_usd"], abs=1.0)
    full = recalculate(folder / "plan.xlsx", tmp_path / "full")
    assert openpyxl.load_workbook(full).sheetnames == SHEETS
    assert len([n for n in zipfile.ZipFile(full).namelist() if n.startswith("xl/charts/chart")]) == 4


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_editing_a_flow_moves_the_npv(plan, tmp_path):
    folder, kpis = plan
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    ws = book["CashFlow"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(2, header.index("lease_revenue_usd") + 1)
    cell.value = (cell.value or 0) + 1e6
    df = ws.cell(2, header.index("discount_factor") + 1).value
    book.save(tmp_path / "edited.xlsx")
    npv = cashflow_cells(recalculate(tmp_path / "edited.xlsx", tmp_path), True)["NPV (expected)"]
    assert npv - kpis["npv_usd"] == pytest.approx(1e6 * df, abs=1.0)


def test_from_plan_reproduces_the_objective_and_follows_edits(plan, tmp_path):
    folder, kpis = plan
    again = solve("--from", str(folder / "plan.xlsx"), "--out", str(tmp_path / "again.xlsx"))
    assert again["npv_usd"] == pytest.approx(kpis["npv_usd"], rel=1e-9)
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    rows = book["Assumptions"]
    header = [c.value for c in rows[1]]
    for row in rows.iter_rows(min_row=2):
        if row[header.index("key")].value == "lease_usd_per_kw_month":
            row[header.index("value")].value = 0
    book.save(tmp_path / "no-lease.xlsx")
    edited = solve("--from", str(tmp_path / "no-lease.xlsx"), "--out", str(tmp_path / "edited.xlsx"))
    assert edited["ai_halls_built"] == 0 and edited["npv_usd"] < kpis["npv_usd"]


def test_a_bad_edit_is_one_sentence_and_exit_2(plan, tmp_path):
    folder, _ = plan
    book = openpyxl.load_workbook(folder / "plan.xlsx")
    sites = book["Sites"]
    header = [c.value for c in sites[1]]
    sites.cell(3, header.index("secured_mw") + 1).value = -5
    book.save(tmp_path / "bad.xlsx")
    result = runner.invoke(app, ["solve", "--from", str(tmp_path / "bad.xlsx"), "--out", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{tmp_path / 'bad.xlsx'} (Sites sheet): row 3 (College Park II), field secured_mw: -5 is negative" in result.output
    assert not (tmp_path / "x.xlsx").exists()


def test_csv_and_parquet_exports(plan, tmp_path):
    folder, kpis = plan
    stems = {"kpis", "schedule", "builds", "cashflow", "by_year", "emissions", "emissions_by_year",
             "secured_mw_marginals", "carbon_cap_marginals", "sites", "assumptions"}
    assert {p.stem for p in (folder / "csv").glob("*.csv")} == stems
    assert {p.stem for p in (folder / "pq").glob("*.parquet")} == stems
    flows = pd.read_csv(folder / "csv" / "cashflow.csv")
    assert flows["discounted_cash_flow_usd"].sum() == pytest.approx(kpis["npv_usd"], rel=1e-9)
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "pq" / "builds.parquet"),
                                  pd.read_csv(folder / "csv" / "builds.csv"), check_dtype=False)
    result = runner.invoke(app, ["solve", "--out", str(tmp_path / "p.xlsx"), "--csv", str(folder / "csv")])
    assert result.exit_code == 2 and "--force" in result.output


def test_summary_names_why_each_idle_mw_is_idle(plan):
    """Issue 13: the Summary lists idle grid MW by site and year with its reasons (they add up) and the main
    one in words: the reference's Georgia greenfield site may not mine, its halls reserve power while they
    are built, the existing fleet idles after the 2028 halving at dear power, and Tennessee's power ($60/MWh)
    stands idle from 2029 although a fleet bought then would pay on its own: the plan's cash goes to halls."""
    folder, _ = plan
    summary = pd.read_excel(folder / "plan.xlsx", sheet_name="Summary", header=None)
    at = summary.index[summary[3] == "Idle grid MW by site and year, and why (quarterly average)"][0]
    table = pd.read_excel(folder / "plan.xlsx", sheet_name="Summary", header=at + 1, usecols="D:K").dropna(how="all")
    reasons = ["idle_no_fleet_mw", "idle_unprofitable_mw", "idle_construction_mw", "idle_curtailed_mw"]
    assert table[reasons].sum(axis=1).to_numpy() == pytest.approx(table["idle_grid_mw"].to_numpy(), abs=1e-6)
    why = {(r.site, int(r.year)): r.main_reason for r in table.itertuples()}
    assert why["College Park II", 2027] == "no fleet: mining not allowed"
    assert why["Sandersville", 2027] == "reserved for a hall under construction"
    assert why["East TN", 2028] == "fleet unprofitable at this hashprice"
    assert why["East TN", 2030] == "no fleet: one bought by then would pay on its own; the plan put the cash elsewhere"
    assert why["East TN", 2036] == "no fleet: a new fleet would not pay back"
