"""Run records: what a plan was made from and how, so that it can be reproduced and audited.

The manifest holds sha256 hashes of the site file and of every scenario file in the `extends` chain,
the `--set` overrides, the resolved scenario values, package versions (pyomo, highspy, HiGHS, pandas,
hashpivot), solver options, threads, seed, timestamps, status and gap; a re-plan of an approved plan
(`solve --from approved.xlsx --freeze-until Q`) also records that plan, its hash and the freeze quarter.
"""

import hashlib
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from optimizer.solve import SolveInfo, SolveOptions


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def versions() -> dict:
    out = {}
    for package in ("hashpivot", "pyomo", "highspy", "pandas", "numpy", "xlsxwriter"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build_manifest(sites_path, sources: dict, overrides: tuple, scenario_values: list[dict],
                   options: SolveOptions, info: SolveInfo, started: str, approved=None) -> dict:
    """The run record; with `approved` (pipeline.Approved: `solve --from --freeze-until`) also the approved
    plan's file and hash, the freeze quarter (`hashpivot diff` reads it back) and whether HiGHS started from it."""
    files = sorted({s for s in sources.values() if not s.startswith("--set")})
    frozen = {} if approved is None else {"approved_plan": approved.path, "approved_plan_sha256": sha256(approved.path),
                                          "freeze_until": approved.freeze_until, "mip_start": info.start}
    return {
        "hashpivot_manifest": 1,
        "started_utc": started,
        "finished_utc": now(),
        "site_file": str(sites_path),
        "site_file_sha256": sha256(sites_path),
        "scenario_files": {f: sha256(f) for f in files},
        "overrides": list(overrides),
        **frozen,
        "scenario": {row["key"]: row["value"] for row in scenario_values},
        "versions": {**versions(), "HiGHS": info.solver, "python": platform.python_version()},
        "solver_options": {"gap": options.gap, "time_limit": options.time_limit, "threads": options.threads,
                           "random_seed": options.seed},
        "status": info.status,
        "objective_usd": info.npv_usd,   # the value less the undrawn tie-break (financing F8)
        "mip_gap": info.mip_gap,
        "bound_usd": info.bound_usd,
    }


def manifest_rows(manifest: dict) -> list[tuple[str, object]]:
    """Flat (key, value) rows for a sheet: nested dicts become dotted keys."""
    rows = []
    for key, value in manifest.items():
        if isinstance(value, dict):
            rows.extend((f"{key}.{k}", v) for k, v in value.items())
        elif isinstance(value, list):
            rows.append((key, "; ".join(map(str, value))))
        else:
            rows.append((key, value))
    return rows
