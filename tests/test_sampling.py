"""``lm_demo.sampling`` on real logits of the bundled model, checked against
independent numpy computations (sort-based top-k / top-p, hand-made penalty)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lm_demo.sampling import MAX_TEMPERATURE, SamplingSettings, entropy_bits, warp_logits

PROMPT = "Había una vez un"


@pytest.fixture(scope="module")
def real(bundled):
    """(logits (1, V), context ids (1, L)) for a real prompt."""
    from lm_demo.next_token import last_logits

    ids = bundled.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    return last_logits(bundled, ids), torch.tensor([ids])


def kept(warped: torch.Tensor) -> set[int]:
    return set(torch.nonzero(torch.isfinite(warped[0])).flatten().tolist())


def settings(vocab: int, **kw) -> SamplingSettings:
    return SamplingSettings(**kw).clamped(vocab)


def test_temperature_zero_is_one_hot_on_the_argmax(real):
    logits, ctx = real
    for temp in (0.0, 1e-6, -3.0):
        w = warp_logits(logits, ctx, settings(logits.shape[-1], temperature=temp))
        assert kept(w) == {int(logits.argmax())}
        assert torch.softmax(w, -1)[0, int(logits.argmax())] == pytest.approx(1.0)


def test_temperature_divides_the_logits(real):
    logits, ctx = real
    for temp in (0.5, 1.7):
        w = warp_logits(logits, ctx, settings(logits.shape[-1], temperature=temp))
        expected = torch.softmax(logits.double() / temp, -1)
        assert torch.allclose(torch.softmax(w.double(), -1), expected, atol=1e-6)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_top_k_keeps_exactly_the_k_most_likely(real, k):
    logits, ctx = real
    x = logits[0].double().numpy()
    order = np.argsort(-x, kind="stable")
    assert x[order[k - 1]] > x[order[k]], "tie at the boundary: pick another k"
    w = warp_logits(logits, ctx, settings(logits.shape[-1], top_k=k))
    assert kept(w) == set(order[:k].tolist())
    # kept tokens keep their relative probabilities
    p = torch.softmax(w.double(), -1)[0].numpy()
    full = np.exp(x - x.max())
    np.testing.assert_allclose(p[order[:k]], full[order[:k]] / full[order[:k]].sum(), atol=1e-6)


@pytest.mark.parametrize("j", [0, 2, 9])
def test_top_p_keeps_the_smallest_prefix_reaching_p(real, j):
    """p set halfway inside token j's share of the sorted CDF: exactly j+1 tokens stay."""
    logits, ctx = real
    x = logits[0].double().numpy()
    probs = np.exp(x - x.max())
    probs /= probs.sum()
    order = np.argsort(-probs, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(probs[order])[:-1]])  # mass strictly more likely
    p = (before[j] + before[j + 1]) / 2
    w = warp_logits(logits, ctx, settings(logits.shape[-1], top_p=p))
    assert kept(w) == set(order[: j + 1].tolist())


def test_top_p_at_0_9_matches_a_sort_based_nucleus(real):
    logits, ctx = real
    probs = torch.softmax(logits[0].double(), -1).numpy()
    order = np.argsort(-probs, kind="stable")
    before = np.concatenate([[0.0], np.cumsum(probs[order])[:-1]])
    expected = set(order[before < 0.9].tolist())
    assert 1 < len(expected) < logits.shape[-1]
    w = warp_logits(logits, ctx, settings(logits.shape[-1], top_p=0.9))
    assert kept(w) == expected


def test_top_k_then_top_p_is_the_nucleus_of_the_top_k(real):
    logits, ctx = real
    k, p = 20, 0.6
    x = logits[0].double()
    topk = torch.topk(x, k)
    pk = torch.softmax(topk.values, -1).numpy()
    before = np.concatenate([[0.0], np.cumsum(pk)[:-1]])
    expected = set(topk.indices[torch.from_numpy(before < p)].tolist())
    w = warp_logits(logits, ctx, settings(logits.shape[-1], top_k=k, top_p=p))
    assert kept(w) == expected


def test_top_p_zero_keeps_only_the_argmax_and_one_keeps_all(real):
    logits, ctx = real
    v = logits.shape[-1]
    assert kept(warp_logits(logits, ctx, settings(v, top_p=0.0))) == {int(logits.argmax())}
    assert kept(warp_logits(logits, ctx, settings(v, top_p=-2.0))) == {int(logits.argmax())}
    assert len(kept(warp_logits(logits, ctx, settings(v, top_p=1.0)))) == v
    assert len(kept(warp_logits(logits, ctx, settings(v, top_p=7.0)))) == v


def test_top_k_beyond_vocab_or_negative_means_no_limit(real):
    logits, ctx = real
    v = logits.shape[-1]
    for k in (v, v + 1, 10**9, -5, float("inf")):
        s = settings(v, top_k=k)
        assert s.top_k == 0
        assert len(kept(warp_logits(logits, ctx, s))) == v


def test_repetition_penalty_matches_a_hand_computation(real):
    logits, ctx = real
    rp = 1.8
    w = warp_logits(logits, ctx, settings(logits.shape[-1], repetition_penalty=rp))[0]
    expected = logits[0].clone()
    for i in set(ctx[0].tolist()):
        expected[i] = expected[i] / rp if expected[i] > 0 else expected[i] * rp
    assert torch.allclose(w, expected, atol=1e-5)
    seen = set(ctx[0].tolist())
    assert any(w[i] < logits[0, i] for i in seen)  # penalised tokens became less likely


def test_clamps_are_documented_ranges():
    s = SamplingSettings(temperature=99, top_k=3.9, top_p=1.5, repetition_penalty=0.2).clamped(8000)
    assert (s.temperature, s.top_k, s.top_p, s.repetition_penalty) == (MAX_TEMPERATURE, 3, 1.0, 1.0)
    s = SamplingSettings(float("nan"), float("nan"), float("nan"), float("nan")).clamped(8000)
    assert (s.temperature, s.top_k, s.top_p, s.repetition_penalty) == (1.0, 0, 1.0, 1.0)
    s = SamplingSettings("abc", None, "0.5", 50).clamped(8000)  # type: ignore[arg-type]
    assert (s.temperature, s.top_k, s.top_p, s.repetition_penalty) == (1.0, 0, 0.5, 5.0)
    assert SamplingSettings(temperature=0).clamped(8000).greedy
    assert not SamplingSettings(temperature=0.01).clamped(8000).greedy


def test_warped_distribution_is_a_probability_vector(real):
    logits, ctx = real
    for kw in ({}, {"temperature": 2.5}, {"top_k": 7, "top_p": 0.8, "repetition_penalty": 1.3}):
        p = torch.softmax(warp_logits(logits, ctx, settings(logits.shape[-1], **kw)), -1)
        assert torch.all(p >= 0) and float(p.sum()) == pytest.approx(1.0, abs=1e-5)
    assert logits.dtype == torch.float32 and torch.isfinite(logits).all()  # input untouched


def test_entropy_bits():
    assert entropy_bits(torch.full((8,), 1 / 8)) == pytest.approx(3.0)
    assert entropy_bits(torch.tensor([1.0, 0.0, 0.0])) == 0.0
    p = torch.tensor([0.5, 0.25, 0.25])
    assert entropy_bits(p) == pytest.approx(-sum(x * math.log2(x) for x in (0.5, 0.25, 0.25)))
