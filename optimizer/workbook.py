"""`plan.xlsx`, the workbook a CFO reads: formatted tables, native charts and a live `CashFlow` sheet.

Sheets: Summary (KPIs, run manifest, MW by use by year), Portfolio (site x year MW by use; quarterly MW
by use; operating NPV by site; charts), Timeline (one row per hall, shaded from construction start to
online to leased), Schedule, Builds, CashFlow (live formulas, chart), Emissions (chart), Marginals,
Sites and Assumptions (the inputs: `hashpivot solve --from plan.xlsx` reads them back; the derived Sites
columns, grey, are recomputed from them, see optimizer/plan_inputs.py).

CashFlow formulas over its own cells (cached values written too, so viewers that do not recalculate
show the optimizer's numbers):

    net_cash_flow_usd[r]        = sum_l sign_l * line_l[r]      (lines that count in the NPV)
    cash_change_usd[r]          = sum_l sign_l * line_l[r]      (every line)
    cash_balance_usd[r]         = cash_balance_usd[r-1] + cash_change_usd[r],  first: opening cash + change
    discounted_cash_flow_usd[r] = net_cash_flow_usd[r] * discount_factor[r]
    NPV                         = sum_w p_w * SUMIF(scenario = w, discounted_cash_flow_usd)
"""

import math
from pathlib import Path
from types import MappingProxyType

import pandas as pd
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from optimizer.export import assumptions_sheet, sites_sheet
from optimizer.plan_inputs import CHECK_COLUMN, DERIVED_MEANING
from sites.schema import FIELDS_BY_NAME
from optimizer.by_site import operating_npv_usd, site_years
from optimizer.manifest import manifest_rows
from optimizer.results import EMISSIONS_ONLY, Plan, idle_by_site_year
from kernel.atomic import atomic_path
from kernel.quarters import label, ordinal

MINING, AI, NEUTRAL = "#F8CBAD", "#BDD7EE", "#DDEBF7"
BUILDING, ONLINE, LEASED = "#FFD966", "#9DC3E6", "#2F75B5"
DERIVED = "#D9D9D9"  # Sites sheet: derived (output) columns
LOCATED_BLANK = MappingProxyType({"state": "the state the point lies in (state_located)",
                                  "egrid_subregion": "the subregion the point lies in (egrid_subregion_located)",
                                  "grid_tco2_per_mwh": "the eGRID2023 rate of the subregion (grid_tco2_per_mwh_located)"})
USE_COLUMNS = (("mining_it_mw", "mining IT MW", "#ED7D31"), ("ai_it_mw_under_construction", "AI IT MW building",
               BUILDING), ("ai_it_mw_online_unleased", "AI IT MW online, not leased", ONLINE),
               ("ai_it_mw_leased", "AI IT MW leased", LEASED))


class Formats:
    """The workbook's cell formats, made once per workbook."""

    def __init__(self, book):
        def fmt(**kw):
            return book.add_format(kw)
        self.header = {band: fmt(bold=True, text_wrap=True, valign="top", bg_color=band, border=1)
                       for band in (MINING, AI, NEUTRAL)}
        self.usd = fmt(num_format='$#,##0.0,,"M";[Red]-$#,##0.0,,"M"')
        self.mw = fmt(num_format="#,##0.0")
        self.tco2 = fmt(num_format="#,##0")
        self.ratio = fmt(num_format="0.0000")
        self.pct = fmt(num_format="0.000%")
        self.seconds = fmt(num_format="0.00")
        self.vertical = fmt(bold=True, rotation=90, bg_color=NEUTRAL, border=1, align="center")
        self.bold_usd = fmt(bold=True, num_format='$#,##0.0,,"M"', top=1)
        self.bold = fmt(bold=True)
        self.title = fmt(bold=True, font_size=13)
        self.note = fmt(italic=True, font_color="#595959")
        self.bands = {name: fmt(bg_color=colour) for name, colour in
                      (("building", BUILDING), ("online", ONLINE), ("leased", LEASED))}


def column_format(name: str, f: Formats):
    """Number format from the unit suffix of a column name."""
    if name.endswith("_usd") or name.endswith(("_usd_per_mw", "_usd_per_tco2", "_usd_per_it_mw")):
        return f.usd if name.endswith("_usd") else f.tco2
    if name.endswith(("_tco2", "_mwh")) or name == "tco2":
        return f.tco2
    if "_mw" in name or name.endswith(("_avg", "_end", "_ehs", "_ths", "_j_per_th")):
        return f.mw
    if name.endswith("gap") or name.endswith("_share"):
        return f.pct
    if name.endswith("_seconds"):
        return f.seconds
    if name in ("discount_factor", "grid_tco2_per_mwh", "probability"):
        return f.ratio
    return None


def band(name: str) -> str:
    """Header colour: mining columns orange, AI and lease columns blue, the rest neutral."""
    if name.startswith(("mining", "fleet", "asic", "flexibility", "idle_unprofitable")):
        return MINING
    if name.startswith(("ai_", "lease", "leased")):
        return AI
    return NEUTRAL


def write_table(writer, sheet: str, frame: pd.DataFrame, f: Formats, row: int = 0, col: int = 0,
                freeze: bool = True, unitless=None) -> tuple[int, int]:
    """A table at (row, col) with coloured headers, unit-based number formats and widths; returns its
    (first data row, number of rows); `unitless` formats the columns whose name carries no unit (years).
    Each number carries its column's format itself, so that a table written
    below another in the same columns cannot re-format it (a column format only reaches blank cells)."""
    frame.to_excel(writer, sheet_name=sheet, index=False, startrow=row, startcol=col)
    ws = writer.sheets[sheet]
    for j, name in enumerate(frame.columns, start=col):
        ws.write(row, j, name, f.header[band(str(name))])
        longest = frame[name].astype(str).str.len().head(200).max() if len(frame) else 0
        width = max(9, min(34, max(len(str(name)) * 0.75, (longest or 0) * 0.9) + 2))
        fmt = column_format(str(name), f) or unitless
        ws.set_column(j, j, width, fmt)
        if fmt is not None:
            for i, value in enumerate(frame[name], start=row + 1):
                if pd.api.types.is_number(value) and not isinstance(value, bool) and math.isfinite(value):
                    ws.write_number(i, j, value, fmt)
    if freeze and row == 0 and col == 0:
        ws.freeze_panes(1, 1)
    return row + 1, len(frame)


def write_workbook(plan: Plan, path: str | Path, manifest: dict | None = None) -> Path:
    """Write the plan workbook atomically; returns the path."""
    with atomic_path(path) as temp:
        with pd.ExcelWriter(temp, engine="xlsxwriter") as writer:
            f = Formats(writer.book)
            summary(writer, plan, manifest, f)
            portfolio(writer, plan, f)
            timeline(writer, plan, f)
            write_table(writer, "Schedule", plan.schedule.drop(columns=list(EMISSIONS_ONLY)), f)
            write_table(writer, "Builds", plan.builds, f)
            cashflow(writer, plan, f)
            emissions(writer, plan, f)
            write_table(writer, "Marginals", plan.secured_mw_marginals, f)
            write_table(writer, "Marginals", plan.carbon_cap_marginals, f, col=len(plan.secured_mw_marginals.columns) + 1)
            inputs(writer, plan, f)
            for name in ("Summary", "Portfolio", "Timeline", "CashFlow", "Emissions"):
                printable(writer.sheets[name])
    return Path(path)


def printable(ws) -> None:
    """Landscape, one page wide: the sheets a reader prints or renders to PDF."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)


def summary(writer, plan: Plan, manifest: dict | None, f: Formats) -> None:
    """KPIs (kpi, value), MW by use by year beside them, and the run manifest below the KPIs."""
    kpis = pd.DataFrame({"kpi": list(plan.kpis), "value": [None if isinstance(v, float) and v != v or
                                                            v in (float("inf"), float("-inf")) else v
                                                            for v in plan.kpis.values()]})
    write_table(writer, "Summary", kpis, f)
    ws = writer.sheets["Summary"]
    ws.set_column(1, 1, 22)
    for i, (key, value) in enumerate(zip(kpis["kpi"], kpis["value"]), start=1):
        fmt = column_format(key, f)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and fmt is not None:
            ws.write_number(i, 1, value, fmt)
    if plan.info.status != "optimal":
        ws.write(0, 3, f"NOT PROVEN OPTIMAL ({plan.info.status}): MIP gap {plan.info.mip_gap:.3%}", f.title)
    top = 2 if plan.info.status != "optimal" else 0
    write_table(writer, "Summary", plan.by_year, f, col=3, row=top)
    idle = idle_by_site_year(plan.schedule, plan.data)
    below = top + len(plan.by_year) + 3
    ws.write(below - 1, 3, "Idle grid MW by site and year, and why (quarterly average)", f.title)
    write_table(writer, "Summary", idle, f, col=3, row=below)
    if manifest:
        top = len(kpis) + 3
        ws.write(top - 1, 0, "run manifest", f.title)
        for i, (key, value) in enumerate(manifest_rows(manifest), start=top):
            ws.write(i, 0, key)
            plain = isinstance(value, (int, str)) or value is None or (isinstance(value, float) and math.isfinite(value))
            ws.write(i, 1, value if plain else str(value))


def quarterly_use(plan: Plan) -> pd.DataFrame:
    """Portfolio IT MW by use per quarter (first scenario): the stacked chart's data."""
    s = plan.schedule[plan.schedule["scenario"] == plan.data.scenarios[0]]
    q = s.groupby("quarter", sort=False)[["mining_it_mw", "ai_it_mw_under_construction", "ai_it_mw_online",
                                          "ai_it_mw_leased"]].sum()
    q["ai_it_mw_online_unleased"] = (q["ai_it_mw_online"] - q["ai_it_mw_leased"]).clip(lower=0)
    return q[[c for c, _, _ in USE_COLUMNS]].reset_index()


def portfolio(writer, plan: Plan, f: Formats) -> None:
    """Site x year MW by use, quarterly MW by use and NPV by site, with a stacked MW chart and an NPV bar."""
    years = site_years(plan.schedule)
    wide = years.pivot_table(index="site", columns="year", values=["mining_it_mw", "ai_it_mw_leased"],
                             sort=False)
    table = pd.concat({"mining_it_mw (avg)": wide["mining_it_mw"], "ai_it_mw_leased (avg)": wide["ai_it_mw_leased"]})
    table = table.reset_index().rename(columns={"level_0": "use"})
    table.columns = [str(c) for c in table.columns]
    first, rows = write_table(writer, "Portfolio", table, f, unitless=f.mw)  # site x year: MW
    ws = writer.sheets["Portfolio"]
    quarters = quarterly_use(plan)
    top = first + rows + 2
    ws.write(top - 1, 0, "Portfolio IT MW by use per quarter", f.title)
    q0, nq = write_table(writer, "Portfolio", quarters, f, row=top)
    npv = operating_npv_usd(plan).rename("operating_npv_usd").rename_axis("site").reset_index()
    ncol = len(quarters.columns) + 1
    ws.write(top - 1, ncol, "Operating NPV by site (before financing, taxes, carbon)", f.title)
    n0, nn = write_table(writer, "Portfolio", npv, f, row=top, col=ncol)
    chart = writer.book.add_chart({"type": "column", "subtype": "stacked"})
    for j, (column, title, colour) in enumerate(USE_COLUMNS, start=1):
        chart.add_series({"name": title, "categories": ["Portfolio", q0, 0, q0 + nq - 1, 0],
                          "values": ["Portfolio", q0, j, q0 + nq - 1, j], "fill": {"color": colour}, "gap": 40})
    chart.set_title({"name": "Portfolio IT MW by use per quarter"})
    chart.set_y_axis({"name": "IT MW", "num_format": "#,##0"})
    chart.set_size({"width": 900, "height": 380})
    ws.insert_chart(1, len(table.columns) + 1, chart)
    bars = writer.book.add_chart({"type": "bar"})
    bars.add_series({"name": "operating NPV", "categories": ["Portfolio", n0, ncol, n0 + nn - 1, ncol],
                     "values": ["Portfolio", n0, ncol + 1, n0 + nn - 1, ncol + 1], "fill": {"color": LEASED}})
    bars.set_title({"name": "Operating NPV by site ($M)"})
    bars.set_x_axis({"num_format": '$#,##0,,"M"'})
    bars.set_legend({"none": True})
    bars.set_size({"width": 620, "height": 380})
    ws.insert_chart(1, len(table.columns) + 16, bars)


def timeline(writer, plan: Plan, f: Formats) -> None:
    """One row per hall: construction quarters shaded yellow, online (ramping) light blue, leased blue."""
    builds = plan.builds
    ws = writer.book.add_worksheet("Timeline")
    writer.sheets["Timeline"] = ws
    start, end = ordinal(plan.data.quarters[0]), ordinal(plan.data.quarters[-1])
    heads = ["hall", "start_quarter", "online_quarter", "fully_billed_quarter", "it_mw"]
    for j, name in enumerate(heads):
        ws.write(0, j, name, f.header[AI])
    for k in range(start, end + 1):
        ws.write(0, len(heads) + k - start, label(k), f.vertical)
    ws.set_row(0, 48)
    ws.set_column(0, 0, 22)
    ws.set_column(1, 3, 17)
    ws.set_column(4, 4, 7, f.mw)
    ws.set_column(len(heads), len(heads) + end - start, 4.2)
    ws.freeze_panes(1, 1)
    for i, b in enumerate(builds.itertuples(), start=1):
        for j, value in enumerate((b.hall, b.start_quarter, b.online_quarter, b.fully_billed_quarter, b.it_mw)):
            ws.write(i, j, value)
        s0, on, billed = ordinal(b.start_quarter), ordinal(b.online_quarter), ordinal(b.fully_billed_quarter)
        for k in range(max(s0, start), end + 1):
            state = "building" if k < on else "online" if k < billed else "leased"
            ws.write_blank(i, len(heads) + k - start, None, f.bands[state])
    row = len(builds) + 2
    for j, (state, text) in enumerate((("building", "under construction"),
                                       ("online", "online: first quarter, 50% billed"), ("leased", "fully billed"))):
        ws.write_blank(row + j, 0, None, f.bands[state])
        ws.write(row + j, 1, text)


def cashflow(writer, plan: Plan, f: Formats) -> None:
    """The CashFlow table with live formulas (and cached values), the NPV block and a cash/debt chart."""
    flows = plan.cashflow
    first, rows = write_table(writer, "CashFlow", flows, f)
    ws = writer.sheets["CashFlow"]
    col = {name: j for j, name in enumerate(flows.columns)}
    cell = lambda r, name: xl_rowcol_to_cell(r, col[name])  # noqa: E731
    lines = [line for line in plan.cash_lines if line.name in col]

    def signed(r, npv_only):
        return "".join(f"{'+' if line.sign > 0 else '-'}{cell(r, line.name)}" for line in lines
                       if line.in_npv or not npv_only)

    opening = {w: plan.data.scenario_values[w].opening_cash_usd for w in plan.data.scenarios}
    for i, row in enumerate(flows.itertuples(index=False)):
        r = first + i
        values = row._asdict()
        ws.write_formula(r, col["net_cash_flow_usd"], f"={signed(r, True)}", f.usd, values["net_cash_flow_usd"])
        ws.write_formula(r, col["cash_change_usd"], f"={signed(r, False)}", f.usd, values["cash_change_usd"])
        ws.write_formula(r, col["discounted_cash_flow_usd"],
                         f"={cell(r, 'net_cash_flow_usd')}*{cell(r, 'discount_factor')}", f.usd,
                         values["discounted_cash_flow_usd"])
        if values["period"] == "horizon":
            before = (f"{cell(r - 1, 'cash_balance_usd')}" if i and flows.iloc[i - 1]["scenario"] == values["scenario"]
                      else repr(float(opening[values["scenario"]])))
            ws.write_formula(r, col["cash_balance_usd"], f"={before}+{cell(r, 'cash_change_usd')}", f.usd,
                             values["cash_balance_usd"])
    last = first + rows - 1
    top = last + 2
    scen, disc = xl_col_to_name(col["scenario"]), xl_col_to_name(col["discounted_cash_flow_usd"])
    npv = {w: float(flows.loc[flows["scenario"] == w, "discounted_cash_flow_usd"].sum())
           for w in plan.data.scenarios}
    terms = []
    for k, w in enumerate(plan.data.scenarios):
        r = top + k
        ws.write(r, 0, f"NPV {w}", f.bold)
        ws.write_number(r, 1, plan.data.probability[w], f.ratio)
        ws.write_formula(r, 2, f'=SUMIF(${scen}${first + 1}:${scen}${last + 1},"{w}",${disc}${first + 1}:${disc}${last + 1})',
                         f.bold_usd, npv[w])
        terms.append(f"B{r + 1}*C{r + 1}")
    r = top + len(plan.data.scenarios)
    expected = sum(plan.data.probability[w] * npv[w] for w in plan.data.scenarios)
    ws.write(r, 0, "NPV (expected)", f.bold)
    ws.write_formula(r, 2, "=" + "+".join(terms), f.bold_usd, expected)
    ws.write(r + 1, 0, "objective (optimizer)")
    ws.write_number(r + 1, 2, plan.kpis["npv_usd"], f.usd)
    ws.write(r + 2, 0, "difference")
    ws.write_formula(r + 2, 2, f"=C{r + 1}-C{r + 2}", f.usd, expected - plan.kpis["npv_usd"])
    ws.write(r + 3, 0, "Edit any line above and the flows, balances and NPV follow (net, change, balance, "
                       "discounted and NPV cells are formulas).", f.note)
    horizon = int((flows["period"] == "horizon").sum()) if len(plan.data.scenarios) == 1 else len(plan.data.quarters)
    chart = writer.book.add_chart({"type": "line"})
    for name, colour in (("cash_balance_usd", "#548235"), ("project_debt_balance_usd", "#C00000"),
                         ("revolver_balance_usd", "#7030A0")):
        chart.add_series({"name": name, "categories": ["CashFlow", first, 0, first + horizon - 1, 0],
                          "values": ["CashFlow", first, col[name], first + horizon - 1, col[name]],
                          "line": {"color": colour, "width": 2.25}})
    chart.set_title({"name": "Cash balance and debt per quarter"})
    chart.set_y_axis({"num_format": '$#,##0,,"M"'})
    chart.set_size({"width": 860, "height": 360})
    ws.insert_chart(r + 5, 0, chart)


def emissions(writer, plan: Plan, f: Formats) -> None:
    """Site x quarter emissions, the yearly table beside it and a chart of emissions against the cap."""
    write_table(writer, "Emissions", plan.emissions, f)
    col = len(plan.emissions.columns) + 1
    first, rows = write_table(writer, "Emissions", plan.emissions_by_year, f, col=col)
    names = list(plan.emissions_by_year.columns)
    chart = writer.book.add_chart({"type": "column"})
    for name, colour in (("location_tco2", "#A5A5A5"), ("market_tco2", "#ED7D31")):
        j = col + names.index(name)
        chart.add_series({"name": name, "categories": ["Emissions", first, col, first + rows - 1, col],
                          "values": ["Emissions", first, j, first + rows - 1, j], "fill": {"color": colour}})
    if plan.emissions_by_year["cap_tco2"].notna().any():
        cap = writer.book.add_chart({"type": "line"})
        j = col + names.index("cap_tco2")
        cap.add_series({"name": "cap_tco2", "categories": ["Emissions", first, col, first + rows - 1, col],
                        "values": ["Emissions", first, j, first + rows - 1, j], "line": {"color": "black", "dash_type": "dash"}})
        chart.combine(cap)
    chart.set_title({"name": "Emissions against the cap (tCO2 per year)"})
    chart.set_y_axis({"num_format": "#,##0"})
    chart.set_size({"width": 760, "height": 360})
    writer.sheets["Emissions"].insert_chart(rows + 3, col, chart)


def inputs(writer, plan: Plan, f: Formats) -> None:
    """Sites and Assumptions, laid out as editable inputs for `hashpivot solve --from`: in Sites each input
    header carries its field's meaning as a comment; the derived columns have grey headers and the comment
    "derived: recomputed on --from"; the derived_check fingerprint column is hidden."""
    sites = sites_sheet(plan, check=True)
    write_table(writer, "Sites", sites, f)
    ws = writer.sheets["Sites"]
    derived = writer.book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": DERIVED,
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
    write_table(writer, "Assumptions", table, f)
    ws = writer.sheets["Assumptions"]
    ws.set_column(table.columns.get_loc("value"), table.columns.get_loc("value"), 16)
    ws.set_column(table.columns.get_loc("description"), table.columns.get_loc("description"), 80)
