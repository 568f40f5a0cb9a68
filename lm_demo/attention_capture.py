"""Attention weights out of a model that computes attention with PyTorch's SDPA.

Why this exists: transformers 5 loads GPT-2 (and most recent architectures)
with ``attn_implementation="sdpa"``, whose fused kernel never materialises the
attention matrix, so ``output_attentions=True`` returns nothing; the usual fix,
``attn_implementation="eager"``, changes the arithmetic of every forward of a
model that all tabs share (slower decoding, and the "Dentro del modelo" lens
would no longer match "Siguiente token" to the last bit).

So an SDPA model gets, once, an attention function registered under
``"lm_demo_sdpa"`` (transformers' ``AttentionInterface``, with SDPA's own mask
function): it calls ``sdpa_attention_forward`` exactly as before, and only
inside ``recording()`` it also returns the weights, computed from the same
query, key and mask as ``softmax(q·kᵀ·scale + mask)`` (eager attention's
formula).  The model's outputs are therefore bitwise those of plain SDPA, with
or without recording; other requests, running in other threads or contexts,
never pay for the weights (a context variable says who records).

Architectures with their own attention code (GPT-Neo computes eager attention
itself) return weights with ``output_attentions=True`` and need nothing.
"""

from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from typing import Any, Iterator

NAME = "lm_demo_sdpa"
_RECORDING: contextvars.ContextVar[bool] = contextvars.ContextVar("lm_demo_record_attention", default=False)
_LOCK = threading.Lock()
_registered = False


def _weights(module: Any, query: Any, key: Any, attention_mask: Any, scaling: float | None) -> Any:
    """``softmax(q·kᵀ·scale + mask)`` in float32, shaped (batch, heads, q_len, kv_len)."""
    import torch

    n_rep = query.shape[1] // key.shape[1]
    if n_rep > 1:  # grouped-query attention: each key head serves n_rep query heads
        key = key.repeat_interleave(n_rep, dim=1)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    scores = torch.matmul(query.float(), key.float().transpose(-1, -2)) * scale
    q_len, kv_len = scores.shape[-2:]
    if attention_mask is None:  # SDPA's is_causal: query i sees keys up to i (aligned at the end)
        if getattr(module, "is_causal", True) and q_len > 1:
            allowed = torch.ones(q_len, kv_len, dtype=torch.bool, device=scores.device).tril(kv_len - q_len)
            scores = scores.masked_fill(~allowed, float("-inf"))
    elif attention_mask.dtype == torch.bool:
        scores = scores.masked_fill(~attention_mask[..., :kv_len], float("-inf"))
    else:
        scores = scores + attention_mask[..., :kv_len].float()
    return torch.softmax(scores, dim=-1)


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any) -> tuple[Any, Any]:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    out, _ = sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
    if not _RECORDING.get():
        return out, None
    return out, _weights(module, query, key, attention_mask, kwargs.get("scaling"))


def _register() -> None:
    global _registered
    if _registered:
        return
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, _attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)  # the very masks SDPA gets
    _registered = True


def prepare(model: Any) -> None:
    """Let ``model`` return attention weights inside ``recording()`` (idempotent, thread-safe).

    Only an SDPA model whose class uses transformers' attention interface is
    switched; any other is left as it is (eager models and GPT-Neo already
    return weights; others may return none, which callers report).
    """
    config = getattr(model, "config", None)
    if config is None or getattr(config, "_attn_implementation", None) != "sdpa":
        return
    with _LOCK:
        if config._attn_implementation != "sdpa":
            return
        try:
            can_set = bool(type(model)._can_set_attn_implementation())
        except Exception:  # noqa: BLE001 - a private helper of transformers: no answer means no
            can_set = False
        if not can_set:
            return
        _register()
        model.set_attn_implementation(NAME)


@contextmanager
def recording() -> Iterator[None]:
    """Inside this block (this thread/context only), a prepared model returns its attention weights."""
    token = _RECORDING.set(True)
    try:
        yield
    finally:
        _RECORDING.reset(token)
