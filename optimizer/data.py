"""ModelData: the frozen, tidy input of the MILP, built from a site table and one or more scenarios.

Everything the formulation reads is here, keyed by integers for speed: quarter t = 0..T-1 over the
horizon, j = 0..J-1 over the horizon plus the post-horizon quarters that carry capex tails and the
terminal value, scenario names w with probabilities p_w. Structural values (horizon, lead times, hall
sizes, grid MW per IT MW) come from the first scenario and must agree across scenarios.
"""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from models.economics import discount_factors, lease_revenue_usd_per_it_mw, mining_grid_mwh_per_it_mw, \
    site_quarter_table
from models.scenario import Scenario
from kernel.errors import InputError
from sites.ledger import peak_mw, secured_mw, site_steps
from kernel.quarters import label, ordinal, quarter_range


@dataclass(frozen=True)
class ModelData:
    quarters: tuple[str, ...]            # horizon labels, t = 0..T-1
    extended_quarters: tuple[str, ...]   # horizon + post-horizon labels, j = 0..J-1
    scenarios: tuple[str, ...]
    probability: dict                    # w -> p_w
    scenario_values: dict                # w -> Scenario
    sites: pd.DataFrame                  # index site: attributes + derived build values
    site_quarter: pd.DataFrame           # index (site, t, w)
    lease_revenue_usd_per_it_mw: dict    # (j, w) -> USD per leased IT MW-quarter (j < T)
    market_absorption_it_mw: dict        # (market, t, w) -> new leased IT MW allowed
    discount_factor: tuple[float, ...]   # df[j]
    earliest_revenue_t: int              # first t with lease revenue allowed (may be <= 0)

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
    def ai_sites(self) -> list[str]:
        return [s for s in self.sites.index if self.sites.at[s, "ai_eligible"]]

    @cached_property
    def mining_sites(self) -> list[str]:
        return [s for s in self.sites.index if self.sites.at[s, "mining_capacity_it_mw"] > 0]

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
    site_opening_cost_usd = cached_property(lambda self: self._site("site_opening_cost_usd"))  # K_s
    committed_halls = cached_property(lambda self: self._site("committed_halls", int))   # C_s
    committed_t = cached_property(lambda self: self._site("committed_t", int))           # t_C
    mining_capacity_it_mw = cached_property(lambda self: self._site("mining_capacity_it_mw"))  # M_s
    mining_grid_mwh_per_it_mw = cached_property(lambda self: self._site("mining_grid_mwh_per_it_mw"))
    market = cached_property(lambda self: self._site("market", str))
    mining_commitment_it_mw = cached_property(lambda self: self._site("mining_commitment_it_mw"))    # Y_s
    mining_commitment_end_quarter = cached_property(lambda self: self._site("mining_commitment_end_quarter", str))

    # Per (site s, quarter t, scenario w).
    secured_mw = cached_property(lambda self: self._site_quarter("secured_mw"))          # P[s,t]
    firm_mw = cached_property(lambda self: self._site_quarter("firm_mw"))                # F[s,t]
    grid_tco2_per_mwh = cached_property(lambda self: self._site_quarter("grid_tco2_per_mwh"))
    mining_revenue_usd_per_it_mw = cached_property(lambda self: self._site_quarter("mining_revenue_usd_per_it_mw"))
    mining_power_usd_per_it_mw = cached_property(lambda self: self._site_quarter("mining_power_usd_per_it_mw"))
    mining_opex_usd_per_it_mw = cached_property(lambda self: self._site_quarter("mining_opex_usd_per_it_mw"))


def build_model_data(sites: pd.DataFrame, scenarios: dict[str, Scenario] | Scenario,
                     probability: dict | None = None) -> ModelData:
    """Turn a validated site table and scenarios into ModelData (raises InputError on misfit input)."""
    if isinstance(scenarios, Scenario):
        scenarios = {"base": scenarios}
    names = tuple(scenarios)
    probability = probability or {w: 1.0 / len(names) for w in names}
    sc = scenarios[names[0]]
    quarters = quarter_range(sc.horizon_start, sc.horizon_end)
    site_table = _site_build_values(sites, sc, quarters)
    lead_max = int(site_table["lead_quarters"].max()) if len(site_table) else 0
    n_ext = len(quarters) + max(sc.terminal_quarters, lead_max - 1, 0)
    extended = [label(ordinal(quarters[0]) + j) for j in range(n_ext)]

    frames, lease, absorption = [], {}, {}
    for w in names:
        scw = scenarios[w]
        table = site_quarter_table(sites, scw, quarters).reset_index()
        table["t"] = table["quarter"].map({q: t for t, q in enumerate(quarters)})
        table["w"] = w
        frames.append(table)
        for t, value in enumerate(lease_revenue_usd_per_it_mw(scw, quarters)):
            lease[(t, w)] = float(value)
        for market in {site_table.at[s, "market"] for s in site_table.index if site_table.at[s, "ai_eligible"]}:
            if market not in scw.market_absorption_it_mw_per_quarter:
                raise InputError(f"scenario {w}, field market_absorption_it_mw_per_quarter: no entry for "
                                 f"market '{market}' of an AI-eligible site; add {market} = <IT MW per quarter>.")
            for t in range(len(quarters)):
                absorption[(market, t, w)] = scw.market_absorption_it_mw_per_quarter[market]
    site_quarter = pd.concat(frames, ignore_index=True).set_index(["site", "t", "w"]).sort_index()
    earliest = ordinal(sc.earliest_ai_revenue_quarter) - ordinal(quarters[0])
    return ModelData(
        quarters=tuple(quarters), extended_quarters=tuple(extended), scenarios=names,
        probability=dict(probability), scenario_values=dict(scenarios), sites=site_table,
        site_quarter=site_quarter, lease_revenue_usd_per_it_mw=lease, market_absorption_it_mw=absorption,
        discount_factor=tuple(discount_factors(sc.discount_rate_per_yr, n_ext)), earliest_revenue_t=earliest,
    )


def _site_build_values(sites: pd.DataFrame, sc: Scenario, quarters: list[str]) -> pd.DataFrame:
    """Add per-site derived values: lead time L_s, capex per IT MW, hall count H_s, mining capacity.

    H_s = max_halls, which must not exceed floor(F_max / (grid_mw_per_it_mw * B_s)), F_max the site's peak
    firm MW (the hall must fit its firm power); mining capacity (IT MW) = P[s, first quarter] / pue_mine
    for a mining site (the existing fleet: later ledger steps are not filled with new miners).
    """
    table = sites.copy()
    greenfield = table["build_type"] == "greenfield"
    table["lead_quarters"] = np.where(greenfield, sc.lead_quarters_greenfield, sc.lead_quarters_retrofit)
    table["capex_usd_per_it_mw"] = sc.ai_capex_multiplier * np.where(
        greenfield, sc.ai_capex_greenfield_usd_per_it_mw, sc.ai_capex_retrofit_usd_per_it_mw)
    steps = {s: site_steps(row.to_dict()) for s, row in table.iterrows()}
    problems = []
    for s, row in table.iterrows():
        if not row["ai_eligible"]:
            continue
        firm = peak_mw(steps[s], "firm")
        fit = math.floor(firm / (sc.grid_mw_per_it_mw * row["hall_it_mw"]) + 1e-9)
        if row["max_halls"] > fit:
            problems.append(
                f"site {s}, field max_halls: {row['max_halls']} halls of {row['hall_it_mw']:g} IT MW need "
                f"{row['max_halls'] * row['hall_it_mw'] * sc.grid_mw_per_it_mw:g} grid MW at "
                f"{sc.grid_mw_per_it_mw:g} grid MW per IT MW but the site has {firm:g} MW of firm power; "
                f"allowed: at most {fit} halls.")
    if problems:
        raise InputError(problems)
    table["max_halls"] = np.where(table["ai_eligible"], table["max_halls"], 0).astype(int)
    committed_by = table["committed_start_quarter"]
    table["committed_t"] = [max(0, ordinal(q) - ordinal(quarters[0])) if q else 0 for q in committed_by]
    for s, row in table.iterrows():
        if row["committed_halls"] > row["max_halls"]:
            problems.append(f"site {s}, field committed_halls: {row['committed_halls']} contracted halls but the "
                            f"site takes at most {row['max_halls']} (AI-eligible sites only).")
        elif row["committed_halls"] and row["committed_t"] >= len(quarters):
            problems.append(f"site {s}, field committed_start_quarter: {committed_by[s]} is after the horizon "
                            f"end {quarters[-1]}.")
    if problems:
        raise InputError(problems)
    existing = np.array([secured_mw(steps[s], quarters[:1])[0] for s in table.index])
    table["mining_capacity_it_mw"] = np.where(table["mining_allowed"], existing / sc.mining_pue, 0.0)
    table["mining_grid_mwh_per_it_mw"] = mining_grid_mwh_per_it_mw(sc)
    return table
