"""Gradio components adjusted for a classroom and a public API.

Why: Gradio rejects an out-of-range slider value sent through the API with an
English "Value X is greater than maximum value Y" error.  Our promise is a
documented clamp, so ``Slider`` and ``Number`` clamp to their range (and a
missing or non-numeric value becomes the default) instead of raising; and
likewise ``Radio``/``Dropdown``/``CheckboxGroup`` turn a value outside their
choices into the default (or drop it) rather than answer in English.

What can't be clamped (``Infinity`` in a number field with no bound on that
side, an over-long or invalid text) reaches the handler as an
``InvalidInput``: ``preprocess`` doesn't know the user's language, ``guard``
does, and turns it into a message naming the field.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from lm_demo.ui.limits import MAX_TEXT_CHARS, text_problem


@dataclass(frozen=True)
class InvalidInput:
    """A value a component could not accept, passed on instead of it (see the module docstring)."""

    key: str  # locale key of the message; it takes ``field`` (the label) and ``params``
    label: Any  # the component's label (a translatable marker or text)
    params: dict = field(default_factory=dict)


def _to_float(x: Any) -> float:
    """``float(x)``; a number too large for a float (``10**400``) becomes ±inf instead of raising."""
    try:
        return float(x)
    except OverflowError:
        return -math.inf if isinstance(x, int) and x < 0 else math.inf


class Slider(gr.Slider):
    """``gr.Slider`` that clamps API values to [minimum, maximum] instead of rejecting them."""

    is_template = True  # rendered by the parent's front-end component ("slider")

    def preprocess(self, payload: Any) -> float:
        default = self.value if isinstance(self.value, (int, float)) else self.minimum
        return gr.Number.round_to_precision(_clamp(payload, self.minimum, self.maximum, default), self.precision)


def _clamp(x: Any, lo: float | None, hi: float | None, default: Any) -> float | None:
    try:
        v = _to_float(x)
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

    def preprocess(self, payload: Any) -> float | int | None | InvalidInput:
        default = self.value if isinstance(self.value, (int, float)) else None
        v = _clamp(payload, self.minimum, self.maximum, default)
        if v is not None and math.isinf(v):  # no bound on that side to clamp to
            try:
                shown = str(payload)[:40]
            except ValueError:  # an integer too long to write out
                shown = "∞"
            return InvalidInput("err.not_finite", self.label, {"value": shown})
        return None if v is None else self.round_to_precision(v, self.precision)


class Textbox(gr.Textbox):
    """``gr.Textbox`` limited to ``max_length`` characters (``MAX_TEXT_CHARS`` unless given).

    The browser stops typing at the limit; the server checks it again (the
    API has no browser) and refuses text that isn't valid UTF-8.
    """

    is_template = True  # rendered by the parent's front-end component ("textbox")

    def __init__(self, *args: Any, max_length: int | None = MAX_TEXT_CHARS, **kwargs: Any) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)

    # Gradio builds a component's config from its ``__init__`` signature: show it the parent's.
    _sig = inspect.signature(gr.Textbox.__init__)
    __init__.__signature__ = _sig.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(default=MAX_TEXT_CHARS) if p.name == "max_length" else p for p in _sig.parameters.values()])
    del _sig

    def preprocess(self, payload: Any) -> str | None | InvalidInput:
        text = super().preprocess(payload)
        if text is None:
            return None
        problem = text_problem(text, self.max_length or MAX_TEXT_CHARS)
        return text if problem is None else InvalidInput(problem[0], self.label, problem[1])


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
