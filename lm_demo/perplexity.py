"""Perplexity and per-token loss of a model on held-out text.

Why per token: one number (perplexity) says *how much* a fine-tuned model is
less surprised by a corpus; the loss of every token along the text shows the
class *where* (rhymes, the punch line of a joke, the names of a genre).

How, precisely:
- Each text is tokenized with the model's own tokenizer; texts are joined
  with eos between them and one eos in front (the model's "start of text"
  context), so the first token of every text is scored too.
- Every token after the leading eos is scored exactly once, including the
  eos separators (predicting where a text ends is part of modelling it).
- Texts longer than the context use a sliding window: the first window
  scores its first ``max_length - 1`` tokens; each next window moves by
  ``stride`` tokens and scores only the ``stride`` tokens it adds, so each of
  them is predicted from at least ``max_length - stride`` previous tokens.
- ``perplexity = exp(mean token loss)`` (natural log).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from lm_demo.errors import UserError

DEFAULT_MAX_TOKENS = 2048  # what the tab scores at most (a note says when it cuts)
MAX_TEXT_CHARS = 200_000


@dataclass
class TokenLosses:
    """Loss of every scored token of a text, in order, plus where each token sits.

    ``ids[0]`` is the leading eos (context only); ``losses[i]``, ``labels[i]``,
    ``contexts[i]`` and ``char_starts[i]`` describe ``ids[i + 1]``.
    ``char_starts`` are offsets into ``joined_text`` (texts joined by
    ``SEPARATOR``) so that two models with different tokenizers line up on
    one axis; an eos separator sits at the end of its text.
    """

    model_name: str
    ids: list[int]
    losses: list[float]  # natural-log cross-entropy per scored token
    labels: list[str]  # visible token text (␣ for spaces, ↵ for newlines)
    contexts: list[int]  # how many previous tokens the model saw for each
    char_starts: list[int]
    text_index: list[int]  # which input text each token belongs to
    joined_text: str
    max_length: int
    stride: int
    truncated_from: int | None = None  # token count before cutting to max_tokens
    notes: list[str] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return len(self.losses)

    @property
    def mean_loss(self) -> float:
        return math.fsum(self.losses) / len(self.losses) if self.losses else float("nan")

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean_loss) if self.losses else float("nan")


SEPARATOR = "\n\n"


def clean_texts(texts: Iterable[str] | str | None) -> list[str]:
    """Non-empty texts; a single string is one text.  Raises ``UserError`` if none."""
    if texts is None:
        texts = []
    if isinstance(texts, str):
        texts = [texts]
    out, total = [], 0
    for t in texts:
        if t is None or not str(t).strip():
            continue
        t = str(t).strip()
        if total + len(t) > MAX_TEXT_CHARS:
            t = t[: max(0, MAX_TEXT_CHARS - total)]
        if t:
            out.append(t)
            total += len(t)
        if total >= MAX_TEXT_CHARS:
            break
    if not out:
        raise UserError("cmp.err.no_eval_text")
    return out


def _encode_with_offsets(tokenizer: Any, text: str) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` and the character offset where each token starts."""
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(enc["input_ids"]), [int(s) for s, _ in enc["offset_mapping"]]
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    # Slow tokenizers: approximate offsets from decoded lengths (clamped to the text).
    starts, pos = [], 0
    for i in ids:
        starts.append(min(pos, len(text)))
        pos += len(tokenizer.decode([i], clean_up_tokenization_spaces=False))
    return list(ids), starts


def _eos_id(tokenizer: Any) -> int:
    for attr in ("eos_token_id", "bos_token_id", "pad_token_id"):
        v = getattr(tokenizer, attr, None)
        if v is not None:
            return int(v)
    raise UserError("cmp.err.no_eos")


def token_losses(
    loaded: Any,
    texts: Iterable[str] | str,
    stride: int | None = None,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
    batch_size: int = 8,
) -> TokenLosses:
    """Per-token loss of ``loaded`` (a ``models.LoadedModel``) on ``texts``.

    ``stride`` defaults to half the context and is clamped to
    ``[1, context - 1]``; ``max_tokens`` (None = all) cuts long held-out sets
    so the tab stays fast, with a note.  Windows of equal length are run in
    batches of ``batch_size``.
    """
    import torch

    from lm_demo.locales import t
    from lm_demo.tokens import token_label

    texts = clean_texts(texts)
    tok = loaded.tokenizer
    eos = _eos_id(tok)
    max_length = max(2, int(loaded.max_positions))
    stride = max_length // 2 if stride is None else int(stride)
    stride = min(max(stride, 1), max_length - 1)

    ids: list[int] = [eos]
    starts: list[int] = [0]
    which: list[int] = [-1]
    offset = 0
    for k, text in enumerate(texts):
        tids, tstarts = _encode_with_offsets(tok, text)
        ids.extend(tids)
        starts.extend(offset + s for s in tstarts)
        which.extend([k] * len(tids))
        if k < len(texts) - 1:  # eos between texts, at the end of the text it closes
            ids.append(eos)
            starts.append(offset + len(text))
            which.append(k)
        offset += len(text) + len(SEPARATOR)
    joined = SEPARATOR.join(texts)

    notes: list[str] = []
    truncated_from = None
    if max_tokens is not None and len(ids) - 1 > int(max_tokens):
        truncated_from = len(ids) - 1
        keep = max(1, int(max_tokens)) + 1
        ids, starts, which = ids[:keep], starts[:keep], which[:keep]
        notes.append(t("cmp.note.eval_truncated", n=keep - 1, total=truncated_from))
    if len(ids) < 2:
        raise UserError("cmp.err.no_eval_text")

    # Windows: (begin, end, first scored position).
    n = len(ids)
    windows: list[tuple[int, int, int]] = []
    begin, scored_to = 0, 1
    while scored_to < n:
        end = min(begin + max_length, n)
        windows.append((begin, end, scored_to))
        scored_to = end
        begin += stride
    losses = [0.0] * (n - 1)
    contexts = [0] * (n - 1)
    device = loaded.model.device
    all_ids = torch.tensor(ids, dtype=torch.long)
    # Batch windows of the same length and the same number of scored tokens: no padding, and no
    # logits computed for positions nobody scores (the first window scores almost all of its own).
    by_shape: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    for w in windows:
        by_shape.setdefault((w[1] - w[0], w[1] - w[2]), []).append(w)
    with torch.inference_mode():
        for (length, _), group in by_shape.items():
            for i in range(0, len(group), max(1, batch_size)):
                chunk = group[i : i + batch_size]
                x = torch.stack([all_ids[b:e] for b, e, _ in chunk]).to(device)
                # Scored tokens are always a window's last ones: ask only for the logits that
                # predict them (the vocabulary projection is the biggest matmul here).
                keep = max(e - s for _, e, s in chunk) + 1
                logits = loaded.model(input_ids=x, use_cache=False, logits_to_keep=keep).logits.float()
                logp = torch.log_softmax(logits[:, :-1, :], dim=-1)  # (B, keep - 1, V)
                tgt = x[:, length - keep + 1:]
                nll = -logp.gather(-1, tgt.unsqueeze(-1)).squeeze(-1).cpu()
                offset = length - keep + 1  # window position of nll[:, 0]'s target
                for row, (b, e, s) in enumerate(chunk):
                    for pos in range(s, e):  # token at absolute position pos
                        losses[pos - 1] = float(nll[row, pos - b - offset])
                        contexts[pos - 1] = pos - b
    labels = [token_label(tok, i) for i in ids[1:]]
    return TokenLosses(
        model_name=loaded.name,
        ids=ids,
        losses=losses,
        labels=labels,
        contexts=contexts,
        char_starts=starts[1:],
        text_index=which[1:],
        joined_text=joined,
        max_length=max_length,
        stride=stride,
        truncated_from=truncated_from,
        notes=notes,
    )


def perplexity(loaded: Any, texts: Iterable[str] | str, **kwargs: Any) -> float:
    """``exp(mean token loss)`` of ``loaded`` on ``texts`` (see ``token_losses``)."""
    return token_losses(loaded, texts, **kwargs).perplexity
