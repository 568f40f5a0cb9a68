"""Every user-facing string, Spanish first, English second.

Why a package: one place for all UI text, but one file per tab so that the
tabs can grow independently.  Each submodule defines ``ES`` and ``EN`` dicts;
keys are unique across submodules (prefix them with the tab: ``nt.``,
``dec.``, ``train.``, ``cmp.``; shared ones have no prefix).
"""

from __future__ import annotations

from importlib import import_module

LANGS = ("es", "en")
DEFAULT_LANG = "es"
_PARTS = ("common", "next_token", "decoding", "training", "compare", "guide")


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


def t(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The text for ``key`` in ``lang`` (falls back to Spanish, then the key)."""
    text = STRINGS.get(lang, {}).get(key) or STRINGS[DEFAULT_LANG].get(key) or key
    return text.format(**params) if params else text
