"""The secured-power ledger: a site's grid power as steps over time, each firm or interruptible.

A site's first step is `secured_mw` from `energised_quarter` in class `power_class`; `power_steps` adds
later changes as `QUARTER:+MW[:CLASS]` items separated by `;`, for example
`2029Q1:+50:interruptible; 2031Q3:-25` (the class defaults to the site's `power_class`).

    P[s,t] = sum of the steps of s with quarter <= t                     [grid MW, all classes]
    F[s,t] = sum of the firm steps of s with quarter <= t                [grid MW, firm only]

AI halls need firm power (F); miners may run on either class (P). Neither total may fall below 0.
"""

import re
from dataclasses import dataclass

import numpy as np

from kernel.quarters import is_quarter, ordinal

CLASSES = ("firm", "interruptible")
_STEP = re.compile(r"^(?P<quarter>[^:]+):(?P<mw>[^:]+)(?::(?P<cls>[^:]+))?$")
FORMAT = "QUARTER:+MW[:firm|interruptible] items separated by ';', e.g. 2029Q1:+50:interruptible"


@dataclass(frozen=True)
class Step:
    quarter: str
    mw: float
    power_class: str


def parse_steps(text: str, default_class: str) -> list[Step]:
    """Parse a `power_steps` cell; raises ValueError with the reason (no file context)."""
    steps = []
    for item in (part.strip() for part in str(text).split(";")):
        if not item:
            continue
        match = _STEP.match(item.replace(" ", ""))
        if not match:
            raise ValueError(f"item '{item}' is not QUARTER:+MW[:CLASS]")
        quarter, mw, power_class = match["quarter"].upper(), match["mw"], (match["cls"] or default_class).lower()
        if not is_quarter(quarter):
            raise ValueError(f"item '{item}': '{quarter}' is not a quarter label")
        try:
            value = float(mw.removesuffix("MW").removesuffix("mw"))
        except ValueError:
            raise ValueError(f"item '{item}': '{mw}' is not a number of MW") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"item '{item}': '{mw}' is not a finite number of MW")
        if power_class not in CLASSES:
            raise ValueError(f"item '{item}': class '{power_class}' is not firm or interruptible")
        steps.append(Step(quarter, value, power_class))
    return steps


def site_steps(site: dict) -> list[Step]:
    """All steps of a validated site row: the first (secured_mw at energised_quarter) then power_steps."""
    first = Step(site["energised_quarter"], float(site["secured_mw"]), site.get("power_class") or "firm")
    rest = parse_steps(site.get("power_steps") or "", first.power_class)
    return sorted([first, *rest], key=lambda step: ordinal(step.quarter))


def negative_balance(steps: list[Step]) -> tuple[str, str, float] | None:
    """(quarter, class, MW) of the first quarter where a class's running total falls below 0, else None."""
    totals = dict.fromkeys(CLASSES, 0.0)
    for step in steps:
        totals[step.power_class] += step.mw
        if totals[step.power_class] < -1e-9:
            return step.quarter, step.power_class, totals[step.power_class]
    return None


def secured_mw(steps: list[Step], quarters: list[str], power_class: str | None = None) -> np.ndarray:
    """P[t] (all classes) or F[t] (one class) for each quarter label."""
    k = np.array([ordinal(q) for q in quarters])
    out = np.zeros(len(quarters))
    for step in steps:
        if power_class is None or step.power_class == power_class:
            out += np.where(k >= ordinal(step.quarter), step.mw, 0.0)
    return out


def peak_mw(steps: list[Step], power_class: str | None = None) -> float:
    """Largest running total over all time (all classes, or one class)."""
    total, peak = 0.0, 0.0
    for step in steps:
        if power_class is None or step.power_class == power_class:
            total += step.mw
            peak = max(peak, total)
    return peak
