"""The logit lens's vocabulary projection (``lm_demo.vocab_projection``) against the plain softmax, in both
scan precisions, on the bundled model's real residual streams."""

from __future__ import annotations

import pytest
import torch

from lm_demo import inside, vocab_projection

PROMPTS = ("En el silencio de la noche", "Había una vez un poeta que soñaba con el mar y la luna")


@pytest.fixture(scope="module")
def streams(bundled):
    """Every layer's residual stream at every position, normalised as the output head sees it."""
    model = bundled.model
    rows = []
    with torch.inference_mode():
        for prompt in PROMPTS:
            ids = bundled.tokenizer(prompt, add_special_tokens=False)["input_ids"]
            out = model(input_ids=torch.tensor([ids]), output_hidden_states=True, use_cache=False)
            rows += [model.transformer.ln_f(h)[0] for h in out.hidden_states[:-1]] + [out.hidden_states[-1][0]]
    return torch.cat(rows)


@pytest.mark.parametrize("dtype, rel", [(torch.float32, 1e-4), (torch.bfloat16, 3e-2)])
def test_projection_finds_the_top_tokens_and_their_probabilities(bundled, streams, dtype, rel):
    weight = bundled.model.lm_head.weight
    with torch.inference_mode():
        exact = torch.softmax(streams @ weight.t(), dim=-1).topk(5, dim=-1)
        got = vocab_projection.project(streams, weight, None, 5, dtype=dtype)
    assert torch.equal(got.top_ids[:, 0], exact.indices[:, 0])  # the top token, always
    assert torch.allclose(got.top_probs, exact.values, rtol=rel, atol=1e-6)
    assert torch.all(got.top_probs[:, :-1] >= got.top_probs[:, 1:])


def test_the_bf16_scan_is_chosen_by_measuring_and_can_be_forced(monkeypatch):
    monkeypatch.setenv("LM_DEMO_LENS_DTYPE", "float32")
    assert vocab_projection.scan_dtype("cpu") == torch.float32
    monkeypatch.setenv("LM_DEMO_LENS_DTYPE", "bf16")
    assert vocab_projection.scan_dtype("cpu") == torch.bfloat16
    monkeypatch.delenv("LM_DEMO_LENS_DTYPE")
    assert vocab_projection.scan_dtype("cpu") in (torch.float32, torch.bfloat16)


@pytest.mark.parametrize("forced", ["float32", "bfloat16"])
def test_the_lens_output_row_stays_exact_whatever_the_scan(bundled, monkeypatch, forced):
    from lm_demo.next_token import next_token_distribution

    monkeypatch.setenv("LM_DEMO_LENS_DTYPE", forced)
    inside._CACHE.clear()
    try:
        lens = inside.logit_lens(bundled, PROMPTS[1])
    finally:
        inside._CACHE.clear()
    nt = next_token_distribution(bundled, PROMPTS[1], top_n=inside.LENS_TOP, use_cache=False)
    assert lens.top_ids[-1][-1] == nt.top_ids[0] and lens.top_probs[-1][-1] == nt.top_probs[0]
    assert [p for _, _, p in lens.last_top[-1]] == nt.top_probs
