"""Crash-safe training runs: a folder per run that outlives the process.

Why: a classroom laptop sleeps, a Space restarts, someone closes the
terminal; before this, a crash lost the whole run (nothing was written until
the end).  Now every run that saves a model has a folder
``checkpoints/.runs/<name>/`` (hidden: the model picker skips dot-folders)
holding:

- ``run.json``: the run's resolved ``TrainConfig`` (every automatic value
  filled in, so a resume trains exactly the same run), its status
  ("running" | "stopped" | "error"), the last complete checkpoint and step,
  the best evaluation so far, and the process that owns it (pid, host).
  It is always replaced atomically (written aside, then ``os.replace``).
- ``checkpoint-<step>/``: the Trainer's resumable checkpoints (model,
  optimiser, scheduler, RNG, trainer state), at most two.  A checkpoint
  counts only once ``run.json`` names it, which happens after the Trainer
  has finished writing it; a kill during a save leaves the previous one named.
- ``events.jsonl``: every event of the run, one per line (a torn last line
  is ignored), so a resumed run redraws its whole history.
- ``corpus/``: a copy of an uploaded file (the upload's temporary file may
  be gone after a restart); ``best.safetensors``: the best weights so far,
  when the run keeps the best model.

A run that finishes deletes its folder after its model is saved in
``checkpoints/``; a stopped run keeps it (it can be continued later); a
crashed one is found by ``interrupted_runs`` (owner process gone) and listed
by the tab with its last step: "Continuar" resumes it with
``Trainer.train(resume_from_checkpoint=...)``, "Usar tal cual" saves its last
checkpoint as a model (``export_run``).

One rule says whether a run is taken (``Run.busy``: another live process on
this machine, or another job of this one, trains it); the tab, the API and
``python -m lm_demo.train --resume`` / ``--list-runs`` all ask it, and
``claim`` takes a run up under a lock (``.lock`` in its folder).  A run whose
process died is "interrupted" (``Run.state``) whatever ``run.json`` last said.

``leftovers.cleanup_leftovers`` (at start-up) removes what an interrupted
save leaves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from lm_demo.errors import UserError

RUNS_DIRNAME = ".runs"
RUN_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
BEST_FILE = "best.safetensors"
LOCK_FILE = ".lock"
CORPUS_DIRNAME = "corpus"
CHECKPOINT_PREFIX = "checkpoint-"
TEMP_PREFIX = "lm_demo-train-"
#: Event types a resumed run replays (stages, saves and ends belong to the old process).
REPLAYED = ("note", "start", "train", "eval", "sample", "overfit")


def runs_root() -> Path:
    from lm_demo.models import checkpoints_dir

    return checkpoints_dir() / RUNS_DIRNAME


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` so that a reader (or a crash) sees the old file or the new one."""
    from lm_demo.exports import json_safe

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(json_safe(data), f, ensure_ascii=False, indent=1, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError, OverflowError):
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass
class Run:
    """One run's folder and its ``run.json`` (``data``)."""

    path: Path
    data: dict

    @property
    def name(self) -> str:
        return self.path.name

    def update(self, **changes: Any) -> None:
        self.data.update(changes, updated=time.time())
        write_json_atomic(self.path / RUN_FILE, self.data)

    def append_event(self, event: dict) -> None:
        from lm_demo.exports import json_safe

        with open(self.path / EVENTS_FILE, "a", encoding="utf-8") as f:
            f.write(json.dumps(json_safe(event), ensure_ascii=False, allow_nan=False) + "\n")

    def n_events(self) -> int:
        return len(self.events())

    def events(self) -> list[dict]:
        path = self.path / EVENTS_FILE
        if not path.is_file():
            return []
        out = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    break  # a line torn by a crash: the rest is not trustworthy
                if isinstance(ev, dict):
                    out.append(ev)
        return out

    def keep_events(self, n: int) -> list[dict]:
        """Cut ``events.jsonl`` to its first ``n`` events (those up to the checkpoint) and return them."""
        events = self.events()[:max(0, int(n))]
        tmp = self.path / f".{EVENTS_FILE}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for ev in events:
                f.write(json.dumps(ev, ensure_ascii=False) + "\n")
        os.replace(tmp, self.path / EVENTS_FILE)
        return events

    def checkpoint(self) -> Path | None:
        """The last complete resumable checkpoint, or None."""
        name = self.data.get("checkpoint")
        if not name:
            return None
        path = self.path / str(name)
        if path.parent != self.path or not (path / "trainer_state.json").is_file():
            return None
        return path

    def config(self) -> Any:
        from lm_demo.training.config import TrainConfig

        return TrainConfig.from_json(self.data.get("config") or {})

    def owner_alive(self) -> bool:
        """Whether another live process on this machine owns the run (e.g. a CLI training it now)."""
        pid = self.data.get("pid")
        if pid == os.getpid() or self.data.get("host") != socket.gethostname():
            return False
        return pid_alive(pid)

    def busy(self, job: Any = None) -> bool:
        """Whether someone other than the caller trains the run now: another live process on this machine
        (its ``pid``), or a job of this process other than ``job``.  The one rule for the tab, the API and
        the CLI (continue, discard, list, clean up)."""
        return self.owner_alive() or _running_here(self.name, besides=job)

    def state(self) -> str:
        """"running" (someone trains it now, ``busy``), "interrupted" (its process died: killed, crashed),
        "stopped" or "error"."""
        if self.busy():
            return "running"
        status = self.data.get("status")
        return status if status in ("stopped", "error") else "interrupted"

    def summary(self) -> dict:
        """What the tab and ``--list-runs`` show about the run (``status``: as ``run.json`` has it;
        ``state``: what it means now, see ``state``)."""
        ckpt = self.checkpoint()
        return {"name": self.name, "status": self.data.get("status"), "state": self.state(),
                "step": int(self.data.get("step") or 0),
                "total_steps": self.data.get("total_steps"), "corpus": self.data.get("corpus_label"),
                "base_model": self.data.get("base_model"), "updated": self.data.get("updated"),
                "resumable": ckpt is not None, "saved_as": self.data.get("saved_as")}


def _unique_run_dir(name: str) -> Path:
    root = runs_root()
    cand, i = root / name, 1
    while cand.exists():
        i += 1
        cand = root / f"{name}-{i}"
    return cand


def owner_key(job: Any) -> str | None:
    """What ``run.json`` keeps of the job training a run: a hash of its id (the id is its owner's key, and
    stays in that browser; the file, readable on the server, must not hold it)."""
    job_id = getattr(job, "id", job)
    if not isinstance(job_id, str) or not job_id:
        return None
    return hashlib.sha256(job_id.encode("utf-8", "surrogatepass")).hexdigest()


def owned_by(run: "Run", job_id: Any) -> bool:
    """Whether ``job_id`` (what a browser sent) is the id of the job that last trained ``run``."""
    key, owner = owner_key(job_id), run.data.get("owner")
    return bool(key and isinstance(owner, str) and hmac.compare_digest(key, owner))


def create_run(cfg: Any, name: str, corpus_label: str, total_steps: int,
               owner: str | None = None) -> tuple[Run, Any]:
    """A new run folder for ``cfg`` (resolved); returns (run, cfg whose uploaded file points at the run's copy).

    ``owner``: ``owner_key`` of the job training it (None from the CLI).
    """
    from dataclasses import replace

    path = _unique_run_dir(name)
    path.mkdir(parents=True)
    if cfg.corpus.path:
        src = Path(cfg.corpus.path)
        dest = path / CORPUS_DIRNAME / src.name
        dest.parent.mkdir()
        shutil.copyfile(src, dest)
        cfg = replace(cfg, corpus=replace(cfg.corpus, path=str(dest)))
    now = time.time()
    run = Run(path, {
        "version": 1, "name": name, "config": cfg.to_json(), "status": "running", "step": 0,
        "total_steps": int(total_steps), "checkpoint": None, "events_upto": 0, "best": None, "saved_as": None,
        "corpus_label": corpus_label, "base_model": cfg.base_model, "from_scratch": cfg.from_scratch,
        "pid": os.getpid(), "host": socket.gethostname(), "started": now, "updated": now, "owner": owner,
    })
    run.update()
    return run, cfg


def open_run(name: str) -> Run:
    """The run called ``name`` (only inside ``checkpoints/.runs``), or ``UserError``."""
    root = runs_root()
    raw = str(name or "").strip()
    path = (root / raw).resolve() if raw else None
    if path is None or path.parent != root.resolve() or not (path / RUN_FILE).is_file():
        raise UserError("train.run.unknown", name=raw)
    try:
        data = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UserError("train.run.damaged", name=raw) from e
    if not isinstance(data, dict):
        raise UserError("train.run.damaged", name=raw)
    return Run(path, data)


def _running_here(name: str, besides: Any = None) -> bool:
    """Whether a job of this process (other than ``besides``) trains run ``name``."""
    from lm_demo.jobs import JOBS

    job = JOBS.running()
    return job is not None and job is not besides and job.description.get("run") == name


def open_free(name: str, job: Any = None) -> Run:
    """The run ``name``, or ``UserError`` when it is unknown or someone else trains it now (``Run.busy``)."""
    run = open_run(name)
    if run.busy(job):
        raise UserError("train.run.busy", name=run.name)
    return run


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the run folder ``path`` across processes (none where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path / LOCK_FILE, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def claim(name: str, job: Any = None) -> Run:
    """Take up run ``name`` to continue it in this process: ``open_free``, then this process recorded as its
    owner at once, under a lock, so that a second ``--resume`` a moment later is refused too."""
    path = open_run(name).path
    with _locked(path):
        run = open_free(path.name, job)
        run.update(pid=os.getpid(), host=socket.gethostname())
    return run


def all_runs() -> list[Run]:
    root = runs_root()
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.is_dir() and not d.name.startswith(".") and (d / RUN_FILE).is_file():
            try:
                out.append(open_run(d.name))
            except UserError:
                continue
    return out


def interrupted_runs() -> list[dict]:
    """Runs no process is training now (crashed, stopped, failed), newest first, with their last step."""
    out = [r.summary() for r in all_runs() if not r.busy()]
    out.sort(key=lambda s: s.get("updated") or 0, reverse=True)
    return out


def prune_runs(keep: int) -> list[str]:
    """Discard the oldest interrupted runs so that at most ``keep`` remain; their names.

    A run some process is training is never touched (``interrupted_runs``)."""
    pruned = []
    for r in interrupted_runs()[max(0, keep):]:
        try:
            discard_run(r["name"])
        except UserError:  # taken up meanwhile
            continue
        pruned.append(r["name"])
    return pruned


def discard_run(name: str) -> None:
    shutil.rmtree(open_free(name).path, ignore_errors=True)


def finish_run(run: Run) -> None:
    """A run whose model is saved and that need not continue: its folder goes."""
    shutil.rmtree(run.path, ignore_errors=True)


def export_run(name: str) -> Path:
    """Save the last checkpoint of run ``name`` as a model in ``checkpoints/`` ("use it as it is")."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lm_demo.checkpoints import save_checkpoint
    from lm_demo.models import LOAD_LOCK

    run = open_run(name)
    ckpt = run.checkpoint()
    if ckpt is None:
        raise UserError("train.run.no_checkpoint", name=run.name)
    with LOAD_LOCK:
        model = AutoModelForCausalLM.from_pretrained(ckpt, local_files_only=True, dtype=torch.float32)
        tok = AutoTokenizer.from_pretrained(ckpt, local_files_only=True)
    cfg = run.config()
    meta = {"base_model": cfg.base_model, "from_scratch": cfg.from_scratch, "architecture": type(model).__name__,
            "params": int(sum(p.numel() for p in model.parameters())),
            "corpus": {"label": run.data.get("corpus_label"), "preset": cfg.corpus.preset or None},
            "hyperparameters": cfg.hyperparameters(), "steps": run.data.get("step"),
            "history": [e for e in run.events() if e.get("type") in ("train", "eval")],
            "status": "interrupted", "kept": "last_checkpoint", "run": run.name,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = save_checkpoint(model, tok, run.data.get("saved_as") or run.data.get("name") or run.name, meta,
                           overwrite=bool(run.data.get("saved_as")))
    run.update(saved_as=path.name)
    return path


__all__ = ["Run", "runs_root", "create_run", "owner_key", "owned_by", "open_run", "open_free", "claim", "all_runs", "interrupted_runs", "discard_run",
           "finish_run", "export_run", "write_json_atomic", "pid_alive", "REPLAYED"]
