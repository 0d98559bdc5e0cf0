"""The site schema: one registry that drives loading, validation, the README data dictionary and the
workbook's `Sites` sheet headers.

Each `SiteField` states its name, type, unit, default (None = required), allowed range and meaning. A number
must be finite and inside its hard range [minimum, maximum] (an error outside); past its soft maximum it is
still loaded but `sites.load.site_warnings` says so (a value people rarely mean: a 3 GW site, a USD 5bn opening).
"""

import math
import re
from dataclasses import dataclass

from kernel.quarters import is_quarter


@dataclass(frozen=True)
class SiteField:
    name: str
    kind: str  # "text", "number", "integer", "bool", "quarter", "choice"
    unit: str
    description: str
    default: object = None  # None: required
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    soft_maximum: float | None = None  # above it: a warning (site_warnings), not an error

    @property
    def required(self) -> bool:
        return self.default is None

    def allowed(self) -> str:
        """Plain-words description of the allowed values, used in error messages."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "quarter":
            return "a quarter label YYYYQn with n in 1-4, e.g. 2027Q1"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "text":
            return "a non-empty text"
        what = "a whole number" if self.kind == "integer" else "a number"
        if self.minimum is not None and self.maximum is not None:
            return f"{what} from {readable(self.minimum)} to {readable(self.maximum)}"
        if self.minimum is not None:
            return f"{what} >= {readable(self.minimum)}"
        if self.maximum is not None:
            return f"{what} <= {readable(self.maximum)}"
        return what


def readable(number: float) -> str:
    """A bound or value as people write it: 10000, 0.5, -84.4; from a million on with thousands separators
    (100,000,000,000) rather than 1e+11."""
    if math.isfinite(number) and abs(number) >= 1e6 and number == int(number):
        return f"{number:,.0f}"
    return f"{number:g}"


def quoted(text: str, limit: int = 40) -> str:
    """A cell's text in quotes for a message, cut to `limit` characters so that one sentence stays short."""
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...'"


SITE_FIELDS: tuple[SiteField, ...] = (
    SiteField("name", "text", "", "Site name, unique in the portfolio."),
    SiteField("state", "text", "", "US state, two-letter postal code (default: the state the point lies "
              "in).", default=""),
    SiteField("lat", "number", "deg", "Latitude (WGS84).", minimum=-90, maximum=90),
    SiteField("lon", "number", "deg", "Longitude (WGS84).", minimum=-180, maximum=180),
    SiteField("secured_mw", "number", "MW", "Secured grid power at the meter once energised (the first "
              "step of the power ledger).", minimum=0, maximum=10_000, soft_maximum=2_000),
    SiteField("energised_quarter", "quarter", "", "First quarter the secured power is available."),
    SiteField("power_class", "choice", "", "Class of the first step: firm (AI halls and miners) or "
              "interruptible (miners only).", default="firm", choices=("firm", "interruptible")),
    SiteField("power_steps", "text", "", "Later ledger steps: QUARTER:+MW[:CLASS] separated by ';', e.g. "
              "2029Q1:+50:interruptible (class defaults to power_class).", default=""),
    SiteField("egrid_subregion", "text", "", "EPA eGRID subregion code (grid carbon), e.g. SRSO (default: the "
              "eGRID2023 polygon the point lies in).", default=""),
    SiteField("grid_tco2_per_mwh", "number", "tCO2/MWh", "Grid CO2 rate in the eGRID data year 2023 (default: "
              "the eGRID2023 total-output rate of the subregion).", default="", minimum=0, maximum=3),
    SiteField("ai_eligible", "bool", "", "AI/HPC halls may be built here.", default=False),
    SiteField("mining_allowed", "bool", "", "Bitcoin miners may run here.", default=True),
    SiteField("build_type", "choice", "", "AI build: retrofit of a mining site or greenfield campus "
              "(sets capex and lead time).", default="retrofit", choices=("retrofit", "greenfield")),
    SiteField("hall_it_mw", "number", "MW", "IT load of one AI hall (B_s).", default=0.0, minimum=0,
              maximum=2_000, soft_maximum=300),
    SiteField("max_halls", "integer", "halls", "Most AI halls the site may take.", default=0, minimum=0,
              maximum=1_000, soft_maximum=50),
    SiteField("site_opening_cost_usd", "number", "USD", "One-off cost to open the site for AI "
              "(substation, fibre, cooling plant), K_s.", default=0.0, minimum=0, maximum=1e11, soft_maximum=1e9),
    SiteField("power_usd_per_mwh_2026", "number", "USD/MWh", "Power price in 2026Q1 (escalates per "
              "scenario).", minimum=0, maximum=10_000, soft_maximum=300),
    SiteField("market", "text", "", "AI demand market the site leases into (default: its state).",
              default=""),
    SiteField("committed_halls", "integer", "halls", "AI halls already contracted (must have started by "
              "committed_start_quarter).", default=0, minimum=0, maximum=1_000),
    SiteField("committed_start_quarter", "quarter", "", "Quarter by which the committed halls have started "
              "(default: the horizon start).", default=""),
    SiteField("building_halls", "integer", "halls", "AI halls already under construction at the horizon start "
              "(count toward max_halls and reserve their grid MW from the start).", default=0, minimum=0,
              maximum=1_000),
    SiteField("building_spent_usd", "number", "USD", "Capex already spent on those halls before the horizon "
              "(sunk: not in the NPV; an AI tax basis at the horizon start).", default=0.0, minimum=0, maximum=1e11,
              soft_maximum=5e9),
    SiteField("building_remaining_usd", "number", "USD", "Capex still to pay on those halls, paid evenly from the "
              "horizon start until their online quarter.", default=0.0, minimum=0, maximum=1e11, soft_maximum=5e9),
    SiteField("building_online_quarter", "quarter", "", "Quarter those halls come online (billing 50%, then 100% "
              "from the next quarter); after the horizon start.", default=""),
    SiteField("mining_commitment_it_mw", "number", "MW", "Mining IT MW a hosting or offtake contract obliges the "
              "site to run every quarter (0: none).", default=0.0, minimum=0, maximum=10_000),
    SiteField("mining_commitment_end_quarter", "quarter", "", "Last quarter of that contract (default: the "
              "horizon end).", default=""),
    SiteField("fleet_ths", "number", "TH/s", "Existing ASIC fleet at the horizon start (default: fills the site's "
              "mining power then at fleet_j_per_th).", default="", minimum=0, maximum=1e9, soft_maximum=1e8),
    SiteField("fleet_j_per_th", "number", "J/TH", "Efficiency of that fleet (default: the scenario's "
              "fleet_j_per_th_2026).", default="", minimum=1, maximum=200),
    SiteField("fleet_retire_quarter", "quarter", "", "First quarter without that fleet (default: the scenario's "
              "fleet_retire_quarter).", default=""),
    SiteField("flex_usd_per_mw_yr", "number", "USD/MW-yr", "Curtailment and demand-response credits per grid MW "
              "of enrolled miners: those on interruptible power, or on firm power opted in (default: 60,000 in "
              "ERCOT, egrid_subregion ERCT; else 0).", default="",
              minimum=0, maximum=1e7, soft_maximum=5e5),
    SiteField("curtailed_share", "number", "ratio", "Share of hours enrolled miners are curtailed (default: 0.03 in "
              "ERCOT; else 0).", default="", minimum=0, maximum=1),
    SiteField("flex_firm_opt_in", "bool", "", "Firm power's miners enrol in curtailment programmes too (miners on "
              "interruptible power always do).", default=False),
    SiteField("power_resale_usd_per_mwh", "number", "USD/MWh", "Price at which idle firm power may be resold "
              "(fixed-price block PPAs; 0: no resale).", default=0.0, minimum=0, maximum=1e4, soft_maximum=1000),
)

FIELDS_BY_NAME = {f.name: f for f in SITE_FIELDS}

# Signed leases (sites/leases.py): one row per contract, in a `NAME.leases.csv` beside the site file or a
# `Leases` sheet of a site or plan workbook.
LEASE_FIELDS: tuple[SiteField, ...] = (
    SiteField("tenant", "text", "", "Tenant of the signed lease."),
    SiteField("site", "text", "", "Site that hosts it (a site name of the portfolio, AI-eligible)."),
    SiteField("it_mw", "number", "MW", "Critical IT MW leased, above 0.", minimum=0, maximum=10_000,
              soft_maximum=1_000),
    SiteField("rate_usd_per_kw_month", "number", "USD/kW-month", "Contract rate in the start quarter.", minimum=0,
              maximum=10_000, soft_maximum=1_000),
    SiteField("escalator_per_yr", "number", "1/yr", "Contract escalator: the rate grows by it each year from the "
              "start quarter.", minimum=-0.5, maximum=0.5),
    SiteField("start_quarter", "quarter", "", "First billed quarter (inside the horizon)."),
    SiteField("term_quarters", "integer", "quarters", "Quarters billed at the contract rate; after them the MW "
              "stay leased at the market rate.", minimum=1, maximum=400),
    SiteField("ramp_quarters", "integer", "quarters", "Quarters over which billing ramps linearly to it_mw "
              "(1: all of it from the start quarter); at most term_quarters.", default=1, minimum=1, maximum=40),
)
LEASE_FIELDS_BY_NAME = {f.name: f for f in LEASE_FIELDS}
DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")  # 12,5 or ,5: a decimal comma (European spreadsheets)


def parse_row(row: dict, where: str, fields) -> tuple[dict, list[str]]:
    """Typed record of one table row over `fields` (defaults for empty optional cells and for bad cells) and its
    cell problems, one sentence each."""
    record, problems = {}, []
    for field in fields:
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


def parse_value(field: SiteField, raw: object) -> object:
    """Convert one raw cell to the field's type. Raises ValueError with the reason (no file context)."""
    text = str(raw).strip()
    if field.kind == "text":
        if not text:
            raise ValueError("is empty")
        return text
    if field.kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "y"):
            return True
        if lowered in ("false", "0", "no", "n"):
            return False
        raise ValueError(f"{quoted(text)} is not true or false")
    if field.kind == "quarter":
        if not is_quarter(text):
            raise ValueError(f"{quoted(text)} is not a quarter label")
        return text
    if field.kind == "choice":
        if text.lower() not in field.choices:
            raise ValueError(f"{quoted(text)} is not allowed")
        return text.lower()
    try:
        number = float(text)
    except ValueError:
        if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text):  # 1,200: a thousands separator or a decimal comma?
            hint = (f" (write {text.replace(',', '')} without a thousands separator, or "
                    f"{text.replace(',', '.')} with a decimal point)")
        else:
            hint = f" (use a decimal point: {text.replace(',', '.')})" if DECIMAL_COMMA.match(text) else ""
        raise ValueError(f"{quoted(text)} is not a number{hint}") from None
    if math.isnan(number):
        raise ValueError(f"{quoted(text)} is not a number")
    if math.isinf(number):
        raise ValueError(f"{quoted(text)} is not a finite number")
    if field.kind == "integer":
        if number != int(number):
            raise ValueError(f"{quoted(text)} is not a whole number")
        number = int(number)
    if field.minimum is not None and number < field.minimum:
        raise ValueError(f"{text} is {'negative' if number < 0 and field.minimum == 0 else 'too small'}")
    if field.maximum is not None and number > field.maximum:
        raise ValueError(f"{text} is too large")
    return number
