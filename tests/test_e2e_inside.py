"""End to end: "Dentro del modelo" through the API (gradio_client, only the prompt) and in Chromium, offline.

Screenshots go to ``artifacts/``; with ``LM_DEMO_UPDATE_DOCS=1`` the README's ones are also written to
``docs/inside*.png``.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.e2e

PROMPT = "En el silencio de la noche"


def _shot(page_or_locator, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page_or_locator.screenshot(path=str(path))
    if os.environ.get("LM_DEMO_UPDATE_DOCS") == "1":
        shutil.copy(path, REPO / "docs" / name)


# --------------------------------------------------------------------------- API
def test_attention_api_with_only_the_prompt(gradio_client):
    out = gradio_client.predict(PROMPT, api_name="/attention")
    d = out[0]
    n = len(d["tokens"])
    assert d["tokens"][:2] == ["En", "␣el"] and n == 6 and (d["layer"], d["head"]) == (0, 0)
    assert len(d["weights"]) == n and all(len(row) == n for row in d["weights"])
    for i, row in enumerate(d["weights"]):
        assert sum(row) == pytest.approx(1.0, abs=1e-5)
        assert all(w == 0 for w in row[i + 1:])  # causal
    d2 = gradio_client.predict(PROMPT, "gpt2-es-tiny", 99, -1, api_name="/attention")[0]
    assert (d2["layer"], d2["head"]) == (d2["n_layers"] - 1, 0)  # clamped to the model's range


def test_logit_lens_api_with_only_the_prompt(gradio_client):
    lens, _fig, table, summary, csv_file, _notes = gradio_client.predict(PROMPT, api_name="/logit_lens")
    nt_table, *_ = gradio_client.predict(PROMPT, api_name="/next_token")
    layers = lens["layers"]
    assert [x["layer"] for x in layers] == list(range(len(layers))) and len(layers) == 5
    assert layers[-1]["top_token"] == nt_table["data"][0][1]
    assert layers[-1]["top_prob"] == pytest.approx(nt_table["data"][0][3], abs=1e-6)
    assert all(len(x["positions"]) == len(lens["tokens"]) for x in layers)
    assert len(table["data"]) == 5 and layers[-1]["top_token"] in summary
    assert csv_file.endswith(".csv")


def test_step_api_choose_type_undo_branch(gradio_client):
    start = gradio_client.predict(PROMPT, api_name="/step_choose")[0]
    assert start["ids"] == [] and len(start["candidates"]) == 5 and start["text"] == PROMPT
    first = start["candidates"][0]
    one = gradio_client.predict(PROMPT, "gpt2-es-tiny", start, "", first["id"], 5, api_name="/step_choose")[0]
    assert one["ids"] == [first["id"]] and one["steps"][0]["rank"] == 1
    assert one["steps"][0]["prob"] == pytest.approx(first["prob"])
    two = gradio_client.predict(PROMPT, "gpt2-es-tiny", one, " y la", -1, 5, api_name="/step_choose")[0]
    assert two["text"].endswith(" y la") and [s["mode"] for s in two["steps"]][1:] == ["typed", "typed"]
    back = gradio_client.predict(PROMPT, "gpt2-es-tiny", two, 5, api_name="/step_undo")[0]
    back = gradio_client.predict(PROMPT, "gpt2-es-tiny", back, 5, api_name="/step_undo")[0]
    assert back == one  # exactly the state shown before
    kept = gradio_client.predict(PROMPT, "gpt2-es-tiny", two, 5, api_name="/step_branch")
    assert kept[0]["saved"]["ids"] == two["ids"]
    pick = next(c["id"] for c in one["candidates"] if c["id"] != two["ids"][1])
    other = gradio_client.predict(PROMPT, "gpt2-es-tiny", {**one, "saved": kept[0]["saved"]}, "", pick, 5,
                                  api_name="/step_choose")
    assert other[0]["saved"]["ids"] == two["ids"] and "paso **2**" in other[4]


@pytest.mark.parametrize("args, words", [
    (("",), "vacío"),
    ((PROMPT, "gpt2-es-tiny", "no es json"), "no es válido"),
    ((PROMPT, "gpt2-es-tiny", {"ids": [10**9]}), "no existe"),
    ((PROMPT, "gpt2-es-tiny", None, "", 10**12), "no existe"),
])
def test_step_api_bad_input_is_a_spanish_message(gradio_client, args, words):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        gradio_client.predict(*args, api_name="/step_choose")
    assert words in str(e.value) and "Traceback" not in str(e.value)


def test_inside_compare_api_with_only_the_prompt(gradio_client):
    d, summary, table, *_ = gradio_client.predict(PROMPT, api_name="/inside_compare")
    assert (d["base"], d["tuned"]) == ("gpt2-es-tiny", "gpt2-es-tiny-chistes")
    assert len(d["layers"]) == 5 and len(table["data"]) == 5
    assert d["changed_layers"] == [x["layer"] for x in d["layers"] if x["changed"]]
    assert "gpt2-es-tiny-chistes" in table["headers"][2]


# --------------------------------------------------------------------------- Chromium
def _wait_steps(page, n: int) -> None:
    """Until the summary says ``n`` tokens were chosen (and the event has finished)."""
    page.wait_for_function(
        "(n) => { const t = document.querySelector('#ins-step-summary')?.innerText || '';"
        " return t.includes(n + ' tokens elegidos') && !t.includes('processing'); }", arg=n, timeout=90_000)


def test_inside_tab_as_a_teacher_uses_it(page):
    page.get_by_role("tab", name="Dentro del modelo").click()
    page.locator("#ins-prompt textarea").fill(PROMPT)
    page.locator("#ins-run").click()
    page.wait_for_selector("#ins-att-chart .js-plotly-plot", timeout=90_000)
    page.wait_for_selector("#ins-att-grid .js-plotly-plot")
    assert "cabeza" in page.inner_text("#ins-patterns")
    # heatmap cells: 6 tokens → 21 visible weights (the lower triangle) written in the cells
    page.wait_for_function("() => document.querySelectorAll('#ins-att-chart .textpoint, #ins-att-chart text')"
                           ".length > 20")
    page.locator("#ins-tab-attention").scroll_into_view_if_needed()
    _shot(page.locator("#tab-inside"), "inside.png")

    page.get_by_role("tab", name="Lente de logits").click()
    page.wait_for_selector("#ins-lens-chart .js-plotly-plot")
    page.wait_for_selector('#ins-lens-table [role=row][aria-rowindex="6"]')
    assert "el modelo predice" in page.inner_text("#ins-lens-summary")
    _shot(page.locator("#tab-inside"), "inside_lens.png")

    page.get_by_role("tab", name="Tú eliges").click()
    page.wait_for_function("() => !(document.querySelector('#ins-cand-0')?.innerText || '…').startsWith('…')",
                           timeout=90_000)
    for n, k in enumerate((0, 2, 0, 1), start=1):  # build a sentence by clicking candidates
        page.locator(f"#ins-cand-{k}").click()
        _wait_steps(page, n)
    page.wait_for_selector('#ins-steps [role=row][aria-rowindex="5"]')
    four = page.inner_text("#ins-text")
    page.locator("#ins-branch").click()  # keep this text...
    page.wait_for_selector("#ins-branches table", timeout=90_000)
    page.locator("#ins-undo").click()  # ... undo one step ...
    _wait_steps(page, 3)
    page.locator("#ins-typed textarea").fill(" luna")  # ... and type another ending
    page.locator("#ins-add").click()
    _wait_steps(page, 4)
    assert page.inner_text("#ins-text") != four and "luna" in page.inner_text("#ins-text")
    page.wait_for_selector("#ins-branch-chart .js-plotly-plot")
    branches = page.inner_text("#ins-branches")
    assert "guardada" in branches and "actual" in branches and "paso 4" in branches
    assert page.locator("#ins-typed textarea").input_value() == ""
    _shot(page.locator("#tab-inside"), "inside_choose.png")

    page.get_by_role("tab", name="Antes y después").click()
    page.locator("#ins-cmp-run").click()
    page.wait_for_selector("#ins-cmp-lens-tuned .js-plotly-plot", timeout=90_000)
    page.wait_for_selector("#ins-cmp-att-tuned .js-plotly-plot")
    page.wait_for_selector('#ins-cmp-table [role=row][aria-rowindex="6"]')
    summary = page.inner_text("#ins-cmp-summary")
    assert "antes" in summary and "después" in summary and "Capas cuya predicción cambió" in summary
    _shot(page.locator("#tab-inside"), "inside_compare.png")
    page.screenshot(path=str(ARTIFACTS / "inside_tab_full.png"), full_page=True)


def test_guide_scenario_opens_the_tab_analysed(page):
    page.get_by_role("tab", name="Guía").click()
    page.locator("#guide-scenario-inside").click()
    page.wait_for_selector("#ins-att-chart .js-plotly-plot", timeout=90_000)
    assert page.locator("#ins-prompt textarea").input_value() == PROMPT
