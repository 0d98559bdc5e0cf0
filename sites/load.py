"""Load a site portfolio (CSV, XLSX, GeoJSON, GeoPackage), validate it and enrich it from its location.

`load_sites(path, horizon)` returns one row per site (index `name`) with the columns of `SITE_FIELDS`,
typed, with state, eGRID subregion and grid CO2 rate filled from the coordinates where the file leaves
them empty, or raises `InputError` listing every problem as one sentence: file, row (site), field,
value, rule. GIS files give each site's point by geometry (CRS normalised to EPSG:4326) or, where a
feature has no geometry, by its lat/lon columns.

The files people have are read as they are: a CSV separated by commas, semicolons or tabs (sniffed from the
header row; with semicolons or tabs a decimal comma, 12,5, is a decimal point), in UTF-8 (with or without a
BOM) or Windows-1252/Latin-1; headers in any case and padded with spaces; a workbook whose site sheet is not
the first (the sheet whose first non-empty row names the most site fields is read, and named in every
message). A file with more than `MAX_PROBLEMS` problems lists the first ones and how many more there are.
"""

import csv
import difflib
import io
import re
from pathlib import Path

import pandas as pd

from sites import geo, ledger
from kernel.errors import InputError
from kernel.quarters import ordinal
from sites.schema import DECIMAL_COMMA, FIELDS_BY_NAME, SITE_FIELDS, parse_value, quoted, readable

REFERENCE_PORTFOLIO = Path(__file__).parent / "data" / "reference_portfolio.csv"
FORMATS = {".csv": "CSV", ".xlsx": "Excel workbook", ".geojson": "GeoJSON", ".json": "GeoJSON",
           ".gpkg": "GeoPackage"}
MAX_PROBLEMS = 20  # problems listed for one file; then "... and N more problems."
LISTED_COLUMNS = 10  # unknown columns named in their sentence; then "and N more"
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
ENCODINGS = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252 (Latin-1)"}
ALIASES = {"latitude": "lat", "longitude": "lon", "long": "lon", "lng": "lon", "site": "name",
           "site_name": "name", "sitename": "name"}  # suggested for an unknown column, never applied silently
NUMBER_KINDS = ("number", "integer")


def load_sites(path: str | Path = REFERENCE_PORTFOLIO, horizon: tuple[str, str] | None = None) -> pd.DataFrame:
    """Read a portfolio file of any supported format and return the validated, enriched site table."""
    raw, first_row, row_word = read_raw(path)
    return validate_sites(raw, source=raw.attrs.get("source", str(path)), horizon=horizon, first_row=first_row,
                          row_word=row_word)


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
    return out


def read_raw(path: str | Path) -> tuple[pd.DataFrame, int, str]:
    """The file's cells as text (missing = ''), the number of its first site row and the word for a row;
    `attrs["source"]` names the file (and the sheet read) for messages."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"{path}: the site file does not exist.")
    site_format(path)
    try:
        if suffix == ".csv":
            raw = _read_csv(path)
            return raw, raw.attrs["header_row"] + 1, "row"
        if suffix == ".xlsx":
            raw, first_row = _read_xlsx(path)
            return raw, first_row, "row"
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


def _field(header: object) -> str:
    """A header as the field name it means: case and padding do not matter (' SECURED_MW ' is secured_mw)."""
    return str(header).strip().lower()


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV's cells as text, encoding and delimiter sniffed; blank lines kept (and skipped in validation)
    so that row numbers match lines; with ';' or tab separators decimal commas become decimal points."""
    text = _decode(path)
    delimiter = _delimiter(text, path)
    body = text.lstrip()
    blank_lines = text[:len(text) - len(body)].count("\n")  # before the header
    rows = pd.read_csv(io.StringIO(body), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                       skipinitialspace=True, skip_blank_lines=False).fillna("")
    raw, header_line = _with_header(rows.values.tolist(), lambda i: str(i + 1))
    header_line += blank_lines
    if delimiter != ",":
        for column in raw.columns:
            field = FIELDS_BY_NAME.get(_field(column))
            if field is not None and field.kind in NUMBER_KINDS:
                raw[column] = raw[column].map(_decimal_point)
    raw.attrs.update(source=str(path), header_row=header_line)
    return raw


def _decode(path: Path) -> str:
    """The file's text: UTF-16 when it starts with a UTF-16 BOM, else UTF-8 (with or without a BOM), else
    Windows-1252 (a superset of Latin-1's letters: 'Québec'); else one sentence saying what was found."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            found = "a damaged UTF-16 text"
    elif b"\x00" in data:
        found = "a binary file" + (", it looks like a workbook or zip archive (name it .xlsx if it is a "
                                   "workbook)" if data.startswith(b"PK\x03\x04") else "")
    else:
        for encoding in ENCODINGS:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                found = f"byte 0x{data[exc.start]:02x} at position {exc.start}"
    raise InputError(f"{path}: cannot be read as CSV ({found}, not text in {' or '.join(ENCODINGS.values())}); "
                     "allowed: a CSV file saved as UTF-8 or Windows-1252.")


def _delimiter(text: str, path: Path) -> str:
    """The separator of the header row: the one that splits it into the most site field names; csv.Sniffer
    when no separator gives any (the column check then names the unknown columns)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(f"{path}: the site file is empty; allowed: a header row of site fields (name, lat, lon, "
                         "...) and a row per site.")
    header = lines[0]
    known = {d: sum(_field(c) in FIELDS_BY_NAME for c in next(csv.reader([header], delimiter=d)))
             for d in DELIMITERS}
    best = max(known, key=known.get)  # ties: the first, a comma
    if known[best]:
        return best
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        raise InputError(f"{path}: cannot tell how the columns are separated: the first line {quoted(header)} "
                         f"holds no site field name; allowed: a header row of site fields (name, lat, lon, ...) "
                         f"separated by commas, semicolons or tabs.") from None


def _decimal_point(cell: str) -> str:
    """'12,5' -> '12.5' and '1.234,5' -> '1234.5' (a decimal comma); any other cell as it is."""
    text = cell.strip()
    if DECIMAL_COMMA.match(text):
        return text.replace(",", ".")
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+,\d+", text):
        return text.replace(".", "").replace(",", ".")
    return cell


def _with_header(rows: list[list], label) -> tuple[pd.DataFrame, int]:
    """Rows of cells as a text frame under the first non-empty row (the header) and that row's number
    (1-based). A column without a header is dropped when it is empty (trailing separators, formatted empty
    cells); with values, `attrs["unnamed"]` lists its label (`label(position)`: 3 in a CSV, C in a workbook)
    for the column check."""
    width = max((len(r) for r in rows), default=0)
    rows = [list(r) + [None] * (width - len(r)) for r in rows]
    at = next((i for i, r in enumerate(rows) if any(_cell(v).strip() for v in r)), 0)
    header, body = (rows[at], rows[at + 1:]) if rows else ([], [])
    cells = as_text(pd.DataFrame(body, columns=range(width), dtype=object))
    names = [_cell(h) for h in header]
    keep, unnamed = [], []
    for i, name in enumerate(names):
        if name.strip():
            keep.append(i)
        elif any(v.strip() for v in cells[i]):
            unnamed.append(label(i))
    raw = cells[keep].set_axis([names[i] for i in keep], axis=1)
    raw.attrs["unnamed"] = unnamed
    return raw, at + 1


def _read_xlsx(path: Path) -> tuple[pd.DataFrame, int]:
    """The site sheet's cells as text and the sheet row of its first site. The site sheet is the one whose
    first non-empty row holds the most site field names (ties: a sheet named Sites, else the first)."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        found = []  # (site field names in the header row, named Sites, -position, sheet, header row number)
        for order, sheet in enumerate(book.worksheets):
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if any(_cell(v).strip() for v in row):
                    known = sum(_field(_cell(v)) in FIELDS_BY_NAME for v in row if v is not None)
                    found.append((known, sheet.title.lower() == "sites", -order, sheet, number))
                    break
                if number >= 100:
                    break
        if not found:
            raise InputError(f"{path}: the site file has no sites (every sheet is empty).")
        _, _, _, sheet, header_row = max(found, key=lambda f: f[:3])
        rows = [[_excel_value(v) for v in row] for row in sheet.iter_rows(min_row=header_row, values_only=True)]
        raw, _ = _with_header(rows, lambda i: get_column_letter(i + 1))
        raw.attrs["source"] = f"{path} (sheet {sheet.title})"
        return raw, header_row + 1
    finally:
        book.close()


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _excel_value(value: object) -> object:
    """A workbook value as pandas reads it: a whole float as an int (50.0 -> 50)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
    table.columns = [_field(c) if _field(c) in FIELDS_BY_NAME else c for c in table.columns]  # 'LAT' is lat
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
    table.attrs["source"] = str(path)
    return table


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
        raise _capped(problems)
    table["market"] = table["market"].where(table["market"] != "", table["state"])
    table["max_halls"] = table["max_halls"].astype(int)
    table["committed_halls"] = table["committed_halls"].astype(int)
    table["grid_tco2_per_mwh"] = table["grid_tco2_per_mwh"].astype(float)
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
    fields = [_field(c) for c in names]
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
        key = _field(column)
        close = ALIASES.get(key) or next(iter(difflib.get_close_matches(key, FIELDS_BY_NAME, n=1, cutoff=0.6)), "")
        return quoted(column) + (f" (closest field: {close})" if close else "")
    listed = ", ".join(named(c) for c in unknown[:LISTED_COLUMNS])
    if len(unknown) > LISTED_COLUMNS:
        listed += f" and {len(unknown) - LISTED_COLUMNS} more"
    what = f"column {listed} is not a site field" if len(unknown) == 1 else f"columns {listed} are not site fields"
    return f"{source}: {what}; allowed: {', '.join(FIELDS_BY_NAME)}."


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
