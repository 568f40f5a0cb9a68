"""Plotly figures, one module per tab: pure functions from results to figures.

Kept apart from the computations so notebooks can get numbers without
plotly, and so each chart can be tested on plain data.
"""

from typing import Any

PALETTE = {"raw": "#9aa5b1", "warped": "#1f6feb", "gain": "#2da44e", "loss": "#cf222e", "eval": "#d4a72c"}


BASE_LAYOUT: dict = {"template": "none", "plot_bgcolor": "white", "paper_bgcolor": "white",
                     "font": {"color": "#2a3f5f"}, "hoverlabel": {"align": "left"}}


def new_figure(data: list[dict] | None = None, layout: dict | None = None) -> Any:
    """A figure with the light look, built in one go from plain dicts, without a plotly template.

    Why: plotly deep-copies its template into every new figure and again on
    ``template="plotly_white"``, and ``update_layout``/``add_*`` re-validate
    path by path: together 25 of the 28 ms of a whole "Siguiente token" call,
    and the template went to the browser with every update (7 KB of a 7.7 KB
    chart).  Charts that are redrawn often (the next-token bars, the training
    curves polled every second) pass nested ``data``/``layout`` dicts here:
    under 1 ms.  ``template="none"`` leaves the look to plotly.js's own
    defaults (white background, light grid), which is what ``plotly_white``
    gave us.  Charts built once may still use ``update_layout``/``add_*``.
    """
    import plotly.graph_objects as go

    from lm_demo.locales.numbers import plotly_separators

    # Hover and tick numbers as the reader writes them (``separators``: decimal mark, thousands mark).
    return go.Figure(data=data or [], layout={**BASE_LAYOUT, "separators": plotly_separators(), **(layout or {})})
