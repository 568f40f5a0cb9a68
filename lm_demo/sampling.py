"""Decoding settings, their documented clamps, and the logits processors they make.

Why one module: the "Siguiente token" tab shows the distribution *after*
temperature/top-k/top-p, and the decoding tab samples from exactly that
distribution, so both must build it the same way.  We use transformers'
own ``LogitsProcessor`` classes, the ones ``generate`` uses.

Clamps (documented, never an error):
- temperature <= 0 (or below ``MIN_TEMPERATURE``) means greedy: the
  distribution becomes one-hot on the argmax.
- top_k <= 0 or >= vocab size means "no top-k"; top_p >= 1 means "no top-p";
  top_p <= 0 keeps only the most likely token.
- repetition_penalty is clamped to [1, 5] (1 = off).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

MIN_TEMPERATURE = 1e-4
MAX_TEMPERATURE = 5.0
MAX_REPETITION_PENALTY = 5.0


def _num(value: Any, default: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(x) else x


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0

    @property
    def greedy(self) -> bool:
        return self.temperature < MIN_TEMPERATURE

    def clamped(self, vocab_size: int) -> "SamplingSettings":
        """The settings inside their valid ranges (see the module docstring)."""
        temp = min(max(_num(self.temperature, 1.0), 0.0), MAX_TEMPERATURE)
        k = _num(self.top_k, 0)
        k = 0 if (math.isinf(k) or k <= 0 or k >= vocab_size) else int(k)
        p = min(max(_num(self.top_p, 1.0), 0.0), 1.0)
        rp = min(max(_num(self.repetition_penalty, 1.0), 1.0), MAX_REPETITION_PENALTY)
        return replace(self, temperature=temp, top_k=k, top_p=p, repetition_penalty=rp)


def build_processors(settings: SamplingSettings) -> Any:
    """A ``LogitsProcessorList`` for already-clamped ``settings`` (greedy excluded).

    Order as in ``generate``: repetition penalty, temperature, top-k, top-p.
    """
    from transformers import (
        LogitsProcessorList,
        RepetitionPenaltyLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    procs = LogitsProcessorList()
    if settings.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(settings.repetition_penalty))
    if not settings.greedy and settings.temperature != 1.0:
        procs.append(TemperatureLogitsWarper(settings.temperature))
    if settings.top_k > 0:
        procs.append(TopKLogitsWarper(settings.top_k))
    if settings.top_p < 1.0:
        if settings.top_p <= 0.0:
            procs.append(TopKLogitsWarper(1))
        else:
            procs.append(TopPLogitsWarper(settings.top_p))
    return procs


def warp_logits(logits: Any, input_ids: Any, settings: SamplingSettings) -> Any:
    """Logits after the processors; for greedy, -inf everywhere but the argmax.

    ``logits`` is (batch, vocab) float; ``input_ids`` (batch, seq) the context
    (the repetition penalty needs it).  Returns a new tensor.
    """
    import torch

    out = build_processors(settings)(input_ids, logits.float().clone())
    if settings.greedy:
        keep = out.argmax(dim=-1, keepdim=True)
        masked = torch.full_like(out, float("-inf"))
        out = masked.scatter(-1, keep, out.gather(-1, keep))
    return out


def entropy_bits(probs: Any) -> float:
    """Shannon entropy in bits of a 1-D probability vector (0·log 0 = 0)."""
    import torch

    p = probs.double()
    nz = p[p > 0]
    return float(-(nz * torch.log2(nz)).sum())
