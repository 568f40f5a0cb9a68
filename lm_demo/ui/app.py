"""Build the Gradio Blocks app: a model picker shared by all tabs, then one tab per module.

Importing this module pulls in gradio but not torch/transformers: those load
when a handler first needs a model (``warm_up`` does it in the background
right after launch), so the page is served within seconds.
"""

from __future__ import annotations

import threading

import gradio as gr

from lm_demo.ui import classroom as aula
from lm_demo.ui import i18n, limits, relang, sessions
from lm_demo.ui.common import T, UIContext, compose, static_ui
from lm_demo.ui.components import (
    compare_tab,
    decoding_tab,
    guide_tab,
    inside_tab,
    model_panel,
    next_token_tab,
    training_tab,
)

# Files Gradio keeps for the app (uploads, the CSVs it serves): every 10 minutes, those older than
# 2 hours are deleted (a lesson's uploads and downloads outlive the lesson, not the week).
DELETE_CACHE = (600, 7200)


def build_demo(default_model: str | None = None) -> gr.Blocks:
    from lm_demo.models import default_model_name, model_choices

    default = default_model or default_model_name()
    choices = model_choices(default)
    with static_ui(), gr.Blocks(title="lm_demo", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(compose(lambda: f"# {T('app.title')}\n{T('app.subtitle')}"), elem_id="app-header")
        with gr.Row(equal_height=True):
            model = gr.Dropdown(choices, value=default, label=T("mp.picker"), info=T("mp.picker.info"),
                                allow_custom_value=True, scale=2, elem_id="model-picker")
            status = gr.Markdown(elem_classes=["lm-status"], elem_id="model-status")
            classroom = gr.Checkbox(False, label=T("app.classroom"), info=T("app.classroom.info"), scale=0,
                                    min_width=180, elem_id="classroom-mode")
            # Bilingual on purpose: whoever does not read the current language must find it.
            lang = gr.Radio(i18n.LANG_CHOICES, value="es", label="Idioma / Language", scale=0, min_width=180,
                            elem_id="lang-switch")
        ctx = UIContext(model=model, model_status=status)
        with gr.Tabs() as tabs:
            ctx.tabs = tabs
            next_token_tab.build(ctx)
            decoding_tab.build(ctx)
            compare_tab.build(ctx)
            training_tab.build(ctx)
            inside_tab.build(ctx)
            model_panel.build(ctx)
            guide_tab.build(ctx)
        classroom.change(None, [classroom], None, js=aula.TOGGLE_JS, api_visibility="private")
        model.change(model_panel.model_status, [model], [status], api_visibility="private")
        demo.load(model_panel.model_status, [model], [status], api_visibility="private")
        for cb in ctx.refresh_callbacks:
            demo.load(cb, None, None, api_visibility="private")
        # Before the Blocks closes (its config is computed then): one marker per translated prop.
        i18n.localize_blocks(demo.blocks.values())
        # The switch relabels the page in the browser (its JS) and tells the server, which relabels
        # what the browser cannot (tab labels, empty tables' headers: off the queue, so a long job
        # never delays it), then redraws the model line and every tab's results in the new language.
        # On load: the stored choice, the same way.
        demo.load(None, None, [lang], js=i18n.STORED_JS, api_visibility="private")  # in the browser, at once
        relang.wire(demo, lang, ctx.redraws, [(model_panel.model_status, [model], [status])])
    i18n.api_info_in_spanish(demo)
    return demo


def warm_up(model_name: str | None = None) -> threading.Thread:
    """Import torch/transformers and load the default model off the request path."""

    def work() -> None:
        try:
            from lm_demo.models import load_model

            load_model(model_name)
        except Exception:  # noqa: BLE001 - the first request will report it properly
            pass

    th = threading.Thread(target=work, name="lm_demo-warmup", daemon=True)
    th.start()
    return th


def launch_kwargs() -> dict:
    """Options that Gradio 6 takes on ``launch`` rather than on ``Blocks`` (with the UI's two languages).

    Also what keeps a public server's memory bounded: lean sessions dropped
    when idle (``sessions``, installed by the lifespan hook before the first
    request), at most ``sessions.MAX_SESSIONS`` of them, and request bodies
    capped (``limits.BodyLimit``; uploads have ``max_file_size``).
    """
    from starlette.middleware import Middleware

    sessions.forget_callbacks[:] = [i18n.forget_sessions]
    return {"css": aula.CSS, "theme": gr.themes.Soft(), "footer_links": ["gradio"], "max_file_size": "50mb",
            "i18n": i18n.gradio_i18n(), "head": i18n.head_html() + aula.HEAD_JS,
            "state_session_capacity": sessions.MAX_SESSIONS,
            "app_kwargs": {"lifespan": sessions.lifespan, "middleware": [Middleware(limits.BodyLimit)]}}
