"""Plotly figures, one module per tab: pure functions from results to figures.

Kept apart from the computations so notebooks can get numbers without
plotly, and so each chart can be tested on plain data.
"""

PALETTE = {"raw": "#9aa5b1", "warped": "#1f6feb", "gain": "#2da44e", "loss": "#cf222e", "eval": "#d4a72c"}
