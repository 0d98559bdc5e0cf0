"""Where the bundled reference portfolio lives (a light module: the CLI names it without loading pandas)."""

from pathlib import Path

REFERENCE_PORTFOLIO = Path(__file__).parent / "data" / "reference_portfolio.csv"
