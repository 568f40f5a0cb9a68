"""The training CLI: a small-context model from scratch, and two processes under torchrun (gloo, CPU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path / "ckpts"))
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(tmp_path / "no-data-folder"))  # a fresh clone: bundled data only


def test_from_scratch_with_a_128_token_context_ends_with_its_story(capsys):
    """The issue's crash: a 200-token story from a 128-position model ended the CLI with an IndexError."""
    from lm_demo.compare import generate_samples
    from lm_demo.decoding import DecoderSpec, decode
    from lm_demo.models import load_model
    from lm_demo.sampling import SamplingSettings
    from lm_demo.train import main

    rc = main(["--corpus", "quijote", "--quijote-lines", "300", "--model", "gpt2-es-tiny", "--from-scratch",
               "--layers", "2", "--heads", "2", "--width", "64", "--max-steps", "3", "--eval-steps", "3",
               "--name", "pequeno"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Historia de cinco frases" in out and "\nEn un lugar de la Mancha" in out
    assert "128 tokens de contexto" in out  # the story was shortened, and said so
    small = load_model("pequeno", allow_fallback=False)
    assert small.max_positions == 128 and small.model.config.n_layer == 2 and small.model.config.n_embd == 64

    # Antes/después samples and the step-by-step table on the same model: within its context
    s = generate_samples(small, "En un lugar de la Mancha", SamplingSettings(), 2, 200, 7)
    assert all(n + s.prompt_tokens <= 128 for n in s.new_tokens)
    prompt = "Había una vez una niña que vivía en un pueblo"
    n_prompt = len(small.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    res = decode(small, prompt, [DecoderSpec("greedy")], max_steps=200, eos_token_id=-1)
    assert len(res.prompt_ids) == n_prompt  # the prompt is kept whole...
    assert res.max_steps == 128 - n_prompt and len(res.runs[0].rows) == res.max_steps  # ...with fewer steps
    assert any(str(res.max_steps) in n for n in res.notes)


@pytest.mark.skipif(shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists(),
                    reason="torchrun not installed")
def test_torchrun_two_cpu_processes_train_one_run(tmp_path):
    """DDP over gloo: rank 0 prepares the corpus, prints and saves once; metrics come from both ranks."""
    torchrun = str(Path(sys.executable).parent / "torchrun") if (Path(sys.executable).parent / "torchrun").exists() \
        else shutil.which("torchrun")
    ckpts = tmp_path / "ckpts"
    env = dict(os.environ, LM_DEMO_CHECKPOINTS=str(ckpts), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1",
               LM_DEMO_DATA_DIR=str(tmp_path / "none"))
    cmd = [torchrun, "--standalone", "--nproc_per_node", "2", "--tee", "3", "-m", "lm_demo.train", "--corpus", "quijote",
           "--quijote-lines", "300", "--max-steps", "4", "--model", "gpt2-es-tiny", "--name", "ddp",
           "--max-new-tokens", "20"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert out.count("Historia de cinco frases") == 1 and out.count("Checkpoint guardado") == 1
    assert out.count("2 procesos") == 1 and out.count("Ajustes automáticos") == 1
    # progress bars from the main process only (--tee prefixes each line with its rank): one training bar
    bars = [line for line in proc.stderr.replace("\r", "\n").splitlines() if "%|" in line]
    assert bars and not [b for b in bars if not b.startswith("[default0]:")], bars[:5]
    assert any("4/4" in b for b in bars)
    assert sorted(p.name for p in ckpts.iterdir()) == [".runs", "ddp"] and not list((ckpts / ".runs").iterdir())
    meta = json.loads((ckpts / "ddp" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["processes"] == 2 and meta["steps"] == 4 and meta["status"] == "finished"
    train = [e for e in meta["history"] if e["type"] == "train"]
    # each optimiser step saw both ranks' blocks: tokens counted over the two processes
    per_step = meta["hyperparameters"]["batch_size"] * meta["hyperparameters"]["block_size"] * 2
    assert [e["tokens_seen"] for e in train] == [per_step * (i + 1) for i in range(4)]
    from lm_demo.models import load_model

    os.environ["LM_DEMO_CHECKPOINTS"] = str(ckpts)
    assert load_model("ddp", allow_fallback=False).source == "local"
