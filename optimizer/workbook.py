"""`plan.xlsx`, the workbook a CFO prints: page 1 in words, a yearly P&L, formatted tables, native charts,
a live `CashFlow` sheet and the run record.

Sheets: Summary (page 1: the value bridge, key figures, what the plan says and assumes, IT MW by use by
year), P&L (yearly P&L, Sources & Uses, return figures: optimizer/cfo.py), Portfolio (site x year MW by
use; operating NPV by site reconciled to the plan's value; idle MW and why; charts), Timeline (one row per
hall), Schedule, Builds, CashFlow (live formulas, chart), Emissions (chart), Marginals, Sites and
Assumptions (the inputs: `hashpivot solve --from plan.xlsx` reads them back; the derived Sites columns,
grey, are recomputed from them, see optimizer/plan_inputs.py), Run (every KPI, solver figures included,
and the run manifest).

Every number carries the format of its unit (optimizer/export.py number_format): in a tidy table the unit
is in the column name; in a table of lines down and years across (Summary, P&L, Portfolio) a hidden
column A holds each line's name; word headers (Timeline, the value bridge) sit under a hidden row of names.

Print: every sheet landscape on A4, fit to one page (PRINT_PAGES: Sites three wide, Assumptions and Run
two tall), the sheet name and page number in the header and footer. The long tidy sheets (Schedule,
Marginals) print their first SAMPLE_ROWS rows and the columns that fit PRINT_WIDTH, CashFlow its value
block and chart, Emissions its yearly table and chart, Portfolio its tables and charts (not the idle table
below them); the footer says what is left out, which stays in the workbook as data.

CashFlow formulas over its own cells (cached values written too, so viewers that do not recalculate
show the optimizer's numbers):

    net_cash_flow_usd[r]        = sum_l sign_l * line_l[r]      (lines that count in the NPV)
    cash_change_usd[r]          = sum_l sign_l * line_l[r]      (every line)
    cash_balance_usd[r]         = cash_balance_usd[r-1] + cash_change_usd[r],  first: opening cash + change
    levered:  discounted_cash_flow_usd[r] = net_cash_flow_usd[r] * discount_factor[r]
    apv:      unlevered_free_cash_flow_usd[r] = sum_{operating, capex, tax} sign_l * line_l[r] - (TS[r]
                  + tau * rho_r/4 * revolver_balance_usd[r-1]) over the horizon, - tau * interest[r] after it
              discounted_cash_flow_usd[r] = (UFCF[r] - issuance[r]) * discount_factor[r]
                                            + interest_tax_shield_usd[r] * debt_discount_factor[r]
    NPV (expected)              = sum_w p_w * SUMIF(scenario = w, discounted_cash_flow_usd)

The P&L's subtotals (EBITDA, net income, free cash flow) and the Portfolio's two totals are formulas too.
"""

import math
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from kernel.atomic import atomic_path
from kernel.quarters import label, ordinal
from models.economics import quarter_table
from optimizer import cfo
from optimizer.by_site import operating_npv_usd, site_years
from optimizer.export import LOWER, MONEY_M, assumptions_sheet, number_format, sites_sheet, words
from optimizer.formulation.objective import UNLEVERED
from optimizer.manifest import manifest_rows
from optimizer.plan_inputs import CHECK_COLUMN, DERIVED_MEANING
from optimizer.results import EMISSIONS_ONLY, IDLE_WORDS, Plan, idle_by_site_year
from sites.leases import LEASES_SHEET, lease_table
from sites.schema import FIELDS_BY_NAME

MINING, AI, NEUTRAL = "#F8CBAD", "#BDD7EE", "#DDEBF7"
BUILDING, ONLINE, LEASED = "#FFD966", "#9DC3E6", "#2F75B5"
DERIVED = "#D9D9D9"  # Sites sheet: derived (output) columns
LOCATED_BLANK = MappingProxyType({"state": "the state the point lies in (state_located)",
                                  "egrid_subregion": "the subregion the point lies in (egrid_subregion_located)",
                                  "grid_tco2_per_mwh": "the eGRID2023 rate of the subregion (grid_tco2_per_mwh_located)"})
USE_COLUMNS = (("mining_it_mw", "Mining IT MW", "#ED7D31"), ("ai_it_mw_under_construction", "AI IT MW Building",
               BUILDING), ("ai_it_mw_online_unleased", "AI IT MW Online, Not Leased", ONLINE),
               ("ai_it_mw_leased", "AI IT MW Leased", LEASED))
SHEETS = ("Summary", "P&L", "Portfolio", "Timeline", "Schedule", "Builds", "CashFlow", "Emissions", "Marginals",
          "Sites", "Assumptions", "Run")
PRINT_PAGES = MappingProxyType({"Assumptions": (1, 2), "Run": (1, 2), "Sites": (3, 1)})  # (wide, tall); else 1 x 1
SAMPLE_ROWS = 40
PRINT_WIDTH = 170  # characters of column width on a landscape page at a readable scale
YEAR_LINES = (("secured_mw_avg", "Secured grid MW (avg)"), ("mining_it_mw_avg", "Mining IT MW (avg)"),
              ("fleet_ehs_avg", "Fleet EH/s (avg)"), ("asic_bought_ehs", "ASICs bought (EH/s)"),
              ("asic_capex_usd", "ASIC capex"), ("ai_it_mw_under_construction_end", "AI IT MW building (year end)"),
              ("ai_it_mw_online_end", "AI IT MW online (year end)"),
              ("ai_it_mw_leased_end", "AI IT MW leased (year end)"),
              ("idle_grid_mw_avg", "Idle grid MW (avg)"), ("tco2", "Location-based emissions (tCO2)"))


class Formats:
    """The workbook's cell formats, made once per workbook; number formats by code, on demand."""

    def __init__(self, book):
        self.book, self._numbers = book, {}
        fmt = lambda **kw: book.add_format(kw)  # noqa: E731
        self.header = {band: fmt(bold=True, text_wrap=True, valign="top", bg_color=band, border=1)
                       for band in (MINING, AI, NEUTRAL)}
        self.vertical = fmt(bold=True, rotation=90, bg_color=NEUTRAL, border=1, align="center")
        self.bold = fmt(bold=True)
        self.title = fmt(bold=True, font_size=14)
        self.section = fmt(bold=True, font_size=11, bottom=1)
        self.note = fmt(italic=True, font_color="#595959")
        self.alert = fmt(bold=True, font_color="#C00000")
        self.text = fmt(text_wrap=True, valign="top")
        self.right = fmt(align="right")
        self.bands = {name: fmt(bg_color=colour) for name, colour in
                      (("building", BUILDING), ("online", ONLINE), ("leased", LEASED))}

    def number(self, code: str | None, bold: bool = False):
        """The format of a number format code (None: General), bold with a top rule for totals."""
        key = (code, bold)
        if key not in self._numbers:
            spec = {"num_format": code} if code else {}
            self._numbers[key] = self.book.add_format({**spec, **({"bold": True, "top": 1} if bold else {})})
        return self._numbers[key]

    def of(self, name: str, bold: bool = False):
        """The number format of a column or line name, from its unit (None without a unit)."""
        code = number_format(name)
        return self.number(code, bold) if code or bold else None


def band(name: str) -> str:
    """Header colour: mining columns orange, AI and lease columns blue, the rest neutral."""
    if name.startswith(("mining", "fleet", "asic", "flexibility", "idle_unprofitable")):
        return MINING
    if name.startswith(("ai_", "lease", "leased")):
        return AI
    return NEUTRAL


def write_cells(ws, row: int, col: int, values, fmt=None) -> None:
    """A column of values from (row, col) down: numbers, booleans and text; blanks for None/NA/NaN, "inf"
    for an infinite value (as pandas writes them). Money below a cent is solver noise, written as 0 (so that
    it shows $0.0M, not -$0.0M)."""
    noise = 0.01 if getattr(fmt, "num_format", None) == MONEY_M else 0.0
    for i, v in enumerate(values, start=row):
        if v is None or v is pd.NA or v is pd.NaT or isinstance(v, (float, np.floating)) and math.isnan(v):
            continue
        if isinstance(v, (float, np.floating)) and math.isinf(v):
            v = "inf" if v > 0 else "-inf"  # --from reads it back
        if isinstance(v, (bool, np.bool_)):
            ws.write_boolean(i, col, bool(v))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            ws.write_number(i, col, 0.0 if abs(v) < noise else v, fmt)
        else:
            ws.write_string(i, col, str(v))


def write_table(book, sheet: str, frame: pd.DataFrame, f: Formats, row: int = 0, col: int = 0,
                freeze: bool = True, widths: bool = True) -> tuple[int, int]:
    """A tidy table at (row, col) with coloured headers, unit-based number formats and (with `widths`)
    column widths; returns its (first data row, number of rows). Each number carries its column's format
    itself, so that a table written below another in the same columns cannot re-format it."""
    ws = book.get_worksheet_by_name(sheet) or book.add_worksheet(sheet)
    for j, name in enumerate(frame.columns, start=col):
        ws.write_string(row, j, str(name), f.header[band(str(name))])
        values = frame[name].tolist()
        fmt = f.of(str(name))
        if widths:
            ws.set_column(j, j, column_width(name, values))
        write_cells(ws, row + 1, j, values, fmt)
    if freeze and row == 0 and col == 0:
        ws.freeze_panes(1, 1)
    return row + 1, len(frame)


def column_width(name, values) -> float:
    """Width of a tidy column (characters): its header or its longest value in the first 200, 9 to 34."""
    longest = max((len(str(v)) for v in values[:200]), default=0)
    return max(9, min(34, max(len(str(name)) * 0.85, longest * 0.9) + 2))


def title_case(text: str) -> str:
    """Title Case for labels: each word capitalised but the small ones (of, and, per, ...) and words that
    already carry a capital or a digit (IT, MW, 2027Q1)."""
    out = []
    for i, word in enumerate(text.split(" ")):
        bare = word.strip("(),;:")
        keep = any(ch.isupper() or ch.isdigit() or ch == "_" for ch in bare) or (i and bare in LOWER)
        at = word.find(bare)
        out.append(word if keep or not bare else word[:at] + bare[:1].upper() + word[at + 1:])
    return " ".join(out)


def write_lines(ws, row: int, lines, f: Formats, header: list | None = None, totals=(), titled: bool = True) -> int:
    """Lines down, columns across: each line (key, label, values) writes its hidden key in column A, its
    label in B and its values from C on in the key's format (bold with a rule for keys in `totals`);
    values that are strings (formulas start with '=') are written as such. Returns the next free row."""
    if header is not None:
        ws.write_string(row, 1, header[0], f.header[NEUTRAL])
        for j, name in enumerate(header[1:], start=2):
            ws.write(row, j, name, f.header[NEUTRAL])
        row += 1
    for key, text, values in lines:
        ws.write_string(row, 0, key)
        ws.write_string(row, 1, title_case(text) if titled else text, f.bold if key in totals else None)
        fmt = f.of(key, bold=key in totals)
        for j, v in enumerate(values, start=2):
            if isinstance(v, tuple):  # (formula, cached value)
                ws.write_formula(row, j, v[0], fmt, v[1])
            elif isinstance(v, str):
                ws.write_string(row, j, v, f.right)
            else:
                write_cells(ws, row, j, [v], fmt)
        row += 1
    return row


def human_sheet(book, name: str, label_width: float = 40, value_width: float = 11, columns: int = 12):
    """A sheet of lines down: column A (line names) hidden, labels in B, values from C."""
    ws = book.add_worksheet(name)
    ws.set_column(0, 0, 12, None, {"hidden": True})
    ws.set_column(1, 1, label_width)
    ws.set_column(2, 1 + columns, value_width)
    return ws


def write_workbook(plan: Plan, path: str | Path, manifest: dict | None = None) -> Path:
    """Write the plan workbook atomically; returns the path."""
    figures, pnl, uses = cfo.figures(plan), cfo.pnl_by_year(plan), cfo.sources_and_uses(plan)
    with atomic_path(path) as temp:
        book = xlsxwriter.Workbook(str(temp), {"in_memory": True})
        f = Formats(book)
        areas = {"Summary": summary(book, plan, figures, f), "P&L": pnl_sheet(book, plan, pnl, uses, f),
                 "Portfolio": portfolio(book, plan, f), "Timeline": timeline(book, plan, f)}
        schedule = plan.schedule.drop(columns=list(EMISSIONS_ONLY))
        areas["Schedule"] = sample(write_table(book, "Schedule", schedule, f), [schedule])
        areas["Builds"] = whole(write_table(book, "Builds", plan.builds, f), len(plan.builds.columns))
        areas["CashFlow"] = cashflow(book, plan, f)
        areas["Emissions"] = emissions(book, plan, f)
        secured, carbon = plan.secured_mw_marginals, plan.carbon_cap_marginals
        first, _ = write_table(book, "Marginals", secured, f)
        write_table(book, "Marginals", carbon, f, col=len(secured.columns) + 1)
        areas["Marginals"] = sample((first, max(len(secured), len(carbon))),
                                    [secured, pd.DataFrame({"": []}), carbon])  # one blank column between
        areas["Sites"], areas["Assumptions"] = inputs(book, plan, f)
        areas["Run"] = run_sheet(book, plan, manifest, f)
        for name in SHEETS:
            printable(book.get_worksheet_by_name(name), name, areas[name], plan)
        book.close()
    return Path(path)


def sample(table: tuple[int, int], frames: list[pd.DataFrame]) -> tuple:
    """Print area of a long tidy table (or tables side by side): its header and first SAMPLE_ROWS rows,
    and the columns that fit PRINT_WIDTH characters (the footer note says what is left out)."""
    first, rows = table
    widths = [column_width(name, frame[name].head(200).tolist()) for frame in frames for name in frame.columns]
    fit = max(1, int(np.searchsorted(np.cumsum(widths), PRINT_WIDTH, side="right")))
    shown = min(rows, SAMPLE_ROWS)
    left = [f"the first {shown} of {rows:,} rows"] if rows > shown else []
    left += [f"{fit} of {len(widths)} columns"] if fit < len(widths) else []
    note = f"{' and '.join(left)} printed; the whole table is in the workbook" if left else None
    return (0, 0, first + shown - 1, fit - 1), note


def whole(table: tuple[int, int], columns: int) -> tuple:
    first, rows = table
    return (0, 0, first + rows - 1, max(columns - 1, 0)), None


def printable(ws, name: str, area: tuple, plan: Plan) -> None:
    """Landscape A4 fit to PRINT_PAGES (wide, tall; 1 x 1 by default) over `area` ((r0, c0, r1, c1), note);
    the sheet and plan in the header, the note and page number in the footer; header rows repeat on tidy
    sheets."""
    (r0, c0, r1, c1), note = area
    ws.print_area(r0, c0, r1, c1)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(*PRINT_PAGES.get(name, (1, 1)))
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    title = f"hashpivot plan, {plan.kpis['sites']} sites, {plan.kpis['horizon']}".replace("&", "&&")
    ws.set_header(f"&L&A&R{title}")
    note = note and (note[0].upper() + note[1:]).replace("&", "&&")
    ws.set_footer((f"&L{note}" if note else "") + "&RPage &P of &N")
    if name in ("Schedule", "Builds", "Marginals", "Sites", "Assumptions"):
        ws.repeat_rows(0)
    if name == "Sites":
        ws.repeat_columns(0)


# ---------------------------------------------------------------------------------------------- page 1

def valuation(plan: Plan) -> str:
    """'apv' or 'levered': how the objective values the plan (objective.py)."""
    return str(plan.kpis.get("valuation", "levered"))


BRIDGE = MappingProxyType({  # valuation -> the page-1 value row: (KPI, header); the objective's in bold
    "apv": (("unlevered_npv_usd", "Unlevered NPV"), ("tax_shield_npv_usd", "+ Interest Tax Shields"),
            ("issuance_cost_npv_usd", "- Equity Issuance Costs"), ("apv_usd", "APV (the Objective)"),
            ("levered_npv_usd", "Levered NPV (Every Flow at r)"),
            ("equity_npv_usd", "Equity NPV (at the Cost of Equity)")),
    "levered": (("npv_usd", "Levered NPV (the Objective)"), ("unlevered_npv_usd", "Unlevered NPV"),
                ("apv_usd", "APV"), ("equity_npv_usd", "Equity NPV (at the Cost of Equity)"))})
OBJECTIVE = ("apv_usd", "npv_usd")


def summary(book, plan: Plan, figures: dict, f: Formats) -> tuple:
    """Page 1: title and status, the value bridge side by side, key figures, what the plan says and assumes
    (generated sentences), and IT MW by use by year."""
    ws = human_sheet(book, "Summary")
    k, d = plan.kpis, plan.data
    ws.write_string(0, 1, f"Plan: {k['sites']} sites, {k['horizon']}, scenario {', '.join(d.scenarios)}", f.title)
    if plan.info.status == "optimal":
        ws.write_string(1, 1, f"Proven optimal within a {k.get('mip_gap') or 0:.2%} MIP gap; the solver's figures and the "
                              "run record are on the Run sheet.", f.note)
    else:
        ws.write_string(1, 1, f"NOT PROVEN OPTIMAL ({plan.info.status}): MIP gap {plan.info.mip_gap:.3%}; the best "
                              "plan found. Solver figures: Run sheet.", f.alert)
    ws.write_string(3, 1, "Value of the plan (present values)", f.section)
    bridge = [(key, text) for key, text in BRIDGE[valuation(plan)] if k.get(key) is not None]
    for j, (key, text) in enumerate(bridge or [("npv_usd", "NPV (the Objective)")], start=2):
        ws.write_string(4, j, key)
        ws.write_string(5, j, text, f.header[NEUTRAL])
        ws.write_number(6, j, k[key], f.of(key, bold=key in OBJECTIVE))
    ws.set_row(4, None, None, {"hidden": True})
    ws.set_row(5, 45)
    ws.write_string(6, 1, "USD, present value at the plan's discount rates", f.note)
    ws.write_string(8, 1, "Key figures", f.section)
    end = write_lines(ws, 9, key_figures(plan, figures), f)
    said, assumed = plan_sentences(plan, figures), assumption_sentences(plan)
    ws.write_string(8, 4, "What the plan says", f.section)
    middle = 9 + max(4, math.ceil(len(said) / 85) + 1)
    ws.merge_range(9, 4, middle - 1, 11, said, f.text)
    ws.write_string(middle, 4, "Key assumptions", f.section)
    bottom = max(end, middle + 2 + math.ceil(len(assumed) / 85) + 1)
    ws.merge_range(middle + 1, 4, bottom - 1, 11, assumed, f.text)
    top = bottom + 1
    ws.write_string(top, 1, f"IT MW by use, by year (scenario {d.scenarios[0]})", f.section)
    years = plan.by_year
    lines = [(key, text, years[key].tolist()) for key, text in YEAR_LINES if key in years]
    last = write_lines(ws, top + 1, lines, f, header=["Year", *years["year"].astype(int).tolist()])
    return (0, 1, last - 1, 1 + max(11, len(years))), None


FIGURE_WORDS = (("irr_project_per_yr", "Project IRR (unlevered, per year)", None),
                ("irr_equity_per_yr", "Equity IRR (per year)", None),
                ("moic_project", "Project MOIC (unlevered)", None),
                ("payback_quarter", "Payback quarter (unlevered)", None),
                ("peak_funding_usd", "Peak funding (unlevered), in {}", "peak_funding_quarter"),
                ("min_dscr", "Lowest DSCR (trailing 4 quarters), in {}", "min_dscr_quarter"))


def key_figures(plan: Plan, figures: dict) -> list:
    """(key, label, [value]) rows of page 1: returns and funding (optimizer/cfo.py figures; the label names
    the quarter of a peak or a low), then the plan in figures."""
    k, q0, q1 = plan.kpis, plan.data.quarters[0], plan.data.quarters[-1]
    rows = [(key, text.format(figures.get(when)), [figures[key]])
            for key, text, when in FIGURE_WORDS if figures.get(key) is not None]
    plan_rows = (("ai_halls_built", "AI halls built"), ("ai_it_mw_built", "AI IT MW built"),
                 ("first_ai_start_quarter", "First hall starts"), ("ai_it_mw_leased_end", f"AI IT MW leased, {q1}"),
                 ("mining_it_mw_start", f"Mining IT MW, {q0}"), ("mining_it_mw_end", f"Mining IT MW, {q1}"),
                 ("secured_mw_end", f"Secured grid MW, {q1}"), ("asic_bought_ehs", "ASICs bought (EH/s)"),
                 ("asic_capex_usd", "ASIC capex"), ("ai_capex_usd", "AI hall capex"),
                 ("peak_project_debt_usd", "Peak project debt"), ("min_cash_balance_usd", "Lowest cash balance"),
                 ("market_tco2", "Market-based emissions (tCO2)"))
    return rows + [(key, text, [k[key]]) for key, text in plan_rows if key in k]


def money(usd: float) -> str:
    return f"-${-usd / 1e6:,.0f}M" if usd < 0 else f"${usd / 1e6:,.0f}M"


def plan_sentences(plan: Plan, figures: dict) -> str:
    """What the plan says, in a few sentences generated from its KPIs and figures."""
    k, d, b = plan.kpis, plan.data, plan.builds
    q0, q1 = d.quarters[0], d.quarters[-1]
    if len(b):
        sites = list(dict.fromkeys(b["site"]))
        said = [f"The plan builds {len(b)} AI halls ({k['ai_it_mw_built']:,.0f} IT MW) at {len(sites)} "
                f"site{'s' if len(sites) > 1 else ''} ({', '.join(sites)}), the first starting in "
                f"{k['first_ai_start_quarter']}, and leases {k['ai_it_mw_leased_end']:,.0f} IT MW by {q1}."]
    else:
        said = ["The plan builds no AI hall: the power stays with mining."]
    bought = (f"buys {k['asic_bought_ehs']:,.1f} EH/s of ASICs ({money(k['asic_capex_usd'])})"
              if k["asic_bought_ehs"] > 0.05 else "buys no ASICs")
    said.append(f"Mining runs {k['mining_it_mw_start']:,.0f} IT MW in {q0} and {k['mining_it_mw_end']:,.0f} IT MW "
                f"in {q1}; it {bought}.")
    if "apv_usd" in k:
        said.append(f"The plan is worth {money(k['apv_usd'])} (APV): {money(k['unlevered_npv_usd'])} unlevered, "
                    f"plus {money(k['tax_shield_npv_usd'])} of interest tax shields, less "
                    f"{money(k['issuance_cost_npv_usd'])} of equity issuance costs.")
    else:
        said.append(f"The plan is worth {money(k['npv_usd'])} (NPV of every flow at the discount rate).")
    said.append(idle_sentence(plan))
    said += return_sentences(figures)
    said.append(f"Project debt peaks at {money(k['peak_project_debt_usd'])}; cash never falls below "
                f"{money(k['min_cash_balance_usd'])}.")
    return " ".join(said)


def idle_sentence(plan: Plan) -> str:
    """Idle grid power over the horizon (average MW, first scenario) and its main reason."""
    years = plan.by_year
    reasons = {r: float(years[f"{r}_avg"].mean()) for r in IDLE_WORDS if f"{r}_avg" in years}
    idle = float(years["idle_grid_mw_avg"].mean())
    if idle < 0.5 or not reasons:
        return "No secured power stands idle."
    main = max(reasons, key=reasons.get)
    return (f"{idle:,.0f} MW of secured power stand idle on average; the main reason ({reasons[main]:,.0f} MW): "
            f"{IDLE_WORDS[main]} (by site and year on the Portfolio sheet).")


def return_sentences(g: dict) -> list[str]:
    """The return and funding figures (optimizer/cfo.py) in words; a figure that is None is left out."""
    said, parts = [], []
    if g.get("irr_project_per_yr") is not None:
        parts.append(f"returns {g['irr_project_per_yr']:.1%}/yr (IRR)")
    if g.get("moic_project") is not None:
        parts.append(f"{g['moic_project']:.2f}x its outlay")
    if g.get("payback_quarter"):
        parts.append(f"pays back by {g['payback_quarter']}")
    if g.get("peak_funding_usd"):
        parts.append(f"needs {money(g['peak_funding_usd'])} at its peak ({g['peak_funding_quarter']})")
    if parts:
        said.append("Unlevered, the project " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "")
                    + parts[-1] + ".")
    if g.get("irr_equity_per_yr") is not None:
        said.append(f"Equity earns {g['irr_equity_per_yr']:.1%}/yr.")
    if g.get("min_dscr") is not None:
        said.append(f"The lowest debt service coverage is {g['min_dscr']:.2f}x ({g['min_dscr_quarter']}).")
    return said


def assumption_sentences(plan: Plan) -> str:
    """The key assumptions in words: BTC price, hashprice path, lease rate, discount rates, carbon."""
    d = plan.data
    sc, quarters = d.base, list(d.quarters)
    hashprice = quarter_table(sc, quarters)["hashprice_usd_per_ph_day"]
    halving = getattr(sc, "first_halving_quarter", None)
    after = f", ${hashprice[halving]:.1f} after the {halving} halving" if halving in hashprice.index else ""
    network = ("network hashrate answering to the hashprice" if getattr(sc, "hashrate_feedback", 0)
               else f"network hashrate {sc.hashrate_growth_per_yr:+.0%}/yr")
    said = [f"BTC ${sc.btc_price_usd_2026:,.0f} in 2026, {sc.btc_price_growth_per_yr:+.0%}/yr; hashprice "
            f"${hashprice.iloc[0]:.1f}/PH/day in {quarters[0]}{after}, ${hashprice.iloc[-1]:.1f} in "
            f"{quarters[-1]} ({network}).",
            f"AI leases at ${sc.lease_usd_per_kw_month:,.0f}/kW-month, {sc.lease_escalator_per_yr:+.1%}/yr.",
            f"Discount rate {sc.discount_rate_per_yr:.1%}/yr; project debt at {sc.project_debt_rate_per_yr:.1%}/yr"
            + (f"; cost of equity {sc.cost_of_equity_per_yr:.1%}/yr" if hasattr(sc, "cost_of_equity_per_yr") else "")
            + f"; tax rate {sc.tax_rate:.0%}; carbon price ${sc.carbon_price_usd_per_t:,.0f}/tCO2."]
    if len(d.scenarios) > 1:
        said.append(f"Figures are for scenario {d.scenarios[0]}; the value is the expectation over "
                    f"{', '.join(f'{w} ({d.probability[w]:.0%})' for w in d.scenarios)}.")
    said.append("Every value used is on the Assumptions sheet.")
    return " ".join(said)


def run_sheet(book, plan: Plan, manifest: dict | None, f: Formats) -> tuple:
    """Every KPI (solver figures included: bound, gaps, sizes, times) and the run manifest below it."""
    kpis = pd.DataFrame({"kpi": list(plan.kpis), "value": list(plan.kpis.values())})
    first, rows = write_table(book, "Run", kpis[["kpi"]], f)
    ws = book.get_worksheet_by_name("Run")
    ws.write_string(0, 1, "value", f.header[NEUTRAL])
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 24)
    for i, (key, value) in enumerate(zip(kpis["kpi"], kpis["value"]), start=first):
        write_cells(ws, i, 1, [value if not isinstance(value, (dict, list, tuple)) else str(value)], f.of(key))
    end = first + rows
    if manifest:
        ws.write_string(end + 1, 0, "run manifest", f.title)
        record = manifest_rows(manifest)
        for i, (key, value) in enumerate(record, start=end + 2):
            ws.write_string(i, 0, key)
            plain = isinstance(value, (int, str)) or value is None or (isinstance(value, float) and math.isfinite(value))
            write_cells(ws, i, 1, [value if plain else str(value)], f.of(key))
        end += 2 + len(record)
    return (0, 0, end - 1, 1), None


# ---------------------------------------------------------------------------------------------- P&L

LINE_WORDS = MappingProxyType({
    "flexibility_revenue_usd": "Flexibility credits", "power_resale_usd": "Power resold",
    "asic_salvage_usd": "ASIC sale proceeds", "depreciation_usd": "Tax depreciation",
    "depreciation_addback_usd": "Add back: tax depreciation", "ebitda_usd": "EBITDA",
    "net_income_usd": "Net income", "free_cash_flow_usd": "Free cash flow (before debt principal and equity)",
    "ai_capex_usd": "AI hall capex", "site_opening_usd": "Site opening", "certificate_cost_usd": "Certificates"})
def pnl_sheet(book, plan: Plan, pnl: pd.DataFrame, uses: pd.DataFrame, f: Formats) -> tuple:
    """The yearly P&L (optimizer/cfo.py pnl_by_year: lines down, years across, costs negative) with a total
    column, each subtotal a formula: the subtotal above plus the lines between (all-zero lines left out);
    then Sources & Uses over the horizon, each side totalled by a formula."""
    ws = human_sheet(book, "P&L", label_width=46)
    ws.write_string(0, 1, "P&L and free cash flow by year (expected over scenarios), USD", f.title)
    years = list(pnl.columns)
    shown = [key for key in pnl.index if key in cfo.SUBTOTALS or (pnl.loc[key].abs() > 0.5).any()]
    row = write_lines(ws, 2, [], f, header=["USD", *years, "Total"])
    first, above = row, None  # first row of the block; row of the subtotal above
    total_col = xl_col_to_name(1 + len(years))
    for key in shown:
        values = pnl.loc[key].tolist()
        if key in cfo.SUBTOTALS:
            cells = [(subtotal_formula(j, first, row, above), v) for j, v in enumerate(values, start=2)]
        else:
            cells = list(values)
        cells.append((f"=SUM(C{row + 1}:{total_col}{row + 1})", float(sum(values))))
        write_lines(ws, row, [(str(key), LINE_WORDS.get(key) or words(key), cells)], f, totals=cfo.SUBTOTALS)
        if key in cfo.SUBTOTALS:
            first, above = row + 1, row
        row += 1
    end = sources_uses(ws, row + 2, uses, f)
    return (0, 1, end - 1, 2 + len(years)), None


def subtotal_formula(j: int, first: int, row: int, above: int | None) -> str:
    """=the subtotal above + SUM(the lines between it and this row), in column j."""
    c = xl_col_to_name(j)
    between = f"SUM({c}{first + 1}:{c}{row})" if row > first else "0"
    return f"={c}{above + 1}+{between}" if above is not None else f"={between}"


def sources_uses(ws, row: int, uses: pd.DataFrame, f: Formats) -> int:
    """Sources (label in B, amount in C) and uses (label merged over E:G, amount in H) side by side, each
    with a total formula; the two totals are equal (optimizer/cfo.py sources_and_uses). Returns the next
    free row."""
    ws.write_string(row, 1, "Sources and uses over the horizon (expected over scenarios)", f.section)
    top, ends, usd = row + 1, [], f.of("amount_usd")
    for side, head, label_col, value_col in (("sources", "Sources", 1, 2), ("uses", "Uses", 4, 7)):
        items = uses[uses["side"] == side]

        def caption(r, text, fmt):
            ws.write_string(r, 0, "amount_usd")  # the unit of the row's amounts
            if value_col - label_col > 1:
                ws.merge_range(r, label_col, r, value_col - 1, text, fmt)
            else:
                ws.write_string(r, label_col, text, fmt)

        caption(top, head, f.header[NEUTRAL])
        for r, (item, amount) in enumerate(zip(items["item"], items["amount_usd"]), start=top + 1):
            caption(r, item, None)
            write_cells(ws, r, value_col, [amount], usd)
        end = top + 1 + len(items)
        col = xl_col_to_name(value_col)
        caption(end, f"Total {side}", f.bold)
        ws.write_formula(end, value_col, f"=SUM({col}{top + 2}:{col}{end})", f.of("amount_usd", bold=True),
                         float(items["amount_usd"].sum()))
        ends.append(end)
    return max(ends) + 1


# ---------------------------------------------------------------------------------------------- Portfolio

def value_bridge(plan: Plan) -> list[tuple[str, str, float]]:
    """(key, label, USD) from operating NPV by site to the objective, expected over scenarios:

        sum_s operating_s                            (optimizer/by_site.py)
        + carbon and certificate costs               sum df * -(carbon + certificates)
        + other operating and capex flows            sum df * (operating + capex lines) - the two rows above
        apv:     + taxes as if unlevered             sum df * (UFCF - operating - capex)
                 + interest tax shields              sum df_d * TS
                 - equity issuance costs             sum df * issuance
        levered: + taxes, + financing                sum df * lines of the category
        = npv_usd (the objective's value, its tie-break on idle debt added back)
    """
    d, c = plan.data, plan.cashflow
    p, df = c["scenario"].map(d.probability), c["discount_factor"]
    pv = lambda amount, factor=df: float((p * amount * factor).sum())  # noqa: E731
    signed = lambda cats: sum(line.sign * c[line.name] for line in plan.cash_lines  # noqa: E731
                              if line.category in cats and line.in_npv)
    operating_capex = signed(("operating", "capex"))
    sites = sum(d.probability[w] * operating_npv_usd(plan, w) for w in d.scenarios)
    rows = [(f"site_operating_npv_usd:{s}", s, float(v)) for s, v in sites.items()]
    carbon = pv(-(c.get("carbon_cost_usd", 0.0) + c.get("certificate_cost_usd", 0.0)))
    rows += [("carbon_npv_usd", "Carbon and certificate costs (portfolio)", carbon),
             ("unassigned_npv_usd", "Other operating and capex flows, not by site",
              pv(operating_capex) - float(sites.sum()) - carbon)]
    if valuation(plan) == "apv":
        rows += [("unlevered_tax_npv_usd", "Taxes, as if unlevered",
                  pv(c["unlevered_free_cash_flow_usd"] - operating_capex)),
                 ("tax_shield_npv_usd", "Interest tax shields (at the cost of debt)",
                  pv(c["interest_tax_shield_usd"], c["debt_discount_factor"])),
                 ("issuance_npv_usd", "Equity issuance costs", pv(-c["equity_issuance_cost_usd"]))]
    else:
        rows += [("tax_npv_usd", "Taxes", pv(signed(("tax",)))),
                 ("financing_npv_usd", "Financing: debt, interest and issuance costs", pv(signed(("financing",))))]
    return rows


def portfolio(book, plan: Plan, f: Formats) -> tuple:
    """Site x year IT MW by use; operating NPV by site reconciled to the plan's value, with a bar chart;
    the MW-by-use chart; then, not printed: idle grid MW by site and year and why, and the chart's data."""
    ws = human_sheet(book, "Portfolio", label_width=44, value_width=9, columns=11)
    ws.set_column(2, 2, 16)
    years = site_years(plan.schedule)
    ws.write_string(0, 1, f"IT MW by use per site, yearly average (scenario {plan.data.scenarios[0]})", f.section)
    header = sorted(years["year"].unique())
    ws.write_string(1, 1, "Site", f.header[NEUTRAL])
    ws.write_string(1, 2, "Use", f.header[NEUTRAL])
    for j, year in enumerate(header, start=3):
        ws.write_number(1, j, year, f.header[NEUTRAL])
    row, mw = 2, f.of("it_mw")
    for use, text in (("mining_it_mw", "Mining IT MW"), ("ai_it_mw_leased", "AI IT MW leased")):
        wide = years.pivot_table(index="site", columns="year", values=use, sort=False)
        for site, values in wide.iterrows():
            ws.write_string(row, 0, f"{use}_avg")
            ws.write_string(row, 1, str(site))
            ws.write_string(row, 2, text)
            for j, v in enumerate(values.tolist(), start=3):
                write_cells(ws, row, j, [v], mw)
            row += 1
    top = row + 1
    ws.write_string(top, 1, "Operating NPV by site, and the portfolio to the plan's value", f.section)
    ws.write_string(top + 1, 1, "Site or portfolio line", f.header[NEUTRAL])
    ws.write_string(top + 1, 2, "Present value", f.header[NEUTRAL])
    bridge, n_sites, first = value_bridge(plan), len(plan.data.sites), top + 2
    lines = [(key.split(":")[0], text, [value]) for key, text, value in bridge]
    end = write_lines(ws, first, lines[:n_sites], f, titled=False)
    sites_total = (f"=SUM(C{first + 1}:C{end})", sum(v for _, _, v in bridge[:n_sites]))
    end = write_lines(ws, end, [("sites_operating_npv_usd", "Sites' operating NPV", [sites_total])], f,
                      totals=("sites_operating_npv_usd",))
    end = write_lines(ws, end, lines[n_sites:], f)
    total = (f"=C{first + n_sites + 1}+SUM(C{first + n_sites + 2}:C{end})", sum(v for _, _, v in bridge))
    end = write_lines(ws, end, [("npv_usd", "Total: the plan's value (the objective)", [total])], f,
                      totals=("npv_usd",))
    bars = book.add_chart({"type": "bar"})
    bars.add_series({"name": "Operating NPV", "categories": ["Portfolio", first, 1, first + n_sites - 1, 1],
                     "values": ["Portfolio", first, 2, first + n_sites - 1, 2], "fill": {"color": LEASED}})
    bars.set_title({"name": "Operating NPV by site ($M)"})
    bars.set_x_axis({"num_format": '$#,##0,,"M"'})
    bars.set_y_axis({"reverse": True})
    bars.set_legend({"none": True})
    bars.set_size({"width": 620, "height": 20 * (end - top)})
    ws.insert_chart(top, 4, bars)
    chart_top, idle_top = end + 1, end + 23
    ws.write_string(idle_top - 1, 1, "Idle grid MW by site and year, and why (quarterly average; not printed)",
                    f.section)
    idle = idle_by_site_year(plan.schedule, plan.data)
    i0, ni = write_table(book, "Portfolio", idle, f, row=idle_top, col=1, freeze=False, widths=False)
    data_top = i0 + ni + 2
    ws.write_string(data_top - 1, 1, "Chart data: portfolio IT MW by use per quarter (not printed)", f.note)
    quarters = quarterly_use(plan)
    q0, nq = write_table(book, "Portfolio", quarters, f, row=data_top, col=1, freeze=False, widths=False)
    chart = book.add_chart({"type": "column", "subtype": "stacked"})
    for j, (column, title, colour) in enumerate(USE_COLUMNS, start=2):
        chart.add_series({"name": title, "categories": ["Portfolio", q0, 1, q0 + nq - 1, 1],
                          "values": ["Portfolio", q0, j, q0 + nq - 1, j], "fill": {"color": colour}, "gap": 40})
    chart.set_title({"name": "Portfolio IT MW by use per quarter"})
    chart.set_y_axis({"name": "IT MW", "num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 1040, "height": 400})
    ws.insert_chart(chart_top, 1, chart)
    return (0, 1, idle_top - 3, 2 + len(header)), "idle MW by site and year, below the charts, is not printed"


def quarterly_use(plan: Plan) -> pd.DataFrame:
    """Portfolio IT MW by use per quarter (first scenario): the stacked chart's data."""
    s = plan.schedule[plan.schedule["scenario"] == plan.data.scenarios[0]]
    q = s.groupby("quarter", sort=False)[["mining_it_mw", "ai_it_mw_under_construction", "ai_it_mw_online",
                                          "ai_it_mw_leased"]].sum()
    q["ai_it_mw_online_unleased"] = (q["ai_it_mw_online"] - q["ai_it_mw_leased"]).clip(lower=0)
    return q[[c for c, _, _ in USE_COLUMNS]].reset_index()


def timeline(book, plan: Plan, f: Formats) -> tuple:
    """One row per hall: construction quarters shaded yellow, online (ramping) light blue, leased blue.
    Row 0 (hidden) names the columns; row 1 says them in words."""
    builds = plan.builds
    ws = book.add_worksheet("Timeline")
    start, end = ordinal(plan.data.quarters[0]), ordinal(plan.data.quarters[-1])
    heads = (("hall", "Hall"), ("start_quarter", "Construction Starts"), ("online_quarter", "Online"),
             ("fully_billed_quarter", "Fully Billed"), ("it_mw", "IT MW"))
    for j, (key, text) in enumerate(heads):
        ws.write_string(0, j, key)
        ws.write_string(1, j, text, f.header[AI])
    for k in range(start, end + 1):
        ws.write_string(1, len(heads) + k - start, label(k), f.vertical)
    ws.set_row(0, None, None, {"hidden": True})
    ws.set_row(1, 48)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 3, 12)
    ws.set_column(4, 4, 7, f.of("it_mw"))
    ws.set_column(len(heads), len(heads) + end - start, 4.2)
    ws.freeze_panes(2, 1)
    for i, b in enumerate(builds.itertuples(), start=2):
        for j, value in enumerate((b.hall, b.start_quarter, b.online_quarter, b.fully_billed_quarter)):
            ws.write_string(i, j, str(value))
        ws.write_number(i, 4, b.it_mw, f.of("it_mw"))
        s0, on, billed = ordinal(b.start_quarter), ordinal(b.online_quarter), ordinal(b.fully_billed_quarter)
        for k in range(max(s0, start), end + 1):
            state = "building" if k < on else "online" if k < billed else "leased"
            ws.write_blank(i, len(heads) + k - start, None, f.bands[state])
    row = len(builds) + 3
    for j, (state, text) in enumerate((("building", "under construction"),
                                       ("online", "online: first quarter, 50% billed"), ("leased", "fully billed"))):
        ws.write_blank(row + j, 0, None, f.bands[state])
        ws.write_string(row + j, 1, text)
    return (0, 0, row + 2, len(heads) + end - start), None


# ---------------------------------------------------------------------------------------------- CashFlow

def cashflow(book, plan: Plan, f: Formats) -> tuple:
    """The CashFlow table with live formulas (and cached values), the value block and a cash/debt chart;
    prints the value block and the chart."""
    flows = plan.cashflow
    first, rows = write_table(book, "CashFlow", flows, f)
    ws = book.get_worksheet_by_name("CashFlow")
    col = {name: j for j, name in enumerate(flows.columns)}
    cell = lambda r, name: xl_rowcol_to_cell(r, col[name])  # noqa: E731
    lines = [line for line in plan.cash_lines if line.name in col]
    levered = valuation(plan) != "apv"
    usd = f.number(MONEY_M)

    def signed(r, npv_only, categories=None):
        return "".join(f"{'+' if line.sign > 0 else '-'}{cell(r, line.name)}" for line in lines
                       if (line.in_npv or not npv_only) and (categories is None or line.category in categories))

    opening = {w: plan.data.scenario_values[w].opening_cash_usd for w in plan.data.scenarios}
    for i, row in enumerate(flows.itertuples(index=False)):
        r = first + i
        values = row._asdict()
        continued = bool(i) and flows["scenario"].iat[i - 1] == values["scenario"]  # the row above: same scenario
        ws.write_formula(r, col["net_cash_flow_usd"], f"={signed(r, True)}", usd, values["net_cash_flow_usd"])
        ws.write_formula(r, col["cash_change_usd"], f"={signed(r, False)}", usd, values["cash_change_usd"])
        if levered:
            ws.write_formula(r, col["discounted_cash_flow_usd"],
                             f"={cell(r, 'net_cash_flow_usd')}*{cell(r, 'discount_factor')}", usd,
                             values["discounted_cash_flow_usd"])
        else:  # objective.py N2: UFCF = unlevered lines - TS - tau * rho_r/4 * BR[j-1]; after T: - tau * interest
            sc = plan.data.scenario_values[values["scenario"]]
            saved = (f"{cell(r, 'interest_tax_shield_usd')}"
                     + (f"+{sc.tax_rate * sc.revolver_rate_per_yr / 4!r}*{cell(r - 1, 'revolver_balance_usd')}"
                        if continued else "") if values["period"] == "horizon"
                     else f"{sc.tax_rate!r}*{cell(r, 'interest_usd')}")
            ws.write_formula(r, col["unlevered_free_cash_flow_usd"], f"={signed(r, True, UNLEVERED)}-({saved})", usd,
                             values["unlevered_free_cash_flow_usd"])
            ws.write_formula(r, col["discounted_cash_flow_usd"],
                             f"=({cell(r, 'unlevered_free_cash_flow_usd')}-{cell(r, 'equity_issuance_cost_usd')})"
                             f"*{cell(r, 'discount_factor')}+{cell(r, 'interest_tax_shield_usd')}"
                             f"*{cell(r, 'debt_discount_factor')}", usd, values["discounted_cash_flow_usd"])
        if values["period"] == "horizon":
            before = cell(r - 1, 'cash_balance_usd') if continued else repr(float(opening[values["scenario"]]))
            ws.write_formula(r, col["cash_balance_usd"], f"={before}+{cell(r, 'cash_change_usd')}", usd,
                             values["cash_balance_usd"])
    last = first + rows - 1
    top = last + 2
    scen, disc = xl_col_to_name(col["scenario"]), xl_col_to_name(col["discounted_cash_flow_usd"])
    npv = {w: float(flows.loc[flows["scenario"] == w, "discounted_cash_flow_usd"].sum())
           for w in plan.data.scenarios}
    terms = []
    bold, ratio = f.number(MONEY_M, bold=True), f.of("probability")
    for k, w in enumerate(plan.data.scenarios):
        r = top + k
        ws.write_string(r, 0, f"NPV {w}", f.bold)
        ws.write_number(r, 1, plan.data.probability[w], ratio)
        ws.write_formula(r, 2, f'=SUMIF(${scen}${first + 1}:${scen}${last + 1},"{w}",${disc}${first + 1}:${disc}${last + 1})',
                         bold, npv[w])
        terms.append(f"B{r + 1}*C{r + 1}")
    r = top + len(plan.data.scenarios)
    expected = sum(plan.data.probability[w] * npv[w] for w in plan.data.scenarios)
    ws.write_string(r, 0, "NPV (expected)", f.bold)
    ws.write_formula(r, 2, "=" + "+".join(terms), bold, expected)
    ws.write_string(r + 1, 0, "objective (optimizer)")
    ws.write_number(r + 1, 2, plan.kpis["npv_usd"], usd)
    ws.write_string(r + 2, 0, "difference")
    ws.write_formula(r + 2, 2, f"=C{r + 1}-C{r + 2}", usd, expected - plan.kpis["npv_usd"])
    ws.write_string(r + 3, 0, "Edit any line above and the flows, balances and NPV follow (net, change, balance, "
                              "discounted and NPV cells are formulas).", f.note)
    horizon = int((flows["period"] == "horizon").sum()) if len(plan.data.scenarios) == 1 else len(plan.data.quarters)
    chart = book.add_chart({"type": "line"})
    for name, title, colour in (("cash_balance_usd", "Cash balance", "#548235"),
                                ("project_debt_balance_usd", "Project debt", "#C00000"),
                                ("revolver_balance_usd", "Revolver", "#7030A0")):
        chart.add_series({"name": title, "categories": ["CashFlow", first, 0, first + horizon - 1, 0],
                          "values": ["CashFlow", first, col[name], first + horizon - 1, col[name]],
                          "line": {"color": colour, "width": 2.25}})
    chart.set_title({"name": "Cash balance and debt per quarter"})
    chart.set_y_axis({"num_format": '$#,##0,,"M"'})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 860, "height": 360})
    ws.insert_chart(r + 5, 0, chart)
    return ((top, 0, r + 24, 9), f"the quarterly table above (rows 1-{last + 1}) is not printed; the P&L "
                                 "sheet prints it by year")


def emissions(book, plan: Plan, f: Formats) -> tuple:
    """Site x quarter emissions, the yearly table beside it and a chart of emissions against the cap, the
    cap drawn in the years that have one; prints the yearly table and the chart."""
    write_table(book, "Emissions", plan.emissions, f)
    col = len(plan.emissions.columns) + 1
    annual = plan.emissions_by_year.sort_values(["scenario", "year"], kind="stable",
                                                key=lambda s: s.map({w: i for i, w in enumerate(plan.data.scenarios)})
                                                if s.name == "scenario" else s)
    first, rows = write_table(book, "Emissions", annual, f, col=col)
    names = list(annual.columns)
    shown = int((annual["scenario"] == plan.data.scenarios[0]).sum())  # the chart: first scenario
    ws = book.get_worksheet_by_name("Emissions")
    ws.set_column(col, col, 8, None)
    chart = book.add_chart({"type": "column"})
    for name, title, colour in (("location_tco2", "Location-based emissions", "#A5A5A5"),
                                ("market_tco2", "Market-based emissions", "#ED7D31")):
        j = col + names.index(name)
        chart.add_series({"name": title, "categories": ["Emissions", first, col, first + shown - 1, col],
                          "values": ["Emissions", first, j, first + shown - 1, j], "fill": {"color": colour}})
    capped = annual["cap_tco2"].head(shown).notna()
    if capped.any():
        cap = book.add_chart({"type": "line"})
        j = col + names.index("cap_tco2")
        cap.add_series({"name": "Emissions cap", "categories": ["Emissions", first, col, first + shown - 1, col],
                        "values": ["Emissions", first, j, first + shown - 1, j],
                        "line": {"color": "black", "dash_type": "dash"},
                        "marker": {"type": "diamond", "size": 6, "fill": {"color": "black"}}})
        chart.combine(cap)
    chart.show_blanks_as("gap")
    title = "Emissions against the cap (tCO2 per year)" if capped.any() else "Emissions (tCO2 per year, no cap)"
    chart.set_title({"name": title})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 360})
    ws.insert_chart(rows + 3, col, chart)
    return ((0, col, rows + 22, col + len(names) - 1),
            f"the site x quarter table (columns A-{xl_col_to_name(col - 2)}) is not printed")


def inputs(book, plan: Plan, f: Formats) -> tuple:
    """Sites and Assumptions, laid out as editable inputs for `hashpivot solve --from`: in Sites each input
    header carries its field's meaning as a comment; the derived columns have grey headers and the comment
    "derived: recomputed on --from"; the derived_check fingerprint column is hidden. Returns their print
    areas."""
    sites = sites_sheet(plan, check=True)
    areas = [whole(write_table(book, "Sites", sites, f), len(sites.columns))]
    ws = book.get_worksheet_by_name("Sites")
    derived = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": DERIVED,
                               "font_color": "#404040", "border": 1})
    size = {"x_scale": 2.2, "y_scale": 1.5}
    for j, name in enumerate(sites.columns):
        if name in FIELDS_BY_NAME:
            field = FIELDS_BY_NAME[name]
            blank = f" Blank: {LOCATED_BLANK[name]}." if name in LOCATED_BLANK else ""
            ws.write_comment(0, j, f"input: {field.description}{blank} Allowed: {field.allowed()}.", size)
        elif name in DERIVED_MEANING:
            ws.write(0, j, name, derived)
            ws.write_comment(0, j, f"derived: recomputed on --from ({DERIVED_MEANING[name]}); edit the inputs "
                                   "instead: an edited derived cell is refused.", size)
        elif name == CHECK_COLUMN:
            ws.write(0, j, name, derived)
            ws.set_column(j, j, 14, None, {"hidden": True})
    table = assumptions_sheet(plan)
    areas.append(whole(write_table(book, "Assumptions", table, f), len(table.columns)))
    ws = book.get_worksheet_by_name("Assumptions")
    ws.set_column(table.columns.get_loc("value"), table.columns.get_loc("value"), 16)
    ws.set_column(table.columns.get_loc("description"), table.columns.get_loc("description"), 80)
    if plan.data.leases:  # the signed leases, an input read back on --from (sites/leases.py)
        write_table(book, LEASES_SHEET, lease_table(plan.data.leases), f)
    return tuple(areas)
