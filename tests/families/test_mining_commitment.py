"""Mining commitments (optimizer/formulation/mining_commitment.py): hand-computed cases for W1.

Horizon 2027Q1-2028Q4 (T = 8, tests/conftest.py SHORT), money and carbon families neutral, constant
economics from the scenario; the mining margin per IT MW-quarter comes from the scenario's per-quarter
inputs (ModelData.site_quarter, hand.mining_margins: (1 - pool fee) * revenue per TH/s * 1e6 / J - power - opex
at the existing fleet's J/TH), never from the solve. The existing fleet lives through the horizon and no ASICs
are bought (tests/conftest.py NEUTRAL_MINING).
"""

from dataclasses import replace

import pytest

from kernel.errors import InputError
from optimizer.data import build_model_data
from optimizer.formulation import mining_commitment
from optimizer.infeasibility import explain_infeasible
from optimizer.solve import SolveOptions, build_and_solve
from tests.conftest import SHORT, make_scenario, make_sites, site_column, solve_case
from tests.families.hand import mining_margins as margins

MINER = {"name": "Miner", "secured_mw": 100}
PUE = 1.06


def test_committed_miners_run_through_loss_making_quarters_until_the_contract_ends():
    """W1/M1: in the base economics the margin turns negative at the 2028Q2 halving; a 30 IT MW contract to
    2028Q3 keeps exactly 30 IT MW running in the loss-making quarters up to 2028Q3 and none in 2028Q4;
    capacity (100 / 1.06) runs wherever the margin is positive. NPV = sum_t df[t] * margin[t] * y[t]."""
    sites = make_sites({**MINER, "mining_commitment_it_mw": 30, "mining_commitment_end_quarter": "2028Q3"})
    plan, d = solve_case(sites)
    margin, capacity = margins(d), 100 / PUE
    assert min(margin) < 0 < max(margin), "the case needs loss-making and profitable quarters"
    hand = [capacity if mt > 0 else (30.0 if t <= 6 else 0.0) for t, mt in enumerate(margin)]
    assert site_column(plan, "Miner", "mining_it_mw") == pytest.approx(hand, abs=1e-6)
    npv = sum(d.discount_factor[t] * mt * y for t, (mt, y) in enumerate(zip(margin, hand)))
    assert plan.kpis["npv_usd"] == pytest.approx(npv, rel=1e-9, abs=1e-3)
    free = solve_case(make_sites(MINER))[0]
    assert plan.kpis["npv_usd"] < free.kpis["npv_usd"]  # the contract costs what the lost quarters lose
    assert mining_commitment.check(plan) == []


def test_committed_miners_hold_power_that_a_hall_would_need():
    """W1/P1/H3: 100 MW, three 10 IT MW halls (14 grid MW each) worth far more than mining; a 60 IT MW
    contract (63.6 grid MW) to 2028Q2 leaves 36.4 MW: two halls start in 2027Q1; a third could start only
    in 2028Q3, too late to be leased by the horizon end, so it is not built. Without the contract: three."""
    site = {**MINER, "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 3}
    free, _ = solve_case(make_sites(site))
    bound, _ = solve_case(make_sites({**site, "mining_commitment_it_mw": 60, "mining_commitment_end_quarter": "2028Q2"}))
    assert list(free.builds["start_quarter"]) == ["2027Q1"] * 3
    assert list(bound.builds["start_quarter"]) == ["2027Q1"] * 2
    assert min(site_column(bound, "Miner", "mining_it_mw")[:6]) >= 60 - 1e-6


def test_a_commitment_above_the_fleet_is_bad_input():
    """W1 cannot hold: 120 IT MW committed on a 100 MW site (fleet 100 / 1.06 = 94.34 IT MW), or 10 IT MW on a
    site energised after the horizon start (no fleet): one sentence each, before any model is built."""
    with pytest.raises(InputError, match=r"field mining_commitment_it_mw: 120 IT MW contracted but the site's "
                                         r"fleet at the horizon start 2027Q1 is 94.3396 IT MW"):
        build_model_data(make_sites({**MINER, "mining_commitment_it_mw": 120}), make_scenario(**SHORT))
    late = make_sites({**MINER, "energised_quarter": "2028Q1", "mining_commitment_it_mw": 10})
    with pytest.raises(InputError, match="fleet at the horizon start 2027Q1 is 0 IT MW"):
        build_model_data(late, make_scenario(**SHORT))


def test_a_commitment_on_power_a_contracted_hall_needs_is_explained_by_name():
    """W1 against P1/H5: 30 MW, a hall contracted in 2027Q1 reserves 14 grid MW, 20 IT MW of contracted miners
    draw 21.2: the explanation names the conflict and the smallest change."""
    sites = make_sites({**MINER, "secured_mw": 30, "ai_eligible": "true", "hall_it_mw": 10, "max_halls": 1,
                        "committed_halls": 1, "mining_commitment_it_mw": 20})
    data = build_model_data(sites, make_scenario(**SHORT))
    model, info = build_and_solve(data, SolveOptions(gap=1e-9, threads=1))
    assert info.status == "infeasible"
    message = explain_infeasible(model, data)
    assert "mining commitments: contracted mining MW (Miner 2027Q1" in message or "power: secured grid MW" in message
    assert "Miner: 5.2 MW more secured power in 2027Q1" in message or \
        "Miner: run 4.9 IT MW fewer miners than contracted in 2027Q1" in message


def test_a_commitment_on_a_site_that_cannot_mine_is_bad_input():
    with pytest.raises(InputError, match="field mining_commitment_it_mw: a site that does not allow mining"):
        make_sites({**MINER, "ai_eligible": "true", "mining_allowed": "false", "hall_it_mw": 10, "max_halls": 1,
                    "mining_commitment_it_mw": 5})


def test_check_flags_miners_below_the_contract():
    sites = make_sites({**MINER, "mining_commitment_it_mw": 30})
    plan, _ = solve_case(sites, btc_price_usd_2026=60_000.0, btc_price_growth_per_yr=0.0)
    broken = plan.schedule.copy()
    broken.loc[broken.index[-1], "mining_it_mw"] = 10.0
    assert mining_commitment.check(replace(plan, schedule=broken)) == [
        "mining commitments: fewer miners than contracted at Miner 2028Q4."]
