"""Background jobs: one at a time per process, with an event list any page can replay.

Why this shape: the class watches a model learn live, in a web app that must
keep answering the other tabs.  So a long job (a training run, the quick
model comparison) runs in one background thread per process (one job at a
time: the CPU or the GPU is shared), reports events to an ordered, locked
list that any page can re-read from the start (reload = redraw the whole
history), and stops through a flag that a ``TrainerCallback`` turns into
``control.should_training_stop``.

Public API (stable; training, the model trials and the CLI build on it)
-----------------------------------------------------------------------
``JOBS: JobRegistry``  the process-wide, locked registry of background jobs.

``JOBS.start(kind, target, description=None) -> Job``
    Runs ``target(job)`` in a daemon thread.  Raises ``UserError`` (key
    ``train.err.busy``) while another job of any kind runs.  When ``target``
    returns, the job is "finished" (or "stopped" when a stop was requested;
    a return value with a ``status`` attribute of "finished"/"stopped", like
    ``TrainResult``, decides instead); its return value, if not None,
    becomes ``job.result``.  A ``UserError`` makes the job "error" with its
    Spanish message; any other exception (CUDA out-of-memory included) is
    logged and becomes a Spanish message with advice.  The last event of
    every job is ``{"type": "end", ...}``.
``JOBS.running()``, ``JOBS.current()`` (the running job, else the most
    recent one), ``JOBS.latest(kind)``, ``JOBS.get(job_id)``, ``JOBS.jobs()``.

``Job``: ``id``, ``kind``, ``description`` (dict), ``status`` ("running" |
    "finished" | "stopped" | "error"), ``error`` (message or None),
    ``result``, ``started_at`` / ``ended_at`` (epoch seconds),
    ``events`` (ordered list of dicts; each gets ``seq`` and ``t``, seconds
    since start), ``events_since(n)``, ``post(event)``, ``request_stop()``,
    ``stop_requested``, ``running``, ``wait(timeout)``, ``snapshot()``.
    A ``Job`` made directly (not through a registry) is a plain event sink
    with a stop flag: the CLI uses one.

Threads and priority: every job thread runs at a lower priority
(``lower_thread_priority``) so a request never waits for a training step to
give the CPU back; ``default_threads()`` is what a background training thread
uses (all cores but one; ``LM_DEMO_TRAIN_THREADS`` overrides).
``LM_DEMO_ALLOW_TRAINING=0`` disables training jobs (``ensure_training_allowed``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any, Callable

from lm_demo.errors import UserError
from lm_demo.locales import t

log = logging.getLogger("lm_demo.jobs")

JOB_STATUSES = ("running", "finished", "stopped", "error")
BACKGROUND_NICE = 10


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
    """The Spanish name of a job kind ("un entrenamiento", ...), or the kind itself."""
    text = t(f"train.kind.{kind}")
    return kind if text == f"train.kind.{kind}" else text


def error_message(e: BaseException) -> tuple[str, str]:
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
                msg, key = error_message(e)
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
    from lm_demo import env

    return env.training_allowed()


def ensure_training_allowed() -> None:
    if not training_allowed():
        raise UserError("train.err.disabled")


def lower_thread_priority(nice: int | None = None) -> bool:
    """Let inference requests go first: raise the calling thread's nice value.

    Why: on a 2-core machine a training job and a room of students share the
    CPU; a request that waits behind a training step is what the students
    feel.  Linux keeps the nice value per thread and new threads (OpenMP
    workers) inherit it, so only the training thread yields.  Best effort:
    returns False where the OS has no per-thread priority.
    ``LM_DEMO_TRAIN_NICE`` overrides the value (0 turns it off).
    """
    from lm_demo import env

    value = env.train_nice()
    if value is None:
        value = BACKGROUND_NICE if nice is None else nice
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
    """Threads for a background training thread: all cores but one.

    ``torch.set_num_threads`` acts on the whole process in practice (measured:
    after the training thread sets 1, the other threads report 1 too), so
    while a job trains the inference requests also run on fewer threads; on
    2 cores, with requests and training competing, one thread per forward is
    what keeps them from slowing each other down.
    """
    from lm_demo import env

    return env.train_threads() or max(1, (os.cpu_count() or 2) - 1)


__all__ = ["JOBS", "Job", "JobRegistry", "JOB_STATUSES", "BACKGROUND_NICE", "kind_label", "error_message",
           "training_allowed", "ensure_training_allowed", "lower_thread_priority", "default_threads"]
