"""«Tú eliges» in "Dentro del modelo": the student picks every next token, undoes, and compares two branches.

The computation is ``lm_demo.stepping`` (the decoding tab's KV-cached engine).
The page keeps no state beyond the ids chosen: the state is the JSON the
handlers return (``stepping.StepState.to_dict``), sent back with each click,
so the API (``step_choose``, ``step_undo``, ``step_branch``) drives it the
same way.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Callable

import gradio as gr

from lm_demo.charts.decoding import COLOR_MAP
from lm_demo.errors import UserError
from lm_demo.locales.numbers import number
from lm_demo.stepping import MAX_TOP_N
from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, notes_markdown, queue_opts
from lm_demo.ui.components.export_panel import csv_button, download
from lm_demo.ui.widgets import Number, Slider, Textbox

STEP_COLUMNS = ("step", "candidates", "chosen", "rank", "prob", "mode", "cum")


def _parse_state(state: Any) -> dict:
    """The client's state (a dict, its JSON, or nothing) as a dict; only ids and modes are used."""
    if state is None or state == "":
        return {}
    if isinstance(state, str):
        try:
            state = json.loads(state)
        except ValueError:
            raise UserError("ins.err.bad_state") from None
    if not isinstance(state, dict):
        raise UserError("ins.err.bad_state")
    return state


def _ids_and_modes(branch: Any) -> tuple[list[Any] | None, list[str]]:
    if not isinstance(branch, dict):
        return None, []
    steps = branch.get("steps") if isinstance(branch.get("steps"), list) else []
    modes = [s.get("mode", "click") if isinstance(s, dict) else "click" for s in steps]
    return branch.get("ids"), modes


def _client_state(loaded: Any, prompt: str, state: Any) -> tuple[Any, list[str], Any, list[str], list[str]]:
    """(chosen ids, their modes, saved ids or None, saved modes, notes) from the client's state."""
    from lm_demo.locales import t
    from lm_demo.stepping import prompt_text

    data = _parse_state(state)
    if not data:
        return [], [], None, [], []
    ids, modes = _ids_and_modes(data)
    saved = data.get("saved")
    saved_ids, saved_modes = _ids_and_modes(saved) if saved else (None, [])
    if ids is None:
        raise UserError("ins.err.bad_state")
    if "prompt" in data and data["prompt"] != prompt_text(loaded, prompt):
        return [], [], None, [], [t("ins.note.prompt_changed")]
    return ids, modes, saved_ids, saved_modes, []


def steps_table(rows: list[Any], top_n: int) -> Any:
    import pandas as pd

    from lm_demo.decoding import format_candidates

    data = [[r.step, format_candidates(r.candidates[:top_n]), r.chosen_token, r.rank, round(r.prob, 5),
             T(f"ins.mode.{r.mode}"), round(r.cum_logprob, 4)] for r in rows]
    return pd.DataFrame(data, columns=[T(f"ins.col.{c}") for c in STEP_COLUMNS])


def _md_cell(text: str) -> str:
    return html.escape(text).replace("|", "\\|").replace("\n", "↵ ") or "—"


def _branches(st: Any) -> tuple[str, Any]:
    """The comparison of the saved branch and the current one (Markdown, chart); a hint without one."""
    from lm_demo.charts.inside import branches_figure

    if st.saved is None:
        return T("ins.branch.none"), None
    kinds = [("saved", st.saved), ("current", st.current)]
    head = [T(f"ins.branch.col.{c}") for c in ("branch", "text", "tokens", "cum", "mean", "ppl")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, b in kinds:
        mean = b.mean_logprob
        ppl = number(math.exp(-mean), ".2f") if mean is not None else "—"
        mean_s = number(mean, ".3f") if mean is not None else "—"
        cum = number(b.cum_logprob, ".2f")
        lines.append(f"| {T(f'ins.branch.{kind}')} | {_md_cell(b.text)} | {len(b.ids)} | {cum} | {mean_s} | {ppl} |")
    if st.saved.ids == st.current.ids:
        lines.append("\n" + T("ins.branch.same"))
    else:
        best = max(kinds, key=lambda kb: kb[1].cum_logprob)
        other = kinds[1] if best is kinds[0] else kinds[0]
        means = [(k, b.mean_logprob if b.mean_logprob is not None else -math.inf) for k, b in kinds]
        best_mean = max(means, key=lambda km: km[1])[0]
        lines.append("\n" + T("ins.branch.summary", step=st.diverge_step(), best=T(f"ins.branch.{best[0]}"),
                              lp_best=best[1].cum_logprob, lp_other=other[1].cum_logprob,
                              best_mean=T(f"ins.branch.{best_mean}")))
        if len(st.saved.ids) != len(st.current.ids):
            lines.append(T("ins.branch.length_note"))
    fig = branches_figure([(k, T(f"ins.branch.{k}"), b.rows) for k, b in kinds], None, T("ins.chart.step"),
                          T("ins.chart.cum"))
    return "\n".join(lines), fig


def _step_view(loaded: Any, st: Any, top_n: int, prompt: str, notes: list[str]) -> tuple[Any, ...]:
    """Every output of the stepping handlers, from a ``stepping.StepState``."""
    from lm_demo import exports
    from lm_demo.charts.decoding import highlighted
    from lm_demo.charts.export import exportable
    from lm_demo.decoding import text_pieces
    from lm_demo.locales import t

    text = highlighted(st.prompt_text, text_pieces(loaded.tokenizer, st.current.rows))
    rows = st.current.rows
    summary = (T("ins.choose.summary", n=len(rows), lp=st.current.cum_logprob) if rows
               else T("ins.choose.summary.empty"))
    table = steps_table(rows, top_n)
    settings = exports.make_settings("inside", prompt=prompt, **exports.model_names(loaded),
                                     params=dict(top_n=top_n, ids=st.current.ids))
    csv_path = exports.table_file(table, settings, t("ins.file.steps")) if rows else None
    branch_md, branch_fig = _branches(st)
    exportable(branch_fig, exports.file_stem(settings, t("ins.file.branches")))
    buttons = []
    for k in range(MAX_TOP_N):
        if k < len(st.candidates):
            c = st.candidates[k]
            buttons.append(gr.Button(T("ins.choose.candidate", token=c.label, prob=c.prob), visible=True))
        else:
            buttons.append(gr.Button(visible=False))
    return (st.to_dict(loaded.name), text, summary, table, branch_md, branch_fig,
            notes_markdown(loaded.notes + notes + st.notes), download(csv_path), *buttons)


N_STEP_OUTPUTS = 8 + MAX_TOP_N  # what ``_step_view`` returns: 8 components and the candidate buttons


def _top_n(value: Any) -> int:
    try:
        n = int(float(value))
    except (TypeError, ValueError):
        return 5
    return min(max(n, 1), MAX_TOP_N)


def _step(prompt: str, model_name: str | None, state: Any, new_ids: list[int] | None, top_n: Any,
          mode: str = "click", action: str = "choose") -> tuple[Any, ...]:
    """One stepping action on the client's state: "choose"/"add" ``new_ids``, "undo", "branch" (keep the
    current text as the saved branch), or show the state as it is."""
    from lm_demo import stepping
    from lm_demo.models import load_model

    loaded = load_model(model_name)
    ids, modes, saved, saved_modes, notes = _client_state(loaded, prompt, state)
    if (action == "undo" and not ids) or (action == "add" and not new_ids):
        # Nothing to do: say so without turning the whole view into errors.
        gr.Warning(T("ins.err.nothing_to_undo" if action == "undo" else "ins.err.empty_choice"))
        action, new_ids = "show", None
    if action == "undo":
        st = stepping.undo(loaded, prompt, ids, top_n, saved, modes, saved_modes)
    elif action == "branch":
        st = stepping.state(loaded, prompt, ids, ids, top_n, modes, modes)
    elif new_ids:
        st = stepping.choose(loaded, prompt, ids, new_ids, top_n, saved, mode, modes, saved_modes)
    else:
        st = stepping.state(loaded, prompt, ids, saved, top_n, modes, saved_modes)
    return _step_view(loaded, st, _top_n(top_n), prompt, notes)


@guard
def step_choose(prompt: str, model_name: str | None = None, state: Any = None, token: str | None = "",
                token_id: float = -1, top_n: float = 5) -> tuple[Any, ...]:
    """API ``step_choose``: add one choice to a text built token by token.

    ``state``: the first output of the previous call (``{"ids": [...], ...}``), or empty to start from
    ``prompt``.  The choice: ``token_id`` (>= 0), else the text ``token`` (appended as typed, token by
    token), else nothing (the state as it is: with an empty ``state``, the first candidates).
    Outputs: the new state ``{"prompt", "text", "ids", "steps": [{"step", "token", "id", "rank", "prob",
    "cum_logprob", "mode"}], "cum_logprob", "candidates": [{"rank", "token", "id", "prob"}], "saved"}``,
    the highlighted text, a summary, the steps table, the branch comparison (text and chart), notes, the
    table as CSV, and the candidate buttons.
    """
    from lm_demo.models import load_model

    try:
        tid = float(token_id) if token_id is not None else -1
    except (TypeError, ValueError):
        tid = -1
    if tid >= 0 and not math.isnan(tid) and not math.isinf(tid):
        return _step(prompt, model_name, state, [int(tid)], top_n)
    if token:
        from lm_demo.stepping import typed_ids

        return _step(prompt, model_name, state, typed_ids(load_model(model_name), token), top_n, mode="typed")
    return _step(prompt, model_name, state, None, top_n)


@guard
def step_add(prompt: str, model_name: str | None, state: Any, token: str | None, top_n: float) -> tuple[Any, ...]:
    """"Añadir": the typed text (an empty box: a warning, the view stays as it is)."""
    from lm_demo.models import load_model
    from lm_demo.stepping import typed_ids

    ids = typed_ids(load_model(model_name), token) if token else None
    return _step(prompt, model_name, state, ids, top_n, mode="typed", action="add")


@guard
def step_undo(prompt: str, model_name: str | None = None, state: Any = None, top_n: float = 5) -> tuple[Any, ...]:
    """API ``step_undo``: the state one chosen token earlier (exactly as it was); outputs as ``step_choose``.

    With nothing to undo, a warning and the state as it is.
    """
    return _step(prompt, model_name, state, None, top_n, action="undo")


@guard
def step_branch(prompt: str, model_name: str | None = None, state: Any = None, top_n: float = 5) -> tuple[Any, ...]:
    """API ``step_branch``: keep the current text as the saved branch, to compare it with what comes next
    (undo some steps, choose others); outputs as ``step_choose``."""
    return _step(prompt, model_name, state, None, top_n, action="branch")


@guard
def step_restart(prompt: str, model_name: str | None = None, top_n: float = 5) -> tuple[Any, ...]:
    """"Empezar de nuevo": the first candidates after the prompt."""
    return _step(prompt, model_name, None, None, top_n)


def _pick(k: int) -> Any:
    @guard
    def pick_candidate(prompt: str, model_name: str | None, state: Any, top_n: float) -> tuple[Any, ...]:
        cands = _parse_state(state).get("candidates") or []
        if k >= len(cands) or not isinstance(cands[k], dict) or "id" not in cands[k]:
            raise UserError("ins.err.no_candidate")
        return _step(prompt, model_name, state, [cands[k]["id"]], top_n)

    return pick_candidate


@guard
def open_choose(prompt: str, model_name: str | None, state: Any, top_n: float) -> tuple[Any, ...]:
    """Opening "Tú eliges" shows the first candidates (a state already there is left as it is)."""
    if _parse_state(state):
        return tuple(gr.skip() for _ in range(N_STEP_OUTPUTS))
    return _step(prompt, model_name, None, None, top_n)


@guard
def step_show(prompt: str, model_name: str | None, state: Any, top_n: float) -> tuple[Any, ...]:
    """The state as it is (another number of candidates)."""
    return _step(prompt, model_name, state, None, top_n)


def _redraw_steps(prompt: str, model_name: str | None, top_n: float, state: Any) -> tuple[Any, ...]:
    """After a language switch: the text built so far, as it is (``relang.again`` passes the kept
    prompt, model and number of candidates, then the state on the page)."""
    return step_show(prompt, model_name, state, top_n)


def build(ctx: UIContext, prompt: gr.Textbox, notes: gr.Markdown) -> Callable[[], None]:
    """The «Tú eliges» sub-tab, laid out inside the tab's ``gr.Tabs``; returns its wiring, to call once
    those sub-tabs are closed: it adds hidden components for the API, and inside a sub-tab those made
    Gradio draw the next sub-tab's button twice after a language switch (test_e2e_tour)."""
    with gr.Tab(T("ins.sub.choose"), id="ins-choose", elem_id="ins-tab-choose") as choose_tab:
        gr.Markdown(T("ins.choose.intro"))
        with gr.Row():
            restart = gr.Button(T("ins.choose.start"), elem_id="ins-start", scale=1)
            undo = gr.Button(T("ins.choose.undo"), elem_id="ins-undo", scale=1)
            branch = gr.Button(T("ins.choose.branch"), elem_id="ins-branch", scale=1)
            top_n = Slider(1, MAX_TOP_N, value=5, step=1, label=T("ins.choose.top_n"), scale=2,
                           elem_id="ins-top-n")
        gr.Markdown(f"**{T('ins.choose.candidates')}**")
        with gr.Row(elem_id="ins-candidates"):
            cand_buttons = [gr.Button("…", visible=k < 5, elem_id=f"ins-cand-{k}", min_width=100)
                            for k in range(MAX_TOP_N)]
        with gr.Row(equal_height=True):
            typed = Textbox("", label=T("ins.choose.typed"), info=T("ins.choose.typed.info"), scale=4,
                            elem_id="ins-typed")
            add = gr.Button(T("ins.choose.add"), scale=1, elem_id="ins-add")
        step_summary = gr.Markdown(elem_id="ins-step-summary")
        text = gr.HighlightedText(label=T("ins.choose.text"), color_map=COLOR_MAP, show_legend=True,
                                  show_inline_category=False, combine_adjacent=False, elem_id="ins-text")
        steps = gr.Dataframe(label=T("ins.choose.steps"), interactive=False, wrap=True, max_height=380,
                             elem_id="ins-steps",
                             headers=[T(f"ins.col.{c}") for c in STEP_COLUMNS])
        steps_csv = csv_button("ins-steps-csv")
        branch_md = gr.Markdown(elem_id="ins-branches")
        branch_chart = gr.Plot(label=T("ins.branch.chart"), elem_id="ins-branch-chart")
        with gr.Accordion(T("ins.choose.state"), open=False):
            state = gr.JSON(elem_id="ins-state")

    def wire() -> None:
        light = queue_opts("next_token")  # one cached step each: as cheap as "Siguiente token"
        token_id = Number(-1, precision=0, minimum=-1, visible=False)
        api_button = gr.Button(visible=False)
        step_outputs = [state, text, step_summary, steps, branch_md, branch_chart, notes, steps_csv, *cand_buttons]
        # The API's step_choose; on the page a candidate button or "Añadir" is the usual way in.
        api_button.click(step_choose, [prompt, ctx.model, state, typed, token_id, top_n], step_outputs,
                         api_name="step_choose", **light)
        steps_events = [btn.click(_pick(k), [prompt, ctx.model, state, top_n], step_outputs, api_visibility="private",
                                  **light) for k, btn in enumerate(cand_buttons)]
        for trigger in (add.click, typed.submit):
            ev = trigger(step_add, [prompt, ctx.model, state, typed, top_n], step_outputs, api_visibility="private",
                         **light)
            ev.success(lambda: "", None, [typed], api_visibility="private")
            steps_events.append(ev)
        steps_events += [
            undo.click(step_undo, [prompt, ctx.model, state, top_n], step_outputs, api_name="step_undo", **light),
            branch.click(step_branch, [prompt, ctx.model, state, top_n], step_outputs, api_name="step_branch",
                         **light),
            restart.click(step_restart, [prompt, ctx.model, top_n], step_outputs, api_visibility="private", **light),
            top_n.release(step_show, [prompt, ctx.model, state, top_n], step_outputs, api_visibility="private",
                          **light),
            choose_tab.select(open_choose, [prompt, ctx.model, state, top_n], step_outputs,
                              api_visibility="private", **light)]
        # A language switch shows the text built so far again (its state is on the page).
        steps_kept = relang.remember(steps_events, [prompt, ctx.model, top_n])
        ctx.redraws.append(relang.Redraw(relang.again(_redraw_steps, N_STEP_OUTPUTS), [steps_kept, state],
                                         step_outputs, light))

    return wire
