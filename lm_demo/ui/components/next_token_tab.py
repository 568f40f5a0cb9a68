"""Tab "Siguiente token": wiring only; the computation is ``lm_demo.next_token``."""

from __future__ import annotations

from typing import Any

import gradio as gr

from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, notes_markdown, queue_opts
from lm_demo.ui.components.export_panel import csv_button, download, png_hint, settings_box
from lm_demo.ui.widgets import Slider, Textbox

EXAMPLE_PROMPTS = ["Había una vez", "En el silencio de la noche", "Había una vez un poeta que soñaba"]
# Locale keys of ``next_token.TABLE_COLUMNS``, in order.
TABLE_COLUMNS = ("rank", "token", "id", "prob", "cum", "warped")
COLUMN_WIDTHS = ["14%", "15%", "10%", "18%", "21%", "22%"]  # long headers (each names its distribution) wrap


@guard
def next_token(
    prompt: str,
    model_name: str | None = None,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    top_n: int = 10,
) -> tuple[Any, ...]:
    """API ``next_token``: table, chart, entropy text, prompt chips, notes, CSV file, settings (JSON).

    The CSV and the chart's PNG export are named after the settings; the CSV
    starts with them as ``# key: value`` lines.
    """
    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.next_token import distribution_figure
    from lm_demo.locales import t
    from lm_demo.models import load_model
    from lm_demo.next_token import next_token_distribution

    loaded = load_model(model_name)
    res = next_token_distribution(loaded, prompt, temperature, top_k, top_p, top_n)
    entropy = T("nt.entropy", raw=res.entropy_raw, warped=res.entropy_warped, kept=res.kept_tokens,
                vocab=res.vocab_size, n=len(res.prompt_ids))
    fig = distribution_figure(res, T("nt.raw"), T("nt.warped"), y_title=T("nt.chart.y"))
    settings = exports.make_settings("next_token", prompt=prompt, **exports.model_names(loaded),
                                     params=dict(temperature=temperature, top_k=top_k, top_p=top_p, top_n=top_n))
    table = res.table().set_axis([T(f"nt.col.{c}") for c in TABLE_COLUMNS], axis=1)  # in the user's language
    csv_path = exports.table_file(table, settings, t("nt.file.table"))
    exportable(fig, exports.file_stem(settings, t("nt.file.chart")))
    return (table, fig, entropy, res.prompt_chips, notes_markdown(loaded.notes + res.notes), download(csv_path),
            exports.settings_json(settings))


def build(ctx: UIContext) -> None:
    with gr.Tab(T("nt.tab"), id="next_token", elem_id="tab-next-token"):
        gr.Markdown(T("nt.intro"))
        with gr.Row():
            with gr.Column(scale=2):
                prompt = Textbox(label=T("nt.prompt"), value=EXAMPLE_PROMPTS[0], lines=2, max_lines=8,
                                    elem_id="nt-prompt")
                gr.Examples(EXAMPLE_PROMPTS, inputs=[prompt], label=T("nt.examples"))
            with gr.Column(scale=1):
                temperature = Slider(0, 3, value=1.0, step=0.05, label=T("nt.temperature"),
                                        info=T("nt.temperature.info"))
                top_k = Slider(0, 200, value=0, step=1, label=T("nt.top_k"))
                top_p = Slider(0, 1, value=1.0, step=0.01, label=T("nt.top_p"))
                top_n = Slider(1, 50, value=10, step=1, label=T("nt.top_n"))
        run = gr.Button(T("nt.run"), variant="primary", elem_id="nt-run")
        notes = gr.Markdown(elem_id="nt-notes")
        chips = gr.HighlightedText(label=T("nt.tokens"), show_legend=False, combine_adjacent=False,
                                   elem_id="nt-chips")
        entropy = gr.Markdown(elem_id="nt-entropy")
        with gr.Row():
            with gr.Column():
                table = gr.Dataframe(label=T("nt.table"), interactive=False, elem_id="nt-table", max_height=420,
                                     wrap=True, column_widths=COLUMN_WIDTHS)
                csv = csv_button("nt-csv")
            chart = gr.Plot(label=T("nt.chart"), elem_id="nt-chart")
        png_hint()
        settings = settings_box("next_token", {"model": ctx.model, "prompt": prompt, "temperature": temperature,
                                               "top_k": top_k, "top_p": top_p, "top_n": top_n}, "nt.run", "nt")
        inputs = [prompt, ctx.model, temperature, top_k, top_p, top_n]
        outputs = [table, chart, entropy, chips, notes, csv, settings]
        events = [run.click(next_token, inputs, outputs, api_name="next_token", **queue_opts("next_token")),
                  prompt.submit(next_token, inputs, outputs, api_visibility="private", **queue_opts("next_token"))]
        for slider in (temperature, top_k, top_p, top_n):
            events.append(slider.release(next_token, inputs, outputs, api_visibility="private",
                                         **queue_opts("next_token")))
        # A language switch runs the last call again (cheap: the logits are cached).
        kept = relang.remember(events, inputs)
        ctx.redraws.append(relang.Redraw(relang.again(next_token, len(outputs)), [kept], outputs,
                                         queue_opts("next_token")))
        ctx.components.update({"nt.prompt": prompt, "nt.temperature": temperature, "nt.top_k": top_k,
                               "nt.top_p": top_p, "nt.inputs": inputs, "nt.outputs": outputs, "nt.kept": kept})
