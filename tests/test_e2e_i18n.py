"""The language switch in Chromium: Spanish by default (also for English and French browsers),
English at once on a click without losing what was typed, server text (tables, entropy,
errors) in English too, the choice kept after a reload, and back to Spanish."""

from __future__ import annotations

import json

import pytest

from lm_demo.locales import STRINGS

pytestmark = pytest.mark.e2e

ES, EN = STRINGS["es"], STRINGS["en"]
TAB_KEYS = ("nt.tab", "dec.tab", "cmp.tab", "train.tab", "ins.tab", "mp.tab", "guide.tab")
PROMPT = "En el silencio de la noche"


def open_app(browser, url: str, locale: str):
    ctx = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_selector("#model-picker")
    page.wait_for_function("() => window.lmLocaleApplied")  # the stored choice is applied
    # the model line of the page load (the first load of a fresh server takes seconds)
    page.wait_for_function("() => /^Model(o)?:/.test(document.querySelector('#model-status')?.innerText || '')",
                           timeout=90_000)
    return ctx, page


def tab_names(page) -> list[str]:
    return [t.inner_text().strip() for t in page.get_by_role("tab").all()][:len(TAB_KEYS)]


def wait_tabs(page, table: dict[str, str]) -> None:
    names = json.dumps([table[k] for k in TAB_KEYS])
    page.wait_for_function(
        f"() => JSON.stringify(Array.from(document.querySelectorAll('[role=tab]'))"
        f".filter(t => t.offsetParent !== null).slice(0, {len(TAB_KEYS)})"
        f".map(t => t.innerText.trim())) === JSON.stringify({names})",
        timeout=30_000,
    )


def test_switch_to_english_and_back(browser, app_server, tmp_path):
    ctx, page = open_app(browser, app_server, "en-US")
    try:
        # Spanish for everyone by default, here an English browser
        wait_tabs(page, ES)
        assert ES["nt.prompt"] in page.inner_text("#nt-prompt")
        assert page.inner_text("#nt-run").strip() == ES["nt.run"]
        assert page.locator("#lang-switch input[value=es]").is_checked()
        page.fill("#nt-prompt textarea", PROMPT)

        page.locator("#lang-switch").get_by_label("English").check()
        wait_tabs(page, EN)
        assert tab_names(page) == [EN[k] for k in TAB_KEYS]
        assert EN["nt.prompt"] in page.inner_text("#nt-prompt")
        assert EN["nt.temperature"] in page.inner_text("body")
        assert page.inner_text("#nt-run").strip() == EN["nt.run"]
        assert EN["app.classroom"] in page.inner_text("#classroom-mode")
        assert EN["app.title"] in page.inner_text("#app-header")
        assert page.input_value("#nt-prompt textarea") == PROMPT  # nothing typed is lost
        assert page.evaluate("() => [localStorage.getItem('lm_lang'), document.documentElement.lang]") == ["en", "en"]
        assert "lm_lang=en" in page.evaluate("() => document.cookie")

        # what the server writes follows the switch: column names, entropy text, notes
        page.click("#nt-run")
        page.wait_for_selector('#nt-table [role=row][aria-rowindex="11"]', timeout=90_000)
        header = page.inner_text('#nt-table [role=row][aria-rowindex="1"]')
        assert EN["nt.col.prob"] in header and EN["nt.col.cum"] in header and ES["nt.col.prob"] not in header
        page.wait_for_function("() => (document.querySelector('#nt-entropy')?.innerText || '').includes('Entropy')")
        assert "Entropía" not in page.inner_text("#nt-entropy")
        # the model line is written again on a switch; its offline note was kept from the first load
        page.wait_for_function("() => (document.querySelector('#model-status')?.innerText || '').includes('Model:')")
        assert "Sin conexión" not in page.inner_text("#model-status")
        page.wait_for_selector("#nt-chart .js-plotly-plot", timeout=30_000)
        page.screenshot(path=str(tmp_path / "english.png"), full_page=True)

        # an error message in English
        page.fill("#nt-prompt textarea", "")
        page.click("#nt-run")
        page.get_by_text(EN["err.empty_prompt"]).first.wait_for(timeout=30_000)

        # the choice survives a reload
        page.reload()
        page.wait_for_selector("#model-picker")
        wait_tabs(page, EN)
        page.wait_for_function("() => document.querySelector('#lang-switch input[value=en]')?.checked === true")
        assert page.inner_text("#nt-run").strip() == EN["nt.run"]

        # and back to Spanish
        page.locator("#lang-switch").get_by_label("Español").check()
        wait_tabs(page, ES)
        assert page.inner_text("#nt-run").strip() == ES["nt.run"]
        assert ES["nt.prompt"] in page.inner_text("#nt-prompt")
        assert page.evaluate("() => localStorage.getItem('lm_lang')") == "es"
        page.screenshot(path=str(tmp_path / "spanish.png"), full_page=True)
    finally:
        ctx.close()


def test_a_french_browser_gets_spanish(browser, app_server):
    ctx, page = open_app(browser, app_server, "fr-FR")
    try:
        wait_tabs(page, ES)
        assert ES["nt.prompt"] in page.inner_text("#nt-prompt")
        page.get_by_role("tab", name=ES["dec.tab"]).click()
        assert ES["dec.run"] in page.inner_text("#dec-run")
    finally:
        ctx.close()
