"""Exports end to end: CSV files through the API, and a newcomer's clicks in Chromium
(download the table as CSV, the chart as PNG with plotly's camera, paste settings back)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from lm_demo.exports import read_csv_settings

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
STAMP = r"\d{4}-\d\d-\d\dT\d{4}"


def test_next_token_api_returns_a_csv_with_its_settings(gradio_client):
    table, _plot, _entropy, _chips, _notes, csv_file, settings = gradio_client.predict(
        "Había una vez", api_name="/next_token")
    name = Path(csv_file).name
    assert re.fullmatch(rf"siguiente-token_gpt2-es-tiny_habia-una-vez_T1_k0_p1_n10_{STAMP}\.csv", name), name
    header = read_csv_settings(csv_file)
    assert header["prompt"] == "Había una vez" and header["tab"] == "next_token"
    assert header["params"] == {"temperature": 1.0, "top_k": 0, "top_p": 1.0, "top_n": 10}
    assert header["model"]  # the model asked for; the bundled one when offline
    frame = pd.read_csv(csv_file, comment="#")
    assert len(frame) == len(table["data"]) == 10
    assert frame.iloc[:, 3].tolist() == pytest.approx([r[3] for r in table["data"]])
    pasted = json.loads(settings)
    assert {k: pasted[k] for k in ("prompt", "params")} == {k: header[k] for k in ("prompt", "params")}


def test_decode_steps_api_returns_csvs_with_their_settings(gradio_client):
    out = gradio_client.predict("Había una vez", api_name="/decode_steps")
    files, settings = out[9:12], json.loads(out[12])
    for path, kind in zip(files, ("voraz", "muestreo", "epsilon-voraz")):
        name = Path(path).name
        assert re.fullmatch(rf"decodificacion-{kind}_gpt2-es-tiny_habia-una-vez_steps30_seed0_n5_sent0_T0.8_k40_p1_"
                            rf"rep1_eps0.5_{STAMP}\.csv", name), name
        header = read_csv_settings(path)
        assert header["prompt"] == "Había una vez" and header["params"] == settings["params"]
        assert header["params"]["seed"] == 0 and header["params"]["temperature"] == 0.8
        frame = pd.read_csv(path, comment="#")
        assert list(frame.columns[:3]) == ["step", "chosen_id", "chosen_token"]
        assert frame["step"].tolist() == list(range(1, len(frame) + 1))


def test_newcomer_exports_a_table_and_a_plot(page, tmp_path):
    page.fill("#nt-prompt textarea", "En el silencio de la noche")
    page.click("#nt-run")
    page.wait_for_selector('#nt-table [role=row][aria-rowindex="11"]')
    page.wait_for_selector("#nt-chart .js-plotly-plot")

    # the table, as CSV: one click on the button under it
    with page.expect_download() as info:
        page.click("#nt-csv")
    csv_download = info.value
    name = csv_download.suggested_filename
    assert re.fullmatch(rf"siguiente-token_gpt2-es-tiny_en-el-silencio-de-la-noche_T1_k0_p1_n10_{STAMP}\.csv",
                        name), name
    saved = tmp_path / name
    csv_download.save_as(saved)
    header = read_csv_settings(saved)
    assert header["prompt"] == "En el silencio de la noche" and header["params"]["temperature"] == 1.0
    assert len(pd.read_csv(saved, comment="#")) == 10

    # the chart, as PNG: plotly's camera in the always-visible modebar
    camera = page.locator('#nt-chart .modebar-btn[data-title^="Download plot"]')
    assert camera.is_visible()
    with page.expect_download(timeout=30_000) as info:
        camera.click()
    png = info.value
    assert re.fullmatch(rf"siguiente-token-grafico_gpt2-es-tiny_en-el-silencio-de-la-noche_T1_k0_p1_n10_{STAMP}\.png",
                        png.suggested_filename), png.suggested_filename
    png_path = tmp_path / png.suggested_filename
    png.save_as(png_path)
    data = png_path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "exported_chart.png").write_bytes(data)

    # the settings box shows the run's settings as JSON
    page.click("#nt-settings-box button, #nt-settings-box .label-wrap")
    shown = page.locator("#nt-settings .cm-content").inner_text()
    assert '"prompt": "En el silencio de la noche"' in shown


def test_pasting_settings_sets_the_inputs(page):
    page.click("#nt-settings-box button, #nt-settings-box .label-wrap")
    editor = page.locator("#nt-settings .cm-content")
    editor.click()
    editor.fill(json.dumps({"tab": "next_token", "prompt": "Érase una vez", "params": {"temperature": 0.35,
                                                                                       "top_k": 7}}))
    page.click("#nt-apply")
    page.wait_for_function("() => document.querySelector('#nt-prompt textarea').value === 'Érase una vez'")
    values = page.eval_on_selector_all("input[type=number]", "els => els.map(e => e.value)")
    assert "0.35" in values and "7" in values

    # a bad paste: a clear Spanish message, nothing changes
    editor.click()
    editor.fill('{"temperatura": 2}')
    page.click("#nt-apply")
    page.wait_for_function("() => document.body.innerText.includes('Esta pestaña no tiene estos ajustes')")
    assert page.locator("#nt-prompt textarea").input_value() == "Érase una vez"
