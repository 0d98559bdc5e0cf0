"""Write a validated site table in any format `load_sites` reads (CSV, XLSX, GeoJSON, GeoPackage).

Only the `SITE_FIELDS` columns are written, so that the file reads back to the same table; GIS files
carry each site as a Point (EPSG:4326) in place of the lat/lon columns.
"""

import os
import tempfile
from pathlib import Path

import pandas as pd

from sites.errors import InputError
from sites.load import FORMATS
from sites.schema import SITE_FIELDS


def file_table(sites: pd.DataFrame) -> pd.DataFrame:
    """The SITE_FIELDS columns of a validated table, in schema order."""
    return sites.reset_index()[[f.name for f in SITE_FIELDS]]


def write_sites(sites: pd.DataFrame, path: str | Path) -> Path:
    """Write `sites` to `path` (format from its suffix), atomically."""
    import geopandas as gpd

    from sites.geo import points
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{path}: unsupported site file type '{path.suffix}'; allowed: {', '.join(sorted(FORMATS))}.")
    table = file_table(sites)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        if suffix == ".csv":
            table.to_csv(temp, index=False)
        elif suffix == ".xlsx":
            table.to_excel(temp, sheet_name="Sites", index=False)
        else:
            os.remove(temp)
            frame = gpd.GeoDataFrame(table.drop(columns=["lat", "lon"]),
                                     geometry=points(table["lat"], table["lon"]).values, crs=4326)
            frame.to_file(temp, driver="GPKG" if suffix == ".gpkg" else "GeoJSON", layer="sites")
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return path
