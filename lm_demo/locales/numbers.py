"""Numbers written the way the reader's language writes them: es ``1.557`` / ``5,27``, en ``1,557`` / ``5.27``.

Why one helper: a class saw "5,27 M parámetros" next to "1,557 tokens/s"
(one hand-made Spanish comma, one Python default).  Every number shown as
text goes through ``number`` (``t()`` applies it to the numeric parameters
of a template, so ``{ppl:.1f}`` is localised too); charts get the same
convention through plotly's ``separators``.

Python's format spec decides digits and grouping (``",.2f"``: thousands
grouped, two decimals; a bare int is never grouped, so a seed, a step or a
token id stays ``1557``); Spanish then swaps the two separators.
"""

from __future__ import annotations

import numbers as _numbers
import re
from typing import Any

# Plotly's ``layout.separators``: the decimal mark, then the thousands one.
PLOTLY_SEPARATORS = {"es": ",.", "en": ".,"}
_SWAP = str.maketrans(",.", ".,")
# A number as one of our templates writes it (sign, digits, separators, an exponent or a percent).
_NUMERIC = re.compile(r"[+\-−]?\d[\d.,]*(?:[eE][+\-]?\d+)?(?:\u00a0?%)?")


def is_number(value: Any) -> bool:
    """A real number to format (numpy scalars included; not a bool)."""
    return isinstance(value, _numbers.Real) and not isinstance(value, bool)


def _lang(lang: str | None) -> str:
    from lm_demo.locales import current_lang, normalize_lang

    return current_lang() if lang is None else normalize_lang(lang)


def number(value: Any, spec: str = "", lang: str | None = None) -> str:
    """``value`` formatted with ``spec`` (Python's format spec) in ``lang`` (default: the current language)."""
    if not is_number(value):
        try:
            return format(value, spec)
        except (TypeError, ValueError):  # a count's "{n:,}" given "—" or a string: shown as it is
            return str(value)
    if not spec and isinstance(value, _numbers.Integral):
        return str(int(value))
    text = format(value, spec)
    if _lang(lang) != "es":
        return text
    text = text.translate(_SWAP)
    return text[:-1] + "\u00a0%" if spec.endswith("%") else text  # es: «59,8 %», like the templates' «-70 %»


def plotly_separators(lang: str | None = None) -> str:
    """``layout.separators`` for a chart in ``lang`` (hover and tick numbers)."""
    return PLOTLY_SEPARATORS[_lang(lang)]


def convert(text: str, source: str, target: str) -> str:
    """A number already written in ``source`` rewritten for ``target`` (other text is returned unchanged).

    For a message kept from earlier (``locales.retranslate``), whose values were formatted then.
    """
    if source == target or not isinstance(text, str) or not _NUMERIC.fullmatch(text.strip()):
        return text
    return text.translate(_SWAP)


__all__ = ["number", "plotly_separators", "convert", "is_number", "PLOTLY_SEPARATORS"]
