"""The README's data dictionaries cannot drift from the registries that drive loading and validation."""

from pathlib import Path

from models.scenario import SCENARIO_FIELDS
from sites.schema import SITE_FIELDS

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_scenario_key_is_in_the_readme():
    assert [k for k in SCENARIO_FIELDS if f"`{k}`" not in README] == []


def test_every_site_field_is_in_the_readme():
    assert [f.name for f in SITE_FIELDS if f"`{f.name}`" not in README] == []
