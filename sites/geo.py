"""Where a site is: its eGRID subregion, grid CO2 rate and state from its coordinates (sites/data/geo).

    subregion(s) = the eGRID2023 polygon containing s, else the nearest within 50 km     [EPSG:5070 metres]
    state(s)     = the state polygon containing s, else the nearest within 50 km ("outside the US" beyond)
    grid_tco2(s) = co2_kg_per_mwh[subregion(s)] / 1000                                   [tCO2/MWh, 2023]

Distances are measured in the CONUS Albers projection (EPSG:5070); geometry never enters the MILP.
"""

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

GEO = Path(__file__).parent / "data" / "geo"
EGRID_POLYGONS = GEO / "egrid2023_subregions.geojson"
EGRID_RATES = GEO / "egrid2023_subregion_co2_rates.csv"
STATE_POLYGONS = GEO / "us_states_cb2018_20m.geojson"
EGRID_DATA_YEAR = 2023
NEAREST_LIMIT_KM = 50.0       # nearest-polygon fallback (subregion and state)
STATE_TOLERANCE_KM = 25.0     # a stated state may be this far from the point (borders, coasts)
METRIC_CRS = 5070             # NAD83 / Conus Albers, metres


@lru_cache(maxsize=None)
def egrid_polygons() -> gpd.GeoDataFrame:
    return gpd.read_file(EGRID_POLYGONS)


@lru_cache(maxsize=None)
def state_polygons() -> gpd.GeoDataFrame:
    return gpd.read_file(STATE_POLYGONS)


@lru_cache(maxsize=None)
def _metric(kind: str) -> gpd.GeoDataFrame:
    frame = egrid_polygons() if kind == "egrid" else state_polygons()
    key = "subregion" if kind == "egrid" else "STUSPS"
    return frame[[key, "geometry"]].rename(columns={key: "code"}).to_crs(METRIC_CRS)


@lru_cache(maxsize=None)
def egrid_tco2_per_mwh() -> dict:
    """eGRID2023 total-output CO2 rate by subregion code, tCO2/MWh."""
    rates = pd.read_csv(EGRID_RATES)
    return {r.subregion: r.co2_kg_per_mwh / 1000.0 for r in rates.itertuples() if r.subregion != "US"}


def state_codes() -> tuple[str, ...]:
    return tuple(sorted(state_polygons()["STUSPS"]))


def points(lat, lon) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(np.asarray(lon, float), np.asarray(lat, float)), crs=4326)


def _nearest(where: gpd.GeoDataFrame, kind: str) -> pd.DataFrame:
    """Per point: the containing (distance 0) or nearest polygon code within NEAREST_LIMIT_KM, and km."""
    joined = gpd.sjoin_nearest(where, _metric(kind), how="left", max_distance=NEAREST_LIMIT_KM * 1000,
                               distance_col="distance_m")
    joined = joined[~joined.index.duplicated(keep="first")]
    return pd.DataFrame({"code": joined["code"], "km": joined["distance_m"] / 1000.0}, index=where.index)


def locate(lat, lon) -> pd.DataFrame:
    """Per point (row order kept): egrid_subregion, egrid_km, state, state_km; NaN when beyond 50 km."""
    where = gpd.GeoDataFrame(geometry=points(lat, lon).to_crs(METRIC_CRS))
    egrid, state = _nearest(where, "egrid"), _nearest(where, "state")
    return pd.DataFrame({"egrid_subregion": egrid["code"], "egrid_km": egrid["km"],
                         "state": state["code"], "state_km": state["km"]}).reset_index(drop=True)


def km_to_state(lat: float, lon: float, state: str) -> float:
    """Distance from a point to a state's polygon (0 inside), km."""
    polygon = _metric("state").loc[lambda f: f["code"] == state, "geometry"]
    if polygon.empty:
        return float("inf")
    return float(points([lat], [lon]).to_crs(METRIC_CRS).iloc[0].distance(polygon.iloc[0])) / 1000.0
