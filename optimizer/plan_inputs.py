"""The inputs of a plan workbook: its `Sites` and `Assumptions` sheets, as a planner may have edited them,
read back for `hashpivot solve --from plan.xlsx` (and `hashpivot sites validate plan.xlsx`); and the
checks of a site table against a scenario that every problem of is listed at once.

The `Sites` sheet holds the site fields as inputs, then derived columns (grey headers) that are outputs:

    lead_quarters              L_s  = lead_quarters_{build_type}                         (Assumptions)
    capex_usd_per_it_mw        c_s  = ai_capex_multiplier * ai_capex_{build_type}_usd_per_it_mw
    mining_capacity_it_mw      I0_s = P[s, horizon start] / mining_pue if mining_allowed, else 0
    mining_peak_it_mw          Imax_s = peak P / mining_pue if mining_allowed, else 0
    existing_fleet_it_mw       E_s  = fleet_ths * J / 1e6 (blank: I0_s)
    existing_fleet_j_per_th    J_E  = fleet_j_per_th (blank: the Assumptions' fleet_j_per_th_2026)
    existing_fleet_retire_quarter  fleet_retire_quarter (blank: the Assumptions' fleet_retire_quarter)
    flexibility_usd_per_mw_yr  v_s  = flex_usd_per_mw_yr of an enrolled site (blank: 60,000 in ERCOT), else 0
    curtailed_hours_share      c_s  = curtailed_share of an enrolled site (blank: 0.03 in ERCOT), else 0
    state_located              the state the point (lat, lon) lies in
    egrid_subregion_located    the eGRID2023 subregion the point lies in
    grid_tco2_per_mwh_located  the eGRID2023 rate of the site's subregion (typed, else located)

`state`, `egrid_subregion` and `grid_tco2_per_mwh` are written blank where they equal what the location
gives, so that a site moved by its lat/lon follows its new point; a value that differs (typed by the
planner) is kept. On `--from` the derived columns are recomputed from the inputs. A hidden column,
`derived_check`, fingerprints the derived cells as written: while it matches, the derived cells are
untouched (perhaps stale after an input edit, and recomputed); when it does not, a derived cell that differs
from what the inputs give was edited and is refused, one sentence naming the sheet, row, site, field and
the input to edit instead.
"""

import hashlib
import math
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from kernel.errors import InputError
from models.scenario import SCENARIO_DIR, Scenario, scenario_from_rows, scenario_path
from optimizer.data import ABSORPTION, build_values, misfits
from sites import geo
from sites.leases import load_leases
from sites.load import validate_sites
from sites.readers import as_text
from sites.schema import FIELDS_BY_NAME

BUILD_DERIVED = ("lead_quarters", "capex_usd_per_it_mw", "mining_capacity_it_mw", "mining_peak_it_mw",
                 "existing_fleet_it_mw", "existing_fleet_j_per_th", "existing_fleet_retire_quarter",
                 "flexibility_usd_per_mw_yr", "curtailed_hours_share")
LOCATED = MappingProxyType({"state": "state_located", "egrid_subregion": "egrid_subregion_located",
                            "grid_tco2_per_mwh": "grid_tco2_per_mwh_located"})  # input -> what the point gives
SITE_DERIVED = BUILD_DERIVED + tuple(LOCATED.values())
CHECK_COLUMN = "derived_check"

DERIVED_MEANING = MappingProxyType({
    "lead_quarters": "construction lead time L_s, quarters, from build_type and the Assumptions",
    "capex_usd_per_it_mw": "AI capex per IT MW c_s, from build_type and the Assumptions",
    "mining_capacity_it_mw": "mining infrastructure I0_s, IT MW: secured MW at the horizon start / mining_pue",
    "mining_peak_it_mw": "most mining infrastructure Imax_s, IT MW: peak secured MW / mining_pue",
    "existing_fleet_it_mw": "existing fleet E_s, IT MW: fleet_ths x J/TH / 1e6 (blank: fills I0_s)",
    "existing_fleet_j_per_th": "existing fleet J/TH (blank: the Assumptions' fleet_j_per_th_2026)",
    "existing_fleet_retire_quarter": "first quarter without the existing fleet (blank: the Assumptions')",
    "flexibility_usd_per_mw_yr": "flexibility credit v_s of an enrolled site, USD/grid MW-yr (blank: ERCOT 60,000)",
    "curtailed_hours_share": "curtailed share of hours c_s of an enrolled site (blank: ERCOT 0.03)",
    "state_located": "the state the point lies in (used when state is blank)",
    "egrid_subregion_located": "the eGRID2023 subregion the point lies in (used when egrid_subregion is blank)",
    "grid_tco2_per_mwh_located": "the eGRID2023 rate of the site's subregion (used when grid_tco2_per_mwh is blank)",
})


def _edit_instead(column: str, row: pd.Series) -> str:
    """The inputs that set a derived column, for the refusal sentence."""
    build = row["build_type"]
    return {"lead_quarters": f"build_type or the Assumptions sheet's lead_quarters_{build}",
            "capex_usd_per_it_mw": f"build_type or the Assumptions sheet's ai_capex_{build}_usd_per_it_mw or "
                                   "ai_capex_multiplier",
            "mining_capacity_it_mw": "secured_mw, energised_quarter, power_steps or mining_allowed, or the "
                                     "Assumptions sheet's mining_pue",
            "mining_peak_it_mw": "secured_mw, power_steps or mining_allowed, or the Assumptions sheet's mining_pue",
            "existing_fleet_it_mw": "fleet_ths or fleet_j_per_th",
            "existing_fleet_j_per_th": "fleet_j_per_th, or the Assumptions sheet's fleet_j_per_th_2026",
            "existing_fleet_retire_quarter": "fleet_retire_quarter, or the Assumptions sheet's fleet_retire_quarter",
            "flexibility_usd_per_mw_yr": "flex_usd_per_mw_yr, flex_firm_opt_in or power_class",
            "curtailed_hours_share": "curtailed_share, flex_firm_opt_in or power_class",
            "state_located": "lat/lon, or type the state in the state column",
            "egrid_subregion_located": "lat/lon, or type the subregion in the egrid_subregion column",
            "grid_tco2_per_mwh_located": "egrid_subregion, or type the rate in the grid_tco2_per_mwh column",
            }[column]


# ---------------------------------------------------------------------------------------- derived values
def derived_values(sites: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The derived columns of a validated site table under `scenario` (index: site), computed as
    optimizer/data.py does for lead time, capex and mining capacity, and from the location for the rest."""
    located = geo.locate(sites["lat"], sites["lon"])
    rates = geo.egrid_tco2_per_mwh()
    return build_values(sites, scenario).assign(**{
        "state_located": located["state"].fillna("").to_numpy(),
        "egrid_subregion_located": located["egrid_subregion"].fillna("").to_numpy(),
        "grid_tco2_per_mwh_located": [rates.get(s, float("nan")) for s in sites["egrid_subregion"]],
    })


def input_values(sites: pd.DataFrame, derived: pd.DataFrame) -> pd.DataFrame:
    """The site fields as the Sites sheet's inputs: state, egrid_subregion and grid_tco2_per_mwh blank
    (NaN for the rate) where they equal what the location gives."""
    table = sites.copy()
    same_state = table["state"].str.upper() == derived["state_located"]
    table["state"] = table["state"].where(~same_state, "")
    same_subregion = table["egrid_subregion"] == derived["egrid_subregion_located"]
    table["egrid_subregion"] = table["egrid_subregion"].where(~same_subregion, "")
    rate, default = table["grid_tco2_per_mwh"].astype(float), derived["grid_tco2_per_mwh_located"]
    table["grid_tco2_per_mwh"] = rate.where(~np.isclose(rate, default, rtol=1e-12, atol=1e-12), np.nan)
    return table


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _canonical(value) -> str:
    """One text per value, the same before writing and after reading back from Excel (4 and 4.0 alike)."""
    if _blank(value):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    try:
        return f"{float(value):.10g}"
    except (TypeError, ValueError):
        return str(value).strip().upper()


def derived_check(values) -> str:
    """The fingerprint of one row's derived cells (in SITE_DERIVED order)."""
    text = "|".join(_canonical(v) for v in values)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _same(cell, value) -> bool:
    if isinstance(value, str):
        return str(cell).strip().upper() == value.upper()
    try:
        return math.isclose(float(cell), float(value), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _show(value) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"'{value}'"
    return f"{number:,.0f}" if abs(number) >= 1e5 else f"{number:g}"


# ---------------------------------------------------------------------------------------- the workbook
def is_plan_workbook(path: str | Path) -> bool:
    """An .xlsx with both a Sites and an Assumptions sheet (a plan workbook, not a site file)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx" or not path.is_file():
        return False
    try:
        import openpyxl
        book = openpyxl.load_workbook(path, read_only=True)
        names = book.sheetnames
        book.close()
    except Exception:  # noqa: BLE001 - not readable as a workbook: the site loader says why
        return False
    return "Sites" in names and "Assumptions" in names


def read_plan(path: str | Path, overrides: tuple[str, ...] = ()):
    """A plan workbook's inputs: (sites, scenario with `overrides`, problems, row labels) where problems are
    the edited derived cells (the sites themselves raise InputError listing every problem)."""
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=["Sites", "Assumptions"], dtype=object)
    except (OSError, ValueError, KeyError) as problem:
        raise InputError(f"{path}: cannot read the Sites and Assumptions sheets of a plan workbook ({problem}).") from None
    rows = sheets["Assumptions"]
    first = rows[rows["scenario"] == rows["scenario"].iloc[0]] if len(rows) else rows
    pairs = list(zip(first["key"], first["value"]))
    source = f"{path} (Assumptions sheet)"
    written = scenario_from_rows(pairs, source)
    scenario = scenario_from_rows(pairs, source, overrides) if overrides else written
    raw = sheets["Sites"]
    raw = raw.set_axis([str(c).strip() for c in raw.columns], axis=1)
    inputs = as_text(raw[[c for c in raw.columns if c in FIELDS_BY_NAME]])
    where = f"{path} (Sites sheet)"
    sites = validate_sites(inputs, source=where, horizon=scenario.horizon)
    sites.attrs["leases"] = load_leases(path, sites, scenario.horizon)  # its Leases sheet, if any
    labels = {str(n).strip(): f"row {2 + i}" for i, n in enumerate(inputs.get("name", [])) if str(n).strip()}
    return sites, scenario, _edited_derived(raw, inputs, sites, written, where), labels


def _edited_derived(raw: pd.DataFrame, inputs: pd.DataFrame, sites: pd.DataFrame, scenario: Scenario,
                    where: str) -> list[str]:
    """A sentence per derived cell that was edited (the row's fingerprint does not match) and differs from
    what the row's inputs give under the workbook's own Assumptions."""
    present = [c for c in SITE_DERIVED if c in raw.columns]
    if not present:
        return []
    now = derived_values(sites, scenario)
    problems = []
    for i, record in enumerate(raw.to_dict("records")):
        site = str(inputs.iloc[i].get("name", "")).strip()
        if site not in now.index:
            continue  # a blank row
        cells = {c: record[c] for c in present if not _blank(record[c])}
        check = record.get(CHECK_COLUMN)
        if not cells or (not _blank(check) and str(check).strip() == derived_check(
                [record.get(c) for c in SITE_DERIVED])):
            continue  # nothing given, or untouched since written: recomputed
        for column, cell in cells.items():
            value = now.at[site, column]
            if not _same(cell, value):
                problems.append(f"{where}: row {2 + i} ({site}), field {column}: {_show(cell)} is derived, not an "
                                f"input (the row's inputs give {_show(value)}, recomputed on --from); edit "
                                f"{_edit_instead(column, sites.loc[site])} instead, or clear the cell.")
    return problems


def read_inputs(path: str | Path, overrides: tuple[str, ...] = ()):
    """The site table and scenario of a plan workbook's `Sites` and `Assumptions` sheets (as a planner may
    have edited them), with `--set` overrides on top: (sites, scenario). Raises one InputError listing every
    edited derived cell and every misfit of the sites with the scenario."""
    sites, scenario, problems, labels = read_plan(path, overrides)
    problems += misfits(sites, scenario, f"{path} (Sites sheet)", labels, scenario_fix(path, plan=True))
    if problems:
        raise InputError(problems)
    return sites, scenario


# ------------------------------------------------------------------------- sites against a scenario
def scenario_fix(scenario: str | Path, plan: bool = False) -> tuple[str, str]:
    """(the scenario's name in sentences, how to add a market absorption entry besides --set)."""
    if plan:
        return (f"{scenario} (Assumptions sheet)",
                f"a row {ABSORPTION}.{{market}} with value {{value}} in its Assumptions sheet")
    path = scenario_path(scenario)
    if path.parent.resolve() == SCENARIO_DIR.resolve():
        return (f"scenario {path.stem}", f"the TOML line {{market}} = {{value}} under [{ABSORPTION}] in a scenario "
                f"file that extends {path.stem} (hashpivot scenarios new NAME --extends {path.stem})")
    return f"scenario {path}", f"the TOML line {{market}} = {{value}} under [{ABSORPTION}] in {path}"


# ------------------------------------------------------------------------- the approved plan's decisions
DECISION_COLUMNS = ("site", "quarter", "halls_started", "site_open", "asic_bought_ths")
SCHEDULE_NEEDS = ("site", "quarter", "scenario", "ai_halls_started", "site_opening_usd", "asic_bought_ths")


def read_decisions(path: str | Path) -> pd.DataFrame:
    """The build decisions of a plan workbook's Schedule sheet (first scenario: build decisions are shared by
    all), one row per (site, quarter) in the plan's order: halls_started N[s,t] (cumulative, whole halls),
    site_open z[s,t] (1 from the first quarter that pays an opening cost, else from the first hall start:
    an opening that costs nothing is only known by its first hall) and asic_bought_ths (TH/s bought in t)."""
    path = Path(path)
    try:
        raw = pd.read_excel(path, sheet_name="Schedule")
    except (OSError, ValueError, KeyError) as problem:
        raise InputError(f"{path}: cannot read the Schedule sheet of a plan workbook ({problem}); --freeze-until "
                         "reads the approved plan's decisions from it.") from None
    missing = [c for c in SCHEDULE_NEEDS if c not in raw.columns]
    if missing:
        raise InputError(f"{path} (Schedule sheet): no column {missing[0]}; --freeze-until needs a plan workbook "
                         "written by hashpivot solve.")
    rows = raw[raw["scenario"] == raw["scenario"].iloc[0]] if len(raw) else raw
    numbers = {c: pd.to_numeric(rows[c], errors="coerce") for c in SCHEDULE_NEEDS[3:]}
    for column, values in numbers.items():
        bad = values.isna() | ((values - values.round()).abs() > 1e-6 if column == "ai_halls_started" else False)
        if bad.any():
            i = bad.to_numpy().nonzero()[0][0]
            kind = "a whole number of halls" if column == "ai_halls_started" else "a number"
            raise InputError(f"{path} (Schedule sheet): row {int(rows.index[i]) + 2}, field {column}: "
                             f"'{rows[column].iloc[i]}' is not {kind}; --freeze-until reads the approved plan's "
                             "decisions from it.")
    table = pd.DataFrame({"site": rows["site"].astype(str).to_numpy(),
                          "quarter": rows["quarter"].astype(str).to_numpy(),
                          "halls_started": numbers["ai_halls_started"].round().astype(int).to_numpy(),
                          "paid": numbers["site_opening_usd"].to_numpy(),
                          "asic_bought_ths": numbers["asic_bought_ths"].to_numpy()})
    opened = {site: _opening_quarter(group) for site, group in table.groupby("site", sort=False)}
    table["site_open"] = [int(opened[s] is not None and q >= opened[s])
                          for s, q in zip(table["site"], table["quarter"])]
    return table[list(DECISION_COLUMNS)]


def _opening_quarter(rows: pd.DataFrame) -> str | None:
    """The quarter a site opened: the first that pays an opening cost (over 1 USD), else its first hall start."""
    for flag in (rows["paid"] > 1.0, rows["halls_started"] > 0):
        if flag.any():
            return str(rows.loc[flag, "quarter"].min())
    return None
