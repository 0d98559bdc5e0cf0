"""The `hashpivot` command line: one small module per command group.

    solve            optimizer/cli/solve.py
    compare, sweep, tornado   optimizer/cli/analysis.py
    diff             optimizer/cli/diff.py
    sites ...        optimizer/cli/sites.py
    scenarios ...    optimizer/cli/scenarios.py

Exit codes (optimizer/cli/common.py): 0 plan written; 1 solver failure; 2 bad input; 3 infeasible plan;
4 time limit before any plan; 130 interrupted.
"""

from typing import Annotated

import typer

from optimizer.cli import analysis, diff, scenarios, sites, solve

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Plan how much secured power runs Bitcoin miners and how much becomes leased AI/HPC halls.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        typer.echo(f"hashpivot {version('hashpivot')}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """hashpivot: BTC mining vs AI/HPC hosting, site by site and quarter by quarter (Pyomo + HiGHS)."""


app.command()(solve.solve)
app.command()(diff.diff)
app.command()(analysis.compare)
app.command()(analysis.sweep)
app.command()(analysis.tornado)
app.add_typer(scenarios.app, name="scenarios")
app.add_typer(sites.app, name="sites")

if __name__ == "__main__":
    app()
