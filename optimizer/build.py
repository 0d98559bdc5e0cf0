"""Assemble the MILP: the ordered families, then the coupling families that sum their contributions."""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import (capex_budget, carbon, earliest_revenue, financing, halls, lead_time,
                                   leasing, liquidity, mining, objective, power, site_opening, taxes,
                                   utilization)
from optimizer.formulation.terms import Terms

FAMILIES = (mining, halls, site_opening, lead_time, leasing, earliest_revenue, utilization, financing)
COUPLING = (power, carbon, capex_budget, taxes, liquidity, objective)


def build_model(data: ModelData) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel(name="hashpivot")
    m.T = pyo.RangeSet(0, data.n_quarters - 1)
    m.W = pyo.Set(initialize=data.scenarios)
    m.terms = Terms()
    for family in FAMILIES:
        family.add(m, data)
    for family in COUPLING:
        family.add(m, data)
    return m
