"""`hashpivot sites validate|show|map|convert|template`: site portfolios in CSV, XLSX, GeoJSON or GeoPackage
(and the Sites sheet of a plan workbook, read with the rules of `solve --from`)."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from models.scenario import load_scenario
from optimizer.cli.common import EXIT_BAD_INPUT, Output, bad_input, check_outputs, fail, out

app = typer.Typer(help="Site portfolios: validate, show, map, convert and a template to fill in (CSV, XLSX, "
                       "GeoJSON, GeoPackage).", no_args_is_help=True)
SiteFile = Annotated[Path, typer.Argument(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage), or a plan "
                                               "workbook (its Sites sheet).")]
HorizonOption = Annotated[str, typer.Option("--scenario", help="Scenario whose horizon the quarters must fit.")]


def _problems_exit(problems: list[str]) -> None:
    fail("\n".join(problems), EXIT_BAD_INPUT)


def _read(path: Path, scenario: str | None, overrides: tuple[str, ...] = (), fit_horizon: bool = True):
    """(sites, scenario, its (name, fix), edited derived cells, misfits of the sites with the scenario): a plan
    workbook through plan_inputs (its Assumptions unless `scenario` is given; derived cells as by
    `solve --from`), any other file through the site loader with `scenario` (default base). Problems of
    the site rows exit 2, every one listed."""
    from optimizer.data import misfits
    from optimizer.plan_inputs import is_plan_workbook, read_plan, scenario_fix
    from sites.load import validate_sites
    from sites.readers import read_raw
    try:
        if is_plan_workbook(path):
            sites, chosen, edited, labels = read_plan(path, () if scenario is not None else overrides)
            fix = scenario_fix(path, plan=True)
            if scenario is not None:
                chosen, fix = load_scenario(scenario, overrides), scenario_fix(scenario)
            source = f"{path} (Sites sheet)"
        else:
            chosen, fix = load_scenario(scenario or "base", overrides), scenario_fix(scenario or "base")
            raw, first_row, row_word = read_raw(path)
            source = raw.attrs.get("source", str(path))
            sites = validate_sites(raw, source=source, horizon=chosen.horizon if fit_horizon else None, first_row=first_row,
                                   row_word=row_word)
            names = next(raw[c] for c in raw.columns if str(c).strip().lower() == "name")
            labels = {str(n).strip(): f"{row_word} {first_row + i}" for i, n in enumerate(names) if str(n).strip()}
            edited = []
    except InputError as problem:
        _problems_exit(problem.problems)
    return sites, chosen, fix, edited, misfits(sites, chosen, source, labels, fix)


def _load_sites(path: Path, scenario: str | None = None, fit_horizon: bool = True):
    sites, _, _, edited, _ = _read(path, scenario, fit_horizon=fit_horizon)
    if edited:  # a plan workbook's edited derived cells: refused as by solve --from
        _problems_exit(edited)
    return sites


@app.command("validate")
def sites_validate(path: SiteFile,
                   scenario: Annotated[Optional[str], typer.Option(
                       "--scenario", help="Scenario to check the sites against: its horizon, its market absorption "
                                          "table (every AI market needs an entry) and its grid MW per IT MW "
                                          "(every hall must fit).",
                       show_default="base; a plan workbook's own Assumptions")] = None,
                   set_: Annotated[Optional[list[str]], typer.Option(
                       "--set", help="Override a scenario value, KEY=VALUE (table entries as KEY.NAME=VALUE).")] = None
                   ) -> None:
    """Check every row and field, then the sites against the scenario; list every problem (exit 2) or
    summarise the valid portfolio."""
    from sites.ledger import peak_mw, site_steps
    table, chosen, (name, _), edited, misfits = _read(path, scenario, tuple(set_ or ()))
    if edited or misfits:
        _problems_exit(edited + misfits)
    steps = [site_steps(row.to_dict()) for _, row in table.iterrows()]
    firm, total = sum(peak_mw(s, "firm") for s in steps), sum(peak_mw(s) for s in steps)
    markets = sorted({m for m, ai in zip(table["market"], table["ai_eligible"]) if ai})
    out.print(f"{path}: valid: {len(table)} sites, {total:,.0f} MW secured at peak ({firm:,.0f} MW firm), "
              f"{int(table['ai_eligible'].sum())} AI-eligible, eGRID subregions "
              f"{', '.join(sorted(table['egrid_subregion'].unique()))}.", highlight=False)
    out.print(f"Fits {name}, {chosen.horizon_start}-{chosen.horizon_end}: every AI market has market absorption "
              f"({', '.join(markets) or 'no AI sites'}) and every hall fits its site's firm power.", highlight=False)


@app.command("show")
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


@app.command("map")
def sites_map(path: SiteFile,
              out_path: Annotated[Path, typer.Option("--out", help="PNG to write.")] = Path("map.png"),
              plan: Annotated[Optional[Path], typer.Option(help="Plan workbook: colour sites by AI vs mining MW.")] = None,
              year: Annotated[Optional[int], typer.Option(help="Plan year to colour by (default: the last).")] = None,
              force: Annotated[bool, typer.Option("--force", help="Overwrite an existing PNG.")] = False,
              scenario: HorizonOption = "base") -> None:
    """A PNG map: states, eGRID subregions shaded by CO2 rate, sites sized by MW (coloured by a plan)."""
    check_outputs([Output("--out", out_path, ".png", "map")], force)
    table = _load_sites(path, scenario)
    used, title = None, ""
    if plan is not None:
        try:
            from optimizer.by_site import plan_mw_by_site
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
    from optimizer.gis import draw_map
    draw_map(table, out_path, used, title)
    out.print(f"wrote {out_path}")


@app.command("convert")
def sites_convert(path: SiteFile,
                  target: Annotated[Path, typer.Argument(help="File to write; its suffix sets the format.")],
                  force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Validate a portfolio and write it in another format (CSV, XLSX, GeoJSON, GeoPackage)."""
    check_outputs([Output("", target)], force, inputs=[path])
    table = _load_sites(path, fit_horizon=False)  # a format conversion needs no horizon
    try:
        from sites.convert import write_sites
        write_sites(table, target)
    except InputError as problem:
        bad_input(problem)
    out.print(f"wrote {target} ({len(table)} sites)")


@app.command("template")
def sites_template(target: Annotated[Path, typer.Argument(help="Site file to write: .csv, .xlsx, .geojson or "
                                                                 ".gpkg (the suffix sets the format).")],
                   force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """A site file to fill in: every site field as a column and two example rows (a mining site, an
    AI-eligible retrofit) that validate and solve; an .xlsx adds a Fields sheet with each field's meaning."""
    from sites.readers import site_format
    from sites.template import EXAMPLES, write_template
    try:
        kind = site_format(target)
    except InputError as problem:
        bad_input(problem)
    check_outputs([Output("", target)], force)
    write_template(target)
    meanings = ("field meanings: its Fields sheet and each header's comment" if kind == "Excel workbook" else
                f"field meanings: hashpivot sites template {target.with_suffix('.xlsx').name} (its Fields sheet) or "
                "the README's site table")
    out.print(f"wrote {target} ({len(EXAMPLES)} example sites to replace with yours); {meanings}; check it with "
              f"hashpivot sites validate {target}.",
              highlight=False, soft_wrap=True)
