"""The training runner: corpus → blocks → ``Trainer`` → the model kept → ``checkpoints/``.

``run_training(config, job=None, resume=None)`` is synchronous; the tab runs
it in a background job (``start_training`` / ``resume_training``), the CLI
and the model trials call it directly.  With a ``job`` it posts events to it
and honours its stop flag.  Order of work:

1. a memory check of the model's shape (``resources``), before any model is
   made; then the model (a trainable fp32 copy, never the cached inference
   one), the corpus (``lm_demo.corpora``, bounded, one preparation at a time)
   and tokens;
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
   process only.

Event types posted (all carry ``type``, ``seq``, ``t``): ``stage`` (corpus |
model | data | train | save), ``start`` (device, total_steps, params,
train/eval blocks, hyperparameters...), ``train``, ``eval``, ``sample``,
``note``, ``overfit`` (step, best_step), ``kept`` (which model was kept),
``saved`` (checkpoint), ``end`` (status, error).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import socket
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from lm_demo.errors import UserError
from lm_demo.jobs import JOBS, Job, default_threads, ensure_training_allowed
from lm_demo.locales import t, to_ref
from lm_demo.training import distributed
from lm_demo.training.config import TrainConfig
from lm_demo.training.metrics import perplexity

log = logging.getLogger("lm_demo.training")


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


class _Poster:
    """Where a run's events go: the job (UI), the history (metadata), the run folder (resume).

    Only the main process posts; the others keep a private history.
    """

    def __init__(self, job: Job | None) -> None:
        self.job = job if distributed.is_main() else None
        self.history: list[dict] = []
        self.run: Any = None

    def __call__(self, event: dict) -> dict:
        if event.get("type") == "note" and not event.get("ref"):  # written in the reader's language (training_view)
            event = {**event, "ref": to_ref(event.get("text"))}
        ev = self.job.post(event) if self.job is not None else dict(event, seq=len(self.history))
        self.history.append(ev)
        if self.run is not None and distributed.is_main():
            self.run.append_event(ev)
        return ev

    def note(self, text: str) -> None:
        self({"type": "note", "text": text})


def _prepare_model(cfg: TrainConfig) -> tuple[Any, Any, dict, list[str]]:
    """A fresh, trainable (fp32) copy of the base model, or a new random GPT-2.

    Never the instance in ``MODEL_CACHE``: the inference tabs keep using it
    while we train.  The tokenizer always comes from the base model.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from lm_demo.models import LOAD_LOCK, align_special_tokens, hub_reachable, load_model

    loaded = load_model(cfg.base_model)
    notes = list(loaded.notes)
    local_only = loaded.source != "hub" or not hub_reachable()
    with LOAD_LOCK:  # from_pretrained is not thread-safe against a concurrent load (see models.LOAD_LOCK)
        tok = AutoTokenizer.from_pretrained(loaded.resolved, local_files_only=local_only)
    if tok.eos_token_id is None:
        raise UserError("train.err.no_eos", name=loaded.name)
    info = {"base_model": loaded.name, "resolved": loaded.resolved, "source": loaded.source}
    if cfg.from_scratch:
        torch.manual_seed(cfg.seed)
        config = GPT2Config(
            vocab_size=len(tok), n_positions=cfg.n_positions or 128, n_embd=cfg.n_embd,
            n_layer=cfg.n_layer, n_head=cfg.n_head,
            bos_token_id=tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        )
        model = GPT2LMHeadModel(config)
        info.update(architecture="GPT2LMHeadModel", n_layer=cfg.n_layer, n_head=cfg.n_head, n_embd=cfg.n_embd)
    else:
        with LOAD_LOCK:
            model = AutoModelForCausalLM.from_pretrained(loaded.resolved, local_files_only=local_only,
                                                         dtype=torch.float32)
    align_special_tokens(model, tok)
    info["params"] = int(sum(p.numel() for p in model.parameters()))
    return model, tok, info, notes


def kept_key(kept: str, step: int | None, best_step: int | None) -> str:
    """The locale key that names the model a run kept (and the best one, when they differ)."""
    if kept == "best":
        return "train.note.kept_best"
    return "train.note.kept_final_best" if best_step is None or best_step == step else "train.note.kept_final"


def _auto_name(corpus_key: str, cfg: TrainConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = "scratch" if cfg.from_scratch else "ft"
    return f"{corpus_key}-{kind}-{stamp}"


def _total_steps(cfg: TrainConfig, train_blocks: int) -> int:
    per_step = cfg.batch_size * cfg.grad_accum * distributed.world_size()
    steps_per_epoch = max(1, math.ceil(train_blocks / per_step))
    return cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))


def _prepare_data(cfg: TrainConfig, post: _Poster, tok: Any, model: Any, params: int,
                  device: str) -> tuple[TrainConfig, Any, Any]:
    """(resolved config, corpus, PackedData) on the main process; the config alone elsewhere.

    The corpus is read and tokenized in the process's one preparation slot
    (``corpora.prepared``: bounded, one at a time, memory given back after);
    the resolved settings are then held to the caps (``caps``) and checked
    against the free memory (``resources``).  The corpus comes back without
    its texts (the blocks hold what training needs).
    """
    from lm_demo import corpora, packing
    from lm_demo.corpora.prepare import JOB_WAIT_S
    from lm_demo.training import caps, defaults, resources
    from lm_demo.training.samples import model_positions

    positions = model_positions(model)
    post({"type": "stage", "stage": "corpus"})

    def work() -> tuple[TrainConfig, Any, Any]:
        corpus = corpora.load_corpus(cfg.corpus)
        for n in corpus.notes:
            post.note(n)
        post({"type": "stage", "stage": "data"})
        ids = packing.tokenize_texts(corpus.texts, tok)
        n_tokens = sum(len(x) + 1 for x in ids)
        c, auto_notes = defaults.resolve(cfg, len(corpus.texts), n_tokens, params=params, device=device,
                                         positions=positions, world_size=distributed.world_size())
        for n in auto_notes:
            post.note(n)
        if c.block_size > positions:
            post.note(t("train.note.block_clamped", value=positions, max=positions))
            c = replace(c, block_size=positions)
        data = packing.build_datasets(corpus.texts, tok, block_size=c.block_size, recipe=c.recipe,
                                      eval_fraction=c.eval_fraction, seed=c.seed, max_eval_blocks=c.max_eval_blocks,
                                      ids=ids)
        for n in data.notes:
            post.note(n)
        return c, replace(corpus, texts=[]), data

    cfg, corpus, data = corpora.prepared(work, JOB_WAIT_S)
    per_step = cfg.batch_size * cfg.grad_accum * distributed.world_size()
    cfg, cap_notes = caps.bounded(cfg, max(1, math.ceil(len(data.train) / per_step)), device)
    for n in cap_notes:
        post.note(n)
    on_cpu = device != "cuda"
    resources.check(resources.model_shape(model), cfg.batch_size, cfg.block_size, device, cfg.from_scratch,
                    loaded=4 * params if on_cpu else 0, processes=distributed.world_size() if on_cpu else 1)
    return cfg, corpus, data


def run_training(config: TrainConfig, job: Job | None = None, resume: str | None = None) -> TrainResult:
    """Train one run (see the module docstring); ``resume`` names an interrupted run to continue.

    Raises ``UserError`` for anything the user can fix.
    """
    from lm_demo.training import runs

    t0 = time.perf_counter()
    distributed.quiet_others()
    post = _Poster(job)
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
    model, tok, model_info, mnotes = _prepare_model(cfg)
    for n in mnotes:
        post.note(n)

    # data: the main process prepares it once; the others get the resolved config and read the blocks
    corpus = data = None
    with distributed.main_first():
        if distributed.is_main():
            cfg, corpus, data = _prepare_data(cfg, post, tok, model, model_info["params"], device)
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

            name = sanitize_name(cfg.output_name) if cfg.output_name.strip() else _auto_name(corpus.key, cfg)
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
    return _finish(cfg, cb, state, model, tok, model_info, corpus, data, post, notes, run, device, t0, resumed_from)


def _finish(cfg: TrainConfig, cb: Any, state: Any, model: Any, tok: Any, model_info: dict, corpus: Any, data: Any,
            post: _Poster, notes: list[str], run: Any, device: str, t0: float, resumed_from: int | None) -> TrainResult:
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
        name = saved_as or (run.data.get("name") if run is not None else None) or _auto_name(corpus.key, cfg)
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
    from lm_demo.training import runs

    from lm_demo.models import pick_device
    from lm_demo.training import resources

    ensure_training_allowed()
    run = runs.open_free(name)
    cfg = run.config()
    resources.check_config(cfg, pick_device()[0])
    desc = {"corpus": run.data.get("corpus_label"), "base_model": cfg.base_model, "from_scratch": cfg.from_scratch,
            "recipe": cfg.recipe, "max_steps": cfg.max_steps, "epochs": cfg.epochs, "keep": cfg.keep,
            "run": run.name, "resume": True}
    here = replace(cfg, progress_bar=False, num_threads=default_threads())
    return JOBS.start("train", lambda job: run_training(here, job, resume=run.name), desc)


__all__ = ["TrainResult", "run_training", "start_training", "resume_training", "kept_key"]
