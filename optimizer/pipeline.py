"""The one pipeline behind every entry point (`solve`, `compare`, `sweep`, `tornado`, Dask workers and the
Python API):

    load sites -> scenario -> ModelData -> build -> solve -> plan tables -> checks

    >>> from optimizer.pipeline import Request, solve
    >>> outcome = solve(Request(scenario="bear", overrides=("cash_floor_usd=3e8",)))
    >>> outcome.plan.kpis["npv_usd"], outcome.violations

`prepare` does everything that can fail on bad input (InputError) before any solve starts.
"""

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo

from models.scenario import Scenario, resolve_scenario, scenario_warnings
from optimizer.checks import check_plan
from optimizer.data import ModelData, build_model_data
from optimizer.plan_inputs import read_inputs, scenario_fix
from optimizer.results import Plan, extract_plan
from optimizer.solve import SolveInfo, SolveOptions, build_and_solve
from sites.load import load_sites, site_warnings
from sites.reference import REFERENCE_PORTFOLIO

FIRST_YEAR_QUARTERS = 4


@dataclass(frozen=True)
class Request:
    """What to solve and how; plain values, so that it pickles to a worker process or a Dask cluster."""
    sites: str = str(REFERENCE_PORTFOLIO)
    scenario: str = "base"
    overrides: tuple[str, ...] = ()
    from_plan: str | None = None      # a plan workbook whose Sites and Assumptions sheets are the inputs
    gap: float = 1e-3
    time_limit: float | None = None
    threads: int | None = None
    marginals: bool = True
    fixed: tuple = ()                 # ((component, index, value), ...): build decisions to keep (first_year)

    @property
    def options(self) -> SolveOptions:
        return SolveOptions(gap=self.gap, time_limit=self.time_limit, threads=self.threads)

    def but(self, **changes) -> "Request":
        return replace(self, **changes)


@dataclass(frozen=True)
class Inputs:
    sites: pd.DataFrame
    scenario: Scenario
    sources: dict          # scenario key -> the file or `--set` it came from ({"plan": path} with --from)
    site_file: Path        # the file the sites came from (the plan workbook with --from)

    @property
    def warnings(self) -> list[str]:
        """Values inside the allowed ranges but past plausible ones (printed, not errors)."""
        return [f"{self.site_file}: {w}" for w in site_warnings(self.sites)] + scenario_warnings(self.scenario)


@dataclass
class Outcome:
    request: Request
    inputs: Inputs
    data: ModelData
    model: pyo.ConcreteModel
    info: SolveInfo
    plan: Plan | None = None                     # None when no plan was found
    violations: list[str] = field(default_factory=list)


def read(request: Request) -> Inputs:
    """The site table and scenario of a request (InputError on bad input)."""
    if request.from_plan is not None:
        sites, scenario = read_inputs(request.from_plan, request.overrides)
        return Inputs(sites, scenario, {"plan": str(request.from_plan)}, Path(request.from_plan))
    scenario, sources = resolve_scenario(request.scenario, request.overrides)
    return Inputs(load_sites(request.sites, scenario.horizon), scenario, sources, Path(request.sites))


def prepare(request: Request) -> tuple[Inputs, ModelData]:
    """Inputs and ModelData: every input check, before any work on the model."""
    inputs = read(request)
    fix = scenario_fix(request.from_plan, plan=True) if request.from_plan else scenario_fix(request.scenario)
    return inputs, build_model_data(inputs.sites, inputs.scenario, source=str(inputs.site_file), fix=fix)


def solve(request: Request, prepared: tuple[Inputs, ModelData] | None = None, deadline: float | None = None,
          progress=None, write_model: tuple = ()) -> Outcome:
    """Build, solve, extract the plan tables and check them (prepared inputs are reused when given); HiGHS
    stops by `deadline` (time.monotonic(), build included) and reports to `progress` while it runs; the model
    is written to each `write_model` file (.mps, .lp) first."""
    inputs, data = prepared or prepare(request)
    options = replace(request.options, deadline=deadline, write_model=tuple(write_model))
    model, info = build_and_solve(data, options, lambda m: keep(m, request.fixed), progress)
    outcome = Outcome(request, inputs, data, model, info)
    if info.has_solution:  # the marginals' LP re-solve only while the deadline leaves time for it
        marginals = request.marginals and (deadline is None or time.monotonic() < deadline)
        outcome.plan = extract_plan(model, data, info, marginals=marginals)
        outcome.violations = check_plan(outcome.plan)
        outcome.plan.kpis["check_violations"] = len(outcome.violations)
    return outcome


def keep(m: pyo.ConcreteModel, decisions: tuple) -> None:
    """Fix build decisions taken from another plan: halls started by t, whether the site is open, the ASIC IT MW
    bought (a purchase this model has no variable for, as no margin of its scenarios pays, stays at 0)."""
    for name, index, value in decisions:
        component = getattr(m, name)
        if index in component:
            component[index].fix(value)


def first_year(outcome: Outcome, quarters: int = FIRST_YEAR_QUARTERS) -> tuple:
    """The build decisions of the first `quarters` quarters of a solved plan, for `keep`: halls started by t
    and site open (integers), and the ASIC IT MW bought in t."""
    m, d = outcome.model, outcome.data
    first = range(min(quarters, d.n_quarters))
    builds = tuple((name, (s, t), int(round(getattr(m, name)[s, t].value)))
                   for s in d.ai_sites for t in first for name in ("halls_started", "site_open"))
    return builds + tuple(("asic_bought_it_mw", (s, v), float(m.asic_bought_it_mw[s, v].value or 0.0))
                          for (s, v) in m.ASIC_SV if v in first)
