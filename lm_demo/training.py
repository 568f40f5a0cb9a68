"""Fine-tune (or train from scratch) a GPT-2 on a corpus, in a background job.

Why this shape: the class watches a model learn live, in a web app that must
keep answering the other tabs.  So training runs in one background thread
per process (one job at a time: the CPU or the GPU is shared), reports
events to an ordered, locked list that any page can re-read from the start
(reload = redraw the whole history), and stops through a flag that a
``TrainerCallback`` turns into ``control.should_training_stop``.

Public API (stable; other features build on it)
------------------------------------------------
``JOBS: JobRegistry``  the process-wide, locked registry of background jobs.

``JOBS.start(kind, target, description=None) -> Job``
    Runs ``target(job)`` in a daemon thread.  Raises ``UserError`` (key
    ``train.err.busy``) while another job of any kind runs.  When ``target``
    returns, the job is "finished" (or "stopped" when a stop was requested;
    a return value with a ``status`` attribute of "finished"/"stopped", like
    ``TrainResult``, decides instead); its return value, if not None,
    becomes ``job.result``.  A ``UserError``
    makes the job "error" with its Spanish message; any other exception
    (CUDA out-of-memory included) is logged and becomes a Spanish message
    with advice.  The last event of every job is ``{"type": "end", ...}``.
``JOBS.running() -> Job | None``, ``JOBS.current() -> Job | None`` (the
    running job, else the most recent one), ``JOBS.latest(kind)``,
    ``JOBS.get(job_id)``.

``Job``: ``id``, ``kind``, ``description`` (dict), ``status`` ("running" |
    "finished" | "stopped" | "error"), ``error`` (message or None),
    ``result``, ``started_at`` / ``ended_at`` (epoch seconds),
    ``events`` (ordered list of dicts; each gets ``seq`` and ``t``, seconds
    since start), ``events_since(n)``, ``post(event)``, ``request_stop()``,
    ``stop_requested``, ``running``, ``wait(timeout)``, ``snapshot()``.

``TrainConfig`` (dataclass: corpus spec, base model or from-scratch shape,
    recipe "packed" | "padded", hyperparameters, sample prompt, output
    name) and ``TrainConfig.validated() -> (TrainConfig, notes)``.
``run_training(config, job=None) -> TrainResult``: the synchronous runner
    that the thread, the CLI (``python -m lm_demo.train``) and the model
    trials call.  With a ``job`` it posts events to it and honours its stop
    flag; without one it just runs.  ``TrainResult`` has the checkpoint name
    and path (None when ``config.save`` is False or it stopped before the
    first step), status, eval loss / perplexity, history, samples, and the
    trained ``model`` / ``tokenizer`` (in memory, not serialised).
``start_training(config) -> Job``: ``JOBS.start("train", ...)`` after
    ``ensure_training_allowed()`` (``LM_DEMO_ALLOW_TRAINING=0`` disables
    training, e.g. on a public Space).

Event types posted during training (all carry ``type``, ``seq``, ``t``):
``stage`` (stage: corpus | model | data | train | save), ``start`` (device,
total_steps, params, train/eval blocks...), ``train`` (step, epoch, loss,
lr, grad_norm, tokens_per_s, tokens_seen, eta_s, gpu_mem_mb), ``eval``
(step, epoch, eval_loss, perplexity, best), ``sample`` (step, text),
``note`` (text), ``saved`` (checkpoint), ``end`` (status, error).

Threads: the training thread in the app uses all cores but one
(``LM_DEMO_TRAIN_THREADS`` overrides).  ``torch.set_num_threads`` acts on the
whole process in practice (measured: after the training thread sets 1, the
other threads report 1 too), so while a job trains the inference requests
also run on fewer threads; on 2 cores, with requests and training competing,
one thread per forward is what keeps them from slowing each other down.  The
job thread also runs at a lower priority (``JobRegistry.start`` calls
``lower_thread_priority``),
so a request never waits for a training step to give the CPU back.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, Callable

from lm_demo.corpora import CorpusSpec
from lm_demo.errors import UserError
from lm_demo.locales import t

log = logging.getLogger("lm_demo.training")

JOB_STATUSES = ("running", "finished", "stopped", "error")


# --------------------------------------------------------------------------- jobs
class Job:
    """One background job: an ordered event list, a stop flag, a final status."""

    def __init__(self, kind: str, description: dict | None = None) -> None:
        self.id = uuid.uuid4().hex[:10]
        self.kind = kind
        self.description = dict(description or {})
        self.status = "running"
        self.error: str | None = None
        self.error_key: str | None = None
        self.result: Any = None
        self.started_at = time.time()
        self.ended_at: float | None = None
        self._events: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self.thread: threading.Thread | None = None

    # events ---------------------------------------------------------------
    def post(self, event: dict) -> dict:
        """Append an event (a copy, with ``seq`` and ``t`` added) and return it."""
        with self._lock:
            ev = dict(event)
            ev["seq"] = len(self._events)
            ev["t"] = round(time.time() - self.started_at, 3)
            self._events.append(ev)
            return ev

    @property
    def events(self) -> list[dict]:
        with self._lock:
            return list(self._events)

    def events_since(self, n: int) -> list[dict]:
        """Events with ``seq >= n`` (what a poller has not seen yet)."""
        with self._lock:
            return list(self._events[max(0, int(n)):])

    # stop -----------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # state ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.status == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends; True if it did within ``timeout``."""
        return self._done.wait(timeout)

    def finish(self, status: str, result: Any = None, error: str | None = None,
               error_key: str | None = None) -> None:
        """Mark the job ended (called by the registry; usable for unregistered jobs)."""
        if status not in JOB_STATUSES:
            raise ValueError(status)
        with self._lock:
            if self.status != "running":
                return
            if result is not None:
                self.result = result
            self.error, self.error_key = error, error_key
            self.ended_at = time.time()
        self.post({"type": "end", "status": status, "error": error})
        with self._lock:
            self.status = status
        self._done.set()

    def snapshot(self) -> dict:
        """A JSON-friendly summary (no events)."""
        res = self.result
        if hasattr(res, "summary"):
            res = res.summary()
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "error": self.error,
            "description": self.description, "started_at": self.started_at, "ended_at": self.ended_at,
            "n_events": len(self._events), "stop_requested": self.stop_requested, "result": res,
        }

    def __repr__(self) -> str:
        return f"Job({self.id!r}, kind={self.kind!r}, status={self.status!r}, events={len(self._events)})"


def kind_label(kind: str) -> str:
    """The Spanish name of a job kind ("entrenamiento", ...), or the kind itself."""
    text = t(f"train.kind.{kind}")
    return kind if text == f"train.kind.{kind}" else text


def _error_message(e: BaseException) -> tuple[str, str]:
    """(message, key) in Spanish for an exception raised inside a job."""
    if isinstance(e, UserError):
        return e.message("es"), e.key
    text = f"{type(e).__name__}: {e}"
    if "out of memory" in text.lower() or type(e).__name__ == "OutOfMemoryError":
        return t("train.err.oom"), "train.err.oom"
    return t("train.err.failed", detail=type(e).__name__), "train.err.failed"


class JobRegistry:
    """At most one running background job per process; the last few are kept."""

    def __init__(self, keep: int = 5) -> None:
        self._lock = threading.Lock()
        self._jobs: list[Job] = []
        self._keep = keep

    def start(self, kind: str, target: Callable[[Job], Any], description: dict | None = None) -> Job:
        """Run ``target(job)`` in a daemon thread; ``UserError`` if a job is running."""
        with self._lock:
            busy = next((j for j in self._jobs if j.running), None)
            if busy is not None:
                raise UserError("train.err.busy", kind=kind_label(busy.kind))
            job = Job(kind, description)
            self._jobs.append(job)
            del self._jobs[:-self._keep]

        def work() -> None:
            lower_thread_priority()  # every job is background work: requests go first
            try:
                out = target(job)
                status = getattr(out, "status", None)
                if status not in ("finished", "stopped"):
                    status = "stopped" if job.stop_requested else "finished"
                job.finish(status, result=out)
            except BaseException as e:  # noqa: BLE001 - a job must always end with a message
                msg, key = _error_message(e)
                if not isinstance(e, UserError):
                    log.exception("background job %s (%s) failed", job.id, kind)
                job.finish("error", error=msg, error_key=key)

        job.thread = threading.Thread(target=work, name=f"lm_demo-job-{kind}-{job.id}", daemon=True)
        job.thread.start()
        return job

    def running(self) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs if j.running), None)

    def current(self) -> Job | None:
        """The running job, else the most recent one (None before the first)."""
        with self._lock:
            run = next((j for j in self._jobs if j.running), None)
            return run or (self._jobs[-1] if self._jobs else None)

    def latest(self, kind: str) -> Job | None:
        """The most recent job of ``kind`` (running or not)."""
        with self._lock:
            return next((j for j in reversed(self._jobs) if j.kind == kind), None)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs if j.id == job_id), None)

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)


JOBS = JobRegistry()


def training_allowed() -> bool:
    """False when ``LM_DEMO_ALLOW_TRAINING`` is 0/false/no/off (public Spaces)."""
    return os.environ.get("LM_DEMO_ALLOW_TRAINING", "1").strip().lower() not in ("0", "false", "no", "off")


def ensure_training_allowed() -> None:
    if not training_allowed():
        raise UserError("train.err.disabled")


# --------------------------------------------------------------------------- config
RECIPES = ("packed", "padded")


@dataclass
class TrainConfig:
    """Everything one training run needs; ``validated()`` applies the clamps.

    ``recipe="packed"`` joins texts with eos and cuts blocks of
    ``block_size`` (no padding, eos is learned); ``"padded"`` is the seeds'
    recipe: each text truncated/padded to ``block_size`` with pad == eos and
    every eos label masked, kept for the comparison in class.
    """

    corpus: CorpusSpec = field(default_factory=CorpusSpec)
    base_model: str = "gpt2-es-tiny"
    from_scratch: bool = False
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    recipe: str = "packed"
    block_size: int = 128
    epochs: float = 1.0
    learning_rate: float = 5e-4
    batch_size: int = 8
    grad_accum: int = 1
    weight_decay: float = 0.01
    warmup_steps: int = 0
    eval_steps: int = 50
    max_steps: int = 0  # 0 = run the epochs
    seed: int = 42
    early_stopping_patience: int = 0  # evaluations without improvement; 0 = off
    eval_fraction: float = 0.1
    max_eval_blocks: int = 64
    logging_steps: int = 0  # 0 = automatic
    sample_prompt: str = "Había una vez"
    sample_max_new_tokens: int = 40
    samples: bool = True
    output_name: str = ""  # "" = automatic (corpus + date)
    save: bool = True
    num_threads: int = 0  # 0 = leave torch's default
    progress_bar: bool = False

    def validated(self) -> tuple["TrainConfig", list[str]]:
        """The config with numbers in range; notes say what was clamped."""
        notes: list[str] = []
        c = replace(self)

        def clamp(name: str, lo: float, hi: float, cast: type = int) -> None:
            raw = getattr(c, name)
            try:
                v = cast(raw)
                if isinstance(v, float) and math.isnan(v):
                    raise ValueError
            except (TypeError, ValueError):
                raise UserError("err.bad_number", field=t(f"train.hp.{name}")) from None
            nv = min(max(v, cast(lo)), cast(hi))
            if nv != v:
                notes.append(t("note.clamped", field=t(f"train.hp.{name}"), value=nv, lo=lo, hi=hi))
            setattr(c, name, nv)

        clamp("block_size", 8, 2048)
        clamp("epochs", 0.01, 100, float)
        clamp("learning_rate", 0.0, 1e-1, float)
        clamp("batch_size", 1, 512)
        clamp("grad_accum", 1, 256)
        clamp("weight_decay", 0.0, 1.0, float)
        clamp("warmup_steps", 0, 100_000)
        clamp("eval_steps", 1, 100_000)
        clamp("max_steps", 0, 1_000_000)
        clamp("seed", 0, 2**31 - 1)
        clamp("early_stopping_patience", 0, 100)
        clamp("eval_fraction", 0.01, 0.5, float)
        clamp("max_eval_blocks", 1, 10_000)
        clamp("logging_steps", 0, 100_000)
        clamp("sample_max_new_tokens", 1, 200)
        clamp("n_layer", 1, 24)
        clamp("n_head", 1, 32)
        clamp("n_embd", 8, 2048)
        clamp("num_threads", 0, 256)
        if c.recipe not in RECIPES:
            raise UserError("train.err.bad_recipe", recipe=c.recipe)
        if c.from_scratch and c.n_embd % c.n_head:
            nv = max(c.n_head, (c.n_embd // c.n_head) * c.n_head)
            notes.append(t("train.note.width_rounded", width=nv, heads=c.n_head))
            c.n_embd = nv
        c.base_model = (c.base_model or "").strip() or "gpt2-es-tiny"
        c.sample_prompt = (c.sample_prompt or "").strip() or "Había una vez"
        return c, notes

    def hyperparameters(self) -> dict:
        """The config minus the corpus, JSON-friendly (for metadata)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "corpus"}
        d.pop("progress_bar", None)
        return d


@dataclass
class TrainResult:
    """What a run produced; ``model``/``tokenizer`` stay in memory only."""

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
    model: Any = field(default=None, repr=False)
    tokenizer: Any = field(default=None, repr=False)

    def summary(self) -> dict:
        """JSON-friendly fields (no model, no history)."""
        return {k: v for k, v in asdict(self).items() if k not in ("model", "tokenizer", "history")} | {
            "model": None, "tokenizer": None}


# --------------------------------------------------------------------------- presets
#: One-click hyperparameter presets.  The seeds' recipes (values as in their
#: scripts, plus our packing) and a quick one for a class demo on CPU.
HP_PRESETS: dict[str, dict[str, Any]] = {
    "demo": dict(epochs=1.0, learning_rate=5e-4, batch_size=8, grad_accum=1, block_size=128,
                 weight_decay=0.01, warmup_steps=10, eval_steps=20, max_steps=200, early_stopping_patience=0),
    "seed000": dict(epochs=3.0, learning_rate=5e-5, batch_size=8, grad_accum=1, block_size=256,
                    weight_decay=0.01, warmup_steps=100, eval_steps=200, max_steps=0, early_stopping_patience=0),
    "seed001": dict(epochs=2.0, learning_rate=5e-5, batch_size=2, grad_accum=4, block_size=128,
                    weight_decay=0.0, warmup_steps=0, eval_steps=50, max_steps=0, early_stopping_patience=0),
    "seed002": dict(epochs=3.0, learning_rate=5e-5, batch_size=2, grad_accum=1, block_size=512,
                    weight_decay=0.01, warmup_steps=500, eval_steps=500, max_steps=0, early_stopping_patience=0),
    "seed003": dict(epochs=5.0, learning_rate=5e-4, batch_size=16, grad_accum=1, block_size=128,
                    weight_decay=0.1, warmup_steps=100, eval_steps=100, max_steps=0, early_stopping_patience=0),
    "seed004": dict(epochs=4.0, learning_rate=5e-5, batch_size=4, grad_accum=2, block_size=256,
                    weight_decay=0.01, warmup_steps=50, eval_steps=100, max_steps=0, early_stopping_patience=2),
}


# --------------------------------------------------------------------------- runner
def _post(job: "Job | None", history: list[dict], event: dict) -> dict:
    ev = job.post(event) if job is not None else dict(event, seq=len(history))
    history.append(ev)
    return ev


def finite_float(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing, not a number, NaN or infinite (JSON-safe metrics)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def perplexity(loss: float | None) -> float | None:
    """exp(loss), capped so a diverged run shows a huge number, not an overflow."""
    if loss is None or not math.isfinite(loss):
        return None
    return math.exp(min(loss, 50.0))


BACKGROUND_NICE = 10


def lower_thread_priority(nice: int | None = None) -> bool:
    """Let inference requests go first: raise the calling thread's nice value.

    Why: on a 2-core machine a training job and a room of students share the
    CPU; a request that waits behind a training step is what the students
    feel.  Linux keeps the nice value per thread and new threads (OpenMP
    workers) inherit it, so only the training thread yields.  Best effort:
    returns False where the OS has no per-thread priority.
    ``LM_DEMO_TRAIN_NICE`` overrides the value (0 turns it off).
    """
    env = os.environ.get("LM_DEMO_TRAIN_NICE", "").strip()
    value = int(env) if env.lstrip("-").isdigit() else (BACKGROUND_NICE if nice is None else nice)
    if value <= 0:
        return False
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, max(current, value)))
        return True
    except (AttributeError, OSError):
        return False


def default_threads() -> int:
    """Threads for a background training thread: all cores but one (see module doc)."""
    env = os.environ.get("LM_DEMO_TRAIN_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 2) - 1)


def _prepare_model(cfg: TrainConfig, block_size: int) -> tuple[Any, Any, dict, list[str]]:
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
            vocab_size=len(tok), n_positions=max(block_size, 64), n_embd=cfg.n_embd, n_layer=cfg.n_layer,
            n_head=cfg.n_head, bos_token_id=tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id,
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


def _model_positions(model: Any) -> int:
    cfg = model.config
    for attr in ("n_positions", "max_position_embeddings"):
        if getattr(cfg, attr, None):
            return int(getattr(cfg, attr))
    return 1024


def generate_sample(model: Any, tokenizer: Any, prompt: str, max_new_tokens: int = 40, seed: int = 0,
                    temperature: float = 0.8, top_k: int = 50, top_p: float = 0.95,
                    repetition_penalty: float = 1.0, stopping_criteria: Any = None, min_new_tokens: int = 0) -> str:
    """A short sample (prompt + continuation), same random stream every call.

    ``fork_rng`` keeps the sample from disturbing the training RNG, and the
    fixed seed makes successive samples differ only because the model did.
    """
    import torch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    enc = tokenizer(prompt, return_tensors="pt").to(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            greedy = temperature < 1e-4
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=not greedy,
                temperature=None if greedy else temperature, top_k=int(top_k),
                top_p=top_p if top_p < 1 else None, repetition_penalty=repetition_penalty,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                stopping_criteria=stopping_criteria, min_new_tokens=min(min_new_tokens, max_new_tokens) or None,
            )
    finally:
        if was_training:
            model.train()
    return tokenizer.decode(out[0], skip_special_tokens=True)


def _make_callback(cfg: TrainConfig, job: Job | None, history: list[dict], tokenizer: Any, device: str) -> Any:
    from transformers import TrainerCallback

    class JobCallback(TrainerCallback):
        """Turns Trainer events into job events; stop flag -> should_training_stop."""

        def __init__(self) -> None:
            self.best_loss: float | None = None
            self.best_step: int | None = None
            self.best_state: dict | None = None
            self.bad_evals = 0
            self.stopped_early = False
            self.stopped_by_user = False
            self.last_eval_step: int | None = None
            self.last_eval_loss: float | None = None
            self.t_train0 = time.perf_counter()
            self.t_last = self.t_train0
            self.tokens_last = 0
            self.samples: list[dict] = []

        def _gpu_mem(self) -> float | None:
            if device != "cuda":
                return None
            import torch

            return round(torch.cuda.max_memory_allocated() / 2**20, 1)

        def on_train_begin(self, args, state, control, **kw):  # noqa: ANN001
            self.t_train0 = self.t_last = time.perf_counter()
            _post(job, history, {"type": "stage", "stage": "train"})

        def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
            if job is not None and job.stop_requested:
                self.stopped_by_user = True
                control.should_training_stop = True
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
            elapsed = now - self.t_train0
            eta = elapsed / step * max(state.max_steps - step, 0) if step else None
            _post(job, history, {
                "type": "train", "step": step, "epoch": finite_float(state.epoch),
                "loss": finite_float(logs.get("loss")), "lr": finite_float(logs.get("learning_rate")),
                "grad_norm": finite_float(logs.get("grad_norm")),
                "tokens_per_s": None if tps is None else round(tps, 1), "tokens_seen": seen,
                "eta_s": None if eta is None else round(eta, 1), "total_steps": int(state.max_steps),
                "gpu_mem_mb": self._gpu_mem(),
            })

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):  # noqa: ANN001
            loss = finite_float((metrics or {}).get("eval_loss"))
            step = int(state.global_step)
            self.last_eval_step, self.last_eval_loss = step, loss
            improved = loss is not None and (self.best_loss is None or loss < self.best_loss - 1e-6)
            if improved:
                self.best_loss, self.best_step, self.bad_evals = loss, step, 0
                if model is not None:  # step 0 too: fine-tuning may only make things worse
                    self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            elif step > 0:
                self.bad_evals += 1
            _post(job, history, {
                "type": "eval", "step": step, "epoch": finite_float(state.epoch), "eval_loss": loss,
                "perplexity": perplexity(loss), "best": bool(improved), "total_steps": int(state.max_steps),
            })
            if cfg.early_stopping_patience and self.bad_evals >= cfg.early_stopping_patience:
                self.stopped_early = True
                control.should_training_stop = True
                _post(job, history, {"type": "note", "text": t("train.note.early_stop", n=self.bad_evals)})
            if cfg.samples and model is not None:
                # a few tokens before eos is allowed, or an early model just says "Había una vez!"
                text = generate_sample(model, tokenizer, cfg.sample_prompt, cfg.sample_max_new_tokens, seed=cfg.seed,
                                       min_new_tokens=min(8, cfg.sample_max_new_tokens))
                ev = _post(job, history, {"type": "sample", "step": step, "text": text})
                self.samples.append({"step": step, "text": ev["text"]})
            return control

    return JobCallback()


def _auto_name(corpus_key: str, cfg: TrainConfig) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = "scratch" if cfg.from_scratch else "ft"
    return f"{corpus_key}-{kind}-{stamp}"


def run_training(config: TrainConfig, job: Job | None = None) -> TrainResult:
    """Load the corpus, pack it, train with ``Trainer``, keep the best, save.

    Synchronous; ``job`` (optional) receives the events and carries the stop
    flag.  Raises ``UserError`` for anything the user can fix.
    """
    from lm_demo import corpora, packing

    t0 = time.perf_counter()
    history: list[dict] = []
    cfg, notes = config.validated()
    for n in notes:
        _post(job, history, {"type": "note", "text": n})

    import torch

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)  # this thread only (see module docstring)
    from transformers import PrinterCallback, Trainer, TrainingArguments, default_data_collator
    from transformers.utils import logging as hf_logging

    from lm_demo.models import pick_device

    device, _ = pick_device()
    _post(job, history, {"type": "stage", "stage": "corpus"})
    corpus = corpora.load_corpus(cfg.corpus)
    for n in corpus.notes:
        _post(job, history, {"type": "note", "text": n})

    _post(job, history, {"type": "stage", "stage": "model"})
    model, tok, model_info, mnotes = _prepare_model(cfg, cfg.block_size)
    for n in mnotes:
        _post(job, history, {"type": "note", "text": n})
    positions = _model_positions(model)
    block = cfg.block_size
    if block > positions:
        block = positions
        _post(job, history, {"type": "note", "text": t("train.note.block_clamped", value=block, max=positions)})

    _post(job, history, {"type": "stage", "stage": "data"})
    data = packing.build_datasets(corpus.texts, tok, block_size=block, recipe=cfg.recipe,
                                  eval_fraction=cfg.eval_fraction, seed=cfg.seed, max_eval_blocks=cfg.max_eval_blocks)
    for n in data.notes:
        _post(job, history, {"type": "note", "text": n})

    def stopped_before_training() -> TrainResult:
        return TrainResult("stopped", None, None, None, None, None, 0, 0.0, time.perf_counter() - t0, 0, device,
                           history, [], notes, False, model, tok)

    if job is not None and job.stop_requested:
        return stopped_before_training()

    use_cuda = device == "cuda"
    bf16 = bool(use_cuda and torch.cuda.is_bf16_supported())
    steps_per_epoch = max(1, math.ceil(len(data.train) / cfg.batch_size / cfg.grad_accum))
    total = cfg.max_steps or max(1, math.ceil(steps_per_epoch * cfg.epochs))
    logging_steps = cfg.logging_steps or max(1, min(10, total // 100))
    out_dir = tempfile.mkdtemp(prefix="lm_demo-train-")
    args = TrainingArguments(
        output_dir=out_dir, per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps, lr_scheduler_type="linear",
        eval_strategy="steps", eval_steps=cfg.eval_steps, eval_on_start=True, prediction_loss_only=True,
        logging_strategy="steps", logging_steps=logging_steps, save_strategy="no", report_to="none",
        include_num_input_tokens_seen="non_padding", seed=cfg.seed, data_seed=cfg.seed,
        bf16=bf16, fp16=bool(use_cuda and not bf16), use_cpu=not use_cuda,
        dataloader_pin_memory=use_cuda, disable_tqdm=not cfg.progress_bar, remove_unused_columns=False,
    )
    cb = _make_callback(cfg, job, history, tok, device)
    _post(job, history, {
        "type": "start", "device": device, "dtype": "bf16" if bf16 else ("fp16" if use_cuda else "fp32"),
        "total_steps": total, "epochs": cfg.epochs, "params": model_info.get("params"),
        "train_blocks": len(data.train), "eval_blocks": len(data.eval), "block_size": block,
        "recipe": cfg.recipe, "threads": torch.get_num_threads(), "base_model": model_info["base_model"],
        "from_scratch": cfg.from_scratch,
    })
    verbosity = hf_logging.get_verbosity()
    try:
        hf_logging.set_verbosity_error()  # "no label_names" and similar chatter
        trainer = Trainer(model=model, args=args, train_dataset=data.train, eval_dataset=data.eval,
                          data_collator=default_data_collator, callbacks=[cb])
        if not cfg.progress_bar:
            trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout
        trainer.train()
        state = trainer.state
        if cb.last_eval_step != state.global_step:  # stopped or ended between evaluations
            trainer.evaluate()
    finally:
        hf_logging.set_verbosity(verbosity)
        shutil.rmtree(out_dir, ignore_errors=True)

    final_loss = cb.last_eval_loss
    if cb.best_state is not None and cb.best_loss is not None and (final_loss is None or cb.best_loss < final_loss):
        model.load_state_dict(cb.best_state)
        _post(job, history, {"type": "note", "text": t("train.note.best_restored", step=cb.best_step)})
    eval_loss = cb.best_loss if cb.best_loss is not None and (final_loss is None or cb.best_loss < final_loss) \
        else final_loss
    best_step = cb.best_step if eval_loss == cb.best_loss else state.global_step
    model.eval()
    status = "stopped" if cb.stopped_by_user else "finished"
    duration = time.perf_counter() - t0
    result = TrainResult(
        status=status, checkpoint=None, path=None, eval_loss=eval_loss, eval_perplexity=perplexity(eval_loss),
        best_step=best_step, steps=int(state.global_step), epochs=float(state.epoch or 0.0), duration_s=duration,
        tokens_seen=int(getattr(state, "num_input_tokens_seen", 0) or 0), device=device, history=history,
        samples=cb.samples, notes=notes, stopped_early=cb.stopped_early, model=model, tokenizer=tok,
    )
    if cfg.save:
        from lm_demo.checkpoints import save_checkpoint, sanitize_name

        _post(job, history, {"type": "stage", "stage": "save"})
        name = sanitize_name(cfg.output_name) if cfg.output_name.strip() else _auto_name(corpus.key, cfg)
        metadata = {
            "base_model": model_info["base_model"], "base_resolved": model_info["resolved"],
            "from_scratch": cfg.from_scratch, "architecture": type(model).__name__, "params": model_info["params"],
            "corpus": corpus.describe() | data.describe(), "hyperparameters": cfg.hyperparameters() | {
                "block_size": block}, "history": history, "samples": cb.samples,
            "eval_loss": eval_loss, "eval_perplexity": perplexity(eval_loss), "best_step": best_step,
            "steps": result.steps, "epochs": result.epochs, "tokens_seen": result.tokens_seen,
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": device,
            "duration_s": round(duration, 2), "stopped_early": cb.stopped_early, "stopped_by_user": cb.stopped_by_user,
            "status": status,
        }
        path = save_checkpoint(model, tok, name, metadata, eval_texts=data.eval_texts)
        result.checkpoint, result.path = path.name, str(path)
        result.duration_s = time.perf_counter() - t0
        _post(job, history, {"type": "saved", "checkpoint": path.name, "eval_loss": eval_loss,
                             "perplexity": perplexity(eval_loss), "status": status})
    return result


def start_training(config: TrainConfig) -> Job:
    """Start ``run_training`` in the background as the ``"train"`` job.

    Raises ``UserError`` when training is disabled or a job is running.
    The thread uses ``default_threads()`` unless the config says otherwise.
    """
    ensure_training_allowed()
    cfg, _ = config.validated()  # fail fast, in the request, on bad numbers
    if not cfg.num_threads:
        cfg = replace(cfg, num_threads=default_threads())
    desc = {"corpus": cfg.corpus.label(), "base_model": cfg.base_model, "from_scratch": cfg.from_scratch,
            "recipe": cfg.recipe, "max_steps": cfg.max_steps, "epochs": cfg.epochs}
    return JOBS.start("train", lambda job: run_training(cfg, job), desc)


__all__ = [
    "JOBS", "Job", "JobRegistry", "TrainConfig", "TrainResult", "HP_PRESETS", "RECIPES", "run_training",
    "start_training", "training_allowed", "ensure_training_allowed", "generate_sample", "perplexity",
    "default_threads", "finite_float", "lower_thread_priority",
]
