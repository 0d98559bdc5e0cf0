"""Mining: miners run on installed mining capacity and earn the quarter's hashprice.

Symbols:
    y[s,t,w]        mining IT load operated [IT MW]
    M_s             installed mining capacity: P[s, first quarter] / pue_mine if the site mines (the existing fleet), else 0 [IT MW]
    rev, pow, opx[s,t,w]  mining revenue, power cost and non-power opex (pool fee + $/MWh) per operated IT MW [USD/IT MW-quarter]
    pue_mine        mining power usage effectiveness [grid MW/IT MW]
    e_mine          grid MWh per operated IT MW-quarter: pue_mine * 24 * quarter_days * uptime [MWh/IT MW-quarter]

Equations:
    (M1) 0 <= y[s,t,w] <= M_s                                   (variable bounds)
    (M2) power use  += pue_mine * y[s,t,w]                      (grid MW, coupled in power.py)
    (M3) cash: mining_revenue_usd += rev*y, mining_power_cost_usd += pow*y, mining_opex_usd += opx*y
    (M4) energy_mwh += e_mine * y;  emissions_tco2 += ef[s,t] * e_mine * y
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.family import TOL_MW, no_columns, schedule_matches_cashflow, values, where
from optimizer.formulation.terms import CashLine

REQUIRES = ()
REVENUE = CashLine("mining_revenue_usd", +1, "operating")
POWER = CashLine("mining_power_cost_usd", -1, "operating")
OPEX = CashLine("mining_opex_usd", -1, "operating")
CASH_LINES = (REVENUE, POWER, OPEX)
LIMITS = ()


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    capacity = d.mining_capacity_it_mw
    m.MINING_STW = pyo.Set(initialize=[(s, t, w) for s in d.mining_sites for t in m.T for w in m.W], dimen=3)
    m.mining_it_mw = pyo.Var(m.MINING_STW, bounds=lambda _, s, t, w: (0.0, capacity[s]))
    revenue, power, opex = d.mining_revenue_usd_per_it_mw, d.mining_power_usd_per_it_mw, d.mining_opex_usd_per_it_mw
    pue, grid_co2, mwh = d.base.mining_pue, d.grid_tco2_per_mwh, d.mining_grid_mwh_per_it_mw
    for (s, t, w) in m.MINING_STW:
        y = m.mining_it_mw[s, t, w]
        m.terms.power_use_mw.add((s, t, w), pue * y)
        m.terms.add_cash(REVENUE.name, t, w, revenue[s, t, w] * y)
        m.terms.add_cash(POWER.name, t, w, power[s, t, w] * y)
        m.terms.add_cash(OPEX.name, t, w, opex[s, t, w] * y)
        m.terms.energy_mwh.add((s, t, w), mwh[s] * y)
        m.terms.emissions_tco2.add((s, t, w), grid_co2[s, t, w] * mwh[s] * y)


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    y = values(m.mining_it_mw, m.MINING_STW)
    mwh = d.mining_grid_mwh_per_it_mw
    return {
        "mining_it_mw": y,
        "mining_grid_mw": {k: d.base.mining_pue * v for k, v in y.items()},
        "mining_revenue_usd": {k: d.mining_revenue_usd_per_it_mw[k] * v for k, v in y.items()},
        "mining_power_cost_usd": {k: d.mining_power_usd_per_it_mw[k] * v for k, v in y.items()},
        "mining_opex_usd": {k: d.mining_opex_usd_per_it_mw[k] * v for k, v in y.items()},
        "mining_tco2": {k: d.grid_tco2_per_mwh[k] * mwh[k[0]] * v for k, v in y.items()},
    }


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """M1-M3: miners within [0, installed capacity], their grid MW pue_mine * y, and the Schedule's mining
    money lines adding up to CashFlow's."""
    d, s, problems = plan.data, plan.schedule, []
    over = s["mining_it_mw"] - s["site"].map(d.mining_capacity_it_mw) > TOL_MW
    if over.any() or (s["mining_it_mw"] < -TOL_MW).any():
        problems.append(f"mining: miners outside 0..installed capacity at {where(s, over | (s['mining_it_mw'] < -TOL_MW))}.")
    grid = (s["mining_grid_mw"] - d.base.mining_pue * s["mining_it_mw"]).abs() > TOL_MW
    if grid.any():
        problems.append(f"mining: grid MW are not pue_mine x IT MW at {where(s, grid)}.")
    problems += schedule_matches_cashflow(plan, CASH_LINES)
    return problems
