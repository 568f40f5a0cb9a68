"""The output head applied to many rows at once, reduced to what the logit lens shows: per row, the most
likely tokens with their probabilities.

Why a module: the lens projects every layer at every position onto the whole vocabulary, (layers + 1) ×
tokens rows: for GPT-2-small and a 20-token prompt, 260 × 768 × 50257 multiply-adds, four times the
arithmetic of the model's own forward.  Two things keep it cheap:

- **Chunks with a running max and sum** (an online softmax): the (rows × vocabulary) logits never sit in
  memory whole; each chunk gives its top candidates and its share of the normaliser.
- **Scan in bfloat16 where the CPU does it fast, refine in float32.**  On CPUs with native bf16
  (AVX512-BF16, AMX) a bf16 matrix product is 3-4x faster than fp32 (measured on the 2-core hosts:
  43 vs 155 ms per chunk); elsewhere it is slower, so ``scan_dtype`` measures both once per process and
  picks.  The scan only ranks: the top ``REFINE`` candidates of every row are then recomputed exactly
  in float32 (a gather and a dot product), and their exact terms replace the scanned ones in the
  normaliser.  So the top token and its probability are float32's up to the tail's rounding (~1e-4),
  whatever the scan's precision.

``LM_DEMO_LENS_DTYPE=float32`` (or ``bfloat16``) forces the scan's precision.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

CHUNK = 8192  # vocabulary rows per block
REFINE = 8  # candidates per row recomputed in float32
_probe_lock = threading.Lock()
_scan_dtype: dict[str, Any] = {}
_weights: dict[int, tuple[Any, Any]] = {}  # id(head weight) -> (weak reference to it, its bf16 copy)
_weights_lock = threading.Lock()


@dataclass
class Projection:
    """Per row: the ``k`` most likely token ids and their probabilities (most likely first), and the log
    normaliser (``logsumexp`` of the row's logits)."""

    top_ids: Any  # (rows, k) long
    top_probs: Any  # (rows, k) float32
    lse: Any  # (rows,) float32


def _time(fn: Any, repeats: int = 3) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def scan_dtype(device: Any) -> Any:
    """The dtype the scan runs in on ``device``: bfloat16 where measured clearly faster, else float32."""
    import torch

    from lm_demo import env

    forced = env.lens_dtype()
    if forced in ("float32", "fp32"):
        return torch.float32
    if forced in ("bfloat16", "bf16"):
        return torch.bfloat16
    if torch.device(device).type != "cpu":
        return torch.float32  # a GPU does fp32 fast enough
    with _probe_lock:
        if "cpu" not in _scan_dtype:
            x, w = torch.randn(256, 768), torch.randn(4096, 768)
            xb, wb = x.bfloat16(), w.bfloat16()
            t32 = _time(lambda: torch.mm(x, w.t()))
            t16 = _time(lambda: torch.mm(xb, wb.t()))
            _scan_dtype["cpu"] = torch.bfloat16 if t16 * 1.3 < t32 else torch.float32
        return _scan_dtype["cpu"]


SAMPLE = 32  # every SAMPLE-th vocabulary row estimates a row's largest logit (the bf16 scan's offset)
ALIGN = 16


def _bf16_weight(weight: Any) -> Any:
    """``[weight | 1 | 0…]`` in bfloat16 (the 1 column carries each row's offset), made once per weight
    tensor (keyed by identity: tensors compare element-wise) and dropped with it."""
    import torch

    key = id(weight)
    with _weights_lock:
        entry = _weights.get(key)
        if entry is None or entry[0]() is not weight:
            vocab, width = weight.shape
            pad = (-(width + 1)) % ALIGN
            found = torch.cat([weight.detach().to(torch.bfloat16),
                               torch.ones(vocab, 1, dtype=torch.bfloat16, device=weight.device),
                               torch.zeros(vocab, pad, dtype=torch.bfloat16, device=weight.device)], 1)
            entry = (weakref.ref(weight, lambda _ref, k=key: _weights.pop(k, None)), found)
            _weights[key] = entry
        return entry[1]


def _scan_operands(x: Any, weight: Any, dtype: Any) -> tuple[Any, Any, Any]:
    """(rows, vocabulary, offset per row) for the scan.

    bfloat16 keeps 8 bits of mantissa: a logit near 20 comes out of the product rounded to 0.125, which
    would rank a near-tie at random.  So the scan computes ``x·w - c`` with ``c`` close to the row's
    largest logit (an extra column: the product is accumulated in float32 and rounded once, near 0),
    and adds ``c`` back in float32.
    """
    import torch

    if dtype != torch.bfloat16:
        return x.float(), weight.detach().float(), None
    wa = _bf16_weight(weight)
    width = x.shape[1]
    xb = x.to(torch.bfloat16)
    offset = torch.mm(xb, wa[::SAMPLE, :width].t()).max(dim=-1).values  # bf16, exact as a bf16 value
    xa = torch.cat([xb, -offset[:, None], xb.new_zeros(x.shape[0], wa.shape[1] - width - 1)], 1)
    return xa, wa, offset.float()


def project(x: Any, weight: Any, bias: Any = None, k: int = 5, dtype: Any = None) -> Projection:
    """``softmax(x @ weightᵀ + bias)`` reduced to each row's ``k`` best tokens (``k <= REFINE``).

    ``x``: (rows, width) float32; ``weight``: (vocab, width), on the same device (pass the head's own
    parameter: its bf16 copy is kept); ``dtype``: the scan's (default: ``scan_dtype``).
    """
    import torch

    dtype = dtype or scan_dtype(x.device)
    xs, ws, offset = _scan_operands(x, weight, dtype)
    rows, vocab = x.shape[0], weight.shape[0]
    run_max = torch.full((rows,), float("-inf"), device=x.device)
    run_sum = torch.zeros(rows, device=x.device)
    cand_v, cand_i = [], []
    for v0 in range(0, vocab, CHUNK):
        logits = torch.mm(xs, ws[v0:v0 + CHUNK].t()).float()
        if offset is not None:
            logits += offset[:, None]
        if bias is not None:
            logits += bias[v0:v0 + CHUNK].float()
        v, i = torch.topk(logits, min(REFINE, logits.shape[1]), dim=-1)
        cand_v.append(v)
        cand_i.append(i + v0)
        new_max = torch.maximum(run_max, v[:, 0])
        run_sum = run_sum * torch.exp(run_max - new_max) + logits.sub_(new_max[:, None]).exp_().sum(-1)
        run_max = new_max
    scanned, where = torch.topk(torch.cat(cand_v, 1), min(REFINE, vocab), dim=-1)
    ids = torch.gather(torch.cat(cand_i, 1), 1, where)
    # the candidates again, exactly: a float32 dot product each, then the normaliser with their exact terms
    exact = token_logits(x[:, None, :], weight, bias, ids)
    total = run_sum - torch.exp(scanned - run_max[:, None]).sum(-1) + torch.exp(exact - run_max[:, None]).sum(-1)
    lse = run_max + torch.log(total)
    order = torch.argsort(exact, dim=-1, descending=True)[:, :k]
    best = torch.gather(exact, 1, order)
    return Projection(torch.gather(ids, 1, order), torch.exp(best - lse[:, None]), lse)


def token_logits(x: Any, weight: Any, bias: Any, ids: Any) -> Any:
    """Row ``r``'s float32 logit of token ``ids[r]`` (a dot product each; ``x`` broadcasts over ``ids``)."""
    out = (x.float() * weight.detach()[ids].float()).sum(-1)
    return out if bias is None else out + bias.float()[ids]
