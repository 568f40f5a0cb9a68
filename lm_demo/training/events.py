"""Where a run's events go: the job (what the tab shows), the run's history (its metadata) and its folder.

Why a module of its own: the runner, the data preparation, the callback and
the end of a run all post events the same way, and a note written in Spanish
must still carry its key for the reader's language (``to_ref``).
"""

from __future__ import annotations

from typing import Any

from lm_demo.jobs import Job
from lm_demo.locales import to_ref
from lm_demo.training import distributed


class Poster:
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


__all__ = ["Poster"]
