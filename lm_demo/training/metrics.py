"""The training's numbers: evaluation loss and perplexity, read in one place.

Why one place: ``Trainer.evaluate`` in transformers 5.23 divides GPT-2's summed
loss by every label, while a language model predicts one token fewer per
block (perplexity ~3 % low on 128-token blocks).  The runner's Trainer comes
from ``lm_demo.training.exact_eval``, whose evaluation follows the app's one
perplexity convention (``lm_demo.perplexity``: each block on its own, first
token context); every evaluation number the runner posts, saves or prints is
read from its metrics through ``eval_loss_of``.
"""

from __future__ import annotations

import math
from typing import Any


def finite_float(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, not a number, NaN or infinite (JSON-safe metrics)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def perplexity(loss: float | None) -> float | None:
    """exp(loss), capped so a diverged run shows a huge number, not an overflow."""
    if loss is None or not math.isfinite(loss):
        return None
    return math.exp(min(loss, 50.0))


def eval_loss_of(metrics: dict | None) -> float | None:
    """The evaluation loss (mean natural-log loss per token) from ``Trainer.evaluate``'s metrics."""
    return finite_float((metrics or {}).get("eval_loss"))


__all__ = ["finite_float", "perplexity", "eval_loss_of"]
