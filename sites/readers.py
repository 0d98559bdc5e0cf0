"""Read a site file as people have it into raw text cells (no validation: sites/load.py does that).

CSV separated by commas, semicolons or tabs (taken from the header row; with semicolons or tabs a decimal
comma, 12,5, is a decimal point), in UTF-8 (with or without a BOM), Windows-1252/Latin-1 or UTF-16; headers
in any case and padded with spaces; a workbook whose site sheet is chosen by its header row (and named in
every message); GeoJSON and GeoPackage with point geometry or lat/lon columns.
"""

import csv
import io
import re
from pathlib import Path

import pandas as pd

from kernel.errors import InputError
from sites.schema import DECIMAL_COMMA, FIELDS_BY_NAME, quoted

FORMATS = {".csv": "CSV", ".xlsx": "Excel workbook", ".geojson": "GeoJSON", ".json": "GeoJSON",
           ".gpkg": "GeoPackage"}
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
ENCODINGS = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252 (Latin-1)"}
NUMBER_KINDS = ("number", "integer")
HEADER_EXAMPLES = {"site": "name, lat, lon", "lease": "tenant, site, it_mw"}  # the fields a header names first


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


def field_name(header: object) -> str:
    """A header as the field name it means: case and padding do not matter (' SECURED_MW ' is secured_mw)."""
    return str(header).strip().lower()


def _read_csv(path: Path, fields: dict = FIELDS_BY_NAME, kind: str = "site") -> pd.DataFrame:
    """A CSV's cells as text, encoding and delimiter sniffed (from the header's `fields`, a registry by name);
    blank lines kept (and skipped in validation) so that row numbers match lines; with ';' or tab separators
    decimal commas become decimal points."""
    text = _decode(path)
    delimiter = _delimiter(text, path, fields, kind)
    body = text.lstrip()
    blank_lines = text[:len(text) - len(body)].count("\n")  # before the header
    rows = pd.read_csv(io.StringIO(body), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                       skipinitialspace=True, skip_blank_lines=False).fillna("")
    raw, header_line = _with_header(rows.values.tolist(), lambda i: str(i + 1))
    header_line += blank_lines
    if delimiter != ",":
        for column in raw.columns:
            field = fields.get(field_name(column))
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


def _delimiter(text: str, path: Path, fields: dict = FIELDS_BY_NAME, kind: str = "site") -> str:
    """The separator of the header row: the one that splits it into the most field names of `fields`;
    csv.Sniffer when no separator gives any (the column check then names the unknown columns)."""
    lines = [line for line in text.splitlines() if line.strip()]
    example = HEADER_EXAMPLES.get(kind, ", ".join(list(fields)[:3]))
    if not lines:
        raise InputError(f"{path}: the {kind} file is empty; allowed: a header row of {kind} fields ({example}, "
                         f"...) and a row per {kind}.")
    header = lines[0]
    known = {d: sum(field_name(c) in fields for c in next(csv.reader([header], delimiter=d)))
             for d in DELIMITERS}
    best = max(known, key=known.get)  # ties: the first, a comma
    if known[best]:
        return best
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        raise InputError(f"{path}: cannot tell how the columns are separated: the first line {quoted(header)} "
                         f"holds no {kind} field name; allowed: a header row of {kind} fields ({example}, ...) "
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
                    known = sum(field_name(_cell(v)) in FIELDS_BY_NAME for v in row if v is not None)
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


def read_table(path: Path, fields: dict, kind: str, sheet: str | None = None) -> tuple[pd.DataFrame, int] | None:
    """Another table beside the sites (signed leases): a CSV's cells as text, or with `sheet` that sheet of a
    workbook (None when the workbook has no such sheet); (cells, number of the first data row), the source
    named in `attrs["source"]`."""
    try:
        if sheet is None:
            raw = _read_csv(path, fields, kind)
            return raw, raw.attrs["header_row"] + 1
        import openpyxl
        from openpyxl.utils import get_column_letter
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            if sheet not in book.sheetnames:
                return None
            rows = [[_excel_value(v) for v in row] for row in book[sheet].iter_rows(values_only=True)]
        finally:
            book.close()
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file, said in one sentence
        what = f"sheet {sheet} of an Excel workbook" if sheet else "CSV"
        raise InputError(f"{path}: cannot be read as {what} ({_reason(exc, path)}).") from None
    raw, header_row = _with_header(rows, lambda i: get_column_letter(i + 1))
    raw.attrs["source"] = f"{path} (sheet {sheet})"
    return raw, header_row + 1


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
    table.columns = [field_name(c) if field_name(c) in FIELDS_BY_NAME else c for c in table.columns]  # 'LAT' is lat
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
