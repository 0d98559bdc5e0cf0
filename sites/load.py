"""Load a site portfolio (CSV, XLSX, GeoJSON, GeoPackage), validate it and enrich it from its location.

`load_sites(path, horizon)` returns one row per site (index `name`) with the columns of `SITE_FIELDS`,
typed, with state, eGRID subregion and grid CO2 rate filled from the coordinates where the file leaves
them empty, or raises `InputError` listing every problem as one sentence: file, row (site), field,
value, rule. GIS files give each site's point by geometry (CRS normalised to EPSG:4326) or, where a
feature has no geometry, by its lat/lon columns.

Files are read as people have them by sites/readers.py (delimiter, decimal comma, encoding, header case,
the workbook sheet). A file with more than `MAX_PROBLEMS` problems lists the first ones and how many more
there are.
"""

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from sites import geo, ledger
from kernel.errors import InputError
from kernel.quarters import label, ordinal
from sites.leases import load_leases
from sites.readers import field_name, read_raw
from sites.reference import REFERENCE_PORTFOLIO
from sites.schema import FIELDS_BY_NAME, SITE_FIELDS, parse_row, quoted, readable

MAX_PROBLEMS = 20  # problems listed for one file; then "... and N more problems."
LISTED_COLUMNS = 10  # unknown columns named in their sentence; then "and N more"
ALIASES = {"latitude": "lat", "longitude": "lon", "long": "lon", "lng": "lon", "site": "name",
           "site_name": "name", "sitename": "name"}  # suggested for an unknown column, never applied silently


def load_sites(path: str | Path = REFERENCE_PORTFOLIO, horizon: tuple[str, str] | None = None) -> pd.DataFrame:
    """Read a portfolio file of any supported format and return the validated, enriched site table."""
    raw, first_row, row_word = read_raw(path)
    table = validate_sites(raw, source=raw.attrs.get("source", str(path)), horizon=horizon, first_row=first_row,
                           row_word=row_word)
    table.attrs["leases"] = load_leases(path, table, horizon)  # signed leases beside it (sites/leases.py)
    return table


OPTIONAL_NUMBERS = tuple(f.name for f in SITE_FIELDS if f.kind == "number" and f.default == ""
                         and f.name != "grid_tco2_per_mwh")


def site_warnings(table: pd.DataFrame) -> list[str]:
    """One sentence per value of a validated site table past its field's soft maximum (loaded, but rarely
    meant: check it), naming the site and the field, in site order."""
    names = table["name"] if "name" in table.columns else table.index
    fields = [f for f in SITE_FIELDS if f.soft_maximum is not None and f.name in table.columns]
    out = []
    for name, (_, row) in zip(names, table.iterrows()):
        for f in fields:
            value = row[f.name]
            if pd.notna(value) and value > f.soft_maximum:
                out.append(f"site {name}, field {f.name}: {readable(value)} {f.unit} is above the usual at most "
                           f"{readable(f.soft_maximum)} {f.unit}; check it is meant.")
        out += _unenrolled(name, row)
    return out


def _unenrolled(name, row) -> list[str]:
    """A flexibility value typed on a site whose miners are not enrolled (firm power only, no opt-in)."""
    typed = [f for f in ("flex_usd_per_mw_yr", "curtailed_share") if f in row and pd.notna(row[f]) and row[f] > 0]
    if not typed or row.get("flex_firm_opt_in", False) or not {"power_class", "secured_mw"} <= set(row.index):
        return []
    if any(step.power_class == "interruptible" for step in ledger.site_steps(row.to_dict())):
        return []
    return [f"site {name}, field {typed[0]}: set, but the site has only firm power and flex_firm_opt_in is false, "
            "so its miners are not enrolled and earn no credit; set flex_firm_opt_in to true if they are."]


def validate_sites(raw: pd.DataFrame, source: str, horizon: tuple[str, str] | None = None,
                   first_row: int = 2, row_word: str = "row") -> pd.DataFrame:
    """Type and check every cell of `raw` (text), apply the row, ledger and location rules and fill
    state, subregion and CO2 rate from the coordinates; raise one InputError listing all problems (at most
    MAX_PROBLEMS of them, then how many more). Headers match field names in any case and padding."""
    read_problems = raw.attrs.get("row_problems", {})
    raw = _check_columns(raw, source)
    records, wheres, by_row = [], [], []
    for i, row in enumerate(raw.to_dict("records")):
        if all(str(v).strip() == "" for v in row.values()):
            continue  # a blank line or sheet row
        position = first_row + i
        site = str(row.get("name", "")).strip() or f"{row_word} {position}"
        where = f"{source}: {row_word} {position} ({site})"
        record, cell_problems = parse_row(row, where, SITE_FIELDS)
        found = [f"{where}, {reason}" for reason in read_problems.get(i, [])] + cell_problems
        if not cell_problems:
            found += _row_rules(record, where, horizon)
        records.append(record)
        wheres.append(where)
        by_row.append(found)
    if not records:
        raise InputError(f"{source}: the site file has no sites.")
    table = pd.DataFrame.from_records(records)
    for i, message in _locate(table, wheres):
        by_row[i].append(message)
    problems = [message for found in by_row for message in found] + _duplicates(records, source)
    if problems:
        raise _capped(problems)
    table["market"] = table["market"].where(table["market"] != "", table["state"])
    table["max_halls"] = table["max_halls"].astype(int)
    table["committed_halls"] = table["committed_halls"].astype(int)
    table["building_halls"] = table["building_halls"].astype(int)
    table["grid_tco2_per_mwh"] = table["grid_tco2_per_mwh"].astype(float)
    for f in OPTIONAL_NUMBERS:  # blank: the model's default (optimizer/data.py build_values)
        table[f] = pd.to_numeric(table[f].replace("", np.nan)).astype(float)
    table[["state", "egrid_subregion"]] = table[["state", "egrid_subregion"]].astype(str)
    return table.set_index("name", drop=True)


def _capped(problems: list[str]) -> InputError:
    """An InputError listing the first MAX_PROBLEMS problems and a last line "... and N more problems."."""
    if len(problems) <= MAX_PROBLEMS:
        return InputError(problems)
    shown = problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more problems."]
    error = InputError(shown)
    error.args = (f"{len(problems)} problems: " + " ".join(error.problems),)  # the count of all of them
    return error


def _check_columns(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """`raw` with its headers as field names (' Secured_MW ' -> secured_mw); InputError for unknown, repeated,
    unnamed or missing columns: one sentence each kind (the unknown ones with the closest field)."""
    names = [str(c).strip() for c in raw.columns]
    fields = [field_name(c) for c in names]
    problems = []
    unknown = [n for n, f in zip(names, fields) if f not in FIELDS_BY_NAME]
    if unknown:
        problems.append(_unknown_columns(unknown, source))
    for field in dict.fromkeys(f for f in fields if fields.count(f) > 1 and f in FIELDS_BY_NAME):
        same = [quoted(n) for n, f in zip(names, fields) if f == field]
        problems.append(f"{source}: columns {', '.join(same)} are all field {field}; allowed: one column per field.")
    unnamed = raw.attrs.get("unnamed", [])
    if unnamed:
        problems.append(f"{source}: {'column' if len(unnamed) == 1 else 'columns'} {', '.join(unnamed)} "
                        f"{'has' if len(unnamed) == 1 else 'have'} values but no header; allowed: a site field "
                        "name above every column with values.")
    problems += [f"{source}: required column '{f.name}' is missing." for f in SITE_FIELDS
                 if f.required and f.name not in fields]
    if problems:
        raise _capped(problems)
    if raw.empty:
        raise InputError(f"{source}: the site file has no sites.")
    return raw.set_axis(fields, axis=1)


def _unknown_columns(unknown: list[str], source: str) -> str:
    """One sentence for every unknown column, each with the closest site field where one is close."""
    def named(column: str) -> str:
        key = field_name(column)
        close = ALIASES.get(key) or next(iter(difflib.get_close_matches(key, FIELDS_BY_NAME, n=1, cutoff=0.6)), "")
        return quoted(column) + (f" (closest field: {close})" if close else "")
    listed = ", ".join(named(c) for c in unknown[:LISTED_COLUMNS])
    if len(unknown) > LISTED_COLUMNS:
        listed += f" and {len(unknown) - LISTED_COLUMNS} more"
    what = f"column {listed} is not a site field" if len(unknown) == 1 else f"columns {listed} are not site fields"
    return f"{source}: {what}; allowed: {', '.join(FIELDS_BY_NAME)}."


def _row_rules(record: dict, where: str, horizon: tuple[str, str] | None) -> list[str]:
    """Rules that link fields of one row: AI needs halls and firm power, the ledger, the horizon."""
    problems = []
    try:
        steps = ledger.site_steps(record)
    except ValueError as reason:
        return [f"{where}, field power_steps: {reason}; allowed: {ledger.FORMAT}."]
    negative = ledger.negative_balance(steps)
    if negative:
        quarter, power_class, mw = negative
        problems.append(f"{where}, field power_steps: {power_class} power falls to {mw:g} MW in {quarter}; "
                        f"allowed: steps that never take a class below 0 MW.")
    if record["ai_eligible"]:
        peak, firm = ledger.peak_mw(steps), ledger.peak_mw(steps, "firm")
        if not record["hall_it_mw"]:
            problems.append(f"{where}, field hall_it_mw: an AI-eligible site needs a hall size above 0 MW.")
        elif record["hall_it_mw"] > peak:
            problems.append(f"{where}, field hall_it_mw: a hall of {record['hall_it_mw']:g} IT MW is larger than "
                            f"the site's {peak:g} MW of secured power; allowed: at most {peak:g}.")
        elif record["hall_it_mw"] > firm:
            problems.append(f"{where}, field power_class: AI halls need firm power but the site has "
                            f"{firm:g} MW firm, less than one hall of "
                            f"{record['hall_it_mw']:g} IT MW; allowed: firm steps of at least one hall.")
        if not record["max_halls"]:
            problems.append(f"{where}, field max_halls: an AI-eligible site needs at least 1 hall.")
    problems += _building_rules(record, where, horizon)
    if not record["ai_eligible"] and not record["mining_allowed"]:
        problems.append(f"{where}, field mining_allowed: a site must allow mining or be AI-eligible.")
    if record["mining_commitment_it_mw"] and not record["mining_allowed"]:
        problems.append(f"{where}, field mining_commitment_it_mw: a site that does not allow mining cannot "
                        f"commit to run miners; allowed: 0, or mining_allowed true.")
    if horizon:
        end = ordinal(horizon[1])
        for step in steps:
            if ordinal(step.quarter) > end:
                field = "energised_quarter" if step is steps[0] else "power_steps"
                problems.append(f"{where}, field {field}: {step.quarter} is after the horizon end {horizon[1]}; "
                                f"allowed: a quarter up to {horizon[1]}.")
                break
    return problems


def _building_rules(record: dict, where: str, horizon: tuple[str, str] | None) -> list[str]:
    """Halls under construction at the start: only at an AI-eligible site, within max_halls with the contracted
    ones, with an online quarter after the horizon start (and up to its end); no capex without halls."""
    halls, online = record["building_halls"], record["building_online_quarter"]
    if not halls:
        typed = [f for f in ("building_spent_usd", "building_remaining_usd") if record[f]] + (
            ["building_online_quarter"] if online else [])
        return [f"{where}, field {typed[0]}: set, but building_halls is 0; allowed: blank or 0, or the number of "
                "halls under construction in building_halls."] if typed else []
    if not record["ai_eligible"]:
        return [f"{where}, field building_halls: {halls} halls under construction at a site that is not "
                "AI-eligible; allowed: 0, or ai_eligible true."]
    problems = []
    if halls + record["committed_halls"] > record["max_halls"]:
        problems.append(f"{where}, field building_halls: {halls} halls under construction and "
                        f"{record['committed_halls']} contracted exceed max_halls {record['max_halls']}; allowed: "
                        f"building_halls + committed_halls at most max_halls.")
    if not online:
        problems.append(f"{where}, field building_online_quarter: value is missing for {halls} halls under "
                        "construction; allowed: the quarter they come online, e.g. 2027Q3.")
    elif horizon and not ordinal(horizon[0]) < ordinal(online) <= ordinal(horizon[1]):
        problems.append(f"{where}, field building_online_quarter: {online} is not after the horizon start "
                        f"{horizon[0]} and up to its end {horizon[1]}; allowed: a quarter from "
                        f"{label(ordinal(horizon[0]) + 1)} to {horizon[1]}.")
    return problems


def _duplicates(records: list[dict], source: str) -> list[str]:
    names = pd.Series([r["name"] for r in records])
    return [f"{source}: site name '{name}' appears more than once; allowed: unique names."
            for name in sorted(set(names[names.duplicated()].dropna()))]


def _locate(table: pd.DataFrame, wheres: list[str]) -> list[tuple[int, str]]:
    """Fill state, egrid_subregion and grid_tco2_per_mwh from the coordinates (in place); (row, problem)."""
    for column in ("state", "egrid_subregion", "grid_tco2_per_mwh"):
        table[column] = table[column].astype(object)
    ok = table["lat"].notna() & table["lon"].notna()
    found = geo.locate(table.loc[ok, "lat"], table.loc[ok, "lon"]).set_index(table.index[ok])
    rates, states = geo.egrid_tco2_per_mwh(), set(geo.state_codes())
    problems = []
    for i in table.index[ok]:
        where, row, spot = wheres[i], table.loc[i], found.loc[i]
        point = f"({row['lat']:g}, {row['lon']:g})"
        if pd.isna(spot["state"]):
            problems.append((i, f"{where}, field lat/lon: {point} is more than {geo.NEAREST_LIMIT_KM:g} km from every "
                            f"US state; allowed: a point in the 50 states, DC or PR."))
            continue
        problems += [(i, message) for message in _state_rule(table, i, where, spot, point, states)]
        subregion = row["egrid_subregion"]
        if subregion == "":
            if pd.isna(spot["egrid_subregion"]):
                problems.append((i, f"{where}, field egrid_subregion: {point} is more than {geo.NEAREST_LIMIT_KM:g} km "
                                f"from every eGRID subregion; allowed: the site's subregion code in the file."))
                continue
            subregion = table.at[i, "egrid_subregion"] = spot["egrid_subregion"]
        elif subregion not in rates:
            problems.append((i, f"{where}, field egrid_subregion: '{subregion}' is not an eGRID2023 subregion; "
                            f"allowed: one of {', '.join(sorted(rates))}."))
            continue
        if table.at[i, "grid_tco2_per_mwh"] == "":
            table.at[i, "grid_tco2_per_mwh"] = rates[subregion]
    table["egrid_subregion_located"] = found["egrid_subregion"].reindex(table.index).fillna("")
    return problems


def _state_rule(table: pd.DataFrame, i, where: str, spot, point: str, states: set) -> list[str]:
    stated = table.at[i, "state"] = str(table.at[i, "state"]).upper()  # 'ga' is GA
    if stated == "":
        table.at[i, "state"] = spot["state"]
        return []
    if stated not in states:
        return [f"{where}, field state: '{stated}' is not a US state; allowed: a two-letter postal code of "
                f"the 50 states, DC or PR (e.g. GA)."]
    if stated != spot["state"]:
        km = geo.km_to_state(table.at[i, "lat"], table.at[i, "lon"], stated)
        if km > geo.STATE_TOLERANCE_KM:
            return [f"{where}, field state: {stated}, but {point} lies in {spot['state']}, {km:.0f} km from "
                    f"{stated}; allowed: the state the point lies in (or leave state empty)."]
    return []
