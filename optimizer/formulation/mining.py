"""Mining: miners run on installed mining capacity and earn the quarter's hashprice.

Symbols: y[s,t,w] mining IT load operated (IT MW); M_s installed mining capacity (IT MW);
rev, pow, opx[s,t,w] mining revenue, power cost and non-power opex per IT MW-quarter (USD);
pue_mine grid MW per IT MW.

    (M1) 0 <= y[s,t,w] <= M_s                                   (variable bounds)
    (M2) power use  += pue_mine * y[s,t,w]                      (grid MW, coupled in power.py)
    (M3) cash: mining_revenue_usd += rev*y, mining_power_usd -= pow*y, mining_opex_usd -= opx*y
    (M4) energy_mwh += e_mine * y;  emissions_tco2 += c[s,t] * e_mine * y
         (e_mine = pue_mine * 24 * quarter_days * uptime MWh per IT MW-quarter; c grid tCO2/MWh)
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.terms import cash_line

REVENUE = cash_line("mining_revenue_usd", +1, "operating")
POWER = cash_line("mining_power_cost_usd", -1, "operating")
OPEX = cash_line("mining_opex_usd", -1, "operating")


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    sites = d.mining_sites
    capacity = d.sites["mining_capacity_it_mw"].to_dict()
    m.MINING_STW = pyo.Set(initialize=[(s, t, w) for s in sites for t in m.T for w in m.W], dimen=3)
    m.mining_it_mw = pyo.Var(m.MINING_STW, bounds=lambda _, s, t, w: (0.0, capacity[s]))
    revenue, power, opex = (d.values("mining_revenue_usd_per_it_mw"), d.values("mining_power_usd_per_it_mw"),
                            d.values("mining_opex_usd_per_it_mw"))
    pue, grid_co2 = d.base.mining_pue, d.values("grid_tco2_per_mwh")
    mwh = d.sites["mining_grid_mwh_per_it_mw"].to_dict()
    for (s, t, w) in m.MINING_STW:
        y = m.mining_it_mw[s, t, w]
        m.terms.power_use_mw[(s, t, w)].append(pue * y)
        m.terms.add_cash(REVENUE, t, w, revenue[s, t, w] * y)
        m.terms.add_cash(POWER, t, w, power[s, t, w] * y)
        m.terms.add_cash(OPEX, t, w, opex[s, t, w] * y)
        m.terms.energy_mwh[(s, t, w)].append(mwh[s] * y)
        m.terms.emissions_tco2[(s, t, w)].append(grid_co2[s, t, w] * mwh[s] * y)
