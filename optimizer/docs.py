"""The README's reference tables, generated from the one place each fact lives, and checked:

- scenario and site fields: the registries (models/scenario.py, sites/schema.py);
- symbols and numbered equations: the family docstrings (`Symbols:` lines `SYMBOL  meaning [unit]`,
  `Equations:` lines `(X1) ...`, continuation lines indented deeper);
- the bundled scenarios' results: tests/expected/scenarios.json (the regression file).

    python -m optimizer.docs           # rewrite the marked blocks of README.md in place
    python -m optimizer.docs --check   # exit 1 when README.md or the family docstrings disagree
"""

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from models.scenario import SCENARIO_FIELDS, list_scenarios, load_scenario
from optimizer import formulation
from optimizer.build import FAMILIES, family_name
from sites.schema import SITE_FIELDS

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
EXPECTED = ROOT / "tests" / "expected" / "scenarios.json"
_SYMBOL = re.compile(r"^    (\S.*?)\s{2,}(.+?)\s*\[([^\]]*)\]\s*$")
_EQUATION = re.compile(r"^    \(([A-Z]\d+)\)\s+(.*)$")


@dataclass(frozen=True)
class Entry:
    key: str       # symbol or equation label
    text: str      # meaning or equation
    unit: str
    module: str


def _sections(doc: str) -> dict[str, list[str]]:
    """Section name (`Symbols`, `Equations`) -> its lines, up to the next blank line."""
    out, current = {}, None
    for line in doc.splitlines():
        head = re.match(r"^(Symbols|Equations)\b.*:$", line)
        if head:
            current = out.setdefault(head.group(1), [])
        elif not line.strip():
            current = None
        elif current is not None:
            current.append(line)
    return out


def _entries(lines: list[str], pattern, module: str, unit: bool) -> list[Entry]:
    out = []
    for line in lines:
        match = pattern.match(line)
        if match:
            out.append(Entry(match.group(1), re.sub(r"\s{2,}", " ", match.group(2)), match.group(3) if unit else "",
                             module))
        elif out and line.startswith("     "):
            last, more = out.pop(), line.strip()
            out.append(Entry(last.key, re.sub(r"\s{2,}", " ", f"{last.text} {more}"), last.unit, module))
        else:
            raise ValueError(f"{module}: cannot read docstring line {line!r}")
    return out


def modules() -> list[tuple[str, str]]:
    """(module file name, docstring) of the formulation package and every family, in build order."""
    return [("formulation/__init__.py", formulation.__doc__)] + [
        (f"{family_name(f)}.py", f.__doc__) for f in FAMILIES]


def symbols() -> list[Entry]:
    return [e for name, doc in modules() for e in _entries(_sections(doc).get("Symbols", []), _SYMBOL, name, True)]


def equations() -> list[Entry]:
    return [e for name, doc in modules() for e in _entries(_sections(doc).get("Equations", []), _EQUATION, name, False)]


def problems() -> list[str]:
    """One symbol, one meaning; one label, one equation; every family documents its equations."""
    out = []
    for kind, entries in (("symbol", symbols()), ("equation label", equations())):
        seen: dict = {}
        for e in entries:
            if e.key in seen:
                out.append(f"{kind} {e.key} is defined in {seen[e.key].module} and in {e.module}")
            seen[e.key] = e
    documented = {e.module for e in equations()}
    out += [f"{family_name(f)}.py has no numbered equation" for f in FAMILIES if f"{family_name(f)}.py" not in documented]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def symbol_table() -> str:
    lines = ["| symbol | meaning | unit | module |", "|---|---|---|---|"]
    lines += [f"| `{_cell(e.key)}` | {_cell(e.text)} | {e.unit} | `{e.module}` |" for e in symbols()]
    return "\n".join(lines)


def constraint_table() -> str:
    lines = ["| # | family | equation |", "|---|---|---|"]
    lines += [f"| {e.key} | `{e.module}` | {_cell(e.text)} |" for e in equations()]
    return "\n".join(lines)


def scenario_results_table() -> str:
    expected = json.loads(EXPECTED.read_text())
    lines = ["| scenario | what changes | NPV | AI halls | first / last hall start |", "|---|---|---|---|---|"]
    for name, _, description in list_scenarios():
        e = expected.get(name, {})
        npv = f"${e['npv_usd'] / 1e6:,.1f}M" if e else "-"
        starts = f"{e['first_ai_start_quarter']} / {e['last_ai_start_quarter']}" if e.get("ai_halls_built") else "-"
        lines.append(f"| `{name}` | {_cell(description)} | {npv} | {e.get('ai_halls_built', '-')} | {starts} |")
    return "\n".join(lines)


def scenario_table() -> str:
    sc = load_scenario()
    lines = ["| key | base value | unit | meaning |", "|---|---|---|---|"]
    for name, f in SCENARIO_FIELDS.items():
        value = getattr(sc, name)
        if isinstance(value, dict):
            value = ", ".join(f"{k} {x:g}" for k, x in value.items())
        elif isinstance(value, float):
            value = f"{value:,.6g}"
        lines.append(f"| `{name}` | {value} | {f.metadata['unit']} | {f.metadata['description']} |")
    return "\n".join(lines)


def site_table() -> str:
    lines = ["| field | type | unit | required / default | allowed | meaning |", "|---|---|---|---|---|---|"]
    for f in SITE_FIELDS:
        default = "required" if f.required else ("optional" if f.default == '' else f"default `{f.default}`")
        lines.append(f"| `{f.name}` | {f.kind} | {f.unit} | {default} | {f.allowed()} | {f.description} |")
    return "\n".join(lines)


BLOCKS = (("scenario-table", scenario_table), ("site-table", site_table), ("symbol-table", symbol_table),
          ("constraint-table", constraint_table), ("scenario-results", scenario_results_table))


def render(text: str) -> str:
    """`text` with every `<!-- NAME:start -->...<!-- NAME:end -->` block regenerated."""
    for name, make in BLOCKS:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{make()}\n{end}{tail}"
    return text


def main(argv: list[str]) -> int:
    text = README.read_text()
    found = problems()
    if "--check" in argv:
        missing = [name for name, _ in BLOCKS if f"<!-- {name}:start -->" not in text]
        found += [f"README.md has no generated block {name}" for name in missing]
        if render(text) != text:
            found.append("README.md tables differ from the registries and family docstrings: "
                         "run `python -m optimizer.docs`")
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    README.write_text(render(text))
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
