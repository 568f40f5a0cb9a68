"""The training tab's "interrupted runs" panel: continue, use as it is, or discard a run cut short.

Wiring only; the runs themselves are ``lm_demo.training.runs``.  The panel is
hidden while there is nothing to list, and redrawn when the page loads and
when a job ends (``view``).

Who may continue, save or discard a run (``may_manage``): on a local app,
anyone (the teacher's machine: the class's browsers and the projector are
the same people, and a run cut by a crash is usually continued from another
browser or after a reload); on a Space (``SPACE_ID`` set, public unless its
owner made it private), the same rule as Stop: only the browser whose job
last trained the run (its job id, kept in ``gr.BrowserState``, hashed in
``run.json``) or the operator's ``LM_DEMO_ADMIN_TOKEN``.  Runs started from
the CLI have no browser: on a Space only the operator manages them.
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


def may_manage(name: str | None, job_id: Any) -> None:
    """``UserError`` unless whoever sent ``job_id`` may continue, save or discard run ``name`` (see above)."""
    from lm_demo.errors import UserError
    from lm_demo.training import caps, runs
    from lm_demo.ui.ownership import is_admin

    if not caps.on_space() or is_admin(job_id):
        return
    run = runs.open_run(name or "")
    if not runs.owned_by(run, job_id):
        raise UserError("train.runs.not_owner", name=run.name)


@guard
def run_continue(name: str | None, job_id: str | None = None) -> tuple[str, str, Any]:
    """API ``train_continue``: resume the interrupted run ``name`` as the training job; (job id, status, timer).

    ``job_id``: the caller's last training job (the browser's), for the owner rule on a Space."""
    from lm_demo.training import resume_training

    may_manage(name, job_id)
    job = resume_training(name or "")
    return job.id, T("train.status.stage.corpus"), gr.Timer(active=True)


@guard
def run_use(name: str | None, current: str | None, job_id: str | None = None) -> tuple[Any, ...]:
    """Save the run's last checkpoint as a model now ("Usar tal cual"); refresh the pickers and the panel."""
    from lm_demo.models import model_choices
    from lm_demo.training.runs import export_run

    may_manage(name, job_id)
    path = export_run(name or "")
    gr.Info(T("train.runs.exported", name=path.name))
    return (gr.Dropdown(choices=model_choices(), value=current), gr.Dropdown(choices=model_choices()), *view(name))


@guard
def run_discard(name: str | None, job_id: str | None = None) -> tuple[Any, Any, Any]:
    """Delete the interrupted run ``name`` (its folder in ``checkpoints/.runs``)."""
    from lm_demo.training.runs import discard_run

    may_manage(name, job_id)
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


__all__ = ["may_manage", "view", "run_continue", "run_use", "run_discard", "build", "runs_markdown"]
