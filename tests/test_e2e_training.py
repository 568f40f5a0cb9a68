"""In Chromium: start a short training, watch the plot update, see it read-only from a second browser, stop it."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PLOT_POINTS = """() => {
  const el = document.querySelector('#train-loss-plot .js-plotly-plot');
  return el && el.data && el.data.length ? el.data[0].x.length : 0;
}"""


def _status(page) -> str:
    return page.inner_text("#train-status")


def _set(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


def test_training_tab_live_plot_second_browser_and_stop(page, browser, app_server):
    page.get_by_role("tab", name="Entrenamiento").click()
    page.wait_for_selector("#train-start")
    for elem_id, value in (("train-max-steps", 300), ("train-eval-steps", 5), ("train-block-size", 64),
                           ("train-batch-size", 4), ("train-max-rows", 300)):
        _set(page, elem_id, value)
    page.locator("#train-name textarea, #train-name input").first.fill("e2e-chistes")
    page.click("#train-start")
    page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('Entrenando')",
                           timeout=120_000)
    page.wait_for_function(f"() => ({PLOT_POINTS})() >= 2", timeout=120_000)
    first = page.evaluate(PLOT_POINTS)
    assert page.locator("#train-stop").first.is_enabled()

    # a second browser re-attaches read-only: full history, a clear message, no stop button
    ctx2 = browser.new_context(locale="es-ES", viewport={"width": 1200, "height": 900})
    other = ctx2.new_page()
    other.goto(app_server)
    other.wait_for_selector("#model-picker")
    other.get_by_role("tab", name="Entrenamiento").click()
    other.wait_for_function("() => document.querySelector('#train-status').innerText.includes('otro navegador')",
                            timeout=60_000)
    other.wait_for_function(f"() => ({PLOT_POINTS})() >= {first}", timeout=30_000)
    assert not other.locator("#train-stop").first.is_enabled()
    ctx2.close()

    page.click("#train-stop")
    page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('Detenido')",
                           timeout=120_000)
    text = _status(page)
    assert "e2e-chistes" in text and "perplejidad" in text
    assert page.evaluate(PLOT_POINTS) > first  # the plot kept updating while the class watched
    page.wait_for_selector("#train-use", state="visible")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training_tab.png"), full_page=True)
    page.click("#train-use")
    page.wait_for_function(
        "() => document.querySelector('#model-picker input').value === 'e2e-chistes'", timeout=30_000)
