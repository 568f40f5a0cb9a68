"""CPU inference: linear layers that run, per row count, the kernel measured fastest here.

Why this exists: the tabs run the model on few rows at a time — one row per
decoder while decoding (1 to 8), a 10-50 token prompt for "Siguiente token" —
and how well a BLAS serves such thin products differs from CPU to CPU (see
``lm_demo.cpu_kernels``).  Batching the side-by-side decoders only pays when
a batch of 3 costs about one row, so this is what makes one batched step cost
about one decoder's step (``bench/decoding.py``, ``batch3_vs_single``).

``optimize_for_cpu_inference`` swaps GPT-2's ``Conv1D`` and every
``nn.Linear`` (the tied LM head included: it keeps sharing the embedding's
weight) for ``ThinLinear``, then times the candidate kernels per weight shape
and row case (``cpu_kernels.tune_shape``, cached per process) and installs the
fastest in each layer.  Same parameters, same results up to float rounding
order (in fp32).  The choice is logged and kept on the model
(``kernel_report``) for the "Modelo" panel.

The reduced-precision mode (``LM_DEMO_CPU_BF16=1``, ``app.py --cpu-bf16``;
off by default) lets the tuner also pick bfloat16 kernels where oneDNN has
them and they are faster; the largest probability difference against fp32 on
a fixed prompt is then measured at load and reported.

Only for inference copies: a layer may hold its weight in other layouts
(transposed, packed, bf16) beside the parameter, so such a model must never be
saved or trained (``models.ModelCache`` never does; training loads its own copy).
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import torch
from torch import nn

from lm_demo import cpu_kernels as ck
from lm_demo import env
from lm_demo.cpu_host import KernelReport, host_report
from lm_demo.cpu_kernels import KERNELS, MAX_THIN_ROWS, ROW_CASES

log = logging.getLogger("lm_demo.fast_linear")

#: The fixed prompt whose next-token distributions compare bf16 with fp32 at load.
PROB_DIFF_PROMPT = "Había una vez una niña que vivía en un pueblo junto al mar"
_FEW_HI = ROW_CASES[1].hi
_CONTIGUOUS_INPUT = {"mkl-packed", "oneDNN", "oneDNN-bf16"}

__all__ = ["MAX_THIN_ROWS", "ThinLinear", "optimize_for_cpu_inference", "is_optimized", "kernel_report"]


class ThinLinear(nn.Module):
    """``y = x W^T + b`` with one kernel per row case (1, 2-8, 9-256 rows; above: ``F.linear``).

    ``weight`` is (out_features, in_features), as in ``nn.Linear``.  A layer
    that came from a ``Conv1D`` keeps that original (in, out) tensor as
    ``weight_in_out`` while a kernel may want it (``x@W``).  Until
    ``install`` is called the fixed rule measured on a 2-core AMD EPYC (AVX2)
    applies: ``x@W`` for one row when the (in, out) tensor exists, else
    ``F.linear``; ``W·xᵀ`` for 2-256 rows.
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
        #: Whether the installed kernels are used; False: plain fp32 ``F.linear`` (the bf16 check).
        self.use_kernels = True
        one = "x@W" if weight_in_out is not None else "F.linear"
        self.kernels: tuple[str, ...] = (one, "W·xᵀ", "W·xᵀ")  # per row case, shown in the panel
        self._routes = self._routes_for({})

    def _route(self, name: str, layouts: dict[str, torch.Tensor], rows: int) -> tuple[Any, torch.Tensor, Any, bool]:
        """(run, weight in the kernel's layout, bias as it wants it, needs a contiguous input).

        ``layouts`` holds the layouts prepared so far (shared between row cases);
        ``rows`` is the row count a packed layout is prepared for.
        """
        k = KERNELS[name]
        if k.layout not in layouts:
            wio = None if self.weight_in_out is None else self.weight_in_out.detach()
            layouts[k.layout] = ck.prepare(k.layout, self.weight.detach(), wio, rows)
        b = None if self.bias is None else ck.prepare_bias(k, self.bias.detach())
        return k.run, layouts[k.layout], b, name in _CONTIGUOUS_INPUT

    def _routes_for(self, layouts: dict[str, torch.Tensor]) -> tuple:
        return tuple(self._route(n, layouts, c.timed_at) for n, c in zip(self.kernels, ROW_CASES))

    def install(self, kernels: tuple[str, str, str]) -> None:
        """Use ``kernels`` (names from ``cpu_kernels.KERNELS``) for the row cases 1, 2-8 and 9-256.

        Weight layouts are prepared once and shared between cases; the (in, out)
        copy is dropped when no case uses it.
        """
        with torch.no_grad():
            self.kernels = tuple(kernels)
            layouts: dict[str, torch.Tensor] = {}
            self._routes = self._routes_for(layouts)
            if "io" not in layouts:
                self.weight_in_out = None

    def __deepcopy__(self, memo: dict) -> "ThinLinear":
        """A copy (``copy.deepcopy(model)`` in a notebook) prepares its own layouts: packed and oneDNN
        tensors are opaque and cannot be copied, and a copy must not share them with its original."""
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        state = {k: v for k, v in self.__dict__.items() if k != "_routes"}
        new.__dict__.update(copy.deepcopy(state, memo))
        with torch.no_grad():
            new._routes = new._routes_for({})
        return new

    def copy_bytes(self) -> int:
        """Bytes of weight copies held beside the parameter (transposed, packed, bf16 layouts)."""
        seen, total = {_storage_key(self.weight)}, 0
        tensors = [r[1] for r in self._routes] + [self.weight_in_out]
        for t in tensors:
            for part in t if isinstance(t, tuple) else (t,):
                if part is not None and _storage_key(part) not in seen:
                    seen.add(_storage_key(part))
                    total += part.numel() * part.element_size()
        return total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        rows = x2.shape[0]
        if not self.use_kernels or rows == 0 or rows > MAX_THIN_ROWS or x2.dtype != torch.float32 \
                or x2.requires_grad:  # a gradient through the input (saliency): packed kernels have none
            y = nn.functional.linear(x2, self.weight, self.bias)
        else:
            run, w, b, contiguous = self._routes[0 if rows == 1 else 1 if rows <= _FEW_HI else 2]
            y = run(x2.contiguous() if contiguous else x2, w, b)
        return y.reshape(*lead, self.out_features)

    def _get_name(self) -> str:
        return self._shown_name

    def extra_repr(self) -> str:
        return self._shown_repr or (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}")


def _storage_key(t: torch.Tensor) -> tuple:
    if t.is_mkldnn:  # opaque: no storage to compare, but never shared with a dense tensor
        return ("mkldnn", id(t))
    return ("dense", t.untyped_storage().data_ptr())


def _swap(model: nn.Module) -> list[ThinLinear]:
    from transformers.pytorch_utils import Conv1D

    layers = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                # Conv1D stores (in, out): add an (out, in) copy as the parameter, keep the original beside it.
                weight = nn.Parameter(child.weight.detach().t().contiguous(), requires_grad=False)
                layer = ThinLinear(weight, child.bias, child.weight.detach(), child)
            elif type(child) is nn.Linear:
                layer = ThinLinear(child.weight, child.bias, None, child)
            else:
                continue
            setattr(parent, name, layer)
            layers.append(layer)
    return layers


def _tune(layers: list[ThinLinear], bf16: bool, report: KernelReport) -> None:
    """Group ``layers`` by weight shape, measure each group once and install its plan.

    Shapes reached after ``cpu_kernels.TUNE_BUDGET_S`` (a busy machine) keep the fixed rule, for the
    rest of the process (``cpu_kernels.tune_shape``).
    """
    groups: dict[tuple, list[ThinLinear]] = {}
    for layer in layers:
        if layer.weight.dtype == torch.float32:
            groups.setdefault((tuple(layer.weight.shape), layer.bias is not None), []).append(layer)
    t0 = time.perf_counter()
    # Biggest first (by the bytes a forward reads): if the budget runs out, what is left matters least.
    for group in sorted(groups.values(), key=lambda g: -len(g) * g[0].weight.numel()):
        with torch.no_grad():
            tensors = [(g.weight.detach(), None if g.weight_in_out is None else g.weight_in_out.detach(),
                        None if g.bias is None else g.bias.detach()) for g in group]
        # With the layers' fixed rule given, a shape past the budget gets that rule, kept for the process.
        plan = ck.tune_shape(tensors, bf16=bf16, deadline=t0 + ck.TUNE_BUDGET_S, fixed=tuple(group[0].kernels))
        assert plan is not None
        kernels = tuple(plan.kernel_for(c.name) for c in ROW_CASES)
        for layer in group:
            if layer.kernels != kernels:  # the fixed rule is already installed: no layouts prepared again
                layer.install(kernels)  # type: ignore[arg-type]
        if not plan.measured:
            report.unmeasured_layers += len(group)
        elif any(KERNELS[k].bf16 for k in kernels):
            report.bf16_layers += len(group)
        report.shapes.append((plan, len(group)))
    report.seconds = time.perf_counter() - t0


def _bf16_prob_diff(model: nn.Module, layers: list[ThinLinear], tokenizer: Any) -> tuple[float, bool]:
    """Largest |p_bf16 - p_fp32| over the vocabulary, and whether the top token always agrees.

    On ``PROB_DIFF_PROMPT`` at every position (the 9-256-row kernels), its first
    token alone (1 row) and its first 3 tokens as 3 one-token rows (2-8 rows).
    """
    ids = tokenizer(PROB_DIFF_PROMPT, add_special_tokens=False)["input_ids"] if tokenizer is not None else []
    ids = (list(ids) or list(range(1, 13)))[:64]
    while len(ids) < 9:
        ids = ids + ids
    prompt = torch.tensor([ids])
    batches = [prompt, prompt[:, :1], prompt[0, :3, None]]

    def probs() -> list[torch.Tensor]:
        with torch.inference_mode():
            return [torch.softmax(model(input_ids=b, use_cache=False).logits.float(), -1) for b in batches]

    low = probs()
    for layer in layers:
        layer.use_kernels = False
    try:
        ref = probs()
    finally:
        for layer in layers:
            layer.use_kernels = True
    diff = max(float((a - b).abs().max()) for a, b in zip(low, ref))
    agree = all(bool((a.argmax(-1) == b.argmax(-1)).all()) for a, b in zip(low, ref))
    return diff, agree


def optimize_for_cpu_inference(model: nn.Module, tokenizer: Any = None, tune: bool | None = None,
                               bf16: bool | None = None) -> int:
    """Swap linear layers for ``ThinLinear`` in place, measure and install kernels; returns how many.

    ``tune`` (default: ``LM_DEMO_CPU_AUTOTUNE``, on) measures the kernels on this
    CPU; off, the fixed rule of ``ThinLinear`` stays.  ``bf16`` (default:
    ``LM_DEMO_CPU_BF16``, off) allows bfloat16 kernels where oneDNN has them;
    ``tokenizer`` then gives the fixed prompt on which the bf16 difference is
    measured.  A no-op (returns 0) for a model that is not on the CPU: cuBLAS
    has no such problem and the swap would only cost memory traffic.
    """
    try:
        device = next(model.parameters()).device
    except StopIteration:
        return 0
    if device.type != "cpu":
        return 0
    tune = env.cpu_autotune() if tune is None else tune
    bf16 = env.cpu_bf16() if bf16 is None else bf16
    report = host_report(tune, bf16)
    layers = _swap(model)
    model._lm_demo_thin_linear = True  # noqa: SLF001 - marks an inference-only copy
    if tune and layers:
        _tune(layers, bf16 and report.bf16_available, report)
        if report.bf16_active:
            report.max_prob_diff, report.top1_agree = _bf16_prob_diff(model, layers, tokenizer)
            report.prob_diff_prompt = PROB_DIFF_PROMPT
    report.copy_bytes = sum(layer.copy_bytes() for layer in layers)
    report.model_bytes = sum(p.numel() * p.element_size() for p in {id(p): p for p in model.parameters()}.values())
    model._lm_demo_kernels = report  # noqa: SLF001
    log.info("fast_linear: %d layers on %s (%s, %d threads), tuned in %.2f s, weight copies %+.0f MB%s%s",
             len(layers), report.cpu, report.capability, report.threads, report.seconds, report.copy_bytes / 2**20,
             f"; bf16 in {report.bf16_layers} layers, max |dp| vs fp32 {report.max_prob_diff:.2e}"
             if report.bf16_active else "",
             f"; bf16 requested but unavailable ({report.bf16_reason})" if bf16 and not report.bf16_available else "")
    return len(layers)


def is_optimized(model: Any) -> bool:
    """Whether ``optimize_for_cpu_inference`` ran on ``model`` (never save such a model)."""
    return bool(getattr(model, "_lm_demo_thin_linear", False))


def kernel_report(model: Any) -> KernelReport | None:
    """What was measured and chosen for ``model`` at load (None: not a CPU inference copy)."""
    return getattr(model, "_lm_demo_kernels", None)
