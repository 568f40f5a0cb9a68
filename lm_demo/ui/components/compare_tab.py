"""Tab "Antes / después": wiring only.

The computations are ``lm_demo.compare`` (before/after), ``lm_demo.perplexity``
and ``lm_demo.model_trials`` (the quick model comparison); figures are
``lm_demo.charts.compare``.  Nothing here imports torch at import time.
"""

from __future__ import annotations

import html
from typing import Any

import gradio as gr

from lm_demo.compare import DEMO_FINETUNE  # light: no torch at import time
from lm_demo.ui import relang
from lm_demo.ui.common import (T, UIContext, guard, in_code, notes_markdown, plain, poll_timer, queue_opts,
                              retranslate)
from lm_demo.ui.components.export_panel import csv_button, download, png_hint, settings_box
from lm_demo.ui.widgets import Dropdown, Number, Slider, Textbox

EXAMPLE_PROMPTS = ["- Mamá, mamá,", "Había una vez", "En el silencio de la noche", "- Doctor, doctor,"]


# --------------------------------------------------------------------------- before / after
def samples_html(comp: Any) -> str:
    """Both models' samples side by side, row ``i`` = seed ``seed + i`` in both."""
    sb, st = comp.samples_base, comp.samples_tuned
    prompt = html.escape(sb.prompt)
    cell = ("<div class='cmp-cell' style='white-space:pre-wrap;padding:8px 10px;border:1px solid #d0d7de;"
            "border-radius:6px;background:var(--background-fill-secondary, #f6f8fa)'>")
    head = ("<div class='cmp-head' style='font-weight:600;padding:4px 2px'>{}</div>")
    parts = ["<div class='cmp-samples' style='display:grid;grid-template-columns:1fr 1fr;gap:8px'>",
             head.format(f"{html.escape(T('cmp.before').capitalize())}: <code>{html.escape(comp.pair.base)}</code>"),
             head.format(f"{html.escape(T('cmp.after').capitalize())}: <code>{html.escape(comp.pair.tuned)}</code>")]
    for i, (a, b, seed) in enumerate(zip(sb.continuations, st.continuations, sb.seeds), start=1):
        label = html.escape(T("cmp.sample_header", i=i, seed=seed))
        for side, text in (("base", a), ("tuned", b)):
            parts.append(
                f"{cell}<div class='cmp-sample-label' style='font-size:0.8em;opacity:0.7'>{label}</div>"
                f"<span class='cmp-sample cmp-sample-{side}'><b style='opacity:0.65'>{prompt}</b>"
                f"{html.escape(text)}</span></div>"
            )
    parts.append("</div>")
    return "".join(parts)


def top_table(diff: Any) -> Any:
    """The 10 most likely next tokens of each model, side by side."""
    import pandas as pd

    rows = [[r, a.label, round(a.p_base, 4), b.label, round(b.p_tuned, 4)]
            for r, (a, b) in enumerate(zip(diff.top_base, diff.top_tuned), start=1)]
    cols = [T("cmp.col.rank"), T("cmp.col.token_base"), T("cmp.col.p_base"), T("cmp.col.token_tuned"),
            T("cmp.col.p_tuned")]
    return pd.DataFrame(rows, columns=cols)


def summary_markdown(comp: Any) -> str:
    from lm_demo.locales.numbers import number

    lines = [T("cmp.summary.models", base=in_code(comp.pair.base), tuned=in_code(comp.pair.tuned))]
    lb, lt = comp.losses_base, comp.losses_tuned
    if lb is not None and lt is not None:
        if comp.eval_source == "pasted":
            source = T(f"cmp.source.pasted.{comp.eval_split}")
        else:
            source = T("cmp.source.checkpoint", name=comp.eval_source.split(":", 1)[-1])
        change = 100.0 * (lt.perplexity - lb.perplexity) / lb.perplexity
        lines.append(T("cmp.summary.ppl", texts=lb.n_texts, n=lb.n_tokens, source=source, base=lb.perplexity,
                       tuned=lt.perplexity, change=change))
        if lt.n_tokens != lb.n_tokens:  # different tokenizers cut the same texts differently
            lines.append(T("cmp.summary.ppl_tokens_differ", n=lt.n_tokens))
    else:
        lines.append(T("cmp.summary.no_ppl"))
    d = comp.diff
    if d.gained or d.lost:
        shift = lambda s: f"«{s.label}» ({number(s.p_base, '.3f')} → {number(s.p_tuned, '.3f')})"  # noqa: E731
        gain = shift(d.gained[0]) if d.gained else "—"
        loss = shift(d.lost[0]) if d.lost else "—"
        lines.append(T("cmp.summary.diff", tv=d.total_variation, gain=gain, loss=loss))
    else:
        lines.append(T("cmp.summary.nodiff"))
    text = "\n\n".join(lines)
    notes = notes_markdown(comp.notes)
    return text + ("\n\n" + notes if notes else "")


def _compare(
    prompt: str,
    tuned: str | None = DEMO_FINETUNE,
    base: str | None = "",
    seed: float = 42,
    n_samples: float = 5,
    max_new_tokens: float = 40,
    temperature: float = 1.0,
    top_k: float = 50,
    top_p: float = 0.95,
    repetition_penalty: float = 1.0,
    eval_text: str | None = "",
    eval_split: str = "lines",
) -> tuple[Any, ...]:
    """API ``compare``: summary, samples (HTML), diff chart, top-10 table, per-token loss chart,
    the table as CSV, settings (JSON).

    Only ``prompt`` is required: by default the bundled base model against the
    bundled demo fine-tune, with the fine-tune's saved evaluation split.
    ``eval_text`` is split into texts by ``eval_split``: "lines" (one text per
    line) or "blocks" (separated by blank lines).
    """
    from lm_demo import compare as core
    from lm_demo import exports
    from lm_demo.locales import t
    from lm_demo.sampling import SamplingSettings

    sampling = SamplingSettings(temperature, top_k, top_p, repetition_penalty)
    comp = core.compare(prompt, tuned=tuned, base=base, settings=sampling, n_samples=n_samples,
                        max_new_tokens=max_new_tokens, seed=seed, eval_text=eval_text, eval_split=eval_split)
    settings = exports.make_settings(
        "compare", prompt=prompt,
        params=dict(tuned=tuned, base=base, seed=seed, n_samples=n_samples, max_new_tokens=max_new_tokens,
                    temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=repetition_penalty,
                    eval_text=eval_text or "", eval_split=eval_split))
    kept = {"comp": comp, "settings": settings}
    summary, samples, diff, table, loss = _view(kept)
    csv_path = exports.table_file(table, settings, t("cmp.file.table"))
    return (summary, samples, diff, table, loss, download(csv_path), exports.settings_json(settings)), kept


def _view(kept: dict) -> tuple[Any, ...]:
    """(summary, samples, diff chart, top-10 table, loss chart) of a comparison, in the current language."""
    from lm_demo import exports
    from lm_demo.charts.compare import diff_figure, loss_figure
    from lm_demo.charts.export import exportable
    from lm_demo.locales import t

    comp, settings = kept["comp"], kept["settings"]
    before, after = T("cmp.before"), T("cmp.after")
    diff = diff_figure(comp.diff, before, after, empty_text=T("cmp.diff_empty"))
    loss = None
    if comp.losses_base is not None:
        loss = loss_figure(comp.losses_base, comp.losses_tuned, before, after, x_title=T("cmp.loss_x"),
                           y_title=T("cmp.loss_y"), smooth_label=T("cmp.smooth"))
    exportable(diff, exports.file_stem(settings, t("cmp.file.diff")))
    exportable(loss, exports.file_stem(settings, t("cmp.file.loss")))
    return summary_markdown(comp), samples_html(comp), diff, top_table(comp.diff), loss


compare = guard(relang.outputs_only(_compare))
compare_page = guard(relang.with_kept(_compare))  # the same, and what a language switch redraws from


@guard
def redraw(kept: dict | None) -> tuple[Any, ...]:
    """A comparison on screen, written again in the current language (nothing is generated again)."""
    if not kept:
        return relang.skips(7)
    return (*_view(kept), gr.skip(), gr.skip())


def _choices() -> tuple[list[str], list[tuple[str, str]], str]:
    from lm_demo.compare import finetuned_checkpoints
    from lm_demo.models import model_choices

    tuned_first = finetuned_checkpoints()
    others = [c for c in model_choices() if c not in tuned_first]
    tuned_choices = tuned_first + others
    if DEMO_FINETUNE not in tuned_choices:  # stays the default: a missing demo gets a clear message
        tuned_choices = [DEMO_FINETUNE] + tuned_choices
    default = DEMO_FINETUNE
    base_choices = [(T("cmp.base.auto"), "")] + [(c, c) for c in model_choices()]
    return tuned_choices, base_choices, default


@guard
def refresh_choices(tuned: str | None, base: str | None) -> tuple[Any, Any]:
    tuned_choices, base_choices, _ = _choices()
    return gr.Dropdown(choices=tuned_choices, value=tuned), gr.Dropdown(choices=base_choices, value=base)


def build(ctx: UIContext) -> None:
    tuned_choices, base_choices, default = _choices()
    with gr.Tab(T("cmp.tab"), id="compare", elem_id="tab-compare") as tab:
        gr.Markdown(T("cmp.intro"))
        with gr.Row():
            tuned = Dropdown(tuned_choices, value=default, label=T("cmp.tuned"), info=T("cmp.tuned.info"),
                                allow_custom_value=True, elem_id="cmp-tuned")
            base = Dropdown(base_choices, value="", label=T("cmp.base"), info=T("cmp.base.info"),
                               allow_custom_value=True, elem_id="cmp-base")
        prompt = Textbox(label=T("cmp.prompt"), value=EXAMPLE_PROMPTS[0], lines=2, max_lines=6,
                            elem_id="cmp-prompt")
        gr.Examples(EXAMPLE_PROMPTS, inputs=[prompt], label=T("cmp.examples"))
        with gr.Accordion(T("cmp.settings"), open=False):
            with gr.Row():
                seed = Number(42, precision=0, label=T("cmp.seed"), info=T("cmp.seed.info"))
                n_samples = Slider(1, 8, value=5, step=1, label=T("cmp.n_samples"))
                max_new = Slider(5, 200, value=40, step=5, label=T("cmp.max_new_tokens"))
            with gr.Row():
                temperature = Slider(0, 2, value=1.0, step=0.05, label=T("cmp.temperature"))
                top_k = Slider(0, 200, value=50, step=1, label=T("cmp.top_k"))
                top_p = Slider(0, 1, value=0.95, step=0.01, label=T("cmp.top_p"))
                rep = Slider(1, 2, value=1.0, step=0.05, label=T("cmp.repetition_penalty"))
        with gr.Accordion(T("cmp.eval"), open=False):
            gr.Markdown(T("cmp.eval.info"))
            eval_text = Textbox(value="", label=T("cmp.eval_text"), lines=4, max_lines=12, elem_id="cmp-eval-text")
            eval_split = split_radio("cmp-eval-split")
        run = gr.Button(T("cmp.run"), variant="primary", elem_id="cmp-run")
        summary = gr.Markdown(elem_id="cmp-summary")
        samples = gr.HTML(label=T("cmp.samples"), elem_id="cmp-samples")
        with gr.Row():
            diff_chart = gr.Plot(label=T("cmp.diff_chart"), elem_id="cmp-diff-chart")
            with gr.Column():
                table = gr.Dataframe(label=T("cmp.top_table"), interactive=False, max_height=470, wrap=True,
                                     column_widths=["10%", "19%", "26%", "19%", "26%"], elem_id="cmp-table")
                csv = csv_button("cmp-csv")
        loss_chart = gr.Plot(label=T("cmp.loss_chart"), elem_id="cmp-loss-chart")
        png_hint()
        settings = settings_box("compare", {
            "prompt": prompt, "tuned": tuned, "base": base, "seed": seed, "n_samples": n_samples,
            "max_new_tokens": max_new, "temperature": temperature, "top_k": top_k, "top_p": top_p,
            "repetition_penalty": rep, "eval_text": eval_text, "eval_split": eval_split}, "cmp.run", "cmp")
        inputs = [prompt, tuned, base, seed, n_samples, max_new, temperature, top_k, top_p, rep, eval_text, eval_split]
        outputs = [summary, samples, diff_chart, table, loss_chart, csv, settings]
        kept = gr.State(None)
        run.click(compare_page, inputs, [*outputs, kept], api_name="compare", **queue_opts("compare"))
        prompt.submit(compare_page, inputs, [*outputs, kept], api_visibility="private", **queue_opts("compare"))
        ctx.redraws.append(relang.Redraw(redraw, [kept], outputs, {"queue": False}))
        tab.select(refresh_choices, [tuned, base], [tuned, base], api_visibility="private")

        _build_perplexity(ctx)
        _build_trials(ctx, tab)


# --------------------------------------------------------------------------- one model's perplexity
def split_radio(elem_id: str) -> gr.Radio:
    """How pasted text becomes texts: one per line, or one per blank-line block."""
    return gr.Radio([(T("cmp.eval_split.lines"), "lines"), (T("cmp.eval_split.blocks"), "blocks")], value="lines",
                    label=T("cmp.eval_split"), elem_id=elem_id)


@guard
def perplexity(text: str, model_name: str | None = None, split: str = "lines") -> tuple[dict, str]:
    """API ``perplexity``: ``{"perplexity", "tokens_scored", "texts", "per_token", ...}`` and a summary.

    ``text`` is split into texts by ``split`` ("lines" or "blocks"); each text
    is scored on its own, its first token as context (``lm_demo.perplexity``).
    ``per_token``: one ``{"text", "position", "token", "id", "loss", "context"}``
    per scored token (loss in nats).
    """
    from lm_demo.models import load_model
    from lm_demo.perplexity import split_texts, token_losses

    from lm_demo.exports import model_names

    texts = split_texts(text, split)  # a bad split fails before loading a model
    loaded = load_model(model_name)
    res = token_losses(loaded, texts)
    names = model_names(loaded)  # offline, the bundled model stands in for a hub one: say which one scored
    used = names["model_used"] or names["model"]
    out = res.summary() | {"model": used, "model_requested": names["model"], "split": split,
                           "notes": loaded.notes + res.notes}
    summary = T("ppl.summary", model=used, ppl=res.perplexity, texts=res.n_texts, n=res.n_tokens,
                loss=res.mean_loss)
    notes = notes_markdown(out["notes"])
    return out, summary + ("\n\n" + notes if notes else "")


def _build_perplexity(ctx: UIContext) -> None:
    """Perplexity of the model chosen at the top on pasted texts (API ``perplexity``)."""
    with gr.Accordion(T("ppl.title"), open=False, elem_id="ppl-box"):
        gr.Markdown(T("ppl.intro"))
        text = Textbox(value="", label=T("ppl.text"), lines=4, max_lines=12, elem_id="ppl-text")
        split = split_radio("ppl-split")
        run = gr.Button(T("ppl.run"), variant="secondary", elem_id="ppl-run")
        summary = gr.Markdown(elem_id="ppl-summary")
        result = gr.JSON(label=T("ppl.result"), open=False, elem_id="ppl-result")
        inputs = [text, ctx.model, split]
        ev = run.click(perplexity, inputs, [result, summary], api_name="perplexity", **queue_opts("compare"))
        ctx.redraws.append(relang.Redraw(relang.again(perplexity, 2), [relang.remember([ev], inputs)],
                                         [result, summary], queue_opts("compare")))


# --------------------------------------------------------------------------- quick model comparison
def trials_frame(rows: list[Any]) -> Any:
    """The results table; the best finished row (lowest eval loss) gets a ★."""
    import pandas as pd

    from lm_demo.model_trials import best_index

    best = best_index(rows)
    r2 = lambda x: None if x is None else round(x, 3)  # noqa: E731
    data = [["★" if i == best else "", r.model, T(f"cmp.trials.status.{r.status}"),
             r.params, r2(r.eval_loss_before), r2(r.eval_loss), r2(r.perplexity), r.seconds,
             r.sample if r.status != "error" else (r.error or "")]
            for i, r in enumerate(rows)]
    cols = [T(f"cmp.trials.col.{k}") for k in ("best", "model", "status", "params", "loss_before", "loss", "ppl",
                                                "seconds", "sample")]
    return pd.DataFrame(data, columns=cols)


# Settings of the quick comparisons started by this process, by job id (for their exports).
TRIALS_SETTINGS: dict[str, dict] = {}


def _trials_settings(job: Any) -> dict:
    from lm_demo import exports

    found = TRIALS_SETTINGS.get(job.id)
    if found is None:
        found = exports.make_settings("trials", params=dict(job.description))
    return found


def _trials_view(job: Any, owner: bool = False, from_tick: bool = True) -> tuple[Any, ...]:
    """(progress text, table, chart, timer, CSV file, Stop button) for ``job`` (a training-runner job or None).

    The CSV of the table is written once the job has ended (not at every poll);
    Stop is enabled only for the job's ``owner`` (see ``ui.ownership``).
    """
    from dataclasses import asdict

    from lm_demo import exports
    from lm_demo.charts.compare import trials_figure
    from lm_demo.charts.export import exportable
    from lm_demo.locales import t
    from lm_demo.model_trials import best_index, progress, rows_from_events

    if job is None:
        return (T("cmp.trials.progress.idle"), None, None, poll_timer(False, from_tick), None,
                gr.Button(interactive=False))
    events = job.events
    rows = rows_from_events(events)
    best = best_index(rows)
    best_name = rows[best].model if best is not None else None
    if job.running:
        current = next((r for r in rows if r.status == "running"), None)
        ev = progress(events)
        step = T("cmp.trials.progress.step", step=ev.get("step", 0), total=ev["total_steps"]) if ev else ""
        done = sum(r.status in ("done", "error", "stopped") for r in rows)
        text = T("cmp.trials.progress.running", done=done, total=len(rows),
                 model=in_code(current.model) if current else "…", step=step)
        if job.stop_requested:
            text += "\n\n" + T("cmp.trials.progress.stopping")
        elif not owner:
            text += "\n\n" + T("job.watching")
    elif job.status == "error":
        text = T("cmp.trials.progress.error", error=plain(retranslate(job.error or "")))
    else:
        status = T(f"cmp.trials.job_status.{job.status}")
        text = (T("cmp.trials.progress.finished", status=status, best=plain(best_name)) if best_name
                else T("cmp.trials.progress.finished_none", status=status))
    chart = trials_figure([asdict(r) for r in rows], best=best_name, y_title=T("cmp.trials.col.ppl")) if rows else None
    settings = _trials_settings(job)
    exportable(chart, exports.file_stem(settings, t("cmp.file.trials_chart")))
    frame = trials_frame(rows)
    csv_path = None
    if rows and not job.running:
        csv_path = exports.table_file(frame, settings, t("cmp.file.trials"))
    return (text, frame, chart, poll_timer(job.running, from_tick), download(csv_path),
            gr.Button(interactive=owner and job.running))


def _job(job_id: str | None) -> Any:
    from lm_demo.model_trials import JOB_KIND, latest_trials_job
    from lm_demo.jobs import JOBS

    job = JOBS.get(job_id) if job_id else None
    return job if job is not None and job.kind == JOB_KIND else latest_trials_job()


@guard
def trials_start(models: list[str] | None, corpus: str = "poesia", n_examples: float = 200,
                 max_steps: float = 30, learning_rate: float = 5e-4, seed: float = 42) -> tuple[Any, ...]:
    """API ``trials_start``: start the quick comparison job; returns its id (the key to stop it: keep it)
    and the first view (progress, table, chart, timer, CSV file once ended, Stop button)."""
    from lm_demo import exports
    from lm_demo.model_trials import TrialSpec, start_trials
    from lm_demo.training import JOBS

    spec = TrialSpec(models=models if models is not None else [], corpus_preset=corpus, n_examples=n_examples,
                     max_steps=max_steps, learning_rate=learning_rate, seed=seed)
    job = start_trials(spec)
    for old in [k for k in TRIALS_SETTINGS if JOBS.get(k) is None]:  # the runner keeps only its last jobs
        del TRIALS_SETTINGS[old]
    TRIALS_SETTINGS[job.id] = exports.make_settings(
        "trials", params=dict(corpus=corpus, models=list(job.description.get("models", [])), n_examples=n_examples,
                              max_steps=max_steps, learning_rate=learning_rate, seed=seed))
    return (job.id, *_trials_view(job, owner=True))


@guard
def trials_status(job_id: str | None = None) -> tuple[Any, ...]:
    """API ``trials_status``: progress, table, chart, timer, CSV (once ended) and Stop button of the job
    (default: the latest one); anyone may watch, Stop is enabled only with the job's id."""
    from lm_demo.ui.ownership import is_owner

    job = _job(job_id)
    return _trials_view(job, is_owner(job, job_id))


@guard
def trials_redraw(job_id: str | None = None) -> tuple[Any, ...]:
    """``trials_status`` on a tab switch or a language change: never stops the timer (``common.poll_timer``)."""
    from lm_demo.ui.ownership import is_owner

    job = _job(job_id)
    return _trials_view(job, is_owner(job, job_id), from_tick=False)


@guard
def trials_stop(job_id: str | None = None) -> str:
    """API ``trials_stop``: ask the running comparison to stop (at its next training step).

    Only with its id (what ``trials_start`` returned to whoever started it).
    """
    from lm_demo.model_trials import latest_trials_job
    from lm_demo.ui.ownership import request_stop

    if not request_stop(latest_trials_job(), job_id):
        return T("cmp.trials.progress.idle")
    return T("cmp.trials.progress.stopping")


def _build_trials(ctx: UIContext, tab: gr.Tab) -> None:
    """The quick model comparison (seed 000) on the training runner."""
    from lm_demo.corpora import PRESETS
    from lm_demo.locales import t
    from lm_demo.model_trials import TRIAL_PROMPT
    from lm_demo.models import BUNDLED_NAME, list_checkpoints, model_choices

    local = list_checkpoints()
    default_models = [m for m in (BUNDLED_NAME, DEMO_FINETUNE) if m in local] or local[:2]
    corpora = [(T(f"train.corpus.{k}") if t(f"train.corpus.{k}") != f"train.corpus.{k}" else k, k) for k in PRESETS]
    with gr.Accordion(T("cmp.trials.title"), open=False, elem_id="cmp-trials"):
        gr.Markdown(T("cmp.trials.intro", n="N", prompt=TRIAL_PROMPT) + "\n\n" + T("cmp.trials.caveat"))
        models = Dropdown(model_choices(), value=default_models, multiselect=True, allow_custom_value=True,
                             label=T("cmp.trials.models"), info=T("cmp.trials.models.info"),
                             elem_id="cmp-trials-models")
        with gr.Row():
            corpus = Dropdown(corpora, value="poesia" if "poesia" in PRESETS else next(iter(PRESETS)),
                                 label=T("cmp.trials.corpus"))
            n_examples = Slider(20, 2000, value=200, step=10, label=T("cmp.trials.n_examples"))
            max_steps = Slider(1, 300, value=30, step=1, label=T("cmp.trials.max_steps"))
            lr = Number(5e-4, label=T("cmp.trials.learning_rate"))
            seed = Number(42, precision=0, label=T("cmp.trials.seed"))
        with gr.Row():
            start = gr.Button(T("cmp.trials.start"), variant="primary", elem_id="cmp-trials-start")
            stop = gr.Button(T("cmp.trials.stop"), variant="stop", interactive=False, elem_id="cmp-trials-stop")
        # The id of the comparison this browser started: the key to stop it (kept across reloads).
        job_id = gr.BrowserState(None, storage_key="lm_demo_trials_job")
        status = gr.Markdown(elem_id="cmp-trials-status")
        table = gr.Dataframe(label=T("cmp.trials.table"), interactive=False, wrap=True, max_height=420,
                             elem_id="cmp-trials-table")
        csv = csv_button("cmp-trials-csv")
        chart = gr.Plot(label=T("cmp.trials.chart"), elem_id="cmp-trials-chart")
        timer = gr.Timer(2.0, active=False)
        view = [status, table, chart, timer, csv, stop]
        start.click(trials_start, [models, corpus, n_examples, max_steps, lr, seed],
                    [job_id, *view], api_name="trials_start", show_progress="hidden")  # the status line says it
        timer.tick(trials_status, [job_id], view, api_name="trials_status", show_progress="hidden")
        stop.click(trials_stop, [job_id], [status], api_name="trials_stop", queue=False, show_progress="hidden")
        # A reloaded page (or another teacher's) picks up the running or latest comparison.
        tab.select(trials_redraw, [job_id], view, api_visibility="private", show_progress="hidden")
        ctx.redraws.append(relang.Redraw(trials_redraw, [job_id], view))
