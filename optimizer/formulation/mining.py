"""Mining: the ASIC fleet as vintages, bought at the quarter's frontier J/TH and $/TH and retired after its
life; each vintage's miners run while their margin pays and earn the quarter's hashprice.

Symbols:
    v               vintage: a purchase quarter 0..T-1, or E for the existing fleet [-]
    J_v             J/TH of vintage v: the frontier J/TH of quarter v; J_E for the existing fleet [J/TH]
    k_v             TH/s per IT MW of vintage v: 1e6 / J_v [TH/s per IT MW]
    a[s,v]          ASIC IT MW bought at site s in quarter v (first stage; TH/s = k_v a) [IT MW]
    E_s             existing fleet at the horizon start: fleet_ths / k_E [IT MW]
    t_E             first quarter without the existing fleet (fleet_retire_quarter) [quarter]
    R[s,t]          existing fleet retired before t_E, cumulative (sites that may buy ASICs: room for a refresh; Schedule's fleet_retired_it_mw is R, then E_s from t_E) [IT MW]
    d_A, L_A        ASIC delivery lag and useful life: vintage v runs in v+d_A <= t < v+d_A+L_A [quarters]
    y[s,v,t,w]      IT MW of vintage v operated [IT MW]
    X[s,t]          mining infrastructure added at site s in quarter t [IT MW]
    I0_s, Imax_s    mining infrastructure at the horizon start P[s,0] / pue_mine, and the most: peak P / pue_mine [IT MW]
    hr[s,t,w]       revenue per TH/s operated: hashprice / 1000 * quarter_days * uptime * run[s,t] [USD/TH/s-quarter]
    pow, opx[s,t,w]  power cost and non-power opex ($/MWh part) per operated IT MW [USD/IT MW-quarter]
    f_pool          pool fee as a share of mining revenue [ratio]
    p_A[v]          price of new ASICs bought in quarter v [USD/TH]
    sigma           sale value of an ASIC at retirement as a share of its price [ratio]
    c_X             mining infrastructure capex [USD/IT MW]
    Cap_A           portfolio-wide ASIC purchases per quarter [TH/s]
    pue_mine        mining power usage effectiveness [grid MW/IT MW]
    e_mine[s,t]     grid MWh per operated IT MW-quarter: pue_mine * 24 * quarter_days * uptime * run[s,t] [MWh/IT MW-quarter]

Equations:
    (M1) 0 <= y[s,v,t,w] <= a[s,v] while v runs (E_s - R[s,t] while t < t_E for the existing fleet); no variable where the
         margin (1-f_pool) hr k_v - pow - opx + the flexibility credit (flexibility.py) is <= 0 in every scenario,
         unless the site has a mining commitment
    (M2) the fleet fits the infrastructure: sum_{v runs at t} a[s,v] + (E_s - R[s,t]) [t < t_E] <= I0_s + sum_{tau<=t} X[s,tau],
         and I0_s + sum_t X[s,t] <= Imax_s
    (M3) power use += pue_mine * sum_v y[s,v,t,w]   (grid MW, coupled in power.py)
    (M4) cash: mining_revenue_usd += hr k_v y, mining_power_cost_usd += pow y, mining_opex_usd += f_pool hr k_v y + opx y
    (M5) capex: asic_capex_usd[v] += p_A[v] k_v a[s,v], paid when bought; mining_infrastructure_usd[t] += c_X X[s,t]
    (M6) asic_salvage_usd += sigma p_A[v] k_v a[s,v] in the vintage's retirement quarter v+d_A+L_A when it lies in the
         horizon; a vintage still alive at the horizon end is sold in the first post-horizon quarter at its book value,
         straight-line from its price to sigma over its life, at most what the same TH/s costs new then:
         p_A k_v a min(p_A[T] / p_A[v], sigma + (1-sigma) * min(1, quarters left / L_A))
    (M7) sum_s k_v a[s,v] <= Cap_A   (rows only where Cap_A is finite)
    (M8) energy_mwh += e_mine[s,t] * y;  emissions_tco2 += ef[s,t] * e_mine[s,t] * y
    (M9) 0 <= R[s,t-1] <= R[s,t] <= E_s, and R[s,t] <= sum_{v runs at t} a[s,v]: an early retirement makes room
         for new ASICs running then, and is for good (no sale value, as the existing fleet's)
"""

import math

import pandas as pd
import pyomo.environ as pyo

from models.economics import asic_usd_per_th

from optimizer.data import ModelData
from optimizer.formulation.family import TOL_MW, TOL_USD, Limit, no_columns, quarter, schedule_matches_cashflow, \
    values, where
from optimizer.formulation.terms import CashLine

REQUIRES = ()
REVENUE = CashLine("mining_revenue_usd", +1, "operating")
POWER = CashLine("mining_power_cost_usd", -1, "operating")
OPEX = CashLine("mining_opex_usd", -1, "operating")
ASIC_CAPEX = CashLine("asic_capex_usd", -1, "capex")
INFRASTRUCTURE = CashLine("mining_infrastructure_usd", -1, "capex")
SALVAGE = CashLine("asic_salvage_usd", +1, "capex")
CASH_LINES = (REVENUE, POWER, OPEX, ASIC_CAPEX, INFRASTRUCTURE, SALVAGE)
LIMITS = (
    Limit("asic_purchase_limit", "ASIC purchases: TH/s a quarter", lambda d, i: quarter(d, i[0]),
          lambda d, i, a: f"buy {a:,.0f} TH/s more ASICs in {quarter(d, i[0])} "
                          f"(asic_purchase_max_ths_per_quarter)", unit="TH/s", typical=1e6),
)
EXISTING = -1  # the vintage index of the existing fleet


def ths_per_it_mw(d: ModelData, s: str, v: int) -> float:
    """k_v = 1e6 / J_v."""
    return 1e6 / (d.existing_fleet_j_per_th[s] if v == EXISTING else d.frontier_j_per_th[v])


def runs(d: ModelData, s: str, v: int, t: int) -> bool:
    """Vintage v of site s is alive (installed, not retired) in quarter t."""
    if v == EXISTING:
        return t < d.existing_fleet_retire_t[s]
    start = v + d.base.asic_delivery_quarters
    return start <= t < start + d.base.asic_life_quarters


def margin_usd_per_it_mw(d: ModelData, s: str, v: int, t: int, w: str) -> float:
    """(1-f_pool) hr k_v - pow - opx + the flexibility credit per operated IT MW and quarter."""
    k = (s, t, w)
    credit = d.flexibility_usd_per_mw_yr[s] * d.base.mining_pue / 4 * d.flex_enrolled_share[k]
    return ((1 - d.base.pool_fee_share) * d.mining_revenue_usd_per_ths[k] * ths_per_it_mw(d, s, v)
            - d.mining_power_usd_per_it_mw[k] - d.mining_opex_usd_per_it_mw[k] + credit)


def vintages(d: ModelData, s: str, t: int) -> list[int]:
    return [v for v in [EXISTING, *range(t + 1)] if runs(d, s, v, t)]


def salvage_share(d: ModelData, v: int) -> tuple[int, float]:
    """(quarter j, share of the price) of vintage v's sale (M6): sigma at retirement in the horizon, else the
    straight-line book value at T, at most the price of the same TH/s new at T (p_A[T] / p_A[v])."""
    sc, T = d.base, d.n_quarters
    retire = v + sc.asic_delivery_quarters + sc.asic_life_quarters
    if retire < T:
        return retire, sc.asic_salvage_share
    left = min(1.0, (retire - T) / sc.asic_life_quarters)
    new_at_end = asic_usd_per_th(sc, [d.extended_quarters[T]])[0] / d.asic_usd_per_th[v]
    return T, min(new_at_end, sc.asic_salvage_share + (1 - sc.asic_salvage_share) * left)


def vintage_npv_usd(d: ModelData, s: str, v: int, w: str) -> float:
    """Stand-alone NPV of one IT MW of vintage v at site s: sum of df * max(0, margin) over its operating
    quarters in the horizon, plus its discounted sale (M6), less its discounted price (M5)."""
    cost = d.asic_usd_per_th[v] * ths_per_it_mw(d, s, v)
    j, share = salvage_share(d, v)
    earned = sum(d.discount_factor[t] * max(0.0, margin_usd_per_it_mw(d, s, v, t, w))
                 for t in range(v, d.n_quarters) if runs(d, s, v, t))
    return earned + d.discount_factor[j] * share * cost - d.discount_factor[v] * cost


def operated_keys(d: ModelData) -> list[tuple]:
    """(s, v, t, w) of every y variable (M1): alive, with a paying margin in some scenario or contracted; no
    pruning under a carbon-intensity cap (a loss-making miner's MWh can loosen it for the halls)."""
    keys = []
    keep_all = math.isfinite(d.base.carbon_intensity_cap_tco2_per_mwh)
    for s in d.mining_sites:
        contracted = keep_all or d.mining_commitment_it_mw[s] > 0
        for t in range(d.n_quarters):
            for v in vintages(d, s, t):
                if v == EXISTING and d.existing_fleet_it_mw[s] <= 0:
                    continue
                if contracted or any(margin_usd_per_it_mw(d, s, v, t, w) > 0 for w in d.scenarios):
                    keys += [(s, v, t, w) for w in d.scenarios]
    return keys


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sc = d.base
    keys = operated_keys(d)
    bought = sorted({(s, v) for (s, v, t, w) in keys if v != EXISTING})
    if math.isfinite(sc.asic_purchase_max_ths_per_quarter) and sc.asic_purchase_max_ths_per_quarter <= 0:
        bought, keys = [], [k for k in keys if k[1] == EXISTING]
    m.ASIC_SV = pyo.Set(initialize=bought, dimen=2)
    m.asic_bought_it_mw = pyo.Var(m.ASIC_SV, bounds=lambda _, s, v: (0.0, d.mining_peak_it_mw[s]))
    m.MINING_SVTW = pyo.Set(initialize=keys, dimen=4)
    m.mining_vintage_it_mw = pyo.Var(m.MINING_SVTW, bounds=lambda _, s, v, t, w: (
        0.0, d.existing_fleet_it_mw[s] if v == EXISTING else d.mining_peak_it_mw[s]))
    m.mining_vintage_cap = pyo.Constraint([k for k in keys if k[1] != EXISTING], rule=lambda m, s, v, t, w:
                                          m.mining_vintage_it_mw[s, v, t, w] <= m.asic_bought_it_mw[s, v])
    _early_retirement(m, d, bought, keys)
    _infrastructure(m, d, bought)
    m.MINING_STW = pyo.Set(initialize=[(s, t, w) for s in d.mining_sites for t in m.T for w in m.W], dimen=3)
    by_stw: dict = {}
    for (s, v, t, w) in keys:
        by_stw.setdefault((s, t, w), []).append(v)
    m.mining_it_mw = pyo.Expression(m.MINING_STW, rule=lambda m, s, t, w: sum(
        m.mining_vintage_it_mw[s, v, t, w] for v in by_stw.get((s, t, w), ())))
    pue, fee = sc.mining_pue, sc.pool_fee_share
    for (s, t, w), vs in by_stw.items():
        k = (s, t, w)
        y = {v: m.mining_vintage_it_mw[s, v, t, w] for v in vs}
        total = sum(y.values())
        ths = sum(d.mining_revenue_usd_per_ths[k] * ths_per_it_mw(d, s, v) * y[v] for v in vs)
        m.terms.power_use_mw.add(k, pue * total)
        m.terms.add_cash(REVENUE.name, t, w, ths)
        m.terms.add_cash(POWER.name, t, w, d.mining_power_usd_per_it_mw[k] * total)
        m.terms.add_cash(OPEX.name, t, w, fee * ths + d.mining_opex_usd_per_it_mw[k] * total)
        mwh = d.mining_grid_mwh_per_it_mw[s] * d.mining_run_share[k]
        m.terms.energy_mwh.add(k, mwh * total)
        m.terms.emissions_tco2.add(k, d.grid_tco2_per_mwh[k] * mwh * total)
    for (s, v) in bought:
        cost = d.asic_usd_per_th[v] * ths_per_it_mw(d, s, v) * m.asic_bought_it_mw[s, v]
        j, share = salvage_share(d, v)
        for w in m.W:
            m.terms.add_cash(ASIC_CAPEX.name, v, w, cost)
            m.terms.add_cash(SALVAGE.name, j, w, share * cost)
    cap = sc.asic_purchase_max_ths_per_quarter
    limited = sorted({v for (_, v) in bought}) if math.isfinite(cap) else []
    m.asic_purchase_limit = pyo.Constraint(limited, rule=lambda m, v: sum(
        ths_per_it_mw(d, s, v) * m.asic_bought_it_mw[s, v] for (s, u) in bought if u == v) <= cap)


def _early_retirement(m: pyo.ConcreteModel, d: ModelData, bought: list, keys: list) -> None:
    """M9 (R within the new fleet running: retiring for nothing would be a tie that hides why power idles),
    and the existing fleet's part of M1: y[s,E,t,w] <= E_s - R[s,t]."""
    sites = sorted({s for (s, _) in bought if d.existing_fleet_it_mw[s] > 0})
    m.RETIRE_ST = pyo.Set(initialize=[(s, t) for s in sites for t in m.T if runs(d, s, EXISTING, t)], dimen=2)
    m.fleet_retired_it_mw = pyo.Var(m.RETIRE_ST, bounds=lambda _, s, t: (0.0, d.existing_fleet_it_mw[s]))
    m.fleet_retired_monotone = pyo.Constraint([(s, t) for (s, t) in m.RETIRE_ST if (s, t - 1) in m.RETIRE_ST],
                                              rule=lambda m, s, t: m.fleet_retired_it_mw[s, t]
                                              >= m.fleet_retired_it_mw[s, t - 1])
    m.fleet_retired_for_room = pyo.Constraint(m.RETIRE_ST, rule=lambda m, s, t: m.fleet_retired_it_mw[s, t] <= sum(
        m.asic_bought_it_mw[s, v] for v in range(t + 1) if (s, v) in m.ASIC_SV and runs(d, s, v, t)))
    m.existing_fleet_cap = pyo.Constraint(
        [k for k in keys if k[1] == EXISTING and (k[0], k[2]) in m.RETIRE_ST], rule=lambda m, s, v, t, w:
        m.mining_vintage_it_mw[s, v, t, w] <= d.existing_fleet_it_mw[s] - m.fleet_retired_it_mw[s, t])


def existing_it_mw(m: pyo.ConcreteModel, d: ModelData, s: str, t: int):
    """E_s - R[s,t] while the existing fleet runs, else 0."""
    if not runs(d, s, EXISTING, t):
        return 0.0
    return d.existing_fleet_it_mw[s] - (m.fleet_retired_it_mw[s, t] if (s, t) in m.RETIRE_ST else 0.0)


def _infrastructure(m: pyo.ConcreteModel, d: ModelData, bought: list) -> None:
    """M2 and the infrastructure capex of M5."""
    grows = [s for s in d.mining_sites if d.mining_peak_it_mw[s] > d.mining_capacity_it_mw[s] + TOL_MW
             and any(u == s for (u, _) in bought)]
    m.INFRA_ST = pyo.Set(initialize=[(s, t) for s in grows for t in m.T], dimen=2)
    m.mining_infra_added_it_mw = pyo.Var(m.INFRA_ST, domain=pyo.NonNegativeReals)
    m.mining_infra_it_mw = pyo.Expression([(s, t) for s in d.mining_sites for t in m.T], rule=lambda m, s, t: (
        d.mining_capacity_it_mw[s] + sum(m.mining_infra_added_it_mw[s, u] for u in range(t + 1) if (s, u) in m.INFRA_ST)))
    m.mining_infra_limit = pyo.Constraint(grows, rule=lambda m, s: m.mining_infra_it_mw[s, d.n_quarters - 1]
                                          <= d.mining_peak_it_mw[s])
    m.mining_fleet_it_mw = pyo.Expression([(s, t) for s in d.mining_sites for t in m.T], rule=lambda m, s, t: (
        existing_it_mw(m, d, s, t) + sum(m.asic_bought_it_mw[s, v] for v in range(t + 1) if (s, v) in m.ASIC_SV and runs(d, s, v, t))))
    fits = [(s, t) for s in {u for (u, _) in bought} for t in m.T
            if any((s, v) in m.ASIC_SV and runs(d, s, v, t) for v in range(t + 1))]
    m.mining_fleet_fits = pyo.Constraint(sorted(fits), rule=lambda m, s, t:
                                         m.mining_fleet_it_mw[s, t] <= m.mining_infra_it_mw[s, t])
    for (s, t) in m.INFRA_ST:
        for w in m.W:
            m.terms.add_cash(INFRASTRUCTURE.name, t, w, d.base.mining_infra_usd_per_it_mw * m.mining_infra_added_it_mw[s, t])


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    """Operated and installed miners (IT MW, EH/s, J/TH), purchases (TH/s), infrastructure and money lines."""
    y = values(m.mining_vintage_it_mw, m.MINING_SVTW)
    a = values(m.asic_bought_it_mw, m.ASIC_SV)
    out = {name: {} for name in ("mining_it_mw", "mining_ehs", "mining_revenue_usd", "mining_power_cost_usd",
                                 "mining_opex_usd", "mining_tco2")}
    for (s, v, t, w), mw in y.items():
        k, ths = (s, t, w), ths_per_it_mw(d, s, v) * mw
        revenue = d.mining_revenue_usd_per_ths[k] * ths
        for name, amount in (("mining_it_mw", mw), ("mining_ehs", ths / 1e6), ("mining_revenue_usd", revenue),
                             ("mining_power_cost_usd", d.mining_power_usd_per_it_mw[k] * mw),
                             ("mining_opex_usd", d.base.pool_fee_share * revenue + d.mining_opex_usd_per_it_mw[k] * mw),
                             ("mining_tco2", d.grid_tco2_per_mwh[k] * d.mining_grid_mwh_per_it_mw[s]
                              * d.mining_run_share[k] * mw)):
            out[name][k] = out[name].get(k, 0.0) + amount
    out["mining_grid_mw"] = {k: d.base.mining_pue * v for k, v in out["mining_it_mw"].items()}
    fleet = values(m.mining_fleet_it_mw, list(m.mining_fleet_it_mw))
    infra = values(m.mining_infra_it_mw, list(m.mining_infra_it_mw))
    early = values(m.fleet_retired_it_mw, m.RETIRE_ST)
    retired = {(s, t): early.get((s, t), 0.0) if runs(d, s, EXISTING, t) else d.existing_fleet_it_mw[s]
               for (s, t) in fleet}  # early, or at the end of its life
    fleet_ths = {(s, t): sum(ths_per_it_mw(d, s, v) * (a.get((s, v), 0.0) if v != EXISTING else
                                                       d.existing_fleet_it_mw[s] - retired.get((s, t), 0.0))
                             for v in vintages(d, s, t)) for (s, t) in fleet}
    per_w = lambda table: {(s, t, w): value for (s, t), value in table.items() for w in d.scenarios}  # noqa: E731
    bought_ths = {(s, t): 0.0 for (s, t) in fleet}
    for (s, v), mw in a.items():
        bought_ths[s, v] += ths_per_it_mw(d, s, v) * mw
    price = {(s, t): d.asic_usd_per_th[t] * bought_ths[s, t] for (s, t) in bought_ths}
    infra_cost = {(s, t): d.base.mining_infra_usd_per_it_mw * float(pyo.value(m.mining_infra_added_it_mw[s, t]))
                  for (s, t) in m.INFRA_ST}
    out.update({
        "fleet_it_mw": per_w(fleet), "fleet_ehs": per_w({k: v / 1e6 for k, v in fleet_ths.items()}),
        "fleet_j_per_th": per_w({k: 1e6 * fleet[k] / fleet_ths[k] if fleet_ths[k] > 0 else 0.0 for k in fleet}),
        "mining_infra_it_mw": per_w(infra), "asic_bought_ths": per_w(bought_ths),
        "fleet_retired_it_mw": per_w(retired),
        "asic_capex_usd": per_w(price), "mining_infrastructure_usd": per_w(infra_cost),
    })
    return out


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """M1-M5, M9 on the Schedule: miners within the installed fleet, the fleet within its infrastructure and equal
    to the existing fleet (less its early retirement, which never falls) plus the purchases still alive, grid MW pue_mine x IT MW, ASIC capex = TH/s bought x the
    quarter's $/TH, and the Schedule's mining money lines adding up to CashFlow's (M6 sits in CashFlow)."""
    d, s, problems = plan.data, plan.schedule, []
    bad = (s["mining_it_mw"] - s["fleet_it_mw"] > TOL_MW) | (s["mining_it_mw"] < -TOL_MW)
    if bad.any():
        problems.append(f"mining: miners outside 0..the installed fleet at {where(s, bad)}.")
    over = s["fleet_it_mw"] - s["mining_infra_it_mw"] > TOL_MW
    if over.any():
        problems.append(f"mining: the fleet exceeds the mining infrastructure at {where(s, over)}.")
    index = d.quarter_index
    bought = {(r.site, index[r.quarter]): r.asic_bought_ths for r in s.itertuples()}
    expected = [((d.existing_fleet_it_mw[r.site] - r.fleet_retired_it_mw) * ths_per_it_mw(d, r.site, EXISTING)
                 if r.site in d.mining_sites else 0.0)
                + sum(bought.get((r.site, v), 0.0) for v in range(index[r.quarter] + 1)
                      if runs(d, r.site, v, index[r.quarter])) for r in s.itertuples()]
    fleet = (s["fleet_ehs"] * 1e6 - expected).abs() > 1.0
    if fleet.any():
        problems.append(f"mining: the installed fleet is not the existing fleet plus the live purchases at "
                        f"{where(s, fleet)}.")
    fleet_e = s["site"].map(d.existing_fleet_it_mw).fillna(0.0)
    at_end = [r.site in d.mining_sites and not runs(d, r.site, EXISTING, index[r.quarter]) for r in s.itertuples()]
    early = s.groupby(["site", "scenario"])["fleet_retired_it_mw"].diff().fillna(0.0) < -TOL_MW
    early |= (s["fleet_retired_it_mw"] < -TOL_MW) | (s["fleet_retired_it_mw"] - fleet_e > TOL_MW)
    early |= ((s["fleet_retired_it_mw"] - fleet_e).abs() > TOL_MW) & pd.Series(at_end, index=s.index)
    if early.any():
        problems.append(f"mining: the existing fleet's early retirement falls or exceeds the fleet at {where(s, early)}.")
    grid = (s["mining_grid_mw"] - d.base.mining_pue * s["mining_it_mw"]).abs() > TOL_MW
    if grid.any():
        problems.append(f"mining: grid MW are not pue_mine x IT MW at {where(s, grid)}.")
    price = s["quarter"].map(lambda q: d.asic_usd_per_th[index[q]])
    capex = (s["asic_capex_usd"] - s["asic_bought_ths"] * price).abs() > TOL_USD
    if capex.any() or (s["asic_bought_ths"] < -1.0).any():
        problems.append(f"mining: ASIC capex is not the TH/s bought x the quarter's $/TH at {where(s, capex)}.")
    problems += _check_purchases(plan)
    problems += schedule_matches_cashflow(plan, (REVENUE, POWER, OPEX, ASIC_CAPEX, INFRASTRUCTURE))
    return problems


def _check_purchases(plan) -> list[str]:
    """M6 and M7 from the TH/s bought: CashFlow's sale proceeds per quarter, and the purchase cap."""
    d, problems = plan.data, []
    first = plan.schedule[plan.schedule["scenario"] == d.scenarios[0]]
    bought = first.groupby("quarter")["asic_bought_ths"].sum()
    sales = [0.0] * d.n_extended
    for q, ths in bought.items():
        v = d.quarter_index[q]
        j, share = salvage_share(d, v)
        sales[j] += share * d.asic_usd_per_th[v] * ths
    for w in d.scenarios:
        c = plan.cashflow[plan.cashflow["scenario"] == w]
        if (abs(c["asic_salvage_usd"].to_numpy() - sales) > TOL_USD).any():
            problems.append(f"mining: ASIC sale proceeds do not follow from the purchases ({w}).")
    cap = d.base.asic_purchase_max_ths_per_quarter
    over = bought[bought > cap * (1 + 1e-9) + 1.0]
    if len(over):
        problems.append(f"mining: ASIC purchases above {cap:,.0f} TH/s in {', '.join(over.index[:5])}.")
    return problems
