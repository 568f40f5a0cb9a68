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


# --------------------------------------------------------------------------- hostile names and folders
@pytest.mark.parametrize("name, key", [
    (123, "err.model_name_type"),
    (["gpt2-es-tiny"], "err.model_name_type"),
    ({"a": 1}, "err.model_name_type"),
    ("a" * 256, "err.model_name_too_long"),
    ("ñ" * 128, "err.model_name_too_long"),  # 256 bytes in UTF-8
    ("gpt2\x00es", "err.bad_model_name"),
    ("gpt2\ud800", "err.bad_model_name"),
    ("línea\nnueva", "err.bad_model_name"),
])
def test_names_no_model_can_have_get_a_clear_error(name, key):
    with pytest.raises(UserError) as e:
        load_model(name)
    assert e.value.key == key
    assert "\x00" not in str(e.value) and "\ud800" not in str(e.value)


@pytest.mark.parametrize("name", ["<img src=x>", "a--b/c", "owner/", "/", "a/b c", "x" * 97 + "/y"])
def test_names_that_are_neither_hub_ids_nor_checkpoints_are_unknown(name):
    with pytest.raises(UserError) as e:
        load_model(name, allow_fallback=False)
    assert e.value.key in ("err.unknown_model", "err.model_path_forbidden")


def test_a_folder_outside_checkpoints_named_like_a_hub_id_is_not_loaded(tmp_path, monkeypatch):
    """``docs/hidden_model`` (relative to the working directory) once loaded a folder outside checkpoints/."""
    import shutil

    hidden = tmp_path / "docs" / "hidden_model"
    shutil.copytree(bundled_model_path(), hidden)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as e:
        load_model("docs/hidden_model")
    assert e.value.key == "err.model_path_forbidden"
    with pytest.raises(UserError):
        load_model("docs")
    # A notebook or the CLI may still name any folder on purpose.
    assert load_model("docs/hidden_model", allow_any_path=True).source == "local"


def _unsafe_copy(root: Path, name: str, *, auto_map: bool = False, pickle: bool = False) -> Path:
    import json
    import shutil

    folder = root / name
    shutil.copytree(bundled_model_path(), folder)
    if auto_map:
        cfg = json.loads((folder / "config.json").read_text())
        cfg["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
        (folder / "config.json").write_text(json.dumps(cfg))
        (folder / "modeling_evil.py").write_text("raise SystemExit('remote code ran')\n")
    if pickle:
        for f in folder.glob("*.safetensors"):
            f.unlink()
        (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not a real pickle")
    return folder


@pytest.mark.parametrize("kind, key", [("auto_map", "err.model_remote_code"), ("pickle", "err.model_unsafe_format")])
def test_checkpoints_that_would_run_code_are_refused(tmp_path, monkeypatch, kind, key):
    from lm_demo.locales import t

    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(tmp_path))
    _unsafe_copy(tmp_path, f"malo-{kind}", auto_map=kind == "auto_map", pickle=kind == "pickle")
    with pytest.raises(UserError) as e:
        load_model(f"malo-{kind}", allow_fallback=False)
    assert e.value.key == key
    assert "no se carga" in e.value.message("es") and f"malo-{kind}" in e.value.message("es")
    assert "not loaded" in e.value.message("en")
    assert t(key, "es", name="x") != t(key, "en", name="x")


def test_the_cache_keeps_nothing_for_names_that_failed():
    """A visitor sending a million names must not leave a million locks behind."""
    cache = ModelCache(max_models=1)
    for i in range(50):
        with pytest.raises(UserError):
            cache.get(f"../nada-{i}")
    assert cache._name_locks == {} and cache.names() == []
