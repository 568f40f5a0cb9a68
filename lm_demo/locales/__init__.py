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


def t(key: str, lang: str | None = None, **params: object) -> str:
    """The text for ``key`` in ``lang`` (default: the current language; falls back to Spanish, then the key)."""
    lang = _LANG.get() if lang is None else normalize_lang(lang)
    text = STRINGS.get(lang, {}).get(key) or STRINGS[DEFAULT_LANG].get(key) or key
    return text.format(**params) if params else text


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


def _fill(template: str, values: dict[str, str]) -> str | None:
    out = []
    for lit, name, _, _ in string.Formatter().parse(template):
        out.append(lit)
        if name is not None:
            if name not in values:
                return None
            out.append(values[name])  # already formatted: keep it as it was written
    return "".join(out)


def retranslate(text: str, lang: str | None = None) -> str:
    """``text`` (made from one of our templates, in any language) written in ``lang``.

    Text that no template made is returned unchanged.
    """
    lang = _LANG.get() if lang is None else normalize_lang(lang)
    if not isinstance(text, str) or not text:
        return text
    for source in LANGS:
        for _, pattern, key in _matchers(source):
            m = pattern.fullmatch(text)
            if m:
                if source == lang:
                    return text
                filled = _fill(STRINGS[lang].get(key, ""), m.groupdict())
                return text if filled is None else filled
    return text
