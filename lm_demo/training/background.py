"""Training as the app's background job: ``start_training`` (a new run) and ``resume_training`` ("Continuar").

Both check in the request what can be refused at once (training switched
off, bad numbers, an upload over the limits, a run this machine cannot hold,
a run another process trains), then run ``runner.run_training`` in the
``"train"`` job of ``lm_demo.jobs`` on ``default_threads()``.
"""

from __future__ import annotations

from dataclasses import replace

from lm_demo.jobs import JOBS, Job, default_threads, ensure_training_allowed
from lm_demo.training.config import TrainConfig
from lm_demo.training.runner import run_training


def start_training(config: TrainConfig) -> Job:
    """Start ``run_training`` in the background as the ``"train"`` job.

    Raises ``UserError`` when training is disabled or a job is running.
    The thread uses ``default_threads()`` unless the config says otherwise.
    """
    from lm_demo.models import pick_device
    from lm_demo.training import resources

    ensure_training_allowed()
    cfg, _ = config.validated()  # fail fast, in the request, on bad numbers
    if cfg.corpus.path:  # an upload over the corpus limits, when its size or metadata show it
        from lm_demo.corpora.files import precheck

        precheck(cfg.corpus.path, cfg.corpus.max_rows)
    resources.check_config(cfg, pick_device()[0])  # and on a run this machine cannot hold
    if not cfg.num_threads:
        cfg = replace(cfg, num_threads=default_threads())
    desc = {"corpus": cfg.corpus.label(), "base_model": cfg.base_model, "from_scratch": cfg.from_scratch,
            "recipe": cfg.recipe, "max_steps": cfg.max_steps, "epochs": cfg.epochs, "keep": cfg.keep}
    return JOBS.start("train", lambda job: run_training(cfg, job), desc)


def resume_training(name: str) -> Job:
    """Continue the interrupted run ``name`` in the background (see ``lm_demo.training.runs``)."""
    from lm_demo.models import pick_device
    from lm_demo.training import resources, runs

    ensure_training_allowed()
    run = runs.open_free(name)
    cfg = run.config()
    resources.check_config(cfg, pick_device()[0])
    desc = {"corpus": run.data.get("corpus_label"), "base_model": cfg.base_model, "from_scratch": cfg.from_scratch,
            "recipe": cfg.recipe, "max_steps": cfg.max_steps, "epochs": cfg.epochs, "keep": cfg.keep,
            "run": run.name, "resume": True}
    here = replace(cfg, progress_bar=False, num_threads=default_threads())
    return JOBS.start("train", lambda job: run_training(here, job, resume=run.name), desc)


__all__ = ["start_training", "resume_training"]
