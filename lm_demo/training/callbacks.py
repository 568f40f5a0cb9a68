"""The Trainer callback: Trainer events → job events, the stop flag, the best model, overfitting.

What it does at each Trainer hook:
- ``on_step_end``: a stop request becomes ``should_training_stop`` (and a
  save, so a stopped run can be continued); so does the time cap
  (``max_minutes``, see ``lm_demo.training.caps``), with a note saying why;
  a save is also asked for every ``save_every_minutes``.  Under several processes the decisions are agreed
  on by all ranks (``distributed.agree``).
- ``on_log``: a ``train`` event (loss, learning rate, tokens/s, ETA).
- ``on_evaluate``: an ``eval`` event, the best evaluation so far (weights
  copied only when the run keeps the best model), early stopping, a sample,
  and, once, an ``overfit`` event when the evaluation loss has risen twice in
  a row above its minimum while the training loss kept falling: the tab
  explains it in plain words and the loss plot marks the minimum.
- ``on_save``: ``run.json`` names the checkpoint just written (see
  ``lm_demo.training.runs``) and, when keeping the best model, its weights.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from lm_demo.locales import t
from lm_demo.training import distributed
from lm_demo.training.metrics import eval_loss_of, finite_float, perplexity

OVERFIT_RISES = 2  # evaluations in a row above the minimum
OVERFIT_MARGIN = 0.01  # in loss units: noise below this is not a rise


def overfitting(evals: list[tuple[int, float]], train: list[tuple[int, float]]) -> int | None:
    """The step of the lowest evaluation loss when the run is overfitting there, else None.

    Overfitting: the last ``OVERFIT_RISES`` evaluations each rose, the latest
    is above the minimum by more than ``OVERFIT_MARGIN``, and the training
    loss logged since the minimum is lower than around it.
    """
    if len(evals) < OVERFIT_RISES + 1:
        return None
    losses = [v for _, v in evals]
    tail = losses[-(OVERFIT_RISES + 1):]
    if not all(b > a for a, b in zip(tail, tail[1:])):
        return None
    best_i = min(range(len(losses)), key=losses.__getitem__)
    best_step, best = evals[best_i]
    if best_i == len(losses) - 1 or losses[-1] - best < OVERFIT_MARGIN:
        return None
    before = [v for s, v in train if s <= best_step][-3:]
    after = [v for s, v in train if s > best_step][-3:]
    if not after:
        return None
    ref = sum(before) / len(before) if before else float("inf")
    return best_step if sum(after) / len(after) < ref else None


def make_callback(cfg: Any, post: Callable[[dict], dict], tokenizer: Any, device: str, *,
                  stop_requested: Callable[[], bool], run: Any = None, saves: bool = False,
                  prior: list[dict] | None = None, start_step: int = 0, max_minutes: float = 0.0,
                  started_at: float | None = None) -> Any:
    """A ``TrainerCallback`` for one run; ``prior`` are the replayed events of a resumed run.

    ``max_minutes``: the time cap (0 = none), counted from ``started_at``
    (epoch seconds: the job's start, so a quick comparison's models share
    one budget; default: now).

    ``saves``: the run writes resumable checkpoints (the same on every rank;
    ``run``, the folder, exists on the main process only).
    """
    from transformers import TrainerCallback

    deadline_from = time.time() if started_at is None else started_at

    class JobCallback(TrainerCallback):
        def __init__(self) -> None:
            self.best_loss: float | None = None
            self.best_step: int | None = None
            self.best_state: dict | None = None
            self.best_dirty = False
            self.bad_evals = 0
            self.stopped_early = False
            self.stopped_by_user = False
            self.stopped_by_limit = False
            self.last_eval_step: int | None = None
            self.last_eval_loss: float | None = None
            self.overfit_step: int | None = None
            self.evals: list[tuple[int, float]] = []
            self.train_losses: list[tuple[int, float]] = []
            self.samples: list[dict] = []
            self.start_step = start_step
            self.t_train0 = self.t_last = self.t_saved = time.perf_counter()
            self.tokens_last = 0
            for e in prior or []:
                self._remember(e)
            if run is not None and (run.data.get("best") or {}).get("loss") is not None:
                self.best_loss, self.best_step = run.data["best"]["loss"], run.data["best"]["step"]

        def _remember(self, e: dict) -> None:
            kind = e.get("type")
            if kind == "eval" and e.get("eval_loss") is not None:
                self.evals.append((int(e["step"]), float(e["eval_loss"])))
                self.last_eval_step, self.last_eval_loss = int(e["step"]), float(e["eval_loss"])
                if self.best_loss is None or e["eval_loss"] < self.best_loss - 1e-6:
                    self.best_loss, self.best_step = float(e["eval_loss"]), int(e["step"])
            elif kind == "train" and e.get("loss") is not None:
                self.train_losses.append((int(e["step"]), float(e["loss"])))
            elif kind == "sample":
                self.samples.append({"step": e.get("step"), "text": e.get("text")})
            elif kind == "overfit":
                self.overfit_step = e.get("best_step")

        def _gpu_mem(self) -> float | None:
            if device != "cuda":
                return None
            import torch

            return round(torch.cuda.max_memory_allocated() / 2**20, 1)

        def on_train_begin(self, args, state, control, **kw):  # noqa: ANN001
            self.t_train0 = self.t_last = self.t_saved = time.perf_counter()
            self.start_step = int(state.global_step)
            self.tokens_last = int(getattr(state, "num_input_tokens_seen", 0) or 0)
            post({"type": "stage", "stage": "train"})

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
            stop = stop_requested()
            now = time.perf_counter()
            minutes = float(cfg.save_every_minutes or 0)
            timed = saves and minutes > 0 and now - self.t_saved >= minutes * 60
            over = bool(max_minutes) and time.time() - deadline_from >= max_minutes * 60
            stop, timed, over = distributed.agree(stop, timed, over)
            if stop:
                self.stopped_by_user = True
                control.should_training_stop = True
            if over and not self.stopped_by_limit and not stop:
                self.stopped_by_limit = True
                control.should_training_stop = True
                key = "train.note.time_cap" if cfg.save else "train.note.time_cap_unsaved"
                post({"type": "note", "text": t(key, minutes=f"{max_minutes:g}", step=int(state.global_step))})
            if saves and (stop or timed or over):
                control.should_save = True
            return control

        def on_save(self, args, state, control, **kw):  # noqa: ANN001
            self.t_saved = time.perf_counter()
            if run is None or not distributed.is_main():
                return control
            changes: dict = {"step": int(state.global_step), "checkpoint": f"checkpoint-{state.global_step}",
                             "events_upto": run.n_events()}
            if self.best_loss is not None:
                changes["best"] = {"step": self.best_step, "loss": self.best_loss}
            if cfg.keep == "best" and self.best_dirty and self.best_state is not None:
                from safetensors.torch import save_file

                from lm_demo.training.runs import BEST_FILE

                tmp = run.path / f".{BEST_FILE}.tmp"
                save_file({k: v.contiguous() for k, v in self.best_state.items()}, str(tmp))
                os.replace(tmp, run.path / BEST_FILE)
                self.best_dirty = False
            run.update(**changes)
            return control

        def on_log(self, args, state, control, logs=None, **kw):  # noqa: ANN001
            logs = logs or {}
            if "loss" not in logs:
                return
            now = time.perf_counter()
            seen = int(getattr(state, "num_input_tokens_seen", 0) or 0)
            dt = max(now - self.t_last, 1e-9)
            tps = (seen - self.tokens_last) / dt if seen else None
            self.t_last, self.tokens_last = now, seen
            step = int(state.global_step)
            done = step - self.start_step
            eta = (now - self.t_train0) / done * max(state.max_steps - step, 0) if done > 0 else None
            loss = finite_float(logs.get("loss"))
            if loss is not None:
                self.train_losses.append((step, loss))
            post({
                "type": "train", "step": step, "epoch": finite_float(state.epoch), "loss": loss,
                "lr": finite_float(logs.get("learning_rate")), "grad_norm": finite_float(logs.get("grad_norm")),
                "tokens_per_s": None if tps is None else round(tps, 1), "tokens_seen": seen,
                "eta_s": None if eta is None else round(eta, 1), "total_steps": int(state.max_steps),
                "gpu_mem_mb": self._gpu_mem(),
            })

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):  # noqa: ANN001
            loss = eval_loss_of(metrics)
            step = int(state.global_step)
            self.last_eval_step, self.last_eval_loss = step, loss
            improved = loss is not None and (self.best_loss is None or loss < self.best_loss - 1e-6)
            if improved:
                self.best_loss, self.best_step, self.bad_evals = loss, step, 0
                if cfg.keep == "best" and model is not None:  # step 0 too: the base may be the best
                    self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                    self.best_dirty = True
            elif step > 0:
                self.bad_evals += 1
            if loss is not None:
                self.evals.append((step, loss))
            post({"type": "eval", "step": step, "epoch": finite_float(state.epoch), "eval_loss": loss,
                  "perplexity": perplexity(loss), "best": bool(improved), "total_steps": int(state.max_steps)})
            if self.overfit_step is None:
                found = overfitting(self.evals, self.train_losses)
                if found is not None:
                    self.overfit_step = found
                    post({"type": "overfit", "step": step, "best_step": found})
            if cfg.early_stopping_patience and self.bad_evals >= cfg.early_stopping_patience:
                self.stopped_early = True
                control.should_training_stop = True
                post({"type": "note", "text": t("train.note.early_stop", n=self.bad_evals)})
            if cfg.samples and model is not None and distributed.is_main():
                from lm_demo.training.samples import generate_sample

                # a few tokens before eos is allowed, or an early model just says "Había una vez!"
                text = generate_sample(model, tokenizer, cfg.sample_prompt, cfg.sample_max_new_tokens,
                                       seed=cfg.seed, min_new_tokens=min(8, cfg.sample_max_new_tokens))
                ev = post({"type": "sample", "step": step, "text": text})
                self.samples.append({"step": step, "text": ev["text"]})
            return control

    return JobCallback()


__all__ = ["make_callback", "overfitting"]
