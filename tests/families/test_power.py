"""Power family (optimizer/formulation/power.py): the grid MW used (miners pue_mine y, halls g B N) stay within the
secured MW (P1), and AI halls reserve firm power only (P2). The hand-computed P1 cases live with the family
their docstrings name first (tests/families/test_halls.py: H3/M2/P1), the P2 case with the power ledger
(tests/test_sites_validation.py); here the check test proves that `power.check` flags each of P1 and P2 on its
own.
"""

import pytest

from optimizer.formulation import power
from tests.conftest import make_sites, site_column, solve_case
from tests.families.hand import AI, corrupt


@pytest.fixture(scope="module")
def interruptible():
    """Miners on 100 MW of interruptible power and one hall on the site's 14 MW of firm power (2027Q1 step)."""
    site = {**AI, "mining_allowed": "true", "power_class": "interruptible", "secured_mw": 100,
            "power_steps": "2027Q1:+14:firm"}
    plan = solve_case(make_sites(site), btc_price_usd_2026=200_000)[0]
    assert site_column(plan, "Alpha", "firm_mw") == [14.0] * 8
    assert site_column(plan, "Alpha", "ai_grid_mw_reserved") == pytest.approx([14.0] * 8)
    return plan


def moved_to_interruptible(plan):
    """6 grid MW moved from the miners to the hall in 2027Q3: the total stays 114 MW, the hall's 20 MW exceed
    the 14 MW firm."""
    fewer_miners = corrupt(plan, "schedule", 2, "mining_grid_mw", by=-6.0)
    return corrupt(fewer_miners, "schedule", 2, "ai_grid_mw_reserved", by=6.0)


@pytest.mark.parametrize("breaking, problem", [
    pytest.param(lambda p: corrupt(p, "schedule", 2, "mining_grid_mw", by=1.0),
                 "power: grid MW used exceeds secured MW at Alpha 2027Q3.", id="P1 secured"),
    pytest.param(moved_to_interruptible, "power: AI halls reserve more than the firm MW at Alpha 2027Q3.",
                 id="P2 firm"),
])
def test_check_flags_a_broken_power_balance(interruptible, breaking, problem):
    """P1/P2 check, each part alone: one grid MW of miners above the 114 MW secured, and AI reserving more than
    the firm MW while the total stays within the secured MW."""
    assert power.check(interruptible) == []
    assert power.check(breaking(interruptible)) == [problem]
