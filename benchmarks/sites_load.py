"""Site-loading benchmark: a synthetic N-site portfolio (default 1,000) spread over the lower 48 states,
written as CSV, XLSX, GeoJSON and GeoPackage, then loaded, validated and enriched (state, eGRID subregion
and CO2 rate by point-in-polygon) by `sites.load.load_sites`. Prints seconds per format.

    .venv/bin/python benchmarks/sites_load.py                 # 1,000 sites
    .venv/bin/python benchmarks/sites_load.py --sites 5000 --seed 3
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sites import geo  # noqa: E402
from sites.convert import write_sites  # noqa: E402
from sites.load import load_sites, validate_sites  # noqa: E402

CONUS = (-124.5, -67.0, 25.0, 49.0)  # lon min, lon max, lat min, lat max


def synthetic_portfolio(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """n valid sites at random points inside US states (state, subregion and CO2 left to enrichment)."""
    lat, lon = [], []
    while len(lat) < n:
        x = rng.uniform(CONUS[0], CONUS[1], size=2 * n)
        y = rng.uniform(CONUS[2], CONUS[3], size=2 * n)
        found = geo.locate(y, x)
        inside = (found["state_km"] == 0) & (found["egrid_km"] == 0)
        lat += list(y[inside.to_numpy()])
        lon += list(x[inside.to_numpy()])
    ai = rng.random(n) < 0.3
    secured = np.round(rng.uniform(20, 300, n), 1)
    raw = pd.DataFrame({
        "name": [f"Site {i + 1:05d}" for i in range(n)], "lat": np.round(lat[:n], 5), "lon": np.round(lon[:n], 5),
        "secured_mw": secured, "energised_quarter": rng.choice(["2024Q3", "2026Q1", "2028Q2"], n),
        "power_class": np.where(ai | (rng.random(n) < 0.7), "firm", "interruptible"),
        "power_steps": np.where(rng.random(n) < 0.2, "2030Q1:+25:interruptible", ""),
        "ai_eligible": ai, "mining_allowed": True, "hall_it_mw": np.where(ai, 10.0, 0.0),
        "max_halls": np.where(ai, 1, 0), "power_usd_per_mwh_2026": np.round(rng.uniform(35, 70, n), 2),
    })
    return raw.astype(str)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time loading, validating and enriching a synthetic portfolio.")
    parser.add_argument("--sites", type=int, default=1000, help="number of sites (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="numpy default_rng seed (default: 0)")
    args = parser.parse_args(argv)
    raw = synthetic_portfolio(args.sites, np.random.default_rng(args.seed))
    table = validate_sites(raw, source="synthetic")
    view = Table(title=f"load + validate + enrich {args.sites:,} sites (read, type, rules, point-in-polygon)")
    for title in ("format", "file kB", "seconds", "sites", "subregions", "states"):
        view.add_column(title, justify="left" if title == "format" else "right")
    with tempfile.TemporaryDirectory() as folder:
        for suffix in (".csv", ".xlsx", ".geojson", ".gpkg"):
            path = write_sites(table, Path(folder) / f"portfolio{suffix}")
            for cached in (geo.egrid_polygons, geo.state_polygons, geo._metric, geo.egrid_tco2_per_mwh):
                cached.cache_clear()  # cold: the timing includes reading and projecting the polygons
            started = time.perf_counter()
            loaded = load_sites(path)
            seconds = time.perf_counter() - started
            assert len(loaded) == args.sites
            view.add_row(suffix[1:], f"{path.stat().st_size / 1000:,.0f}", f"{seconds:.2f}", f"{len(loaded):,}",
                         str(loaded["egrid_subregion"].nunique()), str(loaded["state"].nunique()))
    Console().print(view)
    return 0


if __name__ == "__main__":
    sys.exit(main())
