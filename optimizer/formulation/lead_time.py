"""Construction lead time and tenant ramp: when halls come online and how much of them can bill.

Symbols: N[s,t] halls started so far; B_s hall IT MW; L_s lead time (quarters). A hall started in tau
is online from tau + L_s and bills 50% of its MW in its first online quarter, 100% from the second.

    (L1) ai_online_it_mw[s,t]   = B_s * N[s, t-L_s]
    (L2) ai_billable_it_mw[s,t] = B_s * sum_tau n[s,tau] * share(t-L_s-tau),  share(0)=0.5, share(>=1)=1
                                = B_s * (0.5 * N[s, t-L_s] + 0.5 * N[s, t-L_s-1])
"""

import pyomo.environ as pyo

from optimizer.data import ModelData
from optimizer.formulation.halls import cumulative


def add(m: pyo.ConcreteModel, d: ModelData) -> None:
    hall = d.sites["hall_it_mw"].to_dict()
    lead = d.sites["lead_quarters"].astype(int).to_dict()
    m.ai_online_it_mw = pyo.Expression(
        m.AI_SITES, m.T, rule=lambda m, s, t: hall[s] * cumulative(m, s, t - lead[s]))
    m.ai_billable_it_mw = pyo.Expression(
        m.AI_SITES, m.T, rule=lambda m, s, t: hall[s] * (0.5 * cumulative(m, s, t - lead[s])
                                                        + 0.5 * cumulative(m, s, t - lead[s] - 1)))
