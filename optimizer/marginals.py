"""Marginal values: fix the integer decisions of the MILP, re-solve the LP, read the duals.

- secured power: d NPV / d P[s,t] (USD per MW of secured grid power in quarter t), from rows (P1);
- carbon cap: d NPV / d cap[y] (USD per tCO2 of the annual cap), from rows (K3).
Both are reported in NPV dollars and in the dollars of the quarter (year end) they apply to (/ df).
The LP re-solve changes only continuous values, so the exported plan is extracted before it.
"""

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.data import ModelData
from optimizer.formulation.carbon import year_quarters
from optimizer.formulation.objective import OBJECTIVE_SCALE_USD
from optimizer.solve import SOLVE_LOCK


def marginal_values(m: pyo.ConcreteModel, d: ModelData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(secured-power marginals by site-quarter, carbon-cap marginals by year); empty if the LP fails."""
    fixed = [(v, v.domain) for v in m.component_data_objects(pyo.Var, active=True)
             if v.is_integer() and not v.fixed and v.value is not None]
    for v, _ in fixed:  # continuous and fixed, so that HiGHS sees an LP and returns duals
        v.domain = pyo.Reals
        v.fix(round(v.value))
    try:
        with SOLVE_LOCK:
            results = Highs().solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                                    solver_options={"output_flag": False})
        rows = list(m.power_limit.values()) + list(m.carbon_cap.values())
        duals = results.solution_loader.get_duals(rows) if rows else {}
    except Exception:  # noqa: BLE001 - marginals are a report; a failed LP must not lose the plan
        duals = None
    finally:
        for v, domain in fixed:
            v.unfix()
            v.domain = domain
    return _power_table(m, d, duals), _carbon_table(m, d, duals)


def _power_table(m, d: ModelData, duals) -> pd.DataFrame:
    rows = []
    for (s, t, w), con in m.power_limit.items():
        npv = duals[con] * OBJECTIVE_SCALE_USD if duals else None
        rows.append({"site": s, "quarter": d.quarters[t], "scenario": w,
                     "secured_mw_value_npv_usd_per_mw": npv,
                     "secured_mw_value_usd_per_mw": npv / d.discount_factor[t] if npv is not None else None})
    return pd.DataFrame(rows, columns=["site", "quarter", "scenario", "secured_mw_value_npv_usd_per_mw",
                                       "secured_mw_value_usd_per_mw"])


def _carbon_table(m, d: ModelData, duals) -> pd.DataFrame:
    rows = []
    years = year_quarters(d)
    for (y, w), con in m.carbon_cap.items():
        npv = duals[con] * OBJECTIVE_SCALE_USD if duals else None
        rows.append({"year": y, "scenario": w, "carbon_cap_value_npv_usd_per_tco2": npv,
                     "carbon_cap_value_usd_per_tco2": npv / d.discount_factor[max(years[y])]
                     if npv is not None else None})
    return pd.DataFrame(rows, columns=["year", "scenario", "carbon_cap_value_npv_usd_per_tco2",
                                       "carbon_cap_value_usd_per_tco2"])
