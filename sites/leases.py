"""Signed AI leases: contracts the plan must host, read beside the site table and validated (no Pyomo here).

A portfolio's signed leases are a table with the columns of `LEASE_FIELDS` (sites/schema.py), one row per
contract: `NAME.leases.csv` beside the site file `NAME.csv` (`.xlsx`, `.geojson`, `.gpkg`), or a `Leases`
sheet of the site workbook (or of a plan workbook, for `hashpivot solve --from`). Without either the
portfolio has none. `load_leases` returns them as `SignedLease` records, or raises one InputError with a
sentence per problem (file, row, field, what is wrong, what is allowed). Whether the plan can host them
(halls, power, lead time) is the model's to say: an unhostable lease is explained as an infeasibility.

A lease bills it_mw * share(k) in the k-th quarter from its start, share(k) = min(1, (k+1) / ramp_quarters),
at rate * (1+escalator)^(k/4) for k < term_quarters; then its MW stay leased at the market rate
(optimizer/formulation/leasing.py).
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kernel.errors import InputError
from kernel.quarters import ordinal
from sites.readers import field_name, read_table
from sites.schema import LEASE_FIELDS, LEASE_FIELDS_BY_NAME, parse_row, quoted

LEASES_SHEET = "Leases"
LEASES_SUFFIX = ".leases.csv"


@dataclass(frozen=True)
class SignedLease:
    tenant: str
    site: str
    it_mw: float
    rate_usd_per_kw_month: float
    escalator_per_yr: float
    start_quarter: str
    term_quarters: int
    ramp_quarters: int = 1
    row: str = field(default="", compare=False)  # where it was read, for messages

    def billed_share(self, k: int) -> float:
        """share(k) of it_mw billed k quarters after the start quarter: 0 before, (k+1)/ramp up to 1."""
        return 0.0 if k < 0 else min(1.0, (k + 1) / self.ramp_quarters)

    @property
    def name(self) -> str:
        """How a sentence names the contract."""
        return f"{self.tenant}'s {self.it_mw:g} IT MW at {self.site} from {self.start_quarter}"


def lease_file(site_path: str | Path) -> Path:
    """The lease table beside a site file: sites.csv -> sites.leases.csv."""
    path = Path(site_path)
    return path.with_name(path.stem + LEASES_SUFFIX)


def load_leases(site_path: str | Path, sites: pd.DataFrame, horizon: tuple[str, str] | None = None
                ) -> tuple[SignedLease, ...]:
    """The signed leases beside a site file (its NAME.leases.csv, else its workbook's Leases sheet), validated
    against the site table `sites` (index: site name) and the horizon; () when there are none."""
    path, beside = Path(site_path), lease_file(site_path)
    if beside.is_file():
        found = read_table(beside, LEASE_FIELDS_BY_NAME, "lease")
    elif path.suffix.lower() == ".xlsx":
        found = read_table(path, LEASE_FIELDS_BY_NAME, "lease", sheet=LEASES_SHEET)
    else:
        found = None
    if found is None:
        return ()
    raw, first_row = found
    return validate_leases(raw, raw.attrs["source"], sites, horizon, first_row)


def validate_leases(raw: pd.DataFrame, source: str, sites: pd.DataFrame, horizon: tuple[str, str] | None = None,
                    first_row: int = 2) -> tuple[SignedLease, ...]:
    """Type and check every cell of `raw` (text cells, headers in any case), then each row against the sites
    and the horizon; one InputError listing every problem."""
    names = [field_name(c) for c in raw.columns]
    problems = [f"{source}: column {quoted(str(c))} is not a lease field; allowed: "
                f"{', '.join(LEASE_FIELDS_BY_NAME)}." for c, n in zip(raw.columns, names)
                if n not in LEASE_FIELDS_BY_NAME]
    problems += [f"{source}: required column '{f.name}' is missing." for f in LEASE_FIELDS
                 if f.required and f.name not in names]
    if problems:
        raise InputError(problems)
    leases = []
    for i, row in enumerate(raw.set_axis(names, axis=1).to_dict("records")):
        if all(str(v).strip() == "" for v in row.values()):
            continue
        where = f"{source}: row {first_row + i} ({str(row.get('tenant', '')).strip() or 'no tenant'})"
        record, found = parse_row(row, where, LEASE_FIELDS)
        if not found:
            found = lease_rules(record, where, sites, horizon)
        problems += found
        if not found:
            leases.append(SignedLease(**record, row=where))
    if problems:
        raise InputError(problems)
    return tuple(leases)


def lease_rules(record: dict, where: str, sites: pd.DataFrame, horizon: tuple[str, str] | None) -> list[str]:
    """The rules that link a row's fields, the site table and the horizon (also for leases given through the
    API: optimizer/data.py)."""
    problems = []
    if record["it_mw"] <= 0:
        problems.append(f"{where}, field it_mw: {record['it_mw']:g} IT MW leases nothing; allowed: a number above 0.")
    if record["ramp_quarters"] > record["term_quarters"]:
        problems.append(f"{where}, field ramp_quarters: a ramp of {record['ramp_quarters']} quarters is longer than "
                        f"the term of {record['term_quarters']}; allowed: at most term_quarters.")
    site = record["site"]
    if site not in sites.index:
        problems.append(f"{where}, field site: '{site}' is not a site of the portfolio; allowed: one of "
                        f"{', '.join(map(str, sites.index[:10]))}{' ...' if len(sites) > 10 else ''}.")
    elif not sites.at[site, "ai_eligible"]:
        problems.append(f"{where}, field site: {site} is not AI-eligible, so it cannot host a lease; allowed: an "
                        f"AI-eligible site (or set ai_eligible true for {site}).")
    if horizon and not ordinal(horizon[0]) <= ordinal(record["start_quarter"]) <= ordinal(horizon[1]):
        problems.append(f"{where}, field start_quarter: {record['start_quarter']} is outside the horizon "
                        f"{horizon[0]}-{horizon[1]}; allowed: a quarter from {horizon[0]} to {horizon[1]}.")
    return problems


def lease_table(leases: tuple[SignedLease, ...]) -> pd.DataFrame:
    """The leases as a table with the LEASE_FIELDS columns (a plan workbook's Leases sheet)."""
    return pd.DataFrame([{f.name: getattr(lease, f.name) for f in LEASE_FIELDS} for lease in leases],
                        columns=[f.name for f in LEASE_FIELDS])
