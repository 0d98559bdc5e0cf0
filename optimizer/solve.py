"""Solve the MILP with HiGHS (the model passed as one matrix, optimizer/matrix.py), and measure what a planner should see.

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

from kernel.atomic import atomic_path
from optimizer.data import ModelData
from optimizer.build import build_model
from optimizer.formulation.objective import OBJECTIVE_SCALE_USD
from optimizer.matrix import HighsModel, new_highs, to_highs


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
DEADLINE_RESERVE, DEADLINE_RESERVE_S = 0.05, 0.5  # of HiGHS's share of a deadline: 1.9 s overshoot seen at 300 sites


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
    translate_seconds: float = 0.0      # the model compiled and passed to HiGHS (optimizer/matrix.py)

    def as_dict(self) -> dict:
        return asdict(self)


def build_and_solve(data: ModelData, options: SolveOptions = SolveOptions(), edit=None, progress=None):
    """Build the Pyomo model (then `edit(model)`, e.g. to fix decisions) and solve it; returns
    (model, SolveInfo). Solution values are loaded. With `options.deadline`, HiGHS gets what is left of it
    after the build; `progress(Progress)` is called while HiGHS runs (every PROGRESS_EVERY_S at most)."""
    started = time.perf_counter()
    model = build_model(data, deadline=options.deadline)
    if edit is not None and not model.incomplete:
        edit(model)
    build_seconds = time.perf_counter() - started
    info = solve_model(model, options, build_seconds, progress)
    return model, info


def solve_model(model: pyo.ConcreteModel, options: SolveOptions, build_seconds: float = 0.0,
                progress=None) -> SolveInfo:
    """Translate the model to HiGHS (optimizer/matrix.py) and solve it; with `options.deadline`, HiGHS gets
    what is left of it after the translation (none left, or a build the deadline cut short: no solve, status
    time_limit_no_solution)."""
    if getattr(model, "incomplete", False) or (options.deadline is not None and time.monotonic() > options.deadline):
        return SolveInfo("time_limit_no_solution", "kTimeLimit", False, None, None, None, None, None, build_seconds,
                         0.0, 0, 0, 0, 0, f"HiGHS {new_highs().version()}", options.threads, options.gap,
                         options.time_limit)
    with SOLVE_LOCK:
        highspy.Highs.resetGlobalScheduler(True)  # let the thread count change between solves
        started = time.perf_counter()
        highs = new_highs()
        hm = to_highs(model, highs)
        translate_seconds = time.perf_counter() - started
        if progress is not None:
            _report(highs, progress)
        start = MipStart(hm, options.start) if options.start else None
        for path in options.write_model:
            with atomic_path(path) as temp:  # the temp name keeps the suffix, from which HiGHS takes the format
                highs.writeModel(str(temp))
        limit = options.time_limit
        if options.deadline is not None:  # HiGHS checks its clock between steps: keep a reserve for its overshoot
            limit = (options.deadline - time.monotonic()) * (1 - DEADLINE_RESERVE) - DEADLINE_RESERVE_S
        for name, value in (("mip_rel_gap", options.gap), ("random_seed", options.seed)) + (
                (("threads", options.threads),) if options.threads else ()) + (
                (("time_limit", max(0.0, limit)),) if limit is not None else ()):
            highs.setOptionValue(name, value)
        started = time.perf_counter()
        if limit is None or limit > 0:
            highs.run()
        solve_seconds = time.perf_counter() - started
    status, info = highs.getModelStatus(), highs.getInfo()
    has_solution = (limit is None or limit > 0) and info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if has_solution:
        hm.load(highs.getSolution().col_value)
    lp = highs.getLp()
    integers = sum(1 for v in lp.integrality_ if v != highspy.HighsVarType.kContinuous)
    npv = info.objective_function_value * OBJECTIVE_SCALE_USD if has_solution else None
    bound = (info.mip_dual_bound if integers else info.objective_function_value) * OBJECTIVE_SCALE_USD \
        if has_solution or (integers and abs(info.mip_dual_bound) < highspy.kHighsInf) else None
    mip_gap = _gap(npv, bound) if integers else (0.0 if has_solution else None)
    left = None if options.deadline is None else options.deadline - time.monotonic()
    lp_npv = _lp_relaxation(lp, left) if has_solution and (left is None or left > 0) else None
    return SolveInfo(
        status=_status(status, has_solution), termination=status.name, has_solution=has_solution,
        npv_usd=npv, bound_usd=bound, mip_gap=mip_gap,
        lp_relaxation_npv_usd=lp_npv, lp_relaxation_gap=_gap(npv, lp_npv),
        build_seconds=build_seconds, solve_seconds=solve_seconds,
        rows=lp.num_row_, columns=lp.num_col_, nonzeros=len(lp.a_matrix_.value_), integer_columns=integers,
        solver=f"HiGHS {highs.version()}", threads=options.threads,
        gap_target=options.gap, time_limit=options.time_limit,
        start=start.verdict() if start else None,
        start_npv_usd=start.npv_usd() if start and start.verdict() == "used" else None,
        translate_seconds=translate_seconds,
    )


class MipStart:
    """A MIP start handed to HiGHS (setSolution with the values of some columns, before the run) and whether
    HiGHS began from it. HiGHS completes a partial start by fixing its integer values and solving the LP of
    the rest (its continuous values are not used), and drops a start that is infeasible; so the start was used
    when HiGHS's first improving plan carries the start's integer values."""

    def __init__(self, hm: HighsModel, entries: tuple):
        columns, values, integer = [], [], []
        model = hm.columns[0].model() if hm.columns else None
        for name, index, value in entries:
            component = model.component(name) if model is not None else None
            column = hm.column(component[index]) if component is not None and index in component else None
            if column is not None:
                integer.append(component[index].is_integer())
                columns.append(column)
                values.append(float(value))
        self.columns = np.array(columns, dtype=np.int32)
        self.values = np.array(values, dtype=np.float64)
        self.integer = np.array(integer, dtype=bool)
        self.first = None  # (objective, values at the start's integer columns) of HiGHS's first improving plan
        highs = hm.highs
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
    relaxed = new_highs()
    if time_limit is not None:
        relaxed.setOptionValue("time_limit", float(time_limit))
    lp.integrality_ = [highspy.HighsVarType.kContinuous] * lp.num_col_
    relaxed.passModel(lp)
    relaxed.run()
    if relaxed.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return relaxed.getInfo().objective_function_value * OBJECTIVE_SCALE_USD


def _status(status: highspy.HighsModelStatus, has_solution: bool) -> str:
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        return "optimal"
    if status in (S.kTimeLimit, S.kNotset):  # kNotset: the deadline passed before HiGHS could start
        return "time_limit" if has_solution else "time_limit_no_solution"
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return "infeasible"
    return "feasible" if has_solution else "no_solution"
