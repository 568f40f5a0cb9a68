"""Numbers an operator sets in the environment (caps, limits, cache sizes).

Why one helper: a Space operator's typo (``LM_DEMO_MAX_MODELS=tres``,
``LM_DEMO_MAX_TRAIN_MINUTES=inf``) must leave the default in force, never stop
the app from starting or lift a cap.
"""

from __future__ import annotations

import math
import os


def env_number(name: str, default: float | None = None, *, zero_ok: bool = False) -> float | None:
    """The finite number in ``$name`` (above 0; 0 too with ``zero_ok``), else ``default``."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        return default
    return value


__all__ = ["env_number"]
