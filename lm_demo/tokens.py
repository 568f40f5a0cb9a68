"""Turn token ids into text a class can read, and prompts into ids safely.

Why: byte-level BPE tokens start with spaces, hold newlines, or are half of a
multi-byte UTF-8 character (``á`` is two bytes).  Shown raw, a leading space
is invisible and a half character prints as ``�``; so spaces, newlines and
tabs are made visible and byte fragments are shown as ``<0xC3>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lm_demo.errors import UserError

SPACE, NEWLINE, TAB = "␣", "↵", "⇥"
MAX_PROMPT_CHARS = 20_000


def visible(text: str) -> str:
    """Spaces, newlines and tabs made visible (for tables and chips)."""
    return text.replace(" ", SPACE).replace("\n", NEWLINE).replace("\t", TAB)


def token_text(tokenizer: Any, token_id: int) -> str:
    """The text of one token; a UTF-8 fragment shows as its bytes, e.g. ``<0xC3>``."""
    text = tokenizer.decode([int(token_id)], clean_up_tokenization_spaces=False)
    if "\ufffd" in text:
        raw = tokenizer.convert_ids_to_tokens(int(token_id))
        try:  # byte-level BPE: map its printable alphabet back to bytes
            from transformers.models.gpt2.tokenization_gpt2 import bytes_to_unicode

            inv = {v: k for k, v in bytes_to_unicode().items()}
            data = bytes(inv[c] for c in raw)
            return "".join(f"<0x{b:02X}>" for b in data)
        except Exception:
            return raw
    return text


def token_label(tokenizer: Any, token_id: int) -> str:
    """``token_text`` with whitespace made visible: what tables show."""
    return visible(token_text(tokenizer, token_id))


@dataclass(frozen=True)
class EncodedPrompt:
    ids: list[int]
    truncated_from: int | None  # original length when cut to fit the model

    @property
    def notes(self) -> list[str]:
        from lm_demo.locales import t

        return [t("note.prompt_truncated", n=len(self.ids))] if self.truncated_from else []


def encode_prompt(tokenizer: Any, prompt: str | None, max_tokens: int) -> EncodedPrompt:
    """Ids of ``prompt``, validated, keeping its last ``max_tokens`` tokens.

    Raises ``UserError`` for an empty prompt.  Characters the tokenizer can't
    map are still bytes for a byte-level BPE, so emoji and control characters
    work; a prompt longer than ``MAX_PROMPT_CHARS`` is cut (its end is kept,
    since that is what the model continues).
    """
    if prompt is None or not str(prompt).strip():
        raise UserError("err.empty_prompt")
    text = str(prompt)[-MAX_PROMPT_CHARS:]
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise UserError("err.prompt_no_tokens")
    max_tokens = max(1, int(max_tokens))
    if len(ids) > max_tokens:
        return EncodedPrompt(ids[-max_tokens:], len(ids))
    return EncodedPrompt(ids, None)


def prompt_chips(tokenizer: Any, ids: list[int]) -> list[tuple[str, str]]:
    """(label, id) pairs for ``gr.HighlightedText``-style token chips."""
    return [(token_label(tokenizer, i), str(i)) for i in ids]
