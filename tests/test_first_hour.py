"""A planner's own five-site portfolio in new states (ND, OK, PA, NY, TX), from `sites template` and
`scenarios new` to a plan, through the commands and the files only, as the README tells it."""

import json

import pandas as pd
from typer.testing import CliRunner

from optimizer.cli import app

MINE = [  # name, lat, lon, MW, energised, ai_eligible, mining, build type, hall IT MW, halls, $/MWh
    ("Williston", 48.147, -103.618, 120, "2022Q3", "false", "true", "retrofit", 0, 0, 38),
    ("Tulsa North", 36.27, -95.95, 80, "2023Q1", "true", "true", "retrofit", 25, 2, 44),
    ("Homer City", 40.54, -79.16, 150, "2024Q2", "true", "false", "greenfield", 40, 2, 52),
    ("Massena", 44.93, -74.89, 90, "2021Q4", "true", "true", "retrofit", 20, 3, 41),
    ("Rockdale", 30.655, -97.001, 200, "2022Q1", "false", "true", "retrofit", 0, 0, 46),
]


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def test_a_new_portfolio_from_the_templates_to_a_plan(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("sites", "template", "my_sites.csv")
    template = pd.read_csv("my_sites.csv", dtype=str, keep_default_na=False)
    rows = []
    for name, lat, lon, mw, energised, ai, mining, build, hall, halls, price in MINE:
        row = dict.fromkeys(template.columns, "")
        row.update(name=name, lat=lat, lon=lon, secured_mw=mw, energised_quarter=energised, ai_eligible=ai,
                   mining_allowed=mining, build_type=build, hall_it_mw=hall, max_halls=halls,
                   power_usd_per_mwh_2026=price)
        rows.append(row)
    pd.DataFrame(rows, columns=template.columns).to_csv("my_sites.csv", index=False)

    # the site file is valid, but three of its AI markets are unknown to the scenario: all named at once
    result = run("sites", "validate", "my_sites.csv", "--scenario", "base", code=2)
    named = [line for line in result.stderr.splitlines() if "no entry for market" in line]
    assert sorted(line.split("market '")[1][:2] for line in named) == ["NY", "OK", "PA"]
    assert all("--set market_absorption_it_mw_per_quarter." in line for line in named)

    run("scenarios", "new", "mine", "--extends", "base")
    text = open("mine.toml").read().replace("# [market_absorption_it_mw_per_quarter]",
                                            "[market_absorption_it_mw_per_quarter]\nOK = 40\nPA = 40\nNY = 40")
    text = text.replace("# lease_usd_per_kw_month = 150", "lease_usd_per_kw_month = 140")
    open("mine.toml", "w").write(text)
    assert "valid" in run("sites", "validate", "my_sites.csv", "--scenario", "mine.toml").stdout

    result = run("solve", "--sites", "my_sites.csv", "--scenario", "mine.toml", "--out", "plan.xlsx", "--json",
                 "--threads", "1")
    kpis = json.loads(result.stdout)
    assert kpis["status"] == "optimal" and kpis["check_violations"] == 0 and kpis["sites"] == 5
    sheets = pd.read_excel("plan.xlsx", sheet_name=["Sites", "Assumptions"])
    assert set(sheets["Sites"]["name"]) == {row[0] for row in MINE}
    located = dict(zip(sheets["Sites"]["name"], sheets["Sites"]["state_located"]))
    assert located == {"Williston": "ND", "Tulsa North": "OK", "Homer City": "PA", "Massena": "NY", "Rockdale": "TX"}
    lease = sheets["Assumptions"].set_index("key").loc["lease_usd_per_kw_month", "value"]
    assert float(lease) == 140
