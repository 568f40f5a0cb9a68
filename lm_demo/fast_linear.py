"""CPU inference: linear layers that stay fast for a handful of rows.

Why this exists: the tabs run the model on few rows at a time — one row per
decoder while decoding (1 to 8), a 10-50 token prompt for "Siguiente token".
With MKL's sgemm on the machines this project runs on (2-core AMD EPYC, the
same class as a free Hugging Face Space) ``x @ W`` for such thin ``x`` is
badly served: measured for a 768x3072 GPT-2 layer, 3 rows cost 2-10x one row
and 20 rows 3.6 ms, while the same product computed transposed,
``(W_t @ x^T)^T`` with ``W_t`` stored (out, in), costs 1.1 ms and 1.7 ms.
Batching the side-by-side decoders only pays when the batch is cheap, so this
is what makes one batched step cost about one decoder's step
(``bench/decoding.py``).

``optimize_for_cpu_inference`` swaps GPT-2's ``Conv1D`` and every
``nn.Linear`` (the tied LM head included: it keeps sharing the embedding's
weight) for ``ThinLinear``.  Same parameters, same results up to float
rounding order.  Only for inference copies: a ``Conv1D``'s weight is then
stored transposed (its original kept beside it for one-row calls), so such
a model must never be saved or trained (``models.ModelCache`` never does;
training loads its own copy).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

#: Up to this many rows the transposed product is used; above it, plain
#: ``F.linear`` (measured: the transposed product is still ahead at 128 rows,
#: but long prompts are not latency-critical and a limit keeps memory flat).
MAX_THIN_ROWS = 256


class ThinLinear(nn.Module):
    """``y = x W^T + b`` computed as ``(W x^T)^T`` for 2+ rows (see module docstring).

    ``weight`` is (out_features, in_features), as in ``nn.Linear``.  A
    single row is a matrix-vector product, where MKL is fastest with the
    weight laid out (in, out) — GPT-2's ``Conv1D`` layout, measured 0.91 ms
    vs 1.22 ms for a 768x3072 layer — so a layer that came from a ``Conv1D``
    keeps that original tensor as ``weight_in_out`` for one-row calls (one
    decoder, or decoders that stopped).  That costs a second copy of those
    weights: +340 MB for GPT-2-small, nothing worth mentioning for the bundled
    model.
    """

    def __init__(self, weight: nn.Parameter, bias: nn.Parameter | None,
                 weight_in_out: torch.Tensor | None = None, replaces: nn.Module | None = None) -> None:
        super().__init__()
        # Printed as the layer it replaces, so ``print(model)`` (the "Modelo"
        # panel) still shows the architecture as the class knows it.
        self._shown_name = replaces._get_name() if replaces is not None else "ThinLinear"
        self._shown_repr = replaces.extra_repr() if replaces is not None else ""
        self.weight = weight
        self.bias = bias
        self.weight_in_out = weight_in_out
        self.in_features = weight.shape[1]
        self.out_features = weight.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        rows = x2.shape[0]
        w, b = self.weight, self.bias
        if x2.dtype != w.dtype or rows > MAX_THIN_ROWS or rows == 0 or (rows == 1 and self.weight_in_out is None):
            y = nn.functional.linear(x2, w, b)
        elif rows == 1:
            y = torch.mm(x2, self.weight_in_out) if b is None else torch.addmm(b, x2, self.weight_in_out)
        else:
            y = torch.mm(w, x2.t()) if b is None else torch.addmm(b[:, None], w, x2.t())
            y = y.t().contiguous()
        return y.reshape(*lead, self.out_features)

    def _get_name(self) -> str:
        return self._shown_name

    def extra_repr(self) -> str:
        return self._shown_repr or (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}")


def optimize_for_cpu_inference(model: nn.Module) -> int:
    """Swap thin-batch-unfriendly layers for ``ThinLinear`` in place; returns how many.

    A no-op (returns 0) for a model that is not on the CPU: cuBLAS has no
    such problem and the swap would only cost memory traffic.
    """
    from transformers.pytorch_utils import Conv1D

    try:
        device = next(model.parameters()).device
    except StopIteration:
        return 0
    if device.type != "cpu":
        return 0
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                # Conv1D stores (in, out): add an (out, in) copy, keep the original for one row.
                weight = nn.Parameter(child.weight.detach().t().contiguous(), requires_grad=False)
                setattr(parent, name, ThinLinear(weight, child.bias, child.weight.detach(), child))
                swapped += 1
            elif type(child) is nn.Linear:
                setattr(parent, name, ThinLinear(child.weight, child.bias, None, child))
                swapped += 1
    model._lm_demo_thin_linear = True  # noqa: SLF001 - marks an inference-only copy
    return swapped


def is_optimized(model: Any) -> bool:
    """Whether ``optimize_for_cpu_inference`` ran on ``model`` (never save such a model)."""
    return bool(getattr(model, "_lm_demo_thin_linear", False))
