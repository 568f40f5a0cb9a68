"""The "Siguiente token" computation on the real bundled model."""

from __future__ import annotations

import math

import pytest
import torch

from lm_demo.errors import UserError
from lm_demo.next_token import last_logits, next_token_distribution
from lm_demo.sampling import entropy_bits
from lm_demo.tokens import MAX_PROMPT_CHARS, NEWLINE, SPACE

PROMPT = "Había una vez"


def full_probs(bundled, prompt):
    ids = bundled.tokenizer(prompt, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad():
        logits = bundled.model(input_ids=ids).logits[0, -1].float()
    return torch.softmax(logits, -1)


def test_probabilities_sum_to_one_and_match_a_full_forward(bundled):
    probs = full_probs(bundled, PROMPT)
    assert math.isclose(float(probs.sum()), 1.0, abs_tol=1e-5)
    res = next_token_distribution(bundled, PROMPT, top_n=20)
    top = torch.topk(probs, 20)
    assert res.top_ids == top.indices.tolist()
    assert res.top_probs == pytest.approx(top.values.tolist(), abs=1e-5)
    assert res.top_probs == sorted(res.top_probs, reverse=True)
    table = res.table()
    assert list(table["rango · modelo (T=1)"]) == list(range(1, 21))
    assert table["prob. acumulada · modelo (T=1)"].is_monotonic_increasing
    assert table["prob. acumulada · modelo (T=1)"].iloc[-1] <= 1.0 + 1e-6
    # T=1 and no top-k/top-p: the sampled distribution is the model's
    assert list(table["prob. · muestreada (tras T/top-k/top-p)"]) == pytest.approx(list(table["prob. · modelo (T=1)"]),
                                                                                   abs=1e-6)


def test_last_position_logits_equal_full_forward(bundled):
    ids = bundled.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        full = bundled.model(input_ids=torch.tensor([ids])).logits[0, -1]
    assert torch.allclose(last_logits(bundled, ids)[0], full, atol=1e-4)


def test_entropy_matches_independent_computation(bundled):
    probs = full_probs(bundled, PROMPT).double()
    expected = float(-(probs * torch.log2(probs.clamp_min(1e-300))).sum())
    res = next_token_distribution(bundled, PROMPT)
    assert res.entropy_raw == pytest.approx(expected, rel=1e-6)
    assert res.entropy_warped == pytest.approx(expected, rel=1e-6)  # default settings change nothing
    assert entropy_bits(torch.tensor([1.0, 0.0])) == 0.0


def test_top_k_keeps_exactly_k_and_renormalises(bundled):
    res = next_token_distribution(bundled, PROMPT, top_k=5, top_n=10)
    assert res.kept_tokens == 5
    assert sum(res.top_warped[:5]) == pytest.approx(1.0, abs=1e-5)
    assert res.top_warped[5:] == [0.0] * 5
    assert res.top_warped[0] / res.top_warped[1] == pytest.approx(res.top_probs[0] / res.top_probs[1], rel=1e-4)


def test_top_p_keeps_the_smallest_prefix_reaching_p(bundled):
    probs = full_probs(bundled, PROMPT)
    sorted_p = torch.sort(probs, descending=True).values
    cum = torch.cumsum(sorted_p, 0)
    expected = int((cum < 0.5).sum()) + 1  # tokens needed to reach 0.5
    res = next_token_distribution(bundled, PROMPT, top_p=0.5)
    assert res.kept_tokens == expected


def test_low_temperature_sharpens_and_zero_is_greedy(bundled):
    hot = next_token_distribution(bundled, PROMPT, temperature=2.0)
    cold = next_token_distribution(bundled, PROMPT, temperature=0.5)
    assert cold.entropy_warped < hot.entropy_raw < hot.entropy_warped
    zero = next_token_distribution(bundled, PROMPT, temperature=0)
    assert zero.kept_tokens == 1 and zero.top_warped[0] == pytest.approx(1.0)
    assert zero.settings.greedy


@pytest.mark.parametrize(
    "kwargs, kept",
    [({"top_p": 0}, 1), ({"top_k": 10**6}, None), ({"top_k": -3}, None), ({"temperature": float("nan")}, None)],
)
def test_out_of_range_settings_are_clamped(bundled, kwargs, kept):
    res = next_token_distribution(bundled, PROMPT, **kwargs)
    assert res.kept_tokens == (kept if kept is not None else res.vocab_size)


@pytest.mark.parametrize("prompt", ["", "   \n\t "])
def test_empty_prompt_is_a_spanish_error(bundled, prompt):
    with pytest.raises(UserError) as e:
        next_token_distribution(bundled, prompt)
    assert "vacío" in str(e.value)


def test_huge_prompt_is_cut_to_the_context_with_a_note(bundled):
    prompt = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme. " * 400
    assert len(prompt) > MAX_PROMPT_CHARS
    res = next_token_distribution(bundled, prompt)
    assert len(res.prompt_ids) == bundled.max_positions
    assert res.notes and "últimos" in res.notes[0]


@pytest.mark.parametrize("prompt", ["😀🎉🙈", "\x00\x01\x1b[31m", "a\u200b\u202eb"])
def test_emoji_and_control_characters_still_work(bundled, prompt):
    res = next_token_distribution(bundled, prompt, top_n=5)
    assert len(res.top_ids) == 5
    assert sum(res.top_probs) <= 1.0 + 1e-6


def test_spaces_and_newlines_are_visible_in_labels(bundled):
    res = next_token_distribution(bundled, "Había una vez\nun rey que", top_n=50)
    chips = [label for label, _ in res.prompt_chips]
    assert any(SPACE in c for c in chips) and any(NEWLINE in c for c in chips)
    assert all(label.strip() == label for label in res.top_labels)  # no invisible edges


def test_top_n_is_clamped(bundled):
    assert len(next_token_distribution(bundled, PROMPT, top_n=0).top_ids) == 1
    assert len(next_token_distribution(bundled, PROMPT, top_n=10**6).top_ids) == 100


def test_slider_change_reuses_the_prompts_logits(bundled):
    """Moving a slider on the same prompt runs no forward, and gives the same raw distribution."""
    calls = []
    handle = bundled.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        prompt = "Un prompt que solo usa esta prueba de la caché"
        a = next_token_distribution(bundled, prompt, temperature=1.0, top_n=5)
        b = next_token_distribution(bundled, prompt, temperature=0.3, top_k=3, top_n=5)
        assert len(calls) == 1
        assert a.top_ids == b.top_ids and a.top_probs == b.top_probs
        assert b.top_warped != a.top_warped and b.kept_tokens == 3
        c = next_token_distribution(bundled, prompt, temperature=1.0, top_n=5, use_cache=False)
        assert len(calls) == 2
        assert c.top_probs == pytest.approx(a.top_probs, abs=1e-6)
        d = next_token_distribution(bundled, prompt + " otra", top_n=5)
        assert len(calls) == 3 and d.prompt_ids != a.prompt_ids
    finally:
        handle.remove()
