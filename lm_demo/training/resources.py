"""Will a training run fit in memory?  An estimate from the model's shape, checked before the job starts.

Why: settings sent through the API are clamped, not bounded by the machine:
``from_scratch`` with every size at its maximum is 24 layers × 2048 wide
(1.2 B parameters), block 2048, batch 512; it passed validation and would
have taken the server down mid-run.  Now ``check`` compares an estimate with
the memory free right now (``lm_demo.memory.available_bytes``: MemAvailable,
capped by the container's cgroup; ``torch.cuda.mem_get_info`` on a GPU) and
refuses with the sizes and a concrete setting that fits.

The estimate (bytes), for ``P`` parameters, ``L`` layers of width ``D`` with
``H`` heads, vocabulary ``V``, ``B`` blocks of ``T`` tokens per step::

    16·P                 fp32 weights (a fresh copy), gradients, Adam's two moments
  + 140·B·T·L·D          activations kept for the backward pass
  + 10·B·H·T²·L          attention probabilities and their dropout masks
  + 12·B·T·V             logits, their log-softmax and gradients
  + 128 MiB              Trainer, data loader and allocator slack

The activation, attention and logit factors were fitted to peak RSS over a
few training steps of 13 GPT-2 shapes on a CPU (fp32, eager attention,
HF ``gelu_new``, which keeps several 4·D-wide intermediates: hence 140
rather than the 34 of mixed-precision estimates); the estimate came within
−11 % … +5 % of the measured peaks, and within −6 % … +13 % of whole
``run_training`` runs (corpus, evaluation and data loader included) of the
bundled model (fine-tune, batch 8-16, block 128-256: 462 MB estimated vs
408 measured, 1303 vs 1383) and from scratch (6 × 512, batch 8, block 256:
1749 vs 1862).  ``HEADROOM`` leaves the rest of the app
(and the estimate's error) room.  On a GPU (bf16/fp16 autocast) the same
formula over-estimates: it is kept, on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lm_demo.errors import UserError

MiB = 2**20
BYTES_PER_PARAM = 16
ACTIVATION_BYTES = 140
ATTENTION_BYTES = 10
LOGIT_BYTES = 12
FIXED_BYTES = 128 * MiB
HEADROOM = 0.85  # of the free memory, what a run may plan to use
AUTO_BATCH, AUTO_BLOCK = 8, 128  # the largest automatic values (``defaults.resolve``)


@dataclass(frozen=True)
class Shape:
    """What the estimate needs to know about a model."""

    params: int
    n_layer: int
    n_embd: int
    n_head: int
    vocab: int
    positions: int


@dataclass(frozen=True)
class MemoryEstimate:
    model: int  # weights, gradients and optimiser state
    activations: int  # activations, attention and logits of one micro-batch
    fixed: int = FIXED_BYTES

    @property
    def total(self) -> int:
        return self.model + self.activations + self.fixed


def scratch_params(n_layer: int, n_embd: int, vocab: int, positions: int) -> int:
    """Parameters of a GPT-2 built from scratch (tied embeddings): V·D + P·D + L·(12·D² + 13·D) + 2·D."""
    d = n_embd
    return vocab * d + positions * d + n_layer * (12 * d * d + 13 * d) + 2 * d


def scratch_shape(n_layer: int, n_embd: int, n_head: int, vocab: int, positions: int) -> Shape:
    return Shape(scratch_params(n_layer, n_embd, vocab, positions), n_layer, n_embd, n_head, vocab, positions)


def model_shape(model: Any) -> Shape:
    """The shape of a loaded model (GPT-2, GPT-Neo and other causal LMs: their config's generic names)."""
    cfg = model.config
    params = int(sum(p.numel() for p in model.parameters()))

    def get(*names: str, default: int) -> int:
        for n in names:
            v = getattr(cfg, n, None)
            if isinstance(v, int) and v > 0:
                return v
        return default

    width = get("hidden_size", "n_embd", "d_model", default=768)
    return Shape(params, get("num_hidden_layers", "n_layer", default=12), width,
                 get("num_attention_heads", "n_head", default=max(1, width // 64)),
                 get("vocab_size", default=50257), get("n_positions", "max_position_embeddings", default=1024))


def estimate(shape: Shape, batch: int, block: int) -> MemoryEstimate:
    """The peak memory of a training step (see the module docstring)."""
    b, t = max(1, int(batch)), max(1, min(int(block), shape.positions))
    acts = (ACTIVATION_BYTES * b * t * shape.n_layer * shape.n_embd
            + ATTENTION_BYTES * b * shape.n_head * t * t * shape.n_layer
            + LOGIT_BYTES * b * t * shape.vocab)
    return MemoryEstimate(BYTES_PER_PARAM * shape.params, acts)


def free_bytes(device: str) -> int | None:
    """Memory a run can still take on ``device`` now (None when unknown: no check then)."""
    if device == "cuda":
        try:
            import torch

            return int(torch.cuda.mem_get_info()[0])
        except Exception:  # noqa: BLE001 - no driver, a MIG slice without the query...
            return None
    from lm_demo.memory import available_bytes

    return available_bytes()


def size_text(n: int) -> str:
    """``1,4 GB`` / ``850 MB`` / ``21,7 TB`` (Spanish decimal comma; the number is what the teacher reads)."""
    if n >= 2**40:
        return f"{n / 2**40:.1f} TB".replace(".", ",")
    if n >= 1024 * MiB:
        return f"{n / (1024 * MiB):.1f} GB".replace(".", ",")
    return f"{max(1, round(n / MiB))} MB"


def _powers_down(x: int, lo: int) -> list[int]:
    out, v = [], max(lo, int(x))
    while v >= lo:
        out.append(v)
        if v == lo:
            break
        v = max(lo, v // 2)
    return out


def suggestion(shape: Shape, batch: int, block: int, budget: int, from_scratch: bool,
               loaded: int = 0) -> tuple[str, dict]:
    """(kind, params) of the largest setting that fits ``budget`` bytes: "batch" (batch and block), else
    "shape" (from scratch: fewer layers or a narrower model, also when the model fits only with fewer tokens
    per step than the automatic 8 × 128), else "model" (a smaller base model)."""
    fits = [(b * t, t, b) for b in _powers_down(batch, 1) for t in _powers_down(min(block, shape.positions), 16)
            if estimate(shape, b, t).total - loaded <= budget]
    best = max(fits) if fits else None
    # from scratch, a model that fits only with a few tokens per step is better made smaller
    if best is not None and (not from_scratch or best[0] >= min(batch * block, AUTO_BATCH * AUTO_BLOCK)):
        return "batch", {"fit_batch": best[2], "fit_block": best[1]}
    if from_scratch:
        b, t = min(batch, AUTO_BATCH), min(block, AUTO_BLOCK)
        for layers in _powers_down(shape.n_layer, 1):
            for width in _powers_down(shape.n_embd, 32):
                width = max(shape.n_head, width - width % shape.n_head)
                small = scratch_shape(layers, width, shape.n_head, shape.vocab, shape.positions)
                if estimate(small, b, t).total <= budget:
                    return "shape", {"fit_layers": layers, "fit_width": width, "fit_batch": b, "fit_block": t}
    if best is not None:
        return "batch", {"fit_batch": best[2], "fit_block": best[1]}
    return "model", {}


def check(shape: Shape, batch: int, block: int, device: str, from_scratch: bool = False,
          available: int | None = None, loaded: int = 0, processes: int = 1) -> MemoryEstimate:
    """The estimate, or ``UserError`` ("train.err.memory.<kind>") when it does not fit in what is free.

    ``loaded``: bytes of the run already allocated (the fresh weights, when
    the check runs after the model was made); ``processes``: runs sharing
    this machine's memory (CPU DDP).  ``available`` defaults to ``free_bytes``.
    """
    est = estimate(shape, batch, block)
    free = free_bytes(device) if available is None else available
    if free is None:
        return est
    budget = int(free * HEADROOM / max(1, processes))
    if est.total - loaded <= budget:
        return est
    kind, params = suggestion(shape, batch, block, budget, from_scratch, loaded)
    raise UserError(f"train.err.memory.{kind}", need=size_text(est.total * max(1, processes)), free=size_text(free),
                    model=size_text(est.model), acts=size_text(est.activations),
                    params=f"{shape.params / 1e6:.0f}", batch=batch, block=block, **params)


def config_shape(cfg: Any) -> Shape:
    """The shape of the model ``cfg`` (validated) will train, before it is made.

    From scratch: from the sizes and the base model's tokenizer; a
    fine-tune: the base model (the app's cached copy, loaded if needed).
    """
    from lm_demo.models import load_model

    loaded = load_model(cfg.base_model)
    if cfg.from_scratch:
        positions = cfg.n_positions or max(cfg.block_size or AUTO_BLOCK, 64)
        return scratch_shape(cfg.n_layer, cfg.n_embd, cfg.n_head, len(loaded.tokenizer), positions)
    return model_shape(loaded.model)


def check_config(cfg: Any, device: str, available: int | None = None) -> MemoryEstimate:
    """``check`` for a run of ``cfg`` (validated) whose automatic batch and block are not known yet:
    their largest automatic values stand in (``defaults.resolve`` never picks more)."""
    from lm_demo.training import distributed

    shape = config_shape(cfg)
    batch = cfg.batch_size or AUTO_BATCH
    block = min(cfg.block_size or AUTO_BLOCK, shape.positions)
    processes = distributed.world_size() if device != "cuda" else 1
    return check(shape, batch, block, device, cfg.from_scratch, available=available, processes=processes)


__all__ = ["config_shape", "check_config", "Shape", "MemoryEstimate", "estimate", "check", "scratch_shape", "scratch_params", "model_shape",
           "free_bytes", "suggestion", "size_text", "HEADROOM"]
