"""`hashpivot scenarios list|show`: the bundled scenarios and every resolved value."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from models.scenario import list_scenarios, resolve_scenario
from optimizer.cli.common import EXIT_BAD_INPUT, fail, out

app = typer.Typer(help="Bundled named scenarios.", no_args_is_help=True)


@app.command("list")
def scenarios_list() -> None:
    """The bundled scenarios, what each extends and what it changes."""
    table = Table(show_edge=False)
    for title in ("name", "extends", "description"):
        table.add_column(title)
    for name, extends, description in list_scenarios():
        table.add_row(name, extends, description)
    out.print(table)


@app.command("show")
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
