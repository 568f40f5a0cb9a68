"""Plotly figures, one module per tab: pure functions from results to figures.

Kept apart from the computations so notebooks can get numbers without
plotly, and so each chart can be tested on plain data.
"""

PALETTE = {"raw": "#9aa5b1", "warped": "#1f6feb", "gain": "#2da44e", "loss": "#cf222e", "eval": "#d4a72c"}


def new_figure(**layout: object) -> "plotly.graph_objects.Figure":  # noqa: F821
    """An empty figure with the light look, built without a plotly template.

    Why: plotly deep-copies its template into every new figure and again on
    ``template="plotly_white"``, which was 15 of the 28 ms of a whole
    "Siguiente token" call, and the template went to the browser with every
    update (7 KB of a 7.7 KB chart).  ``template="none"`` leaves the look to
    plotly.js's own defaults (white background, light grid), which is what
    ``plotly_white`` gave us.  ``layout`` is applied on top.
    """
    import plotly.graph_objects as go

    fig = go.Figure(layout={"template": "none", "plot_bgcolor": "white", "paper_bgcolor": "white",
                            "font": {"color": "#2a3f5f"}, "hoverlabel": {"align": "left"}})
    if layout:
        fig.update_layout(**layout)
    return fig
