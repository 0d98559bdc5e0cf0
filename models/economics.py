"""What each MW earns and costs, quarter by quarter: pure functions of a `Scenario` (no Pyomo).

Symbols (k = quarters since 2026Q1, g = a yearly growth rate, v(t) = v_2026 * (1+g)^(k/4)):

    subsidy_btc(t)          = subsidy_2026 * 0.5^h(t), h(t) = halvings at or before t       [BTC/block]
    hashrate_ehs(t)         = H_2026 * (1+g_H)^(k/4) * (dip if t is a halving quarter)       [EH/s]
    hashprice(t)            = blocks/day * subsidy * (1+fee_share) * price(t) / (1000 * H)   [USD/PH/day]
    ph_per_it_mw(t)         = 1000 / max(J_floor, J_2026 * (1-gain)^(k/4))                   [PH/s per IT MW]
    mining_revenue(t)       = hashprice * ph_per_it_mw * quarter_days * uptime               [USD/IT MW-q]
    mining_grid_mwh(t)      = pue_mine * 24 * quarter_days * uptime                          [MWh/IT MW-q]
    mining_power(s,t)       = mining_grid_mwh * power_price_s(t)                             [USD/IT MW-q]
    mining_opex(s,t)        = pool_fee * mining_revenue + opex_per_mwh * mining_grid_mwh     [USD/IT MW-q]
    lease_revenue(t)        = rate * 1000 * 3 * billing_utilisation * (1+esc)^(k/4)          [USD/IT MW-q]
    grid_tco2(s,t)          = m * max(floor * c_s, c_s * (1-d)^(k23/4)), k23 from 2023Q1      [tCO2/MWh]
                              (c_s the site's eGRID2023 rate or its override, d by subregion)
    secured(s,t), firm(s,t) = the site's power-ledger steps at or before t (sites/ledger.py)  [grid MW]
    df[j]                   = (1+r)^-((j+1)/4), j = 0 in the first horizon quarter           [-]
"""

import numpy as np
import pandas as pd

from models.scenario import Scenario
from sites.ledger import secured_mw, site_steps
from kernel.quarters import ordinal

BASE_2026 = ordinal("2026Q1")
BASE_GRID = ordinal("2023Q1")   # eGRID2023: the data year of the bundled CO2 rates


def quarters_since_2026(quarters: list[str]) -> np.ndarray:
    """k for each label: 2026Q1 -> 0, 2027Q1 -> 4."""
    return np.array([ordinal(q) - BASE_2026 for q in quarters], dtype=float)


def grow(level_2026: float, growth_per_yr: float, quarters: list[str]) -> np.ndarray:
    """v(t) = v_2026 * (1+g)^(k/4)."""
    return level_2026 * (1.0 + growth_per_yr) ** (quarters_since_2026(quarters) / 4.0)


def halvings_before(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """h(t): halvings that happened at or before each quarter."""
    first = ordinal(sc.first_halving_quarter)
    k = np.array([ordinal(q) for q in quarters])
    return np.where(k >= first, 1 + (k - first) // sc.halving_interval_quarters, 0)


def is_halving_quarter(sc: Scenario, quarters: list[str]) -> np.ndarray:
    first = ordinal(sc.first_halving_quarter)
    k = np.array([ordinal(q) for q in quarters])
    return (k >= first) & ((k - first) % sc.halving_interval_quarters == 0)


def subsidy_btc(sc: Scenario, quarters: list[str]) -> np.ndarray:
    return sc.subsidy_btc_2026 * 0.5 ** halvings_before(sc, quarters)


def network_hashrate_ehs(sc: Scenario, quarters: list[str]) -> np.ndarray:
    dip = np.where(is_halving_quarter(sc, quarters), sc.halving_hashrate_dip, 1.0)
    return grow(sc.network_hashrate_ehs_2026, sc.hashrate_growth_per_yr, quarters) * dip


def btc_price_usd(sc: Scenario, quarters: list[str]) -> np.ndarray:
    return grow(sc.btc_price_usd_2026, sc.btc_price_growth_per_yr, quarters)


def hashprice_usd_per_ph_day(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """USD earned per PH/s per day: daily block reward in USD over network PH/s."""
    reward_usd_per_day = (sc.blocks_per_day * subsidy_btc(sc, quarters) * (1 + sc.fee_share_of_subsidy)
                          * btc_price_usd(sc, quarters))
    return reward_usd_per_day / (network_hashrate_ehs(sc, quarters) * 1000.0)


def fleet_j_per_th(sc: Scenario, quarters: list[str]) -> np.ndarray:
    raw = sc.fleet_j_per_th_2026 * (1 - sc.fleet_efficiency_gain_per_yr) ** (quarters_since_2026(quarters) / 4)
    return np.maximum(raw, sc.fleet_j_per_th_floor)


def mining_grid_mwh_per_it_mw(sc: Scenario) -> float:
    """Grid MWh drawn per IT MW of miners operated for one quarter (uptime-scaled)."""
    return sc.mining_pue * 24.0 * sc.quarter_days * sc.mining_uptime


def mining_revenue_usd_per_it_mw(sc: Scenario, quarters: list[str]) -> np.ndarray:
    ph_per_it_mw = 1000.0 / fleet_j_per_th(sc, quarters)
    return hashprice_usd_per_ph_day(sc, quarters) * ph_per_it_mw * sc.quarter_days * sc.mining_uptime


def power_price_usd_per_mwh(sc: Scenario, price_2026: float, quarters: list[str]) -> np.ndarray:
    return grow(price_2026, sc.power_price_escalation_per_yr, quarters)


def lease_revenue_usd_per_it_mw(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """Billed lease revenue per leased IT MW per quarter ($/kW-month * 1000 kW * 3 months)."""
    return (sc.lease_usd_per_kw_month * 1000.0 * 3.0 * sc.ai_billing_utilisation
            * (1 + sc.lease_escalator_per_yr) ** (quarters_since_2026(quarters) / 4))


def grid_tco2_per_mwh(sc: Scenario, level: float, subregion: str, quarters: list[str]) -> np.ndarray:
    """Grid CO2 path of a site whose rate was `level` tCO2/MWh in 2023 (eGRID2023 data year)."""
    decline = sc.grid_tco2_decline_per_yr.get(subregion, sc.grid_tco2_decline_default_per_yr)
    k23 = np.array([ordinal(q) - BASE_GRID for q in quarters], dtype=float)
    path = level * (1 - decline) ** (k23 / 4)
    return sc.grid_tco2_multiplier * np.maximum(path, sc.grid_tco2_floor_share * level)


def discount_factors(rate_per_yr: float, n_quarters: int) -> np.ndarray:
    """df[j] = (1+r)^-((j+1)/4): cash flows at the end of each quarter."""
    return (1.0 + rate_per_yr) ** (-(np.arange(n_quarters) + 1) / 4.0)


def quarter_table(sc: Scenario, quarters: list[str]) -> pd.DataFrame:
    """Per-quarter market values (index: quarter label)."""
    return pd.DataFrame({
        "btc_price_usd": btc_price_usd(sc, quarters),
        "subsidy_btc": subsidy_btc(sc, quarters),
        "network_hashrate_ehs": network_hashrate_ehs(sc, quarters),
        "hashprice_usd_per_ph_day": hashprice_usd_per_ph_day(sc, quarters),
        "fleet_j_per_th": fleet_j_per_th(sc, quarters),
        "mining_revenue_usd_per_it_mw": mining_revenue_usd_per_it_mw(sc, quarters),
        "lease_revenue_usd_per_it_mw": lease_revenue_usd_per_it_mw(sc, quarters),
    }, index=pd.Index(quarters, name="quarter"))


def site_quarter_table(sites: pd.DataFrame, sc: Scenario, quarters: list[str]) -> pd.DataFrame:
    """Per-(site, quarter) values: secured grid MW, mining margin parts per IT MW, grid carbon."""
    q = quarter_table(sc, quarters)
    mwh = mining_grid_mwh_per_it_mw(sc)
    frames = []
    for site, row in sites.iterrows():
        power_price = power_price_usd_per_mwh(sc, row["power_usd_per_mwh_2026"] * sc.power_price_multiplier,
                                              quarters)
        steps = site_steps(row.to_dict())
        revenue = q["mining_revenue_usd_per_it_mw"].to_numpy()
        frames.append(pd.DataFrame({
            "site": site,
            "quarter": quarters,
            "secured_mw": secured_mw(steps, quarters),
            "firm_mw": secured_mw(steps, quarters, "firm"),
            "power_usd_per_mwh": power_price,
            "mining_revenue_usd_per_it_mw": revenue,
            "mining_power_usd_per_it_mw": mwh * power_price,
            "mining_opex_usd_per_it_mw": sc.pool_fee_share * revenue + sc.mining_opex_usd_per_mwh * mwh,
            "grid_tco2_per_mwh": grid_tco2_per_mwh(sc, row["grid_tco2_per_mwh"], row["egrid_subregion"], quarters),
        }))
    return pd.concat(frames, ignore_index=True).set_index(["site", "quarter"])
