"""Infeasibility explained in the planner's terms, from the limits each family declares (`LIMITS`).

1. Irreducible infeasible subset (IIS) from HiGHS, on the LP relaxation of the model: each member row or
   bound is mapped back to its family's `Limit`, site and quarter, and named in the planner's words.
2. Elastic re-solve: every limit with a `change` sentence (all but signed contracts) gets a penalised
   slack in its own unit; minimising their sum gives the smallest relaxation that makes the plan
   feasible, reported as "loosen X by Y". It is also the fallback when HiGHS finds no subset.
"""

from collections import defaultdict

import highspy
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.build import FAMILIES
from optimizer.data import ModelData
from optimizer.formulation.family import Limit
from optimizer.solve import SOLVE_LOCK

IIS_SECONDS = 30.0
# HiGHS iis_strategy values, tried in turn: 2 (from the LP, column priority: fast), then 20 (the relaxation
# IIS of the MIP found as a true IIS, which can take the whole time limit on the fleet's larger LP).
IIS_STRATEGIES = (2, 20)
MOST_CHANGES = 8


def limits(families=FAMILIES, m: pyo.ConcreteModel | None = None) -> dict[str, Limit]:
    """component name -> the Limit a family declares for it, and those a request added to model `m`
    (`m.planner_limits`, e.g. the rows that keep an approved plan: optimizer/pipeline.py)."""
    added = tuple(getattr(m, "planner_limits", ())) if m is not None else ()
    return {limit.component: limit for limit in (*(x for f in families for x in f.LIMITS), *added)}


def explain_infeasible(m: pyo.ConcreteModel, d: ModelData) -> str:
    """One paragraph: the conflicting limits with site and quarter, and the smallest relaxation."""
    groups = defaultdict(list)
    for limit, index in iis_members(m):
        groups[limit.name(d)].append(limit.where(d, index))
    parts = []
    if groups:
        parts.append("These limits conflict: " + "; ".join(
            f"{phrase} ({_compact(names)})" for phrase, names in groups.items()) + ".")
    relaxation = elastic_relaxation(m, d)
    if relaxation:
        parts.append("The smallest change that makes a plan possible: " + "; ".join(relaxation) + ".")
    if not parts:
        parts.append("HiGHS found no conflicting subset and no single limit whose relaxation helps.")
    return "No plan satisfies every constraint (infeasible), so nothing was written. " + " ".join(parts)


def _compact(names: list[str]) -> str:
    unique = list(dict.fromkeys(names))
    return ", ".join(unique[:4]) + (f" and {len(unique) - 4} more" if len(unique) > 4 else "")


def _index(component_data) -> tuple:
    index = component_data.index()
    return index if isinstance(index, tuple) else (index,)


def iis_members(m: pyo.ConcreteModel) -> list[tuple[Limit, tuple]]:
    """(Limit, index) of the planner limits in an IIS of the LP relaxation; [] if none found."""
    solver = Highs()
    with SOLVE_LOCK:
        solver.set_instance(m)
        lp = solver._solver_model.getLp()
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    for strategy in IIS_STRATEGIES:
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.passModel(lp)
        highs.setOptionValue("iis_strategy", strategy)
        highs.setOptionValue("iis_time_limit", IIS_SECONDS)
        status, iis = highs.getIis()
        if status == highspy.HighsStatus.kOk and iis.valid_:
            break
    else:
        return []
    known = limits(m=m)
    rows = solver._solver_con_to_pyomo_con_map
    columns = {index: var_id for var_id, index in solver._pyomo_var_to_solver_var_map.items()}
    members = [rows[i] for i in iis.row_index_] + [solver._vars[columns[j]][0] for j in iis.col_index_]
    out = []
    for member in members:
        limit = known.get(member.parent_component().name)
        if limit is not None and (limit.bound == "row") == (member.ctype is pyo.Constraint) \
                and (limit.bound == "row" or limit.applies(member)):
            out.append((limit, _index(member)))
    return out


def elastic_relaxation(m: pyo.ConcreteModel, d: ModelData) -> list[str]:
    """Sentences for each slack the elastic re-solve needs; the model is restored afterwards."""
    m.elastic = elastic = pyo.Block()
    elastic.slack = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals)
    elastic.rows = pyo.ConstraintList()
    rows, bounds, penalty, owner = [], [], [], {}
    for limit in limits(m=m).values():
        if limit.change is None:
            continue
        for member in m.component(limit.component).values():
            if limit.bound == "row":
                size = max(abs(pyo.value(v)) for v in (member.lower, member.upper) if v is not None)
            else:
                bound = member.lb if limit.bound == "lower" else member.ub
                if bound is None or not limit.applies(member):
                    continue
                size = abs(bound)
            key = (limit.component,) + _index(member)
            slack = elastic.slack[key]
            weight = limit.penalty / max(size / limit.scale, limit.size(d, key[1:]))
            owner[key] = (limit, weight)
            penalty.append(weight * slack)
            if limit.bound == "row":
                if member.upper is not None:
                    elastic.rows.add(member.body - limit.scale * slack <= member.upper)
                if member.lower is not None:
                    elastic.rows.add(member.body + limit.scale * slack >= member.lower)
                member.deactivate()
                rows.append(member)
            elif limit.bound == "lower":
                bounds.append((member, member.lb, member.ub))
                elastic.rows.add(member + limit.scale * slack >= bound)
                member.setlb(None)
            else:
                bounds.append((member, member.lb, member.ub))
                elastic.rows.add(member - limit.scale * slack <= bound)
                member.setub(None)
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
        used = [(key, slack.value) for key, slack in elastic.slack.items() if slack.value is not None
                and slack.value > 1e-6]
        used.sort(key=lambda item: -round(owner[item[0]][1] * item[1], 9))  # largest first, else in model order
        sentences = [owner[key][0].change(d, key[1:], amount) for key, amount in used[:MOST_CHANGES]]
        more = len(used) - MOST_CHANGES
        return sentences + ([f"and {more} smaller change{'s' if more > 1 else ''}"] if more > 0 else [])
    finally:
        objective.activate()
        for con in rows:
            con.activate()
        for var, lb, ub in bounds:
            var.setlb(lb)
            var.setub(ub)
        m.del_component(m.elastic)
