"""What changed between two plan workbooks: NPV, MW by use by site and year, AI builds added, removed or
moved, and ASIC purchases moved (EH/s by site and year). Reads only the tidy sheets (CashFlow, Schedule,
Builds) and the run manifest on the Run sheet, so any two plans compare.

When plan b is a re-plan of an approved plan (`solve --from a.xlsx --freeze-until Q`, recorded in its run
manifest as `freeze_until`), each change carries the first quarter where the two plans differ (`first_quarter`)
and whether it falls after the freeze (`after_freeze`: first_quarter > Q). Build decisions up to Q are kept, so
a build change at or before Q means b was not re-planned from a; operations (MW by use) may change anywhere.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kernel.errors import InputError

TOL_MW = 0.05
TOL_THS = 1_000.0   # TH/s (0.001 EH/s): a smaller purchase change is rounding
USES = ("mining_it_mw", "ai_it_mw_leased", "ai_it_mw_online")


@dataclass(frozen=True)
class PlanDiff:
    npv: pd.DataFrame      # scenario, npv_a_usd, npv_b_usd, change_usd
    mw: pd.DataFrame       # site, year, use, a_mw, b_mw, change_mw, first_quarter[, after_freeze] (changes only)
    builds: pd.DataFrame   # hall, site, change (added|removed|moved), start_a, start_b, first_quarter[, after_freeze]
    asic: pd.DataFrame     # site, year, a_ehs, b_ehs, change_ehs, first_quarter[, after_freeze] (changes only)
    freeze_until: str | None = None   # plan b's freeze quarter (its run manifest), if it records one


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


def freeze_quarter(path: Path) -> str | None:
    """The `freeze_until` of a plan's run manifest (Run sheet, Summary in older workbooks: the cell right of
    the key), if any."""
    for sheet in ("Run", "Summary"):
        try:
            summary = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
        except (OSError, ValueError):
            continue
        for _, row in summary.iterrows():
            cells = list(row)
            for i, cell in enumerate(cells[:-1]):
                if cell == "freeze_until" and isinstance(cells[i + 1], str):
                    return cells[i + 1].strip()
    return None


def diff_plans(a: Path, b: Path) -> PlanDiff:
    cash_a, cash_b = (cash_rows(read_sheet(p, "CashFlow", ["scenario", "period", "discounted_cash_flow_usd"]))
                      for p in (a, b))
    npv = pd.DataFrame({"npv_a_usd": cash_a.groupby("scenario")["discounted_cash_flow_usd"].sum(),
                        "npv_b_usd": cash_b.groupby("scenario")["discounted_cash_flow_usd"].sum()})
    npv["change_usd"] = npv["npv_b_usd"] - npv["npv_a_usd"]
    need = ["site", "quarter", *USES, "asic_bought_ths"]
    quarterly = pd.merge(_first_scenario(read_sheet(a, "Schedule", need))[need],
                         _first_scenario(read_sheet(b, "Schedule", need))[need], how="outer", on=["site", "quarter"],
                         suffixes=("_a", "_b")).fillna(0.0).sort_values(["site", "quarter"])
    quarterly["year"] = quarterly["quarter"].astype(str).str[:4].astype(int)
    freeze = freeze_quarter(b)
    mw = _mark(_mw_changes(quarterly), freeze)
    asic = _mark(_asic_changes(quarterly), freeze)
    builds = _mark(_build_changes(*(read_sheet(p, "Builds", ["site", "hall", "start_quarter"]).set_index("hall")
                                    for p in (a, b))), freeze)
    return PlanDiff(npv.reset_index(), mw, builds, asic, freeze)


def _first_scenario(schedule: pd.DataFrame) -> pd.DataFrame:
    if "scenario" in schedule and len(schedule):
        schedule = schedule[schedule["scenario"] == schedule["scenario"].iloc[0]]
    return schedule.assign(quarter=schedule["quarter"].astype(str))


def _first_differing(group: pd.DataFrame, column: str, tol: float) -> str | None:
    """The first quarter of `group` where plan a's and b's `column` differ by more than `tol`."""
    differ = group[(group[f"{column}_b"] - group[f"{column}_a"]).abs() > tol]
    return str(differ["quarter"].min()) if len(differ) else None


def _mw_changes(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Per (site, year, use): average mining IT MW, year-end AI MW leased and online, where a and b differ."""
    rows = []
    for (site, year), group in quarterly.groupby(["site", "year"]):
        for use in USES:
            pick = (lambda c: group[c].mean()) if use == "mining_it_mw" else (lambda c: group[c].iloc[-1])
            va, vb = pick(f"{use}_a"), pick(f"{use}_b")
            if abs(vb - va) > TOL_MW:
                rows.append({"site": site, "year": year, "use": use, "a_mw": va, "b_mw": vb, "change_mw": vb - va,
                             "first_quarter": _first_differing(group, use, TOL_MW)})
    return pd.DataFrame(rows, columns=["site", "year", "use", "a_mw", "b_mw", "change_mw", "first_quarter"])


def _asic_changes(quarterly: pd.DataFrame) -> pd.DataFrame:
    """Per (site, year): EH/s of ASICs bought in a and in b, where they differ."""
    rows = []
    for (site, year), group in quarterly.groupby(["site", "year"]):
        ths_a, ths_b = group["asic_bought_ths_a"].sum(), group["asic_bought_ths_b"].sum()
        first = _first_differing(group, "asic_bought_ths", TOL_THS)
        if first is not None:
            rows.append({"site": site, "year": year, "a_ehs": ths_a / 1e6, "b_ehs": ths_b / 1e6,
                         "change_ehs": (ths_b - ths_a) / 1e6, "first_quarter": first})
    return pd.DataFrame(rows, columns=["site", "year", "a_ehs", "b_ehs", "change_ehs", "first_quarter"])


def _build_changes(builds_a: pd.DataFrame, builds_b: pd.DataFrame) -> pd.DataFrame:
    """AI halls (by name: site #k) added, removed or moved from plan a to plan b."""
    changes = []
    for hall in sorted(set(builds_a.index) | set(builds_b.index)):
        start_a = builds_a["start_quarter"].get(hall)
        start_b = builds_b["start_quarter"].get(hall)
        site = (builds_a if hall in builds_a.index else builds_b).at[hall, "site"]
        if start_a is None or start_b is None or start_a != start_b:
            change = "added" if start_a is None else "removed" if start_b is None else "moved"
            first = min(str(q) for q in (start_a, start_b) if q is not None)
            changes.append({"hall": hall, "site": site, "change": change, "start_a": start_a, "start_b": start_b,
                            "first_quarter": first})
    return pd.DataFrame(changes, columns=["hall", "site", "change", "start_a", "start_b", "first_quarter"])


def _mark(changes: pd.DataFrame, freeze: str | None) -> pd.DataFrame:
    """With a freeze quarter Q: after_freeze = first_quarter > Q."""
    if freeze is None:
        return changes
    return changes.assign(after_freeze=changes["first_quarter"].astype(str) > freeze)
