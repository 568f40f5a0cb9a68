"""What a browser test's page showed when a wait ran out: so a failure explains itself.

Why: a Playwright timeout says only which selector never came. In a full CI run the cause is on the page (an
error toast, a status line still «Entrenando…», a tab that never opened) or in the app's log; this module
collects both, writes a screenshot, and fails with them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.conftest import ARTIFACTS

#: Status and note outputs of every tab, in the order a tour visits them.
STATUS_SELECTORS = ("#model-status", "#nt-entropy", "#nt-notes", "#dec-summary", "#dec-notes", "#cmp-summary",
                    "#cmp-notes", "#train-status", "#train-notes", "#train-upload", "#train-stats-summary",
                    "#ins-notes", "#ins-lens-summary", "#ins-step-summary", "#ins-cmp-summary", "#mp-facts")

_STATE_JS = """(sels) => {
  const shown = (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  const text = (el) => (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 300);
  const out = {};
  const tab = document.querySelector('[role=tab][aria-selected=true]');
  out['selected tab'] = tab ? text(tab) : null;
  out['toasts'] = [...document.querySelectorAll('.toast-body')].map(text);
  out['errors'] = [...document.querySelectorAll('.error')].filter(shown).map(text).filter((t) => t);
  for (const sel of sels) { const el = document.querySelector(sel); if (shown(el)) out[sel] = text(el); }
  return out;
}"""


def describe(page, log_path=None, name: str = "failure") -> str:
    """The page's selected tab, toasts, errors and visible status lines, the app log's tail; a screenshot."""
    lines = []
    try:
        state = page.evaluate(_STATE_JS, list(STATUS_SELECTORS))
        lines += [f"  {k}: {v!r}" for k, v in state.items()]
    except Exception as e:  # noqa: BLE001 - the page may be gone; say so rather than hide the first failure
        lines.append(f"  (page state unavailable: {e})")
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        lines.append(f"  screenshot: artifacts/{name}.png")
    except Exception:  # noqa: BLE001
        pass
    log_path = log_path or ARTIFACTS / "app_server.log"
    if log_path and log_path.is_file():
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        lines.append("  app log (last lines):\n    " + "\n    ".join(tail))
    return "\n".join(lines)


@contextlib.contextmanager
def explained(page, what: str, log_path=None, name: str = "failure") -> Iterator[None]:
    """Inside the block, a Playwright timeout fails the test with ``what`` was awaited and the page's state."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        yield
    except PlaywrightTimeout as e:
        waited = "\n".join(str(e).splitlines()[:4])
        pytest.fail(f"timed out: {what}\n{waited}\npage state:\n{describe(page, log_path, name)}")
