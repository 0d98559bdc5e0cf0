"""What a family module is: the single home of everything about its rows.

Every module in `optimizer/formulation/` listed in build.py defines, explicitly (empty where it has none):

- a docstring with its math: `Symbols:` (symbol, meaning, [unit]; each symbol defined in one family only)
  and numbered equations `(X1) ...` (the README's tables are generated from them, optimizer/docs.py);
- `REQUIRES`: the families whose components it reads (build.py checks that they come first);
- `CASH_LINES`: the cash lines it contributes (terms.CashLine);
- `LIMITS`: its planner limits (`Limit`), for infeasibility explanations;
- `add(m, d)`: its variables, rows and contributions to the shared sums;
- `schedule_columns(m, d)` -> {column: {(s, t, w): value}} and `cashflow_columns(m, d)` ->
  {column: {(j, w): value}}: the result columns it contributes (results.py);
- `check(plan)` -> sentences: its rows recomputed from the exported tables only (checks.py).
"""

from dataclasses import dataclass
from typing import Callable

import pandas as pd

TOL_MW = 1e-4
TOL_USD = 1.0
TOL_T = 1e-2


@dataclass(frozen=True)
class Limit:
    """A planner limit: a row family (`bound` "row") or the lower/upper bound of a variable.

    `phrase` (or `phrase(d)`) names it in "these limits conflict"; `where(d, index)` names one member (site, quarter);
    `change(d, index, amount)` is the sentence for the elastic re-solve's slack `amount` (in `unit`), or
    None when the limit is not to be loosened (a signed contract); one slack unit moves the row by `scale`
    of its own units; the elastic objective weighs a slack by `penalty / max(|limit|, typical)`, the
    limit's own size in slack units (so the smallest change is the smallest relative to each limit, and a
    $M is not weighed against a MW); `applies(var)` selects the variable bounds that are planner limits
    (e.g. only a leased-MW upper bound of 0).
    """
    component: str
    phrase: str | Callable
    where: Callable
    change: Callable | None = None
    unit: str = ""
    scale: float = 1.0
    penalty: float = 1.0
    typical: float | Callable = 10.0   # or typical(d, index): the size of a limit whose row has 0 on its right

    def size(self, d, index) -> float:
        return self.typical(d, index) if callable(self.typical) else self.typical
    bound: str = "row"          # row | lower | upper
    applies: Callable = lambda var: True

    def name(self, d) -> str:
        return self.phrase(d) if callable(self.phrase) else self.phrase


def no_columns(m, d) -> dict:
    """The result columns of a family that adds none."""
    return {}


def quarter(d, t) -> str:
    """Horizon label of quarter index t (the index itself when out of range)."""
    return d.quarters[t] if isinstance(t, int) and 0 <= t < d.n_quarters else str(t)


def at_site_quarter(d, index) -> str:
    """'site quarter' of an index (s, t, ...)."""
    return f"{index[0]} {quarter(d, index[1])}"


def at_quarter(d, index) -> str:
    return quarter(d, index[0])


def at_first(d, index) -> str:
    return str(index[0])


def where(frame: pd.DataFrame, mask) -> str:
    """The first five 'site quarter (scenario)' rows of a Schedule-like table where `mask` holds."""
    rows = frame[mask]
    several = frame["scenario"].nunique() > 1
    return ", ".join(f"{r.site} {r.quarter}" + (f" ({r.scenario})" if several else "")
                     for r in rows.head(5).itertuples())


def horizon_cash(plan, w: str | None = None) -> pd.DataFrame:
    """The horizon rows of CashFlow (one scenario, or all)."""
    c = plan.cashflow
    c = c[c["period"] == "horizon"]
    return c if w is None else c[c["scenario"] == w]


def values(m_component, keys, scale: float = 1.0) -> dict:
    """{key: scale * value} of an indexed Pyomo component (variable or expression) over `keys`; keys it
    does not hold are left out (the result table fills them with 0)."""
    import pyomo.environ as pyo
    return {k: scale * float(pyo.value(m_component[k])) for k in keys if k in m_component}


def schedule_matches_cashflow(plan, lines) -> list[str]:
    """The Schedule's per-site columns of cash `lines` add up, per quarter and scenario, to CashFlow's."""
    columns = [line.name for line in lines]
    s, c = plan.schedule, horizon_cash(plan).set_index(["quarter", "scenario"])
    sums = s.groupby(["quarter", "scenario"])[columns].sum().reindex(c.index, fill_value=0.0)
    off = [name for name in columns if ((sums[name] - c[name]).abs() > TOL_USD).any()]
    return [f"cash flow: Schedule {name} does not add up to CashFlow {name}." for name in off]
