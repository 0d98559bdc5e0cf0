"""`hashpivot scenarios list|show|new|economics`: the bundled scenarios, every resolved value, a new scenario
file to fill in, and a scenario's market and fleet hashcosts quarter by quarter."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from models.scenario import SCENARIO_DIR, list_scenarios, resolve_scenario
from optimizer.cli.common import EXIT_BAD_INPUT, Output, SitesOption, bad_input, check_outputs, fail, out
from sites.reference import REFERENCE_PORTFOLIO

app = typer.Typer(help="Bundled named scenarios; a new scenario file to fill in; a scenario's market and hashcosts "
                       "quarter by quarter.", no_args_is_help=True)


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


# (header lines, number format) of each economics_table column
ECONOMICS_HEADERS = ((("BTC", "$/BTC"), ",.0f"), (("network", "EH/s"), ",.0f"), (("hashprice", "$/PH/day"), ".2f"),
                     (("network", "hashcost", "$/PH/day"), ".2f"), (("frontier", "J/TH"), ".2f"),
                     (("ASIC", "$/TH"), ".2f"), (("fleet", "hashcost", "$/PH/day"), ".2f"),
                     (("refresh", "hashcost", "$/PH/day"), ".2f"))


@app.command("economics")
def scenarios_economics(name: Annotated[str, typer.Argument(help="Bundled name or TOML file.")],
                        sites: SitesOption = REFERENCE_PORTFOLIO,
                        set_: Annotated[Optional[list[str]], typer.Option("--set", help="KEY=VALUE override.")] = None,
                        csv_path: Annotated[Optional[Path], typer.Option("--csv",
                                                                         help="Also write the table as CSV.")] = None,
                        force: Annotated[bool, typer.Option("--force", help="Overwrite an existing CSV.")] = False
                        ) -> None:
    """Per horizon quarter: BTC price, network EH/s, hashprice, the network's hashcost, the frontier ASIC, and
    this portfolio's hashcosts: the existing fleet's (cash) and a refreshed fleet's (all-in)."""
    import pandas as pd
    from rich import box

    from kernel.atomic import atomic_path
    from models.economics import economics_table, existing_fleet_j_per_th, fleet_power_usd_per_mwh_2026
    from optimizer.data import build_values
    from sites.load import load_sites
    check_outputs([Output("--csv", csv_path, ".csv", "CSV file")], force,
                  inputs=[sites, Path(name) if name.endswith(".toml") else None])
    try:
        scenario, _ = resolve_scenario(name, tuple(set_ or ()))
        table = load_sites(sites, scenario.horizon)
    except InputError as problem:
        bad_input(problem)
    table = pd.concat([table, build_values(table, scenario)], axis=1)
    values = economics_table(table, scenario)
    if csv_path is not None:
        with atomic_path(csv_path) as temp:
            values.to_csv(temp)
    view = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 0),
                 title=f"{name}: the market and this portfolio's hashcosts")
    view.add_column("quarter")
    for lines, _ in ECONOMICS_HEADERS:
        view.add_column("\n".join(lines), justify="right")
    for quarter, row in values.iterrows():
        view.add_row(quarter, *("-" if pd.isna(v) else format(v, f) for v, (_, f) in zip(row, ECONOMICS_HEADERS)))
    out.print(view)
    j, power = existing_fleet_j_per_th(table), fleet_power_usd_per_mwh_2026(table, scenario)
    fleet = "none in this portfolio" if pd.isna(j) else f"{j:.1f} J/TH"
    price = "none: no site mines" if pd.isna(power) else f"${power:.1f}/MWh in 2026"
    out.print(f"fleet: the existing fleet ({fleet}), power and opex; refresh: a frontier ASIC bought that quarter, "
              f"power, opex and capex less salvage over {scenario.asic_life_quarters} quarters; both at the fleet's "
              f"power price ({price}, {scenario.power_price_escalation_per_yr:+.0%}/yr).", highlight=False,
              soft_wrap=True)
    if csv_path is not None:
        out.print(f"wrote {csv_path}", highlight=False, soft_wrap=True)
