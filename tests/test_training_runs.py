"""Crash-safe runs: a training process killed with SIGKILL is listed with its last step, and continues or is used as is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from lm_demo.errors import UserError
from tests.killed_runs import kill_at_step, wait_for_step

REPO = Path(__file__).resolve().parents[1]
TOTAL = 20


def _cli(ckpts: Path, *args: str) -> subprocess.Popen:
    env = dict(os.environ, LM_DEMO_CHECKPOINTS=str(ckpts), HF_HUB_OFFLINE="1", LM_DEMO_DATA_DIR="/nonexistent",
               OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "lm_demo.train", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture
def killed_run(tmp_path, monkeypatch):
    """A CLI run killed with SIGKILL after its second resumable checkpoint (step 10)."""
    ckpts = tmp_path / "ckpts"
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(ckpts))
    proc = _cli(ckpts, "--corpus", "refranes", "--max-rows", "800", "--model", "gpt2-es-tiny", "--max-steps",
                str(TOTAL), "--save-every-steps", "5", "--eval-steps", "10", "--block-size", "32", "--batch-size",
                "4", "--name", "corte", "--max-new-tokens", "10")
    kill_at_step(proc, ckpts / ".runs" / "corte" / "run.json", 10, 180)
    return ckpts


def test_killed_run_is_listed_used_as_is_and_continued_to_the_end(killed_run):
    from lm_demo.checkpoints import load_metadata
    from lm_demo.models import list_checkpoints, load_model
    from lm_demo.training import run_training
    from lm_demo.training.config import TrainConfig
    from lm_demo.training.runs import export_run, interrupted_runs

    runs = {r["name"]: r for r in interrupted_runs()}
    assert set(runs) == {"corte"}
    listed = runs["corte"]
    assert listed["resumable"] and listed["status"] == "running" and listed["total_steps"] == TOTAL
    killed_at = listed["step"]
    assert 10 <= killed_at < TOTAL and killed_at % 5 == 0
    assert "corte" not in list_checkpoints()  # nothing half-done is offered as a model

    # "Usar tal cual": the last checkpoint becomes a model now
    path = export_run("corte")
    meta = load_metadata(path.name)
    assert meta["status"] == "interrupted" and meta["steps"] == killed_at
    assert load_model(path.name, allow_fallback=False).source == "local"

    # "Continuar": the Trainer resumes from that checkpoint and finishes the same run
    t0 = time.perf_counter()
    res = run_training(TrainConfig(), resume="corte")
    assert res.status == "finished" and res.resumed_from == killed_at and res.steps == TOTAL
    assert res.checkpoint == path.name  # the same model, now finished
    steps = [e["step"] for e in res.history if e["type"] == "train"]
    assert steps == list(range(1, TOTAL + 1)), steps  # replayed history + the rest, no step twice
    replayed = [e for e in res.history if e.get("replayed")]
    assert replayed and all(e.get("step", 0) <= killed_at for e in replayed)
    assert any(e["type"] == "note" and f"paso {killed_at} de {TOTAL}" in e["text"] for e in res.history)
    meta = load_metadata(res.checkpoint)
    assert meta["status"] == "finished" and meta["resumed_from"] == killed_at and meta["steps"] == TOTAL
    assert not (killed_run / ".runs" / "corte").exists() and interrupted_runs() == []
    print(f"resume: {time.perf_counter() - t0:.1f} s for {TOTAL - killed_at} steps")


def test_a_run_another_process_trains_is_refused_everywhere_and_listed_interrupted_once_killed(tmp_path, monkeypatch,
                                                                                              capsys):
    """Issue 21: ``--resume NAME`` started a second writer on a run another live process was training (the
    tab refused it), and ``--list-runs`` called a killed run «running» (the tab: interrupted).  One rule for all."""
    from lm_demo.train import main
    from lm_demo.training import resume_training, run_training
    from lm_demo.training.config import TrainConfig
    from lm_demo.training.runs import discard_run, interrupted_runs, open_run

    ckpts = tmp_path / "ckpts"
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(ckpts))
    monkeypatch.setenv("LM_DEMO_DATA_DIR", "/nonexistent")
    proc = _cli(ckpts, "--corpus", "refranes", "--max-rows", "800", "--model", "gpt2-es-tiny", "--max-steps", "60",
                "--save-every-steps", "5", "--eval-steps", "30", "--block-size", "32", "--batch-size", "4",
                "--name", "corte", "--max-new-tokens", "10")
    try:
        wait_for_step(proc, ckpts / ".runs" / "corte" / "run.json", 5, 180)
        events = open_run("corte").n_events()
        assert main(["--resume", "corte"]) == 2  # the CLI, before anything is written
        assert "«corte» sigue en marcha en otro proceso" in capsys.readouterr().err
        for attempt in (lambda: run_training(TrainConfig(), resume="corte"), lambda: resume_training("corte"),
                        lambda: discard_run("corte")):  # the runner (API, notebooks), the tab, «Descartar»
            with pytest.raises(UserError) as e:
                attempt()
            assert e.value.key == "train.run.busy"
        assert open_run("corte").data["pid"] == proc.pid and open_run("corte").n_events() >= events  # untouched
        assert interrupted_runs() == [] and main(["--list-runs"]) == 0
        assert capsys.readouterr().out.strip() == "No hay entrenamientos interrumpidos."
        kill_at_step(proc, ckpts / ".runs" / "corte" / "run.json", 5, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    [listed] = interrupted_runs()
    assert listed["status"] == "running" and listed["state"] == "interrupted"  # run.json's word, and the tab's
    assert main(["--list-runs"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("corte: ") and "· interrumpido" in out and "running" not in out, out


def test_unknown_or_damaged_runs_are_user_errors(tmp_path, monkeypatch):
    from lm_demo.training.runs import discard_run, open_run

    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path))
    for bad in ("", "no-existe", "../..", "/etc"):
        with pytest.raises(UserError):
            open_run(bad)
    (tmp_path / ".runs" / "roto").mkdir(parents=True)
    (tmp_path / ".runs" / "roto" / "run.json").write_text("{no es json", encoding="utf-8")
    with pytest.raises(UserError) as e:
        open_run("roto")
    assert "dañados" in str(e.value)
    (tmp_path / ".runs" / "roto" / "run.json").write_text(json.dumps({"name": "roto", "pid": 1, "host": "x"}))
    discard_run("roto")
    assert not (tmp_path / ".runs" / "roto").exists()


def test_start_up_removes_what_interrupted_saves_left(tmp_path, monkeypatch):
    from lm_demo.training.leftovers import cleanup_leftovers

    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = [tmp_path / f".tmp-{dead.pid}-modelo-abcd1234", tmp_path / ".tmp-antiguo-abcd1234",
             tmp_path / f".old-{dead.pid}-modelo-abcd1234"]
    live = tmp_path / f".tmp-{os.getppid()}-otro-abcd1234"  # a live process (our parent) may be writing it
    for d in stale + [live]:
        d.mkdir()
        (d / "config.json").write_text("{}")
    empty = Path(tempfile.mkdtemp(prefix="lm_demo-train-"))
    busy = Path(tempfile.mkdtemp(prefix="lm_demo-train-"))
    (busy / "x").write_text("x")
    half = tmp_path / ".runs" / "viejo" / "checkpoint-30"  # a checkpoint whose writer died mid-save
    half.mkdir(parents=True)
    (tmp_path / ".runs" / "viejo" / "run.json").write_text(json.dumps(
        {"name": "viejo", "pid": dead.pid, "host": "otra", "checkpoint": "checkpoint-20", "step": 20}))
    try:
        removed = cleanup_leftovers()
        assert all(not d.exists() for d in stale) and live.exists()
        assert not empty.exists() and busy.exists() and not half.exists()
        assert str(empty) in removed
    finally:
        import shutil

        shutil.rmtree(busy, ignore_errors=True)
        shutil.rmtree(empty, ignore_errors=True)


def test_a_new_run_discards_the_oldest_interrupted_runs_beyond_the_cap(tmp_path, monkeypatch):
    """On a Space each stopped run keeps its checkpoints on disk: a new run makes room, saying which went."""
    from lm_demo.corpora import CorpusSpec
    from lm_demo.training import caps, run_training
    from lm_demo.training.config import TrainConfig
    from lm_demo.training.runs import interrupted_runs

    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(tmp_path / "no-data-folder"))
    monkeypatch.setenv("SPACE_ID", "escuela/lm-demo")
    assert caps.max_kept_runs() == caps.SPACE_KEPT_RUNS
    monkeypatch.setenv("LM_DEMO_MAX_KEPT_RUNS", "2")
    for age, name in enumerate(("reciente", "media", "vieja")):
        (tmp_path / ".runs" / name).mkdir(parents=True)
        (tmp_path / ".runs" / name / "run.json").write_text(json.dumps(
            {"name": name, "status": "stopped", "pid": 1, "host": "otra", "step": 5, "updated": 1000 - age}))
    res = run_training(TrainConfig(corpus=CorpusSpec(preset="refranes", max_rows=200), base_model="gpt2-es-tiny",
                                   max_steps=2, block_size=32, batch_size=4, samples=False, output_name="nueva"))
    assert res.status == "finished"
    assert [r["name"] for r in interrupted_runs()] == ["reciente"]  # 2 kept: "reciente" and the new run
    note = next(e["text"] for e in res.history if e["type"] == "note" and "descartaron" in e["text"])
    assert "«media», «vieja»" in note and "como mucho 2" in note
