"""The "Modelo" tab shows the CPU kernels measured at load, through the API and in Chromium."""

from __future__ import annotations

import pytest

from lm_demo.cpu_host import cpu_name
from lm_demo.cpu_kernels import ROW_CASES
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_model_info_api_reports_the_kernels(gradio_client):
    facts, config, tree, modules, kernels, table = gradio_client.predict("gpt2-es-tiny", api_name="/model_info")
    assert "GPT2LMHeadModel" in facts
    assert "Núcleos de CPU" in kernels and cpu_name().split(" (")[0] in kernels
    assert "bf16" in kernels  # the reduced-precision mode is named (off by default)
    assert table["headers"][2:] == [f"{c.name} fila" if c.name == "1" else f"{c.name} filas" for c in ROW_CASES]
    # the bundled model has 5 weight shapes: attention in/out, MLP in/out, LM head
    assert len(table["data"]) == 5
    assert sum(int(r[1]) for r in table["data"]) == 4 * 4 + 1
    assert all(" ms" in cell or "sin medir" in cell for r in table["data"] for cell in r[2:])


def test_model_panel_kernels_in_chromium(page):
    page.get_by_role("tab", name="Modelo", exact=True).click()
    page.click("#mp-show")
    page.wait_for_function("document.querySelector('#mp-kernels')?.innerText.includes('Núcleos de CPU')")
    page.wait_for_selector('#mp-kernel-table [role=row][aria-rowindex="6"]')  # header + 5 shapes
    text = page.inner_text("#mp-kernels")
    assert "CPU:" in text and "hilos" in text and "Precisión reducida (bf16)" in text
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#mp-kernels").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "model_panel_kernels.png"), full_page=True)
