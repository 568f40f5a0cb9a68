"""In Chromium: the training tab as a teacher uses it.

- a short run with hand-set values (the "Avanzado" accordion), the live plot, a second browser read-only, stop;
- the app killed with SIGKILL mid-run and started again: the interrupted run is listed with its last step and
  "Continuar" finishes it.
"""

from __future__ import annotations

import time

import pytest
from conftest import ARTIFACTS

from playwright.sync_api import Error as PlaywrightError

from tests import app_process
from tests.killed_runs import kill_at_step

pytestmark = pytest.mark.e2e

PLOT_POINTS = """() => {
  const el = document.querySelector('#train-loss-plot .js-plotly-plot');
  return el && el.data && el.data.length ? el.data[0].x.length : 0;
}"""


def _status(page) -> str:
    return page.inner_text("#train-status")


def _wait_status(page, pattern: str, timeout_ms: int) -> None:
    """Wait until the status line matches ``pattern`` (a regular expression); on a timeout, fail with what the
    page said instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("(p) => new RegExp(p).test(document.querySelector('#train-status').innerText)",
                               arg=pattern, timeout=timeout_ms)
    except PlaywrightTimeout:
        pytest.fail(f"no {pattern!r} in the status after {timeout_ms / 1000:.0f} s; status: {_status(page)!r}; "
                    f"notes: {page.inner_text('#train-notes')!r}")


def _set(page, elem_id: str, value) -> None:
    box = page.locator(f"#{elem_id} input").first
    box.fill(str(value))
    box.press("Tab")


def test_training_tab_live_plot_second_browser_and_stop(page, browser, app_server):
    page.get_by_role("tab", name="Entrenamiento").click()
    page.wait_for_selector("#train-start")
    # the default preset loads offline; the menu says which presets cannot
    assert page.locator("#train-preset input").first.input_value() == "Poesía"
    assert "automáticos" in page.inner_text("#train-summary")
    page.click("#train-advanced .label-wrap")
    for elem_id, value in (("train-max-steps", 300), ("train-eval-steps", 5), ("train-block-size", 64),
                           ("train-batch-size", 4), ("train-max-rows", 300)):
        _set(page, elem_id, value)
    # editing a value by hand turns the automatic settings off, and the summary line shows the values
    assert not page.locator("#train-auto input").first.is_checked()
    page.wait_for_function("() => document.querySelector('#train-summary').innerText.includes('300 pasos')")
    page.locator("#train-name textarea, #train-name input").first.fill("e2e-poesia")
    page.click("#train-start")
    _wait_status(page, "Entrenando", 120_000)
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
    _wait_status(page, "Detenido", 120_000)
    text = _status(page)
    assert "e2e-poesia" in text and "perplejidad" in text and "modelo final" in text
    assert page.evaluate(PLOT_POINTS) > first  # the plot kept updating while the class watched
    page.wait_for_selector("#train-use", state="visible")
    # the new checkpoint is a base model the class can train further
    page.click("#train-base-model input")
    page.wait_for_selector("[role=option]:has-text('e2e-poesia')", timeout=30_000)
    page.keyboard.press("Escape")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "training_tab.png"), full_page=True)
    page.click("#train-use")
    page.wait_for_function(
        "() => document.querySelector('#model-picker input').value === 'e2e-poesia'", timeout=30_000)


def test_killed_app_lists_the_run_and_continuar_finishes_it(browser, tmp_path):
    """The issue's "Done when": kill -9 of the app mid-run, restart, "Continuar" finishes the run."""
    from gradio_client import Client

    ckpts = tmp_path / "ckpts"
    env = {"LM_DEMO_CHECKPOINTS": str(ckpts), "LM_DEMO_DATA_DIR": str(tmp_path / "none")}
    proc, url = app_process.start_app(env=env)
    try:
        app_process.wait_http(url, proc=proc)
        client = Client(url, verbose=False, download_files=False)
        # the API's defaults: automatic settings; here a short run that saves every 5 steps
        client.predict("refranes", None, None, "lines", [], 2000, 400, "gpt2-es-tiny", False, 4, 4, 256, "packed",
                       32, 1.0, 5e-4, 4, 1, 0.01, 0, 100, 30, 42, 0, "Más vale", "corte-e2e", False, "final", 5.0,
                       api_name="/train_start")
        kill_at_step(proc, ckpts / ".runs" / "corte-e2e" / "run.json", 10, 240)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.poll() is None:
            proc.kill()

    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "killed_app_restarted.log"
    log = open(log_path, "w")
    proc, url = app_process.start_app(env=env, log=log)
    ctx = browser.new_context(locale="es-ES", viewport={"width": 1400, "height": 1000})
    page = None
    try:
        app_process.wait_http(url, proc=proc)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector("#model-picker")
        page.get_by_role("tab", name="Entrenamiento").click()
        page.wait_for_selector("#train-runs", state="visible")
        listed = page.inner_text("#train-runs-list")
        assert "corte-e2e" in listed and "de 30" in listed
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "training_interrupted.png"), full_page=False)
        t0 = time.perf_counter()
        page.click("#train-runs-continue")
        # the 20 steps left can take 2 s: the run may end between two polls, never showing "Entrenando"
        _wait_status(page, "Entrenando|Terminado", 120_000)
        resumed_s = time.perf_counter() - t0
        _wait_status(page, "Terminado", 240_000)
        assert "30 pasos" in _status(page) and "corte-e2e" in _status(page)
        assert "Se continúa el entrenamiento interrumpido" in page.inner_text("#train-notes")
        page.wait_for_selector("#train-runs", state="hidden")
        assert not (ckpts / ".runs" / "corte-e2e").exists()
        print(f"resumed (training or finished shown) {resumed_s:.1f} s after Continuar")
    except (AssertionError, PlaywrightError, pytest.fail.Exception) as e:  # say what the page and the app said (an intermittent failure)
        shown = {sel: page.inner_text(sel) if page is not None and page.locator(sel).count() else None
                 for sel in ("#train-status", "#train-notes", "#train-runs-list")}
        log.flush()
        pytest.fail(f"{e}\npage: {shown}\nruns folder: {sorted(p.name for p in (ckpts / '.runs').glob('*/*'))}"
                    f"\napp log (last 3000 chars): {log_path.read_text(errors='replace')[-3000:]}")
    finally:
        ctx.close()
        app_process.stop_app(proc)
        log.close()
