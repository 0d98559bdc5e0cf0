"""Many independent solves: one `Case` (a label and a pipeline Request) per solve, run sequentially, in a
local process pool or on a Dask cluster; results are identical whichever way they ran (single-threaded
HiGHS, fixed seed). A case can keep another plan's first-year build decisions, for regret analysis.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from optimizer import pipeline


@dataclass(frozen=True)
class Case:
    label: str
    request: pipeline.Request


@dataclass
class CaseResult:
    case: Case
    kpis: dict
    by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    builds: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_year: tuple = ()
    violations: list = field(default_factory=list)


def check_cases(cases: list[Case]) -> None:
    """Raise InputError now, in the planner's process, for any case whose inputs are bad (each distinct
    input once)."""
    for request in {(c.request.sites, c.request.scenario, c.request.overrides): c.request for c in cases}.values():
        pipeline.prepare(request)


def run_case(case: Case) -> CaseResult:
    """Solve one case (single-threaded unless the request says otherwise), without the marginals re-solve."""
    outcome = pipeline.solve(case.request.but(threads=case.request.threads or 1, marginals=False))
    if outcome.plan is None:
        return CaseResult(case, {"status": outcome.info.status, "npv_usd": None})
    plan = outcome.plan
    return CaseResult(case, plan.kpis, plan.by_year, plan.builds, pipeline.first_year(outcome), outcome.violations)


def default_workers() -> int:
    return os.cpu_count() or 1


def run_cases(cases: list[Case], workers: int | None = None, dask_address: str | None = None,
              show_progress: bool = True, on_result=None) -> list[CaseResult]:
    """Run every case; results in the order of `cases`; `on_result(results so far)` after each one."""
    results: dict[int, CaseResult] = {}

    def finish(i: int, result: CaseResult) -> None:
        results[i] = result
        progress.advance(task)
        if on_result is not None:
            on_result(dict(results))

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task("solving", total=len(cases))
        if dask_address:
            from dask.distributed import Client, as_completed as dask_completed

            with Client(dask_address) as client:
                futures = {client.submit(run_case, case, pure=False): i for i, case in enumerate(cases)}
                for future in dask_completed(futures):
                    finish(futures[future], future.result())
        elif (workers or default_workers()) <= 1 or len(cases) == 1:
            for i, case in enumerate(cases):
                finish(i, run_case(case))
        else:
            # spawn, not fork: each worker starts clean (its own stdout and HiGHS thread pool)
            with ProcessPoolExecutor(max_workers=min(workers or default_workers(), len(cases)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(run_case, case): i for i, case in enumerate(cases)}
                for future in as_completed(futures):
                    finish(futures[future], future.result())
    return [results[i] for i in range(len(cases))]
