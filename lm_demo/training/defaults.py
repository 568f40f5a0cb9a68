"""Automatic hyperparameters from the corpus size: one function the tab and the CLI share.

Why: the old fixed defaults (200 steps of 8 × 128-token blocks, lr 5e-4,
10 % held out) turned a class's 30-line upload (~400 tokens, three blocks)
into 200 passes over the same blocks: the model recited the text, the
evaluation loss rose from the first evaluation, and the "best" model kept was
the untouched base.  Measured on a 30-line text of our own with the bundled
model: 40 steps of 4 × 32-token blocks at lr 5e-4 lowered the perplexity of
the held-out lines from 273 to 221 (all 30 lines: 243 → 92), while 200 steps
at 128 tokens drove the evaluation loss from 5.6 to 6.9.

So, for the fields left ``None`` (see ``TrainConfig``):
- evaluation split: 20 % of the texts below 100 texts (a few held-out lines
  are needed for a meaningful curve), 10 % up to 10,000 texts, 5 % above;
- block size: the largest power of two (32-128, within the model's context)
  that still gives ~8 training blocks or more;
- batch: 8 blocks, fewer when the corpus has few blocks (at least 3 steps per
  epoch);
- length: 8 passes over a corpus below 10,000 training tokens, 4 below
  50,000, 2 below 200,000, else 1; at least 20 steps and at most what fits a
  class demo on this device (``step_cap``).  Measured on the 30-line text of
  ``tests/test_training_defaults.py`` (perplexity of the 6 held-out lines, the
  app's convention: first token of each line not scored): 15 passes (60 steps)
  446.8 → 428.4, the evaluation minimum long past; 8 passes (32 steps)
  446.8 → 369.4, close to that minimum, while all 30 lines still go 451 → 112;
- learning rate: by model (5e-4 for a small model, 5e-5 for a GPT-2 small
  sized one, 1e-3 from scratch), 40 % lower on a tiny corpus, where every
  step sees the same few blocks;
- evaluation every ~10 % of the run, warm-up 5 %, a resumable checkpoint
  every ~20 % (at least 25 steps apart) and every ``save_every_minutes``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from lm_demo.locales import t
from lm_demo.training.config import TrainConfig

SMALL_MODEL_PARAMS = 30_000_000
TINY_CORPUS_TOKENS = 2_000
#: Most steps of an automatic run: a demo of a few minutes on the bundled model on 2 CPU cores.
CPU_STEP_CAP = 200
GPU_STEP_CAP = 2_000
MIN_STEPS = 20


def eval_fraction_for(n_texts: int) -> float:
    if n_texts < 100:
        return 0.2
    return 0.1 if n_texts <= 10_000 else 0.05


def _pow2_floor(x: float) -> int:
    return 1 << max(0, int(math.floor(math.log2(max(1.0, x)))))


def block_size_for(train_tokens: int, positions: int) -> int:
    block = min(128, max(32, _pow2_floor(train_tokens / 8)))
    return max(8, min(block, positions))


def passes_for(train_tokens: int) -> float:
    for limit, passes in ((TINY_CORPUS_TOKENS, 8.0), (10_000, 8.0), (50_000, 4.0), (200_000, 2.0)):
        if train_tokens < limit:
            return passes
    return 1.0


def learning_rate_for(params: int | None, from_scratch: bool, train_tokens: int) -> float:
    if from_scratch:
        lr = 1e-3
    elif params is not None and params > SMALL_MODEL_PARAMS:
        lr = 5e-5
    else:
        lr = 5e-4
    return lr * (0.6 if train_tokens < TINY_CORPUS_TOKENS else 1.0)


def step_cap(device: str, params: int | None) -> int:
    """Most automatic steps: a GPU takes more; on a CPU a bigger model takes fewer (same minutes)."""
    if device == "cuda":
        return GPU_STEP_CAP
    scale = 1.0 if not params else min(1.0, 5_300_000 / params)
    return max(MIN_STEPS, int(CPU_STEP_CAP * scale))


def resolve(cfg: TrainConfig, n_texts: int, n_tokens: int, *, params: int | None = None, device: str = "cpu",
            positions: int = 1024, world_size: int = 1) -> tuple[TrainConfig, list[str]]:
    """``cfg`` with every ``None`` field filled for a corpus of ``n_texts`` texts and ``n_tokens`` tokens.

    Fields the user set are kept.  The note (one line) lists the values chosen.
    """
    auto = cfg.automatic()
    if not auto:
        return cfg, []
    c = replace(cfg)
    if c.eval_fraction is None:
        c.eval_fraction = eval_fraction_for(n_texts)
    train_tokens = max(1, int(n_tokens * (1 - c.eval_fraction)))
    if c.block_size is None:
        c.block_size = block_size_for(train_tokens, positions)
    blocks = max(1, train_tokens // c.block_size)
    if c.batch_size is None:
        c.batch_size = int(min(8, max(1, blocks // 3)))
    per_step = c.batch_size * max(1, c.grad_accum) * max(1, world_size)
    steps_per_epoch = max(1, math.ceil(blocks / per_step))
    if c.max_steps is None:
        if c.epochs is not None:
            c.max_steps = 0  # the user gave epochs: run them
        else:
            want = math.ceil(steps_per_epoch * passes_for(train_tokens))
            c.max_steps = int(min(max(want, MIN_STEPS), step_cap(device, params)))
    if c.epochs is None:
        c.epochs = round(c.max_steps / steps_per_epoch, 2) if c.max_steps else 1.0
    total = c.max_steps or max(1, math.ceil(steps_per_epoch * c.epochs))
    if c.learning_rate is None:
        c.learning_rate = learning_rate_for(params, c.from_scratch, train_tokens)
    if c.warmup_steps is None:
        c.warmup_steps = int(round(total * 0.05))
    if c.eval_steps is None:
        c.eval_steps = max(1, total // 10)
    if c.save_every_steps is None:
        c.save_every_steps = max(25, total // 5)
    # "automatic" only when the numbers a teacher thinks of were chosen here, not just the split or save interval
    headline = any(f in auto for f in ("max_steps", "block_size", "batch_size", "learning_rate"))
    note = t("train.note.auto" if headline else "train.note.settings", texts=n_texts, tokens=n_tokens, steps=total, block=c.block_size, batch=c.batch_size,
             lr=f"{c.learning_rate:.0e}", eval=round(c.eval_fraction * 100))
    return c, [note]


__all__ = ["resolve", "eval_fraction_for", "block_size_for", "passes_for", "learning_rate_for", "step_cap"]
