"""Tab "Dentro del modelo": wiring only.

The computations are ``lm_demo.inside`` (attention, logit lens, before/after)
and ``lm_demo.stepping`` ("Tú eliges"); figures are ``lm_demo.charts.inside``.
"Analizar" runs ``attention`` then ``logit_lens``: one forward of the model
serves both (``inside.capture`` keeps it), and the layer/head sliders redraw
from it without running the model again.

"Tú eliges" is its own module (``inside_choose``).
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from lm_demo.compare import DEMO_FINETUNE  # light: no torch at import time
from lm_demo.locales.numbers import number
from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, notes_markdown, queue_opts
from lm_demo.ui.components import inside_choose
from lm_demo.ui.components.export_panel import csv_button, download, png_hint
from lm_demo.ui.widgets import Dropdown, Slider, Textbox

EXAMPLE_PROMPTS = ["En el silencio de la noche", "Había una vez", "- Mamá, mamá,",
                   "El perro del vecino ladra y el perro"]
MAX_LAYER, MAX_HEAD = 47, 31  # slider ranges before a model is known (GPT-2 XL: 48 layers, 25 heads)


# --------------------------------------------------------------------------- attention and lens
def _settings(loaded: Any, prompt: str, **params: Any) -> dict:
    from lm_demo import exports

    return exports.make_settings("inside", prompt=prompt, **exports.model_names(loaded), params=params)


def _patterns_markdown(patterns: list[Any]) -> str:
    if not patterns:
        return ""
    lines = [T("ins.att.patterns")]
    lines += [T("ins.pattern.line", what=T(f"ins.pattern.{p.kind}"), layer=p.layer, head=p.head, score=p.score)
              for p in patterns]
    return "\n".join(lines)


def _attention_figures(view: Any, settings: dict | None = None) -> tuple[Any, Any]:
    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.inside import GRID_MAX_TOKENS, attention_figure, attention_grid_figure
    from lm_demo.locales import t

    fig = attention_figure(view.labels, view.weights, T("ins.att.chart", layer=view.layer, head=view.head),
                           T("ins.att.x"), T("ins.att.y"), T("ins.att.masked"), T("ins.att.weight"))
    title = T("ins.att.grid.note", n=GRID_MAX_TOKENS) if len(view.labels) > GRID_MAX_TOKENS else None
    grid = attention_grid_figure(view.all_weights, (view.layer, view.head), T("ins.grid.layer"),
                                 T("ins.grid.head"), title)
    if settings is not None:
        exportable(fig, exports.file_stem(settings, t("ins.file.attention")))
        exportable(grid, exports.file_stem(settings, t("ins.file.grid")))
    return fig, grid


@guard
def attention(prompt: str, model_name: str | None = None, layer: float = 0, head: float = 0) -> tuple[Any, ...]:
    """API ``attention``: ``{"tokens", "weights", "layer", "head", "n_layers", "n_heads", "patterns"}``, the
    heatmap, the grid of all layers × heads, the heads with clear habits, notes, and the layer and head sliders.

    ``layer`` and ``head`` count from 0 (as transformers' ``outputs.attentions[layer][0, head]``) and are
    clamped to the model's range.  ``weights[i][j]``: how much token ``i`` looks at token ``j`` (each row
    sums to 1; zero for ``j > i``, the causal mask).
    """
    from lm_demo import inside
    from lm_demo.models import load_model

    loaded = load_model(model_name)
    view = inside.attention(loaded, prompt, layer, head)
    fig, grid = _attention_figures(view, _settings(loaded, prompt, layer=view.layer, head=view.head))
    return (view.to_dict(), fig, grid, _patterns_markdown(view.patterns), notes_markdown(loaded.notes + view.notes),
            gr.Slider(maximum=view.n_layers - 1, value=view.layer),
            gr.Slider(maximum=view.n_heads - 1, value=view.head))


def _row_names(n_layers: int) -> list[str]:
    return [T("ins.lens.row.input")] + [str(i) for i in range(1, n_layers)] + [T("ins.lens.row.output", n=n_layers)]


def lens_table(lens: Any) -> Any:
    """The lens at the last position, one row per layer (0 = the input, the last = the model's output)."""
    import pandas as pd

    final = lens.top_labels[-1][-1]
    names = _row_names(lens.n_layers)
    rows = [[names[i], lens.top_labels[i][-1], round(lens.top_probs[i][-1], 4), round(lens.final_probs[i][-1], 4),
             " · ".join(f"{lab} {number(p * 100, '.1f')}%" for _, lab, p in lens.last_top[i][1:])]
            for i in range(len(lens.top_ids))]
    cols = [T("ins.lens.col.layer"), T("ins.lens.col.top"), T("ins.lens.col.prob"),
            T("ins.lens.col.final", token=final), T("ins.lens.col.others")]
    return pd.DataFrame(rows, columns=cols)


def _lens_summary(lens: Any, prompt_text: str) -> str:
    token, prob = lens.top_labels[-1][-1], lens.top_probs[-1][-1]
    settled = lens.settled_at()
    if settled >= lens.n_layers:
        return T("ins.lens.summary.last", prompt=prompt_text, token=token, prob=prob)
    return T("ins.lens.summary", prompt=prompt_text, token=token, prob=prob, layer=settled, n=lens.n_layers)


def _lens_figure(lens: Any, title: str | None = None) -> Any:
    from lm_demo.charts.inside import lens_figure

    return lens_figure(lens, _row_names(lens.n_layers), title, T("ins.lens.x"),
                       T("ins.lens.y"), T("ins.lens.hover"), T("ins.lens.hover.pred"), T("ins.lens.hover.final"))


@guard
def logit_lens(prompt: str, model_name: str | None = None) -> tuple[Any, ...]:
    """API ``logit_lens``: ``{"tokens", "layers": [{"layer", "top_token", "top_prob", "top", "positions", ...}]}``
    (layer 0 = the embeddings, the last = the model's output, equal to ``next_token``'s), the heatmap, the
    table for the position after the prompt, a summary, the table as CSV, notes."""
    from lm_demo import exports, inside
    from lm_demo.charts.export import exportable
    from lm_demo.locales import t
    from lm_demo.models import load_model

    loaded = load_model(model_name)
    lens = inside.logit_lens(loaded, prompt)
    settings = _settings(loaded, prompt)
    fig = exportable(_lens_figure(lens), exports.file_stem(settings, t("ins.file.lens_chart")))
    table = lens_table(lens)
    csv_path = exports.table_file(table, settings, t("ins.file.lens"))
    return (lens.to_dict(), fig, table, _lens_summary(lens, lens.prompt_text.strip()), download(csv_path),
            notes_markdown(loaded.notes + lens.notes))


# --------------------------------------------------------------------------- before / after
def compare_table(comp: Any) -> Any:
    import pandas as pd

    names = _row_names(max(comp.lens_base.n_layers, comp.lens_tuned.n_layers))
    fmt = lambda tok, p: "—" if tok is None else f"{tok} ({number(p, '.3f')})"  # noqa: E731
    rows = [[names[r.layer] if r.layer < len(names) else str(r.layer), fmt(r.base_token, r.base_prob),
             fmt(r.tuned_token, r.tuned_prob), T("ins.cmp.yes") if r.changed else T("ins.cmp.no")] for r in comp.rows]
    cols = [T("ins.cmp.col.layer"), T("ins.cmp.col.base", name=comp.pair.base),
            T("ins.cmp.col.tuned", name=comp.pair.tuned), T("ins.cmp.col.changed")]
    return pd.DataFrame(rows, columns=cols)


@guard
def inside_compare(prompt: str, tuned: str | None = DEMO_FINETUNE, base: str | None = "", layer: float = 0,
                   head: float = 0) -> tuple[Any, ...]:
    """API ``inside_compare``: the base model and its fine-tune inside, side by side.

    Outputs: ``{"base", "tuned", "changed_layers", "layers": [{"layer", "base_token", "tuned_token",
    "changed", ...}]}``, a summary, the table, both lenses, both attention maps (``layer``/``head`` from 0),
    the table as CSV, notes.  Only ``prompt`` is required (default pair: the bundled model and its demo
    fine-tune).
    """
    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.inside import compare_inside
    from lm_demo.locales import t

    comp = compare_inside(prompt, tuned, base, layer, head)
    settings = exports.make_settings("inside", prompt=prompt, params=dict(tuned=tuned or "", base=base or "",
                                                                           layer=layer, head=head))
    lens_figs = [exportable(_lens_figure(lens, T("ins.cmp.lens", name=name)),
                            exports.file_stem(settings, f"{t('ins.file.lens_chart')}-{side}"))
                 for lens, name, side in ((comp.lens_base, comp.pair.base, "base"),
                                          (comp.lens_tuned, comp.pair.tuned, "tuned"))]
    att_figs = []
    for view, name in ((comp.attention_base, comp.pair.base), (comp.attention_tuned, comp.pair.tuned)):
        if view is None:
            att_figs.append(None)
            continue
        fig, _ = _attention_figures(view)
        fig.update_layout(title={"text": T("ins.cmp.att", layer=view.layer, head=view.head, name=name)})
        att_figs.append(fig)
    changed = comp.changed_layers
    names = _row_names(max(comp.lens_base.n_layers, comp.lens_tuned.n_layers))
    layers = ", ".join(names[i] if i < len(names) else str(i) for i in changed) or T("ins.cmp.none")
    summary = T("ins.cmp.summary", prompt=comp.lens_base.prompt_text.strip(), base=comp.lens_base.top_labels[-1][-1],
                tuned=comp.lens_tuned.top_labels[-1][-1], layers=layers, n=len(comp.rows))
    table = compare_table(comp)
    csv_path = exports.table_file(table, settings, t("ins.file.compare"))
    return (comp.to_dict(), summary, table, *lens_figs, *att_figs, download(csv_path), notes_markdown(comp.notes))


def _tuned_choices() -> tuple[list[str], list[tuple[Any, str]]]:
    from lm_demo.compare import finetuned_checkpoints
    from lm_demo.models import model_choices

    tuned = finetuned_checkpoints()
    tuned += [c for c in model_choices() if c not in tuned]
    if DEMO_FINETUNE not in tuned:
        tuned = [DEMO_FINETUNE] + tuned
    base = [(T("ins.cmp.base.auto"), "")] + [(c, c) for c in model_choices()]
    return tuned, base


# --------------------------------------------------------------------------- layout
def build(ctx: UIContext) -> None:
    with gr.Tab(T("ins.tab"), id="inside", elem_id="tab-inside"):
        gr.Markdown(T("ins.intro"))
        with gr.Row():
            with gr.Column(scale=3):
                prompt = Textbox(label=T("ins.prompt"), value=EXAMPLE_PROMPTS[0], lines=2, max_lines=6,
                                 elem_id="ins-prompt")
                gr.Examples(EXAMPLE_PROMPTS, inputs=[prompt], label=T("ins.examples"))
            with gr.Column(scale=1, min_width=160):
                run = gr.Button(T("ins.run"), variant="primary", elem_id="ins-run")
        notes = gr.Markdown(elem_id="ins-notes")
        with gr.Tabs(elem_id="ins-views") as views:
            with gr.Tab(T("ins.sub.attention"), id="ins-attention", elem_id="ins-tab-attention"):
                gr.Markdown(T("ins.att.intro"))
                with gr.Row():
                    layer = Slider(0, MAX_LAYER, value=0, step=1, label=T("ins.layer"), info=T("ins.layer.info"),
                                   elem_id="ins-layer")
                    head = Slider(0, MAX_HEAD, value=0, step=1, label=T("ins.head"), info=T("ins.head.info"),
                                  elem_id="ins-head")
                with gr.Row(equal_height=False):
                    att_chart = gr.Plot(label=T("ins.att.chart.label"), elem_id="ins-att-chart")
                    with gr.Column():
                        grid = gr.Plot(label=T("ins.att.grid"), elem_id="ins-att-grid")
                        patterns = gr.Markdown(elem_id="ins-patterns")
                att_json = gr.JSON(visible=False)
            with gr.Tab(T("ins.sub.lens"), id="ins-lens", elem_id="ins-tab-lens"):
                gr.Markdown(T("ins.lens.intro"))
                lens_summary = gr.Markdown(elem_id="ins-lens-summary")
                lens_chart = gr.Plot(label=T("ins.lens.chart"), elem_id="ins-lens-chart")
                lens_tbl = gr.Dataframe(label=T("ins.lens.table"), interactive=False, wrap=True, max_height=460,
                                        elem_id="ins-lens-table")
                lens_csv = csv_button("ins-lens-csv")
                lens_json = gr.JSON(visible=False)
            wire_choose = inside_choose.build(ctx, prompt, notes)
            with gr.Tab(T("ins.sub.compare"), id="ins-compare", elem_id="ins-tab-compare"):
                gr.Markdown(T("ins.cmp.intro"))
                tuned_choices, base_choices = _tuned_choices()
                with gr.Row():
                    tuned = Dropdown(tuned_choices, value=DEMO_FINETUNE, label=T("ins.cmp.tuned"),
                                     allow_custom_value=True, elem_id="ins-cmp-tuned")
                    base = Dropdown(base_choices, value="", label=T("ins.cmp.base"), allow_custom_value=True,
                                    elem_id="ins-cmp-base")
                    cmp_run = gr.Button(T("ins.cmp.run"), variant="primary", elem_id="ins-cmp-run")
                cmp_summary = gr.Markdown(elem_id="ins-cmp-summary")
                cmp_table = gr.Dataframe(label=T("ins.cmp.table"), interactive=False, wrap=True, max_height=460,
                                         elem_id="ins-cmp-table")
                cmp_csv = csv_button("ins-cmp-csv")
                with gr.Row(equal_height=False):
                    lens_base = gr.Plot(elem_id="ins-cmp-lens-base", show_label=False)
                    lens_tuned = gr.Plot(elem_id="ins-cmp-lens-tuned", show_label=False)
                with gr.Row(equal_height=False):
                    att_base = gr.Plot(elem_id="ins-cmp-att-base", show_label=False)
                    att_tuned = gr.Plot(elem_id="ins-cmp-att-tuned", show_label=False)
                cmp_json = gr.JSON(visible=False)
        png_hint()

        light = queue_opts("next_token")  # one forward each: as cheap as "Siguiente token"
        att_inputs = [prompt, ctx.model, layer, head]
        att_outputs = [att_json, att_chart, grid, patterns, notes, layer, head]
        lens_inputs, lens_outputs = [prompt, ctx.model], [lens_json, lens_chart, lens_tbl, lens_summary, lens_csv,
                                                          notes]

        # A language switch runs the last attention and lens calls again (one cached forward).
        att_kept, lens_kept = gr.State(None), gr.State(None)
        ctx.redraws += [relang.Redraw(relang.again(attention, len(att_outputs)), [att_kept], att_outputs, light),
                        relang.Redraw(relang.again(logit_lens, len(lens_outputs)), [lens_kept], lens_outputs, light)]

        def analyze(trigger: Any, api: bool = False) -> Any:
            """Attention, then the lens (the same forward: ``inside.capture``), on ``trigger``."""
            names = ({"api_name": "attention"}, {"api_name": "logit_lens"}) if api else \
                ({"api_visibility": "private"},) * 2
            ev = trigger(attention, att_inputs, att_outputs, **names[0], **light)
            relang.remember([ev], att_inputs, att_kept)
            lens_ev = ev.then(logit_lens, lens_inputs, lens_outputs, **names[1], **light)
            relang.remember([lens_ev], lens_inputs, lens_kept)
            return lens_ev

        analyze(run.click, api=True)
        analyze(prompt.submit)
        for slider in (layer, head):
            relang.remember([slider.release(attention, att_inputs, att_outputs, api_visibility="private", **light)],
                            att_inputs, att_kept)

        wire_choose()
        cmp_outputs = [cmp_json, cmp_summary, cmp_table, lens_base, lens_tuned, att_base, att_tuned, cmp_csv, notes]
        cmp_inputs = [prompt, tuned, base, layer, head]
        cmp_ev = cmp_run.click(inside_compare, cmp_inputs, cmp_outputs, api_name="inside_compare",
                               **queue_opts("compare"))
        ctx.redraws.append(relang.Redraw(relang.again(inside_compare, len(cmp_outputs)),
                                         [relang.remember([cmp_ev], cmp_inputs)], cmp_outputs, queue_opts("compare")))

        ctx.components.update({"ins.prompt": prompt, "ins.scenario": lambda btn: _scenario(btn, ctx, prompt, views,
                                                                                           analyze)})


def _scenario(btn: gr.Button, ctx: UIContext, prompt: gr.Textbox, views: gr.Tabs, analyze: Any) -> None:
    """The guide's one-click scenario: this prompt, this tab, "Atención", analysed."""

    def setup() -> tuple[Any, ...]:
        return EXAMPLE_PROMPTS[0], gr.Tabs(selected="inside"), gr.Tabs(selected="ins-attention")

    analyze(btn.click(setup, None, [prompt, ctx.tabs, views], api_visibility="private").then)
