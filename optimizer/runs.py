"""Many independent solves: one `Case` per solve, run sequentially, in a local process pool or on a Dask
cluster; results are identical whichever way they ran (single-threaded HiGHS, fixed seed).

A case can fix the first year's build decisions (halls started and sites opened in the first four
quarters) taken from another plan, for regret analysis.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from models.scenario import load_scenario
from optimizer.build import build_model
from optimizer.data import build_model_data
from optimizer.results import extract_plan
from optimizer.solve import SolveOptions, solve_model
from sites.load import REFERENCE_PORTFOLIO, load_sites

FIRST_YEAR_QUARTERS = 4


@dataclass(frozen=True)
class Case:
    label: str
    scenario: str = "base"
    overrides: tuple[str, ...] = ()
    sites: str = str(REFERENCE_PORTFOLIO)
    gap: float = 1e-3
    time_limit: float | None = None
    fixed_first_year: tuple = ()  # ((variable, site, t, value), ...)


@dataclass
class CaseResult:
    case: Case
    kpis: dict
    by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    builds: pd.DataFrame = field(default_factory=pd.DataFrame)
    first_year: tuple = ()


def check_case(case: Case) -> None:
    """Raise InputError now, in the planner's process, for a case whose inputs are bad."""
    build_model_data(load_sites(case.sites), load_scenario(case.scenario, case.overrides))


def run_case(case: Case) -> CaseResult:
    """Build and solve one case single-threaded; the first-year decisions are returned for regret runs."""
    data = build_model_data(load_sites(case.sites), load_scenario(case.scenario, case.overrides))
    model = build_model(data)
    for name, site, t, value in case.fixed_first_year:
        getattr(model, name)[site, t].fix(value)
    info = solve_model(model, SolveOptions(gap=case.gap, time_limit=case.time_limit, threads=1))
    if not info.has_solution:
        return CaseResult(case, {"status": info.status, "npv_usd": None})
    plan = extract_plan(model, data, info, marginals=False)
    first_year = tuple((name, s, t, int(round(getattr(model, name)[s, t].value)))
                       for name in ("halls_started", "site_open") for s in data.ai_sites
                       for t in range(min(FIRST_YEAR_QUARTERS, data.n_quarters)))
    return CaseResult(case, plan.kpis, plan.by_year, plan.builds, first_year)


def default_workers() -> int:
    return os.cpu_count() or 1


def run_cases(cases: list[Case], workers: int | None = None, dask_address: str | None = None,
              show_progress: bool = True) -> list[CaseResult]:
    """Run every case; results in the order of `cases`."""
    results: dict[int, CaseResult] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task("solving", total=len(cases))
        if dask_address:
            from dask.distributed import Client, as_completed as dask_completed

            with Client(dask_address) as client:
                futures = {client.submit(run_case, case, pure=False): i for i, case in enumerate(cases)}
                for future in dask_completed(futures):
                    results[futures[future]] = future.result()
                    progress.advance(task)
        elif (workers or default_workers()) <= 1 or len(cases) == 1:
            for i, case in enumerate(cases):
                results[i] = run_case(case)
                progress.advance(task)
        else:
            # spawn, not fork: each worker starts clean (its own stdout and HiGHS thread pool)
            with ProcessPoolExecutor(max_workers=min(workers or default_workers(), len(cases)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = {pool.submit(run_case, case): i for i, case in enumerate(cases)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    progress.advance(task)
    return [results[i] for i in range(len(cases))]
