"""PNG export of a chart with the settings in its file name: plotly's own camera button.

Why it works through Gradio: ``gr.Plot`` sends ``figure.to_json()`` to the
browser, and Gradio 6's plotly front end passes the JSON's top-level
``config`` to ``Plotly.react`` (it only adds ``responsive``).  A figure from
``exportable`` adds that ``config`` to its JSON: the modebar is always shown
(a newcomer finds the camera without hovering) and the camera downloads
``<file name>.png`` at twice the on-screen resolution.  The figure is still a
``plotly.graph_objects.Figure`` for Python code and tests.
"""

from __future__ import annotations

import json
from typing import Any

_CLASS: Any = None


def _export_class() -> Any:
    global _CLASS
    if _CLASS is None:
        import plotly.graph_objects as go

        class ExportFigure(go.Figure):
            """A ``go.Figure`` whose JSON carries a plotly ``config`` (see the module doc)."""

            _lm_config: dict | None = None

            def to_json(self, *args: Any, **kwargs: Any) -> str:
                text = super().to_json(*args, **kwargs)
                if not self._lm_config or not text.rstrip().endswith("}"):
                    return text
                return text.rstrip()[:-1] + ',"config":' + json.dumps(self._lm_config) + "}"

        ExportFigure.__module__ = __name__  # Gradio picks the plot type from the module name
        _CLASS = ExportFigure
    return _CLASS


def plot_config(filename: str, scale: int = 2) -> dict:
    """The plotly config: camera button downloads ``filename``.png; the modebar always visible."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "modeBarButtonsToRemove": ["select2d", "lasso2d"],
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": scale},
    }


def exportable(fig: Any, filename: str, scale: int = 2) -> Any:
    """``fig`` (changed in place and returned) so that its PNG export is named ``filename``.png.

    ``filename`` must already be safe (``lm_demo.exports.file_stem``).  None stays None.
    """
    if fig is None:
        return None
    cls = _export_class()
    if not isinstance(fig, cls):
        fig.__class__ = cls
    fig._lm_config = plot_config(filename, scale)
    return fig
