"""Exports: the `plan.xlsx` workbook and the JSON KPIs, each written to a temp file and moved into place.

Sheets: Summary (KPIs, solver status, gaps, timings, model size, MW by use by year), Schedule (site x
quarter), Builds (one row per hall), CashFlow (per quarter; NPV = sum of discounted_cash_flow_usd; debt,
interest, taxes, cash balance), Emissions (site x quarter location- and market-based tCO2; per year with
the cap and its slack), Marginals (value of one more secured MW per site-quarter; of the carbon cap per
year), Sites (the site table with derived build values), Assumptions (every scenario value, with units).
"""

import json
import math
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from optimizer.results import Plan
from sites.schema import SITE_FIELDS

SITE_DERIVED = ("lead_quarters", "capex_usd_per_it_mw", "mining_capacity_it_mw")


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temp path beside `path`; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(handle)
    try:
        yield Path(temp)
        os.chmod(temp, 0o644)  # mkstemp makes 0600 files; a plan is for reading
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def json_ready(value):
    """Plain JSON values: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def kpi_json(plan: Plan) -> str:
    return json.dumps(json_ready(plan.kpis), indent=None, sort_keys=False)


def sites_sheet(plan: Plan) -> pd.DataFrame:
    table = plan.data.sites.reset_index()
    return table[[f.name for f in SITE_FIELDS] + list(SITE_DERIVED)]


def assumptions_sheet(plan: Plan) -> pd.DataFrame:
    rows = []
    for w, scenario in plan.data.scenario_values.items():
        for row in scenario.describe():
            rows.append({"scenario": w, "probability": plan.data.probability[w], **row,
                         "value": str(row["value"]) if isinstance(row["value"], str) else row["value"]})
    return pd.DataFrame(rows)


def summary_sheet(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame({"kpi": list(plan.kpis), "value": [
        v if not (isinstance(v, float) and not math.isfinite(v)) else None for v in plan.kpis.values()]})


def write_workbook(plan: Plan, path: str | Path) -> Path:
    """Write plan.xlsx atomically; returns the path."""
    return write_sheets(path, {
        "Summary": [summary_sheet(plan), plan.by_year],
        "Schedule": [plan.schedule],
        "Builds": [plan.builds],
        "CashFlow": [plan.cashflow],
        "Emissions": [plan.emissions, plan.emissions_by_year],
        "Marginals": [plan.secured_mw_marginals, plan.carbon_cap_marginals],
        "Sites": [sites_sheet(plan)],
        "Assumptions": [assumptions_sheet(plan)],
    })


def write_sheets(path: str | Path, sheets: dict, images: dict | None = None) -> Path:
    """Write a workbook atomically: each sheet holds its tables side by side, one blank column apart;
    `images` maps a sheet name to a PNG inserted below its tables."""
    with atomic_path(path) as temp:
        with pd.ExcelWriter(temp, engine="xlsxwriter") as writer:
            book = writer.book
            header = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"})
            for name, frames in sheets.items():
                column = 0
                for frame in frames:
                    frame.to_excel(writer, sheet_name=name, index=False, startcol=column)
                    _format(writer.sheets[name], frame, book, header, first_column=column)
                    column += len(frame.columns) + 1
                if images and name in images:
                    rows = max((len(f) for f in frames), default=0)
                    writer.sheets[name].insert_image(rows + 3, 0, str(images[name]))
    return Path(path)


def write_json(text: str, path: str | Path) -> Path:
    with atomic_path(path) as temp:
        Path(temp).write_text(text + "\n")
    return Path(path)


def _format(sheet, frame: pd.DataFrame, book, header, first_column: int = 0) -> None:
    """Header style, frozen header row, widths and number formats by unit suffix."""
    money = book.add_format({"num_format": "#,##0"})
    mw = book.add_format({"num_format": "#,##0.0"})
    ratio = book.add_format({"num_format": "0.0000"})
    sheet.freeze_panes(1, 0)
    for col, name in enumerate(frame.columns, start=first_column):
        sheet.write(0, col, name, header)
        fmt = None
        if name.endswith("_usd"):
            fmt = money
        elif name.endswith(("_mw", "_tco2", "_mw_avg", "_mw_end", "_mwh", "_per_mw", "_per_tco2")):
            fmt = mw
        elif name in ("discount_factor", "grid_tco2_per_mwh"):
            fmt = ratio
        sample = frame[name].head(100)
        longest = sample.map(lambda v: len(str(v))).max() if sample.dtype == object and len(sample) else 0
        width = max(10, min(40, max(len(str(name)) * 0.8, longest) + 2))
        sheet.set_column(col, col, width, fmt)
