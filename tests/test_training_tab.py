"""The training tab's handlers without a server: presets menu, summary line, recipes, overfitting, pickers, runs panel."""

from __future__ import annotations

import json

import pytest

from lm_demo.ui.components import training_runs_panel, training_tab, training_view
from lm_demo.ui.components.training_corpus import preset_choices, preset_menu, upload_columns


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path / "ckpts"))
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(tmp_path / "no-data-folder"))


def test_the_menu_marks_presets_that_cannot_load_here_and_the_default_loads():
    from lm_demo.corpora import DEFAULT_PRESET, available_presets

    avail = available_presets()
    labels = dict((v, k) for k, v in preset_choices(avail))
    assert labels["chistes"] == "Chistes — no disponible aquí" and labels["amazon"].endswith("no disponible aquí")
    assert labels["poesia"] == "Poesía" and avail[DEFAULT_PRESET] == "bundled"
    assert training_tab.DEFAULT_PRESET == DEFAULT_PRESET
    import gradio as gr

    assert isinstance(preset_menu(), type(gr.skip()))  # offline: nothing more can load than the page shows


def test_online_the_menu_offers_the_hub_presets(monkeypatch):
    import lm_demo.models

    monkeypatch.setattr(lm_demo.models, "hub_reachable", lambda *a, **k: True)
    choices = dict((v, k) for k, v in preset_menu().constructor_args["choices"])
    assert choices["chistes"] == "Chistes" and choices["amazon"] == "Descripciones de productos (Amazon)"


def test_summary_line_follows_the_advanced_settings():
    auto = training_tab.settings_summary(True, "packed", "final", False, 4, 256, 200, 1, 5e-4, 8, 128, 20)
    assert "automáticos según el corpus" in auto and "modelo final" in auto and "ajuste del modelo base" in auto
    manual = training_tab.settings_summary(False, "padded", "best", True, 2, 64, 300, 1, 0.001, 4, 64, 5)
    assert all(x in manual for x in ("300 pasos", "0,001", "lote 4", "bloque 64", "evaluar cada 5", "relleno",
                                      "el mejor en evaluación", "desde cero (2 capas, ancho 64)"))


def test_a_recipe_fills_the_fields_and_turns_automatic_off():
    import gradio as gr

    from lm_demo.training import HP_PRESETS

    out = training_tab.apply_hp_preset("seed001")
    assert out[:len(training_tab.HP_FIELDS)] == [HP_PRESETS["seed001"][f] for f in training_tab.HP_FIELDS]
    assert out[-1].constructor_args["value"] is False
    back = training_tab.apply_hp_preset("auto")
    assert back[-1].constructor_args["value"] is True and isinstance(back[0], type(gr.skip()))


def test_an_upload_starts_the_sample_prompt_with_the_class_text(tmp_path):
    p = tmp_path / "clase.txt"
    p.write_text("El lunes plantamos tomates.\nEl martes regamos.\n", encoding="utf-8")
    column, prompt = upload_columns(str(p), None, "lines")
    assert prompt == "El lunes" and column.constructor_args["choices"] == []


def test_overfitting_is_explained_and_marked_on_the_loss_plot():
    events = [{"type": "train", "step": s, "loss": 5 - s / 10} for s in range(1, 31)]
    events += [{"type": "eval", "step": s, "eval_loss": v} for s, v in ((0, 5.5), (10, 5.3), (20, 5.4), (30, 5.5))]
    assert training_view.overfit_markdown(events) == ""
    events.append({"type": "overfit", "step": 30, "best_step": 10})
    text = training_view.overfit_markdown(events)
    assert "Sobreajuste" in text and "paso 10" in text and "memorizando" in text and "gráfico" in text
    loss, _ = training_view.figures(events, False)
    assert loss.layout.shapes[0].x0 == 10 and loss.layout.annotations[0].text == "mínimo de evaluación"


def test_idle_status_refreshes_the_base_model_list_and_the_runs_panel(tmp_path, monkeypatch, bundled):
    """A checkpoint saved (here by another process) shows up in the training tab's base-model list on reload."""
    from transformers import AutoModelForCausalLM

    from lm_demo.checkpoints import save_checkpoint
    from lm_demo.jobs import JOBS

    if JOBS.running() is not None:
        JOBS.running().wait(300)
    model = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True)
    save_checkpoint(model, bundled.tokenizer, "de-la-clase", {"base_model": "gpt2-es-tiny"})
    run = tmp_path / "ckpts" / ".runs" / "cortado"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"name": "cortado", "status": "running", "step": 25, "total_steps": 60,
                                              "corpus_label": "huerta.txt", "pid": 1, "host": "otra-maquina",
                                              "checkpoint": None, "updated": 0}))
    out = training_view.train_status(None, False, None)
    base_picker = out[11]
    assert "de-la-clase" in base_picker.constructor_args["choices"]
    group, text, pick = out[-3:]
    assert group.constructor_args["visible"] is True and pick.constructor_args["value"] == "cortado"
    assert "cortado" in text and "paso 25 de 60" in text and "sin punto de control" in text
    group, text, pick = training_runs_panel.run_discard("cortado")
    assert group.constructor_args["visible"] is False and not run.exists()


def test_only_the_poll_tick_switches_the_timer_off():
    """A redraw computed before "Continuar"/Start may land after it: it must not stop the new job's polling."""
    import threading

    import gradio as gr

    from lm_demo.jobs import JOBS

    if JOBS.running() is not None:
        JOBS.running().wait(300)
    timer_at = 6  # status, overfit, loss, ppl, samples, notes, timer, ...
    tick, redraw = training_view.train_status(None, False, None), training_view.train_redraw(None, False, None)
    assert isinstance(tick[timer_at], gr.Timer) and tick[timer_at].constructor_args["active"] is False
    assert isinstance(redraw[timer_at], type(gr.skip()))
    release = threading.Event()
    job = JOBS.start("train", lambda job: release.wait(60), {"corpus": "huerta.txt"})
    try:
        for out in (training_view.train_status(job.id, False, None), training_view.train_redraw(job.id, False, None)):
            assert out[timer_at].constructor_args["active"] is True
            assert out[-3].constructor_args["visible"] is False  # nothing can be continued while a job runs
    finally:
        release.set()
        job.wait(60)
