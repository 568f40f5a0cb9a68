"""Perplexity and per-token loss on the real bundled model, checked against independent computations."""

from __future__ import annotations

import math
import random

import pytest
import torch

from lm_demo.errors import UserError
from lm_demo.perplexity import SEPARATOR, token_losses
from lm_demo.tokens import visible

JOKE = "- Mamá, mamá, ¿los peces duermen?\n- Claro, hijo, por eso hay que hablar bajito."
SONNET_LINE = "En el silencio de la noche oscura, la luna esconde su dolor de plata."


def hf_mean_loss(loaded, ids: list[int]) -> float:
    """transformers' own shifted-label mean loss over one sequence."""
    x = torch.tensor([ids])
    with torch.inference_mode():
        return float(loaded.model(input_ids=x, labels=x).loss)


def test_perplexity_is_exp_of_transformers_mean_loss(bundled):
    res = token_losses(bundled, JOKE)
    tok = bundled.tokenizer
    ids = [tok.eos_token_id] + tok(JOKE, add_special_tokens=False)["input_ids"]
    assert res.ids == ids
    assert res.n_tokens == len(ids) - 1
    assert res.perplexity == pytest.approx(math.exp(hf_mean_loss(bundled, ids)), rel=1e-4)
    assert res.perplexity == pytest.approx(math.exp(sum(res.losses) / len(res.losses)), rel=1e-9)


def test_several_texts_are_joined_with_eos_and_every_token_scored(bundled):
    res = token_losses(bundled, [JOKE, "", SONNET_LINE])  # the empty text is skipped
    tok = bundled.tokenizer
    eos = tok.eos_token_id
    ids = [eos] + tok(JOKE, add_special_tokens=False)["input_ids"] + [eos] + tok(
        SONNET_LINE, add_special_tokens=False)["input_ids"]
    assert res.ids == ids
    assert res.perplexity == pytest.approx(math.exp(hf_mean_loss(bundled, ids)), rel=1e-4)
    assert res.joined_text == JOKE + SEPARATOR + SONNET_LINE
    assert set(res.text_index) == {0, 1}


def test_sliding_window_scores_each_token_once_with_enough_context(bundled, shared_data):
    text = (shared_data / "quijote" / "quijote.txt").read_text(encoding="utf-8")[20_000:23_500]
    stride = 100
    res = token_losses(bundled, text, stride=stride, max_tokens=None)
    L = bundled.max_positions
    n = len(res.ids)
    assert n > 2 * L, "the text must need several windows"
    assert res.n_tokens == n - 1 and res.stride == stride and res.max_length == L
    assert all(c >= min(pos + 1, L - stride) for pos, c in enumerate(res.contexts))
    assert max(res.contexts) <= L - 1
    # Recompute a sample of tokens independently: one forward over exactly the context reported.
    rng = random.Random(0)
    positions = [0, L - 2, L - 1, L, n - 2] + rng.sample(range(n - 1), 8)
    for p in positions:  # res.losses[p] is the loss of ids[p + 1]
        ctx = res.contexts[p]
        window = res.ids[p + 1 - ctx: p + 2]
        with torch.inference_mode():
            logits = bundled.model(input_ids=torch.tensor([window])).logits[0, -2].float()
        expected = float(-torch.log_softmax(logits, -1)[window[-1]])
        assert res.losses[p] == pytest.approx(expected, abs=1e-3), p


def test_token_offsets_point_into_the_joined_text(bundled):
    res = token_losses(bundled, [JOKE, SONNET_LINE])
    assert res.char_starts == sorted(res.char_starts)
    for label, start, tid in zip(res.labels, res.char_starts, res.ids[1:]):
        if tid == bundled.tokenizer.eos_token_id or "<0x" in label:
            continue
        # Byte-level BPE may or may not count a leading space in the offset: compare without it.
        assert visible(res.joined_text[start:]).lstrip("␣").startswith(label.lstrip("␣")), (label, start)


def test_max_tokens_cuts_with_a_note_and_bad_input_is_a_user_error(bundled):
    res = token_losses(bundled, JOKE * 5, max_tokens=20)
    assert res.n_tokens == 20 and res.truncated_from and res.truncated_from > 20
    assert res.notes and "20" in res.notes[0]
    assert token_losses(bundled, JOKE, stride=10_000).stride == bundled.max_positions - 1  # clamped
    for bad in ("", "   \n", [], [" ", None], None):
        with pytest.raises(UserError) as e:
            token_losses(bundled, bad)
        assert e.value.key == "cmp.err.no_eval_text"
