"""The README's data dictionaries are generated from the registries; they cannot drift."""

from optimizer.docs import README, render


def test_readme_tables_match_the_registries():
    text = README.read_text()
    assert render(text) == text, "README tables are stale: run `python -m optimizer.docs`"
