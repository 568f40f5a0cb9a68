"""Figures of the training tab: loss and perplexity curves, corpus length histogram.

Pure functions of the job's event list (``lm_demo.training`` event dicts),
so a page that re-attaches redraws the whole history from the same data.
They cope with no point (an annotated empty chart), a single point
(markers, not just lines), a loss of exactly 0 on a log axis (clipped to a
small positive value, since log 0 is undefined) and long runs (training
points are thinned to at most ``MAX_POINTS``; evaluations are all kept).
"""

from __future__ import annotations

from typing import Any, Sequence

from lm_demo.charts import PALETTE, new_figure
from lm_demo.locales.numbers import number

MAX_POINTS = 2000
LOG_FLOOR = 1e-4


def _thin(xs: list, ys: list, max_points: int = MAX_POINTS) -> tuple[list, list]:
    if len(xs) <= max_points:
        return xs, ys
    stride = -(-len(xs) // max_points)
    idx = list(range(0, len(xs), stride))
    if idx[-1] != len(xs) - 1:
        idx.append(len(xs) - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def _floor(ys: list, log_scale: bool) -> list:
    if not log_scale:
        return ys
    return [None if y is None else max(float(y), LOG_FLOOR) for y in ys]


def _series(events: Sequence[dict], kind: str, key: str) -> tuple[list, list]:
    xs, ys = [], []
    for e in events:
        if e.get("type") == kind and e.get(key) is not None and e.get("step") is not None:
            xs.append(int(e["step"]))
            ys.append(float(e[key]))
    return xs, ys


def _layout(title: str, y_title: str, x_title: str, log_scale: bool, empty_text: str | None) -> dict:
    """The curves' layout as one nested dict (built in one go: see ``charts.new_figure``)."""
    empty = bool(empty_text)
    layout: dict = {
        "title": {"text": title, "x": 0.02, "font": {"size": 15}}, "height": 340,
        "margin": {"l": 50, "r": 10, "t": 45 if title else 15, "b": 50},
        # Above the plot, where nothing else is drawn: below it, "paso" would sit on the legend.
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "hovermode": "x unified",
        "xaxis": {"title": {"text": x_title}, "rangemode": "tozero", "visible": not empty},
        "yaxis": {"title": {"text": y_title}, "type": "log" if log_scale else "linear", "visible": not empty},
    }
    if empty:
        layout["annotations"] = [{"text": empty_text, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper",
                                  "yref": "paper", "font": {"size": 14, "color": "#6e7781"}}]
    return layout


def overfit_step(events: Sequence[dict]) -> int | None:
    """The step of the lowest evaluation loss when the run was found overfitting (an ``overfit`` event)."""
    found = next((e for e in reversed(events) if e.get("type") == "overfit"), None)
    return None if found is None or found.get("best_step") is None else int(found["best_step"])


def loss_figure(events: Sequence[dict], log_scale: bool = False, *, title: str = "Pérdida",
                train_name: str = "pérdida de entrenamiento", eval_name: str = "pérdida de evaluación",
                x_title: str = "paso", empty_text: str = "Aún no hay datos",
                min_text: str = "mínimo de evaluación") -> Any:
    """Train loss (line) and eval loss (line + markers) against the step.

    When the run overfits, a dashed line marks the evaluation minimum
    (``min_text``): where the two curves part, which the tab's explanation
    points at.
    """
    tx, ty = _thin(*_series(events, "train", "loss"))
    ex, ey = _series(events, "eval", "eval_loss")
    mark = overfit_step(events)
    data = []
    if tx:
        data.append({"type": "scatter", "x": tx, "y": _floor(ty, log_scale), "name": train_name,
                     "mode": "lines+markers" if len(tx) < 60 else "lines",
                     "line": {"color": PALETTE["warped"], "width": 2}, "marker": {"size": 5}})
    if ex:
        data.append({"type": "scatter", "x": ex, "y": _floor(ey, log_scale), "name": eval_name,
                     "mode": "lines+markers", "line": {"color": PALETTE["loss"], "width": 2}, "marker": {"size": 8}})
    layout = _layout(title, "", x_title, log_scale, None if (tx or ex) else empty_text)
    if mark is not None and (tx or ex):
        layout["shapes"] = [{"type": "line", "x0": mark, "x1": mark, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
                             "line": {"color": PALETTE["loss"], "width": 1.5, "dash": "dash"}}]
        layout["annotations"] = [{"text": min_text, "x": mark, "xref": "x", "y": 1, "yref": "paper",
                                  "showarrow": False, "xanchor": "left", "yanchor": "top",
                                  "font": {"size": 12, "color": PALETTE["loss"]}}]
    return new_figure(data, layout)


def perplexity_figure(events: Sequence[dict], log_scale: bool = False, *, title: str = "Perplejidad",
                      name: str = "perplejidad (evaluación)", x_title: str = "paso",
                      empty_text: str = "Aún no hay datos") -> Any:
    """Eval perplexity (exp of the eval loss) against the step."""
    ex, ey = _series(events, "eval", "perplexity")
    data = [{"type": "scatter", "x": ex, "y": _floor(ey, log_scale), "name": name, "mode": "lines+markers",
             "line": {"color": PALETTE["eval"], "width": 2}, "marker": {"size": 8}}] if ex else []
    return new_figure(data, _layout(title, "", x_title, log_scale, None if ex else empty_text))


def length_histogram(lengths: Sequence[int], *, title: str = "Longitud de los textos",
                     x_title: str = "palabras por texto", y_title: str = "textos", median_label: str = "mediana",
                     max_x: int | None = None) -> Any:
    """Histogram of text lengths with a dashed line at the median."""
    import statistics

    vals = list(lengths)
    fig = new_figure()
    if vals:
        cap = max_x or int(sorted(vals)[int(0.99 * (len(vals) - 1))]) + 1  # the 1 % longest would squash the rest
        fig.add_histogram(x=[min(v, cap) for v in vals], nbinsx=min(60, max(5, len(set(vals)))),
                          marker_color=PALETTE["warped"], name=x_title)
        med = statistics.median(vals)
        fig.add_vline(x=med, line_dash="dash", line_color=PALETTE["loss"],
                      annotation_text=f"{median_label} {number(med, 'g')}", annotation_position="top right")
    fig.update_layout(title=dict(text=title, x=0.02, font=dict(size=15)), height=300,
                      margin=dict(l=50, r=10, t=45 if title else 15, b=40), xaxis_title=x_title, yaxis_title=y_title,
                      showlegend=False, bargap=0.05)
    return fig
