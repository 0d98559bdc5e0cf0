"""`hashpivot diff`: what changed between two plan workbooks."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kernel.errors import InputError
from optimizer.cli.common import bad_input, out


def diff(plan_a: Annotated[Path, typer.Argument(help="First plan workbook.")],
         plan_b: Annotated[Path, typer.Argument(help="Second plan workbook.")]) -> None:
    """What changed between two plans: NPV, AI builds added, removed or moved, ASIC purchases (EH/s by site and
    year) and MW by use by site and year; for a re-plan (solve --freeze-until), whether each change falls after
    its freeze quarter."""
    from optimizer.diff import diff_plans
    try:
        result = diff_plans(plan_a, plan_b)
    except InputError as problem:
        bad_input(problem)
    freeze = result.freeze_until
    if freeze:
        out.print(f"{plan_b.name} re-plans {plan_a.name} after {freeze} (--freeze-until {freeze}): its build "
                  f"decisions up to {freeze} are kept.", soft_wrap=True)
    for row in result.npv.itertuples(index=False):
        out.print(f"NPV ({row.scenario}): ${row.npv_a_usd / 1e6:,.1f}M -> ${row.npv_b_usd / 1e6:,.1f}M "
                  f"({row.change_usd / 1e6:+,.1f}M)")
    when = [f"after {freeze}"] if freeze else []
    mark = (lambda row: ["yes" if row.after_freeze else "no"]) if freeze else (lambda row: [])  # noqa: E731
    builds = Table(title="AI halls added, removed or moved", show_edge=False)
    for title in ("hall", "change", plan_a.name, plan_b.name, *when):
        builds.add_column(title)
    for row in result.builds.itertuples(index=False):
        builds.add_row(row.hall, row.change, *(_quarter(v) for v in (row.start_a, row.start_b)), *mark(row))
    out.print(builds if len(result.builds) else "AI halls: no change")
    asic = Table(title="ASICs bought, EH/s by site and year (changes only)", show_edge=False)
    for title in ("site", "year", plan_a.name, plan_b.name, "change", "first quarter", *when):
        asic.add_column(title, justify="right")
    for row in result.asic.itertuples(index=False):
        asic.add_row(row.site, str(row.year), f"{row.a_ehs:,.3f}", f"{row.b_ehs:,.3f}", f"{row.change_ehs:+,.3f}",
                     row.first_quarter, *mark(row))
    out.print(asic if len(result.asic) else "ASICs bought: no change")
    mw = Table(title="MW by use by site and year (changes only)", show_edge=False)
    for title in ("site", "year", "use", plan_a.name, plan_b.name, "change", *when):
        mw.add_column(title, justify="right")
    for row in result.mw.itertuples(index=False):
        mw.add_row(row.site, str(row.year), row.use, f"{row.a_mw:,.1f}", f"{row.b_mw:,.1f}", f"{row.change_mw:+,.1f}",
                   *mark(row))
    out.print(mw if len(result.mw) else "MW by use: no change")


def _quarter(value) -> str:
    return "-" if value is None or value != value else str(value)
