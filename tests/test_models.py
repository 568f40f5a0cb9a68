"""Model loading: the bundled model, the offline fallback, path safety, the cache."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lm_demo.errors import UserError
from lm_demo.models import (
    BUNDLED_NAME,
    DEFAULT_MODEL,
    ModelCache,
    align_special_tokens,
    bundled_model_path,
    load_model,
    model_choices,
)

REPO = Path(__file__).resolve().parents[1]


def test_bundled_model_is_small_and_spanish_gpt2(bundled):
    assert bundled.source == "local"
    assert type(bundled.model).__name__ == "GPT2LMHeadModel"
    tok = bundled.tokenizer
    assert tok.eos_token == tok.bos_token == tok.pad_token == "<|endoftext|>"
    assert bundled.model.config.eos_token_id == tok.eos_token_id == bundled.model.config.pad_token_id
    size = sum(f.stat().st_size for f in bundled_model_path().iterdir())
    assert size <= 25 * 1024 * 1024
    # Spanish accents are whole tokens or byte pairs the model can read back.
    ids = tok("Había una vez un niño", add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == "Había una vez un niño"


def test_default_model_falls_back_offline_with_a_visible_note():
    loaded = load_model(DEFAULT_MODEL)
    assert loaded.source == "fallback"
    assert Path(loaded.resolved) == bundled_model_path()
    assert any(BUNDLED_NAME in n and DEFAULT_MODEL in n for n in loaded.notes)


def test_fallback_without_offline_variable_does_not_wait_for_hub_retries(tmp_path):
    """Without HF_HUB_OFFLINE the hub client would retry ~23 s per file; we must not."""
    code = (
        "import time; t=time.perf_counter();"
        "from lm_demo.models import load_model, hub_reachable;"
        "assert not hub_reachable();"
        "m=load_model('datificate/gpt2-small-spanish');"
        "print(m.source)"
    )
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["HF_HOME"] = str(tmp_path / "hf")  # nothing cached
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=40)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("fallback")


def test_unknown_hub_id_without_fallback_is_a_spanish_error():
    with pytest.raises(UserError) as e:
        load_model("usuario/modelo-que-no-existe", allow_fallback=False)
    assert "modelo-que-no-existe" in str(e.value)


@pytest.mark.parametrize("name", ["../../etc", "/etc", "~/secreto", "checkpoints/../../x", "..\\x"])
def test_paths_outside_checkpoints_are_refused(name):
    with pytest.raises(UserError) as e:
        load_model(name)
    assert e.value.key in ("err.model_path_forbidden", "err.unknown_model")


def test_model_choices_list_bundled_first_and_presets():
    choices = model_choices()
    assert choices[0] == BUNDLED_NAME
    assert DEFAULT_MODEL in choices


def test_cache_returns_same_object_and_is_bounded():
    cache = ModelCache(max_models=1)
    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(BUNDLED_NAME))) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len({id(r) for r in results}) == 1  # loaded once despite concurrent requests
    cache.get(DEFAULT_MODEL)  # a second model evicts the first
    assert cache.names() == [DEFAULT_MODEL]


def test_align_special_tokens_sets_pad_from_eos(bundled):
    tok = copy.deepcopy(bundled.tokenizer)
    model = copy.deepcopy(bundled.model)
    tok.pad_token = None
    model.config.pad_token_id = None
    n_emb = model.get_input_embeddings().weight.shape[0]
    align_special_tokens(model, tok)
    assert tok.pad_token == tok.eos_token
    assert model.config.pad_token_id == tok.eos_token_id
    assert model.get_input_embeddings().weight.shape[0] == n_emb  # no resize when nothing was added


def test_training_defaults_to_the_bundled_model_on_cpu(monkeypatch):
    """On a CPU (these machines, a free Space) the training tab starts from the bundled model."""
    import torch

    from lm_demo.models import BUNDLED_NAME, default_training_model, gpu_likely

    monkeypatch.delenv("LM_DEMO_TRAIN_MODEL", raising=False)
    assert gpu_likely() == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert default_training_model() == BUNDLED_NAME
    monkeypatch.setenv("LM_DEMO_TRAIN_MODEL", "gpt2-es-tiny-chistes")
    assert default_training_model() == "gpt2-es-tiny-chistes"
