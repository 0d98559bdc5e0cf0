"""WHAT TO DO with the power: ModelData -> Pyomo MILP (one module per family) -> HiGHS -> tables -> exports."""
