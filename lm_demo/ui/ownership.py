"""Who may stop a background job (a training, a quick comparison): the browser that started it.

Why: the runner holds one job for the whole app, and every session sees it
(a class follows the teacher's training on its own screens), but a student
must not be able to stop it.  The job's id is the owner's key: it is
returned only to the request that started the job, kept in that browser
(``gr.BrowserState``, so a reload keeps it), never shown to other sessions,
and random (``uuid4``).  Every tab with a job asks here, so all job kinds
follow one rule; other sessions get a read-only view (Stop disabled).
"""

from __future__ import annotations

import hmac
from typing import Any

from lm_demo.errors import UserError


def is_owner(job: Any, job_id: Any) -> bool:
    """Whether ``job_id`` (what a browser or API client sent) is ``job``'s id."""
    return (job is not None and isinstance(job_id, str) and bool(job_id)
            and hmac.compare_digest(job_id.encode("utf-8", "replace"), str(job.id).encode()))


def request_stop(job: Any, job_id: Any, not_owner_key: str = "err.not_owner") -> bool:
    """Ask ``job`` to stop on behalf of whoever holds ``job_id``.

    False when ``job`` is None or has ended (nothing to stop); ``UserError``
    (``not_owner_key``) when ``job_id`` is not its id.
    """
    if job is None or not job.running:
        return False
    if not is_owner(job, job_id):
        raise UserError(not_owner_key)
    job.request_stop()
    return True
