"""The language switch's workarounds (``lm_demo/ui/gradio_locale.py``) against the installed Gradio.

These fail on purpose when Gradio changes: each names what to check again
(the module docstring's points 1-3, then ``tests/test_e2e_i18n.py`` in Chromium)
before the new version goes into ``gradio_locale.TESTED``.
"""

from __future__ import annotations

import logging

import gradio as gr

from lm_demo.locales import STRINGS
from lm_demo.ui import gradio_locale, i18n


def test_the_installed_gradio_is_one_the_workarounds_were_measured_on():
    assert gradio_locale.supported(), (
        f"Gradio {gr.__version__} is not in gradio_locale.TESTED {gradio_locale.TESTED}: check the first locale a "
        "browser gets, changeLocale in assets/core-*.js, and get_api_info's labels (lm_demo/ui/gradio_locale.py), "
        "run tests/test_e2e_i18n.py, then add the version")
    assert gradio_locale.supported("6.31.9") and not gradio_locale.supported("6.32.0")
    assert not gradio_locale.supported("7.0") and not gradio_locale.supported("")


def test_the_front_end_still_has_what_the_switch_uses():
    core = gradio_locale.core_asset()
    assert core is not None, "no single assets/core-*.js in the installed Gradio: point 2 of gradio_locale"
    text = core.read_text(encoding="utf-8")
    assert " as changeLocale" in text, "core-*.js no longer exports changeLocale: point 2 of gradio_locale"
    assert "fallbackLocale:`en`" in text, "the first locale no longer falls back to en: point 1 of gradio_locale"
    head = gradio_locale.head_html()
    assert f"assets/{core.name}" in head and "window.lmApplyLocale" in head
    assert i18n.head_html().index("window.lmApplyLocale =") < i18n.head_html().index("window.lmSetLang(stored())")


def test_get_api_info_still_shows_markers_and_the_wrapper_gives_spanish():
    with gr.Blocks() as demo:
        box = gr.Textbox(label=i18n.marker("nt.prompt"))
        out = gr.Textbox(label=i18n.marker("nt.entropy"))
        box.submit(lambda s: s, [box], [out], api_name="eco")
    raw = demo.get_api_info()["named_endpoints"]["/eco"]
    assert "translation_metadata" in str(raw["parameters"][0]["label"]), "Gradio now resolves markers in its API " \
        "info: api_info_in_spanish (point 3 of gradio_locale) may go"
    i18n.api_info_in_spanish(demo)
    info = demo.get_api_info()["named_endpoints"]["/eco"]
    assert info["parameters"][0]["label"] == STRINGS["es"]["nt.prompt"]
    assert info["returns"][0]["label"] == STRINGS["es"]["nt.entropy"]
    assert info["parameters"][0]["parameter_name"] == raw["parameters"][0]["parameter_name"]


def test_an_untested_gradio_gets_no_asset_import_and_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(gr, "__version__", "6.99.0")
    with caplog.at_level(logging.WARNING, logger="lm_demo"):
        assert gradio_locale.head_html() == ""
    assert "6.99.0" in caplog.text
    head = i18n.head_html()  # the choice is still kept and sent to the server; labels stay Spanish
    assert "window.lmSetLang" in head and "changeLocale" not in head
