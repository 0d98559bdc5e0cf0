"""`hashpivot sites validate|show|map|convert`: site portfolios in CSV, XLSX, GeoJSON or GeoPackage."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from kernel.errors import InputError
from models.scenario import load_scenario
from optimizer.cli.common import EXIT_BAD_INPUT, Output, check_outputs, fail, out
from sites.ledger import peak_mw, site_steps
from sites.load import load_sites

app = typer.Typer(help="Site portfolios: validate, show, map and convert (CSV, XLSX, GeoJSON, GeoPackage).",
                        no_args_is_help=True)
SiteFile = Annotated[Path, typer.Argument(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage).")]
HorizonOption = Annotated[str, typer.Option("--scenario", help="Scenario whose horizon the quarters must fit.")]


def _load_sites(path: Path, scenario: str = "base"):
    try:
        return load_sites(path, load_scenario(scenario).horizon)
    except InputError as problem:
        fail("\n".join(problem.problems) if len(problem.problems) > 1 else str(problem), EXIT_BAD_INPUT)


@app.command("validate")
def sites_validate(path: SiteFile, scenario: HorizonOption = "base") -> None:
    """Check every row and field; list every problem (exit 2) or summarise the valid portfolio."""
    table = _load_sites(path, scenario)
    steps = [site_steps(row.to_dict()) for _, row in table.iterrows()]
    firm, total = sum(peak_mw(s, "firm") for s in steps), sum(peak_mw(s) for s in steps)
    out.print(f"{path}: valid: {len(table)} sites, {total:,.0f} MW secured at peak ({firm:,.0f} MW firm), "
              f"{int(table['ai_eligible'].sum())} AI-eligible, eGRID subregions "
              f"{', '.join(sorted(table['egrid_subregion'].unique()))}.", highlight=False)


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
    check_outputs([Output("", target)], force)
    table = _load_sites(path)
    try:
        from sites.convert import write_sites
        write_sites(table, target)
    except InputError as problem:
        fail(str(problem), EXIT_BAD_INPUT)
    out.print(f"wrote {target} ({len(table)} sites)")
