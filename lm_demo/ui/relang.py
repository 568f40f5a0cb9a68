"""What a language switch redraws on the server: tab labels, empty tables' headers, and the results on screen.

The browser translates every static text itself (``ui.i18n``), but what a
handler made (tables, charts, notes, summaries) is text in the language of
that call.  So each tab says how to redraw what it shows (``Redraw``), and
the switch runs those redraws after telling the server the new language:

- a cheap call (one forward of the model, a job's status) is run again with
  the arguments it last ran with (``remember``: a ``gr.State`` per tab);
- an expensive one (a decoding, a before/after comparison) keeps its result
  (``with_kept``: its handler also returns what it computed, into a
  ``gr.State`` that the API does not show) and is drawn again from it.

A redraw that has nothing kept, or that fails, leaves the page as it is.
Gradio translates a tab's label once, then only for the tab on show, and
never a Dataframe's headers: ``lang_sync`` relabels those (a call off the queue).
"""

from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import gradio as gr
from gradio.i18n import I18nData

from lm_demo.locales import normalize_lang
from lm_demo.ui import i18n

log = logging.getLogger("lm_demo")


@dataclass
class Redraw:
    """``fn(*inputs) -> outputs`` in the request's language (a guarded handler); ``opts``: the event's queue
    options.  Not after a page load: a reloaded page has no results yet, and what it shows from the server
    (a training job) is drawn in the language of the ``lm_lang`` cookie."""

    fn: Callable[..., Any]
    inputs: list[Any]
    outputs: list[Any]
    opts: dict = field(default_factory=dict)


def skips(n: int) -> tuple[Any, ...]:
    return tuple(gr.skip() for _ in range(n))


def remember(events: Iterable[Any], inputs: list[Any], kept: gr.State | None = None) -> gr.State:
    """A ``gr.State`` (``kept``, or a new one) holding the inputs of the last successful call among
    ``events`` (to run it again)."""
    kept = gr.State(None) if kept is None else kept
    for ev in events:
        ev.success(lambda *values: list(values), inputs, [kept], queue=False, show_progress="hidden",
                   api_visibility="private")
    return kept


def again(fn: Callable[..., Any], n_outputs: int) -> Callable[..., Any]:
    """A redraw that runs ``fn`` (guarded) again with the kept arguments (``remember``), then the others."""
    from lm_demo.ui.common import guard

    @guard
    def redraw(kept: list | None, *more: Any) -> tuple[Any, ...]:
        if not kept:
            return skips(n_outputs)
        try:
            out = fn(*kept, *more)
            if inspect.isgenerator(out):
                *_, out = out
            return tuple(out) if isinstance(out, (tuple, list)) else (out,)
        except Exception:  # noqa: BLE001 - the page stays as it is: the error was shown when it ran
            log.debug("redraw of %s failed", getattr(fn, "__name__", fn), exc_info=True)
            return skips(n_outputs)

    return redraw


def outputs_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` returns (or yields) ``(outputs, kept)``: this one returns the outputs (the API, Python callers)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            for out, _ in fn(*args, **kwargs):
                yield out
        return gen

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)[0]
    return plain


def with_kept(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` returns (or yields) ``(outputs, kept)``: this one returns ``(*outputs, kept)`` for the page,
    ``kept`` going to a ``gr.State`` (left out of the API, so the endpoint is the same)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args: Any, **kwargs: Any) -> Any:
            for out, kept in fn(*args, **kwargs):
                yield (*out, kept)
        return gen

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        out, kept = fn(*args, **kwargs)
        return (*out, kept)
    return plain


# --- tab labels and empty tables ------------------------------------------------------------------


def tab_items(blocks: Iterable[Any]) -> list[Any]:
    """The tabs with a translated label: Gradio translates a tab's label once, then only
    while the tab is shown, so the server relabels them on a switch (``lang_sync``)."""
    return [b for b in blocks if isinstance(b, gr.Tab) and isinstance(getattr(b, "label", None), I18nData)]


def empty_tables(blocks: Iterable[Any]) -> list[Any]:
    """Dataframes built with translated headers and no rows (Gradio does not translate headers)."""
    return [b for b in blocks if isinstance(b, gr.Dataframe)
            and isinstance(getattr(b, "_lm_untranslated", {}).get("value"), dict)]


def _no_rows(value: Any) -> bool:
    if value is None:
        return True
    if hasattr(value, "empty"):  # pandas
        return bool(value.empty) or len(value) == 0
    if isinstance(value, dict):
        return not value.get("data")
    try:
        return len(value) == 0
    except TypeError:
        return False


def lang_sync(tabs: list[Any], tables: list[Any]) -> Callable[..., list[Any]]:
    """The server side of the switch (and of a page load): remember the page's language,
    relabel ``tabs`` and the headers of ``tables`` that have no rows yet (results are the redraws' job).

    Inputs: the language, then ``tables``; outputs: ``tabs`` then ``tables``.
    """

    def sync_lang(request: gr.Request, lang: str | None, *values: Any) -> list[Any]:
        lang = normalize_lang(lang)
        i18n.remember_lang(lang, request)
        labels = [gr.update(label=i18n.resolve(tab.label, lang)) for tab in tabs]
        heads = [gr.update(value=i18n.resolve_deep(table._lm_untranslated["value"], lang)) if _no_rows(value)
                 else gr.update() for table, value in zip(tables, values)]
        return [*labels, *heads]

    return sync_lang


def wire(demo: gr.Blocks, lang: gr.Radio, redraws: list[Redraw], after_switch: list[tuple]) -> None:
    """The switch and the page load: relabel (``lang_sync``, off the queue), then every redraw."""
    tabs = tab_items(demo.blocks.values())
    tables = empty_tables(demo.blocks.values())
    sync = lang_sync(tabs, tables)
    quiet = dict(api_visibility="private", show_progress="hidden")
    switch = lang.input(sync, [lang, *tables], [*tabs, *tables], js=i18n.switch_js(len(tables)), queue=False,
                        **quiet)
    demo.load(sync, [lang, *tables], [*tabs, *tables], js=i18n.load_js(len(tables)), queue=False, **quiet)
    for fn, inputs, outputs in after_switch:
        switch.then(fn, inputs, outputs, **quiet)
    for r in redraws:
        switch.then(r.fn, r.inputs, r.outputs, **quiet, **r.opts)


__all__ = ["Redraw", "remember", "again", "outputs_only", "with_kept", "skips", "tab_items", "empty_tables",
           "lang_sync", "wire"]
