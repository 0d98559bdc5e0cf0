"""`hashpivot diff`: what changed between two plan workbooks."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from kernel.errors import InputError
from optimizer.cli.common import bad_input, out


def diff(plan_a: Annotated[Path, typer.Argument(help="First plan workbook.")],
         plan_b: Annotated[Path, typer.Argument(help="Second plan workbook.")]) -> None:
    """What changed between two plans: NPV, MW by use by site and year, AI builds added, removed or moved."""
    import pandas as pd
    from optimizer.diff import diff_plans
    try:
        result = diff_plans(plan_a, plan_b)
    except InputError as problem:
        bad_input(problem)
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
