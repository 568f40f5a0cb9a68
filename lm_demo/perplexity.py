"""Perplexity and per-token loss: one definition for the whole app.

Why per token: one number (perplexity) says *how much* a fine-tuned model is
less surprised by a corpus; the loss of every token along the text shows the
class *where* (rhymes, the punch line of a joke, the names of a genre).

The definition (the Hugging Face perplexity guide's and the seeds'), used by
"Antes / después", the ``perplexity`` API, the model cards and, through
``lm_demo.training.exact_eval``, training's evaluation:

- **Each text is scored on its own**: tokenized with the model's tokenizer,
  no special token added; texts are never glued into one document.
- **Its first token is context, not scored** (nothing came before it); every
  other token is scored once: ``loss = -ln p(token | the text before it)``.
- **Long texts** (more tokens than the model's context ``L``) use the guide's
  sliding window: the first window scores tokens ``1 .. L-1``; each next
  window moves by ``stride`` (default ``L // 2``) and scores only the tokens
  it adds, so each is predicted from at least ``L - stride`` tokens.
- ``perplexity = exp(sum of the losses / number of scored tokens)`` over all
  texts (natural log): a token-weighted mean, not a mean of per-text values.

Pasted text becomes texts with ``split_texts``: one text per line, or one per
block separated by blank lines.  A text of one token has nothing to score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from lm_demo.errors import UserError

DEFAULT_MAX_TOKENS = 16_384  # scored tokens per call by default (the bundled jokes' split: 14,589)
MAX_TEXT_CHARS = 200_000
SPLIT_MODES = ("lines", "blocks")
SEPARATOR = "\n\n"  # between texts in ``TokenLosses.joined_text`` (the loss chart's x axis)
LOGITS_BUDGET = 2**25  # floats of logits per forward (128 MB): batch size follows the vocabulary
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")


# --------------------------------------------------------------------------- texts
def split_texts(text: str | None, mode: str = "lines") -> list[str]:
    """Pasted text as separate texts: ``"lines"`` (one per line) or ``"blocks"`` (blank-line separated).

    Empty pieces are dropped; an unknown mode is a ``UserError``.
    """
    mode = (mode or "lines").strip().lower()
    if mode not in SPLIT_MODES:
        raise UserError("ppl.err.split", mode=mode, modes=", ".join(SPLIT_MODES))
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    pieces = text.split("\n") if mode == "lines" else _BLANK_LINES.split(text)
    return [p.strip() for p in pieces if p.strip()]


def clean_texts(texts: Iterable[str] | str | None, max_chars: int | None = MAX_TEXT_CHARS) -> list[str]:
    """Non-empty, stripped texts (a single string is one text), at most ``max_chars`` in all (None: no cap).

    Raises ``UserError`` when none is left.
    """
    if texts is None:
        texts = []
    if isinstance(texts, str):
        texts = [texts]
    cap = math.inf if max_chars is None else max_chars
    out, total = [], 0
    for t in texts:
        if t is None or not str(t).strip():
            continue
        t = str(t).strip()
        if total + len(t) > cap:
            t = t[: int(cap - total)]
        if t:
            out.append(t)
            total += len(t)
        if total >= cap:
            break
    if not out:
        raise UserError("cmp.err.no_eval_text")
    return out


def _encode_with_offsets(tokenizer: Any, text: str) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` (no special tokens) and the character offset where each token starts."""
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


# --------------------------------------------------------------------------- the core, on token ids
@dataclass
class SequenceScores:
    """The scored tokens of one sequence: ``losses[i]`` is the loss of ``ids[positions[i]]``."""

    positions: list[int]
    losses: list[float]
    contexts: list[int]  # how many previous tokens the model saw for each

    @property
    def n_tokens(self) -> int:
        return len(self.losses)


def windows(n: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """The guide's sliding windows over ``n`` tokens: ``(begin, end, first scored position)``.

    Position 0 is never scored; positions ``first .. end-1`` are scored in
    that window, each exactly once over all windows.
    """
    out: list[tuple[int, int, int]] = []
    begin, scored_to = 0, 1
    while scored_to < n:
        end = min(begin + max_length, n)
        out.append((begin, end, scored_to))
        scored_to = end
        begin += stride
    return out


def model_positions(model: Any) -> int:
    """The context size of a transformers model (``n_positions`` or ``max_position_embeddings``)."""
    cfg = getattr(model, "config", None)
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        v = getattr(cfg, attr, None)
        if v:
            return int(v)
    return 1024


def sequence_losses(
    model: Any,
    sequences: Sequence[Sequence[int]],
    max_length: int | None = None,
    stride: int | None = None,
    scored: Sequence[Sequence[bool] | None] | None = None,
    pad_id: int = 0,
) -> list[SequenceScores]:
    """Per-token loss of every sequence of token ids, each on its own (see the module docstring).

    ``model`` is a transformers causal LM; ``max_length`` defaults to its
    context, ``stride`` to half of it (clamped to ``[1, max_length - 1]``).
    ``scored[k][p]`` False leaves position ``p`` of sequence ``k`` out (the
    labels -100 of training blocks); position 0 is never scored.  Windows
    are batched by length, right-padded (causal attention: a padding token
    after a position never changes it), ``LOGITS_BUDGET`` floats at a time.
    """
    import torch

    L = max(2, int(max_length or model_positions(model)))
    stride = L // 2 if stride is None else int(stride)
    stride = min(max(stride, 1), L - 1)
    wins = [(k, b, e, s) for k, seq in enumerate(sequences) for b, e, s in windows(len(seq), L, stride)]
    vocab = int(getattr(getattr(model, "config", None), "vocab_size", 0) or 50_000)
    budget = max(L, LOGITS_BUDGET // max(vocab, 1))  # tokens per forward
    wins.sort(key=lambda w: w[2] - w[1], reverse=True)
    per_seq: list[dict[int, tuple[float, int]]] = [{} for _ in sequences]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            i = 0
            while i < len(wins):
                width = wins[i][2] - wins[i][1]
                n = max(1, budget // width)
                chunk = wins[i: i + n]
                i += len(chunk)
                rows = [list(sequences[k][b:e]) + [pad_id] * (width - (e - b)) for k, b, e, _ in chunk]
                x = torch.tensor(rows, dtype=torch.long, device=device)
                logits = model(input_ids=x, use_cache=False).logits[:, :-1, :].float()
                nll = -torch.log_softmax(logits, dim=-1).gather(-1, x[:, 1:, None])[..., 0].cpu()
                for row, (k, b, e, s) in enumerate(chunk):
                    vals = nll[row, s - b - 1: e - b - 1].tolist()
                    for p, v in zip(range(s, e), vals):
                        per_seq[k][p] = (v, p - b)
    finally:
        if was_training:
            model.train()
    out = []
    for k, found in enumerate(per_seq):
        mask = scored[k] if scored is not None else None
        keep = [p for p in sorted(found) if mask is None or bool(mask[p])]
        out.append(SequenceScores(keep, [found[p][0] for p in keep], [found[p][1] for p in keep]))
    return out


# --------------------------------------------------------------------------- texts
@dataclass
class TokenLosses:
    """The scored tokens of some texts, text after text, and where each sits.

    ``char_starts`` are offsets into ``joined_text`` (the texts joined by
    ``SEPARATOR``, only for display) so two models with different tokenizers
    line up on one axis.  ``text_tokens[k]`` is how many tokens text ``k``
    has (its first is context); texts after a cut by ``max_tokens`` are left
    out of ``texts``.
    """

    model_name: str
    texts: list[str]
    losses: list[float]  # natural-log cross-entropy per scored token
    token_ids: list[int]
    labels: list[str]  # visible token text (␣ for spaces, ↵ for newlines)
    contexts: list[int]  # how many previous tokens the model saw for each
    char_starts: list[int]
    text_index: list[int]  # which text each scored token belongs to
    text_tokens: list[int]
    joined_text: str
    max_length: int
    stride: int
    texts_given: int = 0  # texts before the cut
    truncated_from: int | None = None  # scored tokens before the cut
    notes: list[str] = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return len(self.losses)

    @property
    def n_texts(self) -> int:
        """Texts with at least one scored token."""
        return len(set(self.text_index))

    @property
    def mean_loss(self) -> float:
        return math.fsum(self.losses) / len(self.losses) if self.losses else float("nan")

    @property
    def perplexity(self) -> float:
        return math.exp(self.mean_loss) if self.losses else float("nan")

    def per_token(self) -> list[dict[str, Any]]:
        """One dict per scored token: text index, position in its text, label, id, loss, context."""
        out, pos, last = [], 0, -1
        for k, tid, lab, loss, ctx in zip(self.text_index, self.token_ids, self.labels, self.losses, self.contexts):
            pos = pos + 1 if k == last else 1
            last = k
            out.append({"text": k, "position": pos, "token": lab, "id": tid, "loss": loss, "context": ctx})
        return out

    def summary(self) -> dict[str, Any]:
        """What the ``perplexity`` API returns (JSON-safe)."""
        return {"perplexity": self.perplexity, "tokens_scored": self.n_tokens, "texts": self.n_texts,
                "mean_loss": self.mean_loss, "model": self.model_name, "max_length": self.max_length,
                "stride": self.stride, "per_token": self.per_token(), "notes": list(self.notes)}


def token_losses(
    loaded: Any,
    texts: Iterable[str] | str,
    stride: int | None = None,
    max_tokens: int | None = DEFAULT_MAX_TOKENS,
) -> TokenLosses:
    """Per-token loss of ``loaded`` (a ``models.LoadedModel``) on ``texts``, each text on its own.

    A single string is one text (``split_texts`` splits pasted text first).
    ``max_tokens`` (None = all) caps the scored tokens so the tab stays fast:
    whole texts in order, the last one cut, with a note (and the texts are
    read up to ``MAX_TEXT_CHARS`` characters).  Raises ``UserError`` when
    nothing can be scored.
    """
    from lm_demo.locales import t
    from lm_demo.tokens import token_label

    given = clean_texts(texts, max_chars=None)
    texts = given if max_tokens is None else clean_texts(given)
    tok = loaded.tokenizer
    L = max(2, int(loaded.max_positions))
    encoded = [_encode_with_offsets(tok, x) for x in texts]
    total = sum(max(0, len(ids) - 1) for ids, _ in encoded)
    notes: list[str] = []
    if len(texts) < len(given) or texts[-1] != given[len(texts) - 1]:
        notes.append(t("ppl.note.chars_cut", n=f"{MAX_TEXT_CHARS:,}".replace(",", " ")))
    truncated_from = None
    kept_texts, kept = texts, encoded
    if max_tokens is not None and total > int(max_tokens):
        truncated_from, budget = total, max(1, int(max_tokens))
        kept = []
        for ids, starts in encoded:
            if budget <= 0:
                break
            n = min(len(ids), budget + 1)
            kept.append((ids[:n], starts[:n]))
            budget -= max(0, n - 1)
        kept_texts = texts[: len(kept)]
        notes.append(t("ppl.note.truncated", n=int(max_tokens), total=total, k=len(kept), m=len(texts)))
    short = sum(len(ids) < 2 for ids, _ in kept)
    if short:
        notes.append(t("ppl.note.short_texts", n=short))
    if not any(len(ids) >= 2 for ids, _ in kept):
        raise UserError("ppl.err.too_short")

    pad = next((int(v) for v in (tok.pad_token_id, tok.eos_token_id, 0) if v is not None), 0)
    scores = sequence_losses(loaded.model, [ids for ids, _ in kept], L, stride, pad_id=pad)
    stride = min(max(L // 2 if stride is None else int(stride), 1), L - 1)
    losses, token_ids, labels, contexts, char_starts, text_index = [], [], [], [], [], []
    offset = 0
    labels_of: dict[int, str] = {}
    for k, ((ids, starts), sc, text) in enumerate(zip(kept, scores, kept_texts)):
        for p, loss, ctx in zip(sc.positions, sc.losses, sc.contexts):
            tid = ids[p]
            if tid not in labels_of:
                labels_of[tid] = token_label(tok, tid)
            losses.append(loss)
            token_ids.append(tid)
            labels.append(labels_of[tid])
            contexts.append(ctx)
            char_starts.append(offset + starts[p])
            text_index.append(k)
        offset += len(text) + len(SEPARATOR)
    return TokenLosses(
        model_name=loaded.name, texts=list(kept_texts), losses=losses, token_ids=token_ids, labels=labels,
        contexts=contexts, char_starts=char_starts, text_index=text_index, text_tokens=[len(i) for i, _ in kept],
        joined_text=SEPARATOR.join(kept_texts), max_length=L, stride=stride, texts_given=len(given),
        truncated_from=truncated_from, notes=notes,
    )


def perplexity(loaded: Any, texts: Iterable[str] | str, **kwargs: Any) -> float:
    """``exp(mean token loss)`` of ``loaded`` on ``texts`` (see ``token_losses``)."""
    return token_losses(loaded, texts, **kwargs).perplexity
