"""ModelData: the frozen, tidy input of the MILP, built from a site table and one or more scenarios.

Everything the formulation reads is here, keyed by integers for speed: quarter t = 0..T-1 over the
horizon, j = 0..J-1 over the horizon plus the post-horizon quarters that carry capex tails and the
terminal value, scenario names w with probabilities p_w. Structural values (horizon, lead times, hall
sizes, grid MW per IT MW) come from the first scenario and must agree across scenarios.
"""

import math
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from models.economics import asic_usd_per_th, discount_factors, frontier_j_per_th, lease_revenue_usd_per_it_mw, \
    mining_grid_mwh_per_it_mw, signed_lease_revenue_usd, site_quarter_table
from models.scenario import SCENARIO_FIELDS, Scenario
from kernel.errors import InputError
from sites.leases import SignedLease, lease_rules
from sites.ledger import peak_mw, secured_mw, site_steps
from kernel.quarters import label, ordinal, quarter_range


# The values that enter the model only through the per-(site, quarter, scenario) tables, the lease revenue
# and the market absorption; every other value is read from the first scenario and must agree across them.
PER_SCENARIO = ("btc_price_usd_2026", "btc_price_growth_per_yr", "network_hashrate_ehs_2026", "hashrate_growth_per_yr",
                "hashrate_feedback", "network_hashcost_usd_per_ph_day_2026", "network_hashcost_decline_per_yr",
                "fee_share_of_subsidy", "halving_hashrate_dip", "halving_recovery_quarters",
                "hashrate_feedback_intercept", "hashrate_feedback_elasticity", "hashrate_growth_min_per_quarter",
                "hashrate_growth_max_per_quarter", "hashrate_entry_lag_quarters",
                "lease_usd_per_kw_month", "lease_escalator_per_yr", "lease_market_growth_per_yr",
                "lease_term_quarters", "market_absorption_it_mw_per_quarter",
                "power_price_multiplier", "power_price_escalation_per_yr")


@dataclass(frozen=True)
class ModelData:
    quarters: tuple[str, ...]            # horizon labels, t = 0..T-1
    extended_quarters: tuple[str, ...]   # horizon + post-horizon labels, j = 0..J-1
    scenarios: tuple[str, ...]
    probability: dict                    # w -> p_w
    scenario_values: dict                # w -> Scenario
    sites: pd.DataFrame                  # index site: attributes + derived build values
    site_quarter: pd.DataFrame           # index (site, t, w)
    lease_revenue_usd_per_it_mw: dict    # (t, w) -> USD per IT MW-quarter of a lease signed in t (market rate)
    market_absorption_it_mw: dict        # (market, t, w) -> new leased IT MW allowed
    discount_factor: tuple[float, ...]   # df[j]
    earliest_revenue_t: int              # first t with lease revenue allowed (may be <= 0)
    leases: tuple[SignedLease, ...] = ()  # signed leases (sites/leases.py)

    @property
    def n_quarters(self) -> int:
        return len(self.quarters)

    @property
    def n_extended(self) -> int:
        return len(self.extended_quarters)

    @property
    def base(self) -> Scenario:
        return self.scenario_values[self.scenarios[0]]

    @cached_property
    def quarter_index(self) -> dict:
        """Horizon label -> t."""
        return {q: t for t, q in enumerate(self.quarters)}

    @cached_property
    def ai_sites(self) -> list[str]:
        return [s for s in self.sites.index if self.sites.at[s, "ai_eligible"]]

    @cached_property
    def mining_sites(self) -> list[str]:
        return [s for s in self.sites.index if self.sites.at[s, "mining_allowed"]]

    @cached_property
    def markets(self) -> dict:
        """market -> AI-eligible sites leasing into it."""
        out: dict = {}
        for s in self.ai_sites:
            out.setdefault(self.sites.at[s, "market"], []).append(s)
        return out

    def _site(self, column: str, kind=float) -> dict:
        return {s: kind(v) for s, v in self.sites[column].items()}

    def _site_quarter(self, column: str) -> dict:
        return self.site_quarter[column].to_dict()

    # Per site s (typed accessors: the formulation never looks a column up by name).
    hall_it_mw = cached_property(lambda self: self._site("hall_it_mw"))                  # B_s, IT MW
    max_halls = cached_property(lambda self: self._site("max_halls", int))               # H_s
    lead_quarters = cached_property(lambda self: self._site("lead_quarters", int))       # L_s
    capex_usd_per_it_mw = cached_property(lambda self: self._site("capex_usd_per_it_mw"))  # c_s
    site_opening_cost_usd = cached_property(lambda self: {  # K_s; sunk (0) where halls are already being built
        s: 0.0 if self.building_halls[s] else v for s, v in self._site("site_opening_cost_usd").items()})
    committed_halls = cached_property(lambda self: self._site("committed_halls", int))   # C_s
    committed_t = cached_property(lambda self: self._site("committed_t", int))           # t_C
    building_halls = cached_property(lambda self: self._site("building_halls", int))     # b_s
    building_online_t = cached_property(lambda self: self._site("building_online_t", int))  # t_b
    building_remaining_usd = cached_property(lambda self: self._site("building_remaining_usd"))  # Rb_s
    building_spent_usd = cached_property(lambda self: self._site("building_spent_usd"))  # Sb_s
    mining_capacity_it_mw = cached_property(lambda self: self._site("mining_capacity_it_mw"))  # I0_s
    mining_peak_it_mw = cached_property(lambda self: self._site("mining_peak_it_mw"))          # I_max_s
    existing_fleet_it_mw = cached_property(lambda self: self._site("existing_fleet_it_mw"))    # E_s
    existing_fleet_j_per_th = cached_property(lambda self: self._site("existing_fleet_j_per_th"))  # J_E
    existing_fleet_retire_t = cached_property(lambda self: self._site("existing_fleet_retire_t", int))  # t_E
    mining_grid_mwh_per_it_mw = cached_property(lambda self: self._site("mining_grid_mwh_per_it_mw"))
    flexibility_usd_per_mw_yr = cached_property(lambda self: self._site("flexibility_usd_per_mw_yr"))  # v_s
    curtailed_hours_share = cached_property(lambda self: self._site("curtailed_hours_share"))  # c_s
    power_resale_usd_per_mwh = cached_property(lambda self: self._site("power_resale_usd_per_mwh"))  # r_s
    market = cached_property(lambda self: self._site("market", str))
    mining_commitment_it_mw = cached_property(lambda self: self._site("mining_commitment_it_mw"))    # Y_s
    mining_commitment_end_quarter = cached_property(lambda self: self._site("mining_commitment_end_quarter", str))

    # Leases: the contract escalator and term of leases the plan signs (per scenario), and the signed leases.
    lease_escalation_per_quarter = cached_property(lambda self: {  # (1+esc_w)^(1/4)
        w: (1 + sc.lease_escalator_per_yr) ** 0.25 for w, sc in self.scenario_values.items()})
    lease_term_quarters = cached_property(lambda self: {
        w: sc.lease_term_quarters for w, sc in self.scenario_values.items()})

    def _signed(self, amount) -> dict:
        """(s, t) -> sum over the signed leases at s of amount(lease, t) (AI sites, horizon quarters)."""
        out = {(s, t): 0.0 for s in self.ai_sites for t in range(self.n_quarters)}
        start = ordinal(self.quarters[0])
        for lease in self.leases:
            k0 = ordinal(lease.start_quarter) - start
            for t in range(self.n_quarters):
                out[lease.site, t] += amount(lease, t, t - k0)
        return out

    signed_it_mw = cached_property(lambda self: self._signed(  # h[s,t]: signed MW hosted (kept after the term)
        lambda lease, t, k: lease.it_mw * lease.billed_share(k)))
    signed_renewal_it_mw = cached_property(lambda self: self._signed(  # MW whose contract term ends in t
        lambda lease, t, k: lease.it_mw * lease.billed_share(k) if k == lease.term_quarters else 0.0))

    @cached_property
    def signed_revenue_usd(self) -> dict:
        """C[s,t]: the signed leases' contract revenue (models/economics.py signed_lease_revenue_usd)."""
        paths = {id(lease): signed_lease_revenue_usd(self.base, lease, list(self.quarters)) for lease in self.leases}
        return self._signed(lambda lease, t, k: float(paths[id(lease)][t]))

    # Per quarter t (structural: from the first scenario).
    frontier_j_per_th = cached_property(lambda self: tuple(frontier_j_per_th(self.base, list(self.quarters))))  # J_v
    asic_usd_per_th = cached_property(lambda self: tuple(asic_usd_per_th(self.base, list(self.quarters))))  # p_A[v]

    # Per (site s, quarter t, scenario w).
    secured_mw = cached_property(lambda self: self._site_quarter("secured_mw"))          # P[s,t]
    firm_mw = cached_property(lambda self: self._site_quarter("firm_mw"))                # F[s,t]
    grid_tco2_per_mwh = cached_property(lambda self: self._site_quarter("grid_tco2_per_mwh"))
    mining_revenue_usd_per_ths = cached_property(lambda self: self._site_quarter("mining_revenue_usd_per_ths"))
    power_usd_per_mwh = cached_property(lambda self: self._site_quarter("power_usd_per_mwh"))
    flex_enrolled_share = cached_property(lambda self: self._site_quarter("flex_enrolled_share"))  # phi[s,t]
    mining_run_share = cached_property(lambda self: self._site_quarter("mining_run_share"))  # 1 - cut_s phi
    mining_power_usd_per_it_mw = cached_property(lambda self: self._site_quarter("mining_power_usd_per_it_mw"))
    mining_opex_usd_per_it_mw = cached_property(lambda self: self._site_quarter("mining_opex_usd_per_it_mw"))


def build_model_data(sites: pd.DataFrame, scenarios: dict[str, Scenario] | Scenario,
                     probability: dict | None = None, source: str = "sites", fix: tuple[str, str] | None = None,
                     leases: tuple[SignedLease, ...] | None = None) -> ModelData:
    """Turn a validated site table and scenarios into ModelData; raises one InputError listing every misfit
    (`misfits`, named by `source`, fixed as `fix` says) and every value the scenarios may not differ in.
    `leases`: the signed leases (default: those sites/load.py read beside the site file, `sites.attrs`)."""
    leases = tuple(sites.attrs.get("leases", ())) if leases is None else tuple(leases)
    if isinstance(scenarios, Scenario):
        scenarios = {"base": scenarios}
    names = tuple(scenarios)
    probability = probability or {w: 1.0 / len(names) for w in names}
    sc = scenarios[names[0]]
    problems = [p for w in names
                for p in misfits(sites, scenarios[w], source, fix=fix or (f"scenario {w}", DEFAULT_FIX[1]))]
    problems += lease_misfits(leases, sites, sc)
    problems += [f"scenario {w}, field {name}: {getattr(scenarios[w], name)!r} differs from {getattr(sc, name)!r} "
                 f"in scenario {names[0]}; allowed: scenarios differ only in {', '.join(PER_SCENARIO)}."
                 for w in names[1:] for name in SCENARIO_FIELDS
                 if name not in PER_SCENARIO and getattr(scenarios[w], name) != getattr(sc, name)]
    if problems:
        raise InputError(problems)
    quarters = quarter_range(sc.horizon_start, sc.horizon_end)
    site_table = _site_build_values(sites, sc, quarters)
    lead_max = int(site_table["lead_quarters"].max()) if len(site_table) else 0
    n_ext = len(quarters) + max(sc.terminal_quarters, lead_max - 1, 1)  # >= 1 quarter after: debt is repaid there
    extended = [label(ordinal(quarters[0]) + j) for j in range(n_ext)]

    frames, lease, absorption = [], {}, {}
    for w in names:
        scw = scenarios[w]
        table = site_quarter_table(site_table, scw, quarters).reset_index()
        table["t"] = table["quarter"].map({q: t for t, q in enumerate(quarters)})
        table["w"] = w
        frames.append(table)
        for t, value in enumerate(lease_revenue_usd_per_it_mw(scw, quarters)):
            lease[(t, w)] = float(value)
        for market in {site_table.at[s, "market"] for s in site_table.index if site_table.at[s, "ai_eligible"]}:
            for t in range(len(quarters)):
                absorption[(market, t, w)] = scw.market_absorption_it_mw_per_quarter[market]
    site_quarter = pd.concat(frames, ignore_index=True).set_index(["site", "t", "w"]).sort_index()
    earliest = ordinal(sc.earliest_ai_revenue_quarter) - ordinal(quarters[0])
    return ModelData(
        quarters=tuple(quarters), extended_quarters=tuple(extended), scenarios=names,
        probability=dict(probability), scenario_values=dict(scenarios), sites=site_table,
        site_quarter=site_quarter, lease_revenue_usd_per_it_mw=lease, market_absorption_it_mw=absorption,
        discount_factor=tuple(discount_factors(sc.discount_rate_per_yr, n_ext)), earliest_revenue_t=earliest,
        leases=leases,
    )


def _site_build_values(sites: pd.DataFrame, sc: Scenario, quarters: list[str]) -> pd.DataFrame:
    """Add per-site derived values: lead time L_s, capex per IT MW, mining capacity (build_values), H_s =
    max_halls for AI-eligible sites (0 otherwise) and the commitment quarter index t_C. `misfits` has
    checked that every hall fits and every commitment is possible."""
    table = pd.concat([sites, build_values(sites, sc)], axis=1)
    table["max_halls"] = np.where(table["ai_eligible"], table["max_halls"], 0).astype(int)
    committed_by = table["committed_start_quarter"]
    table["committed_t"] = [max(0, ordinal(q) - ordinal(quarters[0])) if q else 0 for q in committed_by]
    table["building_online_t"] = [ordinal(q) - ordinal(quarters[0]) if n else 0
                                  for n, q in zip(table["building_halls"], table["building_online_quarter"])]
    table["mining_grid_mwh_per_it_mw"] = mining_grid_mwh_per_it_mw(sc)  # before curtailment (mining_run_share)
    table["existing_fleet_retire_t"] = [ordinal(q) - ordinal(quarters[0]) for q in table["existing_fleet_retire_quarter"]]
    return table


ERCOT_FLEXIBILITY = (60_000.0, 0.03)  # USD/MW-yr and share of hours curtailed (economics-2.md 3, EST)


def build_values(sites: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """Per site (index: site): lead time L_s and capex per IT MW c_s by build type; the mining infrastructure
    I0_s = P[s, horizon start] / pue_mine of a mining site and its most I_max_s = peak P / pue_mine; the
    existing fleet (IT MW E_s = TH/s * J/TH / 1e6, J/TH, retirement quarter; blanks: the fleet fills I0_s at
    the scenario's J/TH and retires at its quarter); the flexibility credit and curtailed share of enrolled
    sites (interruptible power, or firm power opted in; blanks: ERCOT's, else 0)."""
    greenfield = (sites["build_type"] == "greenfield").to_numpy()
    mining = sites["mining_allowed"].to_numpy(bool)
    steps = [site_steps(row.to_dict()) for _, row in sites.iterrows()]
    existing = np.array([secured_mw(st, [sc.horizon_start])[0] for st in steps])
    capacity = np.where(mining, existing / sc.mining_pue, 0.0)
    j = _blank(sites, "fleet_j_per_th", sc.fleet_j_per_th_2026)
    ths = _blank(sites, "fleet_ths", np.nan)
    fleet = np.where(mining, np.where(np.isnan(ths), capacity, ths * j / 1e6), 0.0)
    retire = [q or sc.fleet_retire_quarter for q in sites.get("fleet_retire_quarter", pd.Series("", sites.index))]
    ercot = (sites["egrid_subregion"] == "ERCT").to_numpy()
    enrolled = np.array([any(step.power_class == "interruptible" for step in st) for st in steps]) | \
        sites.get("flex_firm_opt_in", pd.Series(False, sites.index)).to_numpy(bool)
    flex = _blank(sites, "flex_usd_per_mw_yr", 0.0, np.where(ercot, ERCOT_FLEXIBILITY[0], 0.0))
    curtailed = _blank(sites, "curtailed_share", 0.0, np.where(ercot, ERCOT_FLEXIBILITY[1], 0.0))
    return pd.DataFrame({
        "lead_quarters": np.where(greenfield, sc.lead_quarters_greenfield, sc.lead_quarters_retrofit),
        "capex_usd_per_it_mw": sc.ai_capex_multiplier * np.where(
            greenfield, sc.ai_capex_greenfield_usd_per_it_mw, sc.ai_capex_retrofit_usd_per_it_mw),
        "mining_capacity_it_mw": capacity,
        "mining_peak_it_mw": np.where(mining, [peak_mw(st) / sc.mining_pue for st in steps], 0.0),
        "existing_fleet_it_mw": fleet,
        "existing_fleet_j_per_th": j,
        "existing_fleet_retire_quarter": retire,
        "flexibility_usd_per_mw_yr": np.where(enrolled & mining, flex, 0.0),
        "curtailed_hours_share": np.where(enrolled & mining, curtailed, 0.0),
    }, index=sites.index)


def _blank(sites: pd.DataFrame, column: str, fallback, default=None) -> np.ndarray:
    """A numeric site column with blanks (NaN, or a missing column) replaced by `default` (array or number),
    or by `fallback` when no default is given."""
    values = pd.to_numeric(sites[column], errors="coerce") if column in sites else pd.Series(np.nan, sites.index)
    fill = fallback if default is None else default
    return np.where(values.isna().to_numpy(), fill, values.to_numpy(float)).astype(float)


ABSORPTION = "market_absorption_it_mw_per_quarter"
DEFAULT_FIX = ("the scenario", f"the TOML line {{market}} = {{value}} under [{ABSORPTION}] in the scenario file")


def misfits(sites: pd.DataFrame, scenario: Scenario, source: str = "sites", labels: dict | None = None,
             fix: tuple[str, str] = DEFAULT_FIX) -> list[str]:
    """Every misfit of a validated site table with a scenario, a sentence each: an AI market without a
    market absorption entry, more halls than the site's firm power holds at the scenario's grid MW per IT MW,
    contracted halls beyond max_halls or after the horizon, halls under construction coming online outside
    (horizon start, horizon end], and a ledger step after the horizon end."""
    labels = labels or {}
    name, how = fix
    problems, markets = [], {}
    absorption = getattr(scenario, ABSORPTION)
    value = f"{max(absorption.values()):g}" if absorption else "100"
    g, end = scenario.grid_mw_per_it_mw, ordinal(scenario.horizon_end)
    derived = build_values(sites, scenario)
    for site, row in sites.iterrows():
        where = f"{source}: {labels[site]} ({site})" if site in labels else f"{source}: site {site}"
        steps = site_steps(row.to_dict())
        late = next((step for step in steps if ordinal(step.quarter) > end), None)
        if late is not None:
            field = "energised_quarter" if late is steps[0] else "power_steps"
            problems.append(f"{where}, field {field}: {late.quarter} is after the horizon end {scenario.horizon_end} "
                            f"of {name}; allowed: a quarter up to {scenario.horizon_end}.")
        built = derived.loc[site]
        capacity, fleet = built["mining_capacity_it_mw"], built["existing_fleet_it_mw"]
        if fleet > capacity + 1e-9:
            problems.append(f"{where}, field fleet_ths: {row['fleet_ths']:g} TH/s at {built['existing_fleet_j_per_th']:g} "
                            f"J/TH is {fleet:g} IT MW of miners but the site's mining power at the horizon start "
                            f"{scenario.horizon_start} holds {capacity:g} IT MW (its power then / mining_pue, 0 where "
                            f"mining is not allowed); allowed: at most {capacity * 1e6 / built['existing_fleet_j_per_th']:,.0f} TH/s.")
        elif row["mining_commitment_it_mw"] > fleet + 1e-9:
            problems.append(f"{where}, field mining_commitment_it_mw: {row['mining_commitment_it_mw']:g} IT MW contracted "
                            f"but the site's fleet at the horizon start {scenario.horizon_start} is {fleet:g} IT MW "
                            f"(fleet_ths, or its power then / mining_pue); allowed: at most {fleet:g}.")
        if not row["ai_eligible"]:
            continue
        markets.setdefault(row["market"], []).append(site)
        firm = peak_mw(steps, "firm")
        fit = math.floor(firm / (g * row["hall_it_mw"]) + 1e-9)
        if row["max_halls"] > fit:
            problems.append(f"{where}, field max_halls: {row['max_halls']} halls of {row['hall_it_mw']:g} IT MW need "
                            f"{row['max_halls'] * row['hall_it_mw'] * g:g} grid MW at {g:g} grid MW per IT MW "
                            f"({name}) but the site has {firm:g} MW of firm power; allowed: at most {fit} halls.")
        if row["committed_halls"] > row["max_halls"]:
            problems.append(f"{where}, field committed_halls: {row['committed_halls']} contracted halls but the site "
                            f"takes at most {row['max_halls']}; allowed: at most max_halls.")
        elif row["committed_halls"] and row["committed_start_quarter"] and \
                ordinal(row["committed_start_quarter"]) > end:
            problems.append(f"{where}, field committed_start_quarter: {row['committed_start_quarter']} is after the "
                            f"horizon end {scenario.horizon_end} of {name}; allowed: a quarter up to "
                            f"{scenario.horizon_end}.")
        if row["building_halls"] and row["building_online_quarter"] and not (
                ordinal(scenario.horizon_start) < ordinal(row["building_online_quarter"]) <= end):
            problems.append(f"{where}, field building_online_quarter: {row['building_online_quarter']} is not after "
                            f"the horizon start {scenario.horizon_start} and up to its end {scenario.horizon_end} of "
                            f"{name}; allowed: a quarter from {label(ordinal(scenario.horizon_start) + 1)} to "
                            f"{scenario.horizon_end}.")
    for market, names in markets.items():
        if market in absorption:
            continue
        plural = "s" if len(names) > 1 else ""
        problems.append(f"{name}, field {ABSORPTION}: no entry for market '{market}' of the AI-eligible site{plural} "
                        f"{', '.join(names)} ({source}); add --set {ABSORPTION}.{market}={value}, or "
                        f"{how.format(market=market, value=value)}.")
    return problems


def lease_misfits(leases: tuple[SignedLease, ...], sites: pd.DataFrame, scenario: Scenario) -> list[str]:
    """A sentence per broken rule of a signed lease against the site table and the scenario's horizon (the rules
    sites/leases.py applies when it reads them; leases may also come through the API)."""
    return [problem for lease in leases for problem in lease_rules(
        asdict(lease), lease.row or f"signed lease {lease.tenant}", sites, scenario.horizon)]
