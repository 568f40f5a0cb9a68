"""What an operator sets in the environment: the one module that reads ``LM_DEMO_*`` (and ``SPACE_ID``,
``HF_HUB_OFFLINE``).

Why one place: a reader finds every setting here, with how it is read, and
README's "Variables de entorno" lists the same names (``tests/test_env.py``
checks both ways).  Why these readers: a Space operator's typo
(``LM_DEMO_MAX_MODELS=tres``, ``LM_DEMO_MAX_TRAIN_MINUTES=inf``) must leave the
default in force, never stop the app from starting or lift a cap.

Each setting is read when asked (never cached at import), so a test or the
CLI (``--data-dir``, ``--max-minutes``...) can set it first.  What a value
means (the caps on a Space, where the data folder is found...) stays with the
module that uses it; here is only how the text becomes a value.
"""

from __future__ import annotations

import math
import os

#: Every ``LM_DEMO_*`` variable the app reads, each through one function below.
VARIABLES = (
    "LM_DEMO_MODEL", "LM_DEMO_TRAIN_MODEL", "LM_DEMO_CHECKPOINTS", "LM_DEMO_DATA_DIR", "LM_DEMO_MAX_MODELS",
    "LM_DEMO_SESSION_IDLE_MINUTES", "LM_DEMO_ADMIN_TOKEN", "LM_DEMO_ALLOW_TRAINING", "LM_DEMO_TRAIN_THREADS",
    "LM_DEMO_TRAIN_NICE", "LM_DEMO_MAX_TRAIN_MINUTES", "LM_DEMO_MAX_TRAIN_STEPS", "LM_DEMO_MAX_TRAIN_EPOCHS",
    "LM_DEMO_MAX_KEPT_RUNS", "LM_DEMO_MAX_CORPUS_MB", "LM_DEMO_MAX_CORPUS_ROWS", "LM_DEMO_CPU_BF16",
    "LM_DEMO_CPU_AUTOTUNE", "LM_DEMO_LENS_DTYPE",
)
CPU_BF16 = "LM_DEMO_CPU_BF16"
CPU_AUTOTUNE = "LM_DEMO_CPU_AUTOTUNE"


# --------------------------------------------------------------------------- readers
def env_text(name: str) -> str:
    """``$name`` without surrounding blanks ("" when unset)."""
    return os.environ.get(name, "").strip()


def env_number(name: str, default: float | None = None, *, zero_ok: bool = False) -> float | None:
    """The finite number in ``$name`` (above 0; 0 too with ``zero_ok``), else ``default``."""
    raw = env_text(name)
    try:
        value = float(raw)
    except ValueError:
        return default
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        return default
    return value


def env_flag(name: str, default: bool = False) -> bool:
    """``$name`` as a switch: 1/true/yes/on is on, any other value off, unset (or blank) ``default``."""
    v = env_text(name).lower()
    return default if not v else v in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------- models
def model() -> str:
    """``LM_DEMO_MODEL`` (``app.py --model``): the inference tabs' default model; "" for the built-in one."""
    return os.environ.get("LM_DEMO_MODEL") or ""


def train_model() -> str:
    """``LM_DEMO_TRAIN_MODEL``: the training tab's default base model; "" for the built-in choice."""
    return env_text("LM_DEMO_TRAIN_MODEL")


def checkpoints_dir() -> str:
    """``LM_DEMO_CHECKPOINTS``: the checkpoints folder; "" for the repository's ``checkpoints/``."""
    return os.environ.get("LM_DEMO_CHECKPOINTS", "")


def max_models(default: int = 3) -> int:
    """``LM_DEMO_MAX_MODELS``: models held in memory at once."""
    return int(env_number("LM_DEMO_MAX_MODELS", default) or default)


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (huggingface_hub's own switch): 1/true/yes/on means no hub."""
    return env_text("HF_HUB_OFFLINE").lower() in ("1", "true", "yes", "on")


def cpu_bf16() -> bool:
    """``LM_DEMO_CPU_BF16=1`` (``app.py --cpu-bf16``): the reduced-precision CPU kernels; off by default."""
    return env_flag(CPU_BF16)


def cpu_autotune() -> bool:
    """``LM_DEMO_CPU_AUTOTUNE=0`` keeps the fixed kernel rule (for comparisons); on by default."""
    return env_flag(CPU_AUTOTUNE, default=True)


def lens_dtype() -> str:
    """``LM_DEMO_LENS_DTYPE`` (lower case): the logit lens scan's forced precision, "" to measure."""
    return env_text("LM_DEMO_LENS_DTYPE").lower()


# --------------------------------------------------------------------------- data
def data_dir() -> str:
    """``LM_DEMO_DATA_DIR`` (``--data-dir``): the local corpora folder; "" for ``../shared/data``."""
    return env_text("LM_DEMO_DATA_DIR")


def max_corpus_mb() -> float | None:
    """``LM_DEMO_MAX_CORPUS_MB``: a larger text limit for one corpus (None: the default)."""
    return env_number("LM_DEMO_MAX_CORPUS_MB")


def max_corpus_rows() -> float | None:
    """``LM_DEMO_MAX_CORPUS_ROWS``: a larger row limit for one corpus (None: the default)."""
    return env_number("LM_DEMO_MAX_CORPUS_ROWS")


# --------------------------------------------------------------------------- training and the Space
def on_space() -> bool:
    """Whether the app runs on Hugging Face Spaces (which sets ``SPACE_ID``)."""
    return bool(env_text("SPACE_ID"))


def training_allowed() -> bool:
    """False when ``LM_DEMO_ALLOW_TRAINING`` is 0/false/no/off (public Spaces)."""
    return os.environ.get("LM_DEMO_ALLOW_TRAINING", "1").strip().lower() not in ("0", "false", "no", "off")


def train_threads() -> int | None:
    """``LM_DEMO_TRAIN_THREADS``: threads of a background training job (None: the default)."""
    raw = env_text("LM_DEMO_TRAIN_THREADS")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def train_nice() -> int | None:
    """``LM_DEMO_TRAIN_NICE``: the training thread's nice value (0 turns it off; None: the default)."""
    raw = env_text("LM_DEMO_TRAIN_NICE")
    return int(raw) if raw.lstrip("-").isdigit() else None


def max_train_minutes() -> float | None:
    """``LM_DEMO_MAX_TRAIN_MINUTES``: a job's time cap (0 = none; None: the default)."""
    return env_number("LM_DEMO_MAX_TRAIN_MINUTES", zero_ok=True)


def max_train_steps() -> float | None:
    """``LM_DEMO_MAX_TRAIN_STEPS``: a job's step cap (0 = none; None: the default)."""
    return env_number("LM_DEMO_MAX_TRAIN_STEPS", zero_ok=True)


def max_train_epochs() -> float | None:
    """``LM_DEMO_MAX_TRAIN_EPOCHS``: a job's epoch cap (0 = none; None: the default)."""
    return env_number("LM_DEMO_MAX_TRAIN_EPOCHS", zero_ok=True)


def max_kept_runs() -> float | None:
    """``LM_DEMO_MAX_KEPT_RUNS``: interrupted runs kept on disk (0 = all; None: the default)."""
    return env_number("LM_DEMO_MAX_KEPT_RUNS", zero_ok=True)


def session_idle_minutes(default: float = 60.0) -> float:
    """``LM_DEMO_SESSION_IDLE_MINUTES``: minutes without a request after which a session is dropped."""
    return float(env_number("LM_DEMO_SESSION_IDLE_MINUTES", default) or default)


def admin_token() -> str:
    """``LM_DEMO_ADMIN_TOKEN``: the operator's token ("" when unset)."""
    return env_text("LM_DEMO_ADMIN_TOKEN")


__all__ = ["VARIABLES", "env_text", "env_number", "env_flag", "model", "train_model", "checkpoints_dir",
           "max_models", "hub_offline", "cpu_bf16", "cpu_autotune", "lens_dtype", "data_dir", "max_corpus_mb",
           "max_corpus_rows", "on_space", "training_allowed", "train_threads", "train_nice", "max_train_minutes",
           "max_train_steps", "max_train_epochs", "max_kept_runs", "session_idle_minutes", "admin_token"]
