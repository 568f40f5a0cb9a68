"""Perplexity and per-token loss on the real bundled model, checked against independent computations.

The convention (``lm_demo.perplexity``): each text on its own, its first token
context only, long texts by the Hugging Face guide's sliding window,
exp(mean loss of the scored tokens).
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from lm_demo.errors import UserError
from lm_demo.perplexity import SEPARATOR, sequence_losses, split_texts, token_losses, windows
from lm_demo.tokens import visible
from tests.reference_perplexity import guide_nll

JOKE = "- Mamá, mamá, ¿los peces duermen?\n- Claro, hijo, por eso hay que hablar bajito."
SONNET_LINE = "En el silencio de la noche oscura, la luna esconde su dolor de plata."


def ids_of(loaded, text: str) -> list[int]:
    return loaded.tokenizer(text, add_special_tokens=False)["input_ids"]


def hf_mean_loss(loaded, ids: list[int]) -> float:
    """transformers' own shifted-label mean loss over one sequence (its first token is never a target)."""
    x = torch.tensor([ids])
    with torch.inference_mode():
        return float(loaded.model(input_ids=x, labels=x).loss)


def test_one_text_first_token_is_context_and_the_rest_is_transformers_mean_loss(bundled):
    res = token_losses(bundled, JOKE)
    ids = ids_of(bundled, JOKE)
    assert res.token_ids == ids[1:] and res.n_tokens == len(ids) - 1 and res.n_texts == 1
    assert res.perplexity == pytest.approx(math.exp(hf_mean_loss(bundled, ids)), rel=1e-5)
    assert res.perplexity == pytest.approx(math.exp(sum(res.losses) / len(res.losses)), rel=1e-9)
    assert res.contexts == list(range(1, len(ids)))


def test_several_texts_are_scored_each_on_its_own_never_glued(bundled):
    res = token_losses(bundled, [JOKE, "", SONNET_LINE])  # the empty text is skipped
    a, b = ids_of(bundled, JOKE), ids_of(bundled, SONNET_LINE)
    assert res.token_ids == a[1:] + b[1:]  # no end-of-text anywhere, both first tokens unscored
    assert res.n_texts == 2 and res.n_tokens == len(a) + len(b) - 2
    expected = (hf_mean_loss(bundled, a) * (len(a) - 1) + hf_mean_loss(bundled, b) * (len(b) - 1)) / res.n_tokens
    assert res.perplexity == pytest.approx(math.exp(expected), rel=1e-5)
    glued = token_losses(bundled, JOKE + " " + SONNET_LINE)
    assert glued.n_tokens != res.n_tokens and glued.perplexity != pytest.approx(res.perplexity, rel=1e-3)
    assert res.joined_text == JOKE + SEPARATOR + SONNET_LINE
    assert res.text_index == [0] * (len(a) - 1) + [1] * (len(b) - 1)
    assert [d["position"] for d in res.per_token()][: len(a) - 1] == list(range(1, len(a)))


def test_long_text_equals_the_guides_sliding_window_and_each_token_has_enough_context(bundled):
    import gzip
    from pathlib import Path

    import lm_demo

    bundled_quijote = Path(lm_demo.__file__).parent / "data" / "quijote" / "quijote.txt.gz"
    text = gzip.decompress(bundled_quijote.read_bytes()).decode("utf-8")[20_000:23_500]
    stride = 100
    res = token_losses(bundled, text, stride=stride, max_tokens=None)
    L, ids = bundled.max_positions, ids_of(bundled, text.strip())
    n = len(ids)
    assert n > 2 * L, "the text must need several windows"
    assert res.n_tokens == n - 1 and res.stride == stride and res.max_length == L
    nll, count = guide_nll(bundled.model, ids, L, stride)
    assert count == n - 1
    assert res.perplexity == pytest.approx(math.exp(nll / count), rel=1e-5)
    assert all(c >= min(p + 1, L - stride) for p, c in enumerate(res.contexts))
    assert max(res.contexts) <= L - 1
    # Recompute a sample of tokens independently: one forward over exactly the context reported.
    rng = random.Random(0)
    for i in [0, L - 2, L - 1, L, n - 2] + rng.sample(range(n - 1), 8):  # res.losses[i] is the loss of ids[i + 1]
        window = ids[i + 1 - res.contexts[i]: i + 2]
        with torch.inference_mode():
            logits = bundled.model(input_ids=torch.tensor([window])).logits[0, -2].float()
        assert res.losses[i] == pytest.approx(float(-torch.log_softmax(logits, -1)[window[-1]]), abs=1e-3), i


def test_windows_score_every_position_but_the_first_exactly_once():
    for n, L, s in [(1, 8, 4), (2, 8, 4), (8, 8, 4), (9, 8, 4), (30, 8, 3), (31, 8, 7), (100, 16, 1)]:
        scored = [p for b, e, first in windows(n, L, s) for p in range(first, e)]
        assert scored == list(range(1, n))
        assert all(e - b <= L for b, e, _ in windows(n, L, s))


def test_batching_and_padding_do_not_change_a_sequence(bundled):
    seqs = [ids_of(bundled, JOKE), ids_of(bundled, SONNET_LINE), ids_of(bundled, "Hola")]
    together = sequence_losses(bundled.model, seqs)
    for seq, got in zip(seqs, together):
        alone = sequence_losses(bundled.model, [seq])[0]
        assert got.positions == alone.positions == list(range(1, len(seq)))
        assert got.losses == pytest.approx(alone.losses, abs=1e-4)


def test_pasted_text_is_split_by_lines_or_blank_line_blocks():
    pasted = "  Primer chiste,\nsegunda línea.\n\n\n- Otro\n- Sí\r\n \t\nÚltimo  \n"
    assert split_texts(pasted, "lines") == ["Primer chiste,", "segunda línea.", "- Otro", "- Sí", "Último"]
    assert split_texts(pasted, "blocks") == ["Primer chiste,\nsegunda línea.", "- Otro\n- Sí", "Último"]
    assert split_texts("", "blocks") == [] and split_texts(None) == []
    with pytest.raises(UserError) as e:
        split_texts("x", "frases")
    assert "frases" in str(e.value)


def test_token_offsets_point_into_the_joined_text(bundled):
    res = token_losses(bundled, [JOKE, SONNET_LINE])
    assert res.char_starts == sorted(res.char_starts)
    for label, start in zip(res.labels, res.char_starts):
        if "<0x" in label:
            continue
        # Byte-level BPE may or may not count a leading space in the offset: compare without it.
        assert visible(res.joined_text[start:]).lstrip("␣").startswith(label.lstrip("␣")), (label, start)


def test_the_cap_keeps_whole_texts_in_order_and_says_so(bundled):
    texts = [JOKE, SONNET_LINE, JOKE]
    a, b = len(ids_of(bundled, JOKE)) - 1, len(ids_of(bundled, SONNET_LINE)) - 1
    res = token_losses(bundled, texts, max_tokens=a + 3)
    assert res.n_tokens == a + 3 and res.n_texts == 2 and res.truncated_from == 2 * a + b
    assert res.texts == texts[:2] and res.texts_given == 3
    assert res.notes and str(a + 3) in res.notes[0] and str(2 * a + b) in res.notes[0]
    full = token_losses(bundled, texts)
    assert res.losses == pytest.approx(full.losses[: a + 3], abs=1e-4)
    assert token_losses(bundled, JOKE, stride=10_000).stride == bundled.max_positions - 1  # clamped
    huge = token_losses(bundled, [JOKE * 1500, JOKE * 1500], max_tokens=10)  # 2 x 120,000 characters
    assert huge.n_tokens == 10 and any("200 000" in n for n in huge.notes)
    assert huge.texts_given == 2 and huge.n_texts == 1


def test_short_and_empty_texts(bundled):
    one = "que"
    assert len(ids_of(bundled, one)) == 1
    res = token_losses(bundled, [one, JOKE])
    assert res.n_texts == 1 and any("1" in n for n in res.notes)
    with pytest.raises(UserError) as e:
        token_losses(bundled, [one, one])
    assert e.value.key == "ppl.err.too_short"
    for bad in ("", "   \n", [], [" ", None], None):
        with pytest.raises(UserError) as e:
            token_losses(bundled, bad)
        assert e.value.key == "cmp.err.no_eval_text"


def test_summary_is_the_api_dict(bundled):
    res = token_losses(bundled, [JOKE, SONNET_LINE])
    d = res.summary()
    assert d["perplexity"] == res.perplexity and d["tokens_scored"] == res.n_tokens and d["texts"] == 2
    assert len(d["per_token"]) == res.n_tokens
    assert math.exp(sum(x["loss"] for x in d["per_token"]) / res.n_tokens) == pytest.approx(d["perplexity"])
    first = d["per_token"][0]
    assert first["text"] == 0 and first["position"] == 1 and first["id"] == ids_of(bundled, JOKE)[1]
