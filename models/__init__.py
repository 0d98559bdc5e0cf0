"""WHAT each MW earns and costs: scenarios (TOML) and pure per-(site, quarter) tables. No Pyomo here."""

from models.scenario import BASE_SCENARIO, SCENARIO_DIR, SCENARIO_FIELDS, Scenario, load_scenario

__all__ = ["BASE_SCENARIO", "SCENARIO_DIR", "SCENARIO_FIELDS", "Scenario", "load_scenario"]
