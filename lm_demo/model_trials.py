"""Quick model comparison: train several models briefly on the same examples.

Why (seed 000): before a long fine-tune, the seed picked its base model by
training seven candidates for a few steps on the same N examples and
comparing eval loss, perplexity, time and a sample.  Here that is one
background job on the training runner (``lm_demo.training``): one model
after the other, each with ``run_training`` (same corpus rows, same seeded
train/eval split, same hyperparameters, nothing saved), a row posted to the
job as soon as a model is done, and the job's stop flag honoured between
models and inside a model's training.

Eval loss and perplexity are training's evaluation (``TrainResult.eval_loss``,
``eval_perplexity = exp(eval_loss)``): the app's one perplexity convention
applied to the packed eval blocks, each block on its own with its first
token as context (``lm_demo.training.exact_eval``, the Trainer ``run_training``
uses).  Caveat shown in the UI: models with different tokenizers cut the
same text into different tokens, so across vocabularies the numbers compare
"surprise per token", not exactly the same quantity.

Events posted (besides the training events of each run): ``{"type":
"trial", "index": i, "row": TrialRow as dict}`` whenever a row changes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from lm_demo.errors import UserError

TRIAL_PROMPT = "En el silencio de la noche"
JOB_KIND = "trials"
MAX_MODELS = 8


@dataclass
class TrialSpec:
    """What every candidate gets: the same rows, split, steps and settings."""

    models: list[str]
    corpus_preset: str = "poesia"
    n_examples: int = 200
    max_steps: int = 30
    block_size: int = 128
    batch_size: int = 8
    learning_rate: float = 5e-4
    seed: int = 42
    sample_prompt: str = TRIAL_PROMPT
    sample_max_new_tokens: int = 30
    num_threads: int = 0  # 0 = training's default for a background thread

    def validated(self) -> tuple["TrialSpec", list[str]]:
        """Deduplicated models (at most ``MAX_MODELS``) and numbers in range."""
        from lm_demo.locales import t
        from lm_demo.models import validate_model_name

        notes: list[str] = []
        models: list[str] = []
        given = [self.models] if isinstance(self.models, str) else self.models
        if given is not None and not isinstance(given, (list, tuple)):
            raise UserError("err.not_a_list", field=t("cmp.trials.models"), kind=type(given).__name__)
        for m in given or []:
            m = validate_model_name("" if m is None else m)
            if m and m not in models:
                models.append(m)
                if len(models) > MAX_MODELS:  # enough to say so (a list of a million names stops here)
                    break
        if not models:
            raise UserError("cmp.trials.err.no_models")
        if len(models) > MAX_MODELS:
            notes.append(t("cmp.trials.note.too_many", n=MAX_MODELS))
            models = models[:MAX_MODELS]

        def num(name: str, lo: float, hi: float, cast: type = int) -> Any:
            try:
                x = float(getattr(self, name))
            except (TypeError, ValueError):
                x = math.nan
            if math.isnan(x):
                raise UserError("err.bad_number", field=t(f"cmp.trials.{name}"))
            v = cast(min(max(x, float(lo) - 1), float(hi) + 1))  # ±inf clamp like any big number
            nv = min(max(v, cast(lo)), cast(hi))
            if nv != v:
                notes.append(t("note.clamped", field=t(f"cmp.trials.{name}"), value=nv, lo=lo, hi=hi))
            return nv

        spec = replace(
            self, models=models,
            n_examples=num("n_examples", 20, 5000), max_steps=num("max_steps", 1, 2000),
            block_size=num("block_size", 16, 1024), batch_size=num("batch_size", 1, 64),
            learning_rate=num("learning_rate", 1e-6, 1e-2, float), seed=num("seed", 0, 2**31 - 1),
            sample_max_new_tokens=num("sample_max_new_tokens", 1, 100),
            sample_prompt=(self.sample_prompt or "").strip() or TRIAL_PROMPT,
            corpus_preset=(self.corpus_preset or "").strip() or "poesia",
        )
        return spec, notes


@dataclass
class TrialRow:
    """One candidate's line of the table."""

    model: str
    status: str = "pending"
    params: int | None = None
    eval_loss_before: float | None = None  # at step 0, before any training
    eval_loss: float | None = None  # after training (the best evaluation)
    perplexity: float | None = None
    seconds: float | None = None
    steps: int | None = None
    sample: str = ""
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def _post_row(job: Any, index: int, row: TrialRow) -> None:
    if job is not None:
        job.post({"type": "trial", "index": index, "row": asdict(row)})


def _check_available(name: str) -> Any:
    """The model, loaded without the silent offline fallback (a hub preset offline is an error row)."""
    from lm_demo.compare import load_for_compare

    return load_for_compare(name)


def run_trials(spec: TrialSpec, job: Any = None) -> list[TrialRow]:
    """Train each model of ``spec`` briefly, one after the other; returns the rows.

    Synchronous (``start_trials`` runs it as a background job).  A model that
    can't be loaded or trained gets an error row and the others still run;
    a stop request ends the current model at its next step and skips the rest.
    The limits are training's: each model's corpus is read within the corpus
    limits and checked against the free memory, and the Space's time cap
    (``training.caps.max_minutes``) counts from the job's start, so it bounds
    the whole comparison: the model it stops and the ones after it are "stopped".
    """
    from lm_demo.corpora import CorpusSpec
    from lm_demo.models import pick_device
    from lm_demo.training import TrainConfig, caps, finite_float, generate_sample, run_training

    spec, notes = spec.validated()
    minutes = caps.max_minutes(pick_device()[0])
    started = job.started_at if job is not None else time.time()
    if job is not None:
        for n in notes:
            job.post({"type": "note", "text": n})
    rows = [TrialRow(m) for m in spec.models]
    for i, row in enumerate(rows):
        _post_row(job, i, row)
    for i, row in enumerate(rows):
        if (job is not None and job.stop_requested) or (minutes and time.time() - started >= minutes * 60):
            row.status = "stopped"
            _post_row(job, i, row)
            continue
        row.status = "running"
        _post_row(job, i, row)
        t0 = time.perf_counter()
        try:
            _check_available(row.model)
            cfg = TrainConfig(
                corpus=CorpusSpec(preset=spec.corpus_preset, max_rows=spec.n_examples),
                base_model=row.model, max_steps=spec.max_steps, eval_steps=spec.max_steps,
                block_size=spec.block_size, batch_size=spec.batch_size, learning_rate=spec.learning_rate,
                seed=spec.seed, warmup_steps=0, samples=False, save=False, num_threads=spec.num_threads,
                sample_prompt=spec.sample_prompt,
            )
            res = run_training(cfg, job)
            evals = [e for e in res.history if e.get("type") == "eval"]
            start = next((e for e in evals if e.get("step") == 0), None)
            row.eval_loss_before = finite_float(start.get("eval_loss")) if start else None
            row.eval_loss = finite_float(res.eval_loss)
            row.perplexity = finite_float(res.eval_perplexity)
            row.steps = res.steps
            row.params = int(sum(p.numel() for p in res.model.parameters())) if res.model is not None else None
            if res.model is not None:
                # a few tokens before eos are required, or a weak model just ends the text at once
                row.sample = generate_sample(res.model, res.tokenizer, spec.sample_prompt,
                                             spec.sample_max_new_tokens, seed=spec.seed,
                                             min_new_tokens=min(8, spec.sample_max_new_tokens))
            row.status = "stopped" if res.status == "stopped" else "done"
            del res
        except UserError as e:
            row.status, row.error = "error", e.message("es")
        except Exception as e:  # noqa: BLE001 - one bad candidate must not end the comparison
            from lm_demo.locales import t

            row.status, row.error = "error", t("err.generic", detail=type(e).__name__)
        row.seconds = round(time.perf_counter() - t0, 1)
        _post_row(job, i, row)
    return rows


def start_trials(spec: TrialSpec) -> Any:
    """Start ``run_trials`` as the ``"trials"`` background job of the training runner.

    Validates first (bad input costs no job); raises ``UserError`` when
    training is disabled or another job runs.
    """
    from lm_demo.jobs import JOBS, default_threads, ensure_training_allowed

    ensure_training_allowed()
    spec, _ = spec.validated()
    if not spec.num_threads:
        spec = replace(spec, num_threads=default_threads())
    desc = {"models": spec.models, "corpus": spec.corpus_preset, "n_examples": spec.n_examples,
            "max_steps": spec.max_steps}
    return JOBS.start(JOB_KIND, lambda job: run_trials(spec, job), desc)


def latest_trials_job() -> Any:
    """The running or most recent quick-comparison job of this process, or None."""
    from lm_demo.jobs import JOBS

    jobs = [j for j in JOBS.jobs() if j.kind == JOB_KIND]
    running = [j for j in jobs if j.running]
    return running[-1] if running else (jobs[-1] if jobs else None)


def rows_from_events(events: list[dict]) -> list[TrialRow]:
    """The table as it stands after ``events`` (the last state of each row)."""
    latest: dict[int, dict] = {}
    for e in events:
        if e.get("type") == "trial":
            latest[int(e["index"])] = e["row"]
    return [TrialRow(**latest[i]) for i in sorted(latest)]


def best_index(rows: list[TrialRow]) -> int | None:
    """The finished row with the lowest eval loss (None until one is done)."""
    done = [(r.eval_loss, i) for i, r in enumerate(rows) if r.status == "done" and r.eval_loss is not None]
    return min(done)[1] if done else None


def progress(events: list[dict]) -> dict | None:
    """The latest training step event of the model being trained (for a progress line)."""
    for e in reversed(events):
        if e.get("type") == "trial":  # no step of the current model yet
            return None
        if e.get("type") in ("train", "eval") and e.get("total_steps"):
            return e
    return None
