"""Decoding tab visuals: probability buckets for highlighted text, and a per-step chart.

Why buckets rather than a continuous color: a class reads "green = the model
expected it, red = a surprise" at a glance, and ``gr.HighlightedText`` colors
by label.  The buckets are fixed so colors mean the same thing across runs.
"""

from __future__ import annotations

from typing import Any

# (lower bound, label, color), most likely first; labels are language-neutral.
PROB_BUCKETS: list[tuple[float, str, str]] = [
    (0.5, "≥ 50 %", "#2da44e"),
    (0.2, "20–50 %", "#8ac926"),
    (0.05, "5–20 %", "#f2c14e"),
    (0.01, "1–5 %", "#f08c3a"),
    (0.0, "< 1 %", "#cf222e"),
]
COLOR_MAP: dict[str, str] = {label: color for _, label, color in PROB_BUCKETS}
DECODER_COLORS = ["#1f6feb", "#d4a72c", "#8250df", "#2da44e", "#cf222e", "#9aa5b1", "#bf3989", "#0a7b83"]


def prob_bucket(p: float) -> str:
    """The bucket label of probability ``p``."""
    for lo, label, _ in PROB_BUCKETS:
        if p >= lo:
            return label
    return PROB_BUCKETS[-1][1]


def highlighted(prompt_text: str, pieces: list[tuple[str, float]]) -> list[tuple[str, str | None]]:
    """``gr.HighlightedText`` value: the prompt unlabelled, then each piece by bucket.

    A generated newline is shown as ``↵`` before the line break, or a text of
    newlines would look empty and its colors would be invisible.
    """
    out: list[tuple[str, str | None]] = [(prompt_text, None)] if prompt_text else []
    out += [(text.replace("\n", "↵\n"), prob_bucket(p)) for text, p in pieces]
    return out


def steps_figure(runs: list[Any], names: list[str], prob_title: str = "prob. del token elegido · modelo (T=1)",
                 cum_title: str = "log-prob acumulada · modelo (T=1)", step_title: str = "paso",
                 rank_label: str = "rango · modelo (T=1)", mode_names: dict[str, str] | None = None) -> Any:
    """Two stacked panels per step: chosen-token probability, cumulative log-prob (the model's, T=1).

    ``runs`` are ``decoding.DecoderRun``; a marker is a circle for a greedy
    choice and a diamond for a sampled one; hovering shows the token, its
    rank and the mode.
    """
    from plotly.subplots import make_subplots

    from lm_demo.charts import new_figure

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.13,  # room for the second title
                        subplot_titles=(prob_title, cum_title), figure=new_figure())
    for i, (run, name) in enumerate(zip(runs, names)):
        color = DECODER_COLORS[i % len(DECODER_COLORS)]
        steps = [r.step for r in run.rows]
        modes = mode_names or {}
        hover = [f"{r.chosen_token} ({rank_label} {r.rank}, {modes.get(r.mode, r.mode)})" for r in run.rows]
        symbols = ["circle" if r.mode == "greedy" else "diamond" for r in run.rows]
        fig.add_scatter(x=steps, y=[r.prob for r in run.rows], name=name, mode="lines+markers",
                        line=dict(color=color, width=1.5), marker=dict(symbol=symbols, size=7),
                        text=hover, hovertemplate="%{text}<br>p=%{y:.4f}<extra>" + name + "</extra>",
                        legendgroup=name, row=1, col=1)
        fig.add_scatter(x=steps, y=[r.cum_logprob for r in run.rows], name=name, mode="lines",
                        line=dict(color=color, width=2), showlegend=False, legendgroup=name,
                        hovertemplate="%{y:.2f}<extra>" + name + "</extra>", row=2, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_xaxes(title_text=step_title, row=2, col=1)
    fig.update_layout(height=490, margin=dict(l=50, r=10, t=60, b=40), showlegend=True,
                      legend=dict(x=1.01, y=1.0, xanchor="left", yanchor="top"))
    return fig
