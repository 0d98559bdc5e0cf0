"""Shared sums that families contribute to and coupling families turn into rows (GenX/Switch style).

- `power_use_mw[(s, t, w)]`: grid MW drawn or reserved at site s in quarter t (list of expressions).
- `cash_usd[name][(j, w)]`: a non-negative cash amount of line `name` in quarter j (USD), with
  `CASH_SIGN[name]` = +1 for inflows and -1 for outflows; net flow = sum_name sign * amount.
- `emissions_tco2[(s, t, w)]`: location-based tCO2 by site-quarter.
"""

from collections import defaultdict
from dataclasses import dataclass, field

CASH_SIGN: dict[str, int] = {}


def cash_line(name: str, sign: int) -> str:
    """Register a cash-flow line (name ends in `_usd`) with its sign; returns the name."""
    CASH_SIGN[name] = sign
    return name


@dataclass
class Terms:
    power_use_mw: dict = field(default_factory=lambda: defaultdict(list))
    cash_usd: dict = field(default_factory=lambda: defaultdict(dict))
    emissions_tco2: dict = field(default_factory=lambda: defaultdict(list))

    def add_cash(self, name: str, j: int, w: str, expr) -> None:
        line = self.cash_usd[name]
        line[(j, w)] = line[(j, w)] + expr if (j, w) in line else expr
