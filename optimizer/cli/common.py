"""What every command shares: exit codes, the consoles, one-sentence failures, output-path rules and a
solve that Ctrl-C can interrupt.

Exit codes: 0 plan written; 2 bad input (one sentence naming file, row and field); 3 infeasible plan;
4 time limit reached before any plan was found; 1 any other solver failure; 130 interrupted (Ctrl-C).
"""

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_SOLVER, EXIT_INTERRUPTED = 2, 3, 4, 1, 130

err = Console(stderr=True)
out = Console()

SitesOption = Annotated[Path, typer.Option(help="Site portfolio file (CSV, XLSX, GeoJSON or GeoPackage).",
                                           show_default="the bundled reference portfolio")]
GAP_MAX = 0.5


def _gap(value: float) -> float:
    if value > GAP_MAX:
        fail(f"--gap {value:g}: a relative MIP gap above {GAP_MAX:g} accepts almost any plan; the gap is a share, "
             "so for 1% write --gap 0.01.", EXIT_BAD_INPUT)
    return value


GapOption = Annotated[float, typer.Option(help="Relative MIP gap to stop at (a share: 0.001 = 0.1%).", min=0.0,
                                          callback=_gap)]


def fail(message: str, code: int) -> None:
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def bad_input(problem) -> None:
    """Exit 2 with an InputError: one line per problem."""
    fail("\n".join(problem.problems), EXIT_BAD_INPUT)


@dataclass(frozen=True)
class Output:
    """A file (or, with `folder`, a folder of files) a command will write, named by its option."""
    flag: str                 # "--out"; "" for a positional argument
    path: Optional[Path]
    suffix: str = ""          # e.g. ".xlsx"; "" for any
    kind: str = "file"        # what it is, for the suffix message ("workbook", "map")
    folder: bool = False

    @property
    def label(self) -> str:
        return f"{self.flag} {self.path}".strip()


def output_problem(output: Output, force: bool) -> str | None:
    """Why `output` cannot be written (one sentence), or None: the suffix, an existing file or folder
    without --force, a file where a folder is meant or the other way round, a parent that is not a folder
    or cannot be written."""
    label, path = output.label, output.path
    if output.suffix and path.suffix.lower() != output.suffix:
        return f"{label}: the {output.kind} name must end in {output.suffix}."
    if path.exists():
        if path.is_dir() != output.folder:
            what = "a folder" if path.is_dir() else "a file"
            return f"{label}: {what} is there; allowed: {'a folder' if output.folder else 'a file name'}."
        if not force:
            return f"{label}: the {'folder' if output.folder else 'file'} exists; pass --force to overwrite it."
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{label}: {parent} is a file, not a folder."
    try:
        tempfile.TemporaryFile(dir=parent).close()
    except OSError as problem:
        return f"{label}: cannot write in {parent} ({problem.strerror or problem})."
    return None


def check_outputs(outputs: list[Output], force: bool, inputs=()) -> None:
    """Exit 2, before any work, unless every given output can be written: none is an input file, none is the
    same file as another (after resolving links and `..`), none lies inside a folder output (which is
    replaced whole), and `-` is not a file name."""
    given = [o for o in outputs if o.path is not None]
    sources = {Path(os.path.realpath(p)): str(p) for p in inputs if p is not None}
    seen: dict = {}
    for output in given:
        key = Path(os.path.realpath(output.path))
        problem = (f"{output.label}: '-' is not a file name here; allowed: a path." if str(output.path) == "-"
                   else output_problem(output, force))
        if problem is None and key in sources:
            problem = f"{output.label}: it is also an input ({sources[key]}); allowed: another file name."
        if problem is None and key in seen:
            problem = f"{output.label}: the same path as {seen[key]}; allowed: one output per file."
        folder = next((o for o in given if o.folder and o is not output
                       and Path(os.path.realpath(o.path)) in key.parents), None)
        if problem is None and folder is not None:
            problem = (f"{output.label}: inside {folder.flag} {folder.path}, a folder that is written whole; "
                       "allowed: a path outside it.")
        seen[key] = output.flag or str(output.path)
        if problem:
            fail(problem, EXIT_BAD_INPUT)


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


class ProgressLine:
    """One line on the terminal, rewritten in place while HiGHS runs (phase, elapsed, incumbent NPV, bound,
    gap); written to the real stderr, which the solver redirects while it runs; silent when stderr is not a
    terminal or with --quiet."""

    def __init__(self, enabled: bool):
        self.enabled, self.width, self.started = enabled, 0, time.monotonic()
        self.fd = os.dup(2) if enabled else None

    def say(self, text: str) -> None:
        if self.enabled:
            line = f"{time.monotonic() - self.started:6.1f} s  {text}"
            os.write(self.fd, ("\r" + line.ljust(self.width)).encode())
            self.width = max(self.width, len(line))

    def __call__(self, p) -> None:
        money = lambda v: "-" if v is None else f"${v / 1e6:,.1f}M"  # noqa: E731
        gap = "-" if p.gap is None else f"{p.gap:.2%}"
        self.say(f"solving: plan NPV {money(p.npv_usd)}, bound {money(p.bound_usd)}, gap {gap}")

    def close(self) -> None:
        if self.enabled:
            os.write(self.fd, ("\r" + " " * self.width + "\r").encode())
            os.close(self.fd)
            self.enabled = False
