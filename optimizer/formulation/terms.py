"""Shared sums that families contribute to and coupling families turn into rows (GenX/Switch style).

- `power_use_mw[(s, t, w)]`: grid MW drawn or reserved at site s in quarter t (list of expressions).
- `energy_mwh[(s, t, w)]`, `emissions_tco2[(s, t, w)]`: grid MWh drawn and location-based tCO2.
- `cash_usd[name][(j, w)]`: the non-negative amount of cash line `name` in quarter j (USD). Each line is
  registered once with `cash_line` (sign +1 inflow / -1 outflow, a category, and whether it counts in
  the NPV); net flow = sum_l sign_l * amount_l.
"""

from collections import defaultdict
from dataclasses import dataclass, field

CATEGORIES = ("operating", "capex", "financing", "tax")


@dataclass(frozen=True)
class CashLine:
    name: str
    sign: int          # +1 inflow, -1 outflow
    category: str      # one of CATEGORIES
    in_npv: bool = True


CASH_LINES: dict[str, CashLine] = {}


def cash_line(name: str, sign: int, category: str, in_npv: bool = True) -> str:
    """Register a cash-flow line (name ends in `_usd`); returns the name."""
    assert name.endswith("_usd") and category in CATEGORIES
    CASH_LINES[name] = CashLine(name, sign, category, in_npv)
    return name


def ordered_lines() -> list[CashLine]:
    """Lines by category (operating, capex, financing, tax), then registration order."""
    return sorted(CASH_LINES.values(), key=lambda line: CATEGORIES.index(line.category))


@dataclass
class Terms:
    power_use_mw: dict = field(default_factory=lambda: defaultdict(list))
    energy_mwh: dict = field(default_factory=lambda: defaultdict(list))
    emissions_tco2: dict = field(default_factory=lambda: defaultdict(list))
    cash_usd: dict = field(default_factory=lambda: defaultdict(dict))

    def add_cash(self, name: str, j: int, w: str, expr) -> None:
        line = self.cash_usd[name]
        line[(j, w)] = line[(j, w)] + expr if (j, w) in line else expr

    def cash(self, name: str, j: int, w: str):
        """Amount of a line in (j, w), 0 when nothing contributed."""
        return self.cash_usd.get(name, {}).get((j, w), 0)

    def net(self, j: int, w: str, categories=CATEGORIES, npv_only: bool = False):
        """sum_l sign_l * amount_l[j, w] over the lines of the given categories."""
        return sum(line.sign * self.cash(line.name, j, w) for line in CASH_LINES.values()
                   if line.category in categories and (line.in_npv or not npv_only))
