"""One corpus preparation at a time in a process, and its memory given back after.

Why: reading a corpus and tokenizing it is the app's largest transient
allocation (bounded by ``files.CorpusLimits``, still up to a few hundred MB),
and the stats panel, an upload's column picker and the training corpus stage
can be asked for by many visitors at once: four bounded preparations at once
are four times the bound.  So they take turns: a request waits a little for
the one in progress (``REQUEST_WAIT_S``) and then gets a clear "busy"
message; a training job, already in the background, waits longer
(``JOB_WAIT_S``).  When a preparation ends, what it freed is handed back to
the operating system (``lm_demo.memory.give_back``): without it a server's
memory only grows with each corpus read.
"""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from lm_demo.errors import UserError

REQUEST_WAIT_S = 15.0
JOB_WAIT_S = 300.0

PREPARE_LOCK = threading.Lock()
R = TypeVar("R")


def prepared(work: Callable[[], R], wait_s: float = REQUEST_WAIT_S) -> R:
    """``work()`` in the one preparation slot; ``UserError`` ("train.corpus.busy") after ``wait_s``.

    ``work`` is a function so that its temporaries (the raw rows, the token
    lists) are gone when it returns: the memory given back then is really free.
    """
    if not PREPARE_LOCK.acquire(timeout=max(0.0, wait_s)):
        raise UserError("train.corpus.busy")
    from lm_demo.memory import give_back

    try:
        return work()
    finally:
        PREPARE_LOCK.release()
        give_back()


__all__ = ["prepared", "PREPARE_LOCK", "REQUEST_WAIT_S", "JOB_WAIT_S"]
