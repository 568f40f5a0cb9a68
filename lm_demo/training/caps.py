"""How long a run may hold the one training slot: time, step and epoch caps, for a public Space.

Why: the runner trains one job at a time, and settings sent through the API
were clamped only to their ranges (1,000,000 steps, 100 epochs): a visitor
could hold a Space's slot for days, stoppable only by that visitor or a
restart.  So a run is capped:

- in time, ``LM_DEMO_MAX_TRAIN_MINUTES`` (0 = no cap; on a Space without a
  GPU, ``SPACE_ID`` set, ``SPACE_CPU_MINUTES`` by default): the Trainer
  callback ends the run cleanly when the time is up, saving the model and a
  resumable checkpoint and saying why;
- in steps and epochs, ``LM_DEMO_MAX_TRAIN_STEPS`` / ``LM_DEMO_MAX_TRAIN_EPOCHS``
  (defaults only on a Space), applied once the automatic settings are known,
  with a note.

- in disk, ``LM_DEMO_MAX_KEPT_RUNS`` (default 3 on a Space): each stopped
  or crashed run keeps its folder with up to two resumable checkpoints
  (weights and optimiser state: ~1.5 GB for GPT-2-small) so that it can be
  continued; before a new run starts, the oldest beyond the cap are
  discarded, with a note naming them.

The Space's operator can also stop any job (``LM_DEMO_ADMIN_TOKEN``, see
``lm_demo.ui.ownership``).  A local app has no cap unless the variables say so.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from lm_demo import env
from lm_demo.locales import t

SPACE_CPU_MINUTES = 30.0
SPACE_STEPS = {"cpu": 2_000, "cuda": 20_000}
SPACE_EPOCHS = 20.0
SPACE_KEPT_RUNS = 3


def on_space() -> bool:
    """Whether the app runs on Hugging Face Spaces (which sets ``SPACE_ID``)."""
    return env.on_space()


def max_minutes(device: str = "cpu") -> float:
    """Minutes a run may train (0 = no cap)."""
    value = env.max_train_minutes()
    if value is not None:
        return value
    return SPACE_CPU_MINUTES if on_space() and device != "cuda" else 0.0


def max_steps(device: str = "cpu") -> int:
    """Optimiser steps a run may take (0 = no cap beyond ``TrainConfig``'s range)."""
    value = env.max_train_steps()
    if value is not None:
        return int(value)
    return SPACE_STEPS.get(device, SPACE_STEPS["cpu"]) if on_space() else 0


def max_epochs() -> float:
    """Passes over the corpus a run may make (0 = no cap beyond ``TrainConfig``'s range)."""
    value = env.max_train_epochs()
    if value is not None:
        return value
    return SPACE_EPOCHS if on_space() else 0.0


def max_kept_runs() -> int:
    """Interrupted runs kept on disk, the new one included (0 = no cap)."""
    value = env.max_kept_runs()
    if value is not None:
        return int(value)
    return SPACE_KEPT_RUNS if on_space() else 0


def bounded(cfg: Any, steps_per_epoch: int, device: str) -> tuple[Any, list[str]]:
    """``cfg`` (resolved) within the step and epoch caps, with a note for each cap applied."""
    notes: list[str] = []
    epochs_cap, steps_cap = max_epochs(), max_steps(device)
    if epochs_cap and not cfg.max_steps and cfg.epochs > epochs_cap:
        cfg = replace(cfg, epochs=epochs_cap)
        notes.append(t("train.note.epochs_cap", n=epochs_cap))
    total = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    if steps_cap and total > steps_cap:
        # the intervals were chosen for the longer run: evaluate and save as often within the capped one
        cfg = replace(cfg, max_steps=steps_cap, eval_steps=min(cfg.eval_steps, max(1, steps_cap // 10)),
                      warmup_steps=min(cfg.warmup_steps, steps_cap // 10),
                      save_every_steps=min(cfg.save_every_steps or steps_cap, max(25, steps_cap // 5)))
        notes.append(t("train.note.steps_cap", n=steps_cap, asked=total))
    return cfg, notes


__all__ = ["on_space", "max_minutes", "max_steps", "max_epochs", "max_kept_runs", "bounded", "SPACE_CPU_MINUTES"]
