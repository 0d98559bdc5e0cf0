"""Plans and portfolios on the map: site results as a GeoPackage and a PNG map of sites over eGRID carbon.

Geometry never enters the MILP: points are made from the site table's lat/lon (EPSG:4326) at export.

GeoPackage layers:
- `sites`: one row per site: secured and firm MW at the horizon end, halls, AI capex, tCO2, per year
  `mining_it_mw_YYYY` and `ai_it_mw_leased_YYYY` (quarterly averages), and `operating_npv_usd`
  (optimizer/by_site.py: the site's own flows before financing, taxes and carbon costs).
- `site_years`: one row per (site, year) with the yearly averages of the Schedule sheet.
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from kernel.atomic import atomic_path
from optimizer.by_site import operating_npv_usd, site_years
from optimizer.results import Plan
from sites import geo, ledger


def site_results(plan: Plan) -> gpd.GeoDataFrame:
    """The `sites` layer: one row per site with its results, as points (EPSG:4326)."""
    d = plan.data
    sites = d.sites
    years = site_years(plan.schedule)
    wide = years.pivot(index="site", columns="year", values=["mining_it_mw", "ai_it_mw_leased"])
    wide.columns = [f"{name}_{year}" for name, year in wide.columns]
    s = plan.schedule[plan.schedule["scenario"] == d.scenarios[0]]
    end = s[s["quarter"] == d.quarters[-1]].set_index("site")
    builds = plan.builds.groupby("site").agg(ai_halls=("hall", "count"), ai_capex_usd=("capex_usd", "sum"))
    table = pd.DataFrame({
        "site": sites.index, "state": sites["state"].to_numpy(), "egrid_subregion": sites["egrid_subregion"].to_numpy(),
        "grid_tco2_per_mwh": sites["grid_tco2_per_mwh"].to_numpy(), "ai_eligible": sites["ai_eligible"].to_numpy(),
        "secured_mw_end": end["secured_mw"].reindex(sites.index).to_numpy(),
        "firm_mw_end": end["firm_mw"].reindex(sites.index).to_numpy(),
    }).set_index("site")
    table = table.join(builds).fillna({"ai_halls": 0, "ai_capex_usd": 0.0})
    table["ai_halls"] = table["ai_halls"].astype(int)
    table["mining_tco2"] = s.groupby("site")["mining_tco2"].sum()
    table["ai_tco2"] = s.groupby("site")["ai_tco2"].sum()
    table["operating_npv_usd"] = operating_npv_usd(plan)
    table = table.join(wide).reset_index()
    return gpd.GeoDataFrame(table, geometry=geo.points(sites["lat"], sites["lon"]).values, crs=4326)


def write_gpkg(plan: Plan, path: str | Path) -> Path:
    """Write the `sites` and `site_years` layers to a GeoPackage, atomically."""
    layer = site_results(plan)
    years = site_years(plan.schedule)
    points = layer.set_index("site").geometry
    years = gpd.GeoDataFrame(years, geometry=points.reindex(years["site"]).values, crs=4326)
    with atomic_path(path) as temp:
        temp.unlink()  # pyogrio creates the GeoPackage itself
        layer.to_file(temp, layer="sites", driver="GPKG")
        years.to_file(temp, layer="site_years", driver="GPKG")
    return Path(path)


def draw_map(sites: pd.DataFrame, path: str | Path, plan: pd.DataFrame | None = None,
             title: str = "") -> Path:
    """PNG: state outlines, eGRID subregions shaded by CO2 rate, sites sized by secured MW and, with a
    plan (from `plan_mw_by_site`), coloured by the share of their grid MW going to AI (else by use)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(12, 7.5), dpi=120)
    egrid = geo.egrid_polygons().assign(tco2=lambda f: f["co2_lb_per_mwh"] * 0.45359237 / 1000)
    egrid.plot(ax=ax, column="tco2", cmap="Greys", vmin=0.1, vmax=0.7, alpha=0.75, edgecolor="white",
               linewidth=0.6, legend=True,
               legend_kwds={"label": "grid CO2, t/MWh (eGRID2023 total output)", "shrink": 0.6})
    geo.state_polygons().boundary.plot(ax=ax, color="#555555", linewidth=0.5)
    mw = pd.Series([ledger.peak_mw(ledger.site_steps(row.to_dict())) for _, row in sites.iterrows()],
                   index=sites.index)
    size = 20 + 600 * mw / max(mw.max(), 1.0)
    if plan is not None:
        used = plan.reindex(sites.index)
        ai, mining = used["ai_grid_mw_reserved"].fillna(0), used["mining_grid_mw"].fillna(0)
        share = (ai / (ai + mining)).where(ai + mining > 0)
        points = ax.scatter(sites["lon"], sites["lat"], s=size, c=share.fillna(-1), cmap="coolwarm_r", vmin=0,
                            vmax=1, edgecolor="black", linewidth=0.7, zorder=3)
        idle = share.isna()
        ax.scatter(sites["lon"][idle], sites["lat"][idle], s=size[idle], c="white", edgecolor="black",
                   linewidth=0.7, zorder=3)
        fig.colorbar(points, ax=ax, shrink=0.6, label="share of used grid MW going to AI (0 = all mining)")
    else:
        colour = np.where(sites["ai_eligible"], "#2b6cb0", "#dd6b20")
        ax.scatter(sites["lon"], sites["lat"], s=size, c=colour, edgecolor="black", linewidth=0.7, zorder=3)
        ax.legend(handles=[Line2D([], [], marker="o", ls="", color=c, label=t, markersize=9) for c, t in
                           (("#2b6cb0", "AI-eligible"), ("#dd6b20", "mining only"))], loc="lower left")
    if len(sites) <= 40:
        for name, row in sites.iterrows():
            ax.annotate(f"{name} ({mw[name]:,.0f} MW)", (row["lon"], row["lat"]), fontsize=7,
                        xytext=(5, 4), textcoords="offset points", zorder=4)
    pad = 3.0
    ax.set_xlim(max(-125.0, sites["lon"].min() - pad), min(-66.0, sites["lon"].max() + pad)
                if sites["lon"].max() < -66 else sites["lon"].max() + pad)
    ax.set_ylim(max(24.0, sites["lat"].min() - pad), min(50.0, sites["lat"].max() + pad)
                if sites["lat"].max() < 50 else sites["lat"].max() + pad)
    ax.set_title(title or f"{len(sites)} sites, {mw.sum():,.0f} MW secured (marker area ~ MW)")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    with atomic_path(path) as temp:
        fig.savefig(temp, format="png", bbox_inches="tight")
    plt.close(fig)
    return Path(path)
