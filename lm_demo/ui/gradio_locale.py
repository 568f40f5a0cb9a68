"""What Gradio's public i18n API cannot carry for our language switch, worked around here and only here.

Gradio 6.31's public i18n API (``gr.I18n(**tables)``, ``launch(i18n=...)``,
``I18nData`` markers in component props) translates static texts in the
browser, and it is what ``ui.i18n`` builds on.  Three things it does not
offer, which this app needs, so they are worked around in this module:

1. **A Spanish first page for every browser.**  Gradio starts in the
   browser's locale when it is one of Gradio's own languages, else its base
   language, else "en"; a custom locale is never chosen at start.  So our
   Spanish table is registered as "es" *and* as "en" (the fallback of every
   non-Spanish browser), and English under a locale no browser reports,
   "en-lmdemo" (``FRONT_LOCALES``, ``locale_tables``).  Only public API; it
   relies on how the front end picks the first locale.
2. **Switching the page's language from our own control.**  The front end
   has no public call for it: its footer's Settings panel calls
   ``changeLocale``, exported by Gradio's hashed ``assets/core-*.js``.  The
   switch imports that module (ES modules are singletons per URL, so the
   locale store is shared) and calls it (``HEAD_JS``, ``window.lmApplyLocale``).
3. **The API docs in words.**  ``Blocks.get_api_info`` copies component labels
   from the config, where they are markers; ``api_info_in_spanish`` wraps it
   so the API page and ``gradio_client`` show the Spanish labels.

Also Gradio's own keys missing from its tables (``GRADIO_KEYS``).  What needs
no workaround stays on the public API in ``ui.i18n``: the tables, the
markers, one marker per prop, and relabelling through ``gr.update`` what the
front end never re-translates (tab labels, Dataframe headers: ``ui.relang``).

Everything here was measured on the Gradio versions in ``TESTED``; on any
other, the switch does not import Gradio's assets (the page's labels stay
Spanish while the server's text still follows the choice), a warning says so
at start-up, and ``tests/test_gradio_locale.py`` fails until each point above
has been checked again and the version added.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any, Callable

import gradio as gr

from lm_demo.locales import DEFAULT_LANG, LANGS

log = logging.getLogger("lm_demo")

#: Gradio versions (major.minor) whose front end the workarounds were measured on.
TESTED = ("6.31",)
#: The front end's locale for each language (see point 1 of the module docstring).
FRONT_LOCALES = {"es": "es", "en": "en-lmdemo"}
#: Gradio's own keys that its tables lack (shown raw otherwise), per language.
GRADIO_KEYS = {"es": {"common.complete": "Completado", "status.queue_position": "En cola: {position} de {size}"},
               "en": {"common.complete": "Complete", "status.queue_position": "In queue: {position} of {size}"}}


def gradio_version() -> str:
    return str(getattr(gr, "__version__", ""))


def supported(version: str | None = None) -> bool:
    """Whether the workarounds were measured on this Gradio (``TESTED``, by major.minor)."""
    parts = (gradio_version() if version is None else version).split(".")
    return ".".join(parts[:2]) in TESTED


def locale_tables(front: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The tables for ``gr.I18n``: each language's ``front`` table (the same dict objects) under its locale,
    and Spanish under "en" too (point 1)."""
    for lang in LANGS:
        front[lang].update(GRADIO_KEYS[lang])
    tables = {FRONT_LOCALES[lang]: front[lang] for lang in LANGS}
    tables["en"] = front[DEFAULT_LANG]
    return tables


def api_info_in_spanish(blocks: Any, to_spanish: Callable[[Any], Any]) -> None:
    """The API docs (and ``gradio_client``'s view) name parameters by their Spanish labels, not markers."""
    original = blocks.get_api_info

    @functools.wraps(original)
    def get_api_info(*args: Any, **kwargs: Any) -> Any:
        return to_spanish(original(*args, **kwargs))

    blocks.get_api_info = get_api_info


def core_asset() -> Path | None:
    """Gradio's ``core-*.js`` in the installed package (None when there is not exactly one)."""
    found = sorted((Path(gr.__file__).parent / "templates" / "frontend" / "assets").glob("core-*.js"))
    return found[0] if len(found) == 1 else None


# Defines ``window.lmApplyLocale(lang)`` ("es" | "en"): the page's locale through Gradio's own
# store (point 2).  The URL of ``core-*.js`` comes from the page's resource list, else from the
# installed package.  ``ui.i18n``'s head script calls it; it throws when the store is not found.
HEAD_JS = """
<script>
(() => {
  const FALLBACK_CORE = "%(core)s";
  const LOCALES = %(locales)s;
  const pattern = /\\/assets\\/core-[^\\/]*\\.js(\\?|$)/;
  let core = null;
  const coreUrls = () => {
    const urls = performance.getEntriesByType("resource").map((e) => e.name).filter((n) => pattern.test(n));
    document.querySelectorAll("script[src], link[href]").forEach((el) => {
      const u = el.src || el.href;
      if (pattern.test(u)) urls.push(u);
    });
    if (FALLBACK_CORE) urls.push(new URL(FALLBACK_CORE, document.baseURI).href);
    return [...new Set(urls)];
  };
  const loadCore = async () => {
    if (core) return core;
    for (const url of coreUrls()) {
      try {
        const m = await import(url);
        if (typeof m.changeLocale === "function") { core = m; return core; }
      } catch (e) { /* try the next one */ }
    }
    throw new Error("Gradio's changeLocale was not found");
  };
  window.lmApplyLocale = async (lang) => { (await loadCore()).changeLocale(LOCALES[lang]); };
})();
</script>
"""


def head_html() -> str:
    """The script that defines ``window.lmApplyLocale``; nothing (and a warning) on an untested Gradio."""
    if not supported():
        log.warning("Gradio %s is not among the versions the language switch was measured on (%s): the page's "
                    "labels stay in Spanish, the server's text follows the switch (see lm_demo/ui/gradio_locale.py)",
                    gradio_version(), ", ".join(TESTED))
        return ""
    asset = core_asset()
    return HEAD_JS % {"core": f"assets/{asset.name}" if asset else "", "locales": json.dumps(FRONT_LOCALES)}


__all__ = ["TESTED", "FRONT_LOCALES", "GRADIO_KEYS", "gradio_version", "supported", "locale_tables",
           "api_info_in_spanish", "core_asset", "head_html"]
