"""Which models there are and where: hub ids and checkpoint folders, by name.

Why a module of its own: the model picker, loading (``models``), the
comparison tab's checkpoint list and the training runs all ask the same
questions (what may a model be called, where do checkpoints live, which
folders hold one, which of them are safe to load) and must get one answer.
Nothing here loads a model or imports torch.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lm_demo import env
from lm_demo.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_NAME = "gpt2-es-tiny"
HUB_PRESETS = (
    "datificate/gpt2-small-spanish",
    "DeepESP/gpt2-spanish",
    "flax-community/gpt-2-spanish",
    "mrm8488/spanish-gpt2",
    "distilgpt2",
    "EleutherAI/gpt-neo-125M",
)
# A hub id: ``name`` or ``owner/name``; each part letters, digits, ``-``, ``_``, ``.``, neither starting nor
# ending with ``-``/``.``, no ``--`` or ``..`` (the hub's own rules), at most 96 characters.
_HUB_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
_HUB_ID = re.compile(rf"^{_HUB_PART}(?:/{_HUB_PART})?$")
MAX_NAME_BYTES = 255  # a file name's limit on every common file system
# Weights that a load would unpickle (arbitrary code on load): never loaded from a folder.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def is_hub_id(name: str) -> bool:
    """Whether ``name`` is shaped like a hub id (``owner/name`` or ``name``)."""
    return bool(_HUB_ID.match(name)) and "--" not in name and ".." not in name


def shown_name(name: object, limit: int = 80) -> str:
    """``name`` fit for a message: control characters and lone surrogates escaped, cut at ``limit``."""
    text = name if isinstance(name, str) else repr(name)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_model_name(name: object) -> str:
    """``name`` stripped, or ``UserError`` for what no model can be called.

    Why here: names come from the picker, the API and pasted settings, and
    a non-string, a NUL or an over-long name otherwise fails deep in the
    file system or the hub client with an error nobody can read.
    """
    if not isinstance(name, str):
        raise UserError("err.model_name_type", kind=type(name).__name__)
    name = name.strip()
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (from JSON "\ud800")
        raise UserError("err.bad_model_name", name=shown_name(name)) from None
    if size > MAX_NAME_BYTES:
        raise UserError("err.model_name_too_long", n=size, max=MAX_NAME_BYTES)
    if any(not c.isprintable() for c in name):
        raise UserError("err.bad_model_name", name=shown_name(name))
    return name


def checkpoints_dir() -> Path:
    """Where bundled and fine-tuned checkpoints live (``LM_DEMO_CHECKPOINTS`` overrides)."""
    return Path(env.checkpoints_dir() or REPO_ROOT / "checkpoints").resolve()


def bundled_model_path() -> Path:
    """The bundled model always ships in the repo, whatever LM_DEMO_CHECKPOINTS says."""
    return REPO_ROOT / "checkpoints" / BUNDLED_NAME


def list_checkpoints() -> list[str]:
    """Names of loadable checkpoint folders (bundled ones included), newest first."""
    roots = {checkpoints_dir(), bundled_model_path().parent}
    found: dict[str, float] = {}
    for root in roots:
        if not root.is_dir():
            continue
        for d in root.iterdir():
            if d.is_dir() and not d.name.startswith(".") and (d / "config.json").is_file():
                found.setdefault(d.name, (d / "config.json").stat().st_mtime)
    return sorted(found, key=lambda n: (n != BUNDLED_NAME, -found[n]))


def model_choices(selected: str | None = None) -> list[str]:
    """What the model picker offers: local checkpoints first, then hub presets.

    ``selected`` (a picker's starting value, e.g. from ``--model``) comes first when it is not among them.
    """
    choices = list_checkpoints() + [p for p in HUB_PRESETS]
    return choices if not selected or selected in choices else [selected] + choices


def resolve_local(name: str, allow_any_path: bool = False) -> Path | None:
    """A checkpoint folder for ``name``, or None when it should be a hub id.

    From the UI only folders inside ``checkpoints/`` are accepted (no path
    traversal, and no folder elsewhere named like a hub id, such as
    ``docs/model``: transformers would load it as a local folder);
    notebooks and the CLI may pass any folder (``allow_any_path``).
    """
    name = validate_model_name(name)
    roots = (checkpoints_dir(), bundled_model_path().parent)
    for root in roots:
        cand = (root / name).resolve()
        if cand.parent == root and (cand / "config.json").is_file():
            return cand
    p = Path(name).expanduser()
    looks_like_path = name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1
    if looks_like_path or os.path.exists(p) or not is_hub_id(name):
        resolved = p.resolve()
        if not (allow_any_path or resolved.parent in roots):
            if not looks_like_path and not os.path.exists(p):  # not a folder, not a hub id: a typo
                raise UserError("err.unknown_model", name=shown_name(name))
            raise UserError("err.model_path_forbidden", name=shown_name(name))
        if (resolved / "config.json").is_file():
            return resolved
        raise UserError("err.unknown_model", name=shown_name(name))
    return None


def check_safe_folder(folder: Path, name: str) -> None:
    """Refuse a folder whose loading would run code: remote code (``auto_map``) or pickled weights.

    transformers refuses both too (``trust_remote_code=False``, ``weights_only``
    unpickling) but with errors a teacher can't read; this says why at once.
    """
    import json

    for cfg_name in ("config.json", "tokenizer_config.json"):
        try:
            cfg = json.loads((folder / cfg_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(cfg, dict) and (cfg.get("auto_map") or cfg.get("trust_remote_code")):
            raise UserError("err.model_remote_code", name=shown_name(name))
    files = [f.name.lower() for f in folder.iterdir() if f.is_file()]
    if not any(f.endswith(".safetensors") for f in files) and any(f.endswith(PICKLE_SUFFIXES) for f in files):
        raise UserError("err.model_unsafe_format", name=shown_name(name))


__all__ = ["REPO_ROOT", "BUNDLED_NAME", "HUB_PRESETS", "MAX_NAME_BYTES", "PICKLE_SUFFIXES", "is_hub_id", "shown_name",
           "validate_model_name", "checkpoints_dir", "bundled_model_path", "list_checkpoints", "model_choices",
           "resolve_local", "check_safe_folder"]
