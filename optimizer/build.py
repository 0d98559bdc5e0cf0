"""Assemble the MILP: the ordered families, then the coupling families that sum their contributions."""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation import (capex_budget, earliest_revenue, halls, lead_time, leasing, mining,
                                   objective, power, site_opening)
from optimizer.formulation.terms import Terms

FAMILIES = (mining, halls, site_opening, lead_time, leasing, earliest_revenue)
COUPLING = (power, capex_budget, objective)


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
