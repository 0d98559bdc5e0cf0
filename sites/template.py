"""A site-file template a planner can fill in: every field of `SITE_FIELDS` as a column, two example rows
that validate and solve with the base scenario (a Texas mining site and a Georgia AI-eligible retrofit),
and, in a workbook, a `Fields` sheet with each field's type, unit, default, allowed values and meaning
(the README's site table).

    write_template(path)     CSV, XLSX (Sites + Fields sheets), GeoJSON or GeoPackage, from the suffix
"""

import math
from pathlib import Path

import pandas as pd

from kernel.atomic import atomic_path
from sites.readers import site_format
from sites.schema import SITE_FIELDS, SiteField

NAN = float("nan")

# Blank cells ("" or NaN) take the field's default: state, subregion and CO2 rate from the point, the
# market from the state. The mining site shows a later interruptible ledger step; the AI site two halls
# of 30 IT MW (2 x 30 x 1.4 = 84 grid MW, inside its 100 MW of firm power).
FLEET = {"fleet_ths": NAN, "fleet_j_per_th": NAN, "fleet_retire_quarter": "", "flex_usd_per_mw_yr": NAN,
         "curtailed_share": NAN, "flex_firm_opt_in": False, "power_resale_usd_per_mwh": 0.0,
         "building_halls": 0, "building_spent_usd": 0.0, "building_remaining_usd": 0.0, "building_online_quarter": ""}
EXAMPLES = (
    {"name": "Example mine (TX)", "state": "", "lat": 30.655, "lon": -97.001, "secured_mw": 100.0,
     "energised_quarter": "2024Q1", "power_class": "firm", "power_steps": "2028Q1:+20:interruptible",
     "egrid_subregion": "", "grid_tco2_per_mwh": NAN, "ai_eligible": False, "mining_allowed": True,
     "build_type": "retrofit", "hall_it_mw": 0.0, "max_halls": 0, "site_opening_cost_usd": 0.0,
     "power_usd_per_mwh_2026": 45.0, "market": "", "committed_halls": 0, "committed_start_quarter": "",
     "mining_commitment_it_mw": 0.0, "mining_commitment_end_quarter": "", **FLEET},
    {"name": "Example retrofit (GA)", "state": "GA", "lat": 33.653, "lon": -84.449, "secured_mw": 100.0,
     "energised_quarter": "2025Q1", "power_class": "firm", "power_steps": "",
     "egrid_subregion": "", "grid_tco2_per_mwh": NAN, "ai_eligible": True, "mining_allowed": True,
     "build_type": "retrofit", "hall_it_mw": 30.0, "max_halls": 2, "site_opening_cost_usd": 25_000_000.0,
     "power_usd_per_mwh_2026": 56.0, "market": "GA", "committed_halls": 0, "committed_start_quarter": "",
     "mining_commitment_it_mw": 0.0, "mining_commitment_end_quarter": "", **FLEET},
)

BLANK_MEANS = {"state": "the state the point lies in", "egrid_subregion": "the eGRID2023 subregion the point lies in",
               "grid_tco2_per_mwh": "the eGRID2023 rate of the subregion", "market": "the site's state",
               "power_steps": "no later steps", "committed_start_quarter": "the horizon start",
               "building_online_quarter": "none (required when building_halls > 0)",
               "mining_commitment_end_quarter": "the horizon end",
               "fleet_ths": "fills the site's mining power at the horizon start",
               "fleet_j_per_th": "the scenario's fleet_j_per_th_2026",
               "fleet_retire_quarter": "the scenario's fleet_retire_quarter",
               "flex_usd_per_mw_yr": "60,000 in ERCOT (egrid_subregion ERCT), else 0",
               "curtailed_share": "0.03 in ERCOT, else 0"}


def default_text(f: SiteField) -> str:
    """'required', 'optional (blank: ...)' or 'default X (blank: X)' for the Fields sheet."""
    if f.required:
        return "required"
    if f.default == "":
        return f"optional (blank: {BLANK_MEANS.get(f.name, 'none')})"
    value = str(f.default).lower() if f.kind == "bool" else f"{f.default:g}" if isinstance(f.default, float) else f.default
    return f"default {value} (when blank)"


def fields_table() -> pd.DataFrame:
    """One row per site field: field, type, unit, required / default, allowed, meaning."""
    return pd.DataFrame([{"field": f.name, "type": f.kind, "unit": f.unit, "required / default": default_text(f),
                          "allowed": f.allowed(), "meaning": f.description} for f in SITE_FIELDS])


def example_table() -> pd.DataFrame:
    """The example rows, typed (numbers, bools; '' or NaN where the default applies), in schema order."""
    return pd.DataFrame(list(EXAMPLES))[[f.name for f in SITE_FIELDS]]


def _text(value) -> str:
    """A cell as a planner would type it: true/false, 100 not 100.0, blank for a default."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.0f}" if value.is_integer() else repr(value)
    return str(value)


def text_table() -> pd.DataFrame:
    return example_table().map(_text)


def write_template(path: str | Path) -> Path:
    """Write the template (format from the suffix) atomically; InputError for an unsupported suffix."""
    path = Path(path)
    kind = site_format(path)
    with atomic_path(path) as temp:
        if kind == "CSV":
            text_table().to_csv(temp, index=False)
        elif kind == "Excel workbook":
            _write_workbook(temp)
        else:
            import geopandas as gpd

            from sites.geo import points
            table = example_table()
            temp.unlink()  # pyogrio creates the file itself
            frame = gpd.GeoDataFrame(table.drop(columns=["lat", "lon"]),
                                     geometry=points(table["lat"], table["lon"]).values, crs=4326)
            frame.to_file(temp, driver="GPKG" if kind == "GeoPackage" else "GeoJSON", layer="sites")
    return path


ROWS_WITH_LISTS = 1000  # rows that get the drop-down lists of choice and true/false fields


def _write_workbook(path: Path) -> None:
    """Sites (the example rows; each header carries its field's meaning as a comment; drop-downs for the
    choice and true/false fields) and Fields (the data dictionary) sheets."""
    sites, fields = text_table(), fields_table()
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        book = writer.book
        required = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F8CBAD", "border": 1})
        optional = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        note = book.add_format({"italic": True, "font_color": "#595959"})
        sites.to_excel(writer, sheet_name="Sites", index=False)
        ws = writer.sheets["Sites"]
        for j, f in enumerate(SITE_FIELDS):
            ws.write(0, j, f.name, required if f.required else optional)
            unit = f" [{f.unit}]" if f.unit else ""
            ws.write_comment(0, j, f"{f.name}{unit}: {f.description} {default_text(f).capitalize()}. "
                                   f"Allowed: {f.allowed()}.", {"x_scale": 2, "y_scale": 1.6})
            ws.set_column(j, j, max(11, min(28, len(f.name) + 2)))
            if f.kind in ("choice", "bool"):
                choices = list(f.choices) if f.kind == "choice" else ["true", "false"]
                ws.data_validation(1, j, ROWS_WITH_LISTS, j, {"validate": "list", "source": choices,
                                                              "ignore_blank": True})
        ws.freeze_panes(1, 1)
        fields.to_excel(writer, sheet_name="Fields", index=False)
        wf = writer.sheets["Fields"]
        for j, (name, width) in enumerate((("field", 30), ("type", 9), ("unit", 10), ("required / default", 34),
                                           ("allowed", 36), ("meaning", 80))):
            wf.write(0, j, name, optional)
            wf.set_column(j, j, width, wrap)
        wf.freeze_panes(1, 0)
        below = len(fields) + 2
        for k, line in enumerate((
                "Sites sheet: one row per site; orange headers are required, blue ones optional (a blank cell "
                "takes the default above). Hover a header for its meaning.",
                "Replace the two example rows with your sites; check the file with: hashpivot sites validate "
                "FILE --scenario base, then solve it with: hashpivot solve --sites FILE.",
                "A market (default: the site's state) needs an entry in the scenario's "
                "market_absorption_it_mw_per_quarter table (base: GA, TX); sites validate names any that is missing.")):
            wf.write(below + k, 0, line, note)
