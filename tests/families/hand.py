"""Hand economics for the per-family tests in tests/families/: tiny sites and the optimum computed by hand.

The hand side never reads solver output. It recomputes the per-quarter economics from the scenario values
with the DESIGN.md "Conventions (v1)" formulas (lease rate, discount factor, hashprice -> mining margin,
grid CO2), and, for the AI families, it enumerates every hall start schedule of a one-site case
(`hand_optimum`) with the hand formulas: capex spread evenly over the L build quarters, a hall online at
start + L billing 50% then 100%, greedy leasing (x[t] = min(billable[t], x[t-1] + D), optimal because
every lease margin is positive), no lease before the earliest revenue quarter, the site opening cost paid
in the quarter it opens, the build rate and the capex budget, mining displaced by g * B per hall from
construction start, and the terminal value of the last quarter's net lease margin held flat. The money
helpers (`hall_npv`, `hall_cash`, `mining_margins`, `debt_schedule`, ...) read the per-quarter inputs
(lease rate, mining margin per IT MW, discount factors) from ModelData, whose economics are checked on
their own in tests/test_economics.py, and rebuild every expected value from `data` and the formulas.

Every case: money and carbon families neutral (tests/conftest.py: NEUTRAL_MONEY) unless a test turns one
on, horizon shortened to a few quarters (tests/conftest.py: SHORT, 2027Q1-2028Q4, T = 8) through
horizon_start/horizon_end, a small terminal_quarters, and a lease rate of $1,500/kW-month so that a hall
pays back within so short a horizon. Sites: `AI` / `HALL` (one hall of B = 10 IT MW, AI only; g = 1.4 ->
14 grid MW per hall; retrofit lead time L = 4 unless a test says otherwise) and `MINER` (100 MW of
miners, no AI). `corrupt` makes the broken copies of a solved plan that each family's check must flag.
"""

import dataclasses
import itertools

import pytest

from tests.conftest import SHORT, make_scenario, solve_plan
from tests.conftest import site_column as col  # the name the hall tests use

# ---------------------------------------------------------------- sites and constants

AI = {"name": "Alpha", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
      "secured_mw": 14}
B, G, L, T, TQ = 10.0, 1.4, 4, 8, 4
MINER = {"name": "Miner", "secured_mw": 100}
HALL = {"name": "Hall", "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
        "secured_mw": 14}
CARBON = dict(grid_tco2_decline_per_yr={}, grid_tco2_decline_default_per_yr=0.0)  # constant grid rate
BTC = dict(btc_price_usd_2026=150_000)  # mining margins positive in every quarter of 2027-2028
DEBT = dict(loan_to_cost=0.8, project_debt_rate_per_yr=0.08, project_debt_grace_quarters=1,
            project_debt_term_quarters=6, opening_cash_usd=200e6, cash_floor_usd=0.0)
approx = lambda value: pytest.approx(value, rel=1e-6, abs=1.0)  # noqa: E731


# ---------------------------------------------------------------- hand economics (DESIGN.md conventions)

def ordinal(q: str) -> int:
    return 4 * int(q[:4]) + int(q[-1]) - 1


def quarters(start: str, n: int) -> list[str]:
    k = ordinal(start)
    return [f"{(k + i) // 4}Q{(k + i) % 4 + 1}" for i in range(n)]


def k26(q: str) -> int:
    """Quarters since 2026Q1."""
    return ordinal(q) - ordinal("2026Q1")


def df(sc, j: int) -> float:
    """End-of-quarter discount factor (1+r)^-((j+1)/4)."""
    return (1 + sc.discount_rate_per_yr) ** (-(j + 1) / 4)


def lease_rate(sc, q: str) -> float:
    """Billed lease revenue per leased IT MW-quarter: $/kW-month * 1000 * 3 * billing utilisation * escalator."""
    return sc.lease_usd_per_kw_month * 1000 * 3 * sc.ai_billing_utilisation * (
        1 + sc.lease_escalator_per_yr) ** (k26(q) / 4)


def mining_per_it_mw(sc, q: str, power_2026: float) -> dict:
    """Revenue, power cost, opex and margin of one IT MW of miners for one quarter (USD)."""
    k = k26(q)
    first = ordinal(sc.first_halving_quarter)
    halvings = 0 if ordinal(q) < first else 1 + (ordinal(q) - first) // sc.halving_interval_quarters
    since = (ordinal(q) - first) % sc.halving_interval_quarters if ordinal(q) >= first else None
    dip = 1 - (1 - sc.halving_hashrate_dip) * (1 - since / sc.halving_recovery_quarters) \
        if since is not None and since < sc.halving_recovery_quarters else 1.0
    subsidy = sc.subsidy_btc_2026 * 0.5 ** halvings
    assert not sc.hashrate_feedback, "the hand formula is the exogenous hashrate path"
    hashrate_ehs = sc.network_hashrate_ehs_2026 * (1 + sc.hashrate_growth_per_yr) ** (k / 4) * dip
    price = sc.btc_price_usd_2026 * (1 + sc.btc_price_growth_per_yr) ** (k / 4)
    hashprice = sc.blocks_per_day * subsidy * (1 + sc.fee_share_of_subsidy) * price / (hashrate_ehs * 1000)
    j_per_th = sc.fleet_j_per_th_2026  # the existing fleet (a site that leaves fleet_j_per_th blank)
    revenue = hashprice * (1000 / j_per_th) * sc.quarter_days * sc.mining_uptime
    mwh = sc.mining_pue * 24 * sc.quarter_days * sc.mining_uptime
    power = mwh * power_2026 * sc.power_price_multiplier * (1 + sc.power_price_escalation_per_yr) ** (k / 4)
    opex = sc.pool_fee_share * revenue + sc.mining_opex_usd_per_mwh * mwh
    return {"revenue": revenue, "power": power, "opex": opex, "margin": revenue - power - opex}


def share(age: int) -> float:
    """Billed share of a hall `age` quarters after it came online (ramp: 50% then 100%)."""
    return 0.0 if age < 0 else 0.5 if age == 0 else 1.0


def terminal_value(sc, x_last: float, T: int) -> float:
    """DESIGN.md: the last quarter's net lease margin held flat for TQ quarters, each discounted at its own
    quarter; closed form df[T-1] * a (1 - a^TQ) / (1 - a), a = (1+r)^-1/4."""
    a = (1 + sc.discount_rate_per_yr) ** -0.25
    annuity = df(sc, T - 1) * a * (1 - a ** sc.terminal_quarters) / (1 - a)
    return (1 - sc.landlord_opex_share) * lease_rate(sc, quarters(sc.horizon_start, T)[-1]) * x_last * annuity


# ---------------------------------------------------------------- hand optimum of a one-site AI case

def hand_schedule(sc, site: dict, starts: tuple, opening: int | None = None, *, lead: int,
                  capex_per_mw: float, mining_power: float | None = None) -> dict | None:
    """Everything about one start schedule (hall start quarters, sorted), by the hand formulas; None when
    the schedule breaks the build rate, the capex budget, max_halls or the site's power."""
    T = ordinal(sc.horizon_end) - ordinal(sc.horizon_start) + 1
    qs = quarters(sc.horizon_start, T)
    hall, cap = float(site.get("hall_it_mw", B)), int(site.get("max_halls", 1))
    if len(starts) > cap:
        return None
    if starts and opening is None:
        opening = starts[0]
    if starts and opening > starts[0]:
        return None
    N = [sum(1 for s in starts if s <= t) for t in range(T)]
    if any(hall * sum(1 for s in starts if s == t) > sc.max_ai_start_it_mw_per_quarter + 1e-9 for t in range(T)):
        return None
    secured = site.get("secured_by_t") or [float(site.get("secured_mw", 14))] * T
    if any(G * hall * N[t] > secured[t] + 1e-9 for t in range(T)):
        return None
    J = T + max(sc.terminal_quarters, lead - 1)
    capex = [sum(capex_per_mw * hall / lead for s in starts if s <= j < s + lead) for j in range(J)]
    k_open = float(site.get("site_opening_cost_usd", 0.0))
    opened = [k_open if opening is not None and j == opening else 0.0 for j in range(J)]
    if any(capex[t] + opened[t] > sc.capex_budget_usd_per_quarter + 1e-6 for t in range(T)):
        return None
    billable = [hall * sum(share(t - lead - s) for s in starts) for t in range(T)]
    earliest = ordinal(sc.earliest_ai_revenue_quarter) - ordinal(sc.horizon_start)
    absorption = sc.market_absorption_it_mw_per_quarter[site.get("market", "GA")]
    leased, before = [], 0.0
    for t in range(T):
        before = 0.0 if t < earliest else min(billable[t], before + absorption)
        leased.append(before)
    phi = sc.landlord_opex_share
    npv = sum(df(sc, t) * (1 - phi) * lease_rate(sc, qs[t]) * leased[t] for t in range(T))
    npv += terminal_value(sc, leased[-1], T)
    npv -= sum(df(sc, j) * (capex[j] + opened[j]) for j in range(J))
    mining = [0.0] * T
    if mining_power is not None:
        capacity = secured[0] / sc.mining_pue
        for t in range(T):
            margin = mining_per_it_mw(sc, qs[t], mining_power)["margin"]
            mining[t] = min(capacity, (secured[t] - G * hall * N[t]) / sc.mining_pue) if margin > 0 else 0.0
            npv += df(sc, t) * margin * mining[t]
    return {"starts": starts, "opening": opening, "N": N, "capex": capex, "opened": opened,
            "billable": billable, "leased": leased, "mining": mining, "npv": npv}


def hand_optimum(sc, site: dict, **kw) -> tuple[dict, float]:
    """The best start schedule by enumeration, and the NPV of the runner-up (to check uniqueness)."""
    T = ordinal(sc.horizon_end) - ordinal(sc.horizon_start) + 1
    plans = []
    for n in range(int(site.get("max_halls", 1)) + 1):
        for starts in itertools.combinations_with_replacement(range(T), n):
            k_open = float(site.get("site_opening_cost_usd", 0.0))
            for opening in (range(starts[0] + 1) if starts and k_open > 0 else [None]):
                plan = hand_schedule(sc, site, starts, opening, **kw)
                if plan is not None:
                    plans.append(plan)
    plans.sort(key=lambda p: -p["npv"])
    return plans[0], plans[1]["npv"]


# ---------------------------------------------------------------- solver side

def solve(sites, **values):
    sc = make_scenario(**{**SHORT, **values})
    plan, model = solve_plan(sites, sc)
    assert plan.info.status == "optimal"
    return plan, sc, model


def cumulative_halls(plan, site):
    return [round(v) for v in col(plan, site, "ai_halls_started")]


def assert_unique(best, runner_up):
    """The hand optimum must be strictly better than any other schedule, so the solver has to find it."""
    assert best["npv"] - runner_up > 1e3


# ---------------------------------------------------------------- money: one hall, miners, debt

def hall_npv(d, start: int, leased: list[float]) -> float:
    """NPV of one hall started in `start` with the given leased MW per horizon quarter (hand formula):
    capex c B / L in quarters start..start+L-1; lease (1 - phi) rate[t] x[t]; terminal TQ quarters of
    (1 - phi) rate[T-1] x[T-1]."""
    sc, df = d.base, d.discount_factor
    rate = [d.lease_revenue_usd_per_it_mw[t, "base"] for t in range(T)]
    capex = sc.ai_capex_retrofit_usd_per_it_mw * B
    npv = -sum(df[start + k] * capex / L for k in range(L))
    npv += sum(df[t] * (1 - sc.landlord_opex_share) * rate[t] * leased[t] for t in range(T))
    npv += sum(df[j] * (1 - sc.landlord_opex_share) * rate[T - 1] * leased[T - 1] for j in range(T, T + TQ))
    return npv


def mining_margins(d, site="Miner", j_per_th: float | None = None, w: str | None = None) -> list[float]:
    """Margin per operated IT MW of a fleet at `j_per_th` (default: the site's existing fleet) by quarter:
    (1 - pool fee) * revenue per TH/s * 1e6 / J - power - opex, from the ModelData tables."""
    w = w or d.scenarios[0]
    row = d.site_quarter.xs((site, w), level=("site", "w"))
    ths = 1e6 / (j_per_th or d.existing_fleet_j_per_th[site])
    return list((1 - d.base.pool_fee_share) * row["mining_revenue_usd_per_ths"] * ths
                - row["mining_power_usd_per_it_mw"] - row["mining_opex_usd_per_it_mw"])


def hall_cash(d, start: int) -> list[float]:
    """Net cash of the hall per horizon quarter: -c B / L while building, then (1 - phi) rate x with
    x = 5 MW in the first online quarter and 10 MW after."""
    sc = d.base
    flows = []
    for t in range(T):
        capex = sc.ai_capex_retrofit_usd_per_it_mw * B / L if start <= t < start + L else 0.0
        leased = 0.0 if t < start + L else 5.0 if t == start + L else 10.0
        flows.append((1 - sc.landlord_opex_share) * d.lease_revenue_usd_per_it_mw[t, "base"] * leased - capex)
    return flows


def earliest_start_by_cash(d, opening: float, floor: float) -> int:
    """First start quarter whose cash roll-forward (opening + miners at capacity + hall) stays >= floor."""
    capacity = 100 / d.base.mining_pue
    mining = [max(0.0, m) * capacity for m in mining_margins(d)]
    for start in range(T):
        cash, ok = opening, True
        for t, flow in enumerate(hall_cash(d, start)):
            cash += mining[t] + flow
            ok &= cash >= floor - 1e-6
        if ok:
            return start
    raise AssertionError("no start keeps the floor")


def capex(d, t: int) -> float:
    """Hall started in t = 0: c B / L in each of its L build quarters (H4)."""
    return d.base.ai_capex_retrofit_usd_per_it_mw * B / L if 0 <= t < L else 0.0


def leased(t: int) -> float:
    """Hall started in t = 0: online at t = L billing half (L2), full from L + 1."""
    return 0.0 if t < L else B / 2 if t == L else B


def lease_margin(d, t: int) -> float:
    """(1 - phi) rate x; after the horizon the last quarter's lease held flat (X5)."""
    return (1 - d.base.landlord_opex_share) * d.lease_revenue_usd_per_it_mw[min(t, T - 1), "base"] * leased(t)


def terminal(d) -> range:
    return range(T, T + d.base.terminal_quarters)


def debt_schedule(d, draws: list[float]):
    """F3/F4/F5 from the draws: (repayment, balance, interest) over j = 0..T (j = T post-horizon)."""
    sc = d.base
    grace, term = sc.project_debt_grace_quarters, sc.project_debt_term_quarters
    q_rate = sc.project_debt_rate_per_yr / 4
    repay, balance, interest = [], [], []
    for t in range(T):
        repay.append(sum(draws[i] for i in range(max(0, t - grace - term), max(0, t - grace))) / term)
        balance.append((balance[-1] if t else 0.0) + draws[t] - repay[-1])
        interest.append(q_rate * balance[t - 1] if t else 0.0)
    return repay + [balance[-1]], balance, interest + [q_rate * balance[-1]]  # F5: all owed repaid at T


def npv(d, flows: list[float]) -> float:
    return sum(df * f for df, f in zip(d.discount_factor, flows))


def column(plan, name: str) -> list[float]:
    return plan.cashflow[name].to_list()


# ---------------------------------------------------------------- broken plans for the checks

def corrupt(plan, table: str, row, column: str, by: float | None = None, to=None):
    """A copy of `plan` whose exported `table` (schedule, builds, cashflow, emissions or emissions_by_year)
    has the cell (row label, column) moved `by` an amount or set `to` a value; the plan is not touched."""
    frame = getattr(plan, table).copy()
    frame.loc[row, column] = to if by is None else frame.loc[row, column] + by
    return dataclasses.replace(plan, **{table: frame})


# ---------------------------------------------------------------- the ASIC fleet as vintages (mining.py M1-M8)

def frontier_j_per_th(sc, q: str) -> float:
    """J/TH of a new ASIC bought in quarter q: J_2026 * (1 - gain)^(k/4)."""
    return sc.asic_j_per_th_2026 * (1 - sc.asic_efficiency_gain_per_yr) ** (k26(q) / 4)


def asic_usd_per_th(sc, q: str) -> float:
    """Price of a new ASIC bought in quarter q: p_2026 * (1 - decline)^(k/4) [USD/TH]."""
    return sc.asic_usd_per_th_2026 * (1 - sc.asic_price_decline_per_yr) ** (k26(q) / 4)


def mining_at(sc, q: str, power_2026: float, j_per_th: float, curtailed: float = 0.0, flex: float = 0.0) -> dict:
    """One operated IT MW of miners at `j_per_th` for one quarter, on a site whose miners are curtailed a share
    `curtailed` of the hours and earn `flex` USD/grid MW-yr (hand formulas, from the scenario values):
    revenue = hashprice / 1000 * 1e6/J * days * uptime * (1 - c); power and opex per MWh on the grid MWh
    pue * 24 * days * uptime * (1 - c); the pool fee on the revenue; the credit flex / 4 * pue (F1)."""
    at_fleet = mining_per_it_mw(sc, q, power_2026)            # the existing fleet's J, no curtailment
    run = 1 - curtailed
    revenue = at_fleet["revenue"] * sc.fleet_j_per_th_2026 / j_per_th * run
    power = at_fleet["power"] * run
    mwh = sc.mining_pue * 24 * sc.quarter_days * sc.mining_uptime * run
    opex = sc.pool_fee_share * revenue + sc.mining_opex_usd_per_mwh * mwh
    credit = flex / 4 * sc.mining_pue
    return {"revenue": revenue, "power": power, "opex": opex, "credit": credit, "mwh": mwh,
            "margin": revenue - power - opex + credit}


def vintage(sc, v: int, power_2026: float, *, curtailed: float = 0.0, flex: float = 0.0) -> dict:
    """Everything about one IT MW of the ASICs bought in quarter v (M1, M5, M6), by hand: it runs in
    v + d_A <= t < v + d_A + L_A (inside the horizon), paid df[v] * p_A[v] * 1e6 / J_v when bought, sold at
    sigma of that in its retirement quarter v + d_A + L_A if inside the horizon, else in the first post-horizon
    quarter T at the book value sigma + (1 - sigma) * min(1, (retire - T) / L_A); it is operated where its
    margin is positive. npv = sum df max(0, margin) - df[v] price + df[sale] share price."""
    T = ordinal(sc.horizon_end) - ordinal(sc.horizon_start) + 1
    qs = quarters(sc.horizon_start, T)
    j, price_th = frontier_j_per_th(sc, qs[v]), asic_usd_per_th(sc, qs[v])
    price = price_th * 1e6 / j
    start, retire = v + sc.asic_delivery_quarters, v + sc.asic_delivery_quarters + sc.asic_life_quarters
    live = [t for t in range(T) if start <= t < retire]
    margin = {t: mining_at(sc, qs[t], power_2026, j, curtailed, flex)["margin"] for t in live}
    sale, share = (retire, sc.asic_salvage_share) if retire < T else (
        T, sc.asic_salvage_share + (1 - sc.asic_salvage_share) * min(1.0, (retire - T) / sc.asic_life_quarters))
    npv = sum(df(sc, t) * max(0.0, m) for t, m in margin.items()) - df(sc, v) * price + df(sc, sale) * share * price
    return {"v": v, "j_per_th": j, "usd_per_th": price_th, "ths_per_it_mw": 1e6 / j, "price": price,
            "live": live, "margin": margin, "sale": sale, "share": share, "npv": npv}


def break_even(f, low: float, high: float, tol: float = 1e-9) -> float:
    """The root of a decreasing f on [low, high] by bisection (f(low) > 0 > f(high))."""
    assert f(low) > 0 > f(high)
    while high - low > tol:
        mid = (low + high) / 2
        low, high = (mid, high) if f(mid) > 0 else (low, mid)
    return (low + high) / 2


def same_fields(*rows: dict) -> list[dict]:
    """Site rows that all name the same fields (make_sites needs that): a field that only some rows set is
    left blank (its schema default) in the others."""
    from tests.conftest import SITE_DEFAULTS
    extra = {k for row in rows for k in row} - set(SITE_DEFAULTS)
    return [{**{k: "" for k in extra}, **row} for row in rows]
