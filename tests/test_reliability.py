"""Reliability: time limits, result checks, run records, overwrite protection, interrupts, determinism, diff."""

import dataclasses
import json
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.scenario import load_scenario
from optimizer.checks import check_plan
from optimizer.cli import app
from sites.load import REFERENCE_PORTFOLIO, load_sites
from tests.conftest import solve_plan

HASHPIVOT = Path(sys.executable).parent / "hashpivot"


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_time_limit_returns_the_best_plan_flagged_with_gap_and_bound(tmp_path):
    # the reference at gap 0 takes ~6 s on a CI core; try limits until one stops after a plan, before optimality
    for limit_s in ("1.5", "0.75", "3", "0.4"):
        result = invoke("solve", "--out", str(tmp_path / "p.xlsx"), "--time-limit", limit_s, "--gap", "0", "--json")
        if result.exit_code == 0 and json.loads(result.stdout)["status"] == "time_limit":
            break
        assert result.exit_code in (0, 4), result.stderr  # optimal already, or no plan yet: another limit
        (tmp_path / "p.xlsx").unlink(missing_ok=True)
    else:
        pytest.fail("no time limit stopped the reference solve between its first plan and optimality")
    k = json.loads(result.stdout)
    assert k["mip_gap"] > 0 and k["bound_usd"] > k["npv_usd"]
    assert "not proven optimal" in result.stderr
    assert (tmp_path / "p.xlsx").exists()


def test_time_limit_without_a_plan_writes_nothing(tmp_path):
    result = invoke("solve", "--out", str(tmp_path / "p.xlsx"), "--time-limit", "0")
    assert result.exit_code == 4
    assert "No plan was found" in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_result_checks_pass_on_the_reference_plan_and_catch_tampering(reference_plan):
    assert check_plan(reference_plan) == []
    schedule = reference_plan.schedule.copy()
    schedule.loc[schedule.index[0], "mining_grid_mw"] += 1e4
    cash = reference_plan.cashflow.copy()
    cash.loc[cash.index[3], "cash_balance_usd"] = -1e9
    tampered = dataclasses.replace(reference_plan, schedule=schedule, cashflow=cash)
    problems = check_plan(tampered)
    assert any(p.startswith("power: grid MW used exceeds secured MW") for p in problems)
    assert any(p.startswith("liquidity:") for p in problems)


def test_existing_plan_needs_force_and_manifest_records_the_run(tmp_path):
    out, manifest = tmp_path / "plan.xlsx", tmp_path / "plan.json"
    out.write_bytes(b"old plan")
    result = invoke("solve", "--out", str(out), "--json", "--gap", "0.05")
    assert result.exit_code == 2 and "pass --force" in result.stderr
    assert out.read_bytes() == b"old plan"
    result = invoke("solve", "--out", str(out), "--force", "--json", "--manifest", str(manifest), "--threads", "1",
                    "--set", "lease_usd_per_kw_month=155", "--gap", "0.01")
    assert result.exit_code == 0, result.stderr
    record = json.loads(manifest.read_text())
    assert record["site_file_sha256"] == __import__("hashlib").sha256(REFERENCE_PORTFOLIO.read_bytes()).hexdigest()
    assert any(f.endswith("base.toml") for f in record["scenario_files"])
    assert record["overrides"] == ["lease_usd_per_kw_month=155"]
    assert record["scenario"]["lease_usd_per_kw_month"] == 155
    assert record["solver_options"] == {"gap": 0.01, "time_limit": None, "threads": 1, "random_seed": 0}
    assert record["versions"]["pyomo"] and record["versions"]["highspy"] and record["versions"]["HiGHS"]
    k = json.loads(result.stdout)
    assert record["status"] == "optimal"  # within the 1% asked for
    assert record["objective_usd"] == pytest.approx(k["npv_usd"] - k["undrawn_tiebreak_usd"], rel=1e-12)


def test_same_inputs_give_the_same_plan():
    """Same inputs, same seed, same plan (at a 1% gap: determinism does not need the proof)."""
    sites, scenario = load_sites(), load_scenario()
    first, _ = solve_plan(sites, scenario, gap=1e-2)
    second, _ = solve_plan(sites, scenario, gap=1e-2)
    assert first.kpis["npv_usd"] == second.kpis["npv_usd"]
    assert first.builds.equals(second.builds)


def big_portfolio(path: Path, copies: int = 15) -> Path:
    """The reference portfolio repeated with renamed sites: slow enough to interrupt mid-solve."""
    lines = REFERENCE_PORTFOLIO.read_text().splitlines()
    rows = [lines[0]] + [f"{line.split(',', 1)[0]} {k},{line.split(',', 1)[1]}" for k in range(copies)
                         for line in lines[1:]]
    path.write_text("\n".join(rows) + "\n")
    return path


def wait_until_highs_runs(process: subprocess.Popen, timeout_s: float = 180.0) -> None:
    """Return once the child is inside HiGHS: pyomo points the child's fd 2 away from our pipe while it solves."""
    ours = os.readlink(f"/proc/{process.pid}/fd/2")
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        if os.readlink(f"/proc/{process.pid}/fd/2") != ours:
            return
        time.sleep(0.05)
    pytest.fail("the solve never reached HiGHS")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_solve_killed_mid_way_leaves_no_workbook(tmp_path, sig):
    sites = big_portfolio(tmp_path / "big.csv")
    out = tmp_path / "plan.xlsx"
    process = subprocess.Popen([str(HASHPIVOT), "solve", "--sites", str(sites), "--out", str(out), "--gap", "0",
                                "--set", "max_ai_start_it_mw_per_quarter=600",
                                "--set", "market_absorption_it_mw_per_quarter.GA=1200",
                                "--set", "market_absorption_it_mw_per_quarter.TX=1200"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               # a shell running CI in the background may hand SIGINT down as ignored
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_until_highs_runs(process)  # 195 sites at gap 0: data and build take seconds, the solve minutes
    time.sleep(2.0)
    assert process.poll() is None, "the solve finished before it could be interrupted"
    os.kill(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    assert "Traceback" not in stderr
    if sig == signal.SIGINT:  # Ctrl-C reaches the CLI while HiGHS runs, and it says so
        assert stderr.strip().endswith("Interrupted: nothing was written.")
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


def test_diff_of_base_and_bear_names_the_halls_that_moved(tmp_path):
    for name in ("base", "bear"):
        assert invoke("solve", "--scenario", name, "--out", str(tmp_path / f"{name}.xlsx"), "--json").exit_code == 0
    result = invoke("diff", str(tmp_path / "base.xlsx"), str(tmp_path / "bear.xlsx"))
    assert result.exit_code == 0, result.stderr
    assert "Austin County #2" in result.stdout and "moved" in result.stdout
    assert "College Park II #1" in result.stdout and "removed" in result.stdout
    assert "NPV (base): $" in result.stdout and "(-" in result.stdout  # bear is worth less


def test_diff_of_a_missing_plan_is_one_sentence(tmp_path):
    result = invoke("diff", str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'a.xlsx'}: the plan workbook does not exist."


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux `script` for a pseudo-terminal")
def test_a_terminal_sees_one_progress_line_while_highs_runs(tmp_path):
    """Under a pseudo-terminal (`script`), solve rewrites one line in place (carriage returns, no new lines)
    with the phase, the plan's NPV, the bound and the gap; `--quiet` and a pipe get none."""
    out = tmp_path / "plan.xlsx"
    command = f"{HASHPIVOT} solve --out {out} --threads 1 --gap 0.01"
    done = subprocess.run(["script", "-q", "-e", "-c", command, str(tmp_path / "tty.log")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout
    screen = (tmp_path / "tty.log").read_text(errors="replace")
    assert "building the model" in screen and "solving: plan NPV $" in screen and ", gap " in screen
    quick = "--force --gap 0.05"  # the silent cases need no proof of optimality
    quiet = subprocess.run(["script", "-q", "-e", "-c", f"{command} --quiet {quick}", str(tmp_path / "q.log")],
                           capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and "solving:" not in (tmp_path / "q.log").read_text(errors="replace")
    piped = subprocess.run(command.split() + quick.split(), capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "solving:" not in piped.stderr
