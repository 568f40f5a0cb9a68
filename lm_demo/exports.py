"""Exports: the settings that produced a table or a chart, in its file name, its header and a JSON.

Why: a lesson must be reproducible.  A teacher who downloads a table (CSV) or
a chart (PNG) should be able to tell, weeks later, which model, prompt and
sliders made it, and paste the settings back into the app.

- ``make_settings`` builds the settings dict: app, version, tab, creation
  date, model, prompt and every parameter (seed included) under ``params``.
- ``file_stem`` turns it into a short, filesystem-safe file name (ASCII, no
  path separators, length-capped), deterministic given the settings (the
  timestamp is the settings' ``created``).
- ``write_csv`` writes a DataFrame as UTF-8 CSV whose first lines are
  ``# key: value`` comments (values in JSON); ``pandas.read_csv(path,
  comment="#")`` reads the table back, ``read_csv_settings`` the settings.
- ``settings_json`` / ``parse_settings`` are the "copy settings" text and
  its validated way back (``UserError`` with a Spanish message if invalid).

Plain Python: no Gradio here.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import shutil
import tempfile
import time
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from lm_demo import __version__
from lm_demo.errors import UserError

APP = "lm_demo"
# Top-level keys of a settings dict (in this order); everything else lives in ``params``.
META_KEYS = ("app", "version", "tab", "created", "model", "model_used", "prompt")
# Short names of parameters in file names; a parameter not listed here is only in the header.
ABBREV: dict[str, str] = {
    "temperature": "T", "top_k": "k", "top_p": "p", "top_n": "n", "repetition_penalty": "rep", "epsilon": "eps",
    "max_steps": "steps", "max_sentences": "sent", "max_new_tokens": "new", "n_samples": "ns", "seed": "seed",
    "corpus": "", "tuned": "", "n_examples": "ex", "epochs": "ep", "learning_rate": "lr", "batch_size": "bs",
    "block_size": "block",
}
MAX_STEM = 140  # characters of a file name before its extension
PROMPT_CHARS = 32  # of the prompt in a file name
MODEL_CHARS = 24
EXPORT_DIR_NAME = "lm_demo_exports"
KEEP_SECONDS = 24 * 3600  # export folders older than this are removed (see new_folder)
CLEANUP_CHANCE = 0.02  # share of new_folder calls that also remove old folders
_TIME_FMT = "%Y-%m-%dT%H%M"
# Tab ids in settings -> the locale key of the tab's title (for messages).
TAB_TITLES = {"next_token": "nt.tab", "decoding": "dec.tab", "compare": "cmp.tab", "training": "train.tab",
              "trials": "cmp.trials.title"}


# --------------------------------------------------------------------------- settings
def now_iso() -> str:
    """Local time to the second, ISO 8601 (``2026-11-23T21:30:05``)."""
    return datetime.now().replace(microsecond=0).isoformat()


def make_settings(tab: str, *, model: str | None = None, prompt: str | None = None,
                  params: Mapping[str, Any] | None = None, model_used: str | None = None,
                  created: str | None = None) -> dict[str, Any]:
    """The settings of one run of a tab, ready for ``file_stem``, ``write_csv`` and ``settings_json``.

    ``model_used`` is recorded only when it differs from ``model`` (an offline
    fallback).  Numbers are made JSON-friendly (an integral float stays a
    float; NaN/inf become None).
    """
    out: dict[str, Any] = {"app": APP, "version": __version__, "tab": tab, "created": created or now_iso()}
    if model is not None:
        out["model"] = model
    if model_used and model_used != model:
        out["model_used"] = model_used
    if prompt is not None:
        out["prompt"] = prompt
    out["params"] = {str(k): json_safe(v) for k, v in (params or {}).items()}
    return out


def model_names(loaded: Any) -> dict[str, str | None]:
    """``model`` (asked for) and ``model_used`` (the bundled model after an offline fallback) of a
    ``models.LoadedModel``, as keyword arguments for ``make_settings``."""
    used = None
    if getattr(loaded, "source", None) == "fallback":
        used = Path(str(loaded.resolved)).name
    return {"model": getattr(loaded, "name", None), "model_used": used}


def json_safe(v: Any) -> Any:
    """``v`` as strict JSON data: NaN/inf to None, tuples and sets to lists, mappings to dicts with
    text keys, numpy/torch scalars to Python numbers, anything else to its text.

    Used for export settings and for checkpoint metadata (``checkpoints.save_checkpoint``).
    """
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if v is None or isinstance(v, (str, int, bool)):
        return v
    if isinstance(v, Mapping):
        return {str(k): json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set)):
        return [json_safe(x) for x in v]
    if callable(getattr(v, "item", None)):  # numpy / torch scalars
        try:
            return json_safe(v.item())
        except Exception:  # noqa: BLE001 - not a scalar: fall back to its text
            pass
    return str(v)


# --------------------------------------------------------------------------- file names
def fold(text: Any, max_len: int | None = None) -> str:
    """``text`` as a file-name word: lowercase ASCII letters and digits joined by ``-``.

    Accents are folded (``"Había una vez"`` -> ``"habia-una-vez"``); anything
    else, path separators, dots and emoji included, becomes a single ``-``
    (``"../../etc"`` -> ``"etc"``).  May return "".
    """
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")
    if max_len is not None and len(s) > max_len:
        cut = s[:max_len + 1]
        word_end = cut.rfind("-")  # end on a whole word when one is long enough
        s = cut[:word_end] if word_end > max_len // 2 else s[:max_len]
        s = s.rstrip("-")
    return s


def _num(v: Any) -> str:
    """A number as a file-name word (``0.8``, ``40``, ``5e-05``, ``-1``)."""
    if isinstance(v, bool):
        return "1" if v else "0"
    text = format(v, "g") if isinstance(v, float) else str(v)
    return re.sub(r"[^A-Za-z0-9.+-]", "", text)[:20]


def _timestamp(created: Any) -> str:
    try:
        return datetime.fromisoformat(str(created)).strftime(_TIME_FMT)
    except (TypeError, ValueError):
        return datetime.now().strftime(_TIME_FMT)


def file_stem(settings: Mapping[str, Any], name: str, *, max_len: int = MAX_STEM) -> str:
    """A safe file name (no extension) for an export of ``settings``.

    ``<name>_<model>_<prompt>_<T0.8_k40_...>_<2026-11-23T2130>``: ``name``
    says what the file is (``siguiente-token``), then the model, the start of
    the prompt, the parameters listed in ``ABBREV`` (in the settings' order)
    and the settings' creation time.  Only ``[A-Za-z0-9._-]``, never starts
    with a dot, at most ``max_len`` characters (the timestamp is kept).
    """
    parts = [fold(name, 40) or APP]
    model = settings.get("model_used") or settings.get("model")
    if model:
        parts.append(fold(str(model).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1], MODEL_CHARS))
    if settings.get("prompt"):
        parts.append(fold(settings["prompt"], PROMPT_CHARS))
    for key, value in (settings.get("params") or {}).items():
        if key not in ABBREV or value is None or isinstance(value, (list, dict)):
            continue
        word = fold(value, 20) if isinstance(value, str) else _num(value)
        if word:
            parts.append(f"{ABBREV[key]}{word}")
    stamp = _timestamp(settings.get("created"))
    body = "_".join(p for p in parts if p)
    room = max(1, max_len - len(stamp) - 1)
    if len(body) > room:
        body = body[:room].rstrip("-._")
    stem = f"{body}_{stamp}" if body else stamp
    return stem.lstrip(".-_") or APP


def new_folder(prefix: str = "export_") -> Path:
    """A fresh folder for one call's files, under the system temp dir (Gradio serves files from there).

    Folders of earlier calls older than ``KEEP_SECONDS`` are removed, on
    about one call in ``1 / CLEANUP_CHANCE``: every call makes a folder, and
    scanning them all on each call grew with a class's use (no state kept).
    """
    base = Path(tempfile.gettempdir()) / EXPORT_DIR_NAME
    base.mkdir(parents=True, exist_ok=True)
    if random.random() < CLEANUP_CHANCE:
        remove_old_folders(base)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def remove_old_folders(base: Path) -> None:
    """Delete export folders under ``base`` older than ``KEEP_SECONDS``."""
    cutoff = time.time() - KEEP_SECONDS
    for old in base.iterdir():
        try:
            if old.is_dir() and old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


# --------------------------------------------------------------------------- CSV
def header_lines(settings: Mapping[str, Any]) -> list[str]:
    """``# key: value`` lines (values as JSON), top-level keys first, then each parameter."""
    lines = []
    for key, value in settings.items():
        if key == "params":
            continue
        lines.append(f"# {key}: {json.dumps(json_safe(value), ensure_ascii=False)}")
    for key, value in (settings.get("params") or {}).items():
        lines.append(f"# {key}: {json.dumps(json_safe(value), ensure_ascii=False)}")
    return lines


def write_csv(frame: Any, path: str | Path, settings: Mapping[str, Any]) -> Path:
    """Write ``frame`` (a pandas DataFrame) to ``path`` as UTF-8 CSV after a settings header.

    Text cells are quoted, so a ``#`` inside a token never reads as a comment
    with ``pandas.read_csv(path, comment="#")``.
    """
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as f:
        for line in header_lines(settings):
            f.write(line + "\n")
        frame.to_csv(f, index=False, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return path


def table_file(frame: Any, settings: Mapping[str, Any], name: str, folder: str | Path | None = None) -> Path:
    """Write ``frame`` as ``<file_stem>.csv`` in ``folder`` (a new export folder by default)."""
    folder = Path(folder) if folder is not None else new_folder()
    return write_csv(frame, folder / f"{file_stem(settings, name)}.csv", settings)


def read_csv_settings(path: str | Path) -> dict[str, Any]:
    """The settings dict written in the header of a CSV by ``write_csv``."""
    out: dict[str, Any] = {}
    params: dict[str, Any] = {}
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            key, sep, raw = line[1:].strip().partition(": ")
            if not sep:
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
            (out if key in META_KEYS else params)[key] = value
    out["params"] = params
    return out


# --------------------------------------------------------------------------- JSON
def settings_json(settings: Mapping[str, Any]) -> str:
    """Pretty JSON of ``settings`` (UTF-8 text kept readable), for the "copy settings" box."""
    return json.dumps(json_safe(dict(settings)), ensure_ascii=False, indent=2)


def parse_settings(text: str | None, tab: str, allowed: Iterable[str]) -> dict[str, Any]:
    """Settings pasted by a teacher, validated for ``tab``: ``{key: value}`` of the keys present.

    ``allowed`` are the keys the tab can set: ``"model"``, ``"prompt"`` and
    parameter names.  Accepts the full settings (``params`` nested) or a
    flat object.  Raises ``UserError`` for empty or invalid JSON, settings of
    another tab, or unknown keys.
    """
    allowed = list(allowed)
    if not text or not str(text).strip():
        raise UserError("exp.err.empty")
    try:
        data = json.loads(text)
    except ValueError as e:
        line, col = getattr(e, "lineno", "?"), getattr(e, "colno", "?")
        raise UserError("exp.err.invalid_json", line=line, col=col) from None
    if not isinstance(data, dict):
        raise UserError("exp.err.not_object")
    other = data.get("tab")
    if other is not None and other != tab:
        raise UserError("exp.err.wrong_tab", tab=_tab_title(other), expected=_tab_title(tab))
    flat: dict[str, Any] = {}
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise UserError("exp.err.not_object")
    for key, value in data.items():
        if key in ("params", "app", "version", "tab", "created", "model_used"):
            continue
        flat[key] = value
    flat.update(params)
    unknown = [k for k in flat if k not in allowed]
    if unknown:
        raise UserError("exp.err.unknown_keys", keys=", ".join(sorted(unknown)), allowed=", ".join(allowed))
    return {k: flat[k] for k in allowed if k in flat}


def _tab_title(tab: Any) -> str:
    from lm_demo.locales import t

    key = TAB_TITLES.get(str(tab))
    return t(key) if key else str(tab)[:40]


def coerce_number(value: Any, key: str, *, lo: float | None = None, hi: float | None = None,
                  integer: bool = False) -> int | float:
    """A pasted value as a number in [lo, hi]; ``UserError('exp.err.bad_value')`` if it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError("exp.err.bad_value", field=key, value=json.dumps(value, ensure_ascii=False)[:60])
    try:
        x = float(value)
    except ValueError:
        raise UserError("exp.err.bad_value", field=key, value=str(value)[:60]) from None
    if not math.isfinite(x):
        raise UserError("exp.err.bad_value", field=key, value=str(value)[:60])
    if lo is not None:
        x = max(x, lo)
    if hi is not None:
        x = min(x, hi)
    return int(round(x)) if integer else x
