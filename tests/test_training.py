"""The training runner, the job registry, checkpoints and the CLI, on the real bundled model and bundled corpora."""

from __future__ import annotations

import json
import threading
import time

import pytest

from lm_demo.corpora import CorpusSpec
from lm_demo.errors import UserError
from lm_demo.jobs import JOBS, Job, JobRegistry
from lm_demo.training import TrainConfig, run_training, start_training

SMALL = dict(block_size=64, batch_size=8, max_eval_blocks=12, logging_steps=1, sample_max_new_tokens=12,
             epochs=1.0, eval_fraction=0.1, warmup_steps=0)


@pytest.fixture(autouse=True)
def _env(checkpoints_tmp, monkeypatch, tmp_path):
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(tmp_path / "no-data-folder"))  # bundled corpora only
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(checkpoints_tmp))
    monkeypatch.delenv("LM_DEMO_ALLOW_TRAINING", raising=False)


def _wait_idle(timeout: float = 120) -> None:
    job = JOBS.running()
    if job is not None:
        assert job.wait(timeout), "a job did not end"


# --------------------------------------------------------------------------- registry
def test_registry_one_job_at_a_time_events_and_statuses():
    reg = JobRegistry()
    gate = threading.Event()

    def slow(job: Job) -> str:
        for i in range(3):
            job.post({"type": "tick", "i": i})
        gate.wait(10)
        return "hecho"

    job = reg.start("train", slow, {"x": 1})
    with pytest.raises(UserError) as e:
        reg.start("trials", lambda j: None)
    assert e.value.key == "train.err.busy" and "entrenamiento" in str(e.value)
    assert reg.running() is job and reg.current() is job and reg.get(job.id) is job
    gate.set()
    assert job.wait(10)
    assert job.status == "finished" and job.result == "hecho" and job.ended_at >= job.started_at
    ev = job.events
    assert [e["seq"] for e in ev] == list(range(len(ev)))
    assert [e.get("i") for e in ev if e["type"] == "tick"] == [0, 1, 2]
    assert ev[-1]["type"] == "end" and ev[-1]["status"] == "finished"
    assert job.events_since(2) == ev[2:]
    assert reg.running() is None and reg.current() is job

    def until_stopped(job: Job) -> None:
        while not job.stop_requested:
            time.sleep(0.01)

    j2 = reg.start("trials", until_stopped)
    j2.request_stop()
    assert j2.wait(10) and j2.status == "stopped"

    def user_error(job: Job) -> None:
        raise UserError("train.corpus.empty_file", name="x.txt")

    j3 = reg.start("train", user_error)
    assert j3.wait(10) and j3.status == "error" and j3.error == "«x.txt» está vacío."

    def oom(job: Job) -> None:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    j4 = reg.start("train", oom)
    assert j4.wait(10) and j4.status == "error"
    assert "Memoria insuficiente" in j4.error and "lote" in j4.error and "CPU" in j4.error
    assert j4.events[-1] == {**j4.events[-1], "type": "end", "status": "error", "error": j4.error}


def test_training_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("LM_DEMO_ALLOW_TRAINING", "0")
    with pytest.raises(UserError) as e:
        start_training(TrainConfig())
    assert e.value.key == "train.err.disabled"


def test_error_in_the_thread_becomes_a_spanish_message(tmp_path):
    _wait_idle()
    bad = tmp_path / "malo.csv"
    bad.write_bytes("text\nañoranza\n".encode("latin-1"))
    job = start_training(TrainConfig(corpus=CorpusSpec(path=str(bad)), **SMALL))
    assert job.wait(60)
    assert job.status == "error" and "UTF-8" in job.error and "malo.csv" in job.error


def test_bad_numbers_are_refused_in_the_request():
    with pytest.raises(UserError, match="Tasa de aprendizaje"):
        start_training(TrainConfig(learning_rate="mucho"))
    cfg, notes = TrainConfig(block_size=4, batch_size=0).validated()
    assert cfg.block_size == 8 and cfg.batch_size == 1 and len(notes) == 2


# --------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def trained(checkpoints_tmp):
    """One 30-step fine-tune on the bundled sayings, in the background job, saved to the temp checkpoints."""
    import os

    old = {k: os.environ.get(k) for k in ("LM_DEMO_DATA_DIR", "LM_DEMO_CHECKPOINTS")}
    os.environ["LM_DEMO_DATA_DIR"], os.environ["LM_DEMO_CHECKPOINTS"] = "/nonexistent", str(checkpoints_tmp)
    try:
        _wait_idle()
        cfg = TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=400), base_model="gpt2-es-tiny",
                          max_steps=30, eval_steps=10, learning_rate=1e-3, output_name="prueba-refranes",
                          sample_prompt="Había una vez", **SMALL)
        job = start_training(cfg)
        assert job.wait(240), "training did not finish"
        yield job
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_thirty_steps_lower_the_eval_loss(trained):
    assert trained.status == "finished", trained.error
    evals = [e for e in trained.events if e["type"] == "eval"]
    assert [e["step"] for e in evals] == [0, 10, 20, 30]
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    res = trained.result
    assert res.steps == 30 and res.kept == "final" and res.kept_step == 30
    assert res.eval_loss == evals[-1]["eval_loss"] and res.best_loss == min(e["eval_loss"] for e in evals)
    kept = [e for e in trained.events if e["type"] == "kept"]
    assert len(kept) == 1 and "final" in kept[0]["text"] and "30" in kept[0]["text"]
    assert res.eval_perplexity == pytest.approx(pytest.importorskip("math").exp(res.eval_loss))


def test_evaluation_perplexity_is_the_apps_convention_on_the_same_blocks(trained, bundled):
    """The loss the run reports equals lm_demo's own perplexity code on its evaluation blocks.

    (A plain ``Trainer.evaluate`` divides by every label, first tokens included:
    about 1/64 lower on these 64-token blocks.)
    """
    from lm_demo import corpora, packing
    from lm_demo.training.exact_eval import evaluate_blocks

    res = trained.result
    start = next(e for e in trained.events if e["type"] == "start")
    corpus = corpora.load_corpus(CorpusSpec(preset="refranes", max_rows=400))
    data = packing.build_datasets(corpus.texts, bundled.tokenizer, block_size=SMALL["block_size"],
                                  eval_fraction=SMALL["eval_fraction"], seed=TrainConfig().seed,
                                  max_eval_blocks=SMALL["max_eval_blocks"])
    assert len(data.eval) == start["eval_blocks"]
    ours = evaluate_blocks(res.model, data.eval)
    assert res.eval_loss == pytest.approx(ours["eval_loss"], rel=1e-5)
    n_labels = sum(sum(1 for v in row if v != -100) for row in data.eval["labels"])
    assert ours["eval_tokens"] == n_labels - len(data.eval)  # one unpredicted first token per block


def test_events_arrive_in_order_and_the_plots_receive_them(trained):
    from lm_demo.charts.training import loss_figure, perplexity_figure
    from lm_demo.ui.components.training_view import samples_markdown, status_markdown

    ev = trained.events
    assert [e["seq"] for e in ev] == list(range(len(ev)))
    assert all(a["t"] <= b["t"] for a, b in zip(ev, ev[1:]))
    types = [e["type"] for e in ev]
    assert types.index("start") < types.index("train") and types[-2:] == ["saved", "end"]
    assert types.index("kept") < types.index("saved")
    train_steps = [e["step"] for e in ev if e["type"] == "train"]
    assert train_steps == list(range(1, 31))
    assert all(e["tokens_per_s"] is None or e["tokens_per_s"] > 0 for e in ev if e["type"] == "train")
    samples = [e for e in ev if e["type"] == "sample"]
    assert [s["step"] for s in samples] == [0, 10, 20, 30] and all(s["text"].startswith("Había una vez") for s in samples)

    fig = loss_figure(ev)
    assert list(fig.data[0].x) == train_steps and list(fig.data[1].x) == [0, 10, 20, 30]
    ppl = perplexity_figure(ev, log_scale=True)
    assert ppl.layout.yaxis.type == "log" and len(ppl.data[0].y) == 4
    assert "Paso 30" in samples_markdown(ev) and "prueba-refranes" in status_markdown(trained, ev, True)


def test_plots_cope_with_one_point_zero_loss_and_long_runs():
    from lm_demo.charts.training import LOG_FLOOR, MAX_POINTS, loss_figure

    empty = loss_figure([])
    assert not empty.data and empty.layout.annotations
    one = loss_figure([{"type": "eval", "step": 0, "eval_loss": 0.0}], log_scale=True)
    assert "markers" in one.data[0].mode and one.data[0].y[0] == LOG_FLOOR
    many = [{"type": "train", "step": i, "loss": 1 / (i + 1)} for i in range(1, 20_001)]
    fig = loss_figure(many)
    assert len(fig.data[0].x) <= MAX_POINTS + 1 and fig.data[0].x[-1] == 20_000


def test_checkpoint_has_metadata_eval_texts_and_is_usable_at_once(trained, checkpoints_tmp):
    from lm_demo.checkpoints import load_eval_texts, load_metadata
    from lm_demo.compare import finetuned_checkpoints
    from lm_demo.models import list_checkpoints, load_model
    from lm_demo.next_token import next_token_distribution

    name = trained.result.checkpoint
    assert name == "prueba-refranes" and (checkpoints_tmp / name / "config.json").is_file()
    assert name in list_checkpoints() and name in finetuned_checkpoints()
    meta = load_metadata(name)
    for key in ("name", "base_model", "from_scratch", "corpus", "hyperparameters", "history", "eval_loss",
                "eval_perplexity", "date", "device", "duration_s", "stopped_early"):
        assert key in meta, key
    assert meta["corpus"]["preset"] == "refranes" and meta["corpus"]["recipe"] == "packed"
    assert meta["corpus"]["source"] == "bundled" and meta["kept"] == "final"
    assert meta["hyperparameters"]["max_steps"] == 30 and meta["from_scratch"] is False
    assert meta["eval_loss"] == trained.result.eval_loss
    texts = load_eval_texts(name)
    size = (checkpoints_tmp / name / "eval_texts.jsonl").stat().st_size
    assert texts and 0 < size <= 200_000
    loaded = load_model(name, allow_fallback=False)
    assert loaded.source == "local"
    res = next_token_distribution(loaded, "Había una vez", 1.0, 0, 1.0, 5)
    assert 0 < sum(res.top_probs) <= 1 + 1e-6 and len(res.top_ids) == 5
    assert not list(checkpoints_tmp.glob(".tmp-*"))
    assert not (checkpoints_tmp / ".runs" / name).exists()  # a finished run leaves no resumable folder


def test_stop_mid_run_leaves_a_loadable_checkpoint_and_refuses_a_second_start(trained):
    from lm_demo.models import load_model
    from lm_demo.training import generate_sample
    from lm_demo.training.runs import interrupted_runs

    _wait_idle()
    cfg = TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=300), base_model="gpt2-es-tiny", max_steps=500,
                      eval_steps=1000, samples=False, output_name="parada", **SMALL)
    job = start_training(cfg)
    with pytest.raises(UserError) as e:
        start_training(cfg)
    assert e.value.key == "train.err.busy"
    deadline = time.time() + 120
    while time.time() < deadline and not any(e["type"] == "train" and e["step"] >= 2 for e in job.events):
        assert job.running, job.error
        time.sleep(0.05)
    job.request_stop()
    seen = max(e["step"] for e in job.events if e["type"] == "train")
    assert job.wait(120)
    assert job.status == "stopped", job.error
    res = job.result
    assert seen <= res.steps <= seen + 2 and res.steps < 500  # within one optimiser step (+ one racing log)
    assert res.eval_loss is not None and res.checkpoint == "parada"
    loaded = load_model("parada", allow_fallback=False)
    text = generate_sample(loaded.model, loaded.tokenizer, "El perro", max_new_tokens=8)
    assert text.startswith("El perro") and len(text) > len("El perro")
    # the stop also wrote a resumable checkpoint: the run can be continued later
    listed = {r["name"]: r for r in interrupted_runs()}
    assert listed["parada"]["status"] == "stopped" and listed["parada"]["resumable"]
    assert listed["parada"]["step"] == res.steps and listed["parada"]["saved_as"] == "parada"


def test_from_scratch_padded_and_early_stopping():
    _wait_idle()
    cfg = TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=120), base_model="gpt2-es-tiny",
                      from_scratch=True, n_layer=1, n_head=2, n_embd=32, recipe="padded", block_size=32, batch_size=4,
                      max_steps=20, eval_steps=1, learning_rate=0.0, early_stopping_patience=2, save=False,
                      samples=False, max_eval_blocks=4)
    res = run_training(cfg)
    assert res.checkpoint is None and res.model is not None
    assert res.model.config.n_layer == 1 and res.model.config.n_embd == 32
    assert res.model.config.vocab_size == len(res.tokenizer)
    assert res.stopped_early and res.steps == 2  # lr 0: the loss never improves
    assert any(e["type"] == "note" and "Parada temprana" in e["text"] for e in res.history)


# --------------------------------------------------------------------------- checkpoints
def test_sanitize_name():
    from lm_demo.checkpoints import sanitize_name

    assert sanitize_name("../../etc/passwd") == "etc-passwd"
    assert sanitize_name("Canción de cuna ñ") == "Cancion-de-cuna-n"
    assert sanitize_name(".hidden") == "hidden"
    for bad in ("", "   ", "../..", "///"):
        with pytest.raises(UserError):
            sanitize_name(bad)
    with pytest.raises(UserError) as e:
        sanitize_name("gpt2-es-tiny")
    assert e.value.key == "train.ckpt.protected"


def test_save_is_atomic_and_never_overwrites(bundled, checkpoints_tmp):
    from transformers import AutoModelForCausalLM

    from lm_demo.checkpoints import load_metadata, save_checkpoint
    from lm_demo.models import list_checkpoints

    # a trainable copy, as training has (the cached one is an inference-only copy: see fast_linear)
    model = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True)
    p1 = save_checkpoint(model, bundled.tokenizer, "copia", {"eval_loss": float("nan")}, ["uno", "dos"])
    p2 = save_checkpoint(model, bundled.tokenizer, "copia", {})
    assert p1.name == "copia" and p2.name == "copia-2"
    assert load_metadata("copia") == {"eval_loss": None, "name": "copia"}
    assert [json.loads(x)["text"] for x in (p1 / "eval_texts.jsonl").read_text().splitlines()] == ["uno", "dos"]

    class Crashes:  # the real model, but the disk "fills up" half-way through writing it
        config = model.config

        def save_pretrained(self, path, **kw):
            model.save_pretrained(path, **kw)
            raise OSError(28, "No space left on device")

    with pytest.raises(UserError) as e:
        save_checkpoint(Crashes(), bundled.tokenizer, "a-medias", {})
    assert e.value.key == "train.ckpt.write_failed"
    assert "a-medias" not in list_checkpoints() and not (checkpoints_tmp / "a-medias").exists()
    assert not list(checkpoints_tmp.glob(".tmp-*"))


# --------------------------------------------------------------------------- CLI
def test_cli_trains_prints_and_saves(capsys, checkpoints_tmp):
    from lm_demo.models import list_checkpoints
    from lm_demo.train import first_sentences, main

    assert first_sentences("Uno. ¿Dos? ¡Tres! Cuatro… Cinco. Seis.", 5) == "Uno. ¿Dos? ¡Tres! Cuatro… Cinco."
    _wait_idle()
    rc = main(["--corpus", "quijote", "--quijote-lines", "400", "--model", "gpt2-es-tiny", "--max-steps", "3",
               "--eval-steps", "100", "--block-size", "32", "--batch-size", "4", "--grad-accum", "1",
               "--max-new-tokens", "40", "--name", "cli-quijote", "--prompt", "En un lugar"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Pérdida de evaluación:" in out and "perplejidad:" in out
    assert "Historia de cinco frases" in out and "\nEn un lugar" in out
    assert "cli-quijote" in out and "cli-quijote" in list_checkpoints()


def test_cli_bad_corpus_exits_with_a_message(capsys, tmp_path):
    from lm_demo.train import main

    rc = main(["--corpus", str(tmp_path / "no-existe.txt"), "--model", "gpt2-es-tiny"])
    assert rc == 2 and "no-existe.txt" in capsys.readouterr().err


def test_cli_corpus_limits_are_the_apps_and_its_flags_set_them(capsys, tmp_path, monkeypatch):
    from lm_demo.train import main

    for var in ("LM_DEMO_MAX_CORPUS_MB", "LM_DEMO_MAX_CORPUS_ROWS", "LM_DEMO_MAX_TRAIN_MINUTES"):
        monkeypatch.setenv(var, "")  # empty = the defaults; undone after the test (main() sets them from its flags)
    p = tmp_path / "versos.txt"
    p.write_text("".join(f"verso número {i} de la canción\n" for i in range(40)), encoding="utf-8")
    rc = main(["--corpus", str(p), "--model", "gpt2-es-tiny", "--max-corpus-rows", "30", "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2 and "más de 30 textos" in err and "Máximo de textos" in err
    import os

    assert os.environ["LM_DEMO_MAX_CORPUS_ROWS"] == "30"
    from lm_demo.corpora import corpus_limits

    assert corpus_limits().rows == 30  # for this process only


# --------------------------------------------------------------------------- UI handlers (no server)
def test_ui_handlers_refuse_clearly(monkeypatch):
    import gradio as gr

    from lm_demo.ui.components import training_tab as tab

    _wait_idle()
    assert tab.train_stop("") == "No hay ningún entrenamiento en marcha."
    monkeypatch.setenv("LM_DEMO_ALLOW_TRAINING", "0")
    with pytest.raises(gr.Error, match="desactivado"):
        tab.train_start("chistes", model_name="gpt2-es-tiny")
    monkeypatch.delenv("LM_DEMO_ALLOW_TRAINING")
    with pytest.raises(gr.Error, match="no se puede sobrescribir"):
        tab.train_start("chistes", model_name="gpt2-es-tiny", name="gpt2-es-tiny")
    with pytest.raises(gr.Error, match="no es un número"):
        tab.train_start("chistes", model_name="gpt2-es-tiny", batch_size="ocho")
    assert JOBS.running() is None


def test_corpus_stats_handler(bundled, local_data, monkeypatch):
    import statistics

    from lm_demo.ui.components.training_tab import corpus_preview

    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(local_data.root))  # the jokes: local data folder
    summary, table, hist, notes, csv_path = corpus_preview("chistes", None, None, "lines", ["sexo"], 0, 0,
                                                           "gpt2-es-tiny")
    assert "Chistes" in summary and "carpeta de datos local" in summary
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1]))
    kept = [r["text"] for r in local_data.jokes if r["category"] != "sexo" and r["text"].strip()]
    assert values["Textos antes de limpiar"] == len(local_data.jokes)
    assert values["Textos después de limpiar"] == len(kept)
    assert values["Mediana de palabras por texto"] == statistics.median(len(x.split()) for x in kept)
    assert hist.data[0].type == "histogram" and "sexo" in notes
    import pandas as pd

    assert "corpus-estadisticas_gpt2-es-tiny_chistes_" in csv_path
    assert len(pd.read_csv(csv_path, comment="#")) == len(table)


def test_background_training_thread_yields_the_cpu(monkeypatch):
    """A job's thread runs niced, the caller's thread is untouched."""
    import os
    import threading

    from lm_demo.jobs import BACKGROUND_NICE, JobRegistry, lower_thread_priority

    me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    monkeypatch.delenv("LM_DEMO_TRAIN_NICE", raising=False)
    job = JobRegistry().start("train", lambda job: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert job.wait(30)
    assert job.result >= max(me, BACKGROUND_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == me
    monkeypatch.setenv("LM_DEMO_TRAIN_NICE", "0")
    assert lower_thread_priority() is False


# --------------------------------------------------------------------------- memory estimate
def test_scratch_parameter_count_is_the_models():
    from transformers import GPT2Config, GPT2LMHeadModel

    from lm_demo.training.resources import model_shape, scratch_shape

    for layers, width, heads, vocab, pos in ((1, 32, 2, 8000, 64), (3, 96, 4, 1000, 256)):
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_positions=pos, n_embd=width, n_layer=layers,
                                           n_head=heads))
        assert scratch_shape(layers, width, heads, vocab, pos) == model_shape(model)


def test_memory_estimate_against_a_measured_peak(bundled):
    """A few steps of the bundled model: the estimate is near the process's peak (VmHWM reset before)."""
    import ctypes
    import gc
    from pathlib import Path

    from lm_demo.training.resources import estimate, model_shape

    clear = Path("/proc/self/clear_refs")
    if not clear.exists():
        pytest.skip("needs Linux /proc to measure a peak")

    def status(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
        raise AssertionError(key)

    _wait_idle()
    cfg = TrainConfig(corpus=CorpusSpec(preset="quijote", quijote_lines=1500), base_model="gpt2-es-tiny",
                      block_size=128, batch_size=8, max_steps=3, eval_steps=3, learning_rate=1e-4, warmup_steps=0,
                      epochs=1.0, samples=False, save=False, max_eval_blocks=8)
    run_training(replace_steps(cfg, 1))  # first-use allocations (imports, thread pools) out of the way
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    base = status("VmRSS")
    clear.write_text("5")
    run_training(cfg)
    measured = status("VmHWM") - base
    est = estimate(model_shape(bundled.model), 8, 128).total
    assert 0.6 * est <= measured <= 1.5 * est, (measured / 2**20, est / 2**20)


def replace_steps(cfg: TrainConfig, steps: int) -> TrainConfig:
    from dataclasses import replace

    return replace(cfg, max_steps=steps, eval_steps=steps)


def test_a_run_too_big_for_the_machine_is_refused_with_a_setting_that_fits(monkeypatch):
    from lm_demo.training import resources

    shape = resources.scratch_shape(4, 256, 4, 8000, 512)
    free = 1024 * 2**20
    with pytest.raises(UserError) as e:
        resources.check(shape, 64, 512, "cpu", available=free)
    assert e.value.key == "train.err.memory.batch"
    fit = e.value.params
    assert resources.estimate(shape, fit["fit_batch"], fit["fit_block"]).total <= free * resources.HEADROOM
    assert fit["fit_batch"] * fit["fit_block"] < 64 * 512
    assert f"lote {fit['fit_batch']} y bloque {fit['fit_block']}" in str(e.value) and "1,0 GB libres" in str(e.value)
    # too big even at batch 1: from scratch, a smaller model that fits; a fine-tune, a smaller base model
    huge = resources.scratch_shape(24, 2048, 32, 8000, 2048)
    with pytest.raises(UserError) as e:
        resources.check(huge, 512, 2048, "cpu", from_scratch=True, available=free)
    assert e.value.key == "train.err.memory.shape" and "capas de anchura" in str(e.value)
    small = resources.scratch_shape(e.value.params["fit_layers"], e.value.params["fit_width"], 32, 8000, 2048)
    assert resources.estimate(small, e.value.params["fit_batch"], e.value.params["fit_block"]).total <= free
    with pytest.raises(UserError) as e:
        resources.check(huge, 1, 16, "cpu", from_scratch=False, available=free)
    assert e.value.key == "train.err.memory.model" and "modelo base más pequeño" in str(e.value)
    assert resources.check(shape, 8, 128, "cpu", available=free).total < free  # the defaults fit in 1 GB


def test_the_api_maximum_from_scratch_is_refused_before_a_job_starts():
    """The issue's case: every size at its maximum (24 × 2048, block 2048, batch 512) passed validation."""
    from lm_demo.ui.components import training_tab as tab

    _wait_idle()
    import gradio as gr

    with pytest.raises(gr.Error) as e:
        tab.train_start("refranes", model_name="gpt2-es-tiny", from_scratch=True, n_layer=1e308, n_head=1e308,
                        n_embd=1e308, block_size=1e308, batch_size=1e308, auto=False)
    message = str(e.value)  # 21,7 TB: the suggestion is a smaller model, whatever this machine has free
    assert "TB de memoria" in message and "1229 M de parámetros no cabe: prueba desde cero con" in message
    assert JOBS.running() is None


# --------------------------------------------------------------------------- caps for a public Space
def test_caps_default_on_a_cpu_space_only(monkeypatch):
    from lm_demo.training import caps

    for var in ("SPACE_ID", "LM_DEMO_MAX_TRAIN_MINUTES", "LM_DEMO_MAX_TRAIN_STEPS", "LM_DEMO_MAX_TRAIN_EPOCHS"):
        monkeypatch.delenv(var, raising=False)
    assert (caps.max_minutes("cpu"), caps.max_steps("cpu"), caps.max_epochs()) == (0, 0, 0)
    monkeypatch.setenv("SPACE_ID", "profe/lm_demo")
    assert caps.max_minutes("cpu") == caps.SPACE_CPU_MINUTES and caps.max_minutes("cuda") == 0
    assert caps.max_steps("cpu") == 2000 and caps.max_epochs() == 20
    monkeypatch.setenv("LM_DEMO_MAX_TRAIN_MINUTES", "0")  # the operator turns it off
    assert caps.max_minutes("cpu") == 0
    cfg = TrainConfig(epochs=100.0, max_steps=0, eval_steps=50_000, warmup_steps=10, save_every_steps=200_000)
    bounded, notes = caps.bounded(cfg, steps_per_epoch=1000, device="cpu")
    assert bounded.epochs == 20 and bounded.max_steps == 2000 and bounded.eval_steps == 200
    assert bounded.save_every_steps == 400 and len(notes) == 2 and "como mucho 2000 pasos" in notes[1]


def test_the_time_cap_ends_a_run_cleanly_with_its_model_saved(monkeypatch):
    from pathlib import Path

    from lm_demo.models import load_model
    from lm_demo.training.runs import interrupted_runs

    _wait_idle()
    monkeypatch.setenv("LM_DEMO_MAX_TRAIN_MINUTES", "0.05")  # 3 s
    cfg = TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=400), base_model="gpt2-es-tiny", max_steps=5000,
                      eval_steps=5000, samples=False, output_name="tope-de-tiempo", save_every_steps=5000, **SMALL)
    res = run_training(cfg)
    assert res.status == "stopped" and 0 < res.steps < 5000 and res.checkpoint == "tope-de-tiempo"
    note = next(e["text"] for e in res.history if e["type"] == "note" and "⏱️" in e["text"])
    assert "0.05 min" in note and f"paso {res.steps}" in note
    assert load_model("tope-de-tiempo", allow_fallback=False).model is not None
    meta = json.loads((Path(res.path) / "metadata.json").read_text(encoding="utf-8"))
    assert meta["stopped_by_limit"] is True and meta["stopped_by_user"] is False and meta["status"] == "stopped"
    listed = {r["name"]: r for r in interrupted_runs()}
    assert listed["tope-de-tiempo"]["resumable"] and listed["tope-de-tiempo"]["step"] == res.steps


# --------------------------------------------------------------------------- who may stop, continue, discard
def test_train_stop_follows_the_owner_rule_and_the_operators_token(monkeypatch):
    import gradio as gr

    from lm_demo.ui.components import training_tab as tab

    _wait_idle()
    monkeypatch.setenv("LM_DEMO_ADMIN_TOKEN", "operador-del-space-2026")
    cfg = TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=300), base_model="gpt2-es-tiny", max_steps=500,
                      eval_steps=1000, samples=False, save=False, **SMALL)
    job = start_training(cfg)
    try:
        for wrong in (None, "", job.id[:-1], "x" * 16):
            with pytest.raises(gr.Error, match="lo inició otro navegador"):
                tab.train_stop(wrong)
        assert not job.stop_requested
        assert tab.train_stop("operador-del-space-2026").startswith("Deteniendo") and job.stop_requested
    finally:
        job.request_stop()
        assert job.wait(120)


def test_interrupted_runs_on_a_space_belong_to_their_browser(monkeypatch, checkpoints_tmp):
    import gradio as gr

    from lm_demo.training import runs
    from lm_demo.ui.components import training_runs_panel as panel

    cfg, _ = TrainConfig(corpus=CorpusSpec(preset="refranes"), block_size=32, batch_size=2, epochs=1.0,
                         learning_rate=1e-4, warmup_steps=0, eval_steps=5, max_steps=5).validated()
    owner = Job("train")
    run, _ = runs.create_run(cfg, "de-otro-navegador", "Refranes", 5, owner=runs.owner_key(owner))
    run.update(status="stopped", host="otra-maquina")  # no live process trains it
    assert owner.id not in (run.path / runs.RUN_FILE).read_text()  # only a hash of the key is on disk
    monkeypatch.setenv("SPACE_ID", "profe/lm_demo")
    monkeypatch.setenv("LM_DEMO_ADMIN_TOKEN", "operador-del-space-2026")
    for action in (lambda who: panel.run_continue(run.name, who), lambda who: panel.run_discard(run.name, who),
                   lambda who: panel.run_use(run.name, None, who)):
        for who in (None, "", "0123456789", owner.id.upper()):
            with pytest.raises(gr.Error, match="solo el navegador que empezó"):
                action(who)
    assert run.path.is_dir()
    panel.may_manage(run.name, owner.id)  # the browser that trained it
    panel.may_manage(run.name, "operador-del-space-2026")  # the operator
    monkeypatch.delenv("SPACE_ID")
    panel.may_manage(run.name, None)  # a local app: anyone
    panel.run_discard(run.name, None)
    assert not run.path.exists()


def test_the_time_cap_bounds_a_whole_quick_comparison(monkeypatch):
    from lm_demo.model_trials import TrialSpec, start_trials

    _wait_idle()
    monkeypatch.setenv("LM_DEMO_MAX_TRAIN_MINUTES", "0.05")  # 3 s for all the models together
    job = start_trials(TrialSpec(models=["gpt2-es-tiny", "gpt2-es-tiny-chistes"], corpus_preset="refranes",
                                 n_examples=200, max_steps=2000, block_size=32, batch_size=4))
    assert job.wait(180), "the comparison did not end"
    rows = job.result
    assert [r.status for r in rows] == ["stopped", "stopped"] and 0 < rows[0].steps < 2000, rows
    assert rows[1].steps is None  # never started: the comparison's time was up
    assert any(e["type"] == "note" and "detiene." in e["text"] and "⏱️" in e["text"] for e in job.events)


def test_stats_and_uploads_are_refused_when_training_is_disabled(monkeypatch, tmp_path):
    import gradio as gr

    from lm_demo.ui.components.training_corpus import corpus_preview, upload_columns

    p = tmp_path / "poemas.txt"
    p.write_text("uno\ndos\n", encoding="utf-8")
    monkeypatch.setenv("LM_DEMO_ALLOW_TRAINING", "0")
    with pytest.raises(gr.Error, match="desactivado"):
        corpus_preview("poesia", None, None, "lines", [], 2000, 0, "gpt2-es-tiny")
    with pytest.raises(gr.Error, match="desactivado"):
        upload_columns(str(p), None)
    monkeypatch.delenv("LM_DEMO_ALLOW_TRAINING")
    assert upload_columns(str(p), None)[1] == "uno"
