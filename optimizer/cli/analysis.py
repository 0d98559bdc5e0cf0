"""`hashpivot compare|sweep|tornado`: many solves side by side, in worker processes or on Dask."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from optimizer.cli.common import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, GapOption, Output, SitesOption, bad_input,
                                  check_outputs, err, fail, out)
from sites.reference import REFERENCE_PORTFOLIO

WorkersOption = Annotated[Optional[int], typer.Option(help="Local worker processes (default: the number of cores).", min=1)]
DaskOption = Annotated[Optional[str], typer.Option("--dask", help="Address of a Dask scheduler to run the solves on.")]
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override a scenario value in every run, KEY=VALUE (table entries as KEY.NAME=VALUE).")]
TimeLimitOption = Annotated[Optional[float], typer.Option(help="Solver time limit per run (seconds).", min=0.0)]
ThreadsOption = Annotated[Optional[int], typer.Option(help="Solver threads per run (default 1).", min=1)]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite existing output files.")]


def _request(sites: Path, scenario: str, set_, gap: float, time_limit, threads):
    """The runs' common Request, with absolute paths (the worker processes and a Dask cluster start
    elsewhere; a Dask worker must see the same files)."""
    from optimizer.pipeline import Request
    return Request(sites=str(sites.resolve()), scenario=_absolute(scenario), overrides=tuple(set_ or ()), gap=gap,
                   time_limit=time_limit, threads=threads)


def _absolute(scenario: str) -> str:
    """A scenario TOML path made absolute; a bundled name as it is."""
    return str(Path(scenario).resolve()) if scenario.endswith(".toml") else scenario


def _run(cases: list, workers, dask, on_result=None, interrupted=lambda: "nothing was written."):
    """Check every case's inputs here, then solve them (pool or Dask) and print a summary table; on Ctrl-C
    exit 130 saying what `interrupted()` says was kept."""
    from optimizer.runs import check_cases, run_cases
    try:
        check_cases(cases)
    except InputError as problem:
        bad_input(problem)
    try:
        results = run_cases(cases, workers=workers, dask_address=dask, show_progress=err.is_terminal,
                            on_result=on_result)
    except KeyboardInterrupt:
        fail(f"Interrupted: {interrupted()}", EXIT_INTERRUPTED)
    table = Table(title="runs", show_edge=False)
    for title in ("case", "status", "NPV $M", "AI halls", "first start", "solve s"):
        table.add_column(title, justify="right")
    for r in results:
        k = r.kpis
        table.add_row(r.case.label, k.get("status", ""), f"{k['npv_usd'] / 1e6:,.1f}" if k.get("npv_usd") is not None else "-",
                      str(k.get("ai_halls_built", "-")), str(k.get("first_ai_start_quarter") or "-"),
                      f"{k.get('solve_seconds', 0):.1f}")
    err.print(table)
    for r in results:
        for violation in r.violations:
            err.print(f"check failed ({r.case.label}): {violation}", markup=False, highlight=False, soft_wrap=True)
    return results


def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or TOML files, e.g. base bear bull.")],
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("compare.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    fix_first_year: Annotated[Optional[str], typer.Option(
        "--fix-first-year", help="Fix the first year's builds from this scenario's plan and re-solve the others.")] = None,
    set_: SetOption = None,
    gap: GapOption = 1e-3,
    time_limit: TimeLimitOption = None,
    threads: ThreadsOption = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    force: ForceOption = False,
) -> None:
    """Solve scenarios side by side: KPIs, MW by use by year, and which build decisions differ."""
    from optimizer.runs import Case
    from optimizer.analysis import build_differences, kpi_table, mw_by_year_table, regret_table
    from optimizer.export import write_sheets
    check_outputs([Output("--out", out_path, ".xlsx", "workbook")], force)
    base = _request(sites, "base", set_, gap, time_limit, threads)
    labels = [Path(s).stem if s.endswith(".toml") else s for s in scenarios]
    cases = [Case(label, base.but(scenario=_absolute(scenario))) for label, scenario in zip(labels, scenarios)]
    if fix_first_year and fix_first_year not in scenarios:
        cases.append(Case(fix_first_year, base.but(scenario=_absolute(fix_first_year))))
    results = _run(cases, workers, dask)
    own = results[:len(scenarios)]
    sheets = {"KPIs": [kpi_table(own)], "MWByYear": [mw_by_year_table(own)], "BuildDifferences": [build_differences(own)]}
    if fix_first_year:
        source = next(r for r in results if r.case.label == fix_first_year
                      or r.case.request.scenario == _absolute(fix_first_year))
        fixed = _run([Case(f"{c.label} | first year of {fix_first_year}", c.request.but(fixed=source.first_year))
                      for c in cases[:len(scenarios)]], workers, dask)
        sheets["Regret"] = [regret_table(own, fixed, fix_first_year)]
    write_sheets(out_path, sheets)
    out.print(f"wrote {out_path}")


def sweep(
    vary: Annotated[list[str], typer.Option(help="KEY=LOW:HIGH:N; repeat for a grid.")],
    scenario: Annotated[str, typer.Option(help="Scenario to vary.")] = "base",
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("sweep.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    set_: SetOption = None,
    gap: GapOption = 1e-3,
    time_limit: TimeLimitOption = None,
    threads: ThreadsOption = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    force: ForceOption = False,
    max_runs: Annotated[int, typer.Option(help="Refuse a grid of more runs than this.", min=1)] = 200,
) -> None:
    """A grid of solves over one or more scenario values; the workbook is rewritten as runs finish, so an
    interrupted sweep keeps what finished."""
    from optimizer.runs import Case
    from optimizer.analysis import sweep_points, sweep_table
    from optimizer.export import write_sheets
    check_outputs([Output("--out", out_path, ".xlsx", "workbook")], force)
    try:
        points = sweep_points(vary)
    except InputError as problem:
        bad_input(problem)
    if len(points) > max_runs:
        fail(f"--vary: the grid has {len(points):,} runs, more than --max-runs {max_runs}; pass --max-runs "
             f"{len(points)} to run them all.", EXIT_BAD_INPUT)
    base = _request(sites, scenario, set_, gap, time_limit, threads)
    cases = [Case(", ".join(p), base.but(overrides=base.overrides + p)) for p in points]
    finished: dict = {}

    def save(results: dict) -> None:
        write_sheets(out_path, {"Sweep": [sweep_table(points, results)]})
        finished.update(results)

    results = _run(cases, workers, dask, on_result=save, interrupted=lambda: (
        f"{len(finished)} of {len(points)} runs had finished; they are in {out_path}." if finished
        else "no run had finished; nothing was written."))
    save(dict(enumerate(results)))
    out.print(f"wrote {out_path} ({len(results)} points)")


def tornado(
    keys: Annotated[Optional[str], typer.Option(help="Comma-separated scenario keys (default: the key drivers).")] = None,
    pct: Annotated[float, typer.Option(help="Low/high as -/+ this percent of each value.", min=0.0, max=100.0)] = 20.0,
    scenario: Annotated[str, typer.Option(help="Scenario around which to vary.")] = "base",
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write; the chart goes beside it as .png.")] = Path("tornado.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    set_: SetOption = None,
    gap: GapOption = 1e-3,
    time_limit: TimeLimitOption = None,
    threads: ThreadsOption = None,
    workers: WorkersOption = None,
    dask: DaskOption = None,
    force: ForceOption = False,
) -> None:
    """One-at-a-time low/high of the key drivers: the NPV swing of each, as a sheet and a chart."""
    from optimizer.runs import Case
    from kernel.atomic import atomic_path
    from models.scenario import load_scenario
    from optimizer.analysis import TORNADO_KEYS, tornado_overrides, tornado_png, tornado_table
    from optimizer.export import write_sheets
    png = out_path.with_suffix(".png")
    check_outputs([Output("--out", out_path, ".xlsx", "workbook"), Output("--out (chart)", png)], force)
    names = [k.strip() for k in keys.split(",")] if keys else list(TORNADO_KEYS)
    base = _request(sites, scenario, set_, gap, time_limit, threads)
    try:
        sides = tornado_overrides(load_scenario(scenario, base.overrides), names, pct)
    except InputError as problem:
        bad_input(problem)
    cases = [Case("base", base)] + [Case(f"{key} {side}", base.but(overrides=base.overrides + (f"{key}={value:.10g}",)))
                                    for key, side, value in sides]
    results = _run(cases, workers, dask)
    by_side = {(key, side): (value, r) for (key, side, value), r in zip(sides, results[1:])}
    table = tornado_table(results[0].kpis.get("npv_usd"), names, by_side)
    with atomic_path(png) as temp:
        tornado_png(table, temp, f"NPV swing, key drivers at -/+{pct:g}% ({scenario})", pct)
        png_bytes = Path(temp).read_bytes()
    write_sheets(out_path, {"Tornado": [table]}, images={"Tornado": png})
    out.print(f"wrote {out_path} and {png} ({len(png_bytes):,} bytes)")
