"""Load a site portfolio (CSV, XLSX, GeoJSON, GeoPackage), validate it and enrich it from its location.

`load_sites(path, horizon)` returns one row per site (index `name`) with the columns of `SITE_FIELDS`,
typed, with state, eGRID subregion and grid CO2 rate filled from the coordinates where the file leaves
them empty, or raises `InputError` listing every problem as one sentence: file, row (site), field,
value, rule. GIS files give each site's point by geometry (CRS normalised to EPSG:4326) or, where a
feature has no geometry, by its lat/lon columns.
"""

from pathlib import Path

import pandas as pd

from sites import geo, ledger
from kernel.errors import InputError
from kernel.quarters import ordinal
from sites.schema import FIELDS_BY_NAME, SITE_FIELDS, parse_value

REFERENCE_PORTFOLIO = Path(__file__).parent / "data" / "reference_portfolio.csv"
FORMATS = {".csv": "CSV", ".xlsx": "Excel workbook", ".geojson": "GeoJSON", ".json": "GeoJSON",
           ".gpkg": "GeoPackage"}


def load_sites(path: str | Path = REFERENCE_PORTFOLIO, horizon: tuple[str, str] | None = None) -> pd.DataFrame:
    """Read a portfolio file of any supported format and return the validated, enriched site table."""
    raw, first_row, row_word = read_raw(path)
    return validate_sites(raw, source=str(path), horizon=horizon, first_row=first_row, row_word=row_word)


def read_raw(path: str | Path) -> tuple[pd.DataFrame, int, str]:
    """The file's cells as text (missing = ''), the number of its first site row and the word for a row."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: the site file does not exist.")
    site_format(path)
    try:
        if suffix == ".csv":  # blank lines kept (and skipped in validation) so that row numbers match lines
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, skip_blank_lines=False)
            return raw.fillna(""), 2, "row"
        if suffix == ".xlsx":
            return as_text(pd.read_excel(path, sheet_name=_sheet(path), dtype=object)), 2, "row"
        return _read_gis(path), 1, "feature"
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file, said in one sentence
        raise InputError(f"{path}: cannot be read as {FORMATS[suffix]} ({_reason(exc, path)}).") from None


def site_format(path: Path) -> str:
    """The format a site file's suffix names; InputError for a suffix no reader takes."""
    if path.suffix.lower() not in FORMATS:
        raise InputError(f"{path}: unsupported site file type '{path.suffix}'; allowed: "
                         f"{', '.join(sorted(FORMATS))}.")
    return FORMATS[path.suffix.lower()]


def _reason(exc: Exception, path: Path) -> str:
    """A reader's error as a short clause: first line and sentence, without the path or driver hints."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.split(";")[0].replace(f"'{path}' ", "").replace(f"{path} ", "").replace(str(path), "the file")
    if "not recognized as being in a supported file format" in text:
        return "not a valid file of this format"
    return text.rstrip(". ")


def _sheet(path: Path) -> str | int:
    """The `Sites` sheet when the workbook has one, else the first sheet."""
    import openpyxl
    names = openpyxl.load_workbook(path, read_only=True).sheetnames
    return "Sites" if "Sites" in names else 0


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text; empty and NaN cells become ''; 50.0 stays '50.0' (numbers parse later)."""
    return frame.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))


def _read_gis(path: Path) -> pd.DataFrame:
    """A GeoJSON/GeoPackage layer as text cells, lat/lon taken from point geometries (EPSG:4326)."""
    import geopandas as gpd
    frame = gpd.read_file(path)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geometry = frame.geometry
    table = as_text(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
    for column in ("lat", "lon"):
        if column not in table:
            table[column] = ""
    problems = {}
    for i, shape in enumerate(geometry):
        if shape is None or shape.is_empty:
            continue  # lat/lon columns give the point
        if shape.geom_type != "Point":
            problems[i] = [f"field geometry: a {shape.geom_type}; allowed: a Point (or no geometry and lat/lon "
                           "columns)."]
            shape = shape.representative_point()  # keeps the other checks of the feature meaningful
        table.loc[table.index[i], ["lat", "lon"]] = [repr(shape.y), repr(shape.x)]
    table.attrs["row_problems"] = problems  # reported with the feature's other problems, in order
    return table


def validate_sites(raw: pd.DataFrame, source: str, horizon: tuple[str, str] | None = None,
                   first_row: int = 2, row_word: str = "row") -> pd.DataFrame:
    """Type and check every cell of `raw` (text), apply the row, ledger and location rules and fill
    state, subregion and CO2 rate from the coordinates; raise one InputError listing all problems."""
    raw = raw.set_axis([str(c).strip() for c in raw.columns], axis=1)
    _check_columns(raw, source)
    read_problems = raw.attrs.get("row_problems", {})
    records, wheres, by_row = [], [], []
    for i, row in enumerate(raw.to_dict("records")):
        if all(str(v).strip() == "" for v in row.values()):
            continue  # a blank line or sheet row
        position = first_row + i
        site = str(row.get("name", "")).strip() or f"{row_word} {position}"
        where = f"{source}: {row_word} {position} ({site})"
        record, cell_problems = _parse_row(row, where)
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
        raise InputError(problems)
    table["market"] = table["market"].where(table["market"] != "", table["state"])
    table["max_halls"] = table["max_halls"].astype(int)
    table["committed_halls"] = table["committed_halls"].astype(int)
    table["grid_tco2_per_mwh"] = table["grid_tco2_per_mwh"].astype(float)
    table[["state", "egrid_subregion"]] = table[["state", "egrid_subregion"]].astype(str)
    return table.set_index("name", drop=True)


def _check_columns(raw: pd.DataFrame, source: str) -> None:
    problems = [f"{source}: column '{c}' is not a site field; allowed: {', '.join(FIELDS_BY_NAME)}."
                for c in raw.columns if c not in FIELDS_BY_NAME]
    problems += [f"{source}: required column '{f.name}' is missing." for f in SITE_FIELDS
                 if f.required and f.name not in raw.columns]
    if problems:
        raise InputError(problems)
    if raw.empty:
        raise InputError(f"{source}: the site file has no sites.")


def _parse_row(row: dict, where: str) -> tuple[dict, list[str]]:
    """Typed record of one row (defaults for empty optional cells) and its cell problems."""
    record, problems = {}, []
    for field in SITE_FIELDS:
        cell = row.get(field.name, "")
        if str(cell).strip() == "":
            if field.required:
                problems.append(f"{where}, field {field.name}: value is missing; allowed: {field.allowed()}.")
            record[field.name] = field.default
            continue
        try:
            record[field.name] = parse_value(field, cell)
        except ValueError as reason:
            problems.append(f"{where}, field {field.name}: {reason}; allowed: {field.allowed()}.")
            record[field.name] = field.default
    return record, problems


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
