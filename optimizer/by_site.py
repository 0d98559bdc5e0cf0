"""Per-site views of a plan: site x year MW by use, the operating NPV of each site, and the MW by site of a
plan workbook's Schedule sheet (for maps).

    operating_npv_usd(s) = sum_t df_t * (mining revenue - power - mining opex + flexibility credits + power
                           resale - ASIC and mining infrastructure capex + lease revenue - AI opex)[s,t]
                           + sum_v df_{sale(v)} * ASIC sale proceeds of the site's vintage v
                           - sum_halls sum_{k<L} df_{start+k} * capex / L - df_{first start} * K_s
                           + terminal(s),  terminal(s) = x[s,T-1] / sum_s' x[s',T-1] * discounted
                             post-horizon operating lines of the CashFlow sheet

i.e. the site's own flows before financing, taxes and carbon costs, which stay portfolio-wide.
"""

from pathlib import Path

import pandas as pd

from kernel.quarters import ordinal
from optimizer.formulation import mining
from optimizer.results import Plan

YEAR_COLUMNS = ("secured_mw", "firm_mw", "mining_it_mw", "mining_grid_mw", "ai_it_mw_under_construction",
                "ai_it_mw_online", "ai_it_mw_leased", "ai_grid_mw_reserved", "fleet_ehs", "idle_grid_mw",
                "idle_no_fleet_mw", "idle_unprofitable_mw", "idle_construction_mw", "idle_curtailed_mw")


def site_years(schedule: pd.DataFrame) -> pd.DataFrame:
    """(site, year) quarterly averages of the MW columns of a Schedule table (first scenario)."""
    first = schedule[schedule["scenario"] == schedule["scenario"].iloc[0]].copy()
    first["year"] = first["quarter"].map(lambda q: ordinal(q) // 4)
    columns = [c for c in YEAR_COLUMNS if c in first]
    return first.groupby(["site", "year"], sort=False)[columns].mean().reset_index()


def operating_npv_usd(plan: Plan, scenario: str | None = None) -> pd.Series:
    """Per site: discounted own flows over the horizon, capex and opening cost, and terminal share, in
    `scenario` (default the first)."""
    d = plan.data
    w = d.scenarios[0] if scenario is None else scenario
    s = plan.schedule[plan.schedule["scenario"] == w]
    df = dict(zip(d.quarters, d.discount_factor))
    flows = (s["mining_revenue_usd"] - s["mining_power_cost_usd"] - s["mining_opex_usd"]
             + s["flexibility_revenue_usd"] + s["power_resale_usd"] - s["asic_capex_usd"]
             - s["mining_infrastructure_usd"] + s["lease_revenue_usd"] - s["ai_opex_usd"]) * s["quarter"].map(df)
    npv = flows.groupby(s["site"]).sum().reindex(d.sites.index, fill_value=0.0)
    for r in s[s["asic_bought_ths"] > 0].itertuples():
        v = d.quarter_index[r.quarter]
        j, share = mining.salvage_share(d, v)
        npv[r.site] += d.discount_factor[j] * share * d.asic_usd_per_th[v] * r.asic_bought_ths
    start = {q: j for j, q in enumerate(d.extended_quarters)}
    for build in plan.builds.itertuples():
        j0, lead = start[build.start_quarter], int(build.lead_quarters)
        npv[build.site] -= sum(d.discount_factor[j0 + k] for k in range(lead) if j0 + k < d.n_extended) \
            * build.capex_usd / lead
    for site, first in plan.builds.groupby("site")["start_quarter"].min().items():
        npv[site] -= d.discount_factor[start[first]] * d.site_opening_cost_usd[site]
    tail = plan.cashflow[(plan.cashflow["period"] == "post-horizon")
                         & (plan.cashflow["scenario"] == w)]
    operating = [line for line in plan.cash_lines if line.category == "operating"]
    terminal = float((sum(line.sign * tail[line.name] for line in operating)
                      * tail["discount_factor"]).sum())
    leased_end = s[s["quarter"] == d.quarters[-1]].set_index("site")["ai_it_mw_leased"]
    if leased_end.sum() > 0:
        npv = npv.add(terminal * leased_end / leased_end.sum(), fill_value=0.0)
    return npv


def plan_mw_by_site(plan_xlsx: str | Path, year: int | None) -> tuple[pd.DataFrame, int]:
    """Mining and AI grid MW per site, averaged over `year` (default: the plan's last year), from the
    Schedule sheet of a plan workbook."""
    schedule = pd.read_excel(plan_xlsx, sheet_name="Schedule")
    years = site_years(schedule)
    year = int(years["year"].max()) if year is None else year
    if year not in set(years["year"]):
        raise ValueError(f"year {year} is not in the plan; allowed: {years['year'].min()}-{years['year'].max()}")
    return years[years["year"] == year].set_index("site"), year
