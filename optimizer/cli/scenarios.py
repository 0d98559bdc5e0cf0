"""`hashpivot scenarios list|show|new`: the bundled scenarios, every resolved value, and a new scenario file
to fill in."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from models.scenario import SCENARIO_DIR, list_scenarios, resolve_scenario
from optimizer.cli.common import EXIT_BAD_INPUT, Output, bad_input, check_outputs, fail, out

app = typer.Typer(help="Bundled named scenarios; a new scenario file to fill in.", no_args_is_help=True)


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
        bad_input(problem)
    table = Table(show_edge=False)
    for title in ("key", "value", "unit", "from"):
        table.add_column(title)
    for row in scenario.describe():
        key = row["key"].partition(".")[0]
        table.add_row(row["key"], f"{row['value']:,.6g}" if isinstance(row["value"], float) else str(row["value"]),
                      row["unit"], Path(sources.get(key, "")).name if not sources.get(key, "").startswith("--set")
                      else sources[key])
    out.print(table)


@app.command("new")
def scenarios_new(name: Annotated[str, typer.Argument(help="Plain name of the new scenario (letters, digits, - or _).")],
                  extends: Annotated[str, typer.Option(help="Scenario to start from: a bundled name or a TOML file.")] = "base",
                  out_path: Annotated[Optional[Path], typer.Option("--out", help="TOML file to write.",
                                                                   show_default="NAME.toml in this folder")] = None,
                  force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write NAME.toml: name, description, extends, and the commonly changed values as commented-out lines
    (unit, meaning and the extended scenario's value), ready to uncomment and edit."""
    import os

    from kernel.atomic import atomic_path
    from models.scenario import scenario_path
    from models.template import plain_name_problem, scenario_text
    problem = plain_name_problem(name)
    if problem:
        fail(problem, EXIT_BAD_INPUT)
    target = out_path if out_path is not None else Path(f"{name}.toml")
    check_outputs([Output("--out" if out_path is not None else "", target, ".toml", "scenario file")], force)
    try:
        parent, _ = resolve_scenario(extends)
    except InputError as problem:
        fail(str(problem) if extends in str(problem) else f"--extends {extends}: {problem}", EXIT_BAD_INPUT)
    path = scenario_path(extends)
    if path.parent.resolve() == SCENARIO_DIR.resolve() and not extends.endswith(".toml"):
        written = extends  # a bundled name
    else:  # a file: the path from the new file's folder (extends paths are relative to the file)
        written = Path(os.path.relpath(path.resolve(), target.absolute().parent)).as_posix()
    text = scenario_text(name, written, parent, str(target))
    with atomic_path(target) as temp:
        temp.write_text(text)
    try:
        resolve_scenario(target)
    except InputError as problem:  # the template itself must load; a bug, said plainly
        fail(f"{target}: the written scenario does not load ({problem}); please report this.", EXIT_BAD_INPUT)
    out.print(f"wrote {target} (extends {written}): uncomment and edit the values to change; check it with "
              f"hashpivot scenarios show {target}, solve with hashpivot solve --scenario {target}.", highlight=False,
              soft_wrap=True)
