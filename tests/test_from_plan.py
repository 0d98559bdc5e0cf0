"""`solve --from plan.xlsx` re-derives: the Sites sheet's derived columns (grey) are recomputed from the
inputs, an edited derived cell is refused in one sentence, an input edit recomputes the cells it made
stale, a site moved by its lat/lon is re-located unless the planner typed its subregion or rate, and
`sites validate plan.xlsx` reads a plan's Sites sheet with the same rules. A three-site plan (a solve takes
about a second). `solve --from approved.xlsx --freeze-until Q` keeps the approved build decisions up to Q,
re-plans the rest from the approved plan as HiGHS's start, and `diff` shows what moved (a one-site hand case)."""

import itertools

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from optimizer import pipeline
from optimizer.cli import app
from optimizer.workbook import write_workbook
from tests.conftest import invoke, make_scenario, make_sites, solve_json, solve_plan

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


# ------------------------------------------------------------------ approved plans: solve --freeze-until
# One site that mines and takes two 10 MW halls (one start a quarter), 2027Q1-2029Q4 with a 40-quarter terminal
# value, BTC at $150k (so mining pays until the 2028Q2 halving): a hall displaces 14 grid MW of miners from its
# start, so where the lease rate sits decides when the halls start. Hand NPVs: tests/families/hand.py.
BOTH = {"name": "Both", "ai_eligible": "true", "mining_allowed": "true", "hall_it_mw": 10, "max_halls": 2,
        "secured_mw": 28}
FREEZE_CASE = dict(horizon_start="2027Q1", horizon_end="2029Q4", terminal_quarters=40, btc_price_usd_2026=150_000.0,
                   max_ai_start_it_mw_per_quarter=10.0)
APPROVED_RATE, NEW_RATE = 160.0, 140.0  # USD/kW-month


def hand_plans(rate: float, keep: tuple | None = None, freeze_t: int = -1) -> list[dict]:
    """Every start schedule of BOTH at `rate` by the hand formulas, best first; with `keep`, only those whose
    starts up to quarter `freeze_t` are `keep`."""
    from tests.families.hand import hand_schedule
    sc = make_scenario(**FREEZE_CASE, lease_usd_per_kw_month=rate)
    plans = [hand_schedule(sc, BOTH, starts, lead=4, capex_per_mw=8.5e6, mining_power=50.0)
             for n in range(3) for starts in itertools.combinations_with_replacement(range(12), n)
             if keep is None or tuple(s for s in starts if s <= freeze_t) == keep]
    return sorted((p for p in plans if p is not None), key=lambda p: -p["npv"])


def starts(path) -> list[str]:
    return list(pd.read_excel(path, sheet_name="Builds")["start_quarter"])


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    """The plan approved at $160/kW-month, as a plan workbook; (folder, path, plan)."""
    folder = tmp_path_factory.mktemp("approved")
    plan, _ = solve_plan(make_sites(BOTH), make_scenario(**FREEZE_CASE, lease_usd_per_kw_month=APPROVED_RATE))
    write_workbook(plan, folder / "approved.xlsx")
    return folder, folder / "approved.xlsx", plan


@pytest.fixture(scope="module")
def replanned(approved):
    """`solve --from approved.xlsx --set lease_usd_per_kw_month=140 --freeze-until 2027Q4`: (path, KPIs)."""
    folder, path, _ = approved
    kpis = solve_json("--from", path, "--set", f"lease_usd_per_kw_month={NEW_RATE:g}", "--freeze-until", "2027Q4",
                      "--gap", "1e-9", "--out", folder / "replanned.xlsx")
    return folder / "replanned.xlsx", kpis


def test_a_frozen_plan_keeps_its_first_year_hall_and_moves_a_later_one(approved, replanned):
    _, path, plan = approved
    best, runner_up = hand_plans(APPROVED_RATE)[:2]
    assert best["starts"] == (3, 4) and best["npv"] - runner_up["npv"] > 1e3  # 2027Q4 and 2028Q1, unique
    assert starts(path) == ["2027Q4", "2028Q1"] and plan.kpis["npv_usd"] == pytest.approx(best["npv"], rel=1e-9)
    assert hand_plans(NEW_RATE)[0]["starts"] == (4, 5)  # re-planned freely, the 2027Q4 hall would move too
    best, runner_up = hand_plans(NEW_RATE, keep=(3,), freeze_t=3)[:2]
    assert best["starts"] == (3, 5) and best["npv"] - runner_up["npv"] > 1e3
    out, kpis = replanned
    assert starts(out) == ["2027Q4", "2028Q2"]  # the frozen start kept, the later one moved a quarter
    assert kpis["npv_usd"] == pytest.approx(best["npv"], rel=1e-9)


def test_the_mip_start_is_the_approved_plan(approved):
    """HiGHS's first plan is the approved one: its NPV when nothing changed, and the approved halls' NPV at
    the new rate when the lease rate moved (the hand NPV of starts 2027Q4 and 2028Q1 at $140)."""
    _, path, plan = approved
    same = pipeline.solve(pipeline.Request(from_plan=str(path), freeze_until="2027Q1", gap=1e-9, threads=1,
                                           marginals=False))
    assert same.info.start == "used" and same.info.start_npv_usd == pytest.approx(plan.kpis["npv_usd"], rel=1e-9)
    moved = pipeline.solve(pipeline.Request(from_plan=str(path), freeze_until="2027Q4", gap=1e-9, threads=1,
                                            marginals=False, overrides=(f"lease_usd_per_kw_month={NEW_RATE:g}",)))
    kept = next(p for p in hand_plans(NEW_RATE) if p["starts"] == (3, 4))
    assert moved.info.start == "used" and moved.info.start_npv_usd == pytest.approx(kept["npv"], rel=1e-9)
    assert moved.info.npv_usd > moved.info.start_npv_usd + 1e5 and moved.warnings == []


def test_diff_lists_the_moved_hall_after_the_freeze(approved, replanned):
    _, path, _ = approved
    out, _ = replanned
    result = CliRunner().invoke(app, ["diff", str(path), str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "replanned.xlsx re-plans approved.xlsx after 2027Q4 (--freeze-until 2027Q4): its build " \
                       "decisions up to 2027Q4 are kept."
    assert [line.split() for line in lines if line.strip().startswith("Both #")] == [
        ["Both", "#2", "│", "moved", "│", "2028Q1", "│", "2028Q2", "│", "yes"]]
    assert "ASICs bought: no change" in result.stdout  # the case buys none
    # 2028: the moved hall frees 14 grid MW of miners in 2028Q1: 13.21 IT MW, 3.30 on the year's average
    mining = [line.split() for line in lines if "mining_it_mw" in line]
    assert mining == [["Both", "│", "2028", "│", "mining_it_mw", "│", "0.0", "│", "3.3", "│", "+3.3", "│", "yes"]]


def test_a_start_the_new_inputs_break_is_a_warning_not_a_failure(approved, tmp_path):
    """max_halls edited to 1: the approved second hall (2028Q1) is not allowed, but it lies after the freeze."""
    _, path, _ = approved
    one = tmp_path / "one.xlsx"
    edited(path, one, {("Both", "max_halls"): 1})
    result = invoke("solve", "--from", one, "--freeze-until", "2027Q4", "--threads", "1", "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 0, result.output
    assert f"warning: {one}: the approved plan breaks a limit of the new inputs after 2027Q4, so HiGHS could not " \
           "start from it (it searched without it)." in " ".join(result.stderr.split())
    assert starts(tmp_path / "x.xlsx") == ["2027Q4"]


def test_a_frozen_hall_the_new_inputs_forbid_is_an_infeasibility_named_by_the_plan(approved, tmp_path):
    _, path, _ = approved
    one = tmp_path / "one.xlsx"
    edited(path, one, {("Both", "max_halls"): 1})
    result = invoke("solve", "--from", one, "--freeze-until", "2028Q1", "--threads", "1", "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 3 and not (tmp_path / "x.xlsx").exists()
    text = " ".join(result.output.split())
    assert "These limits conflict: the approved plan up to 2028Q1 (2 halls started at Both by 2028Q1, above its " \
           "max_halls of 1 now)." in text
    assert "The smallest change that makes a plan possible: start 1 hall fewer at Both by 2028Q1 than the approved " \
           "plan up to 2028Q1 (--freeze-until 2027Q4 re-plans it)." in text


@pytest.mark.parametrize("args, sentence", [
    (("--freeze-until", "2027Q4"), "--freeze-until 2027Q4 keeps the build decisions of an approved plan: give that "
                                   "plan workbook with --from approved.xlsx."),
    (("--from", "{path}", "--freeze-until", "27Q4"),
     "--freeze-until '27Q4' is not a quarter; allowed: YYYYQn with n in 1-4, e.g. 2027Q4."),
    (("--from", "{path}", "--freeze-until", "2030Q1"),
     "--freeze-until 2030Q1 lies outside the horizon 2027Q1-2029Q4 of {path} (Assumptions sheet: horizon_start, "
     "horizon_end); allowed: a quarter in it."),
    (("--from", "{path}", "--freeze-until", "2026Q4"),
     "--freeze-until 2026Q4 lies outside the horizon 2027Q1-2029Q4 of {path} (Assumptions sheet: horizon_start, "
     "horizon_end); allowed: a quarter in it."),
])
def test_a_bad_freeze_until_is_one_sentence_before_any_work(approved, tmp_path, args, sentence):
    _, path, _ = approved
    result = invoke("solve", *(a.format(path=path) for a in args), "--out", tmp_path / "x.xlsx")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip() == sentence.format(path=path)
    assert not (tmp_path / "x.xlsx").exists()


def test_asic_purchases_and_openings_are_kept_exactly(plan, tmp_path):
    """The three-site plan buys ASICs and opens Peach AI ($25M paid in 2027Q1). Its decisions read back; TH/s
    bought become IT MW at the quarter's frontier J/TH under the inputs now (11 J/TH in 2026Q1 instead of 12,
    12% better a year); frozen through the horizon end, every purchase stays as approved to the TH/s."""
    from tests.families.hand import frontier_j_per_th
    path, kpis = plan
    better = ("asic_j_per_th_2026=11",)
    inputs, data = pipeline.prepare(pipeline.Request(from_plan=str(path), freeze_until="2036Q4", overrides=better))
    peach = inputs.approved.table.set_index(["site", "quarter"]).loc["Peach AI"]
    assert peach["site_open"].to_list() == [1] * 40 and peach.loc["2027Q1", "halls_started"] == 1
    schedule = pd.read_excel(path, sheet_name="Schedule").set_index(["site", "quarter"])
    bought = schedule[schedule["asic_bought_ths"] > 0]["asic_bought_ths"]
    assert len(bought) >= 2
    mw = {(s, data.quarters[t]): v for name, (s, t), v in inputs.approved.decisions(data) if name == "asic_bought_it_mw"}
    for (site, q), ths in bought.items():
        assert mw[site, q] == pytest.approx(ths * frontier_j_per_th(inputs.scenario, q) / 1e6, rel=1e-12)
    out = tmp_path / "better.xlsx"
    again = solve_json("--from", path, "--freeze-until", "2036Q4", "--set", better[0], "--out", out)
    assert again["npv_usd"] > kpis["npv_usd"] + 1e6  # the same TH/s on less power
    kept = pd.read_excel(out, sheet_name="Schedule").set_index(["site", "quarter"])["asic_bought_ths"]
    assert kept.to_numpy() == pytest.approx(schedule["asic_bought_ths"].to_numpy(), rel=1e-9, abs=1e-6)
    assert starts(out) == starts(path)
