"""What every tab shares: text lookup, error handling, the model picker context.

Why ``guard``: a teacher in front of a class must never see a traceback.
``UserError`` becomes its Spanish message in a ``gr.Error`` (the app keeps
serving); any other exception is logged with its traceback on the server and
shown as a short generic message.
"""

from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import gradio as gr

from lm_demo.errors import UserError
from lm_demo.locales import t

log = logging.getLogger("lm_demo")


def T(key: str, **params: object) -> str:
    """UI text for ``key`` in the UI language."""
    return t(key, **params)


def _to_gr_error(e: Exception) -> gr.Error:
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, UserError):
        return gr.Error(e.message("es"), print_exception=False)
    log.exception("unexpected error in a handler")
    return gr.Error(t("err.generic", detail=type(e).__name__), print_exception=False)


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler (plain or generator) so errors reach the user as messages."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - the point of this wrapper
                raise _to_gr_error(e) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            raise _to_gr_error(e) from None

    return wrapper


def notes_markdown(notes: list[str]) -> str:
    """Notes (clamps, fallbacks, truncation) as a Markdown list; "" when none."""
    return "\n".join(f"- ℹ️ {n}" for n in notes)


@dataclass
class UIContext:
    """Components shared across tabs, handed to each tab's ``build``."""

    model: gr.Dropdown  # the global model picker (a name for models.load_model)
    model_status: gr.Markdown
    refresh_callbacks: list[Callable[[], Any]] = field(default_factory=list)
    tabs: Any = None  # the gr.Tabs holding every tab (to switch tabs from a scenario)
    # Components other tabs may drive (e.g. the guide's scenarios), keyed "<tab>.<name>".
    components: dict[str, Any] = field(default_factory=dict)
