"""Write a validated site table in any format `load_sites` reads (CSV, XLSX, GeoJSON, GeoPackage).

Only the `SITE_FIELDS` columns are written, so that the file reads back to the same table; GIS files
carry each site as a Point (EPSG:4326) in place of the lat/lon columns.
"""

from pathlib import Path

import pandas as pd

from kernel.atomic import atomic_path
from sites.readers import site_format
from sites.schema import SITE_FIELDS


def file_table(sites: pd.DataFrame) -> pd.DataFrame:
    """The SITE_FIELDS columns of a validated table, in schema order."""
    return sites.reset_index()[[f.name for f in SITE_FIELDS]]


def write_sites(sites: pd.DataFrame, path: str | Path) -> Path:
    """Write `sites` to `path` (format from its suffix), atomically."""
    import geopandas as gpd

    from sites.geo import points
    path = Path(path)
    kind = site_format(path)
    table = file_table(sites)
    with atomic_path(path) as temp:
        if kind == "CSV":
            table.to_csv(temp, index=False)
        elif kind == "Excel workbook":
            table.to_excel(temp, sheet_name="Sites", index=False)
        else:
            temp.unlink()  # pyogrio creates the file itself
            frame = gpd.GeoDataFrame(table.drop(columns=["lat", "lon"]),
                                     geometry=points(table["lat"], table["lon"]).values, crs=4326)
            frame.to_file(temp, driver="GPKG" if kind == "GeoPackage" else "GeoJSON", layer="sites")
    return path
