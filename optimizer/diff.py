"""What changed between two plan workbooks: NPV, MW by use by site and year, and AI builds added,
removed or moved. Reads only the tidy sheets (CashFlow, Schedule, Builds), so any two plans compare."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kernel.errors import InputError

TOL_MW = 0.05


@dataclass(frozen=True)
class PlanDiff:
    npv: pd.DataFrame      # scenario, npv_a_usd, npv_b_usd, change_usd
    mw: pd.DataFrame       # site, year, use, a_mw, b_mw, change_mw (only rows that changed)
    builds: pd.DataFrame   # hall, site, change (added|removed|moved), start_a, start_b


def read_sheet(path: Path, sheet: str, columns: list[str]) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, sheet_name=sheet)
    except FileNotFoundError:
        raise InputError(f"{path}: the plan workbook does not exist.") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a hashpivot plan workbook ({exc}).") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: sheet {sheet} lacks column '{missing[0]}'; is it a hashpivot plan?")
    return frame


def cash_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The quarter rows of a CashFlow sheet (not the NPV block below them)."""
    return frame[frame["period"].isin(["horizon", "post-horizon"])]


def diff_plans(a: Path, b: Path) -> PlanDiff:
    cash_a, cash_b = (cash_rows(read_sheet(p, "CashFlow", ["scenario", "period", "discounted_cash_flow_usd"]))
                      for p in (a, b))
    npv = pd.DataFrame({"npv_a_usd": cash_a.groupby("scenario")["discounted_cash_flow_usd"].sum(),
                        "npv_b_usd": cash_b.groupby("scenario")["discounted_cash_flow_usd"].sum()})
    npv["change_usd"] = npv["npv_b_usd"] - npv["npv_a_usd"]
    use = ["mining_it_mw", "ai_it_mw_leased", "ai_it_mw_online"]
    mw = pd.merge(_mw_by_year(read_sheet(a, "Schedule", ["site", "quarter"] + use), use),
                  _mw_by_year(read_sheet(b, "Schedule", ["site", "quarter"] + use), use), how="outer",
                  left_index=True, right_index=True, suffixes=("_a", "_b")).fillna(0.0)
    rows = []
    for (site, year), row in mw.iterrows():
        for column in use:
            va, vb = row[f"{column}_a"], row[f"{column}_b"]
            if abs(vb - va) > TOL_MW:
                rows.append({"site": site, "year": year, "use": column, "a_mw": va, "b_mw": vb, "change_mw": vb - va})
    builds_a, builds_b = (read_sheet(p, "Builds", ["site", "hall", "start_quarter"]).set_index("hall")
                          for p in (a, b))
    changes = []
    for hall in sorted(set(builds_a.index) | set(builds_b.index)):
        start_a = builds_a["start_quarter"].get(hall)
        start_b = builds_b["start_quarter"].get(hall)
        site = (builds_a if hall in builds_a.index else builds_b).at[hall, "site"]
        if start_a is None or start_b is None or start_a != start_b:
            change = "added" if start_a is None else "removed" if start_b is None else "moved"
            changes.append({"hall": hall, "site": site, "change": change, "start_a": start_a, "start_b": start_b})
    return PlanDiff(npv.reset_index(), pd.DataFrame(rows, columns=["site", "year", "use", "a_mw", "b_mw", "change_mw"]),
                    pd.DataFrame(changes, columns=["hall", "site", "change", "start_a", "start_b"]))


def _mw_by_year(schedule: pd.DataFrame, use: list[str]) -> pd.DataFrame:
    """Per (site, year): average mining IT MW, year-end AI MW leased and online (first scenario)."""
    if "scenario" in schedule:
        schedule = schedule[schedule["scenario"] == schedule["scenario"].iloc[0]]
    frame = schedule.assign(year=schedule["quarter"].astype(str).str[:4].astype(int)).sort_values("quarter")
    grouped = frame.groupby(["site", "year"])
    return pd.DataFrame({"mining_it_mw": grouped["mining_it_mw"].mean(),
                         "ai_it_mw_leased": grouped["ai_it_mw_leased"].last(),
                         "ai_it_mw_online": grouped["ai_it_mw_online"].last()})
