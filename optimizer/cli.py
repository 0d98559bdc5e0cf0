"""The `hashpivot` command line.

Exit codes: 0 plan written; 2 bad input (one sentence naming file, row and field); 3 infeasible plan;
4 time limit reached before any plan was found; 1 any other solver failure; 130 interrupted (Ctrl-C).
"""

import json
import os
import sys
import threading
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from models.scenario import list_scenarios, load_scenario, resolve_scenario
from optimizer.data import build_model_data
from optimizer.checks import check_plan
from optimizer.export import json_ready, kpi_json, write_json, write_tables
from optimizer.workbook import read_inputs, write_workbook
from optimizer.gis import draw_map, plan_mw_by_site, write_gpkg
from optimizer.infeasibility import explain_infeasible
from optimizer.manifest import build_manifest, now
from optimizer.results import extract_plan
from optimizer.solve import SolveOptions, build_and_solve
from sites.errors import InputError
from sites.convert import write_sites
from sites.ledger import peak_mw, site_steps
from sites.load import REFERENCE_PORTFOLIO, load_sites

EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_SOLVER, EXIT_INTERRUPTED = 2, 3, 4, 1, 130

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Plan how much secured power runs Bitcoin miners and how much becomes leased AI/HPC halls.")
err = Console(stderr=True)
out = Console()


@app.callback()
def main() -> None:
    """hashpivot: BTC mining vs AI/HPC hosting, site by site and quarter by quarter (Pyomo + HiGHS)."""


def fail(message: str, code: int) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def require_suffix(path: Optional[Path], suffix: str, flag: str, kind: str) -> None:
    """Exit 2 unless `path` (when given) ends in `suffix`."""
    if path is not None and path.suffix.lower() != suffix:
        fail(f"{flag} {path}: the {kind} name must end in {suffix}.", EXIT_BAD_INPUT)


def refuse_overwrite(path: Optional[Path], force: bool, label: str) -> None:
    """Exit 2 when `path` exists and --force was not given."""
    if path is not None and path.exists() and not force:
        fail(f"{label}: the file exists; pass --force to overwrite it.", EXIT_BAD_INPUT)


@app.command()
def solve(
    sites: Annotated[Path, typer.Option(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage).")] = REFERENCE_PORTFOLIO,
    scenario: Annotated[str, typer.Option(help="Scenario: a bundled name (see `scenarios list`) or a TOML file.")] = "base",
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Override a scenario value, KEY=VALUE (table entries as KEY.NAME=VALUE).")] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("plan.xlsx"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing workbook.")] = False,
    gap: Annotated[float, typer.Option(help="Relative MIP gap to stop at.", min=0.0)] = 1e-3,
    time_limit: Annotated[Optional[float], typer.Option(help="Solver time limit (seconds).", min=0.0)] = None,
    threads: Annotated[Optional[int], typer.Option(help="Solver threads.", min=1)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the KPIs as one JSON object on stdout.")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json-out", help="Also write the KPIs to this JSON file.")] = None,
    manifest_out: Annotated[Optional[Path], typer.Option("--manifest", help="Also write the run record (JSON).")] = None,
    gpkg_out: Annotated[Optional[Path], typer.Option("--gpkg", help="Also write site results with geometry (GeoPackage).")] = None,
    from_plan: Annotated[Optional[Path], typer.Option("--from", help="Re-solve from a plan workbook's Sites and Assumptions sheets (as edited); --set still applies.")] = None,
    csv_dir: Annotated[Optional[Path], typer.Option("--csv", help="Also write every table as CSV into this folder.")] = None,
    parquet_dir: Annotated[Optional[Path], typer.Option("--parquet", help="Also write every table as Parquet into this folder.")] = None,
) -> None:
    """Solve a portfolio and write the optimal quarterly build schedule to a workbook."""
    started = now()
    overrides = tuple(set_ or ())
    try:
        require_suffix(out_path, ".xlsx", "--out", "workbook")
        if from_plan is not None:
            site_table, scenario_values = read_inputs(from_plan, overrides)
            sites, sources = from_plan, {"plan": str(from_plan)}
        else:
            scenario_values, sources = resolve_scenario(scenario, overrides)
            site_table = load_sites(sites, scenario_values.horizon)
        data = build_model_data(site_table, scenario_values)
        require_suffix(gpkg_out, ".gpkg", "--gpkg", "GeoPackage")
        for path in (out_path, json_out, manifest_out, gpkg_out, csv_dir, parquet_dir):
            refuse_overwrite(path, force, f"--out {path}")
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        fail("Interrupted: nothing was written.", EXIT_INTERRUPTED)
    options = SolveOptions(gap=gap, time_limit=time_limit, threads=threads)
    try:
        model, info = interruptible(build_and_solve, data, options)
        if info.status == "infeasible":
            fail(explain_infeasible(model, data), EXIT_INFEASIBLE)
        if not info.has_solution:
            fail(f"No plan was found ({info.status}) within the time limit of {time_limit} s; nothing was "
                 "written. Raise --time-limit or --gap.", EXIT_NO_SOLUTION if "time" in info.status else EXIT_SOLVER)
        plan = extract_plan(model, data, info)
        violations = check_plan(plan)
        plan.kpis["check_violations"] = len(violations)
        manifest = build_manifest(sites, sources, overrides, scenario_values.describe(), options, info, started)
        write_workbook(plan, out_path, manifest)
        if json_out:
            write_json(kpi_json(plan), json_out)
        if manifest_out:
            write_json(json.dumps(json_ready(manifest), indent=1), manifest_out)
        if gpkg_out:
            write_gpkg(plan, gpkg_out)
        for folder, kind in ((csv_dir, "csv"), (parquet_dir, "parquet")):
            if folder is not None:
                write_tables(plan, folder, kind, force)
    except KeyboardInterrupt:
        fail("Interrupted: nothing was written.", EXIT_INTERRUPTED)
    for violation in violations:
        err.print(f"check failed: {violation}", markup=False, highlight=False)
    if info.status != "optimal":
        err.print(f"[bold red]Time limit reached: this plan is the best found, not proven optimal (MIP gap "
                  f"{info.mip_gap:.3%}, bound ${info.bound_usd / 1e6:,.1f}M).[/]")
    if json_:
        sys.stdout.write(kpi_json(plan) + "\n")
        return
    print_summary(plan, out_path)


def interruptible(function, *args):
    """Run `function` in a worker thread so that Ctrl-C reaches this (main) thread while HiGHS's C++ loop
    runs; on Ctrl-C the process ends at once with exit 130 (nothing has been written yet)."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = function(*args)
        except BaseException as problem:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = problem

    terminal = os.dup(2)  # the solver redirects fd 2 while HiGHS runs (pyomo's capture_fd); keep the real one
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        os.write(terminal, b"Interrupted: nothing was written.\n")
        os._exit(EXIT_INTERRUPTED)
    finally:
        os.close(terminal)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def print_summary(plan, out_path: Path) -> None:
    k = plan.kpis
    flag = "" if k["status"] == "optimal" else "  [bold red](NOT PROVEN OPTIMAL: time limit)[/]"
    out.print(f"[bold]hashpivot[/] {k['sites']} sites, {k['horizon']}: status [bold]{k['status']}[/]{flag}")
    out.print(f"NPV ${k['npv_usd'] / 1e6:,.1f}M   MIP gap {k['mip_gap']:.3%}   LP-relaxation gap "
              f"{(k['lp_relaxation_gap'] or 0):.3%}   build {k['build_seconds']:.2f} s   solve "
              f"{k['solve_seconds']:.2f} s   ({k['rows']} rows x {k['columns']} cols, {k['nonzeros']} nnz)")
    out.print(f"AI halls {k['ai_halls_built']} ({k['ai_it_mw_built']:.0f} IT MW, first start "
              f"{k['first_ai_start_quarter']}); mining {k['mining_it_mw_start']:.0f} IT MW at the start")
    out.print(f"cash low ${k['min_cash_balance_usd'] / 1e6:,.0f}M; peak project debt "
              f"${k['peak_project_debt_usd'] / 1e6:,.0f}M; peak revolver ${k['peak_revolver_usd'] / 1e6:,.0f}M; "
              f"taxes ${k['taxes_usd'] / 1e6:,.0f}M; emissions {k['market_tco2'] / 1e6:,.2f} MtCO2 (market-based)")
    table = Table(title="MW by use by year", show_edge=False)
    for column, title in (("year", "year"), ("mining_it_mw_avg", "mining IT MW (avg)"),
                          ("ai_it_mw_under_construction_end", "AI IT MW building"),
                          ("ai_it_mw_online_end", "AI IT MW online"), ("ai_it_mw_leased_end", "AI IT MW leased"),
                          ("idle_grid_mw_avg", "idle grid MW (avg)")):
        table.add_column(title, justify="right")
    for row in plan.by_year.itertuples(index=False):
        table.add_row(str(row.year), f"{row.mining_it_mw_avg:,.0f}", f"{row.ai_it_mw_under_construction_end:,.0f}",
                      f"{row.ai_it_mw_online_end:,.0f}", f"{row.ai_it_mw_leased_end:,.0f}",
                      f"{row.idle_grid_mw_avg:,.0f}")
    out.print(table)
    out.print(f"wrote {out_path}")


@app.command()
def diff(plan_a: Annotated[Path, typer.Argument(help="First plan workbook.")],
         plan_b: Annotated[Path, typer.Argument(help="Second plan workbook.")]) -> None:
    """What changed between two plans: NPV, MW by use by site and year, AI builds added, removed or moved."""
    from optimizer.diff import diff_plans
    try:
        result = diff_plans(plan_a, plan_b)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    for row in result.npv.itertuples(index=False):
        out.print(f"NPV ({row.scenario}): ${row.npv_a_usd / 1e6:,.1f}M -> ${row.npv_b_usd / 1e6:,.1f}M "
                  f"({row.change_usd / 1e6:+,.1f}M)")
    builds = Table(title="AI halls added, removed or moved", show_edge=False)
    for title in ("hall", "change", plan_a.name, plan_b.name):
        builds.add_column(title)
    for row in result.builds.itertuples(index=False):
        builds.add_row(row.hall, row.change, *("-" if pd.isna(v) else str(v) for v in (row.start_a, row.start_b)))
    out.print(builds if len(result.builds) else "AI halls: no change")
    mw = Table(title="MW by use by site and year (changes only)", show_edge=False)
    for title in ("site", "year", "use", plan_a.name, plan_b.name, "change"):
        mw.add_column(title, justify="right")
    for row in result.mw.itertuples(index=False):
        mw.add_row(row.site, str(row.year), row.use, f"{row.a_mw:,.1f}", f"{row.b_mw:,.1f}", f"{row.change_mw:+,.1f}")
    out.print(mw if len(result.mw) else "MW by use: no change")


scenarios_app = typer.Typer(help="Bundled named scenarios.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
def scenarios_list() -> None:
    """The bundled scenarios, what each extends and what it changes."""
    table = Table(show_edge=False)
    for title in ("name", "extends", "description"):
        table.add_column(title)
    for name, extends, description in list_scenarios():
        table.add_row(name, extends, description)
    out.print(table)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Bundled name or TOML file.")],
                   set_: Annotated[Optional[list[str]], typer.Option("--set", help="KEY=VALUE override.")] = None) -> None:
    """Every resolved value of a scenario, with its unit and the file it came from."""
    try:
        scenario, sources = resolve_scenario(name, tuple(set_ or ()))
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    table = Table(show_edge=False)
    for title in ("key", "value", "unit", "from"):
        table.add_column(title)
    for row in scenario.describe():
        key = row["key"].partition(".")[0]
        table.add_row(row["key"], f"{row['value']:,.6g}" if isinstance(row["value"], float) else str(row["value"]),
                      row["unit"], Path(sources.get(key, "")).name if not sources.get(key, "").startswith("--set")
                      else sources[key])
    out.print(table)


sites_app = typer.Typer(help="Site portfolios: validate, show, map and convert (CSV, XLSX, GeoJSON, GeoPackage).",
                        no_args_is_help=True)
app.add_typer(sites_app, name="sites")
SiteFile = Annotated[Path, typer.Argument(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage).")]
HorizonOption = Annotated[str, typer.Option("--scenario", help="Scenario whose horizon the quarters must fit.")]


def _load_sites(path: Path, scenario: str = "base"):
    try:
        return load_sites(path, load_scenario(scenario).horizon)
    except InputError as problem:
        fail("\n".join(problem.problems) if len(problem.problems) > 1 else str(problem), EXIT_BAD_INPUT)


@sites_app.command("validate")
def sites_validate(path: SiteFile, scenario: HorizonOption = "base") -> None:
    """Check every row and field; list every problem (exit 2) or summarise the valid portfolio."""
    table = _load_sites(path, scenario)
    steps = [site_steps(row.to_dict()) for _, row in table.iterrows()]
    firm, total = sum(peak_mw(s, "firm") for s in steps), sum(peak_mw(s) for s in steps)
    out.print(f"{path}: valid: {len(table)} sites, {total:,.0f} MW secured at peak ({firm:,.0f} MW firm), "
              f"{int(table['ai_eligible'].sum())} AI-eligible, eGRID subregions "
              f"{', '.join(sorted(table['egrid_subregion'].unique()))}.", highlight=False)


@sites_app.command("show")
def sites_show(path: SiteFile, scenario: HorizonOption = "base") -> None:
    """The validated portfolio as a table, with the located state, eGRID subregion and CO2 rate."""
    table = _load_sites(path, scenario)
    view = Table(show_edge=False, title=f"{path} ({len(table)} sites)")
    for title in ("site", "state", "eGRID", "tCO2/MWh", "MW", "from", "class", "later steps", "use",
                  "halls x IT MW", "market"):
        view.add_column(title, justify="right" if title in ("tCO2/MWh", "MW", "halls x IT MW") else "left")
    for name, row in table.iterrows():
        located = row["egrid_subregion_located"]
        subregion = row["egrid_subregion"] + (f" (in {located})" if located and located != row["egrid_subregion"] else "")
        use = "AI + mining" if row["ai_eligible"] and row["mining_allowed"] else "AI" if row["ai_eligible"] else "mining"
        view.add_row(name, row["state"], subregion, f"{row['grid_tco2_per_mwh']:.3f}", f"{row['secured_mw']:,.0f}",
                     row["energised_quarter"], row["power_class"], row["power_steps"] or "-", use,
                     f"{row['max_halls']} x {row['hall_it_mw']:g}" if row["ai_eligible"] else "-", row["market"])
    out.print(view)


@sites_app.command("map")
def sites_map(path: SiteFile,
              out_path: Annotated[Path, typer.Option("--out", help="PNG to write.")] = Path("map.png"),
              plan: Annotated[Optional[Path], typer.Option(help="Plan workbook: colour sites by AI vs mining MW.")] = None,
              year: Annotated[Optional[int], typer.Option(help="Plan year to colour by (default: the last).")] = None,
              force: Annotated[bool, typer.Option("--force", help="Overwrite an existing PNG.")] = False,
              scenario: HorizonOption = "base") -> None:
    """A PNG map: states, eGRID subregions shaded by CO2 rate, sites sized by MW (coloured by a plan)."""
    table = _load_sites(path, scenario)
    require_suffix(out_path, ".png", "--out", "map")
    refuse_overwrite(out_path, force, f"--out {out_path}")
    used, title = None, ""
    if plan is not None:
        try:
            used, year = plan_mw_by_site(plan, year)
        except (OSError, ValueError, KeyError) as problem:
            reason = str(problem)
            fail(f"--plan {plan}: {reason}." if "not in the plan" in reason else
                 f"--plan {plan}: cannot read its Schedule sheet ({reason}).", EXIT_BAD_INPUT)
        missing = sorted(set(table.index) - set(used.index))
        if missing:
            fail(f"--plan {plan}: sites {', '.join(missing)} of {path} are not in the plan; allowed: the plan "
                 f"made from this portfolio.", EXIT_BAD_INPUT)
        title = (f"{plan.name}, {year}: grid MW to AI {used['ai_grid_mw_reserved'].sum():,.0f}, to mining "
                 f"{used['mining_grid_mw'].sum():,.0f} (marker area ~ secured MW)")
    draw_map(table, out_path, used, title)
    out.print(f"wrote {out_path}")


@sites_app.command("convert")
def sites_convert(path: SiteFile,
                  target: Annotated[Path, typer.Argument(help="File to write; its suffix sets the format.")],
                  force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Validate a portfolio and write it in another format (CSV, XLSX, GeoJSON, GeoPackage)."""
    table = _load_sites(path)
    refuse_overwrite(target, force, str(target))
    try:
        write_sites(table, target)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    out.print(f"wrote {target} ({len(table)} sites)")


def _run(cases, workers, dask):
    """Check every case's inputs here, then solve them (pool or Dask) and print a summary table."""
    from optimizer.runs import check_case, run_cases
    try:
        for case in {(c.scenario, c.overrides, c.sites): c for c in cases}.values():
            check_case(case)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    results = run_cases(cases, workers=workers, dask_address=dask, show_progress=err.is_terminal)
    table = Table(title="runs", show_edge=False)
    for title in ("case", "status", "NPV $M", "AI halls", "first start", "solve s"):
        table.add_column(title, justify="right")
    for r in results:
        k = r.kpis
        table.add_row(r.case.label, k.get("status", ""), f"{k['npv_usd'] / 1e6:,.1f}" if k.get("npv_usd") is not None else "-",
                      str(k.get("ai_halls_built", "-")), str(k.get("first_ai_start_quarter") or "-"),
                      f"{k.get('solve_seconds', 0):.1f}")
    err.print(table)
    return results


WorkersOption = Annotated[Optional[int], typer.Option(help="Local worker processes (default: the number of cores).", min=1)]
DaskOption = Annotated[Optional[str], typer.Option("--dask", help="Address of a Dask scheduler to run the solves on.")]
SitesOption = Annotated[Path, typer.Option(help="Site portfolio file.")]


@app.command()
def compare(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario names or TOML files, e.g. base bear bull.")],
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("compare.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    fix_first_year: Annotated[Optional[str], typer.Option(
        "--fix-first-year", help="Fix the first year's builds from this scenario's plan and re-solve the others.")] = None,
    gap: Annotated[float, typer.Option(help="Relative MIP gap.", min=0.0)] = 1e-3,
    workers: WorkersOption = None,
    dask: DaskOption = None,
) -> None:
    """Solve scenarios side by side: KPIs, MW by use by year, and which build decisions differ."""
    from optimizer.analysis import build_differences, kpi_table, mw_by_year_table, regret_table
    from optimizer.export import write_sheets
    from optimizer.runs import Case
    labels = [Path(s).stem if s.endswith(".toml") else s for s in scenarios]
    cases = [Case(label, scenario, sites=str(sites), gap=gap) for label, scenario in zip(labels, scenarios)]
    if fix_first_year and fix_first_year not in scenarios:
        cases.append(Case(fix_first_year, fix_first_year, sites=str(sites), gap=gap))
    results = _run(cases, workers, dask)
    own = results[:len(scenarios)]
    sheets = {"KPIs": [kpi_table(own)], "MWByYear": [mw_by_year_table(own)], "BuildDifferences": [build_differences(own)]}
    if fix_first_year:
        source = next(r for r in results if r.case.label == fix_first_year or r.case.scenario == fix_first_year)
        fixed = _run([Case(f"{c.label} | first year of {fix_first_year}", c.scenario, sites=str(sites), gap=gap,
                           fixed_first_year=source.first_year) for c in cases[:len(scenarios)]], workers, dask)
        sheets["Regret"] = [regret_table(own, fixed, fix_first_year)]
    write_sheets(out_path, sheets)
    out.print(f"wrote {out_path}")


@app.command()
def sweep(
    vary: Annotated[list[str], typer.Option(help="KEY=LOW:HIGH:N; repeat for a grid.")],
    scenario: Annotated[str, typer.Option(help="Scenario to vary.")] = "base",
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("sweep.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    gap: Annotated[float, typer.Option(help="Relative MIP gap.", min=0.0)] = 1e-3,
    workers: WorkersOption = None,
    dask: DaskOption = None,
) -> None:
    """A grid of solves over one or more scenario values."""
    from optimizer.analysis import sweep_points, sweep_table
    from optimizer.export import write_sheets
    from optimizer.runs import Case
    try:
        points = sweep_points(vary)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    cases = [Case(", ".join(p), scenario, p, sites=str(sites), gap=gap) for p in points]
    results = _run(cases, workers, dask)
    write_sheets(out_path, {"Sweep": [sweep_table(results)]})
    out.print(f"wrote {out_path} ({len(results)} points)")


@app.command()
def tornado(
    keys: Annotated[Optional[str], typer.Option(help="Comma-separated scenario keys (default: the key drivers).")] = None,
    pct: Annotated[float, typer.Option(help="Low/high as -/+ this percent of each value.", min=0.0, max=100.0)] = 20.0,
    scenario: Annotated[str, typer.Option(help="Scenario around which to vary.")] = "base",
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write; the chart goes beside it as .png.")] = Path("tornado.xlsx"),
    sites: SitesOption = REFERENCE_PORTFOLIO,
    gap: Annotated[float, typer.Option(help="Relative MIP gap.", min=0.0)] = 1e-3,
    workers: WorkersOption = None,
    dask: DaskOption = None,
) -> None:
    """One-at-a-time low/high of the key drivers: the NPV swing of each, as a sheet and a chart."""
    from optimizer.analysis import TORNADO_KEYS, tornado_overrides, tornado_png, tornado_table
    from optimizer.export import write_sheets
    from sites.atomic import atomic_path
    from optimizer.runs import Case
    names = [k.strip() for k in keys.split(",")] if keys else list(TORNADO_KEYS)
    try:
        base = load_scenario(scenario)
        sides = tornado_overrides(base, names, pct)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    cases = [Case("base", scenario, sites=str(sites), gap=gap)] + [
        Case(f"{key} {side}", scenario, (f"{key}={value:.10g}",), sites=str(sites), gap=gap) for key, side, value in sides]
    results = _run(cases, workers, dask)
    by_side = {(key, side): (value, r) for (key, side, value), r in zip(sides, results[1:])}
    table = tornado_table(results[0].kpis.get("npv_usd"), names, by_side)
    png = out_path.with_suffix(".png")
    with atomic_path(png) as temp:
        tornado_png(table, temp, f"NPV swing, key drivers at -/+{pct:g}% ({scenario})", pct)
        png_bytes = Path(temp).read_bytes()
    write_sheets(out_path, {"Tornado": [table]}, images={"Tornado": png})
    out.print(f"wrote {out_path} and {png} ({len(png_bytes):,} bytes)")


if __name__ == "__main__":
    app()
