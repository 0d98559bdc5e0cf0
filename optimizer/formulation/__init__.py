"""One module per constraint family (optimizer/formulation/family.py says what a family module holds);
build.py lists them in order.

Symbols:
    s, t, w, m      site, quarter (t = 0..T-1), scenario, AI demand market [-]
"""
