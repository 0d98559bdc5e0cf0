"""The one pipeline behind every entry point (`solve`, `compare`, `sweep`, `tornado`, Dask workers and the
Python API):

    load sites -> scenario -> ModelData -> build -> solve -> plan tables -> checks

    >>> from optimizer.pipeline import Request, solve
    >>> outcome = solve(Request(scenario="bear", overrides=("cash_floor_usd=3e8",)))
    >>> outcome.plan.kpis["npv_usd"], outcome.violations

`prepare` does everything that can fail on bad input (InputError) before any solve starts. With
`from_plan` and `freeze_until` (`solve --from approved.xlsx --freeze-until 2027Q4`) the plan's build decisions
up to that quarter are kept (rows A1, `keep_approved`) and the whole plan is HiGHS's start.
"""

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyomo.environ as pyo

from kernel.errors import InputError
from kernel.quarters import is_quarter
from models.scenario import Scenario, resolve_scenario, scenario_warnings
from optimizer.checks import check_plan
from optimizer.data import ModelData, build_model_data
from optimizer.formulation.family import Limit
from optimizer.formulation.mining import ths_per_it_mw
from optimizer.plan_inputs import read_decisions, read_inputs, scenario_fix
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
    freeze_until: str | None = None   # with from_plan: keep its build decisions up to this quarter, re-plan the rest
    mip_start: bool = True            # with freeze_until: start HiGHS from the approved plan

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
    approved: "Approved | None" = None  # with --freeze-until: the plan workbook's build decisions

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
    warnings: list[str] = field(default_factory=list)  # approved decisions not kept, a MIP start not used


def read(request: Request) -> Inputs:
    """The site table and scenario of a request (InputError on bad input)."""
    if request.from_plan is not None:
        sites, scenario = read_inputs(request.from_plan, request.overrides)
        return Inputs(sites, scenario, {"plan": str(request.from_plan)}, Path(request.from_plan))
    scenario, sources = resolve_scenario(request.scenario, request.overrides)
    return Inputs(load_sites(request.sites, scenario.horizon), scenario, sources, Path(request.sites))


def prepare(request: Request) -> tuple[Inputs, ModelData]:
    """Inputs and ModelData: every input check, before any work on the model."""
    _check_freeze(request)
    inputs = read(request)
    if request.freeze_until is not None:
        _check_within(request.freeze_until, inputs)
        approved = Approved(str(request.from_plan), request.freeze_until.strip(), read_decisions(request.from_plan))
        inputs = replace(inputs, approved=approved)
    fix = scenario_fix(request.from_plan, plan=True) if request.from_plan else scenario_fix(request.scenario)
    data = build_model_data(inputs.sites, inputs.scenario, source=str(inputs.site_file), fix=fix)
    if inputs.approved is not None and (problems := inputs.approved.problems(data)):
        raise InputError(problems)
    return inputs, data


def _check_freeze(request: Request) -> None:
    """--freeze-until needs --from and a quarter label."""
    q = request.freeze_until
    if q is None:
        return
    if request.from_plan is None:
        raise InputError(f"--freeze-until {q} keeps the build decisions of an approved plan: give that plan workbook "
                         "with --from approved.xlsx.")
    if not is_quarter(q):
        raise InputError(f"--freeze-until '{q}' is not a quarter; allowed: YYYYQn with n in 1-4, e.g. 2027Q4.")


def _check_within(q: str, inputs: Inputs) -> None:
    start, end = inputs.scenario.horizon
    if not start <= q.strip() <= end:
        raise InputError(f"--freeze-until {q} lies outside the horizon {start}-{end} of {inputs.site_file} "
                         "(Assumptions sheet: horizon_start, horizon_end); allowed: a quarter in it.")


def solve(request: Request, prepared: tuple[Inputs, ModelData] | None = None, deadline: float | None = None,
          progress=None, write_model: tuple = ()) -> Outcome:
    """Build, solve, extract the plan tables and check them (prepared inputs are reused when given); HiGHS
    stops by `deadline` (time.monotonic(), build included) and reports to `progress` while it runs; the model
    is written to each `write_model` file (.mps, .lp) first."""
    inputs, data = prepared or prepare(request)
    approved, warnings = inputs.approved, []
    start = approved.decisions(data) if approved is not None and request.mip_start else ()
    options = replace(request.options, deadline=deadline, write_model=tuple(write_model), start=start)

    def edit(m: pyo.ConcreteModel) -> None:
        keep(m, request.fixed)
        if approved is not None:
            warnings.extend(keep_approved(m, data, approved))

    model, info = build_and_solve(data, options, edit, progress)
    outcome = Outcome(request, inputs, data, model, info, warnings=warnings)
    if info.has_solution and info.start == "not used":
        warnings.append(f"{approved.path}: the approved plan breaks a limit of the new inputs after "
                        f"{approved.freeze_until}, so HiGHS could not start from it (it searched without it).")
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


# ------------------------------------------------------------------------------- an approved plan, frozen
@dataclass(frozen=True)
class Approved:
    """An approved plan's build decisions (plan_inputs.read_decisions): kept up to `freeze_until` and, in every
    quarter, HiGHS's starting plan."""
    path: str
    freeze_until: str
    table: pd.DataFrame     # site, quarter, halls_started, site_open, asic_bought_ths

    @property
    def phrase(self) -> str:
        return f"the approved plan up to {self.freeze_until}"

    def decisions(self, d: ModelData) -> tuple:
        """((component, (s, t), value), ...) over the model's sites and quarters: N[s,t] and z[s,t] at AI
        sites; at mining sites the ASIC IT MW a[s,t] = TH/s bought / k_t (k_t = 1e6 / J_t, the frontier J/TH
        of quarter t under the inputs now: the TH/s bought are kept)."""
        out = []
        for r in self.table.itertuples():
            t = d.quarter_index.get(r.quarter)
            if t is None or r.site not in d.sites.index:
                continue
            if r.site in d.ai_sites:
                out += [("halls_started", (r.site, t), int(r.halls_started)),
                        ("site_open", (r.site, t), int(r.site_open))]
            if r.site in d.mining_sites:
                out.append(("asic_bought_it_mw", (r.site, t), float(r.asic_bought_ths) / ths_per_it_mw(d, r.site, t)))
        return tuple(out)

    def frozen(self, d: ModelData) -> tuple:
        """The decisions of quarters t <= the freeze quarter."""
        last = d.quarter_index[self.freeze_until]
        return tuple(x for x in self.decisions(d) if x[1][1] <= last)

    def problems(self, d: ModelData) -> list[str]:
        """A sentence for each frozen decision the model cannot hold at all: a build before the horizon now
        starts, AI at a site that takes none now, ASICs at a site that mines no more or with purchases capped at 0."""
        rows, start = self.table, d.quarters[0]
        built = (rows["halls_started"] > 0) | (rows["site_open"] > 0) | (rows["asic_bought_ths"] > ASIC_TOL_THS)
        early = rows[built & (rows["quarter"] < start)]
        problems = [f"{self.path} (Schedule sheet): the approved plan builds at {r.site} in {r.quarter}, before the "
                    f"horizon now starting {start} (Assumptions sheet: horizon_start); keep the plan's horizon start "
                    "to freeze its decisions." for r in early.head(1).itertuples()]
        frozen = rows[(rows["quarter"] >= start) & (rows["quarter"] <= self.freeze_until)]
        for site, group in frozen.groupby("site", sort=False):
            ai = group[(group["halls_started"] > 0) | (group["site_open"] > 0)]
            if len(ai) and site not in d.ai_sites:
                r = ai.iloc[0]
                problems.append(f"{self.path}: {self.phrase} {_builds(r)} at {site} by {r['quarter']}, but {site} "
                                f"{_gone(d, site, 'ai_eligible')}; allow AI there again or freeze an earlier quarter.")
            asics = group[group["asic_bought_ths"] > ASIC_TOL_THS]
            capped = d.base.asic_purchase_max_ths_per_quarter <= 0
            if len(asics) and (site not in d.mining_sites or capped):
                r = asics.iloc[0]
                why = "asic_purchase_max_ths_per_quarter is 0 now" if site in d.mining_sites else \
                    f"{site} {_gone(d, site, 'mining_allowed')}"
                problems.append(f"{self.path}: {self.phrase} buys {r['asic_bought_ths']:,.0f} TH/s of ASICs at {site} "
                                f"in {r['quarter']}, but {why}; allow them again or freeze an earlier quarter.")
        return problems


ASIC_TOL_THS = 1.0  # TH/s: less is no purchase


def _builds(row) -> str:
    n = int(row["halls_started"])
    return f"starts {n} AI hall{'s' if n != 1 else ''}" if n else "opens the site for AI"


def _gone(d: ModelData, site: str, field: str) -> str:
    return "is not in the Sites sheet now" if site not in d.sites.index else f"has {field} false now (Sites sheet)"


def keep_approved(m: pyo.ConcreteModel, d: ModelData, approved: Approved) -> list[str]:
    """(A1) x[s,t] = x_approved[s,t] for each build decision x in {N, z, a} of the quarters t <= the freeze
    quarter, as rows `approved_plan[x, s, t]` that infeasibility.py names as the planner limit "the approved
    plan up to <quarter>" (m.planner_limits); returns a warning for each frozen ASIC purchase the model has no
    variable for (under the new inputs no quarter of its life would pay a margin)."""
    rows, warnings = {}, []
    for name, (s, t), value in approved.frozen(d):
        if (s, t) in getattr(m, name):
            rows[name, s, t] = value
        elif value * ths_per_it_mw(d, s, t) > ASIC_TOL_THS:
            warnings.append(f"{approved.path}: {approved.phrase} buys {value * ths_per_it_mw(d, s, t):,.0f} TH/s of "
                            f"ASICs at {s} in {d.quarters[t]}, which this plan cannot keep: under the new inputs "
                            "those ASICs would never earn a margin, so the model has no purchase there.")
    m.approved_plan = pyo.Constraint(list(rows), rule=lambda m, name, s, t: getattr(m, name)[s, t] == rows[name, s, t])
    m.planner_limits = (_approved_limit(m, approved.phrase, rows),)
    return warnings


def _approved_limit(m: pyo.ConcreteModel, phrase: str, rows: dict) -> Limit:
    """The planner limit of the rows (A1): a member is named by its decision, a relaxation in its words."""

    def where(d, index) -> str:
        name, s, t = index
        was = rows[index]
        if name == "halls_started":
            over = f", above its max_halls of {d.max_halls[s]} now" if was > d.max_halls[s] else ""
            return f"{was:g} hall{'s' if was != 1 else ''} started at {s} by {d.quarters[t]}{over}"
        if name == "site_open":
            return f"{s} {'open' if was else 'not open'} for AI in {d.quarters[t]}"
        return f"{was * ths_per_it_mw(d, s, t):,.0f} TH/s of ASICs bought at {s} in {d.quarters[t]}"

    def change(d, index, amount) -> str:
        name, s, t = index
        now, was = getattr(m, name)[s, t].value or 0.0, rows[index]
        fewer = "fewer" if now < was else "more"
        again = f"--freeze-until {d.quarters[t - 1]}" if t else "no --freeze-until"
        if name == "halls_started":
            what = f"start {amount:g} hall{'s' if amount != 1 else ''} {fewer} at {s} by {d.quarters[t]} than"
        elif name == "site_open":
            state = "keep {} closed" if now < was else "have {} open"
            what = f"{state.format(s)} for AI in {d.quarters[t]}, unlike"
        else:
            what = f"buy {amount * ths_per_it_mw(d, s, t):,.0f} TH/s {fewer} ASICs at {s} in {d.quarters[t]} than"
        return f"{what} {phrase} ({again} re-plans it)"

    return Limit("approved_plan", phrase, where, change, typical=1.0)
