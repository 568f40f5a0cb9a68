"""The Spanish/English switch of the page: Gradio's i18n table, the build pass and the browser side.

How the page changes language without a server round trip: every static UI
text (labels, info lines, Markdown, buttons, tabs, choices) is sent to the
browser as a Gradio ``I18nData`` marker, and ``launch(i18n=gr.I18n(...))``
hands the browser both tables; Gradio's front end translates markers with its
locale store and re-translates them when the locale changes.  The switch in
the header (``window.lmSetLang``) keeps the choice in localStorage and in the
``lm_lang`` cookie, and asks ``window.lmApplyLocale`` to relabel the page.

This module uses Gradio's public i18n API only.  What that API cannot carry
(a Spanish first page for every browser, switching the front end's locale
from our own control, the API docs in words) lives in ``ui.gradio_locale``,
behind a check of the Gradio version.  Facts about Gradio 6.31's front end
that shape this module (measured):

- It translates only the first marker of a string, and a marker inside a
  longer string is not always re-translated.  So every translated prop must be
  exactly one ``I18nData``: texts built from several keys or with parameters
  get a derived key whose text is computed here in both languages
  (``derived``), and ``localize_blocks`` turns any string with markers left in
  a component into one.
- Keys share one namespace with Gradio's own (``file``, ``plot``... are
  objects there, shown as "[object Object]"), so ours are prefixed ``lm.``.
- Messages are shown verbatim (no ICU formatting), so no escaping is needed.
- Tab labels are translated once, then only for the tab on show, and
  Dataframe headers never: ``ui.relang`` relabels them from the server on a
  switch, and redraws the results on screen.

Server-side text (errors, notes, tables, charts) follows the language that
``guard`` reads from the request (see ``lm_demo.ui.common``): the page's
choice, recorded per session by ``relang.lang_sync``, else the cookie, else Spanish.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from typing import Any, Iterable

import gradio as gr
from gradio.i18n import I18nData

from lm_demo.locales import DEFAULT_LANG, LANGS, STRINGS, normalize_lang
from lm_demo.ui import gradio_locale

log = logging.getLogger("lm_demo")

PREFIX = "lm."  # our keys in the front end's table (Gradio's own keys live there too)
COOKIE = "lm_lang"  # the user's choice, for the server (also kept in localStorage)
MARK = "__i18n__"
LANG_CHOICES = [("Español", "es"), ("English", "en")]

# Props the front end translates (Gradio 6.31: label, info, placeholder, description, title, value).
TRANSLATED_PROPS = ("label", "info", "placeholder", "description", "title", "value")
CHOICE_PROPS = ("choices",)


def _front_table() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        merged = {**STRINGS[DEFAULT_LANG], **STRINGS[lang]}  # a key missing in English shows Spanish
        table[lang] = {PREFIX + k: v for k, v in merged.items()}
    return table


# Live dicts: ``gr.I18n`` keeps references and the config is served per request,
# so keys derived while building the UI are sent too.
FRONT: dict[str, dict[str, str]] = _front_table()
_lock = threading.Lock()


def marker(key: str) -> I18nData:
    """The front-end marker for locale ``key``."""
    return I18nData(PREFIX + key)


def text_of(key: str, lang: str) -> str | None:
    """The text of a front-end key (ours or derived) in ``lang``; None for keys that are not ours."""
    lang = normalize_lang(lang)
    return FRONT[lang].get(key, FRONT[DEFAULT_LANG].get(key))


def resolve(value: Any, lang: str) -> Any:
    """``value`` with every marker of ours (object or embedded in a string) replaced by its ``lang`` text."""
    if isinstance(value, I18nData):
        text = text_of(value.key, lang)
        return value if text is None else text
    if not isinstance(value, str) or MARK not in value:
        return value
    out, pos = [], 0
    decoder = json.JSONDecoder()
    while (i := value.find(MARK, pos)) != -1:
        try:
            data, end = decoder.raw_decode(value, i + len(MARK))
            key = data.get("key") if isinstance(data, dict) else None
        except ValueError:
            key, end = None, i + len(MARK)
        text = text_of(key, lang) if isinstance(key, str) else None
        out.append(value[pos:i])
        out.append(value[i:end] if text is None else text)
        pos = end
    out.append(value[pos:])
    return "".join(out)


def derived(texts: dict[str, str]) -> I18nData | str:
    """A marker for a text given in each language (a template with parameters, a composition).

    The key is a hash of the texts, so building the UI twice gives the same keys.
    """
    texts = {lang: texts.get(lang, texts[DEFAULT_LANG]) for lang in LANGS}
    if len(set(texts.values())) == 1 and MARK not in texts[DEFAULT_LANG]:
        return texts[DEFAULT_LANG]  # nothing to translate (a number, a model name)
    digest = hashlib.sha1("\x00".join(texts[lang] for lang in LANGS).encode()).hexdigest()[:16]
    key = f"{PREFIX}~{digest}"
    with _lock:
        for lang in LANGS:
            FRONT[lang][key] = texts[lang]
    return I18nData(key)


def localize(value: Any) -> Any:
    """One marker for a translated prop: a string holding markers becomes a single ``I18nData``."""
    if isinstance(value, I18nData) or not isinstance(value, str) or MARK not in value:
        return value
    stripped = value.strip()
    if stripped.startswith(MARK):
        try:
            data, end = json.JSONDecoder().raw_decode(stripped, len(MARK))
        except ValueError:
            data, end = None, -1
        if end == len(stripped) and isinstance(data, dict) and isinstance(data.get("key"), str):
            return I18nData(data["key"])
    return derived({lang: resolve(value, lang) for lang in LANGS})


def resolve_deep(value: Any, lang: str) -> Any:
    """Markers anywhere in plain data (lists, dicts) replaced by their ``lang`` text."""
    if isinstance(value, (str, I18nData)):
        return resolve(value, lang)
    if isinstance(value, list):
        return [resolve_deep(v, lang) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_deep(v, lang) for v in value)
    if isinstance(value, dict):
        return {k: resolve_deep(v, lang) for k, v in value.items()}
    return value


def _has_marker(value: Any) -> bool:
    if isinstance(value, I18nData):
        return True
    if isinstance(value, str):
        return MARK in value
    if isinstance(value, (list, tuple)):
        return any(_has_marker(v) for v in value)
    if isinstance(value, dict):
        return any(_has_marker(v) for v in value.values())
    return False


def localize_blocks(blocks: Iterable[Any]) -> int:
    """Make every component's text translatable by the front end; returns how many props changed.

    Translated props get a single ``I18nData`` each; choice labels too; markers
    anywhere else (where the front end would show them raw, e.g. Dataframe
    headers) are resolved to Spanish, the original kept in ``_lm_untranslated``
    (``relang.empty_tables`` relabels those tables on a switch).
    """
    changed = 0
    for block in blocks:
        attrs = vars(block)
        for name in list(attrs):
            value = attrs[name]
            if name.startswith("_") or not _has_marker(value):
                continue
            if name in TRANSLATED_PROPS and isinstance(value, (str, I18nData)):
                new = localize(value)
            elif name in CHOICE_PROPS and isinstance(value, list):
                new = [(localize(c[0]), *c[1:]) if isinstance(c, tuple) and c else c for c in value]
            elif isinstance(value, (str, list, tuple, dict)):
                log.debug("untranslatable prop %s.%s resolved to Spanish", type(block).__name__, name)
                new = resolve_deep(value, DEFAULT_LANG)
                block._lm_untranslated = {**getattr(block, "_lm_untranslated", {}), name: value}
            else:
                continue
            if new is not value:
                setattr(block, name, new)
                changed += 1
    return changed


def api_info_in_spanish(blocks: Any) -> None:
    """The API docs name parameters by their Spanish labels (``gradio_locale.api_info_in_spanish``)."""
    gradio_locale.api_info_in_spanish(blocks, lambda info: resolve_deep(info, DEFAULT_LANG))


_I18N: gr.I18n | None = None


def gradio_i18n() -> gr.I18n:
    """The ``gr.I18n`` for ``launch(i18n=...)`` (one instance; it shares the live ``FRONT`` dicts, so keys
    derived later are served too; the locales are ``gradio_locale.locale_tables``')."""
    global _I18N
    if _I18N is None:
        _I18N = gr.I18n(**gradio_locale.locale_tables(FRONT))
    return _I18N


# --- which language a request is in -------------------------------------------------------------

# The choice per page session (sent by the switch), so that it works where the
# browser does not send the cookie (a Space inside an iframe); bounded, and
# forgotten with the session (``forget_sessions``, called when Gradio's
# session is dropped: see ``lm_demo.ui.sessions``).
_SESSIONS: OrderedDict[str, str] = OrderedDict()
_MAX_SESSIONS = 2_000


def remember_lang(lang: str | None, request: gr.Request) -> None:
    """Record the page's language for its session (called by the switch, private)."""
    session = getattr(request, "session_hash", None) if request is not None else None
    if not session or not isinstance(session, str) or len(session) > 100:
        return
    with _lock:
        _SESSIONS[session] = normalize_lang(lang)
        _SESSIONS.move_to_end(session)
        while len(_SESSIONS) > _MAX_SESSIONS:
            _SESSIONS.popitem(last=False)


def forget_sessions(session_ids: Iterable[str]) -> None:
    """Drop the remembered language of sessions that ended."""
    with _lock:
        for session in session_ids:
            _SESSIONS.pop(session, None)


def request_lang(request: Any) -> str:
    """The user's language for a request: the page's choice, else the ``lm_lang`` cookie, else Spanish.

    Calls through the API (``gradio_client``: no cookie, no switch) are Spanish.
    """
    if request is None:
        return DEFAULT_LANG
    session = getattr(request, "session_hash", None)
    if session:
        with _lock:
            lang = _SESSIONS.get(session)
        if lang:
            return lang
    try:
        cookies = request.cookies
        value = cookies.get(COOKIE) if cookies is not None else None
    except Exception:  # noqa: BLE001 - a request without cookies is Spanish
        value = None
    return normalize_lang(value)


# --- the browser side ---------------------------------------------------------------------------


# Defines ``window.lmSetLang(lang)``: remember the choice (localStorage + cookie) and relabel the
# page (``window.lmApplyLocale``, from ``gradio_locale``).  Runs from ``head``, i.e. after Gradio has
# read its config and set its locale; it applies the stored choice at once.  Where the page cannot be
# relabelled, labels stay as they are while the server's text still follows the choice (an e2e test
# guards the in-place switch on the pinned Gradio).
HEAD_JS = """
<script>
(() => {
  const KEY = "%(cookie)s";
  const norm = (v) => (String(v || "").toLowerCase().startsWith("en") ? "en" : "es");
  const stored = () => { try { return norm(localStorage.getItem(KEY)); } catch (e) { return "es"; } };
  window.lmStoredLang = stored;
  window.lmSetLang = async (value) => {
    const lang = norm(value);
    try { localStorage.setItem(KEY, lang); } catch (e) { /* private mode */ }
    document.cookie = KEY + "=" + lang + "; path=/; max-age=31536000; SameSite=Lax";
    document.documentElement.lang = lang;
    try {
      await window.lmApplyLocale(lang);
      document.documentElement.lang = lang;  // the store set it to the locale code
      window.lmLocaleApplied = lang;
    } catch (e) {
      // Without Gradio's locale store the labels stay as they are; what the server
      // writes (results, messages) still follows the choice (cookie and session).
      console.warn("lm_demo: cannot switch the page language in place", e);
      window.lmLocaleApplied = null;
    }
    return lang;
  };
  window.lmSetLang(stored());
})();
</script>
"""


def head_html() -> str:
    return gradio_locale.head_html() + HEAD_JS % {"cookie": COOKIE}


# The switch: relabel in the browser at once; its return value goes on to the server's
# ``relang.lang_sync`` (with the other inputs as they are).  ``lmSetLang`` comes from ``HEAD_JS``.
_SWITCH_JS = """(lang, ...rest) => {
  lang = (lang === "en") ? "en" : "es";
  if (window.lmSetLang) { window.lmSetLang(lang); }
  return %s;
}"""
# On page load: the stored choice (Spanish unless the user picked English).
STORED_JS = """() => (window.lmStoredLang ? window.lmStoredLang() : "es")"""
_LOAD_JS = """(lang, ...rest) => {
  lang = window.lmStoredLang ? window.lmStoredLang() : "es";
  return %s;
}"""


def switch_js(n_more_inputs: int) -> str:
    """JS for the switch's event, whose inputs are the language and ``n_more_inputs`` others."""
    return _SWITCH_JS % ("[lang, ...rest]" if n_more_inputs else "lang")


def load_js(n_more_inputs: int) -> str:
    """JS for the page-load sync: the stored language instead of the switch's value."""
    return _LOAD_JS % ("[lang, ...rest]" if n_more_inputs else "lang")
