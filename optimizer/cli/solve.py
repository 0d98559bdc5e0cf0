"""`hashpivot solve`: one portfolio, one plan workbook (and optional JSON, GeoPackage, CSV, Parquet)."""

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from optimizer.cli.common import (EXIT_INFEASIBLE, EXIT_INTERRUPTED, EXIT_NO_SOLUTION, EXIT_SOLVER,
                                  GapOption, Output, ProgressLine, SitesOption, bad_input, check_outputs, err, fail,
                                  interruptible, out)
from sites.reference import REFERENCE_PORTFOLIO


def solve(
    sites: SitesOption = REFERENCE_PORTFOLIO,
    scenario: Annotated[str, typer.Option(help="Scenario: a bundled name (see `scenarios list`) or a TOML file.")] = "base",
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="Override a scenario value, KEY=VALUE (table entries as KEY.NAME=VALUE).")] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Workbook to write.")] = Path("plan.xlsx"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing workbook.")] = False,
    gap: GapOption = 1e-3,
    time_limit: Annotated[Optional[float], typer.Option(
        help="Wall-clock limit of the whole command (seconds): reading and building count; HiGHS gets the rest.",
        min=0.0)] = None,
    threads: Annotated[Optional[int], typer.Option(help="Solver threads.", min=1)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the KPIs as one JSON object on stdout.")] = False,
    json_out: Annotated[Optional[Path], typer.Option("--json-out", help="Also write the KPIs to this JSON file.")] = None,
    manifest_out: Annotated[Optional[Path], typer.Option("--manifest", help="Also write the run record (JSON).")] = None,
    gpkg_out: Annotated[Optional[Path], typer.Option("--gpkg", help="Also write site results with geometry (GeoPackage).")] = None,
    from_plan: Annotated[Optional[Path], typer.Option("--from", help="Re-solve from a plan workbook's Sites and Assumptions sheets (as edited); --set still applies.")] = None,
    freeze_until: Annotated[Optional[str], typer.Option(
        "--freeze-until", metavar="QUARTER",
        help="With --from: keep the plan's hall starts, site openings and ASIC purchases up to this quarter "
             "(included), re-plan the rest, starting HiGHS from the plan.")] = None,
    mip_start: Annotated[bool, typer.Option(
        "--mip-start/--no-mip-start", help="With --freeze-until: start HiGHS from the approved plan.")] = True,
    csv_dir: Annotated[Optional[Path], typer.Option("--csv", help="Also write every table as CSV into this folder.")] = None,
    parquet_dir: Annotated[Optional[Path], typer.Option("--parquet", help="Also write every table as Parquet into this folder.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress line while solving.")] = False,
    write_mps: Annotated[Optional[Path], typer.Option("--write-mps", help="Also write the model HiGHS solves (MPS).")] = None,
    write_lp: Annotated[Optional[Path], typer.Option("--write-lp", help="Also write the model HiGHS solves (LP format).")] = None,
) -> None:
    """Solve a portfolio and write the optimal quarterly build schedule to a workbook."""
    from optimizer import pipeline
    from optimizer.export import json_ready, kpi_json, write_json, write_tables
    from optimizer.gis import write_gpkg
    from optimizer.infeasibility import explain_infeasible
    from optimizer.manifest import build_manifest, now
    from optimizer.workbook import write_workbook

    started, clock = now(), time.monotonic()  # --time-limit counts from here: reading, build and solve
    request = pipeline.Request(sites=str(sites), scenario=scenario, overrides=tuple(set_ or ()),
                               from_plan=None if from_plan is None else str(from_plan), gap=gap,
                               time_limit=time_limit, threads=threads, freeze_until=freeze_until,
                               mip_start=mip_start)
    try:
        check_outputs([Output("--out", out_path, ".xlsx", "workbook"), Output("--json-out", json_out),
                       Output("--manifest", manifest_out), Output("--gpkg", gpkg_out, ".gpkg", "GeoPackage"),
                       Output("--csv", csv_dir, folder=True), Output("--parquet", parquet_dir, folder=True),
                       Output("--write-mps", write_mps, ".mps", "model"), Output("--write-lp", write_lp, ".lp", "model")],
                      force,
                      inputs=[from_plan, sites, Path(scenario) if scenario.endswith(".toml") else None])
        prepared = pipeline.prepare(request)
    except InputError as problem:
        bad_input(problem)
    except KeyboardInterrupt:
        fail("Interrupted: nothing was written.", EXIT_INTERRUPTED)
    for warning in prepared[0].warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    line = ProgressLine(err.is_terminal and not quiet and not json_)
    line.say("building the model")
    try:
        outcome = interruptible(pipeline.solve, request, prepared, None if time_limit is None else clock + time_limit,
                                line if line.enabled else None, tuple(p for p in (write_mps, write_lp) if p))
    except KeyboardInterrupt:
        fail("Interrupted: nothing was written.", EXIT_INTERRUPTED)
    finally:
        line.close()
    try:
        info, plan, inputs = outcome.info, outcome.plan, outcome.inputs
        if info.status == "infeasible":
            fail(explain_infeasible(outcome.model, outcome.data), EXIT_INFEASIBLE)
        if plan is None and "time" in info.status:
            fail(f"No plan was found within the time limit of {time_limit:g} s, so nothing was written; raise "
                 "--time-limit or --gap.", EXIT_NO_SOLUTION)
        if plan is None:
            fail(f"HiGHS ended without a plan ({info.status}, {info.termination}), so nothing was written.",
                 EXIT_SOLVER)
        manifest = build_manifest(inputs.site_file, inputs.sources, request.overrides, inputs.scenario.describe(),
                                  request.options, info, started, approved=inputs.approved)
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
    for warning in outcome.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    for violation in outcome.violations:
        err.print(f"check failed: {violation}", markup=False, highlight=False, soft_wrap=True)
    if info.status != "optimal":
        reason = "Time limit reached" if info.status == "time_limit" else f"Solver stopped ({info.status})"
        err.print(f"[bold red]{reason}: this plan is the best found, not proven optimal (MIP gap "
                  f"{info.mip_gap:.3%}, bound ${info.bound_usd / 1e6:,.1f}M).[/]", soft_wrap=True)
    if json_:
        sys.stdout.write(kpi_json(plan) + "\n")
        return
    print_summary(plan, out_path)


def print_summary(plan, out_path: Path) -> None:
    k = plan.kpis
    flag = "" if k["status"] == "optimal" else "  [bold red](NOT PROVEN OPTIMAL: time limit)[/]"
    out.print(f"[bold]hashpivot[/] {k['sites']} sites, {k['horizon']}: status [bold]{k['status']}[/]{flag}")
    m = lambda key: f"${k[key] / 1e6:,.1f}M"  # noqa: E731
    value = (f"APV {m('npv_usd')} (unlevered {m('unlevered_npv_usd')} + tax shields {m('tax_shield_npv_usd')} - "
             f"issuance {m('issuance_cost_npv_usd')}; levered NPV {m('levered_npv_usd')}, equity NPV at "
             f"the cost of equity {m('equity_npv_usd')})" if k["valuation"] == "apv" else
             f"NPV (levered) {m('npv_usd')} (APV {m('apv_usd')})")
    out.print(value)
    out.print(f"MIP gap {k['mip_gap']:.3%}   LP-relaxation gap "
              f"{(k['lp_relaxation_gap'] or 0):.3%}   build {k['build_seconds']:.2f} s   solve "
              f"{k['solve_seconds']:.2f} s   ({k['rows']} rows x {k['columns']} cols, {k['nonzeros']} nnz)")
    out.print(f"AI halls {k['ai_halls_built']} ({k['ai_it_mw_built']:.0f} IT MW, first start "
              f"{k['first_ai_start_quarter']}); mining {k['mining_it_mw_start']:.0f} IT MW at the start, "
              f"{k['mining_it_mw_end']:.0f} at the end; ASICs bought {k['asic_bought_ehs']:,.1f} EH/s "
              f"(${k['asic_capex_usd'] / 1e6:,.0f}M)")
    out.print(f"cash low ${k['min_cash_balance_usd'] / 1e6:,.0f}M; peak project debt "
              f"${k['peak_project_debt_usd'] / 1e6:,.0f}M; peak revolver ${k['peak_revolver_usd'] / 1e6:,.0f}M; "
              f"taxes ${k['taxes_usd'] / 1e6:,.0f}M; emissions {k['market_tco2'] / 1e6:,.2f} MtCO2 (market-based)")
    table = Table(title="MW by use by year", show_edge=False)
    columns = (("year", "year"), ("mining_it_mw_avg", "mining IT MW (avg)"), ("fleet_ehs_avg", "fleet EH/s (avg)"),
               ("ai_it_mw_under_construction_end", "AI IT MW building"), ("ai_it_mw_online_end", "AI IT MW online"),
               ("ai_it_mw_leased_end", "AI IT MW leased"), ("idle_grid_mw_avg", "idle grid MW (avg)"),
               ("idle_no_fleet_mw_avg", "of it: no fleet"), ("idle_unprofitable_mw_avg", "of it: fleet loses"))
    for _, title in columns:
        table.add_column(title, justify="right")
    for row in plan.by_year.to_dict("records"):
        table.add_row(str(row["year"]), *(f"{round(row[column]):,}" for column, _ in columns[1:]))  # no "-0"
    out.print(table)
    out.print(f"wrote {out_path}")
