"""What the training tab shows of a job: status text, overfitting note, samples, curves, metric CSV; the polled redraw.

Pure functions of a job and its event list (``lm_demo.training`` events), so a
reloaded page or a second browser redraws the whole history from the same data.
"""

from __future__ import annotations

from typing import Any

from lm_demo.ui.common import T, guard, notes_markdown, plain, poll_timer, retranslate

# Exports: settings of the jobs started by this process, and each ended job's metric history CSV, by job id.
TRAIN_SETTINGS: dict[str, dict] = {}
HISTORY_FILES: dict[str, str] = {}
HISTORY_COLUMNS = ("step", "epoch", "train_loss", "eval_loss", "eval_perplexity", "learning_rate", "tokens_per_s")


def fmt(x: Any, digits: int = 3) -> str:
    """A metric in the reader's language (``1.557`` tokens/s in Spanish, ``1,557`` in English)."""
    from lm_demo.locales.numbers import number

    if x is None:
        return "—"
    if isinstance(x, float):
        return number(x, f",.{digits}f" if abs(x) < 1e5 else ",.0f")
    return str(x)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return T("train.eta.unknown")
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def status_markdown(job: Any, events: list[dict], owner: bool) -> str:
    """One status paragraph for ``job`` (None = idle): progress, or the result with the model kept."""
    if job is None:
        return T("train.status.idle")
    if job.kind != "train":
        from lm_demo.jobs import kind_label

        return T("train.status.kind_other", kind=kind_label(job.kind))
    start = next((e for e in reversed(events) if e["type"] == "start"), {})
    last_train = next((e for e in reversed(events) if e["type"] == "train" and not e.get("replayed")), None)
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
                     epoch=fmt(last_train.get("epoch"), 2), loss=fmt(last_train.get("loss")),
                     tps=fmt(last_train.get("tokens_per_s"), 0), eta=duration(last_train.get("eta_s")))
            if last_train.get("gpu_mem_mb"):
                line += T("train.status.gpu_mem", mb=fmt(last_train["gpu_mem_mb"], 0))
            parts.append(line)
        return "\n\n".join(parts)
    if job.status == "error":
        return T("train.status.error", error=plain(retranslate(job.error)))  # may quote a typed model name
    res = job.result
    steps = getattr(res, "steps", last_train["step"] if last_train else 0)
    loss = getattr(res, "eval_loss", None) if res is not None else (last_eval or {}).get("eval_loss")
    ppl = getattr(res, "eval_perplexity", None) if res is not None else (last_eval or {}).get("perplexity")
    took = getattr(res, "duration_s", None) or ((job.ended_at or job.started_at) - job.started_at)
    key = "train.status.stopped" if job.status == "stopped" else "train.status.finished"
    parts.append(T(key, steps=steps, duration=duration(took), loss=fmt(loss), ppl=fmt(ppl, 1)))
    kept = next((e for e in reversed(events) if e["type"] == "kept"), None)
    if kept is not None:
        from lm_demo.training.outcome import kept_key

        best = kept.get("best_step")
        text_key = kept_key(kept.get("kept"), kept.get("step"), best)
        parts.append(T(text_key, step=kept.get("step"), best_step="—" if best is None else best,
                       final_step=kept.get("final_step")))
    ckpt = getattr(res, "checkpoint", None)
    if ckpt:
        parts.append(T("train.status.saved", name=ckpt))
    return "\n\n".join(parts)


def notes_markdown_of(events: list[dict]) -> str:
    """The run's notes, each written in the reader's language from its key (a note posted as text only,
    by an older run, is translated back from its text); once each: a resumed run repeats some."""
    from lm_demo.locales import from_ref

    texts = [from_ref(e.get("ref")) or e.get("text", "") for e in events if e.get("type") == "note"]
    return notes_markdown(list(dict.fromkeys(texts)))


def overfit_markdown(events: list[dict]) -> str:
    """The plain-words explanation of overfitting once the run shows it ("" before)."""
    from lm_demo.charts.training import overfit_step

    step = overfit_step(events)
    return "" if step is None else T("train.overfit", best_step=step)


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


@guard
def starting_view(log_scale: bool = False) -> tuple[Any, ...]:
    """What "Empezar a entrenar" shows at once, before the job's first poll: (status, overfitting note, loss
    and perplexity plots, samples, notes, "use this model" button, metrics CSV); nothing of the previous run
    stays."""
    import gradio as gr

    loss, ppl = figures([], log_scale)
    return (T("train.status.stage.corpus"), "", loss, ppl, T("train.samples.empty"), "", gr.Button(visible=False),
            None)


def figures(events: list[dict], log_scale: bool, settings: dict | None = None) -> tuple[Any, Any]:
    """Loss and perplexity figures; their PNG export is named after ``settings`` (a training job's)."""
    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.training import loss_figure, perplexity_figure
    from lm_demo.locales import t

    loss = loss_figure(events, bool(log_scale), title="", train_name=T("train.plot.train_loss"),
                       eval_name=T("train.plot.eval_loss"), x_title=T("train.plot.step"),
                       empty_text=T("train.plot.empty"), min_text=T("train.plot.eval_min"))
    ppl = perplexity_figure(events, bool(log_scale), title="", name=T("train.plot.ppl_eval"),
                            x_title=T("train.plot.step"), empty_text=T("train.plot.empty"))
    settings = settings or exports.make_settings("training")
    exportable(loss, exports.file_stem(settings, t("train.file.loss")))
    exportable(ppl, exports.file_stem(settings, t("train.file.ppl")))
    return loss, ppl


@guard
def train_status(job_id: str | None = None, log_scale: bool = False, run_pick: str | None = None) -> tuple[Any, ...]:
    """API ``train_status`` (the poll timer's tick): status text, overfitting note, loss and perplexity plots,
    samples, notes, (UI updates), metric history CSV, interrupted runs.

    Also switches the poll timer off once the job has ended, re-enables the
    buttons, and refreshes both model pickers (the app's and the base model's)
    when nothing runs, so a saved checkpoint can be used or trained further.
    """
    return _status_view(job_id, log_scale, run_pick, from_tick=True)


@guard
def train_redraw(job_id: str | None = None, log_scale: bool = False, run_pick: str | None = None) -> tuple[Any, ...]:
    """``train_status`` for every other redraw (page load, tab switch, after Start): never stops the timer
    (``common.poll_timer``)."""
    return _status_view(job_id, log_scale, run_pick, from_tick=False)


def _status_view(job_id: str | None, log_scale: bool, run_pick: str | None, from_tick: bool) -> tuple[Any, ...]:
    import gradio as gr

    from lm_demo.jobs import JOBS, training_allowed
    from lm_demo.models import model_choices
    from lm_demo.ui.components import training_runs_panel as runs_panel
    from lm_demo.ui.components.export_panel import download
    from lm_demo.ui.ownership import is_owner
    from lm_demo.ui.widgets import Dropdown

    busy = JOBS.running()
    job = busy if busy is not None and busy.kind == "train" else JOBS.latest("train")
    events = job.events if job is not None else []
    running = busy is not None
    owner = running and job is busy and is_owner(job, job_id)
    shown = busy if busy is not None and busy.kind != "train" else job
    status = status_markdown(shown, events, owner)
    loss, ppl = figures(events, log_scale, job_settings(job))
    notes = notes_markdown_of(events)
    saved = next((e["checkpoint"] for e in reversed(events) if e["type"] == "saved"), None)
    use_btn = gr.Button(visible=bool(saved) and not (job is not None and job.running))
    if running:  # nothing can be continued while a job runs
        picker = base_picker = gr.skip()
        runs = (gr.Group(visible=False), gr.skip(), gr.skip())
    else:
        picker = Dropdown(choices=model_choices()) if saved else gr.skip()
        base_picker = Dropdown(choices=model_choices())
        runs = runs_panel.view(run_pick)
    return (status, overfit_markdown(events), loss, ppl, samples_markdown(events), notes,
            poll_timer(running, from_tick), gr.Button(interactive=not running and training_allowed()),
            gr.Button(interactive=owner), use_btn, picker, base_picker, saved or "",
            download(history_file(job, events)), *runs)


__all__ = ["status_markdown", "notes_markdown_of", "overfit_markdown", "samples_markdown", "job_settings",
           "history_frame", "history_file", "figures", "starting_view", "train_status", "train_redraw",
           "TRAIN_SETTINGS", "HISTORY_FILES", "HISTORY_COLUMNS"]
