"""Who may stop a background job (a training, a quick comparison): the browser that started it.

Why: the runner holds one job for the whole app, and every session sees it
(a class follows the teacher's training on its own screens), but a student
must not be able to stop it.  The job's id is the owner's key: it is
returned only to the request that started the job, kept in that browser
(``gr.BrowserState``, so a reload keeps it), never shown to other sessions,
and random (``uuid4``).  Every tab with a job asks here, so all job kinds
follow one rule; other sessions get a read-only view (Stop disabled).

The Space's operator may stop any job with the token set in
``LM_DEMO_ADMIN_TOKEN`` (sent as the job id through the API), e.g. a job
someone left running for hours.
"""

from __future__ import annotations

import hmac
from typing import Any

from lm_demo.errors import UserError


def _same(given: str, secret: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), secret.encode("utf-8", "surrogatepass"))


def is_admin(token: Any) -> bool:
    """Whether ``token`` is the operator's ``LM_DEMO_ADMIN_TOKEN`` (never true when it is unset or short)."""
    from lm_demo import env

    admin = env.admin_token()
    return len(admin) >= 16 and isinstance(token, str) and _same(token, admin)


def is_owner(job: Any, job_id: Any) -> bool:
    """Whether ``job_id`` (what a browser or API client sent) is ``job``'s id."""
    return job is not None and isinstance(job_id, str) and bool(job_id) and _same(job_id, str(job.id))


def request_stop(job: Any, job_id: Any, not_owner_key: str = "err.not_owner") -> bool:
    """Ask ``job`` to stop on behalf of whoever holds ``job_id``.

    False when ``job`` is None or has ended (nothing to stop); ``UserError``
    (``not_owner_key``) when ``job_id`` is neither its id nor the operator's token.
    """
    if job is None or not job.running:
        return False
    if not (is_owner(job, job_id) or is_admin(job_id)):
        raise UserError(not_owner_key)
    job.request_stop()
    return True
