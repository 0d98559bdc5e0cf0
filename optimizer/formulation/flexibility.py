"""Flexibility: miners that a grid operator may curtail earn curtailment and demand-response credits, and idle
firm power bought under a fixed-price block PPA may be resold.

A site's miners are enrolled in proportion to its interruptible share of power in the quarter (miners draw
on both classes alike), or all of them when its firm power opts in (flex_firm_opt_in); enrolled miners are
off for the curtailed share of hours (mining.py scales revenue, power and energy by run = 1 - cut_s phi).

Symbols:
    v_s             curtailment and demand-response credit of an enrolled site (0 if not enrolled) [USD/grid MW-yr]
    cut_s           share of hours an enrolled site's miners are curtailed (0 if not enrolled) [ratio]
    phi[s,t]        enrolled share of the site's miners: 1 if opted in, else (P - F) / P [ratio]
    r_s             resale price of idle firm power (power_resale_usd_per_mwh; 0: no resale) [USD/MWh]
    q[s,t,w]        idle firm power resold [grid MW]
    price[s,t]      the site's power price [USD/MWh]

Equations:
    (G1) flexibility_revenue_usd += v_s / 4 * phi[s,t] * pue_mine * sum_v y[s,v,t,w]
    (G2) 0 <= q[s,t,w];  q[s,t,w] + g * B_s * N[s,t] <= F[s,t]  (firm power not reserved for AI);
         power use += q  (only where r_s > price[s,t])
    (G3) power_resale_usd += (r_s - price[s,t]) * 24 * quarter_days * q[s,t,w]
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import halls, mining
from optimizer.formulation.family import TOL_MW, TOL_USD, no_columns, schedule_matches_cashflow, values, where
from optimizer.formulation.terms import CashLine

REQUIRES = (mining, halls)
FLEXIBILITY = CashLine("flexibility_revenue_usd", +1, "operating")
RESALE = CashLine("power_resale_usd", +1, "operating")
CASH_LINES = (FLEXIBILITY, RESALE)
LIMITS = ()


def hours(d: ModelData) -> float:
    return 24.0 * d.base.quarter_days


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    pue = d.base.mining_pue
    for (s, t, w) in m.MINING_STW:
        credit = d.flexibility_usd_per_mw_yr[s] / 4 * d.flex_enrolled_share[s, t, w] * pue
        if credit > 0:
            m.terms.add_cash(FLEXIBILITY.name, t, w, credit * m.mining_it_mw[s, t, w])
    price, r = d.power_usd_per_mwh, d.power_resale_usd_per_mwh
    keys = [(s, t, w) for s in d.sites.index for t in m.T for w in m.W
            if r[s] > price[s, t, w] and d.firm_mw[s, t, w] > 0]
    m.RESALE_STW = pyo.Set(initialize=keys, dimen=3)
    m.power_resold_mw = pyo.Var(m.RESALE_STW, domain=pyo.NonNegativeReals)
    g = d.base.grid_mw_per_it_mw
    ai = lambda s, t: g * d.hall_it_mw[s] * m.halls_started[s, t] if s in d.ai_sites else 0.0  # noqa: E731
    m.power_resale_limit = pyo.Constraint(m.RESALE_STW, rule=lambda m, s, t, w:
                                          m.power_resold_mw[s, t, w] + ai(s, t) <= d.firm_mw[s, t, w])
    for (s, t, w) in keys:
        q = m.power_resold_mw[s, t, w]
        m.terms.power_use_mw.add((s, t, w), q)
        m.terms.add_cash(RESALE.name, t, w, (r[s] - price[s, t, w]) * hours(d) * q)


def schedule_columns(m: pyo.ConcreteModel, d: ModelData) -> dict:
    q = values(m.power_resold_mw, m.RESALE_STW)
    y = values(m.mining_it_mw, m.MINING_STW)
    pue, price, r = d.base.mining_pue, d.power_usd_per_mwh, d.power_resale_usd_per_mwh
    return {
        "flexibility_revenue_usd": {k: d.flexibility_usd_per_mw_yr[k[0]] / 4 * d.flex_enrolled_share[k] * pue * v
                                    for k, v in y.items()},
        "power_resold_mw": q,
        "power_resale_usd": {k: (r[k[0]] - price[k]) * hours(d) * v for k, v in q.items()},
    }


cashflow_columns = no_columns


def check(plan) -> list[str]:
    """G1-G3 on the Schedule: credits = v_s / 4 x phi x mining grid MW, resale within the firm power not reserved for
    AI, resale money = (r_s - price) x hours x MW, and both lines adding up to CashFlow's."""
    d, s, problems = plan.data, plan.schedule, []
    phi = [d.flex_enrolled_share[r.site, d.quarter_index[r.quarter], r.scenario] for r in s.itertuples()]
    credit = s["site"].map(d.flexibility_usd_per_mw_yr) / 4 * s["mining_grid_mw"] * phi
    off = (s["flexibility_revenue_usd"] - credit).abs() > TOL_USD
    if off.any():
        problems.append(f"flexibility: credits are not v_s / 4 x phi x mining grid MW at {where(s, off)}.")
    over = s["power_resold_mw"] + s["ai_grid_mw_reserved"] - s["firm_mw"] > TOL_MW
    if over.any() or (s["power_resold_mw"] < -TOL_MW).any():
        problems.append(f"flexibility: resold power outside 0..the firm MW not reserved for AI at {where(s, over)}.")
    price = [d.power_usd_per_mwh[r.site, d.quarter_index[r.quarter], r.scenario] for r in s.itertuples()]
    money = s["site"].map(d.power_resale_usd_per_mwh).sub(price).mul(hours(d)).mul(s["power_resold_mw"])
    wrong = (s["power_resale_usd"] - money).abs() > TOL_USD
    if wrong.any():
        problems.append(f"flexibility: resale money is not (r_s - price) x hours x MW at {where(s, wrong)}.")
    return problems + schedule_matches_cashflow(plan, CASH_LINES)
