"""The model panel: parameter count, configuration, module tree (seeds 002/004) and the CPU
kernels measured for the model at load (``lm_demo.fast_linear``)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, in_code, plain


def status_markdown(loaded: Any) -> str:
    from lm_demo.locales import retranslate
    from lm_demo.model_info import count_parameters, human_count, kernel_report

    src = T(f"model.source.{loaded.source}")
    line = T("mp.status", name=in_code(loaded.name), resolved=loaded.resolved, source=src,
             device=loaded.device, dtype=loaded.dtype, params=human_count(count_parameters(loaded.model)))
    report = kernel_report(loaded)
    if report is not None and report.bf16_active:
        line += T("mp.status.bf16")
    warn = "".join(f"\n\n> ⚠️ {plain(retranslate(n))}" for n in loaded.notes)  # notes kept from the first load
    return line + warn


@guard
def model_status(model_name: str | None) -> str:
    from lm_demo.models import load_model

    return status_markdown(load_model(model_name))


def _number(x: float, digits: int = 2) -> str:
    from lm_demo.locales.numbers import number

    return number(float(x), f".{digits}f")


def kernels_markdown(loaded: Any) -> str:
    """What was measured on this CPU at load, the bf16 mode and its probability difference."""
    from lm_demo.cpu_kernels import TUNE_BUDGET_S
    from lm_demo.model_info import kernel_report

    report = kernel_report(loaded)
    if report is None:
        return f"### {T('mp.kern.title')}\n\n" + T("mp.kern.gpu", device=loaded.device)
    parts = [f"### {T('mp.kern.title')}",
             T("mp.kern.host", cpu=report.cpu, features=", ".join(report.features) or "-",
               capability=report.capability, threads=report.threads)]
    parts.append(T("mp.kern.tuned", seconds=_number(report.seconds)) if report.autotuned else T("mp.kern.fixed"))
    parts.append(T("mp.kern.memory", copies=_number(report.copy_bytes / 2**20, 0),
                   model=_number(report.model_bytes / 2**20, 0)))
    if report.unmeasured_layers:
        parts.append(T("mp.kern.partial", budget=_number(TUNE_BUDGET_S, 0), layers=report.unmeasured_layers))
    if not report.bf16_requested:
        parts.append(T("mp.kern.bf16.off"))
    elif not report.bf16_available:
        parts.append(T(f"mp.kern.bf16.unavailable.{report.bf16_reason or 'no_bf16'}"))
    elif not report.bf16_active:
        parts.append(T("mp.kern.bf16.slower"))
    else:
        agree = T("mp.kern.bf16.agree" if report.top1_agree else "mp.kern.bf16.disagree")
        parts.append(T("mp.kern.bf16.on", layers=report.bf16_layers, diff=_number(report.max_prob_diff or 0.0, 4),
                       prompt=report.prob_diff_prompt, agree=agree))
    return "\n\n".join(parts)


def kernels_frame(loaded: Any) -> Any:
    """The kernel chosen per weight shape and row case: ``W·xᵀ 0,18 ms (×2,1)``."""
    import pandas as pd

    from lm_demo.cpu_kernels import ROW_CASES
    from lm_demo.model_info import kernel_report, kernel_rows

    columns = [T("mp.kern.col.shape"), T("mp.kern.col.layers")] + [T(f"mp.kern.col.{c.name}") for c in ROW_CASES]
    report = kernel_report(loaded)
    data = []
    for row in kernel_rows(report) if report is not None else []:
        cells = [f"{name} {_number(ms)} ms (×{_number(speedup, 1)})" if ms is not None and speedup is not None
                 else f"{name} {_number(ms)} ms" if ms is not None else f"{name} ({T('mp.kern.unmeasured')})"
                 for name, ms, speedup in row[2:]]
        data.append(row[:2] + cells)
    return pd.DataFrame(data, columns=columns)


@guard
def model_details(model_name: str | None) -> tuple[str, Any, str, Any, str, Any]:
    import pandas as pd

    from lm_demo.locales.numbers import number
    from lm_demo.model_info import human_count, summarize
    from lm_demo.models import load_model

    loaded = load_model(model_name)
    s = summarize(loaded)
    facts = T("mp.facts", arch=s.architecture, params=human_count(s.parameters), exact=number(s.parameters, ","),
              layers=s.layers, width=s.width, heads=s.heads, context=s.context, vocab=s.vocab)
    named = [(T("mp.root") if i == 0 and not name else name, cls, n)
             for i, (name, cls, n) in enumerate(s.named_modules)]
    modules = pd.DataFrame(named, columns=[T("mp.col.module"), T("mp.col.class"), T("mp.col.own_params")])
    return facts, s.config, s.module_tree, modules, kernels_markdown(loaded), kernels_frame(loaded)


def build(ctx: UIContext) -> None:
    with gr.Tab(T("mp.tab"), id="model", elem_id="tab-model"):
        gr.Markdown(T("mp.intro"))
        show = gr.Button(T("mp.show"), elem_id="mp-show")
        facts = gr.Markdown(elem_id="mp-facts")
        with gr.Row():
            config = gr.JSON(label=T("mp.config"))
            tree = gr.Code(label=T("mp.tree"), language=None, lines=20)
        modules = gr.Dataframe(label=T("mp.modules"), interactive=False, max_height=360, elem_id="mp-modules")
        kernels = gr.Markdown(elem_id="mp-kernels")
        kernel_table = gr.Dataframe(label=T("mp.kern.table"), interactive=False, elem_id="mp-kernel-table")
        outputs = [facts, config, tree, modules, kernels, kernel_table]
        ev = show.click(model_details, [ctx.model], outputs, api_name="model_info")
        kept = relang.remember([ev], [ctx.model])
        ctx.redraws.append(relang.Redraw(relang.again(model_details, len(outputs)), [kept], outputs))
