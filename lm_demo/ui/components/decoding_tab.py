"""Tab "Decodificación paso a paso": wiring only; the engine is ``lm_demo.decoding``.

The handler is a generator: tables and texts are re-sent while the decoders
run (at most every ``STREAM_EVERY_S`` seconds, so a fast model doesn't flood
the browser), and the chart and CSV files come with the last update.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import gradio as gr

from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, notes_markdown, queue_opts
from lm_demo.ui.components.export_panel import download, png_hint, settings_box
from lm_demo.ui.widgets import Number, Slider, Textbox

EXAMPLE_PROMPTS = ["Había una vez", "En un lugar de la Mancha", "Érase una vez una niña que"]
DECODERS = ("greedy", "sampling", "epsilon")
STREAM_EVERY_S = 0.25
COLUMN_WIDTHS = ["5%", "27%", "8%", "8%", "9%", "14%", "9%", "10%", "10%"]
COLUMNS = ("step", "candidates", "chosen", "rank", "prob", "warped", "mode", "cum", "cum_warped")
DEFAULTS = dict(max_steps=30, seed=0, top_n=5, max_sentences=0, temperature=0.8, top_k=40, top_p=1.0,
                repetition_penalty=1.0, epsilon=0.5)


def _columns() -> list[str]:
    return [T(f"dec.col.{c}") for c in COLUMNS]


def _summary(runs: list[Any], names: list[str]) -> str:
    lines = []
    for run, name in zip(runs, names):
        lp = run.rows[-1].cum_logprob if run.rows else 0.0
        wlp = run.rows[-1].warped_cum_logprob if run.rows else 0.0
        reason = T(f"dec.reason.{run.stop_reason or 'running'}")
        lines.append("- " + T("dec.summary", name=name, n=len(run.rows), lp=lp, wlp=wlp, reason=reason))
    return "\n".join(lines)


def _csv_files(runs: list[Any], top_n: int, settings: dict) -> list[str]:
    """One CSV per decoder (``decoding.csv_frame``'s columns), named after and headed by ``settings``."""
    from lm_demo import exports
    from lm_demo.decoding import csv_frame
    from lm_demo.locales import t

    folder = exports.new_folder("decoding_")
    return [str(exports.table_file(csv_frame(run.rows, top_n), settings, t(f"dec.file.{kind}"), folder))
            for run, kind in zip(runs, DECODERS)]


def _decode_steps(
    prompt: str,
    model_name: str | None = None,
    max_steps: int = DEFAULTS["max_steps"],
    seed: int = DEFAULTS["seed"],
    top_n: int = DEFAULTS["top_n"],
    max_sentences: int = DEFAULTS["max_sentences"],
    temperature: float = DEFAULTS["temperature"],
    top_k: int = DEFAULTS["top_k"],
    top_p: float = DEFAULTS["top_p"],
    repetition_penalty: float = DEFAULTS["repetition_penalty"],
    epsilon: float = DEFAULTS["epsilon"],
) -> Iterator[tuple[tuple[Any, ...], dict]]:
    """API ``decode_steps``: notes, summary, 3 highlighted texts, 3 tables, chart, 3 CSV files, settings (JSON).

    The CSV files and the chart's PNG export are named after the settings;
    each CSV starts with them as ``# key: value`` lines.

    Decoders, in this order: greedy, sampling, epsilon-greedy, all three
    with the random stream of ``seed``: epsilon 0 writes the sampling
    column, epsilon 1 the greedy one.
    """
    from lm_demo import exports
    from lm_demo.charts.decoding import highlighted
    from lm_demo.decoding import DecoderSpec, text_pieces
    from lm_demo.decoding import decode_steps as run_steps
    from lm_demo.models import load_model

    loaded = load_model(model_name)
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty)
    specs = [DecoderSpec("greedy", repetition_penalty=repetition_penalty), DecoderSpec("sampling", **sampling),
             DecoderSpec("epsilon", epsilon=epsilon, **sampling)]
    tok = loaded.tokenizer
    settings = exports.make_settings(
        "decoding", prompt=prompt, **exports.model_names(loaded),
        params=dict(max_steps=max_steps, seed=seed, top_n=top_n, max_sentences=max_sentences,
                    temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty,
                    epsilon=epsilon))
    sent = None
    for prog in run_steps(loaded, prompt, specs, max_steps=max_steps, seed=seed, top_n=top_n,
                          max_sentences=max_sentences, seeds=[seed] * len(specs)):
        now = time.monotonic()
        if not prog.done and sent is not None and now - sent < STREAM_EVERY_S:
            continue
        sent = now
        kept = {"runs": prog.runs, "notes": loaded.notes + prog.notes, "done": prog.done, "settings": settings}
        notes, summary, tables, chart = _view(kept)
        texts = [highlighted(prog.prompt_text, text_pieces(tok, run.rows)) for run in prog.runs]
        if prog.done:
            files = [download(f) for f in _csv_files(prog.runs, prog.top_n, settings)]
            settings_text = exports.settings_json(settings)
        else:
            files, settings_text = [gr.skip()] * len(DECODERS), gr.skip()
        yield (notes, summary, *texts, *tables, chart, *files, settings_text), kept


def _view(kept: dict) -> tuple[str, str, list[Any], Any]:
    """(notes, summary, tables, chart) of a decoding, in the current language; the chart once it is done."""
    from lm_demo import exports
    from lm_demo.charts.decoding import steps_figure
    from lm_demo.charts.export import exportable
    from lm_demo.decoding import steps_frame
    from lm_demo.locales import t

    runs = kept["runs"]
    names = [T(f"dec.name.{k}") for k in DECODERS]
    modes = {"greedy": T("dec.mode.greedy"), "sampled": T("dec.mode.sampled")}
    columns = _columns()
    tables = [steps_frame(run.rows, columns, modes) for run in runs]
    chart = gr.skip()
    if kept["done"]:
        chart = steps_figure(runs, names, T("dec.chart.prob"), T("dec.chart.cum"), T("dec.chart.step"),
                             rank_label=T("dec.col.rank"), mode_names=modes)
        exportable(chart, exports.file_stem(kept["settings"], t("dec.file.chart")))
    return notes_markdown(kept["notes"]), _summary(runs, names), tables, chart


decode_steps = guard(relang.outputs_only(_decode_steps))
decode_steps_page = guard(relang.with_kept(_decode_steps))  # the same, and what a language switch redraws from


@guard
def redraw(kept: dict | None) -> tuple[Any, ...]:
    """A decoding on screen, written again in the current language (from what it kept; nothing is re-run)."""
    n_out = 2 + 3 * len(DECODERS) + 2
    if not kept:
        return relang.skips(n_out)
    notes, summary, tables, chart = _view(kept)
    return (notes, summary, *relang.skips(len(DECODERS)), *tables, chart, *relang.skips(len(DECODERS) + 1))


def build(ctx: UIContext) -> None:
    from lm_demo.charts.decoding import COLOR_MAP

    names = [T(f"dec.name.{k}") for k in DECODERS]
    with gr.Tab(T("dec.tab"), id="decoding", elem_id="tab-decoding"):
        gr.Markdown(T("dec.intro"))
        with gr.Row():
            with gr.Column(scale=2):
                prompt = Textbox(label=T("dec.prompt"), value=EXAMPLE_PROMPTS[0], lines=2, max_lines=8,
                                    elem_id="dec-prompt")
                gr.Examples(EXAMPLE_PROMPTS, inputs=[prompt], label=T("dec.examples"))
            with gr.Column(scale=1):
                max_steps = Slider(1, 200, value=DEFAULTS["max_steps"], step=1, label=T("dec.max_steps"),
                                      info=T("dec.max_steps.info"))
                max_sentences = Slider(0, 20, value=DEFAULTS["max_sentences"], step=1,
                                          label=T("dec.max_sentences"), info=T("dec.max_sentences.info"))
                with gr.Row():
                    seed = Number(value=DEFAULTS["seed"], precision=0, label=T("dec.seed"),
                                     info=T("dec.seed.info"))
                    top_n = Slider(1, 10, value=DEFAULTS["top_n"], step=1, label=T("dec.top_n"))
        with gr.Accordion(T("dec.settings"), open=True):
            with gr.Row():
                temperature = Slider(0, 3, value=DEFAULTS["temperature"], step=0.05,
                                        label=T("dec.temperature"), info=T("dec.temperature.info"))
                top_k = Slider(0, 200, value=DEFAULTS["top_k"], step=1, label=T("dec.top_k"))
                top_p = Slider(0, 1, value=DEFAULTS["top_p"], step=0.01, label=T("dec.top_p"))
                repetition_penalty = Slider(1, 3, value=DEFAULTS["repetition_penalty"], step=0.05,
                                               label=T("dec.repetition_penalty"))
                epsilon = Slider(0, 1, value=DEFAULTS["epsilon"], step=0.05, label=T("dec.epsilon"),
                                    info=T("dec.epsilon.info"))
        with gr.Row():
            run = gr.Button(T("dec.run"), variant="primary", elem_id="dec-run", scale=3)
            stop = gr.Button(T("dec.stop"), variant="stop", elem_id="dec-stop", scale=1)
        notes = gr.Markdown(elem_id="dec-notes")
        summary = gr.Markdown(elem_id="dec-summary")
        gr.Markdown(T("dec.legend"))
        texts = []
        with gr.Row(equal_height=False):
            for kind, name in zip(DECODERS, names):
                texts.append(gr.HighlightedText(label=T("dec.text", name=name), color_map=COLOR_MAP,
                                                show_legend=True, show_inline_category=False,
                                                combine_adjacent=False, elem_id=f"dec-text-{kind}"))
        tables, downloads = [], []
        with gr.Tabs():
            for kind, name in zip(DECODERS, names):
                with gr.Tab(T("dec.table", name=name), id=f"dec-tab-{kind}"):
                    tables.append(gr.Dataframe(headers=_columns(), interactive=False, wrap=True, max_height=420,
                                               column_widths=COLUMN_WIDTHS, elem_id=f"dec-table-{kind}"))
                    downloads.append(gr.DownloadButton(T("dec.download"), size="sm",
                                                       elem_id=f"dec-csv-{kind}"))
        chart = gr.Plot(label=T("dec.chart"), elem_id="dec-chart")
        png_hint()

        inputs = [prompt, ctx.model, max_steps, seed, top_n, max_sentences, temperature, top_k, top_p,
                  repetition_penalty, epsilon]
        settings = settings_box("decoding", {
            "model": ctx.model, "prompt": prompt, "max_steps": max_steps, "seed": seed, "top_n": top_n,
            "max_sentences": max_sentences, "temperature": temperature, "top_k": top_k, "top_p": top_p,
            "repetition_penalty": repetition_penalty, "epsilon": epsilon}, "dec.run", "dec")
        outputs = [notes, summary, *texts, *tables, chart, *downloads, settings]
        kept = gr.State(None)
        ev = run.click(decode_steps_page, inputs, [*outputs, kept], api_name="decode_steps", **queue_opts("decode"))
        ev_submit = prompt.submit(decode_steps_page, inputs, [*outputs, kept], api_visibility="private",
                                  **queue_opts("decode"))
        stop.click(None, None, None, cancels=[ev, ev_submit], api_visibility="private")
        ctx.redraws.append(relang.Redraw(redraw, [kept], outputs, {"queue": False}))
