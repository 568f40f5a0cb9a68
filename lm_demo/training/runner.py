"""The training runner: corpus → blocks → ``Trainer`` → the model kept → ``checkpoints/``.

``run_training(config, job=None, resume=None)`` is synchronous; the tab runs
it in a background job (``background``: ``start_training`` / ``resume_training``), the CLI
and the model trials call it directly.  With a ``job`` it posts events to it
and honours its stop flag.  Order of work:

1. a memory check of the model's shape (``resources``), before any model is
   made; then the model (a trainable fp32 copy, never the cached inference
   one), the corpus (``lm_demo.corpora``, bounded, one preparation at a time)
   and tokens (steps 1-3: ``preparation``);
2. the automatic hyperparameters for this corpus (``defaults.resolve``), held
   to the Space's step/epoch caps (``caps``), and the memory checked again
   with the batch and block now known;
3. blocks (``lm_demo.packing``); under ``torchrun`` the main process
   prepares them once and the others read them (``distributed``);
4. a run folder (``runs``) with periodic resumable checkpoints, unless the
   run saves nothing (the trials);
5. ``Trainer.train`` with the callback (``callbacks``), resumed from the run's
   last checkpoint when ``resume`` names an interrupted run;
6. the model kept: the final one (default) or the best by evaluation loss
   (``TrainConfig.keep``), both named in the result; saved by the main
   process only (``outcome``).

Event types posted (all carry ``type``, ``seq``, ``t``): ``stage`` (corpus |
model | data | train | save), ``start`` (device, total_steps, params,
train/eval blocks, hyperparameters...), ``train``, ``eval``, ``sample``,
``note``, ``overfit`` (step, best_step), ``kept`` (which model was kept),
``saved`` (checkpoint), ``end`` (status, error); they go through ``events.Poster``.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import tempfile
import time
from dataclasses import replace

from lm_demo.jobs import Job
from lm_demo.locales import t
from lm_demo.training import distributed
from lm_demo.training.config import TrainConfig
from lm_demo.training.events import Poster
from lm_demo.training.outcome import TrainResult, auto_name, finish
from lm_demo.training.preparation import prepare_data, prepare_model


def _total_steps(cfg: TrainConfig, train_blocks: int) -> int:
    per_step = cfg.batch_size * cfg.grad_accum * distributed.world_size()
    steps_per_epoch = max(1, math.ceil(train_blocks / per_step))
    return cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))


def run_training(config: TrainConfig, job: Job | None = None, resume: str | None = None) -> TrainResult:
    """Train one run (see the module docstring); ``resume`` names an interrupted run to continue.

    Raises ``UserError`` for anything the user can fix.
    """
    from lm_demo.training import runs

    t0 = time.perf_counter()
    distributed.quiet_others()
    post = Poster(job)
    run = None
    prior: list[dict] = []
    if resume:  # refused while another process (or job) trains it; taken up at once otherwise
        run = runs.claim(resume, job) if distributed.is_main() else runs.open_run(resume)
        # the run's own settings; only how this process shows and runs it comes from the caller
        config = replace(run.config(), progress_bar=config.progress_bar, num_threads=config.num_threads)
        post.run = None  # replayed events are already in the file
        prior = run.keep_events(run.data.get("events_upto") or 0) if run.checkpoint() else run.keep_events(0)
        for ev in prior:
            if ev.get("type") in runs.REPLAYED:
                post({k: v for k, v in ev.items() if k not in ("seq", "t")} | {"replayed": True})
        prior = list(post.history)
    cfg, notes = config.validated()
    for n in notes:
        post.note(n)

    import torch

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)  # process-wide in practice (see lm_demo.jobs.default_threads)
    from transformers import PrinterCallback, TrainingArguments, default_data_collator

    from lm_demo.training.exact_eval import exact_eval_trainer
    from transformers.utils import logging as hf_logging

    from lm_demo.models import pick_device

    distributed.setup()
    device, _ = pick_device()
    post({"type": "stage", "stage": "model"})
    if cfg.from_scratch and not cfg.n_positions:  # fixed now, so that a resumed run builds the same model
        cfg = replace(cfg, n_positions=max(cfg.block_size or 128, 64))
    from lm_demo.training import caps, resources

    resources.check_config(cfg, device)  # before a model of any size is made
    model, tok, model_info, mnotes = prepare_model(cfg)
    for n in mnotes:
        post.note(n)

    # data: the main process prepares it once; the others get the resolved config and read the blocks
    corpus = data = None
    with distributed.main_first():
        if distributed.is_main():
            cfg, corpus, data = prepare_data(cfg, post, tok, model, model_info["params"], device)
    cfg = distributed.broadcast(cfg)

    def stopped_before_training() -> TrainResult:
        return TrainResult("stopped", None, None, None, None, None, 0, 0.0, time.perf_counter() - t0, 0, device,
                           post.history, [], notes, False, model=model, tokenizer=tok)

    if job is not None and job.stop_requested and run is None:
        return stopped_before_training()

    total = _total_steps(cfg, len(data.train)) if data is not None else 0
    total = distributed.broadcast(total)
    out_dir = None
    if distributed.is_main():
        if run is not None:
            post.run = run
            run.update(status="running", pid=os.getpid(), host=socket.gethostname(), owner=runs.owner_key(job))
        elif cfg.save:
            from lm_demo.checkpoints import sanitize_name

            name = sanitize_name(cfg.output_name) if cfg.output_name.strip() else auto_name(corpus.key, cfg)
            kept = caps.max_kept_runs()
            pruned = runs.prune_runs(kept - 1) if kept else []  # room for this one (caps: disk on a Space)
            if pruned:
                post.note(t("train.note.runs_pruned", names=", ".join(f"«{n}»" for n in pruned), n=kept))
            run, cfg = runs.create_run(cfg, name, corpus.label, total, owner=runs.owner_key(job))
            post.run = run
            for ev in post.history:  # the events so far belong to the run too
                run.append_event(ev)
        out_dir = str(run.path) if run is not None else tempfile.mkdtemp(prefix=runs.TEMP_PREFIX)
        if distributed.is_distributed():  # the other ranks read the blocks the main process made
            data.train.save_to_disk(f"{out_dir}/.data/train")
            data.eval.save_to_disk(f"{out_dir}/.data/eval")
    out_dir = distributed.broadcast(out_dir)
    has_run = distributed.broadcast(run is not None)
    if data is None:
        from datasets import load_from_disk

        train_ds, eval_ds = load_from_disk(f"{out_dir}/.data/train"), load_from_disk(f"{out_dir}/.data/eval")
    else:
        train_ds, eval_ds = data.train, data.eval
    ckpt = run.checkpoint() if run is not None and resume else None
    ckpt = distributed.broadcast(str(ckpt) if ckpt else None)
    resumed_from = int(run.data.get("step") or 0) if ckpt and run is not None else None
    if resumed_from is not None:
        post.note(t("train.note.resumed", step=resumed_from, total=total))

    use_cuda = device == "cuda"
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    logging_steps = cfg.logging_steps or max(1, min(10, total // 100))
    args = TrainingArguments(
        output_dir=out_dir, per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps, lr_scheduler_type="linear",
        eval_strategy="steps", eval_steps=cfg.eval_steps, eval_on_start=ckpt is None, prediction_loss_only=True,
        logging_strategy="steps", logging_steps=logging_steps, report_to="none",
        save_strategy="steps" if has_run and cfg.save_every_steps else "no",
        save_steps=cfg.save_every_steps or 10**9, save_total_limit=2,
        include_num_input_tokens_seen="non_padding", seed=cfg.seed, data_seed=cfg.seed,
        bf16=bf16, fp16=bool(use_cuda and not bf16), use_cpu=not use_cuda,
        dataloader_pin_memory=use_cuda, disable_tqdm=not cfg.progress_bar, remove_unused_columns=False,
        ddp_find_unused_parameters=False,
    )
    from lm_demo.training.callbacks import make_callback

    cb = make_callback(cfg, post, tok, device, stop_requested=lambda: job is not None and job.stop_requested,
                       run=run, saves=bool(has_run and cfg.save_every_steps), prior=prior,
                       start_step=resumed_from or 0, max_minutes=caps.max_minutes(device),
                       started_at=job.started_at if job is not None else None)
    if ckpt and cfg.keep == "best" and run is not None:
        best_file = run.path / runs.BEST_FILE
        if best_file.is_file():
            from safetensors.torch import load_file

            cb.best_state = load_file(str(best_file))
    post({
        "type": "start", "device": device, "dtype": "bf16" if bf16 else ("fp16" if use_cuda else "fp32"),
        "total_steps": total, "epochs": cfg.epochs, "params": model_info.get("params"),
        "train_blocks": len(train_ds), "eval_blocks": len(eval_ds), "block_size": cfg.block_size,
        "recipe": cfg.recipe, "threads": torch.get_num_threads(), "base_model": model_info["base_model"],
        "from_scratch": cfg.from_scratch, "processes": distributed.world_size(), "keep": cfg.keep,
        "learning_rate": cfg.learning_rate, "batch_size": cfg.batch_size, "eval_steps": cfg.eval_steps,
        "run": run.name if run is not None else None, "resumed_from": resumed_from,
    })
    if job is not None and run is not None:
        job.description["run"] = run.name
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    try:
        hf_logging.set_verbosity_error()  # "no label_names" and similar chatter
        hf_logging.disable_progress_bar()  # "Writing model shards" at every checkpoint
        # Evaluation (and training) loss per predicted token: the app's one perplexity convention.
        trainer = exact_eval_trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                                     data_collator=default_data_collator, callbacks=[cb], processing_class=tok)
        if not cfg.progress_bar:
            trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout
        trainer.train(resume_from_checkpoint=ckpt)
        state = trainer.state
        if cb.last_eval_step != state.global_step:  # stopped or ended between evaluations
            trainer.evaluate()
    except BaseException:
        if run is not None and distributed.is_main():
            run.update(status="error")
        raise
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
        if run is None and distributed.is_main() and out_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
    model = trainer.model
    return finish(cfg, cb, state, model, tok, model_info, corpus, data, post, notes, run, device, t0, resumed_from)


__all__ = ["run_training"]
