"""Tidy result tables from a solved model: Schedule, Builds, CashFlow, by-year summary and KPIs.

Every money value in CashFlow is a Pyomo expression evaluated at the solution, so the NPV rebuilt from
the table, sum_j df[j] * sum_l sign_l * a_l[j], equals the objective.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.financing import MUSD
from optimizer.formulation.terms import ordered_lines
from optimizer.marginals import marginal_values
from optimizer.solve import SolveInfo
from sites.quarters import label, ordinal



@dataclass(frozen=True)
class Plan:
    data: ModelData
    info: SolveInfo
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
    builds = builds_table(model, data)
    by_year = by_year_table(schedule, data)
    emissions = emissions_table(model, data, schedule)
    annual = emissions_by_year_table(model, data, emissions)
    summary = kpis(info, data, schedule, cashflow, builds, annual)
    power, carbon = marginal_values(model, data) if marginals else (pd.DataFrame(), pd.DataFrame())
    return Plan(data, info, schedule, builds, cashflow, by_year, emissions, annual, summary, power, carbon)


def _value(var, key, default=0.0) -> float:
    return float(pyo.value(var[key])) if key in var else default


def schedule_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per (site, quarter, scenario): MW by use, idle MW, money and emissions of the quarter."""
    sc, sq = d.base, d.site_quarter
    rows = []
    for (s, t, w), par in zip(sq.index, sq.itertuples(index=False)):
        site = d.sites.loc[s]
        hall, lead = float(site["hall_it_mw"]), int(site["lead_quarters"])
        halls = _value(m.halls_started, (s, t)) if s in d.ai_sites else 0.0
        halls_online = _value(m.halls_started, (s, t - lead)) if s in d.ai_sites and t >= lead else 0.0
        mining = _value(m.mining_it_mw, (s, t, w)) if hasattr(m, "mining_it_mw") else 0.0
        leased = _value(m.leased_it_mw, (s, t, w)) if hasattr(m, "leased_it_mw") else 0.0
        lease_revenue = d.lease_revenue_usd_per_it_mw[t, w] * leased
        hours = 24.0 * sc.quarter_days
        rows.append({
            "site": s, "quarter": d.quarters[t], "scenario": w,
            "secured_mw": par.secured_mw,
            "firm_mw": par.firm_mw,
            "mining_it_mw": mining,
            "mining_grid_mw": sc.mining_pue * mining,
            "ai_halls_started": halls,
            "ai_it_mw_under_construction": hall * (halls - halls_online),
            "ai_it_mw_online": hall * halls_online,
            "ai_it_mw_leased": leased,
            "ai_grid_mw_reserved": sc.grid_mw_per_it_mw * hall * halls,
            "mining_revenue_usd": par.mining_revenue_usd_per_it_mw * mining,
            "mining_power_cost_usd": par.mining_power_usd_per_it_mw * mining,
            "mining_opex_usd": par.mining_opex_usd_per_it_mw * mining,
            "lease_revenue_usd": lease_revenue,
            "ai_opex_usd": sc.landlord_opex_share * lease_revenue,
            "grid_tco2_per_mwh": par.grid_tco2_per_mwh,
            "mining_tco2": par.grid_tco2_per_mwh * site["mining_grid_mwh_per_it_mw"] * mining,
            "ai_tco2": par.grid_tco2_per_mwh * hours * sc.ai_pue * sc.ai_load_factor * leased,
        })
    table = pd.DataFrame(rows)
    table["idle_grid_mw"] = table["secured_mw"] - table["mining_grid_mw"] - table["ai_grid_mw_reserved"]
    return table


def cashflow_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per (quarter, scenario) over the horizon and the post-horizon tail (capex, debt, terminal).

    net_cash_flow_usd = sum of the lines that count in the NPV (signs: revenues and draws +, the rest -);
    cash_change_usd adds equity raised; cash_balance_usd is the roll-forward from opening cash.
    """
    lines = ordered_lines()
    rows = []
    for w in d.scenarios:
        cash = d.scenario_values[w].opening_cash_usd
        for j, quarter in enumerate(d.extended_quarters):
            horizon = j < d.n_quarters
            row = {"quarter": quarter, "scenario": w, "period": "horizon" if horizon else "post-horizon"}
            for line in lines:
                amount = m.terms.cash_usd.get(line.name, {}).get((j, w))
                row[line.name] = float(pyo.value(amount)) if amount is not None else 0.0
            row["net_cash_flow_usd"] = sum(line.sign * row[line.name] for line in lines if line.in_npv)
            row["cash_change_usd"] = sum(line.sign * row[line.name] for line in lines)
            cash += row["cash_change_usd"]
            row["cash_balance_usd"] = cash if horizon else None
            row["project_debt_balance_usd"] = _money(m, "project_debt_balance_musd", (j, w)) if horizon else 0.0
            row["revolver_balance_usd"] = _money(m, "revolver_balance_musd", (j, w)) if horizon else 0.0
            row["depreciation_usd"] = float(pyo.value(m.depreciation_usd[j])) if hasattr(m, "depreciation_usd") else 0.0
            row["tax_loss_carried_usd"] = _money(m, "tax_loss_carried_musd", (j, w)) if horizon else 0.0
            row["discount_factor"] = d.discount_factor[j]
            row["discounted_cash_flow_usd"] = row["net_cash_flow_usd"] * row["discount_factor"]
            rows.append(row)
    return pd.DataFrame(rows)


def _money(m: pyo.ConcreteModel, name: str, key) -> float:
    """A $M model variable in USD (0 when the family is off)."""
    var = getattr(m, name, None)
    return MUSD * float(pyo.value(var[key])) if var is not None and key in var else 0.0


def builds_table(m: pyo.ConcreteModel, d: ModelData) -> pd.DataFrame:
    """One row per AI hall started: site, start, online and fully billed quarters, MW and capex."""
    rows = []
    for s in d.ai_sites:
        site = d.sites.loc[s]
        lead, hall = int(site["lead_quarters"]), float(site["hall_it_mw"])
        before = 0
        for t in range(d.n_quarters):
            count = int(round(pyo.value(m.halls_started[s, t])))
            for _ in range(count - before):
                number = len([r for r in rows if r["site"] == s]) + 1
                start = ordinal(d.quarters[t])
                rows.append({
                    "site": s, "hall": f"{s} #{number}", "start_quarter": d.quarters[t],
                    "online_quarter": label(start + lead), "fully_billed_quarter": label(start + lead + 1),
                    "lead_quarters": lead, "it_mw": hall, "grid_mw": hall * d.base.grid_mw_per_it_mw,
                    "capex_usd": hall * float(site["capex_usd_per_it_mw"]),
                })
            before = max(before, count)
    columns = ["site", "hall", "start_quarter", "online_quarter", "fully_billed_quarter", "lead_quarters",
               "it_mw", "grid_mw", "capex_usd"]
    return pd.DataFrame(rows, columns=columns)


def by_year_table(schedule: pd.DataFrame, d: ModelData) -> pd.DataFrame:
    """MW by use by year (first scenario): average mining MW, year-end AI MW, idle grid MW."""
    first = schedule[schedule["scenario"] == d.scenarios[0]].copy()
    first["year"] = first["quarter"].str[:4].astype(int)
    per_quarter = first.groupby(["year", "quarter"])[[
        "secured_mw", "mining_it_mw", "ai_it_mw_under_construction", "ai_it_mw_online", "ai_it_mw_leased",
        "idle_grid_mw", "mining_tco2", "ai_tco2"]].sum().reset_index()
    grouped = per_quarter.groupby("year")
    return pd.DataFrame({
        "secured_mw_avg": grouped["secured_mw"].mean(),
        "mining_it_mw_avg": grouped["mining_it_mw"].mean(),
        "ai_it_mw_under_construction_end": grouped["ai_it_mw_under_construction"].last(),
        "ai_it_mw_online_end": grouped["ai_it_mw_online"].last(),
        "ai_it_mw_leased_end": grouped["ai_it_mw_leased"].last(),
        "idle_grid_mw_avg": grouped["idle_grid_mw"].mean(),
        "tco2": grouped["mining_tco2"].sum() + grouped["ai_tco2"].sum(),
    }).reset_index()


def emissions_table(m: pyo.ConcreteModel, d: ModelData, schedule: pd.DataFrame) -> pd.DataFrame:
    """One row per (site, quarter, scenario): grid MWh, location-based tCO2 by use, certificates,
    market-based tCO2 = location - grid tCO2/MWh * certificates."""
    table = schedule[["site", "quarter", "scenario", "grid_tco2_per_mwh", "mining_tco2", "ai_tco2"]].copy()
    index = {q: t for t, q in enumerate(d.quarters)}
    keys = list(zip(table["site"], table["quarter"].map(index), table["scenario"]))
    table["grid_mwh"] = [float(sum(pyo.value(e) for e in m.terms.energy_mwh.get(k, []))) for k in keys]
    table["location_tco2"] = table["mining_tco2"] + table["ai_tco2"]
    certificates = getattr(m, "certificates_mwh", None)
    table["certificates_mwh"] = [float(pyo.value(certificates[k])) if certificates is not None and k in certificates
                                 else 0.0 for k in keys]
    table["market_tco2"] = table["location_tco2"] - table["grid_tco2_per_mwh"] * table["certificates_mwh"]
    return table


def emissions_by_year_table(m: pyo.ConcreteModel, d: ModelData, emissions: pd.DataFrame) -> pd.DataFrame:
    """Per (year, scenario): location- and market-based tCO2, the cap and its slack."""
    frame = emissions.assign(year=emissions["quarter"].str[:4].astype(int))
    annual = frame.groupby(["year", "scenario"])[[
        "grid_mwh", "mining_tco2", "ai_tco2", "location_tco2", "certificates_mwh", "market_tco2"]].sum().reset_index()
    caps = [d.scenario_values[w].carbon_cap_tco2(y) for y, w in zip(annual["year"], annual["scenario"])]
    annual["cap_tco2"] = [c if np.isfinite(c) else None for c in caps]
    annual["cap_slack_tco2"] = [c - v if np.isfinite(c) else None for c, v in zip(caps, annual["market_tco2"])]
    return annual


def kpis(info: SolveInfo, d: ModelData, schedule: pd.DataFrame, cashflow: pd.DataFrame,
         builds: pd.DataFrame, annual: pd.DataFrame) -> dict:
    first = schedule[schedule["scenario"] == d.scenarios[0]]
    at = lambda q: first[first["quarter"] == q]  # noqa: E731
    cash = cashflow[cashflow["scenario"] == d.scenarios[0]]
    return {
        "status": info.status,
        "npv_usd": info.npv_usd,
        "npv_from_cashflow_usd": float(np.dot(
            [d.probability[w] for w in cashflow["scenario"]], cashflow["discounted_cash_flow_usd"])),
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
        "taxes_usd": float(cash["taxes_usd"].sum()) if "taxes_usd" in cash else 0.0,
    }
