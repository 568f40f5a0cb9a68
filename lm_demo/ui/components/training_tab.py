"""Tab "Entrenamiento": wiring only; the work is in ``lm_demo.training`` and friends.

How the page follows a job that runs in a background thread: ``train_start``
starts it and switches a ``gr.Timer`` on; each tick ``train_status`` redraws
the whole history from ``JOBS.current().events`` (so a reloaded page, or a
second browser, gets the full picture) and switches the timer off once the
job has ended.  The browser that started a job remembers its id in
``gr.BrowserState`` (it survives a reload); other browsers see the progress
read-only.  ``train_stop`` runs outside the queue (``queue=False``) so it is
never stuck behind other requests.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from lm_demo.training import HP_PRESETS
from lm_demo.ui.common import T, UIContext, guard, notes_markdown, retranslate
from lm_demo.ui.components.export_panel import csv_button, download, png_hint, settings_box
from lm_demo.ui.widgets import CheckboxGroup, Dropdown, Number, Radio, Slider

PRESET_KEYS = ("chistes", "poesia", "quijote", "refranes", "prosa", "mezcla", "amazon")
HP_PRESET_KEYS = ("demo", "seed000", "seed001", "seed002", "seed003", "seed004")
JOKE_CATEGORIES = ("otros", "familia", "sexo", "animales", "profesiones", "regionales", "tematicos")
UPLOAD_TYPES = [".txt", ".csv", ".tsv", ".jsonl", ".json", ".parquet"]
POLL_SECONDS = 1.5
DEMO = dict(epochs=1.0, learning_rate=5e-4, batch_size=8, grad_accum=1, block_size=128, weight_decay=0.01,
            warmup_steps=10, eval_steps=20, max_steps=200, early_stopping_patience=0)
HP_FIELDS = ("epochs", "learning_rate", "batch_size", "grad_accum", "block_size", "weight_decay", "warmup_steps",
             "eval_steps", "max_steps", "early_stopping_patience")
# Exports: settings of the jobs started by this process, and each ended job's metric history CSV, by job id.
TRAIN_SETTINGS: dict[str, dict] = {}
HISTORY_FILES: dict[str, str] = {}
HISTORY_COLUMNS = ("step", "epoch", "train_loss", "eval_loss", "eval_perplexity", "learning_rate", "tokens_per_s")


def _allowed() -> bool:
    return os.environ.get("LM_DEMO_ALLOW_TRAINING", "1").strip().lower() not in ("0", "false", "no", "off")


def _num(value: Any, field: str, cast: type = float) -> Any:
    """``value`` as a number; ``field`` is a locale key (``train.hp.<field>`` when it has no dot)."""
    from lm_demo.errors import UserError

    try:
        x = float(value)
        if x != x:  # NaN
            raise ValueError
        return cast(x)
    except (TypeError, ValueError, OverflowError):
        raise UserError("err.bad_number", field=T(field if "." in field else f"train.hp.{field}")) from None


def _spec(preset: str | None, upload: Any, text_column: str | None, txt_mode: str | None, exclude: Any,
          quijote_lines: Any, max_rows: Any) -> Any:
    from lm_demo.corpora import CorpusSpec

    path = upload if isinstance(upload, str) else getattr(upload, "path", None) or getattr(upload, "name", None)
    return CorpusSpec(
        preset=(preset or "chistes"), path=path or None, text_column=(text_column or "").strip() or None,
        txt_mode=txt_mode or "lines", exclude_categories=tuple(exclude or ()),
        quijote_lines=_num(quijote_lines or 0, "train.corpus.quijote_lines", int),
        max_rows=_num(max_rows or 0, "train.corpus.max_rows", int),
    )


# --------------------------------------------------------------------------- handlers
@guard
def train_start(preset: str = "chistes", upload: Any = None, text_column: str | None = None,
                txt_mode: str = "lines", exclude: list[str] | None = None, quijote_lines: float = 2000,
                max_rows: float = 0, model_name: str | None = None, from_scratch: bool = False,
                n_layer: float = 4, n_head: float = 4, n_embd: float = 256, recipe: str = "packed",
                block_size: float = 128, epochs: float = 1.0, learning_rate: float = 5e-4, batch_size: float = 8,
                grad_accum: float = 1, weight_decay: float = 0.01, warmup_steps: float = 10,
                eval_steps: float = 20, max_steps: float = 200, seed: float = 42,
                early_stopping_patience: float = 0, sample_prompt: str = "Había una vez",
                name: str = "") -> tuple[str, str, Any, str]:
    """API ``train_start``: starts a job; returns (job id, status text, timer, settings as JSON)."""
    from lm_demo import exports
    from lm_demo.models import BUNDLED_NAME, default_training_model
    from lm_demo.training import TrainConfig, start_training

    cfg = TrainConfig(
        corpus=_spec(preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows),
        base_model=(model_name or "").strip() or default_training_model() or BUNDLED_NAME,
        from_scratch=bool(from_scratch), n_layer=_num(n_layer, "n_layer", int), n_head=_num(n_head, "n_head", int),
        n_embd=_num(n_embd, "n_embd", int), recipe=recipe or "packed", block_size=_num(block_size, "block_size", int),
        epochs=_num(epochs, "epochs"), learning_rate=_num(learning_rate, "learning_rate"),
        batch_size=_num(batch_size, "batch_size", int), grad_accum=_num(grad_accum, "grad_accum", int),
        weight_decay=_num(weight_decay, "weight_decay"), warmup_steps=_num(warmup_steps, "warmup_steps", int),
        eval_steps=_num(eval_steps, "eval_steps", int), max_steps=_num(max_steps, "max_steps", int),
        seed=_num(seed, "seed", int), early_stopping_patience=_num(early_stopping_patience,
                                                                   "early_stopping_patience", int),
        sample_prompt=sample_prompt or "Había una vez", output_name=(name or "").strip(),
    )
    if cfg.output_name:
        from lm_demo.checkpoints import sanitize_name

        sanitize_name(cfg.output_name)  # refuse a bad/protected name now, not after training
    job = start_training(cfg)
    upload_path = upload if isinstance(upload, str) else getattr(upload, "path", None) or getattr(upload, "name", None)
    settings = exports.make_settings("training", model=cfg.base_model, params=dict(
        corpus=preset, exclude=list(exclude or []), quijote_lines=quijote_lines, max_rows=max_rows,
        text_column=text_column or "", txt_mode=txt_mode, upload=os.path.basename(upload_path) if upload_path else None,
        from_scratch=bool(from_scratch), n_layer=n_layer, n_head=n_head, n_embd=n_embd, recipe=recipe,
        block_size=block_size, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, grad_accum=grad_accum,
        weight_decay=weight_decay, warmup_steps=warmup_steps, eval_steps=eval_steps, max_steps=max_steps, seed=seed,
        early_stopping_patience=early_stopping_patience, sample_prompt=sample_prompt, name=name or ""))
    TRAIN_SETTINGS[job.id] = settings
    return job.id, T("train.status.stage.corpus"), gr.Timer(active=True), exports.settings_json(settings)


@guard
def train_stop(job_id: str | None = None) -> str:
    """API ``train_stop``: asks the running job (started by ``job_id``) to stop."""
    from lm_demo.training import JOBS

    job = JOBS.running()
    if job is None:
        return T("train.stop.none")
    if not job_id or job_id != job.id:
        raise gr.Error(T("train.stop.not_owner"), print_exception=False)
    job.request_stop()
    gr.Info(T("train.stop.requested"))
    return T("train.status.stopping")


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.{digits}f}" if abs(x) < 1e5 else f"{x:,.0f}"
    return str(x)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return T("train.eta.unknown")
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def status_markdown(job: Any, events: list[dict], owner: bool) -> str:
    """One status paragraph for ``job`` (None = idle)."""
    if job is None:
        return T("train.status.idle")
    if job.kind != "train":
        from lm_demo.training import kind_label

        return T("train.status.kind_other", kind=kind_label(job.kind))
    start = next((e for e in reversed(events) if e["type"] == "start"), {})
    last_train = next((e for e in reversed(events) if e["type"] == "train"), None)
    last_eval = next((e for e in reversed(events) if e["type"] == "eval"), None)
    parts: list[str] = []
    if job.running:
        if not owner:
            parts.append(T("train.status.other"))
        if job.stop_requested:
            parts.append(T("train.status.stopping"))
        if last_train is None:
            stage = next((e["stage"] for e in reversed(events) if e["type"] == "stage"), "corpus")
            parts.append(T(f"train.status.stage.{stage}"))
        else:
            line = T("train.status.running", device=start.get("device", "cpu").upper(), step=last_train["step"],
                     total=last_train.get("total_steps") or start.get("total_steps", "?"),
                     epoch=_fmt(last_train.get("epoch"), 2), loss=_fmt(last_train.get("loss")),
                     tps=_fmt(last_train.get("tokens_per_s"), 0), eta=_duration(last_train.get("eta_s")))
            if last_train.get("gpu_mem_mb"):
                line += T("train.status.gpu_mem", mb=_fmt(last_train["gpu_mem_mb"], 0))
            parts.append(line)
        return "\n\n".join(parts)
    if job.status == "error":
        return T("train.status.error", error=retranslate(job.error))
    res = job.result
    steps = getattr(res, "steps", last_train["step"] if last_train else 0)
    loss = getattr(res, "eval_loss", None) if res is not None else (last_eval or {}).get("eval_loss")
    ppl = getattr(res, "eval_perplexity", None) if res is not None else (last_eval or {}).get("perplexity")
    duration = getattr(res, "duration_s", None) or ((job.ended_at or job.started_at) - job.started_at)
    key = "train.status.stopped" if job.status == "stopped" else "train.status.finished"
    parts.append(T(key, steps=steps, duration=_duration(duration), loss=_fmt(loss), ppl=_fmt(ppl, 1)))
    ckpt = getattr(res, "checkpoint", None)
    if ckpt:
        parts.append(T("train.status.saved", name=ckpt))
    return "\n\n".join(parts)


def samples_markdown(events: list[dict]) -> str:
    items = [e for e in events if e["type"] == "sample"]
    if not items:
        return T("train.samples.empty")
    lines = []
    for e in reversed(items):  # newest first
        text = " ".join(str(e["text"]).split())
        lines.append("- " + T("train.samples.item", step=e["step"], text=text.replace("*", "\\*")))
    return "\n".join(lines)


def job_settings(job: Any) -> dict:
    """The settings a training job was started with (for exports' names and headers)."""
    from lm_demo import exports

    if job is None:
        return exports.make_settings("training")
    found = TRAIN_SETTINGS.get(job.id)
    if found is None:
        desc = dict(job.description)
        found = exports.make_settings("training", model=desc.pop("base_model", None), params=desc)
    return found


def history_frame(events: list[dict]) -> Any:
    """The metric history, one row per step with a training log or an evaluation (``HISTORY_COLUMNS``)."""
    import pandas as pd

    rows: dict[int, dict] = {}
    for e in events:
        if e.get("type") not in ("train", "eval") or e.get("step") is None:
            continue
        row = rows.setdefault(int(e["step"]), {"step": int(e["step"])})
        row["epoch"] = e.get("epoch")
        if e["type"] == "train":
            row.update(train_loss=e.get("loss"), learning_rate=e.get("lr"), tokens_per_s=e.get("tokens_per_s"))
        else:
            row.update(eval_loss=e.get("eval_loss"), eval_perplexity=e.get("perplexity"))
    return pd.DataFrame([[r.get(c) for c in HISTORY_COLUMNS] for _, r in sorted(rows.items())],
                        columns=list(HISTORY_COLUMNS))


def history_file(job: Any, events: list[dict]) -> str | None:
    """The metric history CSV of an ended job (written once), or None while it runs or has no metrics."""
    from lm_demo import exports
    from lm_demo.locales import t

    if job is None or job.running or job.kind != "train":
        return None
    if job.id not in HISTORY_FILES:
        frame = history_frame(events)
        if frame.empty:
            return None
        HISTORY_FILES[job.id] = str(exports.table_file(frame, job_settings(job), t("train.file.history")))
    return HISTORY_FILES[job.id]


def figures(events: list[dict], log_scale: bool, settings: dict | None = None) -> tuple[Any, Any]:
    """Loss and perplexity figures; their PNG export is named after ``settings`` (a training job's)."""
    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.training import loss_figure, perplexity_figure
    from lm_demo.locales import t

    loss = loss_figure(events, bool(log_scale), title="", train_name=T("train.plot.train_loss"),
                       eval_name=T("train.plot.eval_loss"), x_title=T("train.plot.step"),
                       empty_text=T("train.plot.empty"))
    ppl = perplexity_figure(events, bool(log_scale), title="", name=T("train.plot.ppl_eval"),
                            x_title=T("train.plot.step"), empty_text=T("train.plot.empty"))
    settings = settings or exports.make_settings("training")
    exportable(loss, exports.file_stem(settings, t("train.file.loss")))
    exportable(ppl, exports.file_stem(settings, t("train.file.ppl")))
    return loss, ppl


@guard
def train_status(job_id: str | None = None, log_scale: bool = False) -> tuple[Any, ...]:
    """API ``train_status``: status text, loss and perplexity plots, samples, notes, (UI updates), metric history CSV.

    Also switches the poll timer off once the job has ended, re-enables the
    buttons, and refreshes the global model picker when a checkpoint was saved.
    """
    from lm_demo.training import JOBS

    busy = JOBS.running()
    job = busy if busy is not None and busy.kind == "train" else JOBS.latest("train")
    events = job.events if job is not None else []
    running = busy is not None
    owner = running and job is busy and bool(job_id) and job_id == job.id
    status = status_markdown(busy if busy is not None and busy.kind != "train" else job, events, owner)
    loss, ppl = figures(events, log_scale, job_settings(job))
    notes = notes_markdown([e["text"] for e in events if e["type"] == "note"])
    timer = gr.Timer(active=running)
    start_btn = gr.Button(interactive=not running and _allowed())
    stop_btn = gr.Button(interactive=owner)
    saved = next((e["checkpoint"] for e in reversed(events) if e["type"] == "saved"), None)
    use_btn = gr.Button(visible=bool(saved) and not (job is not None and job.running))
    if saved and not running:
        from lm_demo.models import model_choices

        picker = Dropdown(choices=model_choices())
    else:
        picker = gr.skip()
    return (status, loss, ppl, samples_markdown(events), notes, timer, start_btn, stop_btn, use_btn, picker, saved or "",
            download(history_file(job, events)))


@guard
def use_trained(saved: str | None, current: str | None) -> Any:
    from lm_demo.models import model_choices

    if not saved:
        return gr.Dropdown(choices=model_choices(), value=current)
    return gr.Dropdown(choices=model_choices(), value=saved)


@guard
def corpus_preview(preset: str, upload: Any, text_column: str | None, txt_mode: str, exclude: list[str] | None,
                   quijote_lines: float, max_rows: float, model_name: str | None) -> tuple[Any, ...]:
    """Summary line, stats table, length histogram, notes and the table as CSV, of the chosen corpus."""
    import pandas as pd

    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.training import length_histogram
    from lm_demo.locales import t
    from lm_demo.corpora import corpus_stats, load_corpus
    from lm_demo.models import load_model

    corpus = load_corpus(_spec(preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows))
    loaded = load_model(model_name)
    stats = corpus_stats(corpus, loaded.tokenizer)
    summary = T("train.corpus.summary", label=corpus.label, source=T(f"train.source.{corpus.source}"),
                origin=corpus.origin, rows=corpus.rows_after)
    table = pd.DataFrame(stats.table(), columns=[T("train.stats.name"), T("train.stats.value")])
    hist = length_histogram(stats.word_lengths, title="", x_title=T("train.stats.words_axis"),
                            y_title=T("train.stats.count_axis"))
    path = upload if isinstance(upload, str) else getattr(upload, "path", None)
    settings = exports.make_settings("training", **exports.model_names(loaded), params=dict(
        corpus=preset, exclude=list(exclude or []), quijote_lines=quijote_lines, max_rows=max_rows,
        text_column=text_column or "", txt_mode=txt_mode, upload=os.path.basename(path) if path else None))
    csv_path = exports.table_file(table, settings, t("train.file.stats"))
    exportable(hist, exports.file_stem(settings, t("train.file.hist")))
    return summary, table, hist, notes_markdown(corpus.notes + loaded.notes), download(csv_path)


@guard
def upload_columns(upload: Any, current: str | None) -> Any:
    """Fill the column picker from an uploaded table (guessing the text column)."""
    from lm_demo.corpora import file_columns

    path = upload if isinstance(upload, str) else getattr(upload, "path", None)
    if not path:
        return gr.Dropdown(choices=[], value=None)
    cols = file_columns(path)
    guess = current if current in cols else next(
        (c for c in cols if c.lower() in ("text", "texto", "content", "contenido")), cols[0] if cols else None)
    return gr.Dropdown(choices=cols, value=guess)


def preset_options(preset: str) -> tuple[Any, Any]:
    """Show the jokes' categories only for the jokes, the line count only for Quijote."""
    return gr.CheckboxGroup(visible=preset == "chistes"), gr.Number(visible=preset == "quijote")


def apply_hp_preset(key: str) -> list[Any]:
    from lm_demo.training import HP_PRESETS

    values = HP_PRESETS.get(key or "demo", DEMO)
    out = [values[f] for f in HP_FIELDS]
    scratch = key == "seed003"
    return out + [gr.Checkbox(value=scratch)]


# --------------------------------------------------------------------------- layout
def build(ctx: UIContext) -> None:
    from lm_demo.models import default_training_model, model_choices

    allowed = _allowed()
    with gr.Tab(T("train.tab"), id="training") as tab:
        gr.Markdown(T("train.intro"))
        if not allowed:
            gr.Markdown(T("train.disabled"), elem_id="train-disabled")
        owner_id = gr.BrowserState(None, storage_key="lm_demo_train_job")
        saved_name = gr.State("")
        with gr.Row():
            with gr.Column(scale=1):
                gr.Markdown(f"### {T('train.corpus.section')}")
                preset = Dropdown([(T(f"train.corpus.{k}"), k) for k in PRESET_KEYS], value="chistes",
                                     label=T("train.corpus.preset"), info=T("train.corpus.preset.info"),
                                     elem_id="train-preset")
                exclude = CheckboxGroup([(T(f"train.corpus.cat.{c}"), c) for c in JOKE_CATEGORIES], value=["sexo"],
                                        label=T("train.corpus.exclude"), info=T("train.corpus.exclude.info"),
                                        elem_id="train-exclude")
                with gr.Row():
                    quijote_lines = Number(2000, precision=0, minimum=0, label=T("train.corpus.quijote_lines"),
                                              visible=False)
                    max_rows = Number(0, precision=0, minimum=0, label=T("train.corpus.max_rows"),
                                         elem_id="train-max-rows")
                upload = gr.File(label=T("train.corpus.upload"), file_types=UPLOAD_TYPES, type="filepath",
                                 elem_id="train-upload", height=120)
                with gr.Row():
                    text_column = Dropdown([], value=None, allow_custom_value=True, label=T("train.corpus.column"),
                                              info=T("train.corpus.column.info"))
                    txt_mode = Radio([(T("train.corpus.txt_mode.lines"), "lines"),
                                         (T("train.corpus.txt_mode.blocks"), "blocks")], value="lines",
                                        label=T("train.corpus.txt_mode"))
                stats_btn = gr.Button(T("train.corpus.stats_btn"), size="sm", elem_id="train-stats-btn")
            with gr.Column(scale=1):
                gr.Markdown(f"### {T('train.model.section')}")
                base_default = default_training_model()
                base_model = Dropdown(model_choices(base_default), value=base_default,
                                      allow_custom_value=True, label=T("train.model.base"),
                                      info=T("train.model.base.info"), elem_id="train-base-model")
                from_scratch = gr.Checkbox(False, label=T("train.model.scratch"), info=T("train.model.scratch.info"),
                                           elem_id="train-scratch")
                with gr.Row():
                    n_layer = Slider(1, 12, value=4, step=1, label=T("train.model.layers"))
                    n_head = Slider(1, 12, value=4, step=1, label=T("train.model.heads"))
                    n_embd = Slider(32, 768, value=256, step=32, label=T("train.model.width"))
                gr.Markdown(f"### {T('train.hp.section')}")
                hp_preset = Radio([(T(f"train.hp.preset.{k}"), k) for k in HP_PRESET_KEYS], value="demo",
                                     label=T("train.hp.preset"), info=T("train.hp.preset.info"),
                                     elem_id="train-hp-preset")
                recipe = Radio([(T("train.hp.recipe.packed"), "packed"), (T("train.hp.recipe.padded"), "padded")],
                                  value="packed", label=T("train.hp.recipe"), elem_id="train-recipe")
                with gr.Row():
                    epochs = Number(DEMO["epochs"], minimum=0.01, label=T("train.hp.epochs"))
                    max_steps = Number(DEMO["max_steps"], precision=0, minimum=0, label=T("train.hp.max_steps"),
                                          elem_id="train-max-steps")
                    eval_steps = Number(DEMO["eval_steps"], precision=0, minimum=1, label=T("train.hp.eval_steps"),
                                           elem_id="train-eval-steps")
                with gr.Row():
                    learning_rate = Number(DEMO["learning_rate"], minimum=0, label=T("train.hp.learning_rate"))
                    batch_size = Number(DEMO["batch_size"], precision=0, minimum=1, label=T("train.hp.batch_size"),
                                           elem_id="train-batch-size")
                    grad_accum = Number(DEMO["grad_accum"], precision=0, minimum=1, label=T("train.hp.grad_accum"))
                with gr.Row():
                    block_size = Number(DEMO["block_size"], precision=0, minimum=8, label=T("train.hp.block_size"),
                                           elem_id="train-block-size")
                    weight_decay = Number(DEMO["weight_decay"], minimum=0, label=T("train.hp.weight_decay"))
                    warmup_steps = Number(DEMO["warmup_steps"], precision=0, minimum=0,
                                             label=T("train.hp.warmup_steps"))
                with gr.Row():
                    patience = Number(DEMO["early_stopping_patience"], precision=0, minimum=0,
                                         label=T("train.hp.early_stopping_patience"))
                    seed = Number(42, precision=0, minimum=0, label=T("train.hp.seed"))
                with gr.Row():
                    sample_prompt = gr.Textbox("Había una vez", label=T("train.hp.sample_prompt"), max_lines=2)
                    name = gr.Textbox("", label=T("train.hp.name"), max_lines=1, elem_id="train-name")
        with gr.Row():
            start_btn = gr.Button(T("train.start"), variant="primary", interactive=allowed, elem_id="train-start")
            stop_btn = gr.Button(T("train.stop"), variant="stop", interactive=False, elem_id="train-stop")
        status = gr.Markdown(T("train.status.idle"), elem_id="train-status")
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
            "sample_prompt": sample_prompt, "name": name}, "train.start", "train")
        timer = gr.Timer(POLL_SECONDS, active=False)

        corpus_inputs = [preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows]
        start_inputs = corpus_inputs + [base_model, from_scratch, n_layer, n_head, n_embd, recipe, block_size, epochs,
                                        learning_rate, batch_size, grad_accum, weight_decay, warmup_steps,
                                        eval_steps, max_steps, seed, patience, sample_prompt, name]
        status_outputs = [status, loss_plot, ppl_plot, samples, notes, timer, start_btn, stop_btn, use_btn, ctx.model,
                          saved_name, history_csv]

        # Registered first so that it, not a private event of the same function, gets the name.
        timer.tick(train_status, [owner_id, log_scale], status_outputs, api_name="train_status",
                   show_progress="hidden")
        start_btn.click(train_start, start_inputs, [owner_id, status, timer, settings], api_name="train_start",
                        concurrency_limit=1).then(
            train_status, [owner_id, log_scale], status_outputs, api_visibility="private")
        stop_btn.click(train_stop, [owner_id], [status], api_name="train_stop", queue=False)
        log_scale.change(train_status, [owner_id, log_scale], status_outputs, api_visibility="private",
                         show_progress="hidden")
        # re-attach: on page load and when the tab is shown, redraw everything and resume polling
        tab.select(train_status, [owner_id, log_scale], status_outputs, api_visibility="private",
                   show_progress="hidden")
        root = gr.context.Context.root_block
        if root is not None:
            root.load(train_status, [owner_id, log_scale], status_outputs, api_visibility="private",
                      show_progress="hidden")
        use_btn.click(use_trained, [saved_name, ctx.model], [ctx.model], api_visibility="private")
        stats_btn.click(lambda: gr.Accordion(open=True), None, [stats_acc], api_visibility="private",
                        queue=False).then(corpus_preview, corpus_inputs + [base_model],
                                          [stats_summary, stats_table, stats_hist, stats_notes, stats_csv],
                                          api_name="train_corpus_stats")
        preset.change(preset_options, [preset], [exclude, quijote_lines], api_visibility="private", queue=False)
        upload.upload(upload_columns, [upload, text_column], [text_column], api_visibility="private")
        hp_preset.change(apply_hp_preset, [hp_preset],
                         [epochs, learning_rate, batch_size, grad_accum, block_size, weight_decay, warmup_steps,
                          eval_steps, max_steps, patience, from_scratch], api_visibility="private")
