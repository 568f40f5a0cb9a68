"""The training tab's "interrupted runs" panel: continue, use as it is, or discard a run cut short.

Wiring only; the runs themselves are ``lm_demo.training.runs``.  The panel is
hidden while there is nothing to list, and redrawn when the page loads and
when a job ends (``view``).
"""

from __future__ import annotations

import time
from typing import Any

import gradio as gr

from lm_demo.ui.common import T, guard


def _ago(ts: float | None) -> str:
    if not ts:
        return "—"
    minutes = max(0, int((time.time() - ts) // 60))
    if minutes < 1:
        return T("train.runs.ago.now")
    if minutes < 120:
        return T("train.runs.ago.min", n=minutes)
    hours = minutes // 60
    return T("train.runs.ago.h", n=hours) if hours < 48 else T("train.runs.ago.d", n=hours // 24)


def runs_markdown(runs: list[dict]) -> str:
    lines = [T("train.runs.title"), T("train.runs.intro")]
    for r in runs:
        status = ""
        if r.get("status") in ("stopped", "error"):
            status += T(f"train.runs.status.{r['status']}")
        if not r.get("resumable"):
            status += T("train.runs.no_checkpoint")
        if r.get("saved_as"):
            status += T("train.runs.saved_as", name=r["saved_as"])
        lines.append("- " + T("train.runs.item", name=r["name"], corpus=r.get("corpus") or "—", step=r["step"],
                              total=r.get("total_steps") or "?", when=_ago(r.get("updated")), status=status))
    return "\n".join(lines)


def view(selected: str | None = None) -> tuple[Any, Any, Any]:
    """(panel visibility, list text, run picker) as they stand now."""
    from lm_demo.training.runs import interrupted_runs

    runs = interrupted_runs()
    names = [r["name"] for r in runs]
    value = selected if selected in names else (names[0] if names else None)
    return gr.Group(visible=bool(runs)), runs_markdown(runs) if runs else "", gr.Dropdown(choices=names, value=value)


@guard
def run_continue(name: str | None) -> tuple[str, str, Any]:
    """API ``train_continue``: resume the interrupted run ``name`` as the training job; (job id, status, timer)."""
    from lm_demo.training import resume_training

    job = resume_training(name or "")
    return job.id, T("train.status.stage.corpus"), gr.Timer(active=True)


@guard
def run_use(name: str | None, current: str | None) -> tuple[Any, ...]:
    """Save the run's last checkpoint as a model now ("Usar tal cual"); refresh the pickers and the panel."""
    from lm_demo.models import model_choices
    from lm_demo.training.runs import export_run

    path = export_run(name or "")
    gr.Info(T("train.runs.exported", name=path.name))
    return (gr.Dropdown(choices=model_choices(), value=current), gr.Dropdown(choices=model_choices()), *view(name))


@guard
def run_discard(name: str | None) -> tuple[Any, Any, Any]:
    """Delete the interrupted run ``name`` (its folder in ``checkpoints/.runs``)."""
    from lm_demo.training.runs import discard_run

    discard_run(name or "")
    gr.Info(T("train.runs.discarded", name=name))
    return view()


def build() -> dict[str, Any]:
    """The panel's components (wired by the tab, which owns the job and the pickers)."""
    with gr.Group(visible=False, elem_id="train-runs") as group:
        text = gr.Markdown(elem_id="train-runs-list")
        with gr.Row():
            pick = gr.Dropdown([], value=None, allow_custom_value=True, label=T("train.runs.pick"), scale=2,
                               elem_id="train-runs-pick")
            cont = gr.Button(T("train.runs.continue"), variant="primary", scale=1, elem_id="train-runs-continue")
            use = gr.Button(T("train.runs.use"), scale=1, elem_id="train-runs-use")
            discard = gr.Button(T("train.runs.discard"), variant="stop", scale=1, elem_id="train-runs-discard")
    return {"group": group, "text": text, "pick": pick, "continue": cont, "use": use, "discard": discard}


__all__ = ["view", "run_continue", "run_use", "run_discard", "build", "runs_markdown"]
