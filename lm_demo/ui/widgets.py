"""Gradio components adjusted for a classroom and a public API.

Why: Gradio rejects an out-of-range slider value sent through the API with an
English "Value X is greater than maximum value Y" error.  Our promise is a
documented clamp, so ``Slider`` clamps to its range (and a missing or
non-numeric value becomes the slider's default) instead of raising.
"""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
from gradio.components.number import Number


class Slider(gr.Slider):
    """``gr.Slider`` that clamps API values to [minimum, maximum] instead of rejecting them."""

    is_template = True  # rendered by the parent's front-end component ("slider")

    def preprocess(self, payload: Any) -> float:
        default = self.value if isinstance(self.value, (int, float)) else self.minimum
        try:
            x = float(payload)
        except (TypeError, ValueError):
            x = float(default)
        if math.isnan(x):
            x = float(default)
        x = min(max(x, self.minimum), self.maximum)
        return Number.round_to_precision(x, self.precision)
