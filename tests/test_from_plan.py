"""`solve --from plan.xlsx` re-derives: the Sites sheet's derived columns (grey) are recomputed from the
inputs, an edited derived cell is refused in one sentence, an input edit recomputes the cells it made
stale, a site moved by its lat/lon is re-located unless the planner typed its subregion or rate, and
`sites validate plan.xlsx` reads a plan's Sites sheet with the same rules. A three-site plan (a solve takes
about a second)."""

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer.cli import app
from tests.conftest import invoke, solve_json

SITES = """name,state,lat,lon,secured_mw,energised_quarter,egrid_subregion,grid_tco2_per_mwh,ai_eligible,mining_allowed,build_type,hall_it_mw,max_halls,site_opening_cost_usd,power_usd_per_mwh_2026,market
Peach AI,GA,33.653,-84.449,100,2025Q1,,,true,true,retrofit,30,2,25000000,56,GA
Peach Mine,,33.737,-82.739,60,2023Q3,,,false,true,retrofit,0,0,0,50,
Typed Rate,,33.0,-84.0,40,2024Q1,SRTV,0.5,false,true,retrofit,0,0,0,50,
"""
ERCT, SRSO, SRTV = 0.332874, 0.382074, 0.407362  # eGRID2023 total-output rates, tCO2/MWh (sites/data/geo)
TEXAS = (31.0, -97.5)
DERIVED_GREY = "FFD9D9D9"




@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("from_plan")
    (folder / "sites.csv").write_text(SITES)
    kpis = solve_json("--sites", folder / "sites.csv", "--out", folder / "plan.xlsx")
    return folder / "plan.xlsx", kpis


def sites_sheet(path) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name="Sites").set_index("name")


def edited(source, target, edits: dict) -> None:
    """Copy a plan workbook with Sites cells changed: {(site, column): value}."""
    book = openpyxl.load_workbook(source)
    ws = book["Sites"]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for (site, column), value in edits.items():
        ws.cell(rows[site], header.index(column) + 1).value = value
    book.save(target)


def test_a_plan_re_solved_from_itself_gives_the_same_npv(plan, tmp_path):
    path, kpis = plan
    again = solve_json("--from", path, "--out", tmp_path / "again.xlsx")
    assert again["npv_usd"] == pytest.approx(kpis["npv_usd"], rel=1e-9)
    assert again["ai_halls_built"] == kpis["ai_halls_built"]
    pd.testing.assert_frame_equal(sites_sheet(tmp_path / "again.xlsx"), sites_sheet(path))  # a fixed point


def test_derived_columns_are_marked_and_hold_what_the_inputs_give(plan):
    path, _ = plan
    ws = openpyxl.load_workbook(path)["Sites"]
    header = [c.value for c in ws[1]]
    derived = ["lead_quarters", "capex_usd_per_it_mw", "mining_capacity_it_mw", "mining_peak_it_mw",
               "existing_fleet_it_mw", "existing_fleet_j_per_th", "existing_fleet_retire_quarter",
               "flexibility_usd_per_mw_yr", "curtailed_hours_share", "state_located",
               "egrid_subregion_located", "grid_tco2_per_mwh_located"]
    assert header[-13:] == derived + ["derived_check"]
    for name in derived:
        cell = ws.cell(1, header.index(name) + 1)
        assert cell.fill.fgColor.rgb == DERIVED_GREY and cell.comment.text.startswith("derived: recomputed on --from")
    assert ws.cell(1, header.index("secured_mw") + 1).fill.fgColor.rgb != DERIVED_GREY
    letter = openpyxl.utils.get_column_letter(header.index("derived_check") + 1)
    assert ws.column_dimensions[letter].hidden
    sites = sites_sheet(path)
    assert sites["lead_quarters"].to_list() == [4, 4, 4]  # retrofit: base lead_quarters_retrofit
    assert sites["capex_usd_per_it_mw"].to_list() == [8.5e6] * 3
    assert sites["mining_capacity_it_mw"].to_list() == pytest.approx([100 / 1.06, 60 / 1.06, 40 / 1.06])
    assert sites["existing_fleet_it_mw"].to_list() == pytest.approx([100 / 1.06, 60 / 1.06, 40 / 1.06])  # blank: fills it
    assert sites["existing_fleet_j_per_th"].to_list() == [16.7] * 3 and sites["flexibility_usd_per_mw_yr"].eq(0).all()
    assert sites["state_located"].to_list() == ["GA", "GA", "GA"]
    assert sites["egrid_subregion_located"].to_list() == ["SRSO", "SRSO", "SRSO"]
    assert sites["grid_tco2_per_mwh_located"].to_list() == pytest.approx([SRSO, SRSO, SRTV])  # SRTV typed: its rate
    # inputs: blank where the location gives the value (Peach AI's typed GA is its point's state), else kept
    assert sites["state"].isna().all()
    assert sites.loc["Typed Rate", "egrid_subregion"] == "SRTV" and sites.loc["Typed Rate", "grid_tco2_per_mwh"] == 0.5
    assert sites.loc[["Peach AI", "Peach Mine"], ["egrid_subregion", "grid_tco2_per_mwh"]].isna().all().all()


def test_an_edited_lead_quarters_is_refused_in_one_sentence(plan, tmp_path):
    path, _ = plan
    bad = tmp_path / "bad.xlsx"
    edited(path, bad, {("Peach AI", "lead_quarters"): 2})
    result = invoke("solve", "--from", bad, "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "Traceback" not in result.output
    sentence = (f"{bad} (Sites sheet): row 2 (Peach AI), field lead_quarters: 2 is derived, not an input (the row's "
                "inputs give 4, recomputed on --from); edit build_type or the Assumptions sheet's "
                "lead_quarters_retrofit instead, or clear the cell.")
    assert result.output.strip() == sentence
    assert not (tmp_path / "x.xlsx").exists()
    result = invoke("sites", "validate", bad)  # the same rule
    assert result.exit_code == 2 and result.output.strip() == sentence


def test_an_input_edit_recomputes_the_derived_cells_it_made_stale(plan, tmp_path):
    path, kpis = plan
    assert kpis["ai_halls_built"] >= 1
    greenfield = tmp_path / "greenfield.xlsx"
    edited(path, greenfield, {("Peach AI", "build_type"): "greenfield"})  # lead_quarters 4 and capex now stale
    solve_json("--from", greenfield, "--out", tmp_path / "again.xlsx")
    sites = sites_sheet(tmp_path / "again.xlsx")
    assert sites.loc["Peach AI", "lead_quarters"] == 7 and sites.loc["Peach AI", "capex_usd_per_it_mw"] == 11.5e6
    builds = pd.read_excel(tmp_path / "again.xlsx", sheet_name="Builds")
    for row in builds.itertuples():  # each hall online 7 quarters after its start (greenfield lead time)
        start, online = (int(q[:4]) * 4 + int(q[-1]) for q in (row.start_quarter, row.online_quarter))
        assert online - start == 7


def test_a_moved_site_follows_its_new_point_unless_typed(plan, tmp_path):
    path, _ = plan
    moved = tmp_path / "moved.xlsx"
    edited(path, moved, {("Peach Mine", "lat"): TEXAS[0], ("Peach Mine", "lon"): TEXAS[1],
                         ("Typed Rate", "lat"): TEXAS[0] + 0.1, ("Typed Rate", "lon"): TEXAS[1]})
    solve_json("--from", moved, "--out", tmp_path / "again.xlsx")
    sites = sites_sheet(tmp_path / "again.xlsx")
    mine, typed = sites.loc["Peach Mine"], sites.loc["Typed Rate"]
    assert (mine["state_located"], mine["egrid_subregion_located"]) == ("TX", "ERCT")
    assert mine["grid_tco2_per_mwh_located"] == pytest.approx(ERCT)
    assert pd.isna(mine["state"]) and pd.isna(mine["egrid_subregion"]) and pd.isna(mine["grid_tco2_per_mwh"])
    assert (typed["state_located"], typed["egrid_subregion"], typed["grid_tco2_per_mwh"]) == ("TX", "SRTV", 0.5)
    emissions = pd.read_excel(tmp_path / "again.xlsx", sheet_name="Emissions")
    first = emissions[emissions["quarter"] == "2027Q1"].set_index("site")["grid_tco2_per_mwh"]
    assert first["Peach Mine"] == pytest.approx(ERCT * 0.97 ** 4)  # ERCT declines 3%/yr from 2023Q1, 16 quarters
    assert first["Typed Rate"] == pytest.approx(0.5 * 0.99 ** 4)  # the typed rate, SRTV's 1%/yr decline
    assert first["Peach AI"] == pytest.approx(SRSO * 0.975 ** 4)  # not moved


def test_sites_validate_and_show_accept_a_plan_workbook(plan):
    path, _ = plan
    result = invoke("sites", "validate", path)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "valid: 3 sites, 200 MW secured at peak (200 MW firm), 1 AI-eligible, eGRID subregions SRSO, SRTV" in text
    assert f"Fits {path} (Assumptions sheet), 2027Q1-2036Q4" in text
    result = CliRunner().invoke(app, ["sites", "show", str(path)], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "Typed Rate" in result.stdout


def test_a_plan_without_fingerprints_is_checked_cell_by_cell(plan, tmp_path):
    """Without derived_check (an older plan, or a row typed in by hand) every derived cell must equal
    what its inputs give: the written values equal the recomputed ones, and an edit is refused."""
    path, _ = plan
    plain = tmp_path / "plain.xlsx"
    edited(path, plain, {(site, "derived_check"): None for site in ("Peach AI", "Peach Mine", "Typed Rate")})
    result = invoke("sites", "validate", plain)
    assert result.exit_code == 0, result.output
    bad = tmp_path / "bad.xlsx"
    edited(plain, bad, {("Peach Mine", "mining_capacity_it_mw"): 80, ("Peach Mine", "state_located"): "SC"})
    result = invoke("sites", "validate", bad)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 2
    assert lines[0].startswith(f"{bad} (Sites sheet): row 3 (Peach Mine), field mining_capacity_it_mw: 80 is derived")
    assert "edit secured_mw, energised_quarter, power_steps or mining_allowed" in lines[0]
    assert lines[1].startswith(f"{bad} (Sites sheet): row 3 (Peach Mine), field state_located: 'SC' is derived")
    assert "edit lat/lon, or type the state in the state column instead" in lines[1]
