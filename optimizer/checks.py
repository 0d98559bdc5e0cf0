"""Result checks: recompute every constraint family from the exported tables, with a tolerance.

Each check reads only Plan tables (the workbook's sheets) and the inputs (ModelData), never the Pyomo
model, so it proves what a reader of the workbook sees. `check_plan` returns one sentence per violation.
"""

import math

import numpy as np
import pandas as pd

from optimizer.data import ModelData
from optimizer.formulation.terms import CASH_LINES
from optimizer.results import Plan

TOL_MW = 1e-4
TOL_USD = 1.0
TOL_T = 1e-2


def check_plan(plan: Plan) -> list[str]:
    """Every violation found, as sentences (empty list: the plan satisfies every family)."""
    d = plan.data
    problems = []
    for check in (_power, _mining, _halls, _leasing, _utilization, _cash, _carbon, _capex_budget, _npv):
        problems.extend(check(plan, d))
    return problems


def _where(frame: pd.DataFrame, mask) -> list[str]:
    rows = frame[mask]
    return [f"{r.site} {r.quarter}" + (f" ({r.scenario})" if len(frame["scenario"].unique()) > 1 else "")
            for r in rows.itertuples()][:5]


def _power(plan: Plan, d: ModelData) -> list[str]:
    s = plan.schedule
    over = s["mining_grid_mw"] + s["ai_grid_mw_reserved"] - s["secured_mw"] > TOL_MW
    firm = s["ai_grid_mw_reserved"] - s["firm_mw"] > TOL_MW
    return ([f"power: grid MW used exceeds secured MW at {', '.join(_where(s, over))}."] if over.any() else []) + \
        ([f"power: AI halls reserve more than the firm MW at {', '.join(_where(s, firm))}."] if firm.any() else [])


def _mining(plan: Plan, d: ModelData) -> list[str]:
    s = plan.schedule
    capacity = s["site"].map(d.sites["mining_capacity_it_mw"])
    over = s["mining_it_mw"] - capacity > TOL_MW
    return [f"mining: miners exceed installed capacity at {', '.join(_where(s, over))}."] if over.any() else []


def _halls(plan: Plan, d: ModelData) -> list[str]:
    problems = []
    b = plan.builds
    cap = d.base.max_ai_start_it_mw_per_quarter
    if len(b) and math.isfinite(cap):
        started = b.groupby("start_quarter")["it_mw"].sum()
        for quarter, mw in started[started > cap + TOL_MW].items():
            problems.append(f"build rate: {mw:g} IT MW started in {quarter}, above {cap:g}.")
    for site, count in b.groupby("site").size().items():
        if count > d.sites.at[site, "max_halls"]:
            problems.append(f"halls: {site} has {count} halls, above its {d.sites.at[site, 'max_halls']}.")
    return problems


def _billable_it_mw(plan: Plan, d: ModelData) -> pd.Series:
    """(site, quarter) -> IT MW that may bill: 50% in a hall's online quarter, 100% after."""
    index = {q: t for t, q in enumerate(d.quarters)}
    out = {}
    for row in plan.builds.itertuples(index=False):
        start = index[row.start_quarter]
        for t in range(d.n_quarters):
            age = t - start - row.lead_quarters
            share = 0.0 if age < 0 else (0.5 if age == 0 else 1.0)
            out[(row.site, d.quarters[t])] = out.get((row.site, d.quarters[t]), 0.0) + share * row.it_mw
    return pd.Series(out, dtype=float)


def _leasing(plan: Plan, d: ModelData) -> list[str]:
    s = plan.schedule.sort_values(["scenario", "site", "quarter"])
    problems = []
    billable = _billable_it_mw(plan, d)
    allowed = pd.Series([billable.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    over = s["ai_it_mw_leased"] - allowed > TOL_MW
    if over.any():
        problems.append(f"leasing: leased MW exceed the billable MW of online halls at {', '.join(_where(s, over))}.")
    change = s.groupby(["scenario", "site"])["ai_it_mw_leased"].diff().fillna(s["ai_it_mw_leased"])
    if (change < -TOL_MW).any():
        problems.append(f"leasing: leased MW fall at {', '.join(_where(s, change < -TOL_MW))}.")
    early = (s["quarter"].map({q: t for t, q in enumerate(d.quarters)}) < d.earliest_revenue_t) & (
        s["ai_it_mw_leased"] > TOL_MW)
    if early.any():
        problems.append(f"earliest revenue: leases before {d.base.earliest_ai_revenue_quarter} at "
                        f"{', '.join(_where(s, early))}.")
    market = s.assign(market=s["site"].map(d.sites["market"]), new=change)
    new = market.groupby(["scenario", "market", "quarter"])["new"].sum()
    for (w, mk, quarter), mw in new.items():
        limit = d.scenario_values[w].market_absorption_it_mw_per_quarter.get(mk)
        if limit is not None and mw > limit + TOL_MW:
            problems.append(f"market absorption: {mw:.1f} new IT MW leased in {mk} in {quarter}, above {limit:g}.")
    return problems


def _utilization(plan: Plan, d: ModelData) -> list[str]:
    sc = d.base
    if sc.utilization_min_share <= 0:
        return []
    index = {q: t for t, q in enumerate(d.quarters)}
    need = {}
    for row in plan.builds.itertuples(index=False):
        for t in range(index[row.start_quarter] + row.lead_quarters + sc.utilization_after_quarters, d.n_quarters):
            need[(row.site, d.quarters[t])] = need.get((row.site, d.quarters[t]), 0.0) + sc.utilization_min_share * row.it_mw
    s = plan.schedule
    required = pd.Series([need.get((r.site, r.quarter), 0.0) for r in s.itertuples()], index=s.index)
    short = required - s["ai_it_mw_leased"] > TOL_MW
    return [f"utilization: halls less than {sc.utilization_min_share:.0%} leased at {', '.join(_where(s, short))}."
            ] if short.any() else []


def _cash(plan: Plan, d: ModelData) -> list[str]:
    problems = []
    for w, cash in plan.cashflow.groupby("scenario"):
        sc = d.scenario_values[w]
        net = sum(line.sign * cash[line.name] for line in CASH_LINES.values() if line.in_npv)
        if (abs(net - cash["net_cash_flow_usd"]) > TOL_USD).any():
            problems.append(f"cash flow: net_cash_flow_usd differs from the sum of its lines ({w}).")
        horizon = cash[cash["period"] == "horizon"]
        rolled = sc.opening_cash_usd + horizon["cash_change_usd"].cumsum()
        if (abs(rolled - horizon["cash_balance_usd"]) > TOL_USD * len(horizon)).any():
            problems.append(f"liquidity: cash_balance_usd does not roll forward from opening cash ({w}).")
        low = horizon[horizon["cash_balance_usd"] < sc.cash_floor_usd - TOL_USD]
        if len(low):
            problems.append(f"liquidity: cash below the ${sc.cash_floor_usd / 1e6:,.0f}M floor in "
                            f"{', '.join(low['quarter'].head(5))} ({w}).")
        if (horizon["revolver_balance_usd"] > sc.revolver_limit_usd + TOL_USD).any():
            problems.append(f"financing: revolver above its limit ({w}).")
    return problems


def _carbon(plan: Plan, d: ModelData) -> list[str]:
    a = plan.emissions_by_year
    capped = a[a["cap_tco2"].notna()]
    over = capped[capped["market_tco2"] > capped["cap_tco2"].astype(float) + TOL_T]
    problems = [f"carbon cap: {r.market_tco2:,.0f} tCO2 in {r.year}, above the cap of {r.cap_tco2:,.0f}."
                for r in over.itertuples()]
    e = plan.emissions
    market = e["location_tco2"] - e["grid_tco2_per_mwh"] * e["certificates_mwh"]
    if (abs(market - e["market_tco2"]) > TOL_T).any() or (e["certificates_mwh"] > e["grid_mwh"] + TOL_MW).any():
        problems.append("carbon: market-based emissions or certificates do not follow from the Emissions sheet.")
    return problems


def _capex_budget(plan: Plan, d: ModelData) -> list[str]:
    budget = d.base.capex_budget_usd_per_quarter
    if not math.isfinite(budget):
        return []
    c = plan.cashflow[(plan.cashflow["period"] == "horizon") & (plan.cashflow["scenario"] == d.scenarios[0])]
    paid = c["ai_capex_usd"] + c["site_opening_usd"]
    over = c[paid > budget + TOL_USD]
    return [f"capex budget: ${p / 1e6:,.1f}M paid in {q}, above ${budget / 1e6:,.1f}M."
            for q, p in zip(over["quarter"], paid[paid > budget + TOL_USD])]


def _npv(plan: Plan, d: ModelData) -> list[str]:
    c = plan.cashflow
    rebuilt = float(np.dot([d.probability[w] for w in c["scenario"]], c["net_cash_flow_usd"] * c["discount_factor"]))
    npv = plan.info.npv_usd
    if npv is None or abs(rebuilt - npv) > 1e-6 * max(1.0, abs(npv)):
        return [f"objective: NPV rebuilt from CashFlow ${rebuilt:,.0f} differs from the objective ${npv:,.0f}."]
    return []
