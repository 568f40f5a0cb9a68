"""Which matrix-product kernel serves each linear layer fastest on *this* CPU, measured.

Why measure: the fastest way to compute ``y = x W^T + b`` for a handful of
rows differs from host to host.  On a 2-core AMD EPYC (AVX2, MKL) ``x @ W``
with 3 rows cost 2-10x one row and the transposed product ``(W x^T)^T`` fixed
it; on an Intel Xeon (AVX-512, AMX) that fixed choice left three side-by-side
decoders at 2.1x one decoder.  A Hugging Face Space gets whichever CPU it
gets, so no vendor or flag check can decide: ``tune_shape`` times the
candidate kernels on the layers themselves, for the row counts the app uses,
and keeps the fastest.

What is timed: a pass of each candidate over the model's own layers of one
weight shape (up to ``sample_bytes()`` of them, twice the last-level cache,
so a big model's weights come from memory as they do in a forward, while a
small model's stay in cache as they do in a forward; a single weight bigger
than that, the LM head, is timed on its first output rows), rounds interleaved so that a burst of load from other
processes falls on every candidate alike, and each candidate's fastest round
kept (load only ever adds time: on a shared 2-core machine a median still
moved 2-10x between runs, the fastest round far less).  Results are cached per
process and per (shape, rows, precision, threads): a second model of the same
shape (a fine-tuned checkpoint) costs nothing.

Row cases (``ROW_CASES``): 1 row (one decoder; the last position of a
prompt), 2-8 rows (the side-by-side decoders, timed at 3) and 9-256 rows (a
prompt, timed at 20).  Above 256 rows (perplexity of a long text) plain
``F.linear`` is kept: MKL's sgemm is at its best there.

Candidates (each needs a weight *layout*; ``oi`` is the layer's own
(out, in) parameter, any other layout is one more copy of the weights, so a
new copy must buy ``TOLERANCE`` of speed per copy to be chosen):

- ``F.linear``: MKL/oneDNN as PyTorch calls them, weight (out, in).
- ``x@W``: ``addmm(b, x, W_io)`` with the weight (in, out) (GPT-2's ``Conv1D``).
- ``W·xᵀ``: ``(W x^T)^T`` with the weight (out, in): the product transposed.
- ``mkl-packed``: MKL's packed GEMM (``cblas_sgemm_pack``) for exactly 1 row
  (a packed weight is twice the weight's size and only serves its row count).
- ``oneDNN``: oneDNN's linear with the weight reordered (prepacked) once.
- ``bf16`` and ``oneDNN-bf16`` (only in the reduced-precision mode, where
  oneDNN has bf16 on this CPU): weights in bfloat16, input rounded to
  bfloat16, output back to float32.

``torch.compile`` is not a candidate: compiling GPT-2 takes tens of seconds
on 2 cores (README, "Rendimiento"), more than a whole model load.

What the host is (its CPU, oneDNN's bf16, the cache size that sets the
sample) and what the panel reports are ``lm_demo.cpu_host``; swapping a
model's layers for the chosen kernels is ``lm_demo.fast_linear``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch.nn import functional as F

from lm_demo.cpu_host import sample_bytes

log = logging.getLogger("lm_demo.cpu_kernels")


@dataclass(frozen=True)
class RowCase:
    """Calls with ``lo``..``hi`` rows share one kernel, chosen by timing ``timed_at`` rows."""

    name: str
    lo: int
    hi: int
    timed_at: int


ROW_CASES = (RowCase("1", 1, 1, 1), RowCase("2-8", 2, 8, 3), RowCase("9-256", 9, 256, 20))
MAX_THIN_ROWS = ROW_CASES[-1].hi
#: Each new copy of the weights a kernel needs must buy this much speed: a kernel's time is
#: weighed ``1 + (TOLERANCE - 1) * copies`` (an MKL-packed weight counts 2, a bf16 one 0.5).
TOLERANCE = 1.05
#: A model's whole measurement stops after this long (a machine busy with other work);
#: shapes not reached keep the fixed rule and are measured again at the next load.
TUNE_BUDGET_S = 6.0
#: Interleaved timing rounds per case: at least ``MIN_ROUNDS``, then more while the case
#: has taken less than ``CASE_BUDGET_S`` (small shapes get many cheap rounds, big ones few).
MIN_ROUNDS, MAX_ROUNDS, CASE_BUDGET_S = 3, 25, 0.05

# --------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Kernel:
    """One way to compute ``x W^T + b``: the layout it needs and the call that uses it."""

    name: str
    layout: str
    run: Callable[[torch.Tensor, Any, torch.Tensor | None], torch.Tensor]
    exact_rows: bool = False  # only valid for the row count it was prepared for (MKL packing)
    bf16: bool = False
    copy_size: float = 1.0  # the layout's size in weight copies, when it is not the parameter itself


def _linear(x, w, b):
    return F.linear(x, w, b)


def _x_w(x, w_io, b):
    return torch.mm(x, w_io) if b is None else torch.addmm(b, x, w_io)


def _w_xt(x, w, b):
    y = torch.mm(w, x.t()) if b is None else torch.addmm(b[:, None], w, x.t())
    return y.t().contiguous()


def _mkl_packed(x, packed_and_w, b):
    # Packed for exactly ``x.shape[0]`` rows: installed only for the 1-row case (``exact_rows``).
    # ``_mkl_linear`` also takes the original weight (its shape, and its path for other row counts).
    packed, w = packed_and_w
    return torch.ops.mkl._mkl_linear(x, packed, w, b, x.shape[0])


def _onednn(x, packed, b):
    return torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], "")


def _bf16_linear(x, w, b):
    return F.linear(x.to(torch.bfloat16), w, b).float()


def _bf16_onednn(x, packed, b):
    return torch.ops.mkldnn._linear_pointwise(x.to(torch.bfloat16), packed, b, "none", [], "").float()


KERNELS = {
    k.name: k for k in (
        Kernel("F.linear", "oi", _linear, copy_size=0.0),
        Kernel("x@W", "io", _x_w),
        Kernel("W·xᵀ", "oi", _w_xt, copy_size=0.0),
        Kernel("mkl-packed", "mkl", _mkl_packed, exact_rows=True, copy_size=2.0),  # MKL pads to twice the size
        Kernel("oneDNN", "onednn", _onednn),
        Kernel("bf16", "bf16", _bf16_linear, bf16=True, copy_size=0.5),
        Kernel("oneDNN-bf16", "onednn-bf16", _bf16_onednn, bf16=True, copy_size=0.5),
    )
}
DEFAULT_KERNEL = "F.linear"


def prepare(layout: str, w_oi: torch.Tensor, w_io: torch.Tensor | None, rows: int) -> Any:
    """The weight in ``layout`` (``oi`` and an existing ``io`` are not copied)."""
    if layout == "oi":
        return w_oi
    if layout == "io":
        return w_io if w_io is not None else w_oi.t().contiguous()
    if layout == "mkl":  # (packed, the parameter itself): the op needs both
        return torch.ops.mkl._mkl_reorder_linear_weight(w_oi, rows), w_oi
    if layout == "onednn":
        return torch.ops.mkldnn._reorder_linear_weight(w_oi, rows)
    if layout == "bf16":
        return w_oi.to(torch.bfloat16)
    if layout == "onednn-bf16":
        return torch.ops.mkldnn._reorder_linear_weight(w_oi.to(torch.bfloat16), rows)
    raise ValueError(layout)


def prepare_bias(kernel: Kernel, bias: torch.Tensor | None) -> torch.Tensor | None:
    return bias.to(torch.bfloat16) if bias is not None and kernel.bf16 else bias


@functools.lru_cache(maxsize=None)
def available(name: str) -> bool:
    """Whether ``name`` runs in this PyTorch build and agrees with ``F.linear`` on a small case."""
    k = KERNELS[name]
    try:
        g = torch.Generator().manual_seed(0)
        w, b, x = torch.randn(24, 16, generator=g), torch.randn(24, generator=g), torch.randn(3, 16, generator=g)
        with torch.inference_mode():
            y = k.run(x, prepare(k.layout, w, None, 3), prepare_bias(k, b))
            ref = F.linear(x, w, b)
        return y.shape == ref.shape and bool(torch.allclose(y, ref, atol=0.1 if k.bf16 else 1e-4, rtol=0.05))
    except Exception:  # noqa: BLE001 - a missing op or backend
        return False


def candidates(case: RowCase, bf16: bool) -> list[str]:
    """The kernels worth timing for ``case`` (bf16 ones only in the reduced-precision mode)."""
    names = [n for n, k in KERNELS.items() if (bf16 or not k.bf16) and (not k.exact_rows or case.lo == case.hi)]
    return [n for n in names if available(n)]


# --------------------------------------------------------------------------- tuning
@dataclass
class CaseChoice:
    """What was measured for one row case of one weight shape (milliseconds per pass over the sample)."""

    case: str
    rows: int
    chosen: str
    ms: dict[str, float]  # every candidate's fastest round (dropped ones: of the rounds they ran)

    @property
    def chosen_ms(self) -> float | None:
        return self.ms.get(self.chosen)

    @property
    def speedup_vs_default(self) -> float | None:
        base, chosen = self.ms.get(DEFAULT_KERNEL), self.chosen_ms
        return base / chosen if base and chosen else None


@dataclass
class ShapePlan:
    """The kernel chosen per row case for one (in, out) weight shape."""

    in_features: int
    out_features: int
    sample_layers: int
    cases: list[CaseChoice]
    seconds: float  # tuning time (0 when it came from the process cache)
    from_cache: bool = False
    measured: bool = True  # False: the time budget ran out first, the fixed rule stays

    def kernel_for(self, case: str) -> str:
        return next(c.chosen for c in self.cases if c.case == case)

    def layouts(self) -> set[str]:
        return {KERNELS[c.chosen].layout for c in self.cases}

    def describe(self, count: int) -> str:
        """One plain-text line: the kernel and time per row case (``count``: layers of this shape)."""
        return f"kernels {self.in_features}x{self.out_features} (x{count}): " + "  ".join(
            f"{c.case} rows={c.chosen} {_ms(c.chosen_ms)} (F.linear {_ms(c.ms.get(DEFAULT_KERNEL))})"
            for c in self.cases) + ("" if self.measured else "  [not measured: time budget spent]")


_PLANS: dict[tuple, ShapePlan] = {}
_PLANS_LOCK = threading.Lock()


def _time_case(case: RowCase, names: list[str], layers: list[tuple[torch.Tensor, torch.Tensor | None,
               torch.Tensor | None]], layouts: dict[str, list[Any]]) -> dict[str, float]:
    """Fastest ms of each candidate's pass over ``layers`` with ``case.timed_at`` rows, rounds interleaved.

    ``layouts`` keeps the prepared weights between cases (as ``ThinLinear.install`` shares them),
    except MKL's packing, which is for one row count.
    """
    in_features = layers[0][0].shape[1]
    x = torch.randn(case.timed_at, in_features, generator=torch.Generator().manual_seed(0))
    prepared = {}
    for n in names:
        k = KERNELS[n]
        if k.layout not in layouts or k.exact_rows:
            layouts[k.layout] = [prepare(k.layout, w, w_io, case.timed_at) for w, w_io, _ in layers]
        prepared[n] = [(w, prepare_bias(k, b)) for w, (_, _, b) in zip(layouts[k.layout], layers)]
    runs = {n: KERNELS[n].run for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    live = list(names)
    start = time.perf_counter()
    with torch.inference_mode():
        for n in live:  # warm-up: first calls allocate and pick code paths
            for w, b in prepared[n][:2]:
                runs[n](x, w, b)
        for rnd in range(MAX_ROUNDS):
            for n in live:
                run, pairs = runs[n], prepared[n]
                t0 = time.perf_counter()
                for w, b in pairs:
                    run(x, w, b)
                times[n].append((time.perf_counter() - t0) * 1e3)
            # Clearly slower: stop timing it (2.5x after one round, 1.5x after ``MIN_ROUNDS``).
            fastest = {n: min(times[n]) for n in live}
            best = min(fastest.values())
            live = [n for n in live if fastest[n] <= (1.5 if rnd + 1 >= MIN_ROUNDS else 2.5) * best]
            if rnd + 1 >= MIN_ROUNDS and (time.perf_counter() - start > CASE_BUDGET_S or len(live) == 1):
                break
    return {n: min(v) for n, v in times.items()}


def _choose(ms: dict[str, float], kept_layouts: set[str]) -> str:
    """The fastest once each new weight copy is charged ``TOLERANCE - 1`` (layouts already kept are free)."""
    def weighed(n: str) -> float:
        k = KERNELS[n]
        return ms[n] * (1.0 if k.layout in kept_layouts else 1.0 + (TOLERANCE - 1.0) * k.copy_size)

    return min(ms, key=weighed)


def tune_shape(layers: list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]],
               bf16: bool = False, deadline: float | None = None,
               fixed: tuple[str, ...] | None = None) -> ShapePlan | None:
    """Time every candidate on ``layers`` [(weight (out, in), weight (in, out) or None, bias)], cached.

    All layers must share one shape.  Only the first ones up to ``sample_bytes()`` are timed;
    a single bigger weight (the LM head) on its first output rows up to that size: the cost
    per output row is the same, and preparing and timing a 50257-row head whole took seconds.
    The cache key is (shape, bias, sample size, precision mode, torch threads).  When the plan
    is not cached and ``time.perf_counter()`` is already past ``deadline``: the ``fixed`` rule's
    plan (unmeasured), cached too, or None without one.  Why cache the fixed rule: a later load
    of the same shape (the model evicted and loaded again, a fine-tuned copy) must compute with
    the same kernels, or the same prompt and seed give probabilities that differ in the last
    bits (and, rarely, another sampled token) within one run of the app.
    """
    w0 = layers[0][0]
    size = w0.numel() * w0.element_size()
    budget = sample_bytes()
    sample = layers[: max(1, min(len(layers), budget // max(size, 1)))]
    if size > budget:
        n = max(1, budget // (w0.shape[1] * w0.element_size()))
        w, b = sample[0][0][:n], sample[0][2]
        sample = [(w, None, None if b is None else b[:n])]  # (in, out) for the slice: prepared if timed
    key = (tuple(w0.shape), layers[0][2] is not None, len(sample), bool(bf16), torch.get_num_threads())
    with _PLANS_LOCK:
        if key in _PLANS:
            cached = _PLANS[key]
            return ShapePlan(cached.in_features, cached.out_features, cached.sample_layers, cached.cases, 0.0, True,
                             cached.measured)
        t0 = time.perf_counter()
        if deadline is not None and t0 > deadline:
            if fixed is None:
                return None
            _PLANS[key] = fixed_plan(int(w0.shape[1]), int(w0.shape[0]), fixed)
            return _PLANS[key]
        kept = {"oi"}  # the parameter itself: no copy
        choices, layouts = [], {}
        for case in ROW_CASES:
            ms = _time_case(case, candidates(case, bf16), sample, layouts)
            chosen = _choose(ms, kept)
            kept.add(KERNELS[chosen].layout)
            choices.append(CaseChoice(case.name, case.timed_at, chosen, ms))
        del layouts
        plan = ShapePlan(int(w0.shape[1]), int(w0.shape[0]), len(sample), choices, time.perf_counter() - t0)
        _PLANS[key] = plan
    log.info("cpu_kernels: %dx%d (%d layers timed, %.2f s, %d threads%s): %s", plan.in_features,
             plan.out_features, plan.sample_layers, plan.seconds, key[-1], ", bf16 allowed" if bf16 else "",
             "; ".join(f"{c.case} rows -> {c.chosen} {_ms(c.chosen_ms)} (F.linear {_ms(c.ms.get(DEFAULT_KERNEL))})"
                       for c in plan.cases))
    return plan


def fixed_plan(in_features: int, out_features: int, kernels: tuple[str, ...]) -> ShapePlan:
    """A plan that records the fixed rule, unmeasured (the time budget ran out before this shape)."""
    cases = [CaseChoice(c.name, c.timed_at, k, {}) for c, k in zip(ROW_CASES, kernels)]
    return ShapePlan(in_features, out_features, 0, cases, 0.0, measured=False)


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}ms"
