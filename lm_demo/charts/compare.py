"""Figures of the "Antes / después" tab: probability shifts and per-token loss."""

from __future__ import annotations

from typing import Any

from lm_demo.charts import PALETTE, new_figure
from lm_demo.locales.numbers import number

BASE_COLOR = "#8250df"
TUNED_COLOR = "#1f6feb"


def diff_figure(diff: Any, base_label: str = "antes", tuned_label: str = "después",
                title: str = "", empty_text: str = "") -> Any:
    """Diverging horizontal bars: tokens that gained (green) and lost (red) probability.

    ``diff`` is a ``compare.DistributionDiff``.  Each bar's ``customdata`` is
    ``[p_base, p_tuned]``: the raw next-token probabilities of both models,
    so the hover (and a test) can read them back.
    """
    fig = new_figure()
    rows = list(reversed(diff.lost)) + list(reversed(diff.gained))  # biggest gain on top
    hover = ("<b>%{y}</b><br>" + base_label + ": %{customdata[0]:.4f}<br>" + tuned_label
             + ": %{customdata[1]:.4f}<br>Δ: %{x:+.4f}<extra></extra>")
    for shifts, name, color in ((list(reversed(diff.lost)), "−", PALETTE["loss"]),
                                (list(reversed(diff.gained)), "+", PALETTE["gain"])):
        if not shifts:
            continue
        fig.add_bar(
            x=[s.delta for s in shifts], y=[_axis_label(s.label) for s in shifts], orientation="h",
            marker_color=color, name=name, customdata=[[s.p_base, s.p_tuned] for s in shifts],
            hovertemplate=hover, showlegend=False,
        )
    if not rows and empty_text:
        fig.add_annotation(text=empty_text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                           font=dict(size=15))
    fig.update_layout(
        title=dict(text=title, x=0.01, y=0.98, yanchor="top", font=dict(size=14)) if title else None,
        height=max(340, 32 * len(rows) + 100), bargap=0.25,
        margin=dict(l=10, r=20, t=60 if title else 30, b=40),
        xaxis=dict(title=f"{tuned_label} − {base_label}", zeroline=True, zerolinewidth=2,
                   zerolinecolor="#57606a", **_ticks([s.delta for s in rows])),
        yaxis=dict(automargin=True, type="category", tickfont=dict(size=15)),  # the tokens: read from afar
    )
    return fig


def _ticks(values: list[float], max_ticks: int = 8) -> dict:
    """Explicit, signed tick labels (``+0.05``): the Gradio front end ignores some d3 formats."""
    import math

    lo, hi = min(values + [0.0]), max(values + [0.0])
    span = hi - lo
    if span <= 0:
        return {}
    step = next((m * 10.0**e for e in range(-5, 1) for m in (1, 2, 2.5, 5) if span / (m * 10.0**e) <= max_ticks),
                1.0)
    decimals = max(0, -math.floor(math.log10(step)) + (1 if step * 10 ** -math.floor(math.log10(step)) == 2.5 else 0))
    ticks = [k * step for k in range(math.floor(lo / step), math.ceil(hi / step) + 1)]
    text = ["0" if abs(v) < step / 2 else number(v, f"+.{decimals}f") for v in ticks]
    return {"tickmode": "array", "tickvals": ticks, "ticktext": text}


def _axis_label(label: str) -> str:
    """A token label that plotly will not print as an empty tick."""
    return label if label.strip() else repr(label)


def rolling_mean(values: list[float], window: int) -> list[float]:
    """Centred moving average over ``window`` values (fewer at the ends)."""
    from itertools import accumulate

    pre = [0.0, *accumulate(values)]
    half, n = max(1, window) // 2, len(values)
    out = []
    for i in range(n):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        out.append((pre[hi] - pre[lo]) / (hi - lo))
    return out


def loss_figure(base: Any, tuned: Any, base_label: str = "antes", tuned_label: str = "después",
                x_title: str = "posición en el texto (caracteres)", y_title: str = "pérdida por token (nats)",
                smooth_label: str = "media móvil", window: int = 32) -> Any:
    """Per-token loss of both models along the same text (``perplexity.TokenLosses``).

    The x axis is the character offset in the text, so models with different
    tokenizers line up; faint dots are single tokens (hover shows the token),
    the lines are a moving average that makes the gap visible.
    """
    fig = new_figure()
    for res, label, color in ((base, base_label, BASE_COLOR), (tuned, tuned_label, TUNED_COLOR)):
        if res is None:
            continue
        fig.add_scatter(
            x=res.char_starts, y=res.losses, mode="markers", name=f"{label} (token)",
            marker=dict(color=color, size=3, opacity=0.25), customdata=res.labels,
            hovertemplate="<b>%{customdata}</b><br>" + label + ": %{y:.2f}<extra></extra>",
            legendgroup=label, showlegend=False,
        )
        fig.add_scatter(
            x=res.char_starts, y=rolling_mean(res.losses, window), mode="lines",
            name=f"{label} · {smooth_label} (ppl {number(res.perplexity, '.2f')})", line=dict(color=color, width=2),
            hoverinfo="skip", legendgroup=label,
        )
    fig.update_layout(
        height=400, margin=dict(l=50, r=10, t=80, b=50),
        # Above the plot (below Gradio's label): below it, the axis title would sit on the legend.
        xaxis_title=x_title, yaxis_title=y_title,
        legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom"),
        hovermode="closest",
    )
    return fig


def trials_figure(rows: list[dict], model_key: str = "model", value_key: str = "perplexity",
                  best: str | None = None, y_title: str = "perplejidad") -> Any:
    """Bars of the quick model comparison (lower is better; the best one highlighted)."""
    done = [r for r in rows if isinstance(r.get(value_key), (int, float))]
    fig = new_figure()
    fig.add_bar(
        x=[r[model_key] for r in done], y=[r[value_key] for r in done],
        marker_color=[PALETTE["gain"] if r[model_key] == best else PALETTE["raw"] for r in done],
        hovertemplate="%{x}<br>%{y:.2f}<extra></extra>",
    )
    fig.update_layout(height=300, margin=dict(l=40, r=10, t=45, b=60),
                      yaxis_title=y_title)
    return fig
