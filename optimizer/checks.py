"""Result checks: every family recomputes its rows from the exported tables, with a tolerance.

Each family's `check(plan)` reads only Plan tables (the workbook's sheets) and the inputs (ModelData),
never the Pyomo model, so it proves what a reader of the workbook sees.
"""

from optimizer.build import FAMILIES
from optimizer.results import Plan


def check_plan(plan: Plan) -> list[str]:
    """Every violation found, as sentences (empty list: the plan satisfies every family)."""
    return [problem for family in FAMILIES for problem in family.check(plan)]
