"""A new scenario file to fill in (`hashpivot scenarios new NAME --extends base`): `name`, `description`,
`extends`, then the commonly changed keys as commented-out lines with the extended scenario's current
value, unit and meaning, e.g.

    # btc_price_usd_2026 = 90000  # USD/BTC: BTC price in 2026Q1.

Uncommented, each line is valid TOML for the key's type, so the file loads as written and after any line
is uncommented.
"""

import math
import re

from models.scenario import SCENARIO_FIELDS, Scenario

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# (heading, keys): the values planners change most (the README's tornado and scenario-results drivers).
COMMON = (("Bitcoin", ("btc_price_usd_2026", "btc_price_growth_per_yr", "hashrate_feedback",
                       "network_hashcost_usd_per_ph_day_2026")),
          ("Mining fleet", ("asic_usd_per_th_2026", "fleet_retire_quarter")),
          ("AI/HPC leases and build", ("lease_usd_per_kw_month", "ai_capex_multiplier")),
          ("Power", ("power_price_multiplier",)),
          ("Cash and financing", ("opening_cash_usd", "cash_floor_usd", "loan_to_cost")),
          ("Carbon", ("carbon_price_usd_per_t",)))
TABLE = "market_absorption_it_mw_per_quarter"


def plain_name_problem(name: str) -> str | None:
    """Why `name` is not a plain scenario name (one sentence), or None."""
    if NAME.match(name):
        return None
    return (f"scenarios new {name!r}: NAME must be a plain name of letters, digits, '-' or '_' (e.g. my-case), "
            "not a path or a file name; choose the file with --out.")


def toml_value(value) -> str:
    """A value as TOML: quarters quoted, whole numbers as integers (200_000_000), inf, decimals as is."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if float(value).is_integer() and abs(value) < 1e15:
        whole = int(value)
        return f"{whole:_d}" if abs(whole) >= 1_000_000 else str(whole)
    return repr(float(value))


def _line(key: str, value, unit: str, meaning: str) -> str:
    return f"# {key} = {toml_value(value)}  # {unit}: {meaning}"


def scenario_text(name: str, extends: str, parent: Scenario, file: str | None = None) -> str:
    """The TOML text of a new scenario `name` that extends `extends` (resolved as `parent`), to be written
    as `file` (default NAME.toml; named in the check and solve hints)."""
    file = file or f"{name}.toml"
    lines = [f"# {name}: a hashpivot scenario; every value not set here comes from {extends}.",
             "# To change a value, remove the leading '# ' of its line and edit the number (the values shown are",
             f"# those of {extends}). Any other key of the README's scenario table may be added the same way;",
             f"# `hashpivot scenarios show {extends}` lists every value.",
             f"# Check:  hashpivot scenarios show {file}      Solve:  hashpivot solve --scenario {file}",
             f'name = "{name}"',
             f'description = "{name}: {extends} with changes (say which here)."',
             f'extends = "{extends}"']
    for heading, keys in COMMON:
        lines += ["", f"# {heading}"]
        for key in keys:
            meta = SCENARIO_FIELDS[key].metadata
            lines.append(_line(key, getattr(parent, key), meta["unit"], meta["description"]))
    meta = SCENARIO_FIELDS[TABLE].metadata
    lines += ["", f"# {TABLE} ({meta['unit']}): {meta['description']}",
              "# Every AI-eligible site leases into its market (default: its state), and every such market needs",
              f"# an entry. Entries written here are merged with those of {extends}: uncomment the [table] line",
              "# below and the markets to change or add (e.g. PA = 100). The table must stay last in the file: TOML",
              "# puts every key after a [table] line into that table.",
             f"# [{TABLE}]"]
    lines += [f"# {market} = {toml_value(value)}" for market, value in getattr(parent, TABLE).items()]
    return "\n".join(lines) + "\n"
