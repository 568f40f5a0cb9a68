"""Every user-facing string, Spanish first, English second.

Why a package: one place for all UI text, but one file per tab so that the
tabs can grow independently.  Each submodule defines ``ES`` and ``EN`` dicts;
keys are unique across submodules (prefix them with the tab: ``nt.``,
``dec.``, ``train.``, ``cmp.``; shared ones have no prefix).  Every key exists
in both languages (``tests/test_i18n.py`` checks it).

Which language: ``t(key)`` uses the current context's language (Spanish
unless a caller is inside ``use_lang("en")``); the UI sets it per request from
the user's choice.  Only UI text is translated, never the model's text.
"""

from __future__ import annotations

import contextvars
import functools
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

from lm_demo.locales.numbers import convert, is_number, number

LANGS = ("es", "en")
DEFAULT_LANG = "es"

# The language of the text being produced right now.  A context variable, not
# a global: each request (thread or task) sets its own, so one student using
# English never switches another's messages.  Core modules stay Gradio-free:
# they only call ``t()``; the UI layer sets the language around a handler.
_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("lm_demo_lang", default=DEFAULT_LANG)
_PARTS = ("common", "next_token", "decoding", "training", "compare", "guide", "inside")


def _merge() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for part in _PARTS:
        try:
            mod = import_module(f"{__name__}.{part}")
        except ModuleNotFoundError:
            continue
        for lang in LANGS:
            strings = getattr(mod, lang.upper(), {})
            dup = table[lang].keys() & strings.keys()
            if dup:
                raise RuntimeError(f"duplicate locale keys in {part}: {sorted(dup)}")
            table[lang].update(strings)
    return table


STRINGS: dict[str, dict[str, str]] = _merge()


def normalize_lang(value: object) -> str:
    """``"es"`` or ``"en"`` from anything (``"en-US"``, ``"EN"``, ``None``...); Spanish unless clearly English."""
    if not isinstance(value, str):
        return DEFAULT_LANG
    base = value.strip().lower().replace("_", "-").split("-")[0]
    return base if base in LANGS else DEFAULT_LANG


def current_lang() -> str:
    """The language ``t()`` uses when none is given."""
    return _LANG.get()


@contextmanager
def use_lang(lang: object) -> Iterator[str]:
    """Produce text in ``lang`` inside the block (restored afterwards, also on error)."""
    token = _LANG.set(normalize_lang(lang))
    try:
        yield _LANG.get()
    finally:
        _LANG.reset(token)


class Text(str):
    """A text made by ``t``: a plain ``str`` that remembers its key and parameters.

    Why: a message made once and shown later (a training note posted by the
    background thread, a loaded model's notes) can then be written again in
    whatever language the page has when it is shown (``render``, ``to_ref``).
    Any operation on it (concatenation, f-strings) gives a plain ``str``.
    """

    __slots__ = ("key", "params")
    key: str
    params: dict

    def __new__(cls, value: str, key: str, params: dict) -> "Text":
        obj = super().__new__(cls, value)
        obj.key, obj.params = key, params
        return obj

    def __reduce__(self) -> tuple:
        return (Text, (str(self), self.key, self.params))


class _Formatter(string.Formatter):
    """``str.format`` with numbers written in ``lang`` (``numbers.number``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        return number(value, format_spec, self.lang)  # a non-number with a number's spec is shown as it is


def t(key: str, lang: str | None = None, **params: object) -> str:
    """The text for ``key`` in ``lang`` (default: the current language; falls back to Spanish, then the key).

    Numeric parameters are written in that language (``{x:.2f}``: ``5,27`` in Spanish, ``5.27`` in English).
    """
    lang = _LANG.get() if lang is None else normalize_lang(lang)
    text = STRINGS.get(lang, {}).get(key) or STRINGS[DEFAULT_LANG].get(key) or key
    return Text(_Formatter(lang).format(text, **params) if params else text, key, params)


def render(text: object, lang: str | None = None) -> object:
    """``text`` written again in ``lang``: a ``Text`` from its key (nested texts too), other text by
    ``retranslate``; anything else unchanged."""
    if isinstance(text, Text):
        return t(text.key, lang, **{k: render(v, lang) for k, v in text.params.items()})
    return retranslate(text, lang) if isinstance(text, str) else text


def to_ref(text: object) -> dict | None:
    """``{"key", "params"}`` of a ``Text`` as plain JSON data (nested texts as refs), None for other text."""
    if not isinstance(text, Text):
        return None

    def value(v: object) -> object:
        if isinstance(v, Text):
            return to_ref(v)
        if v is None or isinstance(v, (bool, int, float, str)):
            return v if not isinstance(v, str) else str(v)
        return float(v) if is_number(v) else str(v)

    return {"key": text.key, "params": {k: value(v) for k, v in text.params.items()}}


def from_ref(ref: object, lang: str | None = None) -> str | None:
    """The text of a ``to_ref`` in ``lang`` (None when ``ref`` is not one)."""
    if not (isinstance(ref, dict) and isinstance(ref.get("key"), str) and isinstance(ref.get("params", {}), dict)):
        return None

    def value(v: object) -> object:
        nested = from_ref(v, lang) if isinstance(v, dict) else None
        return v if nested is None else nested

    try:
        return t(ref["key"], lang, **{k: value(v) for k, v in ref.get("params", {}).items()})
    except (KeyError, IndexError, ValueError, TypeError):  # a ref from an older table
        return None


# --- text made earlier, in another language ------------------------------------------------------
# Some messages are formatted once and kept (a loaded model's notes, a background job's
# error), possibly in another user's language.  ``retranslate`` finds which template
# made such a text and writes it again in the current language.

@functools.lru_cache(maxsize=None)
def _matchers(lang: str) -> list[tuple[int, re.Pattern[str], str]]:
    """(literal length, pattern, key) for every template with fields, most specific first."""
    found = []
    for key, template in STRINGS[lang].items():
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError:
            continue
        fields = [f for _, f, _, _ in parts if f]
        literal = sum(len(lit) for lit, _, _, _ in parts)
        if not fields or literal < 8:  # nothing to fill in, or too little text to be sure
            continue
        pattern, seen = "", set()
        for lit, name, _, _ in parts:
            pattern += re.escape(lit)
            if name is not None:
                if not name.isidentifier() or name in seen:
                    pattern += "(?:.+?)"
                else:
                    pattern += f"(?P<{name}>.+?)"
                    seen.add(name)
        found.append((literal, re.compile(pattern, re.DOTALL), key))
    found.sort(key=lambda m: -m[0])  # the most specific template first
    return found


@functools.lru_cache(maxsize=None)
def _plain_texts(lang: str) -> dict[str, str]:
    """Text -> key for the templates without fields (the first key wins)."""
    found: dict[str, str] = {}
    for key, template in STRINGS[lang].items():
        if "{" not in template:
            found.setdefault(template, key)
    return found


def _fill(template: str, values: dict[str, str], source: str, target: str) -> str | None:
    out = []
    for lit, name, _, _ in string.Formatter().parse(template):
        out.append(lit)
        if name is not None:
            if name not in values:
                return None
            out.append(convert(values[name], source, target))  # already formatted: only its number marks change
    return "".join(out)


def retranslate(text: str, lang: str | None = None) -> str:
    """``text`` (made from one of our templates, in any language) written in ``lang``.

    Text that no template made is returned unchanged.
    """
    lang = _LANG.get() if lang is None else normalize_lang(lang)
    if not isinstance(text, str) or not text:
        return text
    if isinstance(text, Text):
        return render(text, lang)
    for source in LANGS:
        key = _plain_texts(source).get(text)
        if key is not None:
            return text if source == lang else STRINGS[lang].get(key, text)
    for source in LANGS:
        for _, pattern, key in _matchers(source):
            m = pattern.fullmatch(text)
            if m:
                if source == lang:
                    return text
                filled = _fill(STRINGS[lang].get(key, ""), m.groupdict(), source, lang)
                return text if filled is None else filled
    return text
