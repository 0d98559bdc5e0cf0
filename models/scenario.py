"""Scenario: every market, cost and policy value the model uses, with its unit, in one registry.

`Scenario` is a frozen dataclass whose field metadata (unit, range, description) is the single registry
that drives TOML loading, `--set` overrides, validation messages, the README table and the workbook's
`Assumptions` sheet. Levels named `_2026` are 2026Q1 values; growth compounds quarterly from there:
v(t) = v_2026 * (1+g)^(k/4), k = quarters since 2026Q1.
"""

import math
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from kernel.errors import InputError
from kernel.quarters import is_quarter, ordinal

SCENARIO_DIR = Path(__file__).parent / "scenarios"
BASE_SCENARIO = SCENARIO_DIR / "base.toml"


def _p(unit: str, description: str, minimum: float | None = 0.0, maximum: float | None = None,
       soft: float | None = None, infinite: bool = False, choices: tuple[str, ...] = ()):
    """A scenario value's registry entry: unit, meaning, hard range [minimum, maximum] (an error outside),
    a soft maximum (a warning above), whether infinity means something ("no limit"), and for a word
    value the words allowed (`choices`; a text value without choices is a quarter label)."""
    return field(metadata={"unit": unit, "description": description, "min": minimum, "max": maximum,
                           "soft": soft, "infinite": infinite, "choices": choices})


@dataclass(frozen=True)
class Scenario:
    # time
    horizon_start: str = _p("quarter", "First quarter of the planning horizon.")
    horizon_end: str = _p("quarter", "Last quarter of the planning horizon.")
    quarter_days: float = _p("days", "Days per quarter.", 1, 100)
    discount_rate_per_yr: float = _p("1/yr", "Discount rate r of unlevered cash flows; df[t] = (1+r)^-((t+1)/4).",
                                     0, 1)
    valuation: str = _p("word", "Objective: apv (unlevered cash flows at r, project-debt tax shields at its "
                        "rate, less issuance costs) or levered (every flow, financing included, at r).",
                        choices=("apv", "levered"))
    cost_of_equity_per_yr: float = _p("1/yr", "Cost of equity: discounts the flows to equity for the reported "
                                      "equity NPV (not the objective).", 0, 1)
    terminal_quarters: int = _p("quarters", "Quarters the last quarter's net lease margin is held flat "
                                "after the horizon (terminal value).", 0, 400)
    # bitcoin network
    blocks_per_day: float = _p("blocks/day", "Blocks mined per day.", 1, 1000)
    subsidy_btc_2026: float = _p("BTC/block", "Block subsidy in 2026Q1.", maximum=50)
    first_halving_quarter: str = _p("quarter", "Quarter the subsidy first halves.")
    halving_interval_quarters: int = _p("quarters", "Quarters between halvings.", 1, 100)
    halving_hashrate_dip: float = _p("ratio", "Network-hashrate multiplier in each halving quarter (miners "
                                     "switched off at once), recovering linearly over halving_recovery_quarters.",
                                     0.01, 2)
    halving_recovery_quarters: int = _p("quarters", "Quarters over which the halving dip recovers (1: the halving "
                                        "quarter only).", 1, 40)
    fee_share_of_subsidy: float = _p("ratio", "Transaction fees as a share of the subsidy.", 0, 10)
    btc_price_usd_2026: float = _p("USD/BTC", "BTC price in 2026Q1.", maximum=1e7, soft=1e6)
    btc_price_growth_per_yr: float = _p("1/yr", "BTC price growth.", -0.99, 10)
    network_hashrate_ehs_2026: float = _p("EH/s", "Network hashrate in 2026Q1.", 1e-6, maximum=1e6, soft=1e4)
    hashrate_feedback: int = _p("0/1", "1: network hashrate answers to hashprice over the network's hashcost "
                                "(free entry, with a lag); 0: it grows at hashrate_growth_per_yr.", 0, 1)
    hashrate_growth_per_yr: float = _p("1/yr", "Network hashrate growth when hashrate_feedback = 0.", -0.99, 10)
    network_hashcost_usd_per_ph_day_2026: float = _p("USD/PH/day", "All-in hashcost of the network's median "
                                                     "miner in 2026Q1 (feedback).", 1e-3, maximum=1e5, soft=1e3)
    network_hashcost_decline_per_yr: float = _p("1/yr", "Yearly fall of the network's hashcost (efficiency).",
                                                -0.99, 0.99)
    hashrate_feedback_intercept: float = _p("1/quarter", "Quarterly hashrate growth at hashprice = hashcost "
                                            "(feedback).", -1, 1)
    hashrate_feedback_elasticity: float = _p("1/quarter", "Quarterly growth per unit of ln(hashprice / "
                                             "hashcost) (feedback).", 0, 10)
    hashrate_growth_min_per_quarter: float = _p("1/quarter", "Least quarterly hashrate growth (feedback; "
                                                "exit limit).", -0.99, 0)
    hashrate_growth_max_per_quarter: float = _p("1/quarter", "Most quarterly hashrate growth (feedback; "
                                                "manufacturing and deployment limit).", 0, 10)
    hashrate_entry_lag_quarters: int = _p("quarters", "Entry answers to the hashprice ratio this many quarters "
                                          "earlier (orders to hashrate); exit answers to the current one.", 0, 20)
    # mining fleet
    fleet_j_per_th_2026: float = _p("J/TH", "Existing fleet's efficiency (sites that leave fleet_j_per_th "
                                    "blank).", 1e-3, maximum=200)
    fleet_retire_quarter: str = _p("quarter", "First quarter without the existing fleet (sites that leave "
                                   "fleet_retire_quarter blank): it is retired at the end of its life.")
    asic_j_per_th_2026: float = _p("J/TH", "Frontier efficiency of new ASICs in 2026Q1.", 1e-3, maximum=200)
    asic_efficiency_gain_per_yr: float = _p("1/yr", "Yearly fall of the frontier J/TH.", 0, 0.99)
    asic_usd_per_th_2026: float = _p("USD/TH", "Price of new frontier ASICs in 2026Q1.", maximum=1e4, soft=200)
    asic_price_decline_per_yr: float = _p("1/yr", "Yearly fall of the frontier $/TH.", -0.99, 0.99)
    asic_life_quarters: int = _p("quarters", "Useful life of an ASIC: it is retired after this many operating "
                                 "quarters.", 1, 100)
    asic_salvage_share: float = _p("ratio", "Sale value at retirement as a share of the purchase price "
                                   "(book value straight-line to it marks fleets alive at the horizon end).", 0, 1)
    asic_delivery_quarters: int = _p("quarters", "Quarters from purchase (paid) to the first operating quarter.",
                                     0, 12)
    asic_purchase_max_ths_per_quarter: float = _p("TH/s per quarter", "Portfolio-wide ASIC purchases per "
                                                  "quarter (inf: no limit; 0: no purchases).",
                                                  infinite=True)
    mining_infra_usd_per_it_mw: float = _p("USD/IT MW", "Mining infrastructure capex per IT MW of miners beyond "
                                           "the site's infrastructure at the horizon start.", maximum=1e8,
                                           soft=5e6)
    pool_fee_share: float = _p("ratio", "Pool fee as a share of mining revenue.", 0, 1)
    mining_uptime: float = _p("ratio", "Share of the quarter miners run; scales revenue and power.", 0, 1)
    mining_pue: float = _p("grid MW/IT MW", "Mining power usage effectiveness.", 1, 3)
    mining_opex_usd_per_mwh: float = _p("USD/MWh", "Non-power mining opex per grid MWh.",
                                        maximum=1000, soft=100)
    power_price_escalation_per_yr: float = _p("1/yr", "Growth of every site's power price.", -0.99, 10)
    power_price_multiplier: float = _p("ratio", "Multiplier on every site's power price (sensitivities).",
                                       maximum=100, soft=5)
    # AI/HPC
    lease_usd_per_kw_month: float = _p("USD/kW-month", "Market lease rate of new signings per kW of critical IT "
                                       "in 2026Q1.", maximum=1e4, soft=1000)
    lease_escalator_per_yr: float = _p("1/yr", "Contract escalator: a lease the plan signs keeps its signing "
                                       "quarter's market rate, growing at this rate, for its term.", -0.99, 10)
    lease_market_growth_per_yr: float = _p("1/yr", "Growth of the market rate of new signings from "
                                           "lease_usd_per_kw_month: rate(t) = rate_2026 * (1+g)^(k/4).", -0.99, 10)
    lease_term_quarters: int = _p("quarters", "Term of a lease the plan signs; then it re-prices at the market "
                                  "rate for another term.", 1, 400)
    ai_billing_utilisation: float = _p("ratio", "Share of leased MW billed.", 0, 1)
    landlord_opex_share: float = _p("ratio", "Landlord opex as a share of lease revenue (NNN lease).", 0, 1)
    ai_capex_retrofit_usd_per_it_mw: float = _p("USD/IT MW", "AI capex per MW of IT load, retrofit site.",
                                                maximum=1e9, soft=5e7)
    ai_capex_greenfield_usd_per_it_mw: float = _p("USD/IT MW", "AI capex per MW of IT load, greenfield.",
                                                  maximum=1e9, soft=5e7)
    ai_capex_multiplier: float = _p("ratio", "Multiplier on both AI capex levels (sensitivities).",
                                    maximum=100, soft=5)
    lead_quarters_retrofit: int = _p("quarters", "Construction lead time L, retrofit site.", 1, 40)
    lead_quarters_greenfield: int = _p("quarters", "Construction lead time L, greenfield site.", 1, 40)
    grid_mw_per_it_mw: float = _p("grid MW/IT MW", "Grid MW reserved per MW of AI IT load.", 1, 3)
    ai_pue: float = _p("ratio", "AI energy PUE (emissions reporting).", 1, 3)
    ai_load_factor: float = _p("ratio", "Average AI IT draw as a share of leased MW (emissions).", 0, 1)
    earliest_ai_revenue_quarter: str = _p("quarter", "No lease revenue before this quarter.")
    max_ai_start_it_mw_per_quarter: float = _p("IT MW/quarter", "Portfolio-wide AI construction starts "
                                               "per quarter (inf: no limit).", infinite=True)
    capex_budget_usd_per_quarter: float = _p("USD/quarter", "Cap on AI and site-opening capex paid per "
                                             "quarter (inf: no budget).", infinite=True)
    market_absorption_it_mw_per_quarter: dict = _p("IT MW/quarter", "New leased MW each market can "
                                                    "absorb per quarter, by market (inf: no limit).", soft=1e4,
                                                    infinite=True)
    # grid carbon
    grid_tco2_decline_per_yr: dict = _p("1/yr", "Yearly decline of the grid CO2 rate from its 2023 (eGRID2023) "
                                        "level, by subregion.", -1, 1)
    grid_tco2_decline_default_per_yr: float = _p("1/yr", "Yearly decline for subregions not listed in "
                                                 "grid_tco2_decline_per_yr.", -1, 1)
    grid_tco2_floor_share: float = _p("ratio", "Floor of the grid CO2 rate as a share of its 2023 level.", 0, 1)
    grid_tco2_multiplier: float = _p("ratio", "Multiplier on every site's grid CO2 rate (e.g. ~1.65 for the "
                                     "non-baseload rate of incremental load).", 0, 5)
    # utilization
    utilization_min_share: float = _p("ratio", "Least leased share of a hall's MW once it has been online "
                                      "for utilization_after_quarters.", 0, 1)
    utilization_after_quarters: int = _p("quarters", "Quarters online before the utilization floor applies "
                                         "(K).", 0, 40)
    # liquidity
    opening_cash_usd: float = _p("USD", "Cash on hand at the start of the horizon.", None,
                                 maximum=1e13, soft=1e11)
    cash_floor_usd: float = _p("USD", "Least cash balance at every quarter end (-inf: no floor).", None,
                               maximum=1e13, soft=1e11, infinite=True)
    # financing
    loan_to_cost: float = _p("ratio", "AI project debt as a share of the capex of halls whose capacity is "
                             "leased.", 0, 0.95)
    project_debt_rate_per_yr: float = _p("1/yr", "Interest rate of AI project debt.", 0, 1)
    project_debt_grace_quarters: int = _p("quarters", "Quarters after a draw before its amortisation starts.",
                                          0, 40)
    project_debt_term_quarters: int = _p("quarters", "Straight-line amortisation term of each draw.", 1, 200)
    revolver_limit_usd: float = _p("USD", "Corporate revolver limit.", maximum=1e13, soft=1e11)
    revolver_rate_per_yr: float = _p("1/yr", "Interest rate of the revolver.", 0, 1)
    equity_max_usd_per_quarter: float = _p("USD/quarter", "Most new equity raised per quarter (0: off).",
                                           maximum=1e13, soft=1e11)
    equity_issuance_cost_share: float = _p("ratio", "Issuance cost as a share of equity raised.", 0, 1)
    # covenants
    covenant_dscr_min: float = _p("ratio", "Least debt-service coverage: cash flow available for debt service "
                                  "over interest plus scheduled principal, from the first grace period's end "
                                  "(0: none).", 0, 10)
    covenant_dscr_window_quarters: int = _p("quarters", "Quarters the DSCR test adds up (1: each quarter; 4: "
                                            "trailing four quarters).", 1, 8)
    covenant_leverage_max: float = _p("ratio", "Most debt (project debt + revolver) over trailing four-quarter "
                                      "EBITDA at each quarter end (inf: none).", 0, infinite=True)
    # taxes
    tax_rate: float = _p("ratio", "Flat corporate tax rate on operating profit less depreciation and "
                         "interest.", 0, 1)
    bonus_depreciation_share: float = _p("ratio", "Share of AI M&E, site opening and ASIC capex expensed "
                                         "when paid (bonus depreciation; 0 turns it off).", 0, 1)
    ai_capex_shell_share: float = _p("ratio", "Share of AI capex that is building shell (never bonus).", 0, 1)
    ai_mep_tax_life_yr: float = _p("yr", "Straight-line tax life of AI mechanical/electrical capex and "
                                   "site opening.", 1, 100)
    ai_shell_tax_life_yr: float = _p("yr", "Straight-line tax life of the AI building shell.", 1, 100)
    asic_tax_life_yr: float = _p("yr", "Straight-line tax life of ASICs.", 1, 100)
    asic_tax_basis_usd: float = _p("USD", "Undepreciated ASIC tax basis at the horizon start.",
                                   maximum=1e13, soft=1e11)
    opening_tax_loss_usd: float = _p("USD", "Tax losses carried forward into the horizon.",
                                     maximum=1e13, soft=1e11)
    # carbon
    carbon_price_usd_per_t: float = _p("USD/tCO2", "Carbon price on market-based emissions (0: none).",
                                       maximum=1e4, soft=1000)
    carbon_cap_tco2_per_year: float = _p("tCO2/yr", "Cap on market-based emissions in the first horizon "
                                         "year (inf: none).", infinite=True)
    carbon_cap_decline_per_yr: float = _p("1/yr", "Yearly fall of the cap as a share of its first-year "
                                          "level (linear).", 0, 1)
    carbon_cap_floor_share: float = _p("ratio", "The cap never falls below this share of its first-year "
                                       "level.", 0, 1)
    carbon_intensity_cap_tco2_per_mwh: float = _p("tCO2/MWh", "Cap on market-based emissions per MWh "
                                                  "drawn, per calendar year (inf: none).", infinite=True)
    certificate_usd_per_mwh: float = _p("USD/MWh", "Price of clean-energy certificates.", maximum=1e4, soft=500)
    certificate_limit_mwh_per_year: float = _p("MWh/yr", "Most certificates purchasable per year.",
                                               infinite=True)

    def describe(self) -> list[dict]:
        """One row per value: key, value, unit, description (the `Assumptions` sheet)."""
        rows = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                for sub, subvalue in value.items():
                    rows.append({"key": f"{f.name}.{sub}", "value": subvalue, "unit": f.metadata["unit"],
                                 "description": f.metadata["description"]})
            else:
                rows.append({"key": f.name, "value": value, "unit": f.metadata["unit"],
                             "description": f.metadata["description"]})
        return rows

    @property
    def horizon(self) -> tuple[str, str]:
        """(first, last) quarter label of the planning horizon."""
        return self.horizon_start, self.horizon_end

    def carbon_cap_tco2(self, year: int) -> float:
        """cap(y) = cap_0 * max(floor, 1 - decline * (y - y_0)), y_0 the first horizon year."""
        years = year - ordinal(self.horizon_start) // 4
        return self.carbon_cap_tco2_per_year * max(self.carbon_cap_floor_share,
                                                   1 - self.carbon_cap_decline_per_yr * years)

    def with_values(self, **values) -> "Scenario":
        """A copy with some values replaced (validated)."""
        return _validate(replace(self, **values), "scenario")


SCENARIO_FIELDS = {f.name: f for f in fields(Scenario)}


def scenario_path(name_or_path: str | Path) -> Path:
    """A bundled scenario name (`bear`) or a TOML path -> the file's path."""
    text = str(name_or_path)
    if not text.endswith(".toml") and (SCENARIO_DIR / f"{text}.toml").is_file():
        return SCENARIO_DIR / f"{text}.toml"
    return Path(text)


def list_scenarios() -> list[tuple[str, str, str]]:
    """Bundled scenarios: (name, extends, description)."""
    rows = []
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        rows.append((path.stem, str(data.get("extends", "")), str(data.get("description", ""))))
    return rows


def load_scenario(path: str | Path = BASE_SCENARIO, overrides: list[str] | tuple[str, ...] = ()
                  ) -> Scenario:
    """Read a scenario TOML or bundled name (following `extends` chains), apply `key=value` overrides
    and validate."""
    return resolve_scenario(path, overrides)[0]


def resolve_scenario(path: str | Path = BASE_SCENARIO, overrides: list[str] | tuple[str, ...] = ()
                     ) -> tuple[Scenario, dict]:
    """(Scenario, key -> the file or `--set` each value came from)."""
    path = scenario_path(path)
    raw, sources = _read_chain(path, [])
    return _complete(raw, str(path), overrides, sources), sources


def scenario_from_rows(rows, source: str, overrides: tuple[str, ...] = ()) -> Scenario:
    """A scenario from (key, value) rows such as a plan's Assumptions sheet (table entries as KEY.NAME
    rows), then `key=value` overrides; every key must be present."""
    raw: dict = {}
    for key, value in rows:
        name, _, sub = str(key).strip().partition(".")
        if name not in SCENARIO_FIELDS:
            raise InputError(f"{source}: unknown scenario key '{key}'; see the README's scenario table for the "
                             "allowed keys.")
        if sub:
            raw.setdefault(name, {})[sub] = value
        else:
            raw[name] = value
    for name, f in SCENARIO_FIELDS.items():  # a table whose every entry was deleted is empty
        if name not in raw and (f.type == "dict" or getattr(f.type, "__name__", "") == "dict"):
            raw[name] = {}
    return _complete(raw, source, overrides)


def _complete(raw: dict, source: str, overrides, sources: dict | None = None) -> Scenario:
    """Every key of `raw` typed (all must be present; `sources` names the file each came from), the
    `KEY=VALUE` overrides applied on top (each noted in `sources`), the whole validated."""
    sources = {} if sources is None else sources
    missing = [name for name in SCENARIO_FIELDS if name not in raw]
    if missing:
        raise InputError(f"{source}: missing scenario key '{missing[0]}'"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "") + ".")
    values = {name: _coerce(name, raw[name], sources.get(name, source)) for name in SCENARIO_FIELDS}
    for text in overrides:
        key, value = _parse_override(text)
        _apply_override(values, key, value)
        sources[key.partition(".")[0]] = f"--set {key}={value}"
    return _validate(Scenario(**values), source, sources)


def _read_chain(path: Path, seen: list[Path]) -> tuple[dict, dict]:
    """Merge a TOML file over the file it `extends` (a bundled name or a path); returns the values and,
    for each key, the file it came from."""
    if not path.is_file():
        named = "" if str(path).endswith(".toml") else " and is not a bundled scenario"
        raise InputError(f"{path}: the scenario file does not exist{named}; allowed: a TOML file or one of "
                         f"{', '.join(name for name, _, _ in list_scenarios())}.")
    resolved = path.resolve()
    if resolved in seen:
        raise InputError(f"{path}: scenario 'extends' chain loops back to itself.")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc}).") from None
    unknown = [k for k in data if k not in SCENARIO_FIELDS and k not in ("extends", "name", "description")]
    if unknown:
        raise InputError(f"{path}: unknown scenario key '{unknown[0]}'; see the README's scenario table "
                         "for the allowed keys.")
    parent = data.pop("extends", None)
    data.pop("name", None)
    data.pop("description", None)
    if parent is None:
        return data, {key: str(path) for key in data}
    parent_path = scenario_path(parent)
    if str(parent).endswith(".toml") and not parent_path.is_absolute():
        parent_path = path.parent / parent_path
    if not parent_path.is_file():
        raise InputError(f"{path}: field extends: scenario '{parent}' does not exist.")
    merged, sources = _read_chain(parent_path, seen + [resolved])
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
        sources[key] = str(path)
    return merged, sources


def _coerce(name: str, value: object, source: str) -> object:
    """Convert a TOML or `--set` value to the field's type, or raise InputError naming file and field."""
    f = SCENARIO_FIELDS[name]
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    where = f"{source}: field {name}"
    if kind == "dict":
        if not isinstance(value, dict):
            raise InputError(f"{where}: expected a table of numbers keyed by name, got {value!r}.")
        return {str(k): _number(f"{name}.{k}", v, source) for k, v in value.items()}
    if kind == "str" and f.metadata["choices"]:
        word = str(value).strip().lower()
        if word not in f.metadata["choices"]:
            raise InputError(f"{where}: '{value}' is not allowed; allowed: {', '.join(f.metadata['choices'])}.")
        return word
    if kind == "str":
        if not is_quarter(value):
            raise InputError(f"{where}: '{value}' is not a quarter label; allowed: YYYYQn with n in 1-4, "
                             "e.g. 2027Q1.")
        return str(value).strip()
    number = _number(name, value, source)
    if kind == "int":
        if not math.isfinite(number) or number != int(number):
            raise InputError(f"{where}: '{value}' is not a whole number.")
        return int(number)
    return number


def _number(name: str, value: object, source: str) -> float:
    if isinstance(value, bool):
        raise InputError(f"{source}: field {name}: '{value}' is not a number.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{source}: field {name}: '{value}' is not a number.") from None
    if math.isnan(number):
        raise InputError(f"{source}: field {name}: 'nan' is not a number.")
    return number


def _parse_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set {text}: expected KEY=VALUE, e.g. --set btc_price_usd_2026=60000.")
    return key.strip(), value.strip()


def _apply_override(values: dict, key: str, value: str) -> None:
    name, _, sub = key.partition(".")
    if name not in SCENARIO_FIELDS:
        raise InputError(f"--set {key}={value}: unknown scenario key '{name}'; see the README's scenario "
                         "table for the allowed keys.")
    if isinstance(values[name], dict):
        if not sub:
            raise InputError(f"--set {key}={value}: '{name}' is a table; set one entry, e.g. "
                             f"--set {name}.{next(iter(values[name]), 'KEY')}={value}.")
        values[name] = {**values[name], sub: _number(key, value, "--set")}
    elif sub:
        raise InputError(f"--set {key}={value}: '{name}' is not a table; use --set {name}=VALUE.")
    else:
        values[name] = _coerce(name, value, "--set")


HORIZON_QUARTERS_MAX, HORIZON_QUARTERS_SOFT = 120, 60


def _values(scenario: Scenario):
    """(key, field, number) for every numeric value, table entries as KEY.NAME."""
    for name, f in SCENARIO_FIELDS.items():
        value = getattr(scenario, name)
        for sub, number in (value.items() if isinstance(value, dict) else [(None, value)]):
            if not isinstance(number, str):
                yield (f"{name}.{sub}" if sub else name), f, number


def _validate(scenario: Scenario, source: str, sources: dict | None = None) -> Scenario:
    """Range and cross-field checks; raises InputError with the first problem, blamed on the file or
    `--set` the value came from."""
    sources = sources or {}
    for key, f, number in _values(scenario):
        where, unit = f"{sources.get(key.partition('.')[0], source)}: field {key}", f.metadata["unit"]
        lo, hi = f.metadata["min"], f.metadata["max"]
        if math.isinf(number) and not f.metadata["infinite"]:
            raise InputError(f"{where}: {number:g} is not a finite number; allowed: a finite value ({unit}).")
        if lo is not None and number < lo:
            raise InputError(f"{where}: {number:g} is below the allowed minimum {lo:g} ({unit}).")
        if hi is not None and number > hi:
            raise InputError(f"{where}: {number:g} is above the allowed maximum {hi:g} ({unit}).")
    if ordinal(scenario.horizon_end) < ordinal(scenario.horizon_start):
        raise InputError(f"{source}: field horizon_end: {scenario.horizon_end} is before horizon_start "
                         f"{scenario.horizon_start}.")
    quarters = ordinal(scenario.horizon_end) - ordinal(scenario.horizon_start) + 1
    if quarters > HORIZON_QUARTERS_MAX:
        raise InputError(f"{sources.get('horizon_end', source)}: field horizon_end: {scenario.horizon_start}-"
                         f"{scenario.horizon_end} is {quarters} quarters; allowed: at most {HORIZON_QUARTERS_MAX} "
                         f"({HORIZON_QUARTERS_MAX // 4} years).")
    return scenario


def scenario_warnings(scenario: Scenario) -> list[str]:
    """Values inside the allowed range but past a plausible one (a sentence each, not an error)."""
    out = [f"field {key}: {number:g} {f.metadata['unit']} is above the usual at most {f.metadata['soft']:g}; "
           "check it is meant." for key, f, number in _values(scenario)
           if f.metadata["soft"] is not None and math.isfinite(number) and number > f.metadata["soft"]]
    quarters = ordinal(scenario.horizon_end) - ordinal(scenario.horizon_start) + 1
    if quarters > HORIZON_QUARTERS_SOFT:
        out.append(f"field horizon_end: a horizon of {quarters} quarters makes a large model; the solve may take "
                   "minutes.")
    return out
