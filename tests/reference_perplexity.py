"""An independent perplexity, with transformers only, for tests to hold the app's against.

The transformers perplexity guide's recipe: each text on its own, the
model's ``labels=`` loss (which never targets the first token), long texts
by the guide's sliding window; exp of the token-weighted mean.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch


def guide_nll(model, ids: list[int], max_length: int, stride: int) -> tuple[float, int]:
    """The guide's sliding-window loop over one text: (summed loss, predicted tokens)."""
    seq = torch.tensor([ids])
    n = seq.shape[1]
    total, count, prev_end = 0.0, 0, 0
    for begin in range(0, n, stride):
        end = min(begin + max_length, n)
        target = seq[:, begin:end].clone()
        target[:, : -(end - prev_end)] = -100
        with torch.inference_mode():
            loss = float(model(seq[:, begin:end], labels=target).loss)
        k = int((target[:, 1:] != -100).sum())  # the targets the shifted loss averaged over
        total, count, prev_end = total + loss * k, count + k, end
        if end == n:
            break
    return total, count


def transformers_perplexity(folder: str | Path, texts: list[str], stride: int | None = None) -> tuple[float, int]:
    """(perplexity, predicted tokens) of the model saved in ``folder`` on ``texts``, loaded fresh.

    Texts that fit the context go 16 at a time (by length), right-padded with
    the padding masked out of attention and labels; longer ones by ``guide_nll``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)
    L = model.config.n_positions
    ids = [tok(text.strip(), add_special_tokens=False)["input_ids"] for text in texts]
    total, count = 0.0, 0
    short = sorted((x for x in ids if len(x) <= L), key=len)
    for i in range(0, len(short), 16):
        batch = short[i: i + 16]
        width = max(map(len, batch))
        x = torch.tensor([b + [0] * (width - len(b)) for b in batch])
        mask = torch.tensor([[1] * len(b) + [0] * (width - len(b)) for b in batch])
        labels = x.masked_fill(mask == 0, -100)
        with torch.inference_mode():
            loss = float(model(input_ids=x, attention_mask=mask, labels=labels).loss)
        k = int((labels[:, 1:] != -100).sum())
        total, count = total + loss * k, count + k
    for seq in (x for x in ids if len(x) > L):
        s, k = guide_nll(model, seq, L, stride or L // 2)
        total, count = total + s, count + k
    return math.exp(total / count), count
