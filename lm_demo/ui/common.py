"""What every tab shares: text lookup, error handling, the model picker context.

Why ``guard``: a teacher in front of a class must never see a traceback.
``UserError`` becomes its message in a ``gr.Error`` (the app keeps serving);
any other exception is logged with its traceback on the server and shown as a
short generic message.  ``guard`` also runs the handler in the user's language
(``locales.use_lang``), read from the request: the page's switch, else the
``lm_lang`` cookie, else Spanish (API calls through ``gradio_client``).
Before the handler runs it checks the inputs: a value a widget could not
accept (``widgets.InvalidInput``) and any text over ``limits.MAX_ANY_TEXT_CHARS``
or not valid UTF-8 become a message; and the message is HTML-escaped, since
Gradio's popup renders HTML and messages quote what the user typed.

Why ``T`` has two faces: while the UI is being built (``static_ui``) it returns
Gradio ``I18nData`` markers, which the browser translates and re-translates when
the user switches language; inside handlers it returns plain text in the
request's language (tables, charts, messages are made on the server).
"""

from __future__ import annotations

import contextvars
import functools
import html
import inspect
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import gradio as gr
from gradio.i18n import I18nData

from lm_demo.errors import UserError
from lm_demo.locales import LANGS, STRINGS, current_lang, retranslate, t, use_lang
from lm_demo.ui import i18n
from lm_demo.ui.limits import MAX_ANY_TEXT_CHARS, text_problem
from lm_demo.ui.widgets import InvalidInput

log = logging.getLogger("lm_demo")

# True while the UI is being built: ``T`` then returns front-end markers.
_STATIC: contextvars.ContextVar[bool] = contextvars.ContextVar("lm_demo_static_ui", default=False)


@contextmanager
def static_ui() -> Iterator[None]:
    """Build the UI inside this block: ``T`` gives markers the browser translates."""
    token = _STATIC.set(True)
    try:
        yield
    finally:
        _STATIC.reset(token)


def _in_lang(value: Any, lang: str) -> Any:
    return i18n.resolve(value, lang) if isinstance(value, (str, I18nData)) else value


def T(key: str, **params: object) -> Any:
    """UI text for ``key``.

    While building the UI: an ``I18nData`` marker (``T(key)``), or a derived
    marker holding the formatted text in both languages (``T(key, **params)``).
    In a handler: the text in the request's language (a plain ``str``).
    """
    if not _STATIC.get() or key not in STRINGS["es"]:
        return t(key, **params)
    if not params:
        return i18n.marker(key)
    return i18n.derived({lang: t(key, lang, **{k: _in_lang(v, lang) for k, v in params.items()})
                         for lang in LANGS})


def compose(build: Callable[[], str]) -> Any:
    """A text made of several ``T`` calls (``lambda: f"# {T('a')} {T('b')}"``) as one translatable marker.

    Outside ``static_ui`` it simply returns ``build()`` in the current language.
    """
    if not _STATIC.get():
        return build()
    token = _STATIC.set(False)
    try:
        texts = {}
        for lang in LANGS:
            with use_lang(lang):
                texts[lang] = build()
    finally:
        _STATIC.reset(token)
    return i18n.derived(texts)


_DIRS = re.compile(r"(?<![\w.~-])(?:/(?:[^/\s`'\"]+/)+|[A-Za-z]:\\(?:[^\\\s`'\"]+\\)*)")


def no_paths(text: str) -> str:
    """``text`` with every absolute path cut to its file name (a page never shows server paths).

    ``/tmp/gradio/ab12/poemas.csv`` becomes ``poemas.csv``; a hub id (``owner/name``) is kept.
    """
    return _DIRS.sub("", str(text))


def plain(text: str) -> str:
    """``text`` shown as text (not HTML) in Markdown, HTML or Gradio's error popup, without server paths."""
    return html.escape(no_paths(text), quote=False)


def in_code(text: str) -> str:
    """``text`` for a Markdown code span (`` `{name}` ``): shown literally once no backtick can end the span."""
    return no_paths(text).replace("`", "'")


def _to_gr_error(e: Exception) -> gr.Error:
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, UserError):
        return gr.Error(plain(e.message()), print_exception=False)
    log.exception("unexpected error in a handler")
    return gr.Error(plain(t("err.generic", detail=type(e).__name__)), print_exception=False)


def _field_text(label: Any) -> str:
    text = _in_lang(label, current_lang())
    return text if isinstance(text, str) and text else "?"


def check_inputs(values: Any, depth: int = 0) -> None:
    """``UserError`` for the first input a handler must not get (see the module docstring)."""
    if isinstance(values, InvalidInput):
        raise UserError(values.key, field=_field_text(values.label), **values.params)
    if isinstance(values, str):
        problem = text_problem(values, MAX_ANY_TEXT_CHARS)
        if problem is not None:
            raise UserError(problem[0], field=t("field.text"), **problem[1])
    elif isinstance(values, (list, tuple)) and depth < 4:
        for v in values:
            check_inputs(v, depth + 1)
    elif isinstance(values, dict) and depth < 4:
        for k, v in values.items():
            check_inputs(k, depth + 1)
            check_inputs(v, depth + 1)


_REQ = "_lm_request"


def _with_request(fn: Callable[..., Any], wrapper: Callable[..., Any]) -> None:
    """Make Gradio pass ``gr.Request`` to ``wrapper`` as its first argument, hidden from the API.

    Gradio injects a request for a parameter annotated ``gr.Request`` (it reads
    ``inspect.signature`` and the type hints) and leaves such a parameter out of
    the API; put first, it never shifts the inputs (an API call may send fewer).
    """
    sig = inspect.signature(fn)
    req = inspect.Parameter(_REQ, inspect.Parameter.POSITIONAL_ONLY, annotation=gr.Request)
    wrapper.__signature__ = sig.replace(parameters=[req, *sig.parameters.values()])  # type: ignore[attr-defined]
    try:
        hints = dict(inspect.get_annotations(fn, eval_str=True))
    except Exception:  # noqa: BLE001 - unresolvable hints would hide ours from Gradio: keep only ours
        hints = {}
    wrapper.__annotations__ = {_REQ: gr.Request, **hints}
    wrapper.__lm_guarded__ = True  # type: ignore[attr-defined]


def _positional_count(fn: Callable[..., Any]) -> int:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in inspect.signature(fn).parameters.values())


def _split_request(args: tuple, kwargs: dict, n_params: int) -> tuple[Any, tuple]:
    """(request, the handler's own args): Gradio passes the request first; direct Python calls don't.

    Gradio may pass ``None`` for the request (a call without one); it then sends
    one argument more than the handler takes.
    """
    if _REQ in kwargs:
        return kwargs.pop(_REQ), args
    if args and (isinstance(args[0], gr.Request) or (args[0] is None and len(args) == n_params + 1)):
        return args[0], args[1:]
    return None, args


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a handler (plain or generator): errors reach the user as messages, text in the user's language.

    Called by Gradio, the wrapper gets the request first (see ``_with_request``)
    and reads the language from it; called directly, it takes the handler's own
    arguments and uses the current language.
    """
    n_params = _positional_count(fn)
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            request, args = _split_request(args, kwargs, n_params)
            lang = i18n.request_lang(request) if request is not None else current_lang()
            with use_lang(lang):
                try:
                    check_inputs((args, kwargs))
                except UserError as e:
                    raise _to_gr_error(e) from None
            gen = fn(*args, **kwargs)
            try:
                while True:
                    # A generator may be resumed in another thread: set the language around every step.
                    with use_lang(lang):
                        try:
                            item = next(gen)
                        except StopIteration as stop:
                            return stop.value
                        except Exception as e:  # noqa: BLE001 - the point of this wrapper
                            raise _to_gr_error(e) from None
                        if request is not None:
                            item = shown_numbers(item)
                    yield item
            finally:
                gen.close()

        _with_request(fn, gen_wrapper)
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request, args = _split_request(args, kwargs, n_params)
        lang = i18n.request_lang(request) if request is not None else current_lang()
        with use_lang(lang):
            try:
                check_inputs((args, kwargs))
                out = fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001
                raise _to_gr_error(e) from None
            return shown_numbers(out) if request is not None else out

    _with_request(fn, wrapper)
    return wrapper


def _shown_table(value: Any) -> Any:
    import sys

    pd = sys.modules.get("pandas")  # a handler that made a DataFrame imported pandas
    if pd is None or not isinstance(value, pd.DataFrame) or value.empty:
        return value
    from lm_demo.locales.numbers import number

    def decimal(x: Any) -> Any:  # ints (steps, ids), and whole numbers in a column of floats, as they are
        if not isinstance(x, float):
            return x
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else number(x)

    return value.style.format(decimal, na_rep="")


def shown_numbers(out: Any) -> Any:
    """A handler's outputs for the page: each table's decimals in the reader's language (``0,1025`` in
    Spanish).  The cells keep their numbers (the API, the CSV and a Python caller read those); Gradio shows
    the Styler's text.  Called by ``guard`` for Gradio's calls only."""
    if current_lang() == "en":
        return out
    if isinstance(out, tuple):
        return tuple(_shown_table(v) for v in out)
    return _shown_table(out)


def notes_markdown(notes: list[str]) -> str:
    """Notes (clamps, fallbacks, truncation) as a Markdown list in the current language; "" when none.

    A note kept from earlier (a cached model's) may be in another language: written again.
    Escaped: notes quote model names and other text the user typed.
    """
    return "\n".join(f"- ℹ️ {plain(retranslate(n))}" for n in notes)


@dataclass
class UIContext:
    """Components shared across tabs, handed to each tab's ``build``."""

    model: gr.Dropdown  # the global model picker (a name for models.load_model)
    model_status: gr.Markdown
    refresh_callbacks: list[Callable[[], Any]] = field(default_factory=list)
    # What each tab redraws after a language switch (``ui.relang.Redraw``).
    redraws: list[Any] = field(default_factory=list)
    tabs: Any = None  # the gr.Tabs holding every tab (to switch tabs from a scenario)
    # Components other tabs may drive (e.g. the guide's scenarios), keyed "<tab>.<name>".
    components: dict[str, Any] = field(default_factory=dict)


#: Queue limits per kind of work, shared by the events that do it (click,
#: submit, slider release).  Why: on a 2-core machine running several long
#: requests at once doesn't finish them sooner, it only slows everything
#: else down; measured with ``bench/load.py`` (20 clients and a training
#: job), one decoding or comparison at a time lowered "Siguiente token"
#: latency for everyone while decodings waited less in total.
CONCURRENCY: dict[str, int] = {"next_token": 4, "decode": 1, "compare": 1}


def queue_opts(kind: str) -> dict[str, Any]:
    """``concurrency_id``/``concurrency_limit`` for an event doing ``kind`` of work."""
    return {"concurrency_id": kind, "concurrency_limit": CONCURRENCY[kind]}


def poll_timer(running: bool, from_tick: bool) -> Any:
    """The update of a job's poll timer from a status redraw.

    Only the timer's own tick may switch it off.  A redraw on page load, on a
    tab switch or after a language change is computed when it starts and may
    reach the page after a Start or Continuar that began later (the queue runs
    different events side by side): its "nothing runs" would then stop the
    polling of the job that had just begun, and the page would never show it
    (seen in CI: a slow tab redraw landed after "Continuar").  A stale text is
    harmless while the timer runs: the next tick redraws it.
    """
    if running:
        return gr.Timer(active=True)
    return gr.Timer(active=False) if from_tick else gr.skip()
