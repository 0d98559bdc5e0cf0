"""Sweeps: a guard on very large grids, and results kept as runs finish (an interrupted sweep keeps them)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from optimizer.cli import app

HASHPIVOT = Path(sys.executable).parent / "hashpivot"


def test_a_grid_above_max_runs_is_refused_before_any_solve(tmp_path):
    result = CliRunner().invoke(app, ["sweep", "--vary", "btc_price_usd_2026=1:2:30", "--vary",
                                      "lease_usd_per_kw_month=100:200:10", "--out", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("--vary: the grid has 300 runs, more than --max-runs 200; pass --max-runs 300 "
                                     "to run them all.")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_sweep_keeps_the_runs_that_finished(tmp_path):
    out = tmp_path / "sweep.xlsx"
    process = subprocess.Popen([str(HASHPIVOT), "sweep", "--vary", "btc_price_usd_2026=60000:120000:8", "--workers",
                                "1", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not out.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr
    table = pd.read_excel(out, sheet_name="Sweep")
    done = int((table["status"] != "not run").sum())
    assert len(table) == 8 and 1 <= done < 8
    assert stderr.strip().endswith(f"Interrupted: {done} of 8 runs had finished; they are in {out}.")
