"""Save trained models as checkpoint folders the whole app can load at once.

Why the care:
- A checkpoint is written into a hidden temporary folder next to its final
  place and then renamed, so a crash (or a stop) never leaves half a
  checkpoint that the model picker would list (``models.list_checkpoints``
  skips dot-folders and folders without ``config.json``).
- Names come from users: ``sanitize_name`` keeps letters, digits, ``.``,
  ``_`` and ``-`` (no path separators, no leading dot), and the bundled
  models can never be overwritten.
- ``MODEL_CACHE`` is told to forget the name, so the other tabs load the new
  weights, not a stale copy.

Layout of ``checkpoints/<name>/``: the model (``save_pretrained``), the
tokenizer, ``metadata.json`` (keys: name, base_model, from_scratch, corpus,
hyperparameters, history, eval_loss, eval_perplexity, date, device,
duration_s, stopped_early, ...) and ``eval_texts.jsonl`` (``{"text": ...}``
per line: a sample of the held-out eval texts, at most ``EVAL_TEXTS_MAX_BYTES``)
so the Antes/después tab can measure perplexity on text the model never saw.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
import uuid
from pathlib import Path
from typing import Any, Iterable

from lm_demo.errors import UserError
from lm_demo.exports import json_safe

METADATA_FILE = "metadata.json"
EVAL_TEXTS_FILE = "eval_texts.jsonl"
EVAL_TEXTS_MAX_BYTES = 200_000
EVAL_TEXT_MAX_CHARS = 4_000
MAX_NAME_LEN = 64
PROTECTED_NAMES = ("gpt2-es-tiny", "gpt2-es-tiny-chistes")


def sanitize_name(name: str) -> str:
    """A safe folder name: ASCII letters, digits, ``._-``; no traversal.

    Accents are dropped (``canción`` → ``cancion``), other characters become
    ``-``.  Raises ``UserError`` when nothing usable is left or the name is
    one of the bundled models.
    """
    raw = str(name or "")
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip())
    text = re.sub(r"-{2,}", "-", text).strip(".-_ ")
    text = re.sub(r"\.{2,}", ".", text)[:MAX_NAME_LEN].strip(".-_")
    if not text:
        raise UserError("train.ckpt.bad_name", name=raw)
    if text.lower() in {n.lower() for n in _protected()}:
        raise UserError("train.ckpt.protected", name=text)
    return text


def _protected() -> set[str]:
    from lm_demo.models import BUNDLED_NAME, bundled_model_path

    names = set(PROTECTED_NAMES) | {BUNDLED_NAME}
    root = bundled_model_path().parent
    if root.is_dir():  # everything shipped in the repo's checkpoints/ folder
        names |= {d.name for d in root.iterdir() if d.is_dir() and (d / "config.json").is_file()
                  and not (d / METADATA_FILE).is_file()}
    return names


def _eval_sample(texts: Iterable[str], max_bytes: int = EVAL_TEXTS_MAX_BYTES) -> list[str]:
    out, used = [], 0
    for text in texts:
        text = str(text)[:EVAL_TEXT_MAX_CHARS]
        size = len(json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")) + 1
        if used + size > max_bytes:
            break
        out.append(text)
        used += size
    return out


def unique_name(name: str) -> str:
    """``name``, or ``name-2``, ``name-3``... whichever is free in checkpoints/."""
    from lm_demo.models import checkpoints_dir

    root = checkpoints_dir()
    cand, i = name, 1
    while (root / cand).exists() or cand.lower() in {n.lower() for n in _protected()}:
        i += 1
        cand = f"{name[:MAX_NAME_LEN - 6]}-{i}"
    return cand


def save_checkpoint(model: Any, tokenizer: Any, name: str, metadata: dict | None = None,
                    eval_texts: Iterable[str] | None = None, overwrite: bool = False) -> Path:
    """Write ``checkpoints/<name>/`` atomically and return its path.

    With ``overwrite=False`` an existing name gets a ``-2``, ``-3``... suffix
    (the final name is ``path.name`` and ``metadata["name"]``).
    """
    from lm_demo.fast_linear import is_optimized
    from lm_demo.models import MODEL_CACHE, bundled_model_path, checkpoints_dir

    if is_optimized(model):  # an inference copy stores Conv1D weights transposed
        raise ValueError("an inference-only model (fast_linear) can't be saved; train a from_pretrained copy")
    safe = sanitize_name(name)
    root = checkpoints_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        safe = unique_name(safe)
    target = (root / safe).resolve()
    if target.parent != root or target == bundled_model_path().resolve():
        raise UserError("train.ckpt.protected", name=safe)
    tmp = root / f".tmp-{os.getpid()}-{safe}-{uuid.uuid4().hex[:8]}"  # pid: see training.leftovers
    try:
        tmp.mkdir()
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        meta = dict(metadata or {})
        meta["name"] = safe
        (tmp / METADATA_FILE).write_text(json.dumps(json_safe(meta), ensure_ascii=False, indent=1,
                                                    allow_nan=False), encoding="utf-8")
        sample = _eval_sample(eval_texts or [])
        with open(tmp / EVAL_TEXTS_FILE, "w", encoding="utf-8") as f:
            for text in sample:
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        old = None
        if target.exists():
            old = root / f".old-{os.getpid()}-{safe}-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError("train.ckpt.write_failed", name=safe, detail=type(e).__name__) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    MODEL_CACHE.evict(safe)
    return target


def checkpoint_path(name: str) -> Path:
    """The folder of checkpoint ``name`` (only inside checkpoints/), or ``UserError``."""
    from lm_demo.models import resolve_local

    try:
        path = resolve_local(str(name or "").strip())
    except UserError:
        path = None
    if path is None:
        raise UserError("train.ckpt.unknown", name=name)
    return path


def load_metadata(name: str) -> dict:
    """``metadata.json`` of checkpoint ``name``; ``{}`` for one without it (bundled)."""
    path = checkpoint_path(name) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError("train.ckpt.bad_metadata", name=name) from e


def load_eval_texts(name: str) -> list[str]:
    """The held-out eval texts saved with checkpoint ``name`` ([] when none)."""
    path = checkpoint_path(name) / EVAL_TEXTS_FILE
    if not path.is_file():
        return []
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    out.append(str(json.loads(line)["text"]))
                except (ValueError, KeyError, TypeError):
                    continue
    return out


__all__ = ["sanitize_name", "save_checkpoint", "load_metadata", "load_eval_texts", "checkpoint_path",
           "unique_name", "METADATA_FILE", "EVAL_TEXTS_FILE"]
