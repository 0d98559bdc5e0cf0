"""Tidy result tables from a solved model: Schedule, Builds, CashFlow, Emissions, by-year summary, KPIs.

Each family contributes its own columns (and halls the Builds table) (`schedule_columns` per (site, quarter, scenario), `cashflow_columns`
per (quarter j, scenario)); a key a family does not cover is 0. Every money value in CashFlow is a Pyomo
expression evaluated at the solution, so the NPV rebuilt from the table, sum_j df[j] * sum_l sign_l *
a_l[j], equals the objective.
"""

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.build import FAMILIES
from optimizer.data import ModelData
from optimizer.formulation import financing, halls, mining, objective, power
from optimizer.formulation.terms import CashLine
from optimizer.marginals import marginal_values
from optimizer.solve import SolveInfo

EMISSIONS_COLUMNS = ("site", "quarter", "scenario", "grid_tco2_per_mwh", "mining_tco2", "ai_tco2", "grid_mwh",
                     "location_tco2", "certificates_mwh", "market_tco2")
EMISSIONS_ONLY = ("grid_mwh", "location_tco2", "certificates_mwh", "market_tco2")  # on the Emissions sheet only


@dataclass(frozen=True)
class Plan:
    data: ModelData
    info: SolveInfo
    cash_lines: tuple[CashLine, ...]
    schedule: pd.DataFrame
    builds: pd.DataFrame
    cashflow: pd.DataFrame
    by_year: pd.DataFrame
    emissions: pd.DataFrame
    emissions_by_year: pd.DataFrame
    kpis: dict
    secured_mw_marginals: pd.DataFrame
    carbon_cap_marginals: pd.DataFrame


def extract_plan(model: pyo.ConcreteModel, data: ModelData, info: SolveInfo, marginals: bool = True) -> Plan:
    """Result tables of a solved model; with `marginals`, then re-solve the LP with the integers fixed
    for the marginal values of secured power and of the carbon cap (optimizer/marginals.py)."""
    schedule = schedule_table(model, data)
    cashflow = cashflow_table(model, data)
    builds = halls.builds_table(model, data)
    emissions = schedule[list(EMISSIONS_COLUMNS)]
    annual = emissions_by_year_table(data, emissions)
    summary = kpis(info, data, schedule, cashflow, builds, annual)
    secured, carbon = marginal_values(model, data) if marginals else (pd.DataFrame(), pd.DataFrame())
    return Plan(data, info, model.terms.lines, schedule, builds, cashflow, by_year_table(schedule, data), emissions,
                annual, summary, secured, carbon)


def _columns(keys: list, contributions: list[dict]) -> dict:
    """column -> values over `keys` (0 where a family left a key out), in family order."""
    out = {}
    for columns in contributions:
        for name, by_key in columns.items():
            out[name] = [by_key.get(k, 0.0) for k in keys]
    return out


def schedule_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per (site, quarter, scenario): every family's site-quarter columns."""
    keys = list(d.site_quarter.index)
    table = pd.DataFrame({"site": [k[0] for k in keys], "quarter": [d.quarters[k[1]] for k in keys],
                          "scenario": [k[2] for k in keys]})
    columns = _columns(keys, [family.schedule_columns(m, d) for family in FAMILIES])
    table = pd.concat([table, pd.DataFrame(columns)], axis=1)
    first, last = ["site", "quarter", "scenario", "secured_mw", "firm_mw"], ["idle_grid_mw", *power.IDLE_REASONS]
    return table[first + [c for c in table.columns if c not in first + last] + last]


def cashflow_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per (quarter, scenario) over the horizon and the post-horizon tail (capex, debt, terminal).

    net_cash_flow_usd = sum of the lines that count in the NPV (signs: revenues and draws +, the rest -);
    cash_change_usd adds equity raised; cash_balance_usd is the model's balance (horizon only).
    """
    lines = m.terms.lines
    keys = [(j, w) for w in d.scenarios for j in range(d.n_extended)]
    table = pd.DataFrame({"quarter": [d.extended_quarters[j] for j, _ in keys], "scenario": [w for _, w in keys],
                          "period": ["horizon" if j < d.n_quarters else "post-horizon" for j, _ in keys]})
    for line in lines:
        amounts = m.terms.amounts(line.name)
        table[line.name] = [float(pyo.value(amounts[k])) if k in amounts else 0.0 for k in keys]
    table["net_cash_flow_usd"] = sum(line.sign * table[line.name] for line in lines if line.in_npv)
    table["cash_change_usd"] = sum(line.sign * table[line.name] for line in lines)
    for name, values in _columns(keys, [family.cashflow_columns(m, d) for family in FAMILIES]).items():
        table[name] = values
    table.loc[table["period"] != "horizon", "cash_balance_usd"] = None
    objective.value_columns(table, d, lines)
    return table


def by_year_table(schedule: pd.DataFrame, d: ModelData) -> pd.DataFrame:
    """MW by use by year (first scenario): average mining MW, year-end AI MW, idle grid MW."""
    first = schedule[schedule["scenario"] == d.scenarios[0]].copy()
    first["year"] = first["quarter"].str[:4].astype(int)
    per_quarter = first.groupby(["year", "quarter"])[[
        "secured_mw", "mining_it_mw", "fleet_ehs", "asic_bought_ths", "asic_capex_usd", "ai_it_mw_under_construction",
        "ai_it_mw_online", "ai_it_mw_leased", "idle_grid_mw", *power.IDLE_REASONS, "mining_tco2",
        "ai_tco2"]].sum().reset_index()
    grouped = per_quarter.groupby("year")
    return pd.DataFrame({
        "secured_mw_avg": grouped["secured_mw"].mean(),
        "mining_it_mw_avg": grouped["mining_it_mw"].mean(),
        "fleet_ehs_avg": grouped["fleet_ehs"].mean(),
        "asic_bought_ehs": grouped["asic_bought_ths"].sum() / 1e6,
        "asic_capex_usd": grouped["asic_capex_usd"].sum(),
        "ai_it_mw_under_construction_end": grouped["ai_it_mw_under_construction"].last(),
        "ai_it_mw_online_end": grouped["ai_it_mw_online"].last(),
        "ai_it_mw_leased_end": grouped["ai_it_mw_leased"].last(),
        "idle_grid_mw_avg": grouped["idle_grid_mw"].mean(),
        **{f"{name}_avg": grouped[name].mean() for name in power.IDLE_REASONS},
        "tco2": grouped["mining_tco2"].sum() + grouped["ai_tco2"].sum(),
    }).reset_index()


IDLE_WORDS = MappingProxyType({"idle_no_fleet_mw": "no fleet",
              "idle_unprofitable_mw": "fleet unprofitable at this hashprice",
              "idle_construction_mw": "reserved for a hall under construction",
              "idle_curtailed_mw": "interruptible and curtailed"})


def idle_by_site_year(schedule: pd.DataFrame, d: ModelData) -> pd.DataFrame:
    """(site, year) with idle grid MW (quarterly average, first scenario) above 0.05 MW: the average MW of
    each reason and the main reason in words."""
    first = schedule[schedule["scenario"] == d.scenarios[0]].assign(year=lambda f: f["quarter"].str[:4].astype(int))
    table = first.groupby(["site", "year"], sort=False)[["idle_grid_mw", *power.IDLE_REASONS]].mean().reset_index()
    table = table[table["idle_grid_mw"] > 0.05].reset_index(drop=True)
    main = table[list(power.IDLE_REASONS)].idxmax(axis=1) if len(table) else pd.Series(dtype=str)
    table["main_reason"] = [IDLE_WORDS[r] if r != "idle_no_fleet_mw" else _why_no_fleet(d, site, year)
                            for r, site, year in zip(main, table["site"], table["year"])]
    return table


def _why_no_fleet(d: ModelData, site: str, year: int) -> str:
    """Why a site's power has no fleet in a year: mining is not allowed, or some vintage that would run then
    pays clearly on its own (vintage_npv_usd above PAYS_SHARE of its price: the plan puts the cash
    elsewhere), or none does."""
    if site not in d.mining_sites:
        return "no fleet: mining not allowed"
    quarters = [t for t, q in enumerate(d.quarters) if int(q[:4]) == year]
    price = lambda v: d.asic_usd_per_th[v] * mining.ths_per_it_mw(d, site, v)  # noqa: E731
    pays = any(mining.vintage_npv_usd(d, site, v, d.scenarios[0]) > PAYS_SHARE * price(v)
               for t in quarters for v in range(t + 1) if mining.runs(d, site, v, t))
    return ("no fleet: one bought by then would pay on its own; the plan put the cash elsewhere" if pays
            else "no fleet: a new fleet would not pay back")


PAYS_SHARE = 0.05  # a vintage "pays clearly" when its stand-alone NPV exceeds 5% of its price


def emissions_by_year_table(d: ModelData, emissions: pd.DataFrame) -> pd.DataFrame:
    """Per (year, scenario): location- and market-based tCO2, the cap and its slack."""
    frame = emissions.assign(year=emissions["quarter"].str[:4].astype(int))
    annual = frame.groupby(["year", "scenario"])[[
        "grid_mwh", "mining_tco2", "ai_tco2", "location_tco2", "certificates_mwh", "market_tco2"]].sum().reset_index()
    caps = [d.scenario_values[w].carbon_cap_tco2(y) for y, w in zip(annual["year"], annual["scenario"])]
    annual["cap_tco2"] = [c if np.isfinite(c) else None for c in caps]
    annual["cap_slack_tco2"] = [c - v if np.isfinite(c) else None for c, v in zip(caps, annual["market_tco2"])]
    return annual


def value_kpis(info: SolveInfo, d: ModelData, cashflow: pd.DataFrame) -> dict:
    """The plan's value (objective.py N1-N4, expected over scenarios): npv_usd is the objective's value (APV
    or levered NPV, the tie-break added back); its parts rebuilt from CashFlow."""
    p = cashflow["scenario"].map(d.probability)
    pv = lambda column, factor="discount_factor": float((p * cashflow[column] * cashflow[factor]).sum())  # noqa: E731
    tiebreak = sum(d.probability[w] * financing.tiebreak_usd(cashflow, w) for w in d.scenarios)
    return {
        "valuation": d.base.valuation,
        "npv_usd": None if info.npv_usd is None else info.npv_usd + tiebreak,
        "npv_from_cashflow_usd": float((p * cashflow["discounted_cash_flow_usd"]).sum()),
        "undrawn_tiebreak_usd": tiebreak,
        "unlevered_npv_usd": pv("unlevered_free_cash_flow_usd"),
        "tax_shield_npv_usd": pv("interest_tax_shield_usd", "debt_discount_factor"),
        "issuance_cost_npv_usd": pv("equity_issuance_cost_usd"),
        "apv_usd": pv("unlevered_free_cash_flow_usd") + pv("interest_tax_shield_usd", "debt_discount_factor")
        - pv("equity_issuance_cost_usd"),
        "levered_npv_usd": pv("net_cash_flow_usd"),
        "equity_npv_usd": pv("net_cash_flow_usd", "equity_discount_factor"),
    }


def kpis(info: SolveInfo, d: ModelData, schedule: pd.DataFrame, cashflow: pd.DataFrame,
         builds: pd.DataFrame, annual: pd.DataFrame) -> dict:
    first = schedule[schedule["scenario"] == d.scenarios[0]]
    at = lambda q: first[first["quarter"] == q]  # noqa: E731
    cash = cashflow[cashflow["scenario"] == d.scenarios[0]]
    return {
        "status": info.status,
        **value_kpis(info, d, cashflow),
        "bound_usd": info.bound_usd,
        "mip_gap": info.mip_gap,
        "lp_relaxation_npv_usd": info.lp_relaxation_npv_usd,
        "lp_relaxation_gap": info.lp_relaxation_gap,
        "build_seconds": info.build_seconds,
        "solve_seconds": info.solve_seconds,
        "rows": info.rows, "columns": info.columns, "nonzeros": info.nonzeros,
        "integer_columns": info.integer_columns,
        "solver": info.solver, "threads": info.threads, "gap_target": info.gap_target,
        "time_limit_seconds": info.time_limit,
        "sites": len(d.sites), "quarters": d.n_quarters,
        "horizon": f"{d.quarters[0]}-{d.quarters[-1]}",
        "secured_mw_end": float(at(d.quarters[-1])["secured_mw"].sum()),
        "mining_it_mw_start": float(at(d.quarters[0])["mining_it_mw"].sum()),
        "mining_it_mw_end": float(at(d.quarters[-1])["mining_it_mw"].sum()),
        "asic_bought_ehs": float(first["asic_bought_ths"].sum() / 1e6),
        "asic_capex_usd": float(cash["asic_capex_usd"].sum()),
        "ai_halls_built": int(len(builds)),
        "ai_it_mw_built": float(builds["it_mw"].sum()) if len(builds) else 0.0,
        "ai_it_mw_leased_end": float(at(d.quarters[-1])["ai_it_mw_leased"].sum()),
        "first_ai_start_quarter": builds["start_quarter"].min() if len(builds) else None,
        "ai_capex_usd": float(cash["ai_capex_usd"].sum()),
        "mining_tco2": float(first["mining_tco2"].sum()),
        "ai_tco2": float(first["ai_tco2"].sum()),
        "market_tco2": float(annual[annual["scenario"] == d.scenarios[0]]["market_tco2"].sum()),
        "min_cash_balance_usd": float(cash["cash_balance_usd"].min()),
        "peak_project_debt_usd": float(cash["project_debt_balance_usd"].max()),
        "peak_revolver_usd": float(cash["revolver_balance_usd"].max()),
        "taxes_usd": float(cash["taxes_usd"].sum()),
    }
