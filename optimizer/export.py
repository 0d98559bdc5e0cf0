"""Exports other than the plan workbook (optimizer/workbook.py): JSON KPIs, plain multi-sheet workbooks,
the plan's tables as CSV or Parquet files, each written to a temp name and moved into place; and what
every workbook shares: the number format of a column from the unit in its name, and its label in words.

A name's unit is its last unit token (`_usd`, `_mw`, `_tco2_per_mwh`, ...), which may be followed by
qualifier words (`ai_it_mw_leased_end` is MW) but not by a number (`btc_price_usd_2026` is a price per
BTC, not a sum of dollars: no format).
"""

import json
import math
import os
import re
import shutil
import tempfile
from types import MappingProxyType
from pathlib import Path

import pandas as pd

from optimizer.plan_inputs import BUILD_DERIVED, CHECK_COLUMN, SITE_DERIVED, derived_check, derived_values, \
    input_values
from optimizer.results import Plan
from kernel.atomic import atomic_path
from sites.schema import SITE_FIELDS


MONEY_M = '$#,##0.0,,"M";[Red]-$#,##0.0,,"M"'
PERCENT = "0.00%"
MULTIPLE = '0.00"x"'
UNIT_FORMATS = (  # (unit token, Excel number format), compound units first
    ("usd_per_mw", "$#,##0"), ("usd_per_it_mw", "$#,##0"), ("usd_per_[a-z0-9_]+", "$#,##0.00"),
    ("tco2_per_mwh", "0.000"), ("j_per_th", "0.0"), ("per_yr", PERCENT), ("discount_factor", "0.0000"),
    ("usd", MONEY_M), ("tco2", "#,##0"), ("mwh", "#,##0"), ("mw", "#,##0.0"), ("ehs", "#,##0.0"), ("ths", "#,##0"),
    ("share", PERCENT), ("gap", PERCENT), ("rate", PERCENT), ("irr", PERCENT), ("probability", PERCENT),
    ("dscr", MULTIPLE), ("moic", MULTIPLE), ("seconds", "0.00"), ("quarters", "0"), ("years", "0.0"))
_UNIT = re.compile("(?:^|_)(" + "|".join(token for token, _ in UNIT_FORMATS) + ")(?=_[a-z]|$)")
_FORMAT = tuple((re.compile(token + "$"), fmt) for token, fmt in UNIT_FORMATS)
WORDS = MappingProxyType({"ai": "AI", "it": "IT", "mw": "MW", "mwh": "MWh", "asic": "ASIC", "asics": "ASICs", "npv": "NPV",
         "apv": "APV", "irr": "IRR", "btc": "BTC", "dscr": "DSCR", "moic": "MOIC", "ehs": "EH/s", "ths": "TH/s",
         "tco2": "tCO2", "ebitda": "EBITDA", "lp": "LP", "mip": "MIP", "hpc": "HPC", "co2": "CO2", "j": "J",
         "th": "TH", "ph": "PH", "kw": "kW", "ufcf": "UFCF", "fcf": "FCF", "usd": "USD"})
LOWER = frozenset({"of", "and", "by", "per", "at", "the", "to", "in", "on", "a", "or", "for", "as", "not", "from"})
QUALIFIERS = MappingProxyType({"avg": "(avg)", "end": "(end)", "start": "(start)", "max": "(max)", "min": "(min)"})


def unit(name: str) -> str | None:
    """The unit token of a column name (the last one), or None."""
    found = _UNIT.findall(str(name))
    return found[-1] if found else None


def number_format(name: str) -> str | None:
    """Excel number format of a column from its unit: $M for _usd, one decimal for _mw and _ehs, whole tCO2,
    three decimals for tCO2/MWh, % for shares, rates and gaps, ...; None (General) without a unit."""
    token = unit(name)
    if token is None:
        return None
    return next(fmt for pattern, fmt in _FORMAT if pattern.match(token))


def words(name: str) -> str:
    """A column name in Title Case words: `ai_it_mw_leased_end` -> 'AI IT MW Leased (end)'; the `_usd`
    unit is dropped (the $M format shows it)."""
    parts = [p for p in str(name).split("_") if p]
    if parts and parts[-1] == "usd":
        parts = parts[:-1]
    tail = QUALIFIERS.get(parts[-1]) if len(parts) > 1 else None
    parts = parts[:-1] if tail else parts
    out = [WORDS.get(p) or (p if i and p in LOWER else p[:1].upper() + p[1:]) for i, p in enumerate(parts)]
    return " ".join(out + ([tail] if tail else []))


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


def sites_sheet(plan: Plan, check: bool = False) -> pd.DataFrame:
    """One row per site: the site fields as inputs (state, egrid_subregion, grid_tco2_per_mwh blank where
    the location gives them), then the derived columns (optimizer/plan_inputs.py); with `check`, the
    `derived_check` fingerprint of each row's derived cells (the workbook's hidden column)."""
    sites = plan.data.sites
    derived = derived_values(sites, plan.data.base)
    derived[list(BUILD_DERIVED)] = sites[list(BUILD_DERIVED)]  # what the model used
    fields = [f.name for f in SITE_FIELDS if f.name != "name"]
    table = pd.concat([input_values(sites, derived)[fields], derived[list(SITE_DERIVED)]], axis=1)
    table = table.rename_axis("name").reset_index()
    if check:
        table[CHECK_COLUMN] = [derived_check(row) for row in table[list(SITE_DERIVED)].itertuples(index=False)]
    return table


def assumptions_sheet(plan: Plan) -> pd.DataFrame:
    rows = []
    for w, scenario in plan.data.scenario_values.items():
        for row in scenario.describe():
            rows.append({"scenario": w, "probability": plan.data.probability[w], **row,
                         "value": str(row["value"]) if isinstance(row["value"], str) else row["value"]})
    return pd.DataFrame(rows)


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


def plan_tables(plan: Plan) -> dict[str, pd.DataFrame]:
    """Every table of a plan by file stem (the CSV/Parquet export)."""
    return {"kpis": pd.DataFrame({"kpi": list(plan.kpis), "value": [str(v) for v in plan.kpis.values()]}),
            "schedule": plan.schedule, "builds": plan.builds, "cashflow": plan.cashflow, "by_year": plan.by_year,
            "emissions": plan.emissions, "emissions_by_year": plan.emissions_by_year,
            "secured_mw_marginals": plan.secured_mw_marginals, "carbon_cap_marginals": plan.carbon_cap_marginals,
            "sites": sites_sheet(plan), "assumptions": assumptions_sheet(plan).astype({"value": str})}


def write_tables(plan: Plan, folder: str | Path, kind: str, force: bool = False) -> Path:
    """One file per table (`kind` csv or parquet) in `folder`, written to a temp folder then moved in."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for stem, table in plan_tables(plan).items():
            if kind == "csv":
                table.to_csv(temp / f"{stem}.csv", index=False)
            else:
                table.to_parquet(temp / f"{stem}.parquet", index=False)
        os.chmod(temp, 0o755)
        aside = folder.with_name(f".{folder.name}.old") if folder.exists() and force else None
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(folder, aside)  # the old folder stays whole until the new one is in place
        os.replace(temp, folder)
        if aside is not None:
            shutil.rmtree(aside)
    finally:
        if temp.exists():
            shutil.rmtree(temp)
    return folder


def write_json(text: str, path: str | Path) -> Path:
    with atomic_path(path) as temp:
        Path(temp).write_text(text + "\n")
    return Path(path)


def _format(sheet, frame: pd.DataFrame, book, header, first_column: int = 0) -> None:
    """Header style, frozen header row, widths and number formats by unit (number_format)."""
    formats = {}
    sheet.freeze_panes(1, 0)
    for col, name in enumerate(frame.columns, start=first_column):
        sheet.write(0, col, name, header)
        code = number_format(str(name))
        fmt = None if code is None else formats.setdefault(code, book.add_format({"num_format": code}))
        sample = frame[name].head(100)
        longest = sample.map(lambda v: len(str(v))).max() if sample.dtype == object and len(sample) else 0
        width = max(10, min(40, max(len(str(name)) * 0.8, longest) + 2))
        sheet.set_column(col, col, width, fmt)
