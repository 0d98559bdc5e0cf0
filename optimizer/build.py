"""Assemble the MILP: the ordered family list, each family's `add`, and the shared sums on the model.

The contributing families come first, then the coupling families that turn the shared sums into rows
(power, carbon, capex budget, taxes, liquidity, objective). Each family's `REQUIRES` must come before it,
and a coupling family freezes what it reads (terms.py), so a wrong order is an error, not a wrong model.
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import (capex_budget, carbon, covenants, earliest_revenue, financing, flexibility, halls, lead_time,
                                   leasing, liquidity, mining, mining_commitment, objective, power, site_opening, taxes,
                                   utilization)
from optimizer.formulation.terms import CashLine, Terms, ordered

FAMILIES = (mining, mining_commitment, halls, flexibility, site_opening, lead_time, leasing, earliest_revenue, utilization, financing,
            power, carbon, capex_budget, taxes, covenants, liquidity, objective)


def family_name(family) -> str:
    return family.__name__.rsplit(".", 1)[-1]


def check_order(families=FAMILIES) -> None:
    """Raise ValueError unless every family's REQUIRES appear before it."""
    seen: set = set()
    for family in families:
        missing = [family_name(r) for r in family.REQUIRES if r not in seen]
        if missing:
            raise ValueError(f"build order: {family_name(family)} requires {', '.join(missing)} before it")
        seen.add(family)


def cash_lines(families=FAMILIES) -> tuple[CashLine, ...]:
    """Every family's cash lines, by category then family order: the CashFlow columns."""
    return ordered(line for family in families for line in family.CASH_LINES)


def build_model(data: ModelData, families=FAMILIES) -> pyo.ConcreteModel:
    check_order(families)
    m = pyo.ConcreteModel(name="hashpivot")
    m.T = pyo.RangeSet(0, data.n_quarters - 1)
    m.W = pyo.Set(initialize=data.scenarios)
    m.terms = Terms(cash_lines(families), data.n_extended)
    for family in families:
        family.add(m, data)
    return m
