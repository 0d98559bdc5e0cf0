"""Infeasibility explained in the planner's terms.

1. Irreducible infeasible subset (IIS) from HiGHS, on the LP relaxation of the model: each member row or
   bound is mapped back to its constraint family, site and quarter; the members that are planner limits
   (cash floor, carbon cap, utilization, market absorption, capex budget, commitments, earliest revenue,
   secured power, build rate, debt limits) become sentences.
2. Elastic re-solve: every planner limit but contracted halls (a signed contract is not a limit to
   loosen) gets a penalised slack (in $M, ktCO2 or MW); minimising their sum gives the smallest
   relaxation that makes the plan feasible, reported as "loosen X by Y". It is also the fallback when
   HiGHS finds no subset.
"""

from collections import defaultdict

import highspy
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.data import ModelData
from optimizer.formulation.financing import MUSD
from optimizer.solve import SOLVE_LOCK

IIS_SECONDS = 30.0

# component -> (family in the planner's words, how to name one member from its index)
LIMITS = {
    "cash_musd": ("liquidity: the cash floor", lambda d, i: _q(d, i[0])),
    "carbon_cap": ("carbon: the annual carbon cap", lambda d, i: f"{i[0]}"),
    "carbon_intensity_cap": ("carbon: the carbon intensity cap", lambda d, i: f"{i[0]}"),
    "certificate_limit": ("carbon: the certificate limit", lambda d, i: f"{i[0]}"),
    "utilization_floor": ("utilization: halls online must be leased", lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "market_absorption": ("demand: market absorption of new leases", lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "capex_budget": ("capex: the quarterly capex budget", lambda d, i: _q(d, i[0])),
    "halls_started": ("commitments: contracted halls", lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "leased_it_mw": ("earliest revenue: no lease before " , lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "power_limit": ("power: secured grid MW", lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "firm_power_limit": ("power: firm grid MW for AI halls", lambda d, i: f"{i[0]} {_q(d, i[1])}"),
    "build_rate": ("build rate: AI starts per quarter", lambda d, i: _q(d, i[0])),
    "revolver_balance_musd": ("financing: the revolver limit", lambda d, i: _q(d, i[0])),
    "project_debt_leased_only": ("financing: project debt only against leased halls", lambda d, i: "horizon end"),
    "project_debt_during_construction": ("financing: loan-to-cost during construction", lambda d, i: _q(d, i[0])),
}


def _q(d: ModelData, t: int) -> str:
    return d.quarters[t] if isinstance(t, int) and 0 <= t < d.n_quarters else str(t)


def explain_infeasible(m: pyo.ConcreteModel, d: ModelData) -> str:
    """One paragraph: the conflicting families with site and quarter, and the smallest relaxation."""
    members = iis_members(m)
    groups = defaultdict(list)
    for component, index in members:
        if component in LIMITS:
            family, name = LIMITS[component]
            if component == "leased_it_mw":
                family += d.base.earliest_ai_revenue_quarter
            groups[family].append(name(d, index))
    parts = []
    if groups:
        parts.append("These limits conflict: " + "; ".join(
            f"{family} ({_compact(names)})" for family, names in groups.items()) + ".")
    relaxation = elastic_relaxation(m, d)
    if relaxation:
        parts.append("The smallest change that makes a plan possible: " + "; ".join(relaxation) + ".")
    if not parts:
        parts.append("HiGHS found no conflicting subset and no single limit whose relaxation helps.")
    return "No plan satisfies every constraint (infeasible), so nothing was written. " + " ".join(parts)


def _compact(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:4]) + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")


def iis_members(m: pyo.ConcreteModel) -> list[tuple[str, tuple]]:
    """(component name, index) of the rows and bounds in an IIS of the LP relaxation; [] if none found."""
    solver = Highs()
    with SOLVE_LOCK:
        solver.set_instance(m)
        lp = solver._solver_model.getLp()
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    highs.setOptionValue("iis_strategy", 20)  # relaxation IIS for a MIP, found as a true IIS
    highs.setOptionValue("iis_time_limit", IIS_SECONDS)
    status, iis = highs.getIis()
    if status != highspy.HighsStatus.kOk or not iis.valid_:
        return []
    rows = solver._solver_con_to_pyomo_con_map
    columns = {index: var_id for var_id, index in solver._pyomo_var_to_solver_var_map.items()}
    out = [(_split(rows[i])) for i in iis.row_index_]
    out += [_split(var) for var in (solver._vars[columns[j]][0] for j in iis.col_index_) if _planner_bound(var)]
    return out


def _planner_bound(var) -> bool:
    """Bounds a planner set: the cash floor, the revolver limit, contracted halls, no lease before t0."""
    name = var.parent_component().name
    return (name in ("cash_musd", "revolver_balance_musd") or (name == "halls_started" and (var.lb or 0) > 0)
            or (name == "leased_it_mw" and var.ub == 0))


def _split(component_data) -> tuple[str, tuple]:
    index = component_data.index()
    return component_data.parent_component().name, index if isinstance(index, tuple) else (index,)


def elastic_relaxation(m: pyo.ConcreteModel, d: ModelData) -> list[str]:
    """Sentences for each slack the elastic re-solve needs; the model is restored afterwards."""
    elastic = pyo.Block()
    m.elastic = elastic
    elastic.slack = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals)
    elastic.rows = pyo.ConstraintList()
    saved = []
    penalty = []

    def relax(con, scale, key):
        slack = elastic.slack[key]
        lower, upper = con.lower, con.upper
        body = con.body
        if upper is not None:
            elastic.rows.add(body - slack * scale <= upper)
        if lower is not None:
            elastic.rows.add(body + slack * scale >= lower)
        con.deactivate()
        saved.append(con)
        penalty.append(slack)

    for name, scale in (("carbon_cap", 1e3), ("carbon_intensity_cap", 1e3), ("utilization_floor", 1.0),
                        ("market_absorption", 1.0), ("capex_budget", MUSD), ("power_limit", 1.0),
                        ("firm_power_limit", 1.0), ("build_rate", 1.0), ("certificate_limit", 1e3)):
        for index, con in getattr(m, name, {}).items() if hasattr(m, name) else []:
            relax(con, scale, (name,) + (index if isinstance(index, tuple) else (index,)))
    bounds = []
    for name in ("cash_musd", "leased_it_mw", "revolver_balance_musd"):  # contracted halls stay fixed
        if not hasattr(m, name):
            continue
        for index, var in getattr(m, name).items():
            key = (name,) + (index if isinstance(index, tuple) else (index,))
            lb, ub = var.lb, var.ub
            relax_lb = lb is not None and name == "cash_musd"
            relax_ub = ub is not None and ((name == "leased_it_mw" and ub == 0) or name == "revolver_balance_musd")
            if relax_lb:
                elastic.rows.add(var + elastic.slack[key] >= lb)
                penalty.append(elastic.slack[key])
            if relax_ub:
                elastic.rows.add(var - elastic.slack[key + ("ub",)] <= ub)
                penalty.append(elastic.slack[key + ("ub",)])
            if relax_lb or relax_ub:
                bounds.append((var, lb, ub))
                var.setlb(None if relax_lb else lb)
                var.setub(None if relax_ub else ub)
    objective = next(m.component_data_objects(pyo.Objective, active=True))
    objective.deactivate()
    elastic.total = pyo.Objective(expr=sum(penalty), sense=pyo.minimize)
    try:
        with SOLVE_LOCK:
            results = Highs().solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                                    solver_options={"output_flag": False, "mip_rel_gap": 1e-4}, time_limit=60)
        if results.incumbent_objective is None:
            return []
        results.solution_loader.load_vars()
        return [_sentence(d, key, slack.value) for key, slack in elastic.slack.items()
                if slack.value is not None and slack.value > 1e-6][:8]
    finally:
        objective.activate()
        for con in saved:
            con.activate()
        for var, lb, ub in bounds:
            var.setlb(lb)
            var.setub(ub)
        m.del_component(m.elastic)


def _sentence(d: ModelData, key: tuple, amount: float) -> str:
    name, index = key[0], key[1:]
    if name == "cash_musd":
        return f"lower the cash floor in {_q(d, index[0])} by ${amount:,.1f}M"
    if name in ("carbon_cap", "carbon_intensity_cap"):
        return f"raise the {index[0]} carbon cap by {amount * 1e3:,.0f} tCO2"
    if name == "certificate_limit":
        return f"allow {amount * 1e3:,.0f} MWh more certificates in {index[0]}"
    if name == "utilization_floor":
        return f"{index[0]}: lease {amount:,.1f} IT MW less than the utilization floor asks in {_q(d, index[1])}"
    if name == "market_absorption":
        return f"market {index[0]}: absorb {amount:,.1f} IT MW more new leases in {_q(d, index[1])}"
    if name == "capex_budget":
        return f"raise the capex budget in {_q(d, index[0])} by ${amount:,.1f}M"
    if name == "power_limit":
        return f"{index[0]}: {amount:,.1f} MW more secured power in {_q(d, index[1])}"
    if name == "firm_power_limit":
        return f"{index[0]}: {amount:,.1f} MW more firm power in {_q(d, index[1])}"
    if name == "build_rate":
        return f"allow {amount:,.1f} IT MW more AI starts in {_q(d, index[0])}"
    if name == "halls_started":
        return f"{index[0]}: {amount:,.2f} fewer contracted halls by {_q(d, index[1])}"
    if name == "leased_it_mw":
        return (f"{index[0]}: allow {amount:,.1f} IT MW of leases in {_q(d, index[1])}, before the earliest "
                f"revenue quarter {d.base.earliest_ai_revenue_quarter}")
    if name == "revolver_balance_musd":
        return f"raise the revolver limit in {_q(d, index[0])} by ${amount:,.1f}M"
    return f"{name} {index}: {amount:g}"
