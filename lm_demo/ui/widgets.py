"""Gradio components adjusted for a classroom and a public API.

Why: Gradio rejects an out-of-range slider value sent through the API with an
English "Value X is greater than maximum value Y" error.  Our promise is a
documented clamp, so ``Slider`` and ``Number`` clamp to their range (and a
missing or non-numeric value becomes the default) instead of raising; and
likewise ``Radio``/``Dropdown``/``CheckboxGroup`` turn a value outside their
choices into the default (or drop it) rather than answer in English.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr


class Slider(gr.Slider):
    """``gr.Slider`` that clamps API values to [minimum, maximum] instead of rejecting them."""

    is_template = True  # rendered by the parent's front-end component ("slider")

    def preprocess(self, payload: Any) -> float:
        default = self.value if isinstance(self.value, (int, float)) else self.minimum
        return gr.Number.round_to_precision(_clamp(payload, self.minimum, self.maximum, default), self.precision)


def _clamp(x: Any, lo: float | None, hi: float | None, default: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return default
    if math.isnan(v):
        return default
    if lo is not None:
        v = max(v, lo)
    if hi is not None:
        v = min(v, hi)
    return v


class Number(gr.Number):
    """``gr.Number`` that clamps API values to [minimum, maximum] instead of rejecting them.

    A missing or non-numeric value becomes the field's default.
    """

    is_template = True  # rendered by the parent's front-end component ("number")

    def preprocess(self, payload: Any) -> float | int | None:
        default = self.value if isinstance(self.value, (int, float)) else None
        v = _clamp(payload, self.minimum, self.maximum, default)
        return None if v is None else self.round_to_precision(v, self.precision)


def _choice_values(component: Any) -> list[Any]:
    return [value for _, value in component.choices]


class Radio(gr.Radio):
    """``gr.Radio`` where an API value outside the choices becomes the default choice."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        if payload not in _choice_values(self):
            payload = self.value if self.value in _choice_values(self) else None
        return super().preprocess(payload)


class Dropdown(gr.Dropdown):
    """``gr.Dropdown`` where API values outside the choices become the default (or are dropped)."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        values = _choice_values(self)
        if not self.allow_custom_value:
            if isinstance(payload, list):
                payload = [v for v in payload if v in values] if self.multiselect else None
            if payload is not None and not isinstance(payload, list) and payload not in values:
                payload = self.value if self.value in values else None
        return super().preprocess(payload)


class CheckboxGroup(gr.CheckboxGroup):
    """``gr.CheckboxGroup`` that ignores API values outside its choices."""

    is_template = True

    def preprocess(self, payload: Any) -> Any:
        values = _choice_values(self)
        payload = payload if isinstance(payload, list) else []
        return super().preprocess([v for v in payload if v in values])
