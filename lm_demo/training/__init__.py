"""Fine-tune (or train from scratch) a GPT-2 on a corpus: config, defaults, runner, resumable runs.

One module per concern:

- ``config``: ``TrainConfig`` (``None`` = automatic), its clamps, the recipes (``HP_PRESETS``);
- ``defaults``: the automatic hyperparameters from the corpus size (shared by the tab and the CLI);
- ``runner``: ``run_training``, one run from start to end, in order; ``events``: where its events go;
- ``preparation``: the run's model and its data (corpus → blocks, automatic settings, caps, memory);
- ``outcome``: the model kept, saved with its metadata, and ``TrainResult``;
- ``background``: ``start_training`` / ``resume_training``, the app's background job;
- ``callbacks``: the Trainer callback (events, stop, best model, overfitting);
- ``runs``: crash-safe run folders (periodic resumable checkpoints, interrupted runs); ``leftovers``: clean-up;
- ``samples``: short generations clamped to the model's context;
- ``metrics``: evaluation loss and perplexity, read in one place;
- ``exact_eval``: the Trainer whose evaluation follows the app's perplexity convention;
- ``distributed``: what changes under ``torchrun`` (rank 0 prepares, saves and prints).

The background-job registry lives in ``lm_demo.jobs`` (re-exported here for
existing callers).  Importing this package loads no torch.
"""

from lm_demo.jobs import (
    BACKGROUND_NICE,
    JOBS,
    Job,
    JobRegistry,
    default_threads,
    ensure_training_allowed,
    kind_label,
    lower_thread_priority,
    training_allowed,
)
from lm_demo.training.config import HP_PRESETS, KEEP_CHOICES, RECIPES, TrainConfig
from lm_demo.training.metrics import finite_float, perplexity
from lm_demo.training.background import resume_training, start_training
from lm_demo.training.outcome import TrainResult
from lm_demo.training.runner import run_training
from lm_demo.training.samples import generate_sample

__all__ = [
    "JOBS", "Job", "JobRegistry", "TrainConfig", "TrainResult", "HP_PRESETS", "RECIPES", "KEEP_CHOICES",
    "run_training", "start_training", "resume_training", "training_allowed", "ensure_training_allowed",
    "generate_sample", "perplexity", "default_threads", "finite_float", "lower_thread_priority", "kind_label",
    "BACKGROUND_NICE",
]
