"""Load models by preset, hub id or checkpoint folder, with an offline fallback.

Why the care: in a classroom without internet (and in CI) the hub client
retries for ~23 s per file before failing, and ``HF_HUB_OFFLINE`` set after
transformers is imported is ignored.  So we ask the network first (a DNS
lookup, well under a second), load with ``local_files_only=True`` when it is
unreachable, and only then fall back, visibly, to the model we ship in
``checkpoints/``.  Loaded models live in one explicit, locked LRU cache.
Which models there are, what they may be called and where their folders are
is ``lm_demo.model_discovery`` (its listing functions are re-exported here).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_demo import env
from lm_demo.errors import UserError
from lm_demo.model_discovery import (  # the listing ones re-exported: callers find and load models here
    BUNDLED_NAME,
    bundled_model_path,
    check_safe_folder,
    checkpoints_dir,
    list_checkpoints,
    model_choices,
    resolve_local,
    shown_name,
    validate_model_name,
)

DEFAULT_MODEL = "datificate/gpt2-small-spanish"
HUB_HOST = "huggingface.co"


# --------------------------------------------------------------------------- hub
_reach_lock = threading.Lock()
_reach_cache: tuple[float, bool] | None = None


def hub_offline_forced() -> bool:
    return env.hub_offline()


def hub_reachable(timeout: float = 1.0, ttl: float = 60.0) -> bool:
    """Whether the hub's host resolves and accepts a TCP connection, within ``timeout``.

    Cached for ``ttl`` seconds: a classroom either has internet or not.
    """
    global _reach_cache
    if hub_offline_forced():
        return False
    with _reach_lock:
        now = time.monotonic()
        if _reach_cache and now - _reach_cache[0] < ttl:
            return _reach_cache[1]

        def probe() -> bool:
            try:
                with socket.create_connection((HUB_HOST, 443), timeout=timeout):
                    return True
            except OSError:
                return False

        # getaddrinfo has no timeout of its own: run it in a thread we can abandon.
        with ThreadPoolExecutor(max_workers=1) as pool:
            fut = pool.submit(probe)
            try:
                ok = fut.result(timeout=timeout + 0.5)
            except Exception:
                ok = False
        _reach_cache = (now, ok)
        return ok


# --------------------------------------------------------------------------- device
def pick_device() -> tuple[str, Any]:
    """CUDA (bf16 where supported, else fp16) when present, else CPU fp32."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return "cpu", torch.float32


# --------------------------------------------------------------------------- loading
@dataclass
class LoadedModel:
    """A model ready for inference plus what the UI must say about it."""

    name: str  # what the user asked for
    resolved: str  # hub id or folder actually loaded
    source: str  # "hub" | "cache" | "local" | "fallback"
    model: Any
    tokenizer: Any
    device: str
    dtype: str
    notes: list[str] = field(default_factory=list)
    load_seconds: float = 0.0

    @property
    def max_positions(self) -> int:
        cfg = self.model.config
        for attr in ("n_positions", "max_position_embeddings"):
            if getattr(cfg, attr, None):
                return int(getattr(cfg, attr))
        return 1024

    @property
    def vocab_size(self) -> int:
        return int(self.model.get_output_embeddings().weight.shape[0])


def align_special_tokens(model: Any, tokenizer: Any) -> None:
    """Make pad/eos/bos agree between tokenizer and config (GPT-2 ships no pad).

    pad falls back to eos; config ids are synced to the tokenizer; the
    embeddings are resized only when the tokenizer has more tokens than them.
    """
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    for attr in ("pad_token_id", "eos_token_id", "bos_token_id"):
        tid = getattr(tokenizer, attr, None)
        if tid is not None:
            setattr(model.config, attr, tid)
            if getattr(model, "generation_config", None) is not None:
                setattr(model.generation_config, attr, tid)


# transformers' first (lazy) import and ``from_pretrained`` (which patches torch globally while it
# builds the model on the meta device) are not thread-safe: the warm-up thread and a first request
# loading at once fail with ImportError / NotImplementedError.  So loads run one at a time.
LOAD_LOCK = threading.RLock()


def _from_pretrained(ref: str | Path, local_only: bool, name: str | None = None) -> tuple[Any, Any]:
    with LOAD_LOCK:
        return _from_pretrained_unlocked(ref, local_only, name)


def _from_pretrained_unlocked(ref: str | Path, local_only: bool, name: str | None = None) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device, dtype = pick_device()
    shown = shown_name(name if name is not None else str(ref))
    # A local folder: safetensors only (``check_safe_folder`` already refused pickled weights).
    safe = {"use_safetensors": True} if isinstance(ref, Path) else {}
    try:
        tok = AutoTokenizer.from_pretrained(ref, local_files_only=local_only, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(
            ref, local_files_only=local_only, trust_remote_code=False, dtype=dtype, **safe
        )
    except ValueError as e:
        if "trust_remote_code" in str(e):  # a hub repo whose config asks for its own code
            raise UserError("err.model_remote_code", name=shown) from e
        if "Unrecognized configuration class" in str(e):  # config of a non-causal architecture
            raise UserError("err.not_a_causal_lm", name=shown) from e
        raise
    align_special_tokens(model, tok)
    model.to(device)
    model.eval()
    from lm_demo.fast_linear import optimize_for_cpu_inference

    optimize_for_cpu_inference(model, tokenizer=tok)  # inference-only copy, kernels measured here (fast_linear)
    return model, tok


def _load_uncached(name: str, allow_fallback: bool, allow_any_path: bool) -> LoadedModel:
    t0 = time.perf_counter()
    device, dtype = pick_device()
    dtype_s = str(dtype).replace("torch.", "")
    local = resolve_local(name, allow_any_path=allow_any_path)
    if local is not None:
        check_safe_folder(local, name)
        model, tok = _from_pretrained(local, local_only=True, name=name)
        return LoadedModel(name, str(local), "local", model, tok, device, dtype_s, [], time.perf_counter() - t0)

    notes: list[str] = []
    online = hub_reachable()
    try:
        model, tok = _from_pretrained(name, local_only=not online, name=name)
        source = "hub" if online else "cache"
        if not online:
            from lm_demo.locales import t

            notes.append(t("note.loaded_from_cache", name=name))
        return LoadedModel(name, name, source, model, tok, device, dtype_s, notes, time.perf_counter() - t0)
    except UserError:
        raise
    except (OSError, ValueError) as e:
        if online or not allow_fallback:
            if online:
                raise UserError("err.unknown_model", name=shown_name(name)) from e
            raise UserError("err.model_load_failed", name=shown_name(name), detail=type(e).__name__) from e
    from lm_demo.locales import t

    model, tok = _from_pretrained(bundled_model_path(), local_only=True)
    notes.append(t("note.fallback", bundled=BUNDLED_NAME, requested=shown_name(name)))
    return LoadedModel(
        name, str(bundled_model_path()), "fallback", model, tok, device, dtype_s, notes, time.perf_counter() - t0
    )


class ModelCache:
    """Thread-safe LRU of loaded models; at most ``max_models`` stay in memory.

    One lock per model name, so two users asking for the same model load it
    once, while a load of another model does not block them.
    """

    def __init__(self, max_models: int = 3) -> None:
        self.max_models = max(1, max_models)
        self._items: OrderedDict[tuple[str, bool], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._name_locks: dict[tuple[str, bool], threading.Lock] = {}

    def get(self, name: str, allow_fallback: bool = True, allow_any_path: bool = False) -> LoadedModel:
        key = (validate_model_name(name), allow_fallback)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            name_lock = self._name_locks.setdefault(key, threading.Lock())
        with name_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                loaded = _load_uncached(key[0], allow_fallback, allow_any_path)
            finally:
                # Not kept: one lock per name ever asked for would grow with every (hostile) name;
                # whoever already waits on it still gets the cached model (or tries again).
                with self._lock:
                    self._name_locks.pop(key, None)
            with self._lock:
                self._items[key] = loaded
                self._items.move_to_end(key)
                while len(self._items) > self.max_models:
                    self._items.popitem(last=False)
            return loaded

    def evict(self, name: str) -> None:
        """Forget a model (e.g. a checkpoint that was just overwritten)."""
        with self._lock:
            for key in [k for k in self._items if k[0] == name.strip()]:
                del self._items[key]

    def names(self) -> list[str]:
        with self._lock:
            return [k[0] for k in self._items]


MODEL_CACHE = ModelCache(env.max_models(3))  # ModelCache keeps at least 1


def default_model_name() -> str:
    """The hub default when reachable (or cached), else the bundled model.

    ``LM_DEMO_MODEL`` (or ``--model``) overrides.
    """
    return env.model() or DEFAULT_MODEL


def gpu_likely() -> bool:
    """Whether an NVIDIA GPU seems present, without importing torch (UI defaults only).

    ``pick_device`` makes the real choice when a model loads; this only picks
    what the page shows before torch is imported (see ``bench/startup.py``).
    """
    return any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0")) and \
        os.environ.get("CUDA_VISIBLE_DEVICES", "x").strip() not in ("", "-1")


def default_training_model() -> str:
    """The base model the training tab starts from.

    On a CPU (a free Space, a classroom laptop) the bundled model: it
    fine-tunes at ~2,000 tokens/s on 2 cores, so a demo run takes minutes,
    where a 124 M GPT-2 runs ~20x slower.  With a GPU, the app's default
    model.  ``LM_DEMO_TRAIN_MODEL`` overrides.
    """
    return env.train_model() or (default_model_name() if gpu_likely() else BUNDLED_NAME)


def load_model(name: str | None = None, allow_fallback: bool = True, allow_any_path: bool = False) -> LoadedModel:
    """The model called ``name`` (preset, hub id or checkpoint name), cached.

    ``None`` or "" means the default.  Raises ``UserError`` with a Spanish
    message when it can't be loaded and no fallback is allowed, and for
    names no model can have (see ``validate_model_name``).
    """
    name = validate_model_name("" if name is None else name) or default_model_name()
    return MODEL_CACHE.get(name, allow_fallback=allow_fallback, allow_any_path=allow_any_path)


__all__ = ["BUNDLED_NAME", "DEFAULT_MODEL", "LOAD_LOCK", "MODEL_CACHE", "LoadedModel", "ModelCache", "align_special_tokens",
           "bundled_model_path", "checkpoints_dir", "default_model_name", "default_training_model", "gpu_likely",
           "hub_offline_forced", "hub_reachable", "list_checkpoints", "load_model", "model_choices", "pick_device",
           "resolve_local", "validate_model_name"]
