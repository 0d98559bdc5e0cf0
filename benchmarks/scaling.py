"""Scaling benchmark: build and solve synthetic portfolios of N sites x the base horizon (40 quarters).

Each synthetic portfolio resamples rows of the bundled reference portfolio (reproducibly from --seed):
secured MW jittered x0.5-1.5, energised quarter shifted by up to +-4 quarters, round(0.3 N) sites
AI-eligible with halls that fit (max_halls = floor(secured_mw / (g * hall_it_mw))) and a market drawn
from the base scenario's market_absorption_it_mw_per_quarter. So that large portfolios do not collapse
onto the portfolio-wide build rate and the market absorption limits, both scale with max(1, N / 13)
(13 = size of the reference portfolio); the money limits (opening cash, cash floor, revolver) do not. The
bundled reference portfolio with the unchanged base scenario is the first row, the cash-bound reference
(no tax, no project debt or revolver, $500M opening cash, $200M floor: cash alone paces the builds) the
second.

Each case runs in a fresh process (so `peak_mb`, its peak resident memory, is its own): data, build and solve
seconds and their sum `e2e_s`; then the model HiGHS solved is written as MPS and solved again by plain highspy
with the same options (`highs_s`), and `ratio` = e2e_s / highs_s (what hashpivot costs over HiGHS alone).

    .venv/bin/python benchmarks/scaling.py                       # 10, 30, 100, 300 sites
    .venv/bin/python benchmarks/scaling.py --sizes 10,30,100,300,1000 --csv scaling.csv
"""

import argparse
import csv
import math
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from models.scenario import Scenario, load_scenario  # noqa: E402
from optimizer.data import build_model_data  # noqa: E402
from optimizer.solve import SolveOptions, build_and_solve  # noqa: E402
from sites.load import REFERENCE_PORTFOLIO, load_sites, validate_sites  # noqa: E402
from kernel.quarters import label, ordinal  # noqa: E402
from sites.schema import SITE_FIELDS  # noqa: E402

REFERENCE_SITES = 13          # sites in the reference portfolio: the unit the scenario limits scale by
AI_SHARE = 0.30               # share of synthetic sites that are AI-eligible
GREENFIELD_SHARE = 0.5        # share of AI-eligible sites that are greenfield campuses (no mining)
DEFAULT_SIZES = (10, 30, 100, 300)


def synthetic_sites(n: int, scenario: Scenario, rng: np.random.Generator) -> pd.DataFrame:
    """A validated table of n sites resembling the reference portfolio."""
    reference = pd.read_csv(REFERENCE_PORTFOLIO, dtype=str, keep_default_na=False, skipinitialspace=True)
    halls = sorted({float(h) for h in reference["hall_it_mw"] if float(h) > 0})   # 30, 35, 50 IT MW
    opening = [float(c) for c in reference["site_opening_cost_usd"] if float(c) > 0]
    markets = sorted(scenario.market_absorption_it_mw_per_quarter)                # GA, TX
    g = scenario.grid_mw_per_it_mw
    rows = []
    ai = set(rng.choice(n, size=round(AI_SHARE * n), replace=False).tolist())  # exactly ~30% AI-eligible
    for i, k in enumerate(rng.integers(0, len(reference), size=n)):
        ref = reference.iloc[int(k)]
        secured = round(float(ref["secured_mw"]) * rng.uniform(0.5, 1.5), 1)
        energised = label(ordinal(ref["energised_quarter"]) + int(rng.integers(-4, 5)))
        row = {
            "name": f"{ref['name']} #{i + 1:03d}", "state": ref["state"],
            "lat": f"{float(ref['lat']) + rng.uniform(-0.3, 0.3):.3f}",
            "lon": f"{float(ref['lon']) + rng.uniform(-0.3, 0.3):.3f}",
            "secured_mw": secured, "energised_quarter": energised, "power_class": "firm", "egrid_subregion": ref["egrid_subregion"],
            "ai_eligible": "false", "mining_allowed": "true", "build_type": "retrofit", "hall_it_mw": 0,
            "max_halls": 0, "site_opening_cost_usd": 0,
            "power_usd_per_mwh_2026": round(float(ref["power_usd_per_mwh_2026"]) * rng.uniform(0.9, 1.1), 2),
            "market": ref["market"],
        }
        if i in ai:
            fitting = [h for h in halls if secured >= g * h]
            if not fitting:  # too small for any hall: grow the site to take one of the smallest halls
                fitting = [halls[0]]
                secured = row["secured_mw"] = math.ceil(g * halls[0])
            hall = float(rng.choice(fitting))
            greenfield = rng.random() < GREENFIELD_SHARE
            row.update({
                "ai_eligible": "true", "mining_allowed": "false" if greenfield else "true",
                "build_type": "greenfield" if greenfield else "retrofit", "hall_it_mw": hall,
                "max_halls": math.floor(secured / (g * hall) + 1e-9),
                "site_opening_cost_usd": float(rng.choice(opening)),
                "market": str(rng.choice(markets)),
            })
        rows.append(row)
    raw = pd.DataFrame([{f.name: str(row.get(f.name, "")) for f in SITE_FIELDS} for row in rows])  # "" = default
    return validate_sites(raw, source=f"synthetic({n})")


def scaled_scenario(base: Scenario, n: int) -> Scenario:
    """The base scenario with the portfolio-wide build rate and market absorption scaled by max(1, n / 13).

    Never scaled below the base values: a build rate under the largest hall (50 IT MW) would make the
    sites with such halls unbuildable in the MIP while the LP relaxation still builds fractions of them.
    """
    factor = max(1.0, n / REFERENCE_SITES)
    return base.with_values(
        max_ai_start_it_mw_per_quarter=base.max_ai_start_it_mw_per_quarter * factor,
        market_absorption_it_mw_per_quarter={
            market: value * factor for market, value in base.market_absorption_it_mw_per_quarter.items()},
    )


CASH_BOUND = dict(tax_rate=0.0, loan_to_cost=0.0, revolver_limit_usd=0.0, opening_cash_usd=500e6,
                  cash_floor_usd=200e6)


def plain_highs_seconds(mps: Path, options: SolveOptions) -> tuple[float, float | None]:
    """(seconds, objective) of plain highspy on an MPS file with hashpivot's gap, time limit, threads, seed."""
    import highspy
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.readModel(str(mps))
    highs.setOptionValue("mip_rel_gap", options.gap)
    highs.setOptionValue("time_limit", options.time_limit)
    highs.setOptionValue("random_seed", options.seed)
    if options.threads is not None:
        highs.setOptionValue("threads", options.threads)
    started = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - started
    has_solution = highs.getInfo().primal_solution_status == 2
    return seconds, highs.getInfo().objective_function_value if has_solution else None


def write_mps(data, path: Path) -> None:
    """The model HiGHS solves for `data` (a fresh build, as `--write-mps` writes it), as MPS."""
    from pyomo.contrib.solver.solvers.highs import Highs

    from optimizer.build import build_model
    solver = Highs()
    solver.set_instance(build_model(data))
    solver._solver_model.setOptionValue("output_flag", False)
    solver._solver_model.writeModel(str(path))


def run_case(name: str, sites: pd.DataFrame, scenario: Scenario, options: SolveOptions) -> dict:
    """One row: model size; data, build, solve (HiGHS incl. Pyomo's translation) and end-to-end seconds (the
    LP-relaxation re-solve included); gaps; plain highspy on the same model's MPS; peak memory of the process."""
    started = time.perf_counter()
    data = build_model_data(sites, scenario)
    data_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        mps = Path(folder) / "model.mps"
        _, info = build_and_solve(data, options)
        e2e = time.perf_counter() - started
        write_mps(data, mps)
        highs_seconds, _ = plain_highs_seconds(mps, options)
    return {
        "case": name, "sites": len(sites), "ai_sites": len(data.ai_sites), "quarters": data.n_quarters,
        "rows": info.rows, "cols": info.columns, "nonzeros": info.nonzeros,
        "integer_cols": info.integer_columns, "data_s": data_seconds, "build_s": info.build_seconds,
        "solve_s": info.solve_seconds, "status": info.status, "mip_gap": info.mip_gap,
        "lp_relaxation_gap": info.lp_relaxation_gap,
        "npv_musd": info.npv_usd / 1e6 if info.npv_usd is not None else None,
        "bound_musd": info.bound_usd / 1e6 if info.bound_usd is not None else None,
        "e2e_s": e2e, "highs_s": highs_seconds, "ratio": e2e / highs_seconds if highs_seconds > 0 else None,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def case_in_child(job: tuple) -> dict:
    """run_case in a fresh Python process (this file with --child JOB_JSON), so that peak memory is the case's."""
    name, kind, n, seed, options = job
    text = json.dumps([name, kind, n, seed, options.gap, options.time_limit, options.threads])
    done = subprocess.run([sys.executable, __file__, "--child", text], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_job(name: str, kind: str, n: int, seed: int, options: SolveOptions) -> dict:
    """The case `kind` (reference, cash-bound, synthetic) of size n, solved here."""
    base = load_scenario()
    if kind == "synthetic":
        sites, scenario = synthetic_sites(n, base, np.random.default_rng([seed, n])), scaled_scenario(base, n)
    else:
        sites, scenario = load_sites(), base if kind == "reference" else base.with_values(**CASH_BOUND)
    return run_case(name, sites, scenario, options)


COLUMNS = (  # key, header, format
    ("case", "case", "{}"), ("sites", "sites", "{:,}"), ("ai_sites", "AI sites", "{:,}"),
    ("quarters", "quarters", "{}"), ("rows", "rows", "{:,}"), ("cols", "cols", "{:,}"),
    ("nonzeros", "nonzeros", "{:,}"), ("integer_cols", "int cols", "{:,}"), ("data_s", "data_s", "{:.2f}"),
    ("build_s", "build_s", "{:.2f}"), ("solve_s", "solve_s", "{:.2f}"), ("status", "status", "{}"),
    ("mip_gap", "MIP gap", "{:.3%}"), ("lp_relaxation_gap", "LP-rel gap", "{:.3%}"),
    ("npv_musd", "NPV $M", "{:,.1f}"), ("e2e_s", "e2e_s", "{:.2f}"), ("highs_s", "HiGHS_s", "{:.2f}"),
    ("ratio", "e2e/HiGHS", "{:.2f}"), ("peak_mb", "peak MB", "{:,.0f}"),
)


def render(results: list[dict], options: SolveOptions) -> Table:
    threads = options.threads if options.threads is not None else "HiGHS default"
    table = Table(title=f"hashpivot scaling (gap target {options.gap:g}, time limit {options.time_limit:g} s, "
                        f"threads {threads})")
    for key, header, _ in COLUMNS:
        table.add_column(header, justify="left" if key in ("case", "status") else "right")
    for row in results:
        table.add_row(*("-" if row.get(key) is None else fmt.format(row[key]) for key, _, fmt in COLUMNS))
    return table


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of whole numbers") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"'{text}': sizes must be whole numbers >= 1")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build and solve the hashpivot MILP for the reference portfolio and synthetic "
                    "portfolios of N sites x the base horizon; print model size, build/solve seconds, "
                    "MIP and LP-relaxation gaps and NPV.")
    parser.add_argument("--sizes", type=parse_sizes, default=list(DEFAULT_SIZES),
                        help="comma-separated synthetic portfolio sizes (default: 10,30,100,300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of numpy default_rng (default: 0)")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap target (default: 1e-3)")
    parser.add_argument("--time-limit", type=float, default=300.0,
                        help="solver time limit per case, seconds (default: 300)")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads (default: HiGHS's choice)")
    parser.add_argument("--no-reference", action="store_true", help="skip the bundled reference portfolio")
    parser.add_argument("--csv", type=Path, default=None, metavar="FILE", help="also write the rows to FILE")
    args = parser.parse_args(argv)

    options = SolveOptions(gap=args.gap, time_limit=args.time_limit, threads=args.threads)
    jobs = [] if args.no_reference else [("reference (13)", "reference", 0, args.seed, options),
                                         ("cash-bound reference (13)", "cash-bound", 0, args.seed, options)]
    jobs += [(f"synthetic ({n})", "synthetic", n, args.seed, options) for n in args.sizes]

    log = Console(stderr=True)
    results = []
    for job in jobs:
        log.print(f"[dim]{time.strftime('%H:%M:%S')} {job[0]}: building and solving...[/dim]")
        row = case_in_child(job)
        log.print(f"[dim]{time.strftime('%H:%M:%S')} {job[0]}: {row['status']}, build {row['build_s']:.2f} s, "
                  f"solve {row['solve_s']:.2f} s, plain HiGHS {row['highs_s']:.2f} s[/dim]")
        results.append(row)

    Console(width=max(230, Console().width)).print(render(results, options))
    if args.csv:
        with args.csv.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(results[0]))
            writer.writeheader()
            writer.writerows(results)
        log.print(f"wrote {args.csv}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # one case in this process: print its row as JSON
        name, kind, n, seed, gap, limit, threads = json.loads(sys.argv[2])
        print(json.dumps(run_job(name, kind, n, seed, SolveOptions(gap=gap, time_limit=limit, threads=threads))))
        sys.exit(0)
    sys.exit(main())
