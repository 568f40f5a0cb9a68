"""The decoding tab end to end: its API called with only the prompt, and the
tab driven in Chromium (rows stream into the tables, the text is highlighted)."""

from __future__ import annotations

import csv
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

NAMES = ("Voraz (greedy)", "Muestreo", "ε-voraz")


def test_decode_steps_api_with_only_the_prompt(gradio_client):
    out = gradio_client.predict("Había una vez", api_name="/decode_steps")
    notes, summary, *rest = out
    texts, tables, chart, files, settings = rest[0:3], rest[3:6], rest[6], rest[7:10], rest[10]
    assert all(name in summary for name in NAMES)
    for text, table, path in zip(texts, tables, files):
        assert text[0]["token"] == "Había una vez" and text[0]["class_or_confidence"] is None
        assert len(text) > 1 and all(chip["class_or_confidence"] for chip in text[1:])
        rows = table["data"]
        assert 1 <= len(rows) <= 30  # default: 30 steps (fewer if the model ends the text)
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert all(0 < float(r[4]) <= 1 and int(r[3]) >= 1 for r in rows)
        with Path(path).open(encoding="utf-8") as f:
            lines = [line for line in csv.reader(f) if line and not line[0].startswith("#")]  # settings header
        assert lines[0][0] == "step" and len(lines) == len(rows) + 1
    assert chart is not None and '"tab": "decoding"' in settings
    # the greedy decoder always takes the most likely token
    assert all(int(r[3]) == 1 for r in tables[0]["data"])


def test_decode_steps_api_reports_bad_input_in_spanish(gradio_client):
    from gradio_client.exceptions import AppError

    try:
        gradio_client.predict("   ", api_name="/decode_steps")
    except AppError as e:
        assert "vacío" in str(e)
    else:
        raise AssertionError("an empty prompt must be refused")


def test_decoding_tab_in_the_browser(page):
    page.get_by_role("tab", name="Decodificación paso a paso").click()
    prompt = page.locator("#dec-prompt textarea")
    prompt.fill("En un lugar de la Mancha")
    page.locator("#dec-run").click()
    page.wait_for_selector('#dec-table-greedy [role=row][aria-rowindex="3"]', timeout=90_000)
    # the run finished: the summary reports why each decoder stopped
    page.wait_for_function(
        "() => (document.querySelector('#dec-summary')?.innerText || '').split('paró').length - 1 === 3",
        timeout=90_000,
    )
    for kind in ("greedy", "sampling", "epsilon"):
        text = page.locator(f"#dec-text-{kind}").inner_text()
        assert "En un lugar de la Mancha" in text
    # generated chips carry a probability bucket color; the chart is drawn
    assert page.locator("#dec-text-greedy .token.highlighted").count() > 2
    page.wait_for_selector("#dec-chart .js-plotly-plot", timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#dec-text-greedy").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "decoding_tab.png"), full_page=True)
