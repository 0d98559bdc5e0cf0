"""Load a site portfolio and validate it, collecting every problem before raising.

`load_sites(path)` returns one row per site (index `name`) with the columns of `SITE_FIELDS`, typed,
or raises `InputError` listing each problem as one sentence: file, row (site), field, value, rule.
"""

from pathlib import Path

import pandas as pd

from sites.errors import InputError
from sites.schema import FIELDS_BY_NAME, SITE_FIELDS, parse_value

REFERENCE_PORTFOLIO = Path(__file__).parent / "data" / "reference_portfolio.csv"


def load_sites(path: str | Path = REFERENCE_PORTFOLIO) -> pd.DataFrame:
    """Read a CSV portfolio and return the validated site table."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: the site file does not exist.")
    if path.suffix.lower() != ".csv":
        raise InputError(f"{path}: unsupported site file type '{path.suffix}'; allowed: .csv.")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as CSV ({str(exc).strip().splitlines()[0]}).") from None
    return validate_sites(raw, source=str(path))


def validate_sites(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Type and check every cell of `raw` (strings); raise one InputError listing all problems."""
    problems: list[str] = []
    columns = [str(c).strip() for c in raw.columns]
    raw = raw.set_axis(columns, axis=1)
    unknown = [c for c in columns if c not in FIELDS_BY_NAME]
    for column in unknown:
        problems.append(f"{source}: column '{column}' is not a site field; allowed: "
                        f"{', '.join(FIELDS_BY_NAME)}.")
    for field in SITE_FIELDS:
        if field.required and field.name not in columns:
            problems.append(f"{source}: required column '{field.name}' is missing.")
    if problems:
        raise InputError(problems)
    if raw.empty:
        raise InputError(f"{source}: the site file has no sites.")

    records = []
    for position, row in enumerate(raw.to_dict("records"), start=2):  # row 1 is the header
        site = str(row.get("name", "")).strip() or f"line {position}"
        where = f"{source}: row {position} ({site})"
        record = {}
        for field in SITE_FIELDS:
            cell = row.get(field.name, "")
            if str(cell).strip() == "":
                if field.required:
                    problems.append(f"{where}, field {field.name}: value is missing; allowed: "
                                    f"{field.allowed()}.")
                record[field.name] = field.default
                continue
            try:
                record[field.name] = parse_value(field, cell)
            except ValueError as reason:
                problems.append(f"{where}, field {field.name}: {reason}; allowed: {field.allowed()}.")
                record[field.name] = field.default
        problems.extend(_row_rules(record, where))
        records.append(record)

    names = pd.Series([r["name"] for r in records])
    for name in sorted(set(names[names.duplicated()].dropna())):
        problems.append(f"{source}: site name '{name}' appears more than once; allowed: unique names.")
    if problems:
        raise InputError(problems)
    table = pd.DataFrame.from_records(records)
    table["market"] = table["market"].where(table["market"] != "", table["state"])
    table["max_halls"] = table["max_halls"].astype(int)
    return table.set_index("name", drop=True)


def _row_rules(record: dict, where: str) -> list[str]:
    """Rules that link fields of one row."""
    problems = []
    if record.get("ai_eligible"):
        if not record.get("hall_it_mw"):
            problems.append(f"{where}, field hall_it_mw: an AI-eligible site needs a hall size above 0 MW.")
        if not record.get("max_halls"):
            problems.append(f"{where}, field max_halls: an AI-eligible site needs at least 1 hall.")
    if not record.get("ai_eligible") and not record.get("mining_allowed"):
        problems.append(f"{where}, field mining_allowed: a site must allow mining or be AI-eligible.")
    return problems
