"""Utilization family (optimizer/formulation/utilization.py), switched on here (NEUTRAL_MONEY has it off): a hall
online for k_u quarters must be at least u_min leased (U1), so that fewer halls are built when demand cannot
fill them. The check test proves that `utilization.check` flags a hall leased below the floor (U1).
"""

import pytest

from optimizer.formulation import utilization
from tests.conftest import make_sites, site_column, solve_case
from tests.families.hand import HALL, corrupt


def test_utilization_floor_builds_fewer_halls_when_demand_cannot_fill_them():
    """U1: the market absorbs 2 IT MW a quarter. Without a floor one hall starts in 2027Q1 and leases
    2, 4, 6, 8 MW from t = 4. With 90% leased one quarter after going online, a hall started by t = 2
    would need 9 MW at t + 5 but can lease at most 4: no hall is built (a later one is unprofitable)."""
    sites = make_sites({**HALL, "max_halls": 2, "secured_mw": 28})
    demand = dict(market_absorption_it_mw_per_quarter={"GA": 2.0})
    free, _ = solve_case(sites, **demand)
    assert list(free.builds["start_quarter"]) == ["2027Q1"]
    assert site_column(free, "Hall", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 2, 4, 6, 8], abs=1e-6)
    floored, _ = solve_case(sites, **demand, utilization_min_share=0.9, utilization_after_quarters=1)
    assert floored.builds.empty


@pytest.fixture(scope="module")
def utilized():
    """One hall with the utilization family on (50% leased one quarter after going online)."""
    plan = solve_case(make_sites(HALL), utilization_min_share=0.5, utilization_after_quarters=1)[0]
    assert site_column(plan, "Hall", "ai_it_mw_leased") == pytest.approx([0, 0, 0, 0, 5, 10, 10, 10], abs=1e-6)
    return plan


def test_check_flags_a_broken_utilization_floor(utilized):
    """U1 check: 4 MW leased in 2028Q3, below u_min B = 5 MW, is named."""
    assert utilization.check(utilized) == []
    broken = corrupt(utilized, "schedule", 6, "ai_it_mw_leased", to=4.0)
    assert utilization.check(broken) == ["utilization: halls less than 50% leased at Hall 2028Q3."]
