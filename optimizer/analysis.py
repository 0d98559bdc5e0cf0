"""Scenario analysis tables: side-by-side comparison, build differences, regret, sweeps and tornadoes."""

import itertools

import numpy as np
import pandas as pd

from models.scenario import SCENARIO_FIELDS, Scenario
from optimizer.runs import CaseResult
from kernel.errors import InputError

COMPARE_KPIS = ("status", "npv_usd", "mip_gap", "lp_relaxation_gap", "solve_seconds", "ai_halls_built",
                "ai_it_mw_built", "first_ai_start_quarter", "ai_it_mw_leased_end", "mining_it_mw_start",
                "mining_it_mw_end", "asic_bought_ehs", "asic_capex_usd",
                "ai_capex_usd", "min_cash_balance_usd", "peak_project_debt_usd", "peak_revolver_usd",
                "taxes_usd", "mining_tco2", "ai_tco2", "market_tco2", "check_violations")
TORNADO_KEYS = ("btc_price_usd_2026", "network_hashcost_usd_per_ph_day_2026", "asic_usd_per_th_2026",
                "lease_usd_per_kw_month", "ai_capex_multiplier", "power_price_multiplier", "discount_rate_per_yr")


def kpi_table(results: list[CaseResult]) -> pd.DataFrame:
    """KPIs side by side: one row per KPI, one column per case."""
    return pd.DataFrame({r.case.label: [r.kpis.get(k) for k in COMPARE_KPIS] for r in results},
                        index=pd.Index(COMPARE_KPIS, name="kpi")).reset_index()


def mw_by_year_table(results: list[CaseResult]) -> pd.DataFrame:
    frames = [r.by_year.assign(scenario=r.case.label) for r in results if len(r.by_year)]
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario"] + [c for c in table.columns if c != "scenario"]]


def build_differences(results: list[CaseResult]) -> pd.DataFrame:
    """One row per hall (site, n-th hall): its start quarter in each case and whether they differ."""
    starts = {}
    for r in results:
        for row in r.builds.itertuples(index=False):
            starts.setdefault((row.site, row.hall), {})[r.case.label] = row.start_quarter
    rows = []
    for (site, hall), by_case in sorted(starts.items()):
        values = [by_case.get(r.case.label) for r in results]
        rows.append({"site": site, "hall": hall, **{r.case.label: v for r, v in zip(results, values)},
                     "differs": len(set(values)) > 1})
    return pd.DataFrame(rows, columns=["site", "hall"] + [r.case.label for r in results] + ["differs"])


def regret_table(own: list[CaseResult], fixed: list[CaseResult], source: str) -> pd.DataFrame:
    """NPV loss of each case when the first year's builds are those of `source` (a loss within the MIP
    gap of the two solves is noise: `within_gap`)."""
    rows = []
    for o, f in zip(own, fixed):
        own_npv, fixed_npv = o.kpis.get("npv_usd"), f.kpis.get("npv_usd")
        rows.append({"scenario": o.case.label, "first_year_from": source, "own_optimum_npv_usd": own_npv,
                     "fixed_first_year_npv_usd": fixed_npv, "fixed_first_year_status": f.kpis.get("status"),
                     "regret_usd": own_npv - fixed_npv if own_npv is not None and fixed_npv is not None else None,
                     "within_gap": (abs(own_npv - fixed_npv) <= (o.kpis.get("gap_target") or 0) * abs(own_npv))
                     if own_npv is not None and fixed_npv is not None else None})
    return pd.DataFrame(rows)


def parse_vary(text: str) -> tuple[str, np.ndarray]:
    """`KEY=LOW:HIGH:N` -> (key, N evenly spaced values)."""
    key, sep, spec = text.partition("=")
    parts = spec.split(":")
    if not sep or len(parts) != 3:
        raise InputError(f"--vary {text}: expected KEY=LOW:HIGH:N, e.g. --vary btc_price_usd_2026=60000:130000:4.")
    name = key.strip().partition(".")[0]
    if name not in SCENARIO_FIELDS:
        raise InputError(f"--vary {text}: unknown scenario key '{name}'.")
    try:
        low, high, count = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise InputError(f"--vary {text}: LOW and HIGH must be numbers and N a whole number.") from None
    if count < 1:
        raise InputError(f"--vary {text}: N must be at least 1.")
    return key.strip(), np.linspace(low, high, count)


def sweep_points(varies: list[str]) -> list[tuple[str, ...]]:
    """The grid of `--set` override tuples for every combination of the varied values."""
    axes = [parse_vary(v) for v in varies]
    return [tuple(f"{key}={value:.10g}" for (key, _), value in zip(axes, combo))
            for combo in itertools.product(*[values for _, values in axes])]


def sweep_table(points: list[tuple[str, ...]], results: dict[int, CaseResult]) -> pd.DataFrame:
    """One row per grid point: the varied values, then the KPIs of its run (status `not run` for a point
    whose run has not finished)."""
    rows = []
    for i, point in enumerate(points):
        kpis = results[i].kpis if i in results else {"status": "not run"}
        rows.append({**{k: float(v) for k, v in (o.split("=", 1) for o in point)},
                     **{k: kpis.get(k) for k in COMPARE_KPIS}})
    return pd.DataFrame(rows)


def tornado_overrides(scenario: Scenario, keys: list[str], pct: float) -> list[tuple[str, str, float]]:
    """(key, side, value) for a one-at-a-time low/high of +-pct% around the scenario's value, kept inside the
    key's allowed range and whole for a whole-number key."""
    out = []
    for key in keys:
        if key not in SCENARIO_FIELDS or not isinstance(getattr(scenario, key), (int, float)):
            raise InputError(f"--keys {key}: not a numeric scenario key.")
        meta, base = SCENARIO_FIELDS[key].metadata, getattr(scenario, key)
        if not np.isfinite(base):
            raise InputError(f"--keys {key}: its value is {base:g}; allowed: a key with a finite value.")
        for side, factor in (("low", 1 - pct / 100), ("high", 1 + pct / 100)):
            value = min(max(base * factor, meta["min"] if meta["min"] is not None else -np.inf),
                        meta["max"] if meta["max"] is not None else np.inf)
            out.append((key, side, round(value) if isinstance(base, int) else value))
    return out


def tornado_table(base_npv: float, keys: list[str], results: dict) -> pd.DataFrame:
    """One row per key: low/high values and NPVs, the swing |NPV_high - NPV_low|, sorted by swing."""
    rows = []
    for key in keys:
        low, high = results[(key, "low")], results[(key, "high")]
        npv_low, npv_high = low[1].kpis.get("npv_usd"), high[1].kpis.get("npv_usd")
        rows.append({"key": key, "low_value": low[0], "high_value": high[0], "npv_low_usd": npv_low,
                     "npv_high_usd": npv_high, "base_npv_usd": base_npv,
                     "swing_usd": abs(npv_high - npv_low) if None not in (npv_low, npv_high) else None})
    return pd.DataFrame(rows).sort_values("swing_usd", ascending=False, na_position="last").reset_index(drop=True)


def tornado_png(table: pd.DataFrame, path, title: str, pct: float) -> None:
    """Horizontal bars from the base NPV to the low and high NPVs of each key ($M)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = table.iloc[::-1]
    base = float(data["base_npv_usd"].iloc[0]) / 1e6
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(data) + 1.8))
    y = np.arange(len(data))
    for column, colour, label in (("npv_low_usd", "#c0504d", f"value -{pct:g}%"),
                                  ("npv_high_usd", "#4f81bd", f"value +{pct:g}%")):
        values = data[column].astype(float).fillna(base * 1e6) / 1e6
        ax.barh(y, values - base, left=base, color=colour, label=label, height=0.6)
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(y, data["key"])
    ax.set_xlabel("NPV ($M)")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
