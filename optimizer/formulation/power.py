"""Power: no site-quarter draws or reserves more grid MW than it has secured (coupling family).

Symbols: P[s,t] secured grid MW of the quarter (0 before energisation); power_use_mw the sum of the
contributions of the other families (mining pue_mine*y, halls g*B_s*N).

    (P1) sum(power_use_mw[s,t,w]) <= P[s,t]
"""

import pyomo.environ as pyo

from optimizer.data import ModelData


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    secured = d.values("secured_mw")
    keys = sorted(m.terms.power_use_mw)
    m.POWER_STW = pyo.Set(initialize=keys, dimen=3)
    m.power_limit = pyo.Constraint(m.POWER_STW, rule=lambda m, s, t, w:
                                   sum(m.terms.power_use_mw[s, t, w]) <= secured[s, t, w])
