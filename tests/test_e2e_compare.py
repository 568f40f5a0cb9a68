"""End to end: the "Antes / después" tab through the API and in Chromium, offline.

Defaults only, as a teacher would use it: the bundled base model against the
bundled demo fine-tune, with the fine-tune's saved evaluation split.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

DEMO_FT = "gpt2-es-tiny-chistes"
N_DEFAULT_SAMPLES = 5


def test_compare_api_needs_only_a_prompt(gradio_client):
    summary, html, diff, table, loss, csv_file, settings = gradio_client.predict("Había una vez", api_name="/compare")
    assert f"`{DEMO_FT}`" in summary and "`gpt2-es-tiny`" in summary
    m = re.search(r"antes \*\*([\d.,]+)\*\* → después \*\*([\d.,]+)\*\*", summary)
    assert m, summary
    before, after = (float(g.replace(".", "").replace(",", ".")) for g in m.groups())  # Spanish: 1.234,5
    assert after < before, "the fine-tune should be less surprised by held-out jokes"
    assert html.count("cmp-sample-base") == html.count("cmp-sample-tuned") == N_DEFAULT_SAMPLES
    assert diff and loss and len(table["data"]) == 10
    assert csv_file.endswith(".csv") and '"prompt": "Había una vez"' in settings


def test_compare_tab_in_chromium(page):
    page.get_by_role("tab", name="Antes / después").click()
    page.locator("#cmp-run").click()
    tuned = page.locator("#cmp-samples .cmp-sample-tuned")
    tuned.nth(N_DEFAULT_SAMPLES - 1).wait_for(timeout=90_000)
    assert page.locator("#cmp-samples .cmp-sample-base").count() == N_DEFAULT_SAMPLES
    assert tuned.count() == N_DEFAULT_SAMPLES
    for i in range(N_DEFAULT_SAMPLES):
        assert tuned.nth(i).inner_text().startswith("- Mamá, mamá,")
    page.locator("#cmp-diff-chart .js-plotly-plot").wait_for()
    page.locator("#cmp-loss-chart .js-plotly-plot").wait_for()
    summary = page.locator("#cmp-summary").inner_text()
    assert "Perplejidad" in summary and DEMO_FT in summary
    # Bars of the diverging chart: at least one gained (green) and one lost token.
    assert page.locator("#cmp-diff-chart .bars path").count() >= 2
    page.locator("#cmp-table [role=row][aria-rowindex='2']").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#cmp-summary").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "compare_tab.png"), full_page=True)


def test_quick_comparison_api_fills_its_table(gradio_client):
    import time

    job_id, status, table, chart, _timer, csv_file = gradio_client.predict(
        ["gpt2-es-tiny", DEMO_FT], "refranes", 20, 1, 5e-4, 42, api_name="/trials_start")
    deadline = time.time() + 180
    while "⏳" in status and time.time() < deadline:
        time.sleep(1)
        status, table, chart, _timer, csv_file = gradio_client.predict(job_id, api_name="/trials_status")
    assert "Mejor" in status, status
    rows = table["data"]
    assert [r[1] for r in rows] == ["gpt2-es-tiny", DEMO_FT]
    assert all(r[2] == "hecho" for r in rows) and [r[0] for r in rows].count("★") == 1
    assert all(r[8].startswith("En el silencio de la noche") for r in rows)
    # the table as CSV once the job ended, named and headed by its settings
    assert "comparacion-rapida_" in csv_file and "_refranes_ex20_steps1_" in csv_file
    with open(csv_file, encoding="utf-8") as f:
        assert '# models: ["gpt2-es-tiny", "gpt2-es-tiny-chistes"]' in f.read()
