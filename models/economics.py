"""What each MW earns and costs, quarter by quarter: pure functions of a `Scenario` (no Pyomo).

Symbols (k = quarters since 2026Q1, g = a yearly growth rate, v(t) = v_2026 * (1+g)^(k/4)):

    subsidy_btc(t)          = subsidy_2026 * 0.5^h(t), h(t) = halvings at or before t       [BTC/block]
    shock(t)                = 1 - (1-dip) * (1 - i/R) in the i-th quarter after a halving, i < R  [-]
    hashrate_ehs(t)         = G(t) * shock(t); feedback off: G(t) = H_2026 * (1+g_H)^(k/4);
                              feedback on: G(t) = G(t-1) * (1 + clip(a + b ln X(t), g_lo, g_hi)),
                              X(t) = Rp(t) if Rp(t) < 1 (exit answers now) else max(1, R(t-lag)) (entry
                              answers to the ratio `lag` quarters earlier), G(2026Q1) = H_2026
                              (quarters before 2026Q1: H_2026 * shock)                        [EH/s]
    hashprice(t)            = blocks/day * subsidy * (1+fee_share) * price(t) / (1000 * H)   [USD/PH/day]
    hashcost(t)             = c_2026 * (1-d_c)^(k/4): the network's median all-in hashcost   [USD/PH/day]
    R(t)                    = hashprice(t) / hashcost(t); Rp(t) the same at last quarter's hashrate [-]
    frontier_j_per_th(t)    = J_2026 * (1-gain)^(k/4);  asic_usd_per_th(t) = p_2026 * (1-d_p)^(k/4)
    phi(s,t)                = 1 with flex_firm_opt_in, else (P - F) / P: the enrolled share of miners [-]
    run(s,t)                = 1 - curtailed_share_s * phi(s,t)                                [-]
    revenue_per_ths(s,t)    = hashprice(t) / 1000 * quarter_days * uptime * run(s,t)          [USD/TH/s-q]
    mining_grid_mwh         = pue_mine * 24 * quarter_days * uptime (* run(s,t) in mining.py) [MWh/IT MW-q]
    mining_power(s,t)       = mining_grid_mwh * run(s,t) * power_price_s(t)                  [USD/IT MW-q]
    mining_opex(s,t)        = opex_per_mwh * mining_grid_mwh * run(s,t) (+ pool fee, mining.py) [USD/IT MW-q]
    lease_revenue(t)        = rate * 1000 * 3 * billing_utilisation * (1+g_m)^(k/4): an IT MW-quarter of a
                              lease signed in t, at the market rate (g_m = lease_market_growth_per_yr) [USD/IT MW-q]
    escalation(a)           = (1+esc)^(a/4): a lease a quarters after its signing (contract escalator) [-]
    signed(t)               = it_mw * share(k) * rate_c * 1000 * 3 * billing_utilisation * (1+esc_c)^(k/4)
                              for 0 <= k < term, k = t - start: a signed lease's contract revenue   [USD/q]
    grid_tco2(s,t)          = m * max(floor * c_s, c_s * (1-d)^(k23/4)), k23 from 2023Q1      [tCO2/MWh]
                              (c_s the site's eGRID2023 rate or its override, d by subregion)
    secured(s,t), firm(s,t) = the site's power-ledger steps at or before t (sites/ledger.py)  [grid MW]
    df[j]                   = (1+r)^-((j+1)/4), j = 0 in the first horizon quarter           [-]
"""

import numpy as np
import pandas as pd

from models.scenario import Scenario
from sites.ledger import secured_mw, site_steps
from kernel.quarters import label, ordinal

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


def halving_shock(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """shock(t): the halving dip, recovering linearly over halving_recovery_quarters."""
    first, every, n = ordinal(sc.first_halving_quarter), sc.halving_interval_quarters, sc.halving_recovery_quarters
    out = []
    for q in quarters:
        since = ordinal(q) - first
        i = since % every if since >= 0 else n
        out.append(1 - (1 - sc.halving_hashrate_dip) * (1 - i / n) if i < n else 1.0)
    return np.array(out)


def btc_price_usd(sc: Scenario, quarters: list[str]) -> np.ndarray:
    return grow(sc.btc_price_usd_2026, sc.btc_price_growth_per_yr, quarters)


def network_hashcost_usd_per_ph_day(sc: Scenario, quarters: list[str]) -> np.ndarray:
    return grow(sc.network_hashcost_usd_per_ph_day_2026, -sc.network_hashcost_decline_per_yr, quarters)


def hashprice_of(sc: Scenario, price_usd, subsidy_btc, hashrate_ehs):
    """USD earned per PH/s per day: daily block reward in USD over network PH/s."""
    return sc.blocks_per_day * subsidy_btc * (1 + sc.fee_share_of_subsidy) * price_usd / (hashrate_ehs * 1000.0)


def hashrate_path(sc: Scenario, price_usd, subsidy_btc, hashcost, shock, start_ehs: float,
                  ratio_before=()) -> np.ndarray:
    """Network EH/s by quarter under the feedback rule (module docstring), from G = start_ehs in the first
    quarter; `ratio_before` holds R of the quarters before it (oldest first; missing ones are R of the first)."""
    n = len(price_usd)
    hashrate, ratio = np.zeros(n), np.zeros(n)
    trend, lag = start_ehs, sc.hashrate_entry_lag_quarters
    history = list(ratio_before)
    for t in range(n):
        if t > 0:
            now = hashprice_of(sc, price_usd[t], subsidy_btc[t], hashrate[t - 1]) / hashcost[t]
            past = history + list(ratio[:t])
            entry = now if lag == 0 else past[-lag] if len(past) >= lag else past[0]
            x = now if now < 1 else max(1.0, entry)
            trend *= 1 + np.clip(sc.hashrate_feedback_intercept + sc.hashrate_feedback_elasticity * np.log(max(x, 1e-12)),
                                 sc.hashrate_growth_min_per_quarter, sc.hashrate_growth_max_per_quarter)
        hashrate[t] = trend * shock[t]
        ratio[t] = hashprice_of(sc, price_usd[t], subsidy_btc[t], hashrate[t]) / hashcost[t]
    return hashrate


def network_hashrate_ehs(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """hashrate_ehs(t). With feedback the path runs from G(2026Q1) = H_2026; a quarter before 2026Q1 holds
    H_2026 times its halving shock (the rule does not run backwards)."""
    if not sc.hashrate_feedback:
        return grow(sc.network_hashrate_ehs_2026, sc.hashrate_growth_per_yr, quarters) * halving_shock(sc, quarters)
    last = max([BASE_2026] + [ordinal(q) for q in quarters])
    run = [label(k) for k in range(BASE_2026, last + 1)]
    path = hashrate_path(sc, btc_price_usd(sc, run), subsidy_btc(sc, run), network_hashcost_usd_per_ph_day(sc, run),
                         halving_shock(sc, run), sc.network_hashrate_ehs_2026)
    before = sc.network_hashrate_ehs_2026 * halving_shock(sc, quarters)
    return np.array([path[ordinal(q) - BASE_2026] if ordinal(q) >= BASE_2026 else before[i]
                     for i, q in enumerate(quarters)])


def hashprice_usd_per_ph_day(sc: Scenario, quarters: list[str]) -> np.ndarray:
    return hashprice_of(sc, btc_price_usd(sc, quarters), subsidy_btc(sc, quarters), network_hashrate_ehs(sc, quarters))


def frontier_j_per_th(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """J/TH of a new ASIC bought in each quarter."""
    return grow(sc.asic_j_per_th_2026, -sc.asic_efficiency_gain_per_yr, quarters)


def asic_usd_per_th(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """Price of a new frontier ASIC per TH/s in each quarter."""
    return grow(sc.asic_usd_per_th_2026, -sc.asic_price_decline_per_yr, quarters)


def mining_grid_mwh_per_it_mw(sc: Scenario, curtailed_share: float = 0.0) -> float:
    """Grid MWh drawn per IT MW of miners operated for one quarter (uptime- and curtailment-scaled)."""
    return sc.mining_pue * 24.0 * sc.quarter_days * sc.mining_uptime * (1 - curtailed_share)


def revenue_usd_per_ths(sc: Scenario, quarters: list[str], curtailed_share: float = 0.0) -> np.ndarray:
    """Revenue per TH/s operated for one quarter (before the pool fee)."""
    return (hashprice_usd_per_ph_day(sc, quarters) / 1000.0 * sc.quarter_days * sc.mining_uptime
            * (1 - curtailed_share))


def power_price_usd_per_mwh(sc: Scenario, price_2026: float, quarters: list[str]) -> np.ndarray:
    return grow(price_2026, sc.power_price_escalation_per_yr, quarters)


def usd_per_it_mw_quarter(sc: Scenario, usd_per_kw_month: float) -> float:
    """Billed revenue of one leased IT MW for a quarter at a rate: $/kW-month * 1000 kW * 3 * billing utilisation."""
    return usd_per_kw_month * 1000.0 * 3.0 * sc.ai_billing_utilisation


def lease_revenue_usd_per_it_mw(sc: Scenario, quarters: list[str]) -> np.ndarray:
    """Billed revenue per IT MW-quarter of a lease signed in each quarter, at the market rate of new signings
    (lease_usd_per_kw_month in 2026Q1, growing at lease_market_growth_per_yr)."""
    return usd_per_it_mw_quarter(sc, sc.lease_usd_per_kw_month) * (
        1 + sc.lease_market_growth_per_yr) ** (quarters_since_2026(quarters) / 4)


def lease_escalation(sc: Scenario, quarters_since_signing: float) -> float:
    """(1+esc)^(a/4): the contract escalator a quarters after signing."""
    return (1 + sc.lease_escalator_per_yr) ** (quarters_since_signing / 4)


def signed_lease_revenue_usd(sc: Scenario, lease, quarters: list[str]) -> np.ndarray:
    """Contract revenue of a signed lease (sites/leases.py SignedLease) in each quarter: it_mw * share(k) *
    rate_c * 1000 * 3 * billing utilisation * (1+esc_c)^(k/4) for 0 <= k < term (k = quarters since its start),
    else 0 (after its term its MW are at the market rate)."""
    start = ordinal(lease.start_quarter)
    k = np.array([ordinal(q) - start for q in quarters])
    share = np.array([lease.billed_share(int(a)) for a in k])
    active = (k >= 0) & (k < lease.term_quarters)
    return np.where(active, lease.it_mw * share * usd_per_it_mw_quarter(sc, lease.rate_usd_per_kw_month)
                    * (1 + lease.escalator_per_yr) ** (k / 4), 0.0)


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
    price, subsidy, hashrate = btc_price_usd(sc, quarters), subsidy_btc(sc, quarters), network_hashrate_ehs(sc, quarters)
    hashprice, hashcost = hashprice_of(sc, price, subsidy, hashrate), network_hashcost_usd_per_ph_day(sc, quarters)
    return pd.DataFrame({
        "btc_price_usd": price,
        "subsidy_btc": subsidy,
        "network_hashrate_ehs": hashrate,
        "hashprice_usd_per_ph_day": hashprice,
        "network_hashcost_usd_per_ph_day": hashcost,
        "hashprice_to_hashcost": hashprice / hashcost,
        "frontier_j_per_th": frontier_j_per_th(sc, quarters),
        "asic_usd_per_th": asic_usd_per_th(sc, quarters),
        "lease_revenue_usd_per_it_mw": lease_revenue_usd_per_it_mw(sc, quarters),
    }, index=pd.Index(quarters, name="quarter"))


def site_quarter_table(sites: pd.DataFrame, sc: Scenario, quarters: list[str]) -> pd.DataFrame:
    """Per-(site, quarter) values: secured grid MW; the enrolled share phi of the site's miners (1 with
    flex_firm_opt_in, else the interruptible share (P - F) / P of its power: miners draw on both classes in
    proportion); their run share 1 - curtailed_share * phi; mining revenue per TH/s and power and opex per IT
    MW after it; grid carbon."""
    per_ths = revenue_usd_per_ths(sc, quarters)
    mwh = mining_grid_mwh_per_it_mw(sc)
    frames = []
    for site, row in sites.iterrows():
        power_price = power_price_usd_per_mwh(sc, row["power_usd_per_mwh_2026"] * sc.power_price_multiplier,
                                              quarters)
        steps = site_steps(row.to_dict())
        secured, firm = secured_mw(steps, quarters), secured_mw(steps, quarters, "firm")
        interruptible = np.divide(secured - firm, secured, out=np.zeros(len(quarters)), where=secured > 0)
        enrolled = np.ones(len(quarters)) if bool(row.get("flex_firm_opt_in", False)) else interruptible
        run = 1 - float(row.get("curtailed_hours_share", 0.0)) * enrolled
        frames.append(pd.DataFrame({
            "site": site,
            "quarter": quarters,
            "secured_mw": secured,
            "firm_mw": firm,
            "power_usd_per_mwh": power_price,
            "flex_enrolled_share": enrolled,
            "mining_run_share": run,
            "mining_revenue_usd_per_ths": per_ths * run,
            "mining_power_usd_per_it_mw": mwh * run * power_price,
            "mining_opex_usd_per_it_mw": sc.mining_opex_usd_per_mwh * mwh * run,
            "grid_tco2_per_mwh": grid_tco2_per_mwh(sc, row["grid_tco2_per_mwh"], row["egrid_subregion"], quarters),
        }))
    return pd.concat(frames, ignore_index=True).set_index(["site", "quarter"])


# Hashcosts of this portfolio's fleets (`hashpivot scenarios economics`). 1 PH/s at J J/TH draws J kW, so it
# uses J * 24 * pue / 1000 grid MWh per day.

ECONOMICS_COLUMNS = ("btc_price_usd", "network_hashrate_ehs", "hashprice_usd_per_ph_day",
                     "network_hashcost_usd_per_ph_day", "frontier_j_per_th", "asic_usd_per_th",
                     "fleet_hashcost_usd_per_ph_day", "refresh_hashcost_usd_per_ph_day")


def cash_hashcost_usd_per_ph_day(sc: Scenario, j_per_th, power_usd_per_mwh):
    """Power and non-power opex per PH/s-day: J/TH * 24 h * pue * (power + opex USD/MWh) / 1000."""
    return j_per_th * 24.0 * sc.mining_pue * (power_usd_per_mwh + sc.mining_opex_usd_per_mwh) / 1000.0


def asic_capex_usd_per_ph_day(sc: Scenario, asic_usd_per_th):
    """ASIC price less salvage spread evenly over its life, per PH/s-day:
    1000 * usd_per_th * (1 - salvage) / (life_quarters * quarter_days)."""
    return 1000.0 * asic_usd_per_th * (1 - sc.asic_salvage_share) / (sc.asic_life_quarters * sc.quarter_days)


def fleet_weights_it_mw(sites: pd.DataFrame) -> np.ndarray:
    """Weights of the fleet averages: the existing fleet's IT MW E_s, or, in a portfolio without one, the
    mining capacity I0_s (columns of optimizer.data.build_values)."""
    fleet = sites["existing_fleet_it_mw"].to_numpy(float)
    return fleet if fleet.sum() > 0 else sites["mining_capacity_it_mw"].to_numpy(float)


def fleet_power_usd_per_mwh_2026(sites: pd.DataFrame, sc: Scenario) -> float:
    """2026 power price of the fleet: sum_s w_s * p_s * multiplier / sum_s w_s (w: fleet_weights_it_mw;
    NaN without mining sites)."""
    w = fleet_weights_it_mw(sites)
    price = sites["power_usd_per_mwh_2026"].to_numpy(float) * sc.power_price_multiplier
    return float(w @ price / w.sum()) if w.sum() > 0 else float("nan")


def existing_fleet_j_per_th(sites: pd.DataFrame) -> float:
    """The existing fleet's J/TH: sum_s E_s / sum_s (E_s / J_s), the IT-MW-weighted mean taken per TH/s (so
    that J * hashrate is the fleet's power); NaN without an existing fleet."""
    fleet = sites["existing_fleet_it_mw"].to_numpy(float)
    ths = fleet / sites["existing_fleet_j_per_th"].to_numpy(float)
    return float(fleet.sum() / ths.sum()) if fleet.sum() > 0 else float("nan")


def economics_table(sites: pd.DataFrame, sc: Scenario) -> pd.DataFrame:
    """Per horizon quarter (index: quarter), ECONOMICS_COLUMNS: the market of `quarter_table` and this
    portfolio's fleet hashcosts [USD/PH/day]. `sites`: the site table joined with build_values. With p(t) the
    fleet's power price (fleet_power_usd_per_mwh_2026, escalated) and o the non-power opex per MWh:

        fleet(t)   = J_fleet * 24 * pue * (p(t) + o) / 1000                 (cash; as if kept running)
        refresh(t) = J_front(t) * 24 * pue * (p(t) + o) / 1000
                     + 1000 * usd_per_th(t) * (1 - salvage) / (life_quarters * quarter_days)   (all-in)

    Per PH/s-day run (uptime does not enter); the pool fee, a share of revenue, is not a hashcost.
    """
    quarters = [label(k) for k in range(ordinal(sc.horizon_start), ordinal(sc.horizon_end) + 1)]
    table = quarter_table(sc, quarters)
    power = power_price_usd_per_mwh(sc, fleet_power_usd_per_mwh_2026(sites, sc), quarters)
    table["fleet_hashcost_usd_per_ph_day"] = cash_hashcost_usd_per_ph_day(sc, existing_fleet_j_per_th(sites), power)
    table["refresh_hashcost_usd_per_ph_day"] = (cash_hashcost_usd_per_ph_day(sc, table["frontier_j_per_th"], power)
                                                + asic_capex_usd_per_ph_day(sc, table["asic_usd_per_th"]))
    return table[list(ECONOMICS_COLUMNS)]
