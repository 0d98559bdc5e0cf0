"""Utilization: a hall online for K quarters must be at least u_min leased, so that the model builds
fewer halls when demand cannot fill them instead of leaving stranded capacity silently.

Symbols: x[s,t,w] leased IT MW; N[s,t] halls started so far; B_s hall IT MW; L_s lead time; K quarters
online before the floor applies; u_min least leased share.

    (U1) x[s,t,w] >= u_min * B_s * N[s, t - L_s - K]
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.halls import cumulative


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    u_min, k = d.base.utilization_min_share, d.base.utilization_after_quarters
    if u_min <= 0:
        return
    hall = d.sites["hall_it_mw"].to_dict()
    lead = d.sites["lead_quarters"].astype(int).to_dict()
    keys = [(s, t, w) for (s, t, w) in m.AI_STW if t - lead[s] - k >= 0]
    m.utilization_floor = pyo.Constraint(
        keys, rule=lambda m, s, t, w:
        m.leased_it_mw[s, t, w] >= u_min * hall[s] * cumulative(m, s, t - lead[s] - k))
