""""Dentro del modelo" charts: attention heatmaps (one head, all heads), the logit lens, two branches.

Why numeric axes with tick labels: a prompt often repeats a token (``␣la``
twice), and plotly merges equal category labels into one column.  Why the
masked cells are a separate grey trace: the causal mask must be visible as
such (the future), not as a weight of 0.
"""

from __future__ import annotations

from typing import Any

from lm_demo.charts import new_figure

ATTENTION_SCALE = "Blues"
LENS_SCALE = "YlGnBu"
MASK_COLOR = "#e5e7eb"
GRID_MAX_TOKENS = 24  # the overview grid shows at most the last GRID_MAX_TOKENS tokens of each map
BRANCH_COLORS = {"current": "#1f6feb", "saved": "#d4a72c"}


def _ticks(labels: list[str]) -> dict[str, Any]:
    return {"tickmode": "array", "tickvals": list(range(len(labels))), "ticktext": labels}


def _title(text: str | None) -> dict[str, Any]:
    """A small title at the top left, or none (when the component's label already says it); either way room
    at the top for Gradio's label, drawn over the plot."""
    if not text:
        return {"margin_t": 46}
    return {"title": {"text": text, "x": 0.02, "font": {"size": 14}}, "margin_t": 50}


def _layout(title: str | None, margin: dict[str, int], **layout: Any) -> dict[str, Any]:
    t = _title(title)
    out = {**layout, "margin": {**margin, "t": t.pop("margin_t")}}
    out.update(t)
    return out


def attention_figure(labels: list[str], weights: list[list[float]], title: str, x_title: str, y_title: str,
                     masked_name: str, weight_name: str) -> Any:
    """Heatmap of one head: row = the token reading, column = the token looked at; the future in grey."""
    n = len(labels)
    z = [[round(w, 4) if j <= i else None for j, w in enumerate(row)] for i, row in enumerate(weights)]
    masked = [[1 if j > i else None for j in range(n)] for i in range(n)]
    pairs = [[[labels[i], labels[j]] for j in range(n)] for i in range(n)]
    data = [
        {"type": "heatmap", "z": masked, "showscale": False, "colorscale": [[0, MASK_COLOR], [1, MASK_COLOR]],
         "hovertemplate": masked_name + "<extra></extra>", "xgap": 1, "ygap": 1},
        {"type": "heatmap", "z": z, "zmin": 0, "zmax": 1, "colorscale": ATTENTION_SCALE, "customdata": pairs,
         "colorbar": {"title": {"text": weight_name}, "thickness": 12},
         "hovertemplate": "«%{customdata[0]}» → «%{customdata[1]}»<br>" + weight_name + " %{z:.3f}<extra></extra>",
         "xgap": 1, "ygap": 1},
    ]
    if n <= 14:
        data[1]["texttemplate"] = "%{z:.2f}"
        data[1]["textfont"] = {"size": 10}
    size = min(max(300, 28 * n + 160), 720)
    return new_figure(data, _layout(
        title, {"l": 90, "r": 10, "b": 90}, height=size,
        xaxis={**_ticks(labels), "title": {"text": x_title}, "tickangle": -45, "side": "bottom"},
        yaxis={**_ticks(labels), "title": {"text": y_title}, "autorange": "reversed"}))


def attention_grid_figure(all_weights: Any, selected: tuple[int, int], layer_fmt: str, head_fmt: str,
                          title: str | None = None) -> Any:
    """Small multiples: one tile per layer (rows) and head (columns), the selected one boxed.

    ``all_weights`` is a (layers, heads, tokens, tokens) tensor; tiles show the
    last ``GRID_MAX_TOKENS`` tokens.  ``layer_fmt``/``head_fmt`` format a tick
    (``"capa {n}"``).
    """
    n_layers, n_heads, n, _ = all_weights.shape
    k = min(n, GRID_MAX_TOKENS)
    w = all_weights[:, :, n - k:, n - k:]
    step = k + 1
    size_y, size_x = n_layers * step - 1, n_heads * step - 1
    z: list[list[float | None]] = [[None] * size_x for _ in range(size_y)]
    vals = w.tolist()
    for li in range(n_layers):
        for hi in range(n_heads):
            tile = vals[li][hi]
            for i in range(k):
                row = z[li * step + i]
                for j in range(i + 1):  # the causal part only; the future stays empty (grey)
                    row[hi * step + j] = round(tile[i][j], 3)
    sl, sh = selected
    box = {"type": "rect", "x0": sh * step - 0.5, "x1": sh * step + k - 0.5, "y0": sl * step - 0.5,
           "y1": sl * step + k - 0.5, "line": {"color": "#cf222e", "width": 2}}
    centers = lambda count: [i * step + (k - 1) / 2 for i in range(count)]  # noqa: E731
    tile_px = max(36, min(100, 640 // n_layers))  # tall enough to see a pattern, the grid within a screen
    return new_figure([
        {"type": "heatmap", "z": z, "zmin": 0, "zmax": 1, "colorscale": ATTENTION_SCALE, "showscale": False,
         "hovertemplate": "%{z:.3f}<extra></extra>"},
    ], _layout(
        title, {"l": 70, "r": 10, "b": 30}, height=n_layers * tile_px + 80, shapes=[box], plot_bgcolor=MASK_COLOR,
        xaxis={"tickmode": "array", "tickvals": centers(n_heads), "side": "bottom", "showgrid": False,
               "ticktext": [head_fmt.format(n=h) for h in range(n_heads)], "zeroline": False},
        yaxis={"tickmode": "array", "tickvals": centers(n_layers), "autorange": "reversed", "showgrid": False,
               "ticktext": [layer_fmt.format(n=li) for li in range(n_layers)], "zeroline": False}))


def lens_figure(lens: Any, row_names: list[str], title: str | None, x_title: str, y_title: str, hover_fmt: str,
                pred_name: str, final_name: str) -> Any:
    """Heatmap of the logit lens: row = layer (the input at the bottom, the output at the top), column =
    position; each cell names the layer's most likely next token, coloured by its probability.

    ``hover_fmt`` formats the cell's heading (``"capa {layer}, después de «{token}»"``).
    """
    rows = len(lens.top_ids)
    n = len(lens.labels)
    heads = [[hover_fmt.format(layer=r, token=lens.labels[c]) for c in range(n)] for r in range(rows)]
    custom = [[[heads[r][c], lens.final_probs[r][c]] for c in range(n)] for r in range(rows)]
    data = [{
        "type": "heatmap", "z": [[round(p, 4) for p in row] for row in lens.top_probs], "zmin": 0, "zmax": 1,
        "text": lens.top_labels, "texttemplate": "%{text}", "textfont": {"size": 13 if n <= 10 else 11 if n <= 16 else 9},
        "customdata": custom, "colorscale": LENS_SCALE, "xgap": 1, "ygap": 1,
        "colorbar": {"title": {"text": "p"}, "thickness": 12},
        "hovertemplate": "%{customdata[0]}<br>" + pred_name + " «%{text}» (%{z:.3f})<br>" + final_name
                         + " %{customdata[1]:.3f}<extra></extra>",
    }]
    return new_figure(data, _layout(
        title, {"l": 100, "r": 10, "b": 90}, height=min(max(260, 40 * rows + 150), 820),
        xaxis={**_ticks(lens.labels), "title": {"text": x_title}, "tickangle": -45},
        yaxis={**_ticks(row_names), "title": {"text": y_title}}))


def branches_figure(branches: list[tuple[str, str, list[Any]]], title: str | None, x_title: str,
                    y_title: str) -> Any:
    """Cumulative log-probability per step of each branch: ``(kind, name, rows)`` with kind current/saved."""
    data = []
    for kind, name, rows in branches:
        data.append({"type": "scatter", "mode": "lines+markers", "name": name,
                     "x": [r.step for r in rows], "y": [r.cum_logprob for r in rows],
                     "text": [r.chosen_token for r in rows], "line": {"color": BRANCH_COLORS.get(kind, "#444")},
                     "hovertemplate": "%{text}<br>%{y:.2f}<extra>" + name + "</extra>"})
    return new_figure(data, _layout(
        title, {"l": 60, "r": 10, "b": 50}, height=320, xaxis={"title": {"text": x_title}, "dtick": 1},
        yaxis={"title": {"text": y_title}},
        legend={"orientation": "h", "x": 0.99, "xanchor": "right", "y": 0.99, "yanchor": "top"}))
