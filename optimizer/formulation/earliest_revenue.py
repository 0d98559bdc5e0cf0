"""No lease revenue before the earliest revenue quarter (2027Q1 by default), a hard constraint.

    (E1) x[s,t,w] = 0 for every t < t_0        (upper bound of the leased-MW variable)

With the default horizon and lead times it does not bind; it does for an earlier horizon start or a
shorter lead time.
"""

import pyomo.environ as pyo

from optimizer.data import ModelData


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    for (s, t, w) in m.AI_STW:
        if t < d.earliest_revenue_t:
            m.leased_it_mw[s, t, w].setub(0.0)
