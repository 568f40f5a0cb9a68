"""What a run leaves: the model kept (final or best), saved with its metadata, the run folder closed, and
the ``TrainResult`` (step 6 of ``runner``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from lm_demo.locales import t
from lm_demo.training import distributed
from lm_demo.training.config import TrainConfig
from lm_demo.training.events import Poster
from lm_demo.training.metrics import perplexity


@dataclass
class TrainResult:
    """What a run produced; ``model``/``tokenizer`` stay in memory only.

    ``kept`` says which model ``model`` (and the checkpoint) is: "final" or
    "best"; ``eval_loss`` is that model's; ``final_*`` and ``best_*`` give both.
    """

    status: str  # "finished" | "stopped"
    checkpoint: str | None
    path: str | None
    eval_loss: float | None
    eval_perplexity: float | None
    best_step: int | None
    steps: int
    epochs: float
    duration_s: float
    tokens_seen: int
    device: str
    history: list[dict] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped_early: bool = False
    kept: str = "final"
    kept_step: int | None = None
    final_loss: float | None = None
    best_loss: float | None = None
    overfit_step: int | None = None
    run: str | None = None
    resumed_from: int | None = None
    model: Any = field(default=None, repr=False)
    tokenizer: Any = field(default=None, repr=False)

    def summary(self) -> dict:
        """JSON-friendly fields (no model, no history)."""
        return {k: v for k, v in asdict(self).items() if k not in ("model", "tokenizer", "history")} | {
            "model": None, "tokenizer": None}


def kept_key(kept: str, step: int | None, best_step: int | None) -> str:
    """The locale key that names the model a run kept (and the best one, when they differ)."""
    if kept == "best":
        return "train.note.kept_best"
    return "train.note.kept_final_best" if best_step is None or best_step == step else "train.note.kept_final"


def auto_name(corpus_key: str, cfg: TrainConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = "scratch" if cfg.from_scratch else "ft"
    return f"{corpus_key}-{kind}-{stamp}"


def finish(cfg: TrainConfig, cb: Any, state: Any, model: Any, tok: Any, model_info: dict, corpus: Any, data: Any,
            post: Poster, notes: list[str], run: Any, device: str, t0: float, resumed_from: int | None) -> TrainResult:
    """Choose the model kept, name it in the events, save it (main process) and close the run."""
    from lm_demo.training import runs

    final_step, final_loss = int(state.global_step), cb.last_eval_loss
    kept, kept_step, eval_loss = "final", final_step, final_loss
    if cfg.keep == "best" and cb.best_state is not None and cb.best_loss is not None and (
            final_loss is None or cb.best_loss < final_loss):
        model.load_state_dict(cb.best_state)
        kept, kept_step, eval_loss = "best", cb.best_step, cb.best_loss
    model.eval()
    if distributed.is_main():
        key = kept_key(kept, kept_step, cb.best_step)
        post({"type": "kept", "kept": kept, "step": kept_step, "eval_loss": eval_loss, "best_step": cb.best_step,
              "best_loss": cb.best_loss, "final_step": final_step, "final_loss": final_loss,
              "text": t(key, step=kept_step, best_step=cb.best_step if cb.best_step is not None else "—",
                        final_step=final_step)})
    status = "stopped" if cb.stopped_by_user or cb.stopped_by_limit else "finished"
    result = TrainResult(
        status=status, checkpoint=None, path=None, eval_loss=eval_loss, eval_perplexity=perplexity(eval_loss),
        best_step=cb.best_step, steps=final_step, epochs=float(state.epoch or 0.0),
        duration_s=time.perf_counter() - t0, tokens_seen=int(getattr(state, "num_input_tokens_seen", 0) or 0),
        device=device, history=post.history, samples=cb.samples, notes=notes, stopped_early=cb.stopped_early,
        kept=kept, kept_step=kept_step, final_loss=final_loss, best_loss=cb.best_loss, overfit_step=cb.overfit_step,
        run=run.name if run is not None else None, resumed_from=resumed_from, model=model, tokenizer=tok,
    )
    if cfg.save and distributed.is_main():
        from lm_demo.checkpoints import save_checkpoint

        post({"type": "stage", "stage": "save"})
        saved_as = run.data.get("saved_as") if run is not None else None
        name = saved_as or (run.data.get("name") if run is not None else None) or auto_name(corpus.key, cfg)
        metadata = {
            "base_model": model_info["base_model"], "base_resolved": model_info["resolved"],
            "from_scratch": cfg.from_scratch, "architecture": type(model).__name__, "params": model_info["params"],
            "corpus": corpus.describe() | data.describe(), "hyperparameters": cfg.hyperparameters(), "history": post.history,
            "samples": cb.samples, "eval_loss": eval_loss, "eval_perplexity": perplexity(eval_loss),
            "best_step": cb.best_step, "best_loss": cb.best_loss, "kept": kept, "kept_step": kept_step,
            "final_loss": final_loss, "overfit_step": cb.overfit_step, "steps": result.steps,
            "epochs": result.epochs, "tokens_seen": result.tokens_seen,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": device,
            "processes": distributed.world_size(), "duration_s": round(result.duration_s, 2),
            "stopped_early": cb.stopped_early, "stopped_by_user": cb.stopped_by_user,
            "stopped_by_limit": cb.stopped_by_limit, "status": status,
            "resumed_from": resumed_from, "run": result.run,
        }
        path = save_checkpoint(model, tok, name, metadata, eval_texts=data.eval_texts, overwrite=bool(saved_as))
        result.checkpoint, result.path = path.name, str(path)
        result.duration_s = time.perf_counter() - t0
        post({"type": "saved", "checkpoint": path.name, "eval_loss": eval_loss, "perplexity": perplexity(eval_loss),
              "status": status, "kept": kept})
        if run is not None:
            if status == "finished":
                runs.finish_run(run)
            else:  # stopped: saved now, and it can still be continued
                run.update(status="stopped", saved_as=path.name)
    return result


__all__ = ["TrainResult", "kept_key", "auto_name", "finish"]
