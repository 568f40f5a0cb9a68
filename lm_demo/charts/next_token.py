"""Bar chart of the next-token distribution: the model's (T=1) vs the sampled one (after temperature/top-k/top-p)."""

from __future__ import annotations

from typing import Any

from lm_demo.charts import PALETTE, new_figure


def distribution_figure(result: Any, raw_name: str = "modelo (T=1)",
                        warped_name: str = "muestreada (tras T/top-k/top-p)",
                        y_title: str = "probabilidad") -> Any:
    """Grouped bars for ``NextTokenResult``'s top tokens, most likely first."""
    labels = [f"{i + 1}. {lab}" for i, lab in enumerate(result.top_labels)]
    bars = [
        {"type": "bar", "x": labels, "y": list(result.top_probs), "name": raw_name,
         "marker": {"color": PALETTE["raw"]}, "hovertemplate": "%{x}<br>p=%{y:.4f}<extra>" + raw_name + "</extra>"},
        {"type": "bar", "x": labels, "y": list(result.top_warped), "name": warped_name,
         "marker": {"color": PALETTE["warped"]}, "hovertemplate": "%{x}<br>p=%{y:.4f}<extra>" + warped_name + "</extra>"},
    ]
    return new_figure(bars, {
        "barmode": "group", "yaxis": {"title": {"text": y_title}, "range": [0, 1.0]}, "xaxis": {"tickangle": -40},
        "margin": {"l": 40, "r": 10, "t": 40, "b": 80}, "height": 380,
        # inside the plot, top right (bars are tallest on the left): above it, Gradio's label would hide it
        "legend": {"orientation": "h", "x": 0.99, "xanchor": "right", "y": 0.99, "yanchor": "top",
                   "bgcolor": "rgba(255,255,255,0.8)"},
    })
