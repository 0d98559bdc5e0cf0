"""Shared sums that families contribute to and coupling families turn into rows (GenX/Switch style).

They live on the model instance (`m.terms`, made by build.py), never at module level, so that two models
in one process stay independent and the import order cannot change a result:

- `power_use_mw[(s, t, w)]`: grid MW drawn or reserved at site s in quarter t;
- `energy_mwh[(s, t, w)]`, `emissions_tco2[(s, t, w)]`: grid MWh drawn and location-based tCO2;
- cash lines: the non-negative amount of line l in quarter j, a_l[j,w] (USD). Each family declares its
  lines (`CASH_LINES`); build.py hands the ordered list to `Terms`; net flow = sum_l sign_l * a_l.

A sum that a coupling family has read is frozen: a later contribution to it is an error, never a silent
omission (reading one cash line freezes that line, reading a category freezes every line in it).
"""

from collections import defaultdict
from dataclasses import dataclass

CATEGORIES = ("operating", "capex", "financing", "tax")


@dataclass(frozen=True)
class CashLine:
    name: str          # ends in _usd
    sign: int          # +1 inflow, -1 outflow
    category: str      # one of CATEGORIES
    in_npv: bool = True

    def __post_init__(self):
        assert self.name.endswith("_usd") and self.sign in (1, -1) and self.category in CATEGORIES, self


class FrozenError(RuntimeError):
    """A family contributed to a sum that a coupling family had already read (a build-order bug)."""


class Sum:
    """key -> list of expressions; reading any total freezes the whole sum."""

    def __init__(self, name: str):
        self.name, self._parts, self.frozen = name, defaultdict(list), False

    def add(self, key, expr) -> None:
        if self.frozen:
            raise FrozenError(f"{self.name}: a contribution after the sum was read")
        self._parts[key].append(expr)

    def keys(self) -> list:
        self.frozen = True
        return sorted(self._parts)

    def total(self, key):
        self.frozen = True
        return sum(self._parts.get(key, ()))


class Terms:
    """The shared sums of one model; `lines` is the ordered cash-line list of build.py, cash quarters j are
    0..n_extended-1 (an amount outside them would be lost from CashFlow and the NPV: an error)."""

    def __init__(self, lines: tuple[CashLine, ...], n_extended: int):
        self.lines, self.n_extended = lines, n_extended
        self.by_name = {line.name: line for line in lines}
        assert len(self.by_name) == len(lines), "a cash line is declared twice"
        self.power_use_mw, self.energy_mwh, self.emissions_tco2 = (
            Sum("power_use_mw"), Sum("energy_mwh"), Sum("emissions_tco2"))
        self._cash: dict[str, dict] = {line.name: {} for line in lines}
        self._frozen: set[str] = set()

    def add_cash(self, name: str, j: int, w: str, expr) -> None:
        if name not in self.by_name:
            raise KeyError(f"cash line {name} is not declared by any family in build.py")
        if not 0 <= j < self.n_extended:
            raise IndexError(f"cash line {name}: quarter {j} is outside the {self.n_extended} cash-flow quarters")
        if name in self._frozen:
            raise FrozenError(f"cash line {name} ({self.by_name[name].category}) was read by a coupling family "
                              "before this contribution; move the contributing family earlier in build.py")
        line = self._cash[name]
        line[(j, w)] = line[(j, w)] + expr if (j, w) in line else expr

    def cash(self, name: str, j: int, w: str):
        """a_l[j,w], 0 when nothing contributed; freezes line l."""
        self._frozen.add(name)
        return self._cash[name].get((j, w), 0)

    def net(self, j: int, w: str, categories=CATEGORIES, npv_only: bool = False):
        """sum_l sign_l * a_l[j,w] over the lines of `categories`; freezes those categories."""
        return sum(line.sign * self.cash(line.name, j, w) for line in self.lines
                   if line.category in categories and (line.in_npv or not npv_only))

    def amounts(self, name: str) -> dict:
        """(j, w) -> expression of one line, for result extraction after the build."""
        return self._cash[name]


def ordered(lines) -> tuple[CashLine, ...]:
    """Lines by category (operating, capex, financing, tax), then in the order given."""
    return tuple(sorted(lines, key=lambda line: CATEGORIES.index(line.category)))
