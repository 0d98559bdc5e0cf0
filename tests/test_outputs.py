"""Everything a command will write is checked before any work starts: one sentence, exit 2, nothing written.

The bad input in `--set` would fail later; seeing the output's sentence instead proves the outputs are
checked first. /proc refuses new files even to root, so the unwritable case holds under CI's root user.
"""

import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from sites.load import REFERENCE_PORTFOLIO

LATER_ERROR = ("--set", "btc_price_usd_2026=lots")


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    return result.stderr.strip()


def test_an_unwritable_folder_is_named_before_the_inputs_are_read():
    message = run("solve", "--out", "/proc/plan.xlsx", *LATER_ERROR)
    assert message.startswith("--out /proc/plan.xlsx: cannot write in /proc")


@pytest.mark.parametrize("flag,name", [("--json-out", "kpis.json"), ("--manifest", "run.json"),
                                       ("--gpkg", "plan.gpkg"), ("--csv", "tables")])
def test_every_extra_output_is_checked_too(flag, name, tmp_path):
    message = run("solve", "--out", str(tmp_path / "plan.xlsx"), flag, f"/proc/{name}", *LATER_ERROR)
    assert message.startswith(f"{flag} /proc/{name}: cannot write in /proc")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_where_a_file_is_meant_even_with_force(tmp_path):
    (tmp_path / "plan.xlsx").mkdir()
    assert run("solve", "--out", str(tmp_path / "plan.xlsx"), "--force", *LATER_ERROR) == (
        f"--out {tmp_path / 'plan.xlsx'}: a folder is there; allowed: a file name.")


def test_a_file_where_a_folder_is_meant_and_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "tables").write_text("x")
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--csv", str(tmp_path / "tables"), "--force",
               *LATER_ERROR) == f"--csv {tmp_path / 'tables'}: a file is there; allowed: a folder."
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--gpkg", str(tmp_path / "tables" / "p.gpkg"),
               *LATER_ERROR) == f"--gpkg {tmp_path / 'tables' / 'p.gpkg'}: {tmp_path / 'tables'} is a file, not a folder."


def test_an_existing_csv_folder_names_its_own_flag(tmp_path):
    (tmp_path / "tables").mkdir()
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--csv", str(tmp_path / "tables"), *LATER_ERROR) == (
        f"--csv {tmp_path / 'tables'}: the folder exists; pass --force to overwrite it.")


def test_two_outputs_on_one_path(tmp_path):
    same = str(tmp_path / "kpis.json")
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--json-out", same, "--manifest", same, *LATER_ERROR) == (
        f"--manifest {same}: the same path as --json-out; allowed: one output per file.")


@pytest.mark.parametrize("command", [["compare", "base"], ["sweep", "--vary", "btc_price_usd_2026=1:2:2"],
                                     ["tornado"]])
def test_compare_sweep_and_tornado_refuse_to_overwrite_without_force(command, tmp_path):
    out = tmp_path / "out.xlsx"
    out.write_text("keep me")
    assert run(*command, "--out", str(out)) == f"--out {out}: the file exists; pass --force to overwrite it."
    assert out.read_text() == "keep me"


def test_tornado_checks_its_chart_too(tmp_path):
    (tmp_path / "t.png").write_text("keep me")
    assert run("tornado", "--out", str(tmp_path / "t.xlsx")) == (
        f"--out (chart) {tmp_path / 't.png'}: the file exists; pass --force to overwrite it.")


def test_sites_map_and_convert_check_their_outputs_first(tmp_path):
    assert run("sites", "map", str(tmp_path / "missing.csv"), "--out", "/proc/map.png").startswith(
        "--out /proc/map.png: cannot write in /proc")
    assert run("sites", "convert", str(REFERENCE_PORTFOLIO), "/proc/sites.gpkg").startswith(
        "/proc/sites.gpkg: cannot write in /proc")


def test_a_file_inside_a_folder_output_and_an_output_that_is_an_input(tmp_path):
    assert run("solve", "--csv", str(tmp_path / "r"), "--out", str(tmp_path / "r" / "plan.xlsx"), *LATER_ERROR) == (
        f"--out {tmp_path / 'r' / 'plan.xlsx'}: inside --csv {tmp_path / 'r'}, a folder that is written whole; "
        "allowed: a path outside it.")
    plan = tmp_path / "plan.xlsx"
    plan.write_text("an edited plan")
    assert run("solve", "--from", str(plan), "--out", str(plan), "--force") == (
        f"--out {plan}: it is also an input ({plan}); allowed: another file name.")
    assert plan.read_text() == "an edited plan"


def test_one_file_by_two_names_and_a_dash(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "sub")
    first, second = tmp_path / "sub" / "k.json", tmp_path / "alias" / "k.json"
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--json-out", str(first), "--manifest", str(second),
               *LATER_ERROR) == f"--manifest {second}: the same path as --json-out; allowed: one output per file."
    assert run("solve", "--out", str(tmp_path / "p.xlsx"), "--json-out", "-", *LATER_ERROR) == (
        "--json-out -: '-' is not a file name here; allowed: a path.")
