"""The family structure holds: each family module defines the whole protocol, the build order is checked,
the shared sums freeze once read, optimizer/ keeps no module-level mutable registry, and the README's
generated tables agree with the family docstrings."""

import ast
import re
from pathlib import Path

import pyomo.environ as pyo
import pytest

from kernel.errors import InputError
from optimizer import docs
from optimizer.build import FAMILIES, cash_lines, check_order, family_name
from optimizer.data import build_model_data
from optimizer.formulation import carbon, taxes
from optimizer.formulation.terms import CashLine, FrozenError, Terms
from tests.conftest import SHORT, make_scenario, make_sites

PROTOCOL = ("REQUIRES", "CASH_LINES", "LIMITS", "add", "schedule_columns", "cashflow_columns", "check")
OPTIMIZER = Path(__file__).parents[1] / "optimizer"


@pytest.mark.parametrize("family", FAMILIES, ids=family_name)
def test_every_family_defines_the_whole_protocol(family):
    missing = [name for name in PROTOCOL if name not in vars(family)]
    assert not missing, f"{family_name(family)} lacks {missing}"
    assert all(isinstance(line, CashLine) for line in family.CASH_LINES)


def test_build_order_is_checked():
    check_order()
    moved = tuple(f for f in FAMILIES if f is not carbon)
    moved = moved[:moved.index(taxes) + 1] + (carbon,) + moved[moved.index(taxes) + 1:]
    with pytest.raises(ValueError, match="taxes requires carbon"):
        check_order(moved)


def test_a_contribution_after_a_coupling_read_is_an_error():
    """Reading a category (as taxes reads the operating lines) freezes it: a later carbon cost would have
    been silently left out of taxable income."""
    terms = Terms((CashLine("lease_revenue_usd", 1, "operating"), CashLine("carbon_cost_usd", -1, "operating"),
                   CashLine("taxes_usd", -1, "tax")), n_extended=4)
    terms.add_cash("lease_revenue_usd", 0, "base", 5.0)
    assert terms.net(0, "base", categories=("operating",)) == 5.0
    with pytest.raises(FrozenError, match="carbon_cost_usd"):
        terms.add_cash("carbon_cost_usd", 0, "base", 1.0)
    terms.add_cash("taxes_usd", 0, "base", 1.0)  # another category is still open
    with pytest.raises(IndexError, match="quarter 4 is outside the 4 cash-flow quarters"):
        terms.add_cash("taxes_usd", 4, "base", 1.0)
    terms.power_use_mw.add(("Alpha", 0, "base"), 3.0)
    assert terms.power_use_mw.total(("Alpha", 0, "base")) == 3.0
    with pytest.raises(FrozenError):
        terms.power_use_mw.add(("Alpha", 1, "base"), 1.0)


def test_building_carbon_after_taxes_fails_instead_of_dropping_its_cost():
    """The families added in the wrong order (the order check bypassed): the freeze still catches it."""
    data = build_model_data(make_sites({"name": "Miner"}), make_scenario(**SHORT, tax_rate=0.25,
                                                                          carbon_price_usd_per_t=50.0))
    order = tuple(f for f in FAMILIES if f is not carbon)
    order = order[:order.index(taxes) + 1] + (carbon,) + order[order.index(taxes) + 1:]
    m = pyo.ConcreteModel()
    m.T, m.W, m.terms = pyo.RangeSet(0, data.n_quarters - 1), pyo.Set(initialize=data.scenarios), Terms(cash_lines(), data.n_extended)
    with pytest.raises(FrozenError, match="carbon_cost_usd"):
        for family in order:
            family.add(m, data)


def test_cash_lines_are_ordered_by_category_then_family():
    categories = [line.category for line in cash_lines()]
    assert categories == sorted(categories, key=("operating", "capex", "financing", "tax").index)
    assert [line.name for line in cash_lines()][:3] == ["mining_revenue_usd", "mining_power_cost_usd", "mining_opex_usd"]


def _module_level_mutables(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        mutable = isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)) or (
            isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("dict", "list", "set", "defaultdict"))
        if mutable:
            found.append(f"{path.relative_to(OPTIMIZER.parent)}:{node.lineno}")
    return found


def test_no_module_level_mutable_registry_in_optimizer():
    found = [hit for path in OPTIMIZER.rglob("*.py") for hit in _module_level_mutables(path)]
    assert not found, found


def test_docs_check_passes_on_this_tree_and_fails_on_drift(tmp_path, monkeypatch, capsys):
    assert docs.main(["--check"]) == 0
    stale = tmp_path / "README.md"
    stale.write_text(docs.README.read_text().replace("| H1 | `halls.py` |", "| H1 | `build.py` |"))
    monkeypatch.setattr(docs, "README", stale)
    assert docs.main(["--check"]) == 1
    assert "run `python -m optimizer.docs`" in capsys.readouterr().err


def test_one_symbol_one_meaning_and_one_label_one_equation():
    assert docs.problems() == []
    keys = [e.key for e in docs.symbols()]
    assert len(keys) == len(set(keys))


def test_every_equation_label_is_named_by_a_test():
    text = "\n".join(p.read_text() for p in Path(__file__).parent.rglob("test_*.py") if p.name != "test_structure.py")
    unnamed = [e.key for e in docs.equations() if not re.search(rf"\b{e.key}\b", text)]
    assert not unnamed, f"equations no test names: {unnamed}"


def test_scenarios_of_one_model_may_differ_only_in_what_enters_per_scenario():
    """ModelData reads structural and financial values from the first scenario: a second scenario with
    another loan-to-cost or carbon price is refused (one sentence per field), another BTC price is not."""
    sites = make_sites({"name": "Miner"})
    base = make_scenario(**SHORT)
    with pytest.raises(InputError) as caught:
        build_model_data(sites, {"base": base, "other": base.with_values(loan_to_cost=0.5, carbon_price_usd_per_t=5.0)})
    assert [p.split(":")[0] for p in caught.value.problems] == ["scenario other, field loan_to_cost",
                                                               "scenario other, field carbon_price_usd_per_t"]
    data = build_model_data(sites, {"base": base, "bear": base.with_values(btc_price_usd_2026=60_000.0)})
    assert data.scenarios == ("base", "bear")
