"""The plan workbook: sheets, native charts, live CashFlow formulas recalculated by LibreOffice, the run
manifest, editable inputs that re-solve (`--from`), and the CSV/Parquet exports; the workbook a CFO prints:
page 1 in words, a P&L whose subtotals reconcile, operating NPV by site reconciled to the objective, every
number in its unit's format, and the whole reference plan on at most 20 printed pages."""

import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from typer.testing import CliRunner

from optimizer.build import cash_lines
from optimizer.cli import app
from optimizer.workbook import write_workbook
from tests.conftest import make_sites, solve_case

SHEETS = ["Summary", "P&L", "Portfolio", "Timeline", "Schedule", "Builds", "CashFlow", "Emissions", "Marginals",
          "Sites", "Assumptions", "Run"]
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


@pytest.fixture(scope="module")
def book(plan):
    """The reference workbook as written: (formulas, cached values)."""
    path = plan[0] / "plan.xlsx"
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


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


def test_sheets_charts_and_manifest(plan, book):
    folder, kpis = plan
    book = book[0]
    assert book.sheetnames == SHEETS
    charts = [n for n in zipfile.ZipFile(folder / "plan.xlsx").namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 4  # MW by use, NPV by site, cash and debt, emissions against the cap
    rows = [(row[0].value, row[1].value) for row in book["Run"].iter_rows(min_col=1, max_col=2)]
    at = rows.index(("run manifest", None))
    run, manifest = dict(rows[:at]), dict(rows[at:])
    assert run["npv_usd"] == pytest.approx(kpis["npv_usd"]) and run["nonzeros"] == kpis["nonzeros"]
    assert len(manifest["site_file_sha256"]) == 64
    assert manifest["versions.highspy"] and manifest["solver_options.gap"] == 0.001
    assert book["Run"].freeze_panes == "B2" and book["CashFlow"].freeze_panes == "B2"
    timeline = book["Timeline"]  # names (hidden), header, one row per hall, a blank, 3 legend rows
    assert timeline.max_row - 6 == kpis["ai_halls_built"] and timeline.row_dimensions[1].hidden


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
    again = recalculate(stripped, tmp_path)
    npv = cashflow_cells(again, True)["NPV (expected)"]
    assert npv == pytest.approx(kpis["npv_usd"], abs=1.0)
    before, after = openpyxl.load_workbook(folder / "plan.xlsx", data_only=True), openpyxl.load_workbook(again, data_only=True)
    for sheet, keys in (("P&L", ("ebitda_usd", "net_income_usd", "free_cash_flow_usd")),
                        ("Portfolio", ("sites_operating_npv_usd", "npv_usd"))):  # their subtotals are formulas
        written, recalculated = lines_of(before, sheet), lines_of(after, sheet)
        for key in keys:
            assert [v for v in recalculated[key] if v is not None] == pytest.approx(
                [v for v in written[key] if v is not None], abs=1.0)
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


def test_portfolio_names_why_each_idle_mw_is_idle(plan):
    """Issue 13: the Portfolio sheet lists idle grid MW by site and year with its reasons (they add up) and the
    main one in words: the reference's Georgia greenfield site may not mine, its halls reserve power while
    they are built, the existing fleet idles after the 2028 halving at dear power, and Tennessee's power
    ($60/MWh) stands idle from 2029 although a fleet bought then would pay on its own: the plan's cash goes to
    halls."""
    folder, _ = plan
    sheet = pd.read_excel(folder / "plan.xlsx", sheet_name="Portfolio", header=None)
    at = sheet.index[sheet[1].astype(str).str.startswith("Idle grid MW by site and year, and why")][0]
    table = pd.read_excel(folder / "plan.xlsx", sheet_name="Portfolio", header=at + 1, usecols="B:I",
                          nrows=int(sheet[1].iloc[at + 2:].isna().idxmax()) - at - 2)
    reasons = ["idle_no_fleet_mw", "idle_unprofitable_mw", "idle_construction_mw", "idle_curtailed_mw"]
    assert table[reasons].sum(axis=1).to_numpy() == pytest.approx(table["idle_grid_mw"].to_numpy(), abs=1e-6)
    why = {(r.site, int(r.year)): r.main_reason for r in table.itertuples()}
    assert why["College Park II", 2027] == "no fleet: mining not allowed"
    assert why["Sandersville", 2027] == "reserved for a hall under construction"
    assert why["East TN", 2028] == "fleet unprofitable at this hashprice"
    assert why["East TN", 2030] == "no fleet: one bought by then would pay on its own; the plan put the cash elsewhere"
    assert why["East TN", 2036] == "no fleet: a new fleet would not pay back"


# ------------------------------------------------------------------ the workbook a CFO prints (issue 14)
MONEY = '$#,##0.0,,"M";[Red]-$#,##0.0,,"M"'
UNIT_FORMATS = {  # what a number of each unit looks like: the rule the workbook must follow
    "tco2_per_mwh": "0.000", "usd_per_mw": "$#,##0", "usd_per_it_mw": "$#,##0", "usd_per": "$#,##0.00",
    "usd": MONEY, "tco2": "#,##0", "mwh": "#,##0", "mw": "#,##0.0", "ehs": "#,##0.0", "ths": "#,##0",
    "j_per_th": "0.0", "share": "0.00%", "gap": "0.00%", "per_yr": "0.00%", "irr": "0.00%", "probability": "0.00%",
    "discount_factor": "0.0000", "dscr": '0.00"x"', "moic": '0.00"x"', "seconds": "0.00", "quarters": "0"}
UNIT = re.compile(r"(?:^|_)(tco2_per_mwh|usd_per_(?:it_)?mw(?=_[a-z]|$)|usd_per_[a-z0-9_]+|j_per_th|per_yr|"
                  r"discount_factor|usd|tco2|mwh|mw|ehs|ths|share|gap|irr|probability|dscr|moic|seconds|quarters)"
                  r"(?=_[a-z]|$)")


def unit_of(name) -> str | None:
    """The last unit in a name (`ai_it_mw_leased_end`: mw; `btc_price_usd_2026`: none, a price per BTC)."""
    found = UNIT.findall(name) if isinstance(name, str) else []
    return ("usd_per" if found[-1].startswith("usd_per_") and found[-1] not in UNIT_FORMATS else found[-1]) \
        if found else None


def format_problems(book) -> list[str]:
    """Every number whose format is not its unit's. A number's unit is that of its row's name in column A
    (the hidden line names of the Summary, P&L and Portfolio; the Run sheet's keys) or else of the nearest
    name above it in its column (a header; a hidden row of names above a header in words), a blank cell
    ending a table. Quarters must be text and years unformatted."""
    problems = []
    for ws in book.worksheets:
        above, header = {}, {}  # column -> the unit name / the header above, within the current table
        for row in ws.iter_rows():
            key = unit_of(row[0].value) and row[0].value
            for cell in row:
                c, v = cell.column, cell.value
                if v is None:
                    above.pop(c, None), header.pop(c, None)
                elif cell.data_type == "s":
                    header[c] = v
                    if unit_of(v):
                        above[c] = v
                elif not isinstance(v, bool):
                    name = key or above.get(c)
                    where = f"{ws.title}!{cell.coordinate}"
                    if name and cell.number_format != UNIT_FORMATS[unit_of(name)]:
                        problems.append(f"{where} ({name}): {cell.number_format!r}")
                    if str(header.get(c, "")).endswith("quarter"):
                        problems.append(f"{where}: a quarter written as a number")
                    if header.get(c) == "year" and cell.number_format != "General":
                        problems.append(f"{where}: a year formatted {cell.number_format!r}")
    return problems


def test_every_number_carries_the_format_of_its_unit(book):
    assert format_problems(book[0]) == []


def test_the_format_check_finds_a_wrong_unit(tmp_path):
    """A tCO2/MWh column in whole numbers, a MW column in $M and a quarter as a number are found."""
    path = tmp_path / "bad.xlsx"
    with xlsxwriter.Workbook(path) as wb:
        ws = wb.add_worksheet("Bad")
        for j, name in enumerate(["grid_tco2_per_mwh", "ai_it_mw_leased", "start_quarter", "capex_usd"]):
            ws.write(0, j, name)
        ws.write_number(1, 0, 0.412, wb.add_format({"num_format": "#,##0"}))
        ws.write_number(1, 1, 30.0, wb.add_format({"num_format": '$0.0,,"M"'}))
        ws.write_number(1, 2, 20271)
        ws.write_number(1, 3, 5e6, wb.add_format({"num_format": MONEY}))
    assert format_problems(openpyxl.load_workbook(path)) == [
        "Bad!A2 (grid_tco2_per_mwh): '#,##0'", "Bad!B2 (ai_it_mw_leased): '$0.0,,\"M\"'",
        "Bad!C2: a quarter written as a number"]


def visible_text(ws) -> list[str]:
    """The strings a reader sees: not in hidden rows or columns."""
    hidden_cols = {k for k, d in ws.column_dimensions.items() if d.hidden}
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)
            and c.column_letter not in hidden_cols and not ws.row_dimensions[c.row].hidden]


def test_page_one_is_in_words_with_the_key_figures(plan, book):
    """Summary: no snake_case a reader sees, no solver internals (they are on Run); the value bridge (APV
    beside its parts when the objective is the APV), the return figures and the plan's sentences."""
    folder, kpis = plan
    ws, cached = book[0]["Summary"], book[1]["Summary"]
    text = visible_text(ws)
    assert not [t for t in text if re.search(r"[a-z0-9]_[a-z]", t)]
    assert not [t for t in text if re.search(r"nonzeros|bound|LP-relaxation|seconds", t, re.I)]
    figures = {row[0].value: row[2].value for row in cached.iter_rows(min_col=1, max_col=3) if row[0].value}
    assert figures["ai_halls_built"] == kpis["ai_halls_built"] and figures["peak_funding_usd"] > 0
    assert 0 < figures["irr_project_per_yr"] < 1 and figures["min_dscr"] > 0
    bridge = {ws.cell(5, j).value: cached.cell(7, j).value for j in range(3, 10) if ws.cell(5, j).value}
    if kpis.get("valuation") == "apv":
        assert bridge["unlevered_npv_usd"] + bridge["tax_shield_npv_usd"] - bridge["issuance_cost_npv_usd"] == \
            pytest.approx(bridge["apv_usd"], abs=1.0)
        assert bridge["apv_usd"] == pytest.approx(kpis["apv_usd"])
    else:
        assert bridge["npv_usd"] == pytest.approx(kpis["npv_usd"])
    said = " ".join(text)
    assert f"builds {kpis['ai_halls_built']} AI halls" in said and "BTC $" in said and "/PH/day" in said


def lines_of(cached, sheet: str) -> dict:
    """A sheet's lines by their hidden name (column A) -> the cached values from column C on."""
    ws = cached[sheet]
    return {row[0].value: [c.value for c in row[2:]] for row in ws.iter_rows() if isinstance(row[0].value, str)}


def test_pnl_subtotals_reconcile_with_the_cashflow_lines(plan, book):
    """P&L: each subtotal is a formula; EBITDA is the operating lines, free cash flow adds capex, interest and
    taxes (the test's own sums from the CashFlow CSV, expected over scenarios, per year); sources = uses."""
    folder, _ = plan
    formulas, lines = book[0]["P&L"], lines_of(book[1], "P&L")
    subtotal_rows = [row for row in formulas.iter_rows() if row[0].value in ("ebitda_usd", "net_income_usd",
                                                                           "free_cash_flow_usd")]
    assert len(subtotal_rows) == 3 and all(str(c.value).startswith("=") for row in subtotal_rows for c in row[2:])
    flows = pd.read_csv(folder / "csv" / "cashflow.csv")
    flows = flows[flows["period"] == "horizon"].assign(year=lambda c: c["quarter"].str[:4].astype(int))
    sign = {line.name: (line.sign, line.category) for line in cash_lines()}
    signed = lambda cats: sum(s * flows[n] for n, (s, cat) in sign.items() if cat in cats and n in flows)  # noqa: E731
    ebitda = signed(("operating",)).groupby(flows["year"]).sum()
    fcf = (signed(("operating", "capex", "tax")) - flows["interest_usd"]).groupby(flows["year"]).sum()
    years = len(ebitda)
    assert lines["ebitda_usd"][:years] == pytest.approx(list(ebitda), abs=1.0)
    assert lines["free_cash_flow_usd"][:years] == pytest.approx(list(fcf), abs=1.0)
    assert lines["free_cash_flow_usd"][years] == pytest.approx(fcf.sum(), abs=1.0)  # the Total column
    ws = book[1]["P&L"]
    totals = {c.value: ws.cell(c.row, c.column + {"Total sources": 1, "Total uses": 3}[c.value]).value
              for row in ws.iter_rows() for c in row if c.value in ("Total sources", "Total uses")}
    assert totals["Total sources"] == pytest.approx(totals["Total uses"], abs=1.0) and totals["Total uses"] > 0


def test_operating_npv_by_site_reconciles_to_the_objective(plan, book):
    """Portfolio: the sites' operating NPVs, then carbon, unassigned flows, taxes and financing at portfolio
    level, add up (formulas) to a total equal to the plan's npv_usd."""
    _, kpis = plan
    formulas, cached = book[0]["Portfolio"], book[1]["Portfolio"]
    rows = [(f.value, c.value) for f, c in zip(formulas["A"], cached["C"]) if isinstance(f.value, str)
            and f.value.endswith("npv_usd")]
    keys = [k for k, _ in rows]
    sites = [v for k, v in rows if k == "site_operating_npv_usd"]
    assert len(sites) == kpis["sites"]
    subtotal = dict(rows)["sites_operating_npv_usd"]
    assert subtotal == pytest.approx(sum(sites), abs=1.0)
    portfolio = [v for k, v in rows[keys.index("sites_operating_npv_usd") + 1:-1]]
    assert keys[-1] == "npv_usd" and rows[-1][1] == pytest.approx(subtotal + sum(portfolio), abs=1.0)
    assert rows[-1][1] == pytest.approx(kpis["npv_usd"], abs=1.0)
    total_formula = [f.value for f, c in zip(formulas["A"], formulas["C"]) if f.value == "npv_usd"]
    assert len(total_formula) == 1


@pytest.mark.parametrize("valuation", ["apv", "levered"])
def test_the_reconciliation_ends_at_the_objective_under_either_valuation(valuation, tmp_path):
    """One site with a 20 MW hall, 60% project debt, 25% tax and a $20/t carbon price, 2027-2028: the
    Portfolio rows (site, carbon, taxes and financing as the valuation counts them) add up to npv_usd."""
    plan, _ = solve_case(make_sites({"name": "Alpha", "ai_eligible": "true", "hall_it_mw": 20, "max_halls": 1}),
                         loan_to_cost=0.6, tax_rate=0.25, carbon_price_usd_per_t=20.0, valuation=valuation)
    write_workbook(plan, tmp_path / "p.xlsx")
    rows = {k: v[0] for k, v in lines_of(openpyxl.load_workbook(tmp_path / "p.xlsx", data_only=True),
                                         "Portfolio").items() if k.endswith("npv_usd")}
    portfolio = {"apv": ["unlevered_tax_npv_usd", "tax_shield_npv_usd", "issuance_npv_usd"],
                 "levered": ["tax_npv_usd", "financing_npv_usd"]}[valuation]
    parts = ["site_operating_npv_usd", "carbon_npv_usd", "unassigned_npv_usd", *portfolio]
    assert rows["carbon_npv_usd"] < 0 and len(plan.builds) == 1
    assert sum(rows[k] for k in parts) == pytest.approx(rows["npv_usd"], abs=1.0)
    assert rows["npv_usd"] == pytest.approx(plan.kpis["npv_usd"], abs=1.0)


def chart_series(path: Path) -> list[list[str]]:
    """The series names of each chart of a workbook."""
    with zipfile.ZipFile(path) as z:
        return [re.findall(r"<c:ser>.*?<c:tx><c:v>(.*?)</c:v>", z.read(n).decode(), re.S)
                for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]


def test_chart_legends_are_words(plan):
    series = [name for chart in chart_series(plan[0] / "plan.xlsx") for name in chart]
    assert series and not [s for s in series if "_" in s]
    assert "Emissions cap" not in series  # the reference has no carbon cap


@pytest.mark.parametrize("cap_tco2", [float("inf"), 50_000.0])
def test_the_emissions_chart_draws_a_cap_only_where_there_is_one(cap_tco2, tmp_path):
    """One mining site, 2027-2028: with no cap the chart has no cap series; with a cap it has one."""
    plan, _ = solve_case(make_sites({"name": "Alpha"}), carbon_cap_tco2_per_year=cap_tco2)
    write_workbook(plan, tmp_path / "p.xlsx")
    emissions = [s for s in chart_series(tmp_path / "p.xlsx") if "Market-based emissions" in s][0]
    assert ("Emissions cap" in emissions) == (cap_tco2 < float("inf"))


def page_count(pdf: Path) -> int:
    """Pages of a PDF: its /Type /Page objects (not /Pages)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_the_reference_plan_prints_on_at_most_20_pages(plan, tmp_path):
    """LibreOffice's PDF of the whole workbook: every sheet prints (at least a page each), 20 pages at most."""
    folder, _ = plan
    profile = tmp_path / "lo-profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(folder / "plan.xlsx")], check=True, capture_output=True, timeout=300)
    assert len(SHEETS) <= page_count(tmp_path / "plan.pdf") <= 20
