"""The decoding engine on the real bundled model: choices, reproducibility,
KV cache vs full recompute, batching independence, stops, inputs."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from lm_demo.decoding import (
    MAX_STEPS,
    SENTENCE_END,
    DecoderSpec,
    decode,
    decode_steps,
    steps_frame,
    text_pieces,
    write_csv,
)
from lm_demo.errors import UserError

PROMPT = "Había una vez una niña que"
GREEDY = DecoderSpec("greedy")
SAMPLING = DecoderSpec("sampling", temperature=1.0, top_k=50)
EPSILON = DecoderSpec("epsilon", temperature=1.0, top_k=50, epsilon=0.5)
NO_EOS = -1  # an eos id that never matches: runs go to their step limit


def tokens(run) -> list[int]:
    return [r.chosen_id for r in run.rows]


def full_recompute_probs(loaded, prompt_ids: list[int], chosen: list[int]) -> torch.Tensor:
    """(steps, V) model probabilities at each step, from ONE uncached forward of the whole text."""
    ids = torch.tensor([prompt_ids + chosen[:-1]])
    with torch.inference_mode():
        logits = loaded.model(input_ids=ids, use_cache=False).logits[0].float()
    return torch.softmax(logits[len(prompt_ids) - 1:], dim=-1)


def test_greedy_picks_the_argmax_every_step_and_matches_full_recompute(bundled):
    res = decode(bundled, PROMPT, [GREEDY], max_steps=20, eos_token_id=NO_EOS)
    run = res.runs[0]
    assert len(run.rows) == 20 and run.stop_reason == "max_steps"
    probs = full_recompute_probs(bundled, res.prompt_ids, tokens(run))
    for row, p in zip(run.rows, probs):
        assert row.chosen_id == int(p.argmax())
        assert row.rank == 1 and row.mode == "greedy"
        assert row.chosen_token == row.candidates[0][0]
        assert row.prob == pytest.approx(float(p.max()), abs=1e-4)


def test_kv_cached_steps_equal_full_recompute_for_sampled_runs(bundled):
    """Every probability the table shows, side by side in a batch, equals an uncached forward."""
    res = decode(bundled, PROMPT, [GREEDY, SAMPLING, EPSILON], max_steps=16, seed=3, top_n=5,
                 eos_token_id=NO_EOS)
    for run in res.runs:
        probs = full_recompute_probs(bundled, res.prompt_ids, tokens(run))
        for row, p in zip(run.rows, probs):
            assert row.prob == pytest.approx(float(p[row.chosen_id]), abs=1e-4)
            top = torch.topk(p, 5)
            assert [c[1] for c in row.candidates] == pytest.approx(top.values.tolist(), abs=1e-4)
            assert row.rank == int((p > p[row.chosen_id] + 1e-6).sum()) + 1 or abs(
                float(p[row.chosen_id]) - float(p.sort(descending=True).values[row.rank - 1])) < 1e-4


def test_greedy_with_repetition_penalty_takes_the_argmax_of_the_penalised_logits(bundled):
    rp = 3.0
    res = decode(bundled, PROMPT, [DecoderSpec("greedy", repetition_penalty=rp)], max_steps=12,
                 eos_token_id=NO_EOS)
    chosen = tokens(res.runs[0])
    ids = torch.tensor([res.prompt_ids + chosen[:-1]])
    with torch.inference_mode():
        logits = bundled.model(input_ids=ids, use_cache=False).logits[0].float()
    for t, tok in enumerate(chosen):
        pos = len(res.prompt_ids) - 1 + t
        row = logits[pos].clone()
        seen = torch.tensor(sorted(set(res.prompt_ids + chosen[:t])))
        row[seen] = torch.where(row[seen] > 0, row[seen] / rp, row[seen] * rp)
        assert tok == int(row.argmax())
    assert any(r.rank > 1 for r in res.runs[0].rows)  # the penalty did change some choice


def test_temperature_to_zero_equals_greedy(bundled):
    greedy = decode(bundled, PROMPT, [GREEDY], max_steps=12, eos_token_id=NO_EOS).runs[0]
    for temp in (0.0, 1e-6):
        cold = decode(bundled, PROMPT, [DecoderSpec("sampling", temperature=temp)], max_steps=12, seed=5,
                      eos_token_id=NO_EOS).runs[0]
        assert tokens(cold) == tokens(greedy)
        assert all(r.mode == "greedy" for r in cold.rows)
    # top_p = 0 keeps only the most likely token: greedy too (documented clamp)
    nucleus0 = decode(bundled, PROMPT, [DecoderSpec("sampling", top_p=0.0)], max_steps=12, seed=5,
                      eos_token_id=NO_EOS).runs[0]
    assert tokens(nucleus0) == tokens(greedy)


def test_a_seed_reproduces_a_sampled_run_and_other_seeds_differ(bundled):
    spec = [DecoderSpec("sampling", temperature=1.2)]
    a = decode(bundled, PROMPT, spec, max_steps=25, seed=11, eos_token_id=NO_EOS).runs[0]
    b = decode(bundled, PROMPT, spec, max_steps=25, seed=11, eos_token_id=NO_EOS).runs[0]
    assert tokens(a) == tokens(b) and a.text == b.text
    assert [r.cum_logprob for r in a.rows] == [r.cum_logprob for r in b.rows]
    others = [tokens(decode(bundled, PROMPT, spec, max_steps=25, seed=s, eos_token_id=NO_EOS).runs[0])
              for s in (12, 13)]
    assert any(o != tokens(a) for o in others)


def test_a_decoder_is_the_same_alone_and_side_by_side(bundled):
    """Decoder i is seeded with seed + i: run alone with that seed, it writes the same tokens."""
    seed = 21
    together = decode(bundled, PROMPT, [GREEDY, SAMPLING, EPSILON], max_steps=20, seed=seed,
                      eos_token_id=NO_EOS)
    for i, spec in enumerate((GREEDY, SAMPLING, EPSILON)):
        alone = decode(bundled, PROMPT, [spec], max_steps=20, seed=seed + i, eos_token_id=NO_EOS).runs[0]
        assert tokens(alone) == tokens(together.runs[i])
        assert [r.mode for r in alone.rows] == [r.mode for r in together.runs[i].rows]
        for x, y in zip(alone.rows, together.runs[i].rows):
            assert x.prob == pytest.approx(y.prob, abs=1e-5)


def test_epsilon_one_is_greedy_and_epsilon_zero_is_sampling(bundled):
    kw = dict(temperature=1.3, top_k=100)
    greedy = decode(bundled, PROMPT, [GREEDY], max_steps=15, eos_token_id=NO_EOS).runs[0]
    sampled = decode(bundled, PROMPT, [DecoderSpec("sampling", **kw)], max_steps=15, seed=8,
                     eos_token_id=NO_EOS).runs[0]
    eps1 = decode(bundled, PROMPT, [DecoderSpec("epsilon", epsilon=1.0, **kw)], max_steps=15, seed=8,
                  eos_token_id=NO_EOS).runs[0]
    eps0 = decode(bundled, PROMPT, [DecoderSpec("epsilon", epsilon=0.0, **kw)], max_steps=15, seed=8,
                  eos_token_id=NO_EOS).runs[0]
    assert tokens(eps1) == tokens(greedy) and all(r.mode == "greedy" for r in eps1.rows)
    assert tokens(eps0) == tokens(sampled) and all(r.mode == "sampled" for r in eps0.rows)
    assert tokens(sampled) != tokens(greedy)


def test_epsilon_mixes_greedy_and_sampled_steps(bundled):
    run = decode(bundled, PROMPT, [EPSILON], max_steps=40, seed=2, eos_token_id=NO_EOS).runs[0]
    modes = [r.mode for r in run.rows]
    assert "greedy" in modes and "sampled" in modes  # P(all one mode) = 2 * 0.5**40
    assert all(r.rank == 1 for r in run.rows if r.mode == "greedy")
    # A greedy step drew from the one-hot argmax: the values the greedy decoder shows.
    assert all(r.warped_prob == 1.0 for r in run.rows if r.mode == "greedy")
    assert all(r.warped_prob < 1.0 for r in run.rows if r.mode == "sampled")
    assert run.rows[-1].warped_cum_logprob == pytest.approx(
        sum(math.log(r.warped_prob) for r in run.rows if r.mode == "sampled"), abs=1e-9)


def same_rows(a, b) -> None:
    """Two decoders' rows show the same values, column by column."""
    assert tokens(a) == tokens(b) and a.text == b.text
    for x, y in zip(a.rows, b.rows, strict=True):
        assert (x.chosen_token, x.rank, x.mode) == (y.chosen_token, y.rank, y.mode)
        assert [c for c, _ in x.candidates] == [c for c, _ in y.candidates]
        # two rows of one batch: the same numbers up to float rounding
        assert [p for _, p in x.candidates] == pytest.approx([p for _, p in y.candidates], abs=1e-6)
        assert (x.prob, x.warped_prob, x.cum_logprob, x.warped_cum_logprob) == pytest.approx(
            (y.prob, y.warped_prob, y.cum_logprob, y.warped_cum_logprob), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("penalty", [1.0, 1.2])
def test_in_one_run_epsilon_zero_is_the_sampling_column_and_epsilon_one_the_greedy_column(bundled, penalty):
    """As the decoding tab runs them: the three decoders share the seed's random stream."""
    kw = dict(temperature=1.1, top_k=60, top_p=0.95, repetition_penalty=penalty)
    greedy = DecoderSpec("greedy", repetition_penalty=penalty)
    sampling = DecoderSpec("sampling", **kw)
    for eps, twin in ((0.0, 1), (1.0, 0)):
        res = decode(bundled, PROMPT, [greedy, sampling, DecoderSpec("epsilon", epsilon=eps, **kw)], max_steps=25,
                     seed=17, seeds=[17] * 3, eos_token_id=NO_EOS)
        assert [r.seed for r in res.runs] == [17] * 3
        same_rows(res.runs[2], res.runs[twin])
        assert all(r.mode == ("sampled" if eps == 0 else "greedy") for r in res.runs[2].rows)
    assert tokens(res.runs[0]) != tokens(res.runs[1])
    # the greedy column's sampled distribution is the one-hot argmax: probability 1, log-prob 0
    assert all(r.warped_prob == 1.0 and r.warped_cum_logprob == 0.0 for r in res.runs[0].rows)


def test_the_decoding_tab_gives_its_three_decoders_one_seed(bundled):
    """The tab's own handler: ε = 0 shows the sampling table, ε = 1 the greedy table, row for row."""
    from lm_demo.ui.components.decoding_tab import decode_steps as handler

    for eps, twin in ((0.0, 1), (1.0, 0)):
        *_, last = handler(PROMPT, "gpt2-es-tiny", 12, 5, 4, 0, 0.9, 40, 1.0, 1.2, eps)
        tables = last[5:8]
        a, b = tables[2], tables[twin]
        assert list(a.columns) == list(b.columns) and len(a) == len(b) == 12
        for col in (0, 2, 3, 6):  # step, chosen, rank, mode
            assert list(a.iloc[:, col]) == list(b.iloc[:, col]), (eps, col)
        for col in (4, 5, 7, 8):  # probabilities and cumulative log-probs (rounded for display)
            assert list(a.iloc[:, col]) == pytest.approx(list(b.iloc[:, col]), abs=2e-4), (eps, col)
        assert list(tables[0].columns)[4:6] == ["prob. · modelo (T=1)",
                                               "prob. · muestreada (tras T/top-k/top-p/penalización)"]
    summary = last[1]
    assert summary.count("modelo (T=1)") == 3 and summary.count("muestreada") == 3


def test_sampled_probabilities_are_the_warped_distributions(bundled):
    """prob_sampled is the chosen token's probability after penalty, T, top-k and top-p: recomputed here."""
    from lm_demo.sampling import SamplingSettings, warp_logits

    spec = DecoderSpec("sampling", temperature=0.7, top_k=30, top_p=0.9, repetition_penalty=1.3)
    res = decode(bundled, PROMPT, [spec], max_steps=12, seed=4, eos_token_id=NO_EOS)
    run = res.runs[0]
    chosen = tokens(run)
    ids = torch.tensor([res.prompt_ids + chosen[:-1]])
    with torch.inference_mode():
        logits = bundled.model(input_ids=ids, use_cache=False).logits[0].float()
    settings = SamplingSettings(0.7, 30, 0.9, 1.3)
    cum = 0.0
    for t, row in enumerate(run.rows):
        pos = len(res.prompt_ids) - 1 + t
        context = torch.tensor([res.prompt_ids + chosen[:t]])
        p = torch.softmax(warp_logits(logits[pos: pos + 1], context, settings), -1)[0]
        assert row.warped_prob == pytest.approx(float(p[row.chosen_id]), abs=1e-4)
        cum += math.log(row.warped_prob)
        assert row.warped_cum_logprob == pytest.approx(cum, abs=1e-9)
    assert run.rows[-1].warped_cum_logprob > run.rows[-1].cum_logprob  # T < 1, top-k/p: sharper than the model


def test_sampling_respects_top_k_and_rows_are_valid_probabilities(bundled):
    res = decode(bundled, PROMPT, [DecoderSpec("sampling", temperature=2.0, top_k=3)], max_steps=30, seed=4,
                 top_n=4, eos_token_id=NO_EOS)
    run = res.runs[0]
    cum = 0.0
    for i, r in enumerate(run.rows, start=1):
        assert r.step == i
        assert 1 <= r.rank <= 3  # never outside the top-k
        assert 0 < r.prob <= 1 and 0 < r.warped_prob <= 1
        ps = [p for _, p in r.candidates]
        assert len(ps) == 4 and ps == sorted(ps, reverse=True) and sum(ps) <= 1 + 1e-6
        assert r.candidates[r.rank - 1] == (r.chosen_token, pytest.approx(r.prob))
        cum += math.log(r.prob)
        assert r.cum_logprob == pytest.approx(cum, abs=1e-3)
    assert run.text == bundled.tokenizer.decode(tokens(run), skip_special_tokens=True,
                                                clean_up_tokenization_spaces=False)


def test_steps_stream_one_row_per_decoder_and_stop_when_asked(bundled):
    seen = []
    for prog in decode_steps(bundled, PROMPT, [GREEDY, SAMPLING], max_steps=6, seed=1, eos_token_id=NO_EOS):
        seen.append(prog)
        assert all(len(new) <= 1 for new in prog.new_rows)
        assert [len(r) for r in prog.rows] == [prog.step, prog.step]
    assert [p.step for p in seen] == list(range(1, 7))
    assert [p.done for p in seen] == [False] * 5 + [True]
    assert seen[-1].finished == [True, True]
    # lazy: stop iterating and nothing more is computed
    gen = decode_steps(bundled, PROMPT, [GREEDY], max_steps=50)
    first = next(gen)
    gen.close()
    assert first.step == 1 and len(first.runs[0].rows) == 1


def test_stops_at_eos(bundled):
    """Use the 4th greedy token as end-of-text: the run stops at its first occurrence."""
    ref = tokens(decode(bundled, PROMPT, [GREEDY], max_steps=8, eos_token_id=NO_EOS).runs[0])
    stop_id = ref[3]
    first = ref.index(stop_id) + 1
    run = decode(bundled, PROMPT, [GREEDY], max_steps=8, eos_token_id=stop_id).runs[0]
    assert run.stop_reason == "eos" and len(run.rows) == first
    assert tokens(run) == ref[:first]


def test_stops_after_n_sentences(bundled):
    """Find a seed whose free run ends a sentence; with max_sentences=1 it stops exactly there."""
    spec = [DecoderSpec("sampling", temperature=0.9, top_k=40)]
    for seed in range(30, 36):
        free = decode(bundled, PROMPT, spec, max_steps=40, seed=seed, eos_token_id=NO_EOS).runs[0]
        ends = [i for i in range(1, len(free.rows) + 1)
                if SENTENCE_END.search(bundled.tokenizer.decode(tokens(free)[:i]))]
        if ends:
            break
    else:
        pytest.fail("a Spanish model should end a sentence within 40 sampled tokens")
    stopped = decode(bundled, PROMPT, spec, max_steps=40, seed=seed, max_sentences=1, eos_token_id=NO_EOS).runs[0]
    assert stopped.stop_reason == "sentences" and stopped.sentences == 1
    assert len(stopped.rows) == ends[0] and tokens(stopped) == tokens(free)[: ends[0]]


def test_long_prompt_keeps_its_end_and_generation_stops_when_the_context_is_full(bundled):
    prompt = ("En un lugar de la Mancha, de cuyo nombre no quiero acordarme. " * 400)[:20_000]
    res = decode(bundled, prompt, [GREEDY], max_steps=5, eos_token_id=NO_EOS)
    ctx = bundled.max_positions
    assert len(res.prompt_ids) == ctx - 5
    full = bundled.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    assert res.prompt_ids == full[-(ctx - 5):]
    run = res.runs[0]
    assert len(run.rows) == 5 and run.stop_reason == "context"
    assert any(str(ctx - 5) in n for n in res.notes)  # the truncation is reported


def test_steps_are_clamped_to_the_maximum_with_a_note(bundled):
    gen = decode_steps(bundled, PROMPT, [GREEDY], max_steps=10_000)
    first = next(gen)
    gen.close()  # lazy: the other 199 steps never run
    assert first.max_steps == min(MAX_STEPS, bundled.max_positions - 1) == 200
    assert any("200" in n for n in first.notes)


def test_a_small_context_caps_the_steps_and_fills_exactly(bundled):
    """A real (randomly initialised) GPT-2 with a 24-token context and the bundled tokenizer."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from lm_demo.models import LoadedModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=bundled.vocab_size, n_positions=24, n_embd=32, n_layer=1,
                                       n_head=2)).eval()
    small = LoadedModel("tiny-ctx", "random", "local", model, bundled.tokenizer, "cpu", "float32")
    prompt = "Había una vez una niña que vivía en un pueblo"
    n_prompt = len(bundled.tokenizer(prompt, add_special_tokens=False)["input_ids"])
    res = decode(small, prompt, [GREEDY, SAMPLING], max_steps=10_000, seed=1, eos_token_id=NO_EOS)
    assert len(res.prompt_ids) == n_prompt and res.max_steps == 24 - n_prompt  # the prompt kept, fewer steps
    assert any(f"{res.max_steps} pasos" in n for n in res.notes)
    for run in res.runs:
        assert len(run.rows) == res.max_steps and run.stop_reason == "context"
        assert len(res.prompt_ids) + len(run.rows) == 24


def test_steps_are_clamped_with_a_note(bundled):
    res = decode(bundled, PROMPT, [GREEDY], max_steps=0, eos_token_id=NO_EOS)
    assert res.max_steps == 1 and len(res.runs[0].rows) == 1 and res.notes
    res = decode(bundled, PROMPT, [GREEDY], max_steps=3.7, top_n=999, eos_token_id=NO_EOS)
    assert res.max_steps == 3 and len(res.runs[0].rows[0].candidates) == res.top_n == 20
    assert len(res.notes) == 2


@pytest.mark.parametrize("prompt", ["", "   \n\t", None])
def test_empty_prompt_is_a_user_error(bundled, prompt):
    with pytest.raises(UserError) as e:
        decode(bundled, prompt, [GREEDY])
    assert "vacío" in str(e.value)


def test_bad_inputs_give_user_errors(bundled):
    for kwargs in ({"decoders": []}, {"decoders": [DecoderSpec("beam")]}, {"decoders": [GREEDY] * 9},
                   {"max_steps": "muchos"}, {"max_steps": float("nan")}, {"seed": "semilla"},
                   {"seed": float("inf")}, {"top_n": "x"}):
        args = dict(decoders=[GREEDY]) | kwargs
        with pytest.raises(UserError):
            decode(bundled, PROMPT, **args)


def test_odd_prompts_and_settings_work(bundled):
    vocab = bundled.vocab_size
    res = decode(bundled, "Hola 🙂\x00\x07 ¿qué tal?\u200b ñandú", [
        DecoderSpec("sampling", temperature=-1, top_k=vocab + 5, top_p=7, repetition_penalty=0),
        DecoderSpec("epsilon", temperature=99, top_p=0.5, epsilon=3.0, repetition_penalty=1.5),
    ], max_steps=5, seed=-7, max_sentences=-3)
    assert all(1 <= len(r.rows) <= 5 for r in res.runs)
    assert res.runs[0].spec.temperature == 0.0 and res.runs[0].spec.top_k == 0
    assert res.runs[1].spec.epsilon == 1.0 and res.runs[1].spec.temperature == 5.0
    assert res.notes  # clamps are reported
    assert all(r.mode == "greedy" for run in res.runs for r in run.rows)


def test_presentation_helpers(bundled, tmp_path):
    res = decode(bundled, "El niño comió", [SAMPLING], max_steps=12, seed=9, top_n=3, eos_token_id=NO_EOS)
    rows = res.runs[0].rows
    pieces = text_pieces(bundled.tokenizer, rows)
    assert "".join(t for t, _ in pieces) == res.runs[0].text
    assert math.prod(p for _, p in pieces) == pytest.approx(math.exp(rows[-1].cum_logprob), rel=1e-3)
    df = steps_frame(rows)
    assert len(df) == 12 and list(df.iloc[:, 0]) == list(range(1, 13))
    assert list(df.columns)[-2:] == ["log-prob acum. · modelo (T=1)", "log-prob acum. · muestreada"]
    path = write_csv(rows, tmp_path / "x.csv")
    with path.open(encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert len(table) == 13 and table[0][:9] == ["step", "chosen_id", "chosen_token", "rank_model_T1",
                                                 "prob_model_T1", "prob_sampled", "mode", "cum_logprob_model_T1",
                                                 "cum_logprob_sampled"]
    assert table[0][9:] == ["cand_1", "p_model_T1_1", "cand_2", "p_model_T1_2", "cand_3", "p_model_T1_3"]
    assert [int(r[1]) for r in table[1:]] == tokens(res.runs[0])
