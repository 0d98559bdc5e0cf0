"""Solve the MILP with HiGHS through `pyomo.contrib.solver`, and measure what a planner should see.

Reports: status, NPV (objective), best bound, MIP gap, LP-relaxation objective and gap
(|z_LP - z_MIP| / |z_MIP|), model size (rows, columns, nonzeros, integers), build and solve seconds, and
with a MIP start (`SolveOptions.start`, e.g. an approved plan) whether HiGHS began from it.
"""

import threading
import time
from dataclasses import asdict, dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from kernel.atomic import atomic_path
from optimizer.data import ModelData
from optimizer.build import build_model
from optimizer.formulation.objective import OBJECTIVE_SCALE_USD


# Pyomo's HiGHS interface redirects the process's stdout file descriptor while it runs, and HiGHS keeps
# one thread pool per process: one solve at a time per process (threads in a Dask worker queue here).
SOLVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class SolveOptions:
    gap: float = 1e-3
    time_limit: float | None = None   # seconds for the whole command when `deadline` is set, else for HiGHS
    threads: int | None = None
    seed: int = 0
    deadline: float | None = None     # time.monotonic() by which HiGHS must stop (build time counts)
    write_model: tuple = ()           # files (.mps or .lp) to write the model HiGHS solves to, before it runs
    start: tuple = ()                 # ((component, index, value), ...): a MIP start (a plan to begin from)


@dataclass(frozen=True)
class Progress:
    """What a running MIP solve reports: incumbent NPV and bound (USD, None before the first), gap, seconds."""
    npv_usd: float | None
    bound_usd: float | None
    gap: float | None
    seconds: float


PROGRESS_EVERY_S = 0.5


@dataclass
class SolveInfo:
    status: str                 # optimal | time_limit | infeasible | no_solution | error
    termination: str
    has_solution: bool
    npv_usd: float | None
    bound_usd: float | None
    mip_gap: float | None
    lp_relaxation_npv_usd: float | None
    lp_relaxation_gap: float | None
    build_seconds: float
    solve_seconds: float
    rows: int
    columns: int
    nonzeros: int
    integer_columns: int
    solver: str
    threads: int | None
    gap_target: float
    time_limit: float | None
    start: str | None = None            # with a MIP start: "used" (HiGHS's first plan is it), "not used", None
    start_npv_usd: float | None = None  # the NPV of that first plan: the start completed by HiGHS

    def as_dict(self) -> dict:
        return asdict(self)


def build_and_solve(data: ModelData, options: SolveOptions = SolveOptions(), edit=None, progress=None):
    """Build the Pyomo model (then `edit(model)`, e.g. to fix decisions) and solve it; returns
    (model, SolveInfo). Solution values are loaded. With `options.deadline`, HiGHS gets what is left of it
    after the build; `progress(Progress)` is called while HiGHS runs (every PROGRESS_EVERY_S at most)."""
    started = time.perf_counter()
    model = build_model(data)
    if edit is not None:
        edit(model)
    build_seconds = time.perf_counter() - started
    info = solve_model(model, options, build_seconds, progress)
    return model, info


def solve_model(model: pyo.ConcreteModel, options: SolveOptions, build_seconds: float = 0.0,
                progress=None) -> SolveInfo:
    solver = Highs()
    limit = options.time_limit
    if options.deadline is not None:
        limit = max(0.01, options.deadline - time.monotonic())
    with SOLVE_LOCK:
        highspy.Highs.resetGlobalScheduler(True)  # let the thread count change between solves
        started = time.perf_counter()
        if progress is not None or options.write_model or options.start:
            solver.set_instance(model)  # persistent: the solve below reuses this HiGHS object and its callbacks
        if progress is not None:
            _report(solver._solver_model, progress)
        start = MipStart(solver, model, options.start) if options.start else None
        if options.write_model:
            solver._solver_model.setOptionValue("output_flag", False)  # HiGHS would print to stdout (--json)
        for path in options.write_model:
            with atomic_path(path) as temp:  # the temp name keeps the suffix, from which HiGHS takes the format
                solver._solver_model.writeModel(str(temp))
        results = solver.solve(
            model, rel_gap=options.gap, time_limit=limit, threads=options.threads,
            load_solutions=False, raise_exception_on_nonoptimal_result=False, tee=False,
            solver_options={"random_seed": options.seed, "output_flag": False},
        )
        solve_seconds = time.perf_counter() - started
    highs = solver._solver_model  # the highspy object behind the interface (model size, LP relaxation)
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_solution:
        results.solution_loader.load_vars()
    lp = highs.getLp()
    npv = results.incumbent_objective * OBJECTIVE_SCALE_USD if has_solution else None
    bound = results.objective_bound * OBJECTIVE_SCALE_USD if results.objective_bound is not None else None
    integers = sum(1 for v in lp.integrality_ if v != highspy.HighsVarType.kContinuous)
    mip_gap = _gap(npv, bound) if integers else (0.0 if has_solution else None)
    left = None if options.deadline is None else options.deadline - time.monotonic()
    lp_npv = _lp_relaxation(lp, left) if has_solution and (left is None or left > 0) else None
    return SolveInfo(
        status=_status(results.termination_condition, has_solution),
        termination=str(results.termination_condition.name), has_solution=has_solution,
        npv_usd=npv, bound_usd=bound, mip_gap=mip_gap,
        lp_relaxation_npv_usd=lp_npv, lp_relaxation_gap=_gap(npv, lp_npv),
        build_seconds=build_seconds, solve_seconds=solve_seconds,
        rows=lp.num_row_, columns=lp.num_col_, nonzeros=len(lp.a_matrix_.value_), integer_columns=integers,
        solver=f"HiGHS {'.'.join(map(str, solver.version()))}", threads=options.threads,
        gap_target=options.gap, time_limit=options.time_limit,
        start=start.verdict() if start else None,
        start_npv_usd=start.npv_usd() if start and start.verdict() == "used" else None,
    )


class MipStart:
    """A MIP start handed to HiGHS (setSolution with the values of some columns, before the run) and whether
    HiGHS began from it. HiGHS completes a partial start by fixing its integer values and solving the LP of
    the rest (its continuous values are not used), and drops a start that is infeasible; so the start was used
    when HiGHS's first improving plan carries the start's integer values."""

    def __init__(self, solver: Highs, model: pyo.ConcreteModel, entries: tuple):
        columns, values, integer = [], [], []
        for name, index, value in entries:
            component = model.component(name)
            column = solver._pyomo_var_to_solver_var_map.get(id(component[index])) \
                if component is not None and index in component else None
            if column is not None:
                integer.append(component[index].is_integer())
                columns.append(column)
                values.append(float(value))
        self.columns = np.array(columns, dtype=np.int32)
        self.values = np.array(values, dtype=np.float64)
        self.integer = np.array(integer, dtype=bool)
        self.first = None  # (objective, values at the start's integer columns) of HiGHS's first improving plan
        highs = solver._solver_model
        if len(columns):
            highs.setOptionValue("output_flag", False)  # HiGHS prints each start value outside its new bounds
            highs.setSolution(len(columns), self.columns, self.values)
            highs.cbMipImprovingSolution.subscribe(self._record)

    def _record(self, event) -> None:
        if self.first is None:
            out = event.data_out
            self.first = (out.objective_function_value, np.asarray(out.mip_solution)[self.columns[self.integer]])

    def verdict(self) -> str | None:
        """'used', 'not used', or None when HiGHS reported no improving plan (nothing to compare)."""
        if self.first is None or not self.integer.any():
            return None
        same = np.allclose(self.first[1], self.values[self.integer], rtol=0.0, atol=1e-6)
        return "used" if same else "not used"

    def npv_usd(self) -> float | None:
        return None if self.first is None else self.first[0] * OBJECTIVE_SCALE_USD


def _report(highs: highspy.Highs, progress) -> None:
    """Call `progress(Progress)` from HiGHS's MIP callbacks: on each better plan and at most every
    PROGRESS_EVERY_S otherwise."""
    last = [-PROGRESS_EVERY_S]

    def tell(event, always: bool = False) -> None:
        out = event.data_out
        if not always and out.running_time - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = out.running_time
        npv, bound = out.objective_function_value, out.mip_dual_bound
        finite = lambda v: v is not None and abs(v) < 1e30  # noqa: E731 - HiGHS says +-inf before it knows
        progress(Progress(npv * OBJECTIVE_SCALE_USD if finite(npv) else None,
                          bound * OBJECTIVE_SCALE_USD if finite(bound) else None,
                          out.mip_gap if finite(npv) and finite(out.mip_gap) else None, out.running_time))

    highs.cbMipInterrupt.subscribe(tell)
    highs.cbMipImprovingSolution.subscribe(lambda event: tell(event, always=True))


def _gap(npv: float | None, bound: float | None) -> float | None:
    """|bound - npv| / max(|npv|, 1 USD)."""
    if npv is None or bound is None:
        return None
    return abs(bound - npv) / max(abs(npv), 1.0)


def _lp_relaxation(lp: highspy.HighsLp, time_limit: float | None = None) -> float | None:
    """Objective (USD) of the model with every integer relaxed to continuous (None when it does not finish
    within `time_limit`)."""
    relaxed = highspy.Highs()
    relaxed.setOptionValue("output_flag", False)
    if time_limit is not None:
        relaxed.setOptionValue("time_limit", float(time_limit))
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    relaxed.passModel(lp)
    relaxed.run()
    if relaxed.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return relaxed.getInfo().objective_function_value * OBJECTIVE_SCALE_USD


def _status(termination: TerminationCondition, has_solution: bool) -> str:
    if termination == TerminationCondition.convergenceCriteriaSatisfied:
        return "optimal"
    if termination == TerminationCondition.maxTimeLimit:
        return "time_limit" if has_solution else "time_limit_no_solution"
    if termination in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded):
        return "infeasible"
    return "feasible" if has_solution else "no_solution"
