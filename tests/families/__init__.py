"""Per-family tests: one file per module of optimizer/formulation/ (test_<family>.py), hand economics in hand.py."""
