"""Regenerate the README's data dictionaries from the registries (scenario fields, site fields).

    python -m optimizer.docs          # rewrite the marked blocks of README.md in place
"""

import sys
from pathlib import Path

from models.scenario import SCENARIO_FIELDS, load_scenario
from sites.schema import SITE_FIELDS

README = Path(__file__).parents[1] / "README.md"


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


BLOCKS = {"scenario-table": scenario_table, "site-table": site_table}


def render(text: str) -> str:
    """`text` with every `<!-- NAME:start -->...<!-- NAME:end -->` block regenerated."""
    for name, make in BLOCKS.items():
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            text = f"{head}{start}\n{make()}\n{end}{tail}"
    return text


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    sys.exit(0)
