"""The model panel: parameter count, configuration and module tree (seeds 002/004)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from lm_demo.ui import relang
from lm_demo.ui.common import T, UIContext, guard, in_code, plain


def status_markdown(loaded: Any) -> str:
    from lm_demo.locales import retranslate
    from lm_demo.model_info import count_parameters, human_count

    src = T(f"model.source.{loaded.source}")
    line = T("mp.status", name=in_code(loaded.name), resolved=loaded.resolved, source=src,
             device=loaded.device, dtype=loaded.dtype, params=human_count(count_parameters(loaded.model)))
    warn = "".join(f"\n\n> ⚠️ {plain(retranslate(n))}" for n in loaded.notes)  # notes kept from the first load
    return line + warn


@guard
def model_status(model_name: str | None) -> str:
    from lm_demo.models import load_model

    return status_markdown(load_model(model_name))


@guard
def model_details(model_name: str | None) -> tuple[str, Any, str, Any]:
    import pandas as pd

    from lm_demo.locales.numbers import number
    from lm_demo.model_info import human_count, summarize
    from lm_demo.models import load_model

    s = summarize(load_model(model_name))
    facts = T("mp.facts", arch=s.architecture, params=human_count(s.parameters), exact=number(s.parameters, ","),
              layers=s.layers, width=s.width, heads=s.heads, context=s.context, vocab=s.vocab)
    named = [(T("mp.root") if i == 0 and not name else name, cls, n)
             for i, (name, cls, n) in enumerate(s.named_modules)]
    modules = pd.DataFrame(named, columns=[T("mp.col.module"), T("mp.col.class"), T("mp.col.own_params")])
    return facts, s.config, s.module_tree, modules


def build(ctx: UIContext) -> None:
    with gr.Tab(T("mp.tab"), id="model", elem_id="tab-model"):
        gr.Markdown(T("mp.intro"))
        show = gr.Button(T("mp.show"), elem_id="mp-show")
        facts = gr.Markdown(elem_id="mp-facts")
        with gr.Row():
            config = gr.JSON(label=T("mp.config"))
            tree = gr.Code(label=T("mp.tree"), language=None, lines=20)
        modules = gr.Dataframe(label=T("mp.modules"), interactive=False, max_height=360, elem_id="mp-modules")
        outputs = [facts, config, tree, modules]
        ev = show.click(model_details, [ctx.model], outputs, api_name="model_info")
        kept = relang.remember([ev], [ctx.model])
        ctx.redraws.append(relang.Redraw(relang.again(model_details, len(outputs)), [kept], outputs))
