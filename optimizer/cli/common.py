"""What every command shares: exit codes, the consoles, one-sentence failures, output-path rules and a
solve that Ctrl-C can interrupt.

Exit codes: 0 plan written; 2 bad input (one sentence naming file, row and field); 3 infeasible plan;
4 time limit reached before any plan was found; 1 any other solver failure; 130 interrupted (Ctrl-C).
"""

import os
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_SOLVER, EXIT_INTERRUPTED = 2, 3, 4, 1, 130

err = Console(stderr=True)
out = Console()

SitesOption = Annotated[Path, typer.Option(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage).")]
GapOption = Annotated[float, typer.Option(help="Relative MIP gap to stop at.", min=0.0)]


def fail(message: str, code: int) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def require_suffix(path: Optional[Path], suffix: str, flag: str, kind: str) -> None:
    """Exit 2 unless `path` (when given) ends in `suffix`."""
    if path is not None and path.suffix.lower() != suffix:
        fail(f"{flag} {path}: the {kind} name must end in {suffix}.", EXIT_BAD_INPUT)


def refuse_overwrite(path: Optional[Path], force: bool, label: str) -> None:
    """Exit 2 when `path` exists and --force was not given."""
    if path is not None and path.exists() and not force:
        fail(f"{label}: the file exists; pass --force to overwrite it.", EXIT_BAD_INPUT)


def interruptible(function, *args):
    """Run `function` in a worker thread so that Ctrl-C reaches this (main) thread while HiGHS's C++ loop
    runs; on Ctrl-C the process ends at once with exit 130 (nothing has been written yet)."""
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = function(*args)
        except BaseException as problem:  # noqa: BLE001 - re-raised in the main thread
            outcome["error"] = problem

    terminal = os.dup(2)  # the solver redirects fd 2 while HiGHS runs (pyomo's capture_fd); keep the real one
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        os.write(terminal, b"Interrupted: nothing was written.\n")
        os._exit(EXIT_INTERRUPTED)
    finally:
        os.close(terminal)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
