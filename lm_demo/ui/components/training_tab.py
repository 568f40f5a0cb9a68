"""Tab "Entrenamiento": wiring only; the work is in ``lm_demo.training`` and friends.

Up front: the corpus (a preset or an upload), the base model and one
"Empezar"; everything else (hyperparameters, recipes, the from-scratch
shape, which model is kept) sits in the "Avanzado" accordion, with a one-line
summary of its current values always visible.  By default the settings are
automatic: chosen from the corpus size by ``lm_demo.training.defaults`` (the
CLI uses the same function).

How the page follows a job that runs in a background thread: ``train_start``
starts it and switches a ``gr.Timer`` on; each tick ``train_status`` (``training_view``) redraws
the whole history from ``JOBS`` (so a reloaded page, or a second browser,
gets the full picture) and switches the timer off once the job has ended;
the other redraws (``train_redraw``: page load, tab switch) never do.
The browser that started a job remembers its id in ``gr.BrowserState`` (it
survives a reload); other browsers see the progress read-only.
``train_stop`` runs outside the queue (``queue=False``) so it is never stuck
behind other requests; it and the Stop button follow ``lm_demo.ui.ownership``
(the job's id, or the operator's token), like the quick comparison.  With
``LM_DEMO_ALLOW_TRAINING=0`` the upload, the stats and Empezar are off and
their handlers refuse.  The interrupted-runs panel is
``training_runs_panel``; what is drawn from a job's events is ``training_view``.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from lm_demo.jobs import training_allowed
from lm_demo.training import HP_PRESETS
from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, compose, guard
from lm_demo.ui.components import training_runs_panel as runs_panel
from lm_demo.ui.components.training_corpus import (
    DEFAULT_PRESET,
    JOKE_CATEGORIES,
    UPLOAD_TYPES,
    number_field,
    corpus_spec,
    upload_path,
    corpus_preview,
    corpus_preview_page,
    preset_choices,
    preset_menu,
    preset_options,
    upload_columns,
)
from lm_demo.ui.components.export_panel import csv_button, png_hint, settings_box
from lm_demo.ui.components.training_view import HISTORY_FILES, TRAIN_SETTINGS, starting_view, train_redraw, train_status
from lm_demo.ui.ownership import request_stop
from lm_demo.ui.widgets import CheckboxGroup, Dropdown, Number, Radio, Slider, Textbox

HP_PRESET_KEYS = ("auto", "seed000", "seed001", "seed002", "seed003", "seed004")
POLL_SECONDS = 1.5
# What the advanced fields show until a recipe is picked (used only with the automatic settings off).
MANUAL_START = dict(epochs=1.0, learning_rate=5e-4, batch_size=8, grad_accum=1, block_size=128, weight_decay=0.01,
                    warmup_steps=10, eval_steps=20, max_steps=200, early_stopping_patience=0)
HP_FIELDS = ("epochs", "learning_rate", "batch_size", "grad_accum", "block_size", "weight_decay", "warmup_steps",
             "eval_steps", "max_steps", "early_stopping_patience")
SAMPLE_PROMPT = "En el silencio de la noche"  # the default preset's style (corpora.PRESET_PROMPTS)
SAMPLE_PROMPT_CHARS, NAME_CHARS = 500, 100


def _prune_job_files() -> None:
    """Forget the exports of jobs the registry no longer keeps (it keeps the last few)."""
    from lm_demo.jobs import JOBS

    kept = {j.id for j in JOBS.jobs()}
    for table in (TRAIN_SETTINGS, HISTORY_FILES):
        for job_id in [k for k in table if k not in kept]:
            table.pop(job_id, None)


# --------------------------------------------------------------------------- handlers
@guard
def train_start(preset: str = DEFAULT_PRESET, upload: Any = None, text_column: str | None = None,
                txt_mode: str = "lines", exclude: list[str] | None = None, quijote_lines: float = 2000,
                max_rows: float = 0, model_name: str | None = None, from_scratch: bool = False,
                n_layer: float = 4, n_head: float = 4, n_embd: float = 256, recipe: str = "packed",
                block_size: float = 128, epochs: float = 1.0, learning_rate: float = 5e-4, batch_size: float = 8,
                grad_accum: float = 1, weight_decay: float = 0.01, warmup_steps: float = 10,
                eval_steps: float = 20, max_steps: float = 200, seed: float = 42,
                early_stopping_patience: float = 0, sample_prompt: str = SAMPLE_PROMPT,
                name: str = "", auto: bool = True, keep: str = "final",
                save_every_minutes: float = 5.0) -> tuple[str, str, Any, str]:
    """API ``train_start``: starts a job; returns (job id, status text, timer, settings as JSON).

    With ``auto`` (the default) steps, epochs, learning rate, batch, block,
    warm-up and evaluation interval are chosen from the corpus size and the
    values given for them are ignored.
    """
    from lm_demo import exports
    from lm_demo.models import BUNDLED_NAME, default_training_model
    from lm_demo.training import TrainConfig, start_training

    def hp(value: Any, field: str, cast: type = float) -> Any:
        v = number_field(value, field, cast)  # checked even when automatic: a bad number is refused, not ignored
        return None if auto else v

    cfg = TrainConfig(
        corpus=corpus_spec(preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows),
        base_model=(model_name or "").strip() or default_training_model() or BUNDLED_NAME,
        from_scratch=bool(from_scratch), n_layer=number_field(n_layer, "n_layer", int), n_head=number_field(n_head, "n_head", int),
        n_embd=number_field(n_embd, "n_embd", int), recipe=recipe or "packed", block_size=hp(block_size, "block_size", int),
        epochs=hp(epochs, "epochs"), learning_rate=hp(learning_rate, "learning_rate"),
        batch_size=hp(batch_size, "batch_size", int), grad_accum=number_field(grad_accum, "grad_accum", int),
        weight_decay=number_field(weight_decay, "weight_decay"), warmup_steps=hp(warmup_steps, "warmup_steps", int),
        eval_steps=hp(eval_steps, "eval_steps", int), max_steps=hp(max_steps, "max_steps", int),
        seed=number_field(seed, "seed", int), early_stopping_patience=number_field(early_stopping_patience,
                                                                   "early_stopping_patience", int),
        keep=keep or "final", save_every_minutes=number_field(save_every_minutes, "save_every_minutes"),
        sample_prompt=sample_prompt or SAMPLE_PROMPT, output_name=(name or "").strip(),
    )
    if cfg.output_name:
        from lm_demo.checkpoints import sanitize_name

        sanitize_name(cfg.output_name)  # refuse a bad/protected name now, not after training
    job = start_training(cfg)
    uploaded = upload_path(upload)
    settings = exports.make_settings("training", model=cfg.base_model, params=dict(
        corpus=preset, exclude=list(exclude or []), quijote_lines=quijote_lines, max_rows=max_rows,
        text_column=text_column or "", txt_mode=txt_mode, upload=os.path.basename(uploaded) if uploaded else None,
        from_scratch=bool(from_scratch), n_layer=n_layer, n_head=n_head, n_embd=n_embd, recipe=recipe,
        block_size=block_size, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, grad_accum=grad_accum,
        weight_decay=weight_decay, warmup_steps=warmup_steps, eval_steps=eval_steps, max_steps=max_steps, seed=seed,
        early_stopping_patience=early_stopping_patience, sample_prompt=sample_prompt, name=name or "",
        auto=bool(auto), keep=keep or "final", save_every_minutes=save_every_minutes))
    _prune_job_files()
    TRAIN_SETTINGS[job.id] = settings
    return job.id, T("train.status.stage.corpus"), gr.Timer(active=True), exports.settings_json(settings)


@guard
def train_stop(job_id: str | None = None) -> str:
    """API ``train_stop``: asks the running job (started by ``job_id``) to stop."""
    from lm_demo.jobs import JOBS

    if not request_stop(JOBS.running(), job_id, "train.stop.not_owner"):
        return T("train.stop.none")
    gr.Info(T("train.stop.requested"))
    return T("train.status.stopping")


@guard
def use_trained(saved: str | None, current: str | None) -> Any:
    from lm_demo.models import model_choices

    if not saved:
        return gr.Dropdown(choices=model_choices(), value=current)
    return gr.Dropdown(choices=model_choices(), value=saved)


def apply_hp_preset(key: str) -> list[Any]:
    """A recipe fills the fields (and turns the automatic settings off); "auto" turns them back on."""
    if (key or "auto") == "auto":
        return [gr.skip()] * len(HP_FIELDS) + [gr.skip(), gr.Checkbox(value=True)]
    values = HP_PRESETS.get(key, MANUAL_START)
    return [values[f] for f in HP_FIELDS] + [gr.Checkbox(value=key == "seed003"), gr.Checkbox(value=False)]


def _whole(x: Any) -> Any:
    """A slider's 4.0 as 4 (sliders send floats)."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _summary(auto: bool, recipe: str, keep: str, from_scratch: bool, n_layer: Any, n_embd: Any, max_steps: Any,
             epochs: Any, learning_rate: Any, batch_size: Any, block_size: Any, eval_steps: Any) -> str:
    scratch = (T("train.summary.scratch", layers=_whole(n_layer), width=_whole(n_embd)) if from_scratch
               else T("train.summary.finetune"))
    common = dict(recipe=T(f"train.summary.{recipe if recipe in ('packed', 'padded') else 'packed'}"),
                  keep=T(f"train.summary.keep.{keep if keep in ('final', 'best') else 'final'}"), scratch=scratch)
    if auto:
        return T("train.summary.auto", **common)
    return T("train.summary.manual", steps=max_steps or "—", epochs=epochs, lr=learning_rate, batch=batch_size,
             block=block_size, eval=eval_steps, **common)


@guard
def settings_summary(auto: bool, recipe: str, keep: str, from_scratch: bool, n_layer: Any, n_embd: Any,
                     max_steps: Any, epochs: Any, learning_rate: Any, batch_size: Any, block_size: Any,
                     eval_steps: Any) -> str:
    """The one line above "Avanzado": the values the next run will use."""
    return _summary(auto, recipe, keep, from_scratch, n_layer, n_embd, max_steps, epochs, learning_rate,
                    batch_size, block_size, eval_steps)


# --------------------------------------------------------------------------- layout
def build(ctx: UIContext) -> None:
    from lm_demo.corpora import available_presets
    from lm_demo.models import default_training_model, model_choices
    from lm_demo.training.leftovers import cleanup_leftovers

    cleanup_leftovers()  # start-up: what an interrupted save left behind
    allowed = training_allowed()
    m = MANUAL_START
    with gr.Tab(T("train.tab"), id="training", elem_id="tab-training") as tab:
        gr.Markdown(T("train.intro"))
        if not allowed:
            gr.Markdown(T("train.disabled"), elem_id="train-disabled")
        owner_id = gr.BrowserState(None, storage_key="lm_demo_train_job")
        saved_name = gr.State("")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                preset = Dropdown(preset_choices(available_presets(check_hub=False)), value=DEFAULT_PRESET,
                                  label=T("train.corpus.preset"), info=T("train.corpus.preset.info"),
                                  elem_id="train-preset")
                upload = gr.File(label=T("train.corpus.upload"), file_types=UPLOAD_TYPES, type="filepath",
                                 elem_id="train-upload", height=150, interactive=allowed)
            with gr.Column(scale=3):
                base_default = default_training_model()
                base_model = Dropdown(model_choices(base_default), value=base_default,
                                      allow_custom_value=True, label=T("train.model.base"),
                                      info=T("train.model.base.info"), elem_id="train-base-model")
                stats_btn = gr.Button(T("train.corpus.stats_btn"), size="sm", elem_id="train-stats-btn",
                                      interactive=allowed)
            with gr.Column(scale=2, min_width=200):
                start_btn = gr.Button(T("train.start"), variant="primary", size="lg", interactive=allowed,
                                      elem_id="train-start")
                stop_btn = gr.Button(T("train.stop"), variant="stop", interactive=False, elem_id="train-stop")
        runs = runs_panel.build()
        summary = gr.Markdown(compose(lambda: _summary(True, "packed", "final", False, 4, 256, m["max_steps"],
                                                       m["epochs"], m["learning_rate"], m["batch_size"],
                                                       m["block_size"], m["eval_steps"])),
                              elem_id="train-summary")
        with gr.Accordion(T("train.advanced"), open=False, elem_id="train-advanced"):
            with gr.Row():
                auto = gr.Checkbox(True, label=T("train.hp.auto"), info=T("train.hp.auto.info"),
                                   elem_id="train-auto")
                keep = Radio([(T("train.hp.keep.final"), "final"), (T("train.hp.keep.best"), "best")],
                             value="final", label=T("train.hp.keep"), info=T("train.hp.keep.info"),
                             elem_id="train-keep")
            hp_preset = Radio([(T(f"train.hp.preset.{k}"), k) for k in HP_PRESET_KEYS], value="auto",
                              label=T("train.hp.preset"), info=T("train.hp.preset.info"), elem_id="train-hp-preset")
            with gr.Row():
                epochs = Number(m["epochs"], minimum=0.01, label=T("train.hp.epochs"))
                max_steps = Number(m["max_steps"], precision=0, minimum=0, label=T("train.hp.max_steps"),
                                   elem_id="train-max-steps")
                eval_steps = Number(m["eval_steps"], precision=0, minimum=1, label=T("train.hp.eval_steps"),
                                    elem_id="train-eval-steps")
                learning_rate = Number(m["learning_rate"], minimum=0, label=T("train.hp.learning_rate"))
            with gr.Row():
                batch_size = Number(m["batch_size"], precision=0, minimum=1, label=T("train.hp.batch_size"),
                                    elem_id="train-batch-size")
                grad_accum = Number(m["grad_accum"], precision=0, minimum=1, label=T("train.hp.grad_accum"))
                block_size = Number(m["block_size"], precision=0, minimum=8, label=T("train.hp.block_size"),
                                    elem_id="train-block-size")
                warmup_steps = Number(m["warmup_steps"], precision=0, minimum=0, label=T("train.hp.warmup_steps"))
            with gr.Row():
                weight_decay = Number(m["weight_decay"], minimum=0, label=T("train.hp.weight_decay"))
                patience = Number(m["early_stopping_patience"], precision=0, minimum=0,
                                  label=T("train.hp.early_stopping_patience"))
                seed = Number(42, precision=0, minimum=0, label=T("train.hp.seed"))
                save_minutes = Number(5, minimum=0, label=T("train.hp.save_every_minutes"),
                                      elem_id="train-save-minutes")
            recipe = Radio([(T("train.hp.recipe.packed"), "packed"), (T("train.hp.recipe.padded"), "padded")],
                           value="packed", label=T("train.hp.recipe"), elem_id="train-recipe")
            gr.Markdown(f"#### {T('train.corpus.section')}")
            with gr.Row():
                exclude = CheckboxGroup([(T(f"train.corpus.cat.{c}"), c) for c in JOKE_CATEGORIES], value=["sexo"],
                                        label=T("train.corpus.exclude"), info=T("train.corpus.exclude.info"),
                                        visible=False, elem_id="train-exclude")
                quijote_lines = Number(2000, precision=0, minimum=0, label=T("train.corpus.quijote_lines"),
                                       visible=False)
                max_rows = Number(0, precision=0, minimum=0, label=T("train.corpus.max_rows"),
                                  elem_id="train-max-rows")
                text_column = Dropdown([], value=None, allow_custom_value=True, label=T("train.corpus.column"),
                                       info=T("train.corpus.column.info"))
                txt_mode = Radio([(T("train.corpus.txt_mode.lines"), "lines"),
                                  (T("train.corpus.txt_mode.blocks"), "blocks")], value="lines",
                                 label=T("train.corpus.txt_mode"))
            gr.Markdown(f"#### {T('train.model.section')}")
            with gr.Row():
                from_scratch = gr.Checkbox(False, label=T("train.model.scratch"), info=T("train.model.scratch.info"),
                                           elem_id="train-scratch")
                n_layer = Slider(1, 12, value=4, step=1, label=T("train.model.layers"))
                n_head = Slider(1, 12, value=4, step=1, label=T("train.model.heads"))
                n_embd = Slider(32, 768, value=256, step=32, label=T("train.model.width"))
            with gr.Row():
                sample_prompt = Textbox(SAMPLE_PROMPT, label=T("train.hp.sample_prompt"), max_lines=2,
                                        max_length=SAMPLE_PROMPT_CHARS, elem_id="train-sample-prompt")
                name = Textbox("", label=T("train.hp.name"), max_lines=1, max_length=NAME_CHARS,
                               elem_id="train-name")
        status = gr.Markdown(T("train.status.idle"), elem_id="train-status")
        overfit = gr.Markdown(elem_id="train-overfit")
        notes = gr.Markdown(elem_id="train-notes")
        log_scale = gr.Checkbox(False, label=T("train.log_scale"), elem_id="train-log")
        with gr.Row():
            loss_plot = gr.Plot(label=T("train.plot.loss"), elem_id="train-loss-plot")
            ppl_plot = gr.Plot(label=T("train.plot.ppl"), elem_id="train-ppl-plot")
        history_csv = gr.DownloadButton(T("train.history_csv"), value=None, size="sm", elem_id="train-history-csv")
        png_hint()
        use_btn = gr.Button(T("train.use_model"), visible=False, elem_id="train-use")
        with gr.Accordion(T("train.samples"), open=True):
            samples = gr.Markdown(T("train.samples.empty"), elem_id="train-samples")
        with gr.Accordion(T("train.corpus.stats"), open=False) as stats_acc:
            stats_summary = gr.Markdown(elem_id="train-stats-summary")
            stats_notes = gr.Markdown()
            with gr.Row():
                with gr.Column():
                    stats_table = gr.Dataframe(interactive=False, max_height=300, elem_id="train-stats-table")
                    stats_csv = csv_button("train-stats-csv")
                stats_hist = gr.Plot(label=T("train.corpus.hist"), elem_id="train-stats-hist")
        settings = settings_box("training", {
            "model": base_model, "corpus": preset, "exclude": exclude, "quijote_lines": quijote_lines,
            "max_rows": max_rows, "text_column": text_column, "txt_mode": txt_mode, "upload": None,
            "from_scratch": from_scratch, "n_layer": n_layer, "n_head": n_head, "n_embd": n_embd, "recipe": recipe,
            "block_size": block_size, "epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
            "grad_accum": grad_accum, "weight_decay": weight_decay, "warmup_steps": warmup_steps,
            "eval_steps": eval_steps, "max_steps": max_steps, "seed": seed, "early_stopping_patience": patience,
            "sample_prompt": sample_prompt, "name": name, "auto": auto, "keep": keep,
            "save_every_minutes": save_minutes}, "train.start", "train")
        timer = gr.Timer(POLL_SECONDS, active=False)

        corpus_inputs = [preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows]
        start_inputs = corpus_inputs + [base_model, from_scratch, n_layer, n_head, n_embd, recipe, block_size, epochs,
                                        learning_rate, batch_size, grad_accum, weight_decay, warmup_steps,
                                        eval_steps, max_steps, seed, patience, sample_prompt, name, auto, keep,
                                        save_minutes]
        status_inputs = [owner_id, log_scale, runs["pick"]]
        status_outputs = [status, overfit, loss_plot, ppl_plot, samples, notes, timer, start_btn, stop_btn, use_btn,
                          ctx.model, base_model, saved_name, history_csv, runs["group"], runs["text"], runs["pick"]]
        quiet = dict(api_visibility="private", show_progress="hidden")

        # Registered first so that it, not a private event of the same function, gets the name.
        timer.tick(train_status, status_inputs, status_outputs, api_name="train_status", show_progress="hidden")
        # The previous run's result goes at once (a failed start gets it back: train_status follows either way).
        start_btn.click(starting_view, [log_scale], [status, overfit, loss_plot, ppl_plot, samples, notes, use_btn,
                                                     history_csv], queue=False, **quiet)
        start_btn.click(train_start, start_inputs, [owner_id, status, timer, settings], api_name="train_start",
                        concurrency_limit=1, show_progress="hidden").then(train_redraw, status_inputs,
                                                                          status_outputs, **quiet)
        stop_btn.click(train_stop, [owner_id], [status], api_name="train_stop", queue=False, show_progress="hidden")
        ctx.redraws.append(relang.Redraw(train_redraw, status_inputs, status_outputs))
        log_scale.change(train_redraw, status_inputs, status_outputs, **quiet)
        # re-attach: on page load and when the tab is shown, redraw everything and resume polling
        tab.select(train_redraw, status_inputs, status_outputs, **quiet)
        root = gr.context.Context.root_block
        if root is not None:
            root.load(train_redraw, status_inputs, status_outputs, **quiet)
            root.load(preset_menu, None, [preset], **quiet)
        runs["continue"].click(runs_panel.run_continue, [runs["pick"], owner_id], [owner_id, status, timer],
                               api_name="train_continue", concurrency_limit=1, show_progress="hidden").then(
            train_redraw, status_inputs, status_outputs, **quiet)
        runs["use"].click(runs_panel.run_use, [runs["pick"], ctx.model, owner_id],
                          [ctx.model, base_model, runs["group"], runs["text"], runs["pick"]], api_visibility="private")
        runs["discard"].click(runs_panel.run_discard, [runs["pick"], owner_id],
                              [runs["group"], runs["text"], runs["pick"]],
                              api_visibility="private")
        use_btn.click(use_trained, [saved_name, ctx.model], [ctx.model], api_visibility="private")
        stats_outputs = [stats_summary, stats_table, stats_hist, stats_notes, stats_csv]
        gr.Button(visible=False).click(corpus_preview, corpus_inputs + [base_model], stats_outputs,
                                       api_name="train_corpus_stats")  # the API; the page shows errors in the panel
        stats_ev = stats_btn.click(lambda: gr.Accordion(open=True), None, [stats_acc], api_visibility="private",
                                   queue=False).then(corpus_preview_page, corpus_inputs + [base_model], stats_outputs,
                                                     api_visibility="private")
        ctx.redraws.append(relang.Redraw(relang.again(corpus_preview_page, len(stats_outputs)),
                                         [relang.remember([stats_ev], corpus_inputs + [base_model])], stats_outputs))
        preset.change(preset_options, [preset], [exclude, quijote_lines, sample_prompt], api_visibility="private",
                      queue=False)
        upload.upload(upload_columns, [upload, text_column, txt_mode], [text_column, sample_prompt],
                      api_visibility="private")
        hp_fields = [epochs, learning_rate, batch_size, grad_accum, block_size, weight_decay, warmup_steps,
                     eval_steps, max_steps, patience]
        hp_preset.change(apply_hp_preset, [hp_preset], hp_fields + [from_scratch, auto], api_visibility="private")
        for field in hp_fields:  # editing a hyperparameter by hand turns the automatic settings off
            field.input(lambda: gr.Checkbox(value=False), None, [auto], api_visibility="private", queue=False)
        summary_inputs = [auto, recipe, keep, from_scratch, n_layer, n_embd, max_steps, epochs, learning_rate,
                          batch_size, block_size, eval_steps]
        for comp in summary_inputs:
            comp.change(settings_summary, summary_inputs, [summary], api_visibility="private", queue=False,
                        show_progress="hidden")
        ctx.redraws.append(relang.Redraw(settings_summary, summary_inputs, [summary], {"queue": False}))
