"""The app end to end: CLI, the Gradio API by name, and the tabs in headless Chromium."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ARTIFACTS, REPO

pytestmark = pytest.mark.e2e


def test_help_documents_the_options():
    out = subprocess.run([sys.executable, str(REPO / "app.py"), "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    for opt in ("--model", "--host", "--port", "--share", "GRADIO_SERVER_PORT"):
        assert opt in out.stdout


def test_ui_import_does_not_load_torch():
    code = "import sys, lm_demo.ui.app; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]


def test_next_token_api_with_only_the_prompt(gradio_client):
    table, plot, entropy, chips, notes, csv_file, settings = gradio_client.predict("Había una vez",
                                                                                api_name="/next_token")
    rows = table["data"]
    assert len(rows) == 10
    probs = [r[3] for r in rows]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
    assert "Entropía" in entropy
    assert "gpt2-es-tiny" in notes  # the offline fallback is said out loud
    assert csv_file.endswith(".csv") and '"prompt": "Había una vez"' in settings  # exports: tests/test_e2e_exports.py


def test_bad_input_gives_a_spanish_message_and_the_app_keeps_serving(gradio_client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        gradio_client.predict("", api_name="/next_token")
    assert "vacío" in str(e.value)
    table, *_ = gradio_client.predict("En el silencio de la noche", "gpt2-es-tiny", -1, 10**6, 7, 0,
                                      api_name="/next_token")
    # out-of-range values are clamped: temperature -1 -> 0 (greedy), top_n 0 -> 1
    assert len(table["data"]) == 1 and table["data"][0][5] == pytest.approx(1.0)


def test_next_token_tab_in_chromium(page):
    page.fill("#nt-prompt textarea", "En el silencio de la noche")
    page.click("#nt-run")
    page.wait_for_selector('#nt-table [role=row][aria-rowindex="11"]')
    page.wait_for_selector("#nt-chart .js-plotly-plot")
    assert "Entropía" in page.inner_text("#nt-entropy")
    assert page.locator("#nt-chips").inner_text().count("␣") >= 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "next_token_tab.png"), full_page=True)


def test_model_panel_in_chromium(page):
    page.get_by_role("tab", name="Modelo", exact=True).click()  # not "Dentro del modelo"
    page.click("#mp-show")
    page.wait_for_function("document.body.innerText.includes('GPT2LMHeadModel')")
    assert "gpt2-es-tiny" in page.inner_text("#model-status")
