"""The inputs of a plan workbook: its `Sites` and `Assumptions` sheets, as a planner may have edited them,
read back for `hashpivot solve --from plan.xlsx`."""

from pathlib import Path

import pandas as pd

from kernel.errors import InputError
from models.scenario import scenario_from_rows
from sites.load import as_text, validate_sites
from sites.schema import FIELDS_BY_NAME


def read_inputs(path: str | Path, overrides: tuple[str, ...] = ()):
    """The site table and scenario of a plan workbook's `Sites` and `Assumptions` sheets (as a planner may
    have edited them), with `--set` overrides on top: (sites, scenario)."""
    path = Path(path)
    try:
        sheets = pd.read_excel(path, sheet_name=["Sites", "Assumptions"], dtype=object)
    except (OSError, ValueError, KeyError) as problem:
        raise InputError(f"{path}: cannot read the Sites and Assumptions sheets of a plan workbook ({problem}).") from None
    sites = sheets["Sites"]
    sites = as_text(sites[[c for c in sites.columns if c in FIELDS_BY_NAME]].dropna(how="all"))
    table = validate_sites(sites, source=f"{path} (Sites sheet)")
    rows = sheets["Assumptions"]
    first = rows[rows["scenario"] == rows["scenario"].iloc[0]] if len(rows) else rows
    scenario = scenario_from_rows(zip(first["key"], first["value"]), f"{path} (Assumptions sheet)", overrides)
    return table, scenario
