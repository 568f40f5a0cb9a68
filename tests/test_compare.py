"""Before/after comparison on real models: the bundled base and the bundled demo fine-tune.

``gpt2-es-tiny-chistes`` is ``gpt2-es-tiny`` fine-tuned on jokes by
``scripts/make_demo_finetune.py`` (metadata with ``base_model`` and a saved
``eval_texts.jsonl`` split, as the training stack writes them).  Tests that
need damaged or extra checkpoints write them into a private folder.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from lm_demo import compare as cmp
from lm_demo.errors import UserError
from lm_demo.sampling import SamplingSettings
from tests.reference_perplexity import transformers_perplexity

FT = cmp.DEMO_FINETUNE
PROMPT = "- Mamá, mamá,"


@pytest.fixture()
def ckpts(checkpoints_tmp, monkeypatch):
    """A private checkpoints folder (the bundled ones stay visible, as in the app)."""
    monkeypatch.setenv("LM_DEMO_CHECKPOINTS", str(checkpoints_tmp))
    return checkpoints_tmp


SETTINGS = SamplingSettings(temperature=1.0, top_k=50, top_p=0.95)


def test_pair_comes_from_metadata_and_the_tab_shows_the_hand_computed_perplexities(ckpts):
    pair = cmp.resolve_pair(FT)
    assert pair == cmp.Pair(base="gpt2-es-tiny", tuned=FT, base_from_metadata=True)
    assert FT in cmp.finetuned_checkpoints()
    c = cmp.compare(PROMPT, tuned=FT, settings=SETTINGS, n_samples=3, max_new_tokens=12, seed=7)
    assert c.eval_source == f"checkpoint:{FT}"
    texts = cmp.eval_texts_of(FT)
    assert c.losses_base.n_texts == c.losses_tuned.n_texts == len(texts) == 187  # the whole held-out split
    for losses, name in ((c.losses_base, "gpt2-es-tiny"), (c.losses_tuned, FT)):
        ppl, count = transformers_perplexity(cmp.checkpoint_folder(name), texts)  # by hand
        assert losses.n_tokens == count
        assert losses.perplexity == pytest.approx(ppl, rel=1e-4), name
    # Trained on jokes, so held-out jokes surprise it much less than they surprise the base.
    assert c.losses_tuned.perplexity < 0.5 * c.losses_base.perplexity
    assert c.diff.same_vocab and c.diff.total_variation > 0.01
    assert any("gpt2-es-tiny" in n for n in c.notes)
    # The numbers the model card states are the ones the tab shows.
    meta = cmp.read_metadata(FT)["heldout_perplexity"]
    assert meta["base"] == pytest.approx(c.losses_base.perplexity, abs=0.006)
    assert meta["tuned"] == pytest.approx(c.losses_tuned.perplexity, abs=0.006)
    assert meta["tokens"] == c.losses_base.n_tokens and meta["texts"] == 187
    again = cmp.compare(PROMPT, tuned=FT, settings=SETTINGS, n_samples=1, max_new_tokens=3, seed=7)
    assert again.losses_tuned is c.losses_tuned  # cached: the split doesn't change between prompts


def test_big_models_on_a_cpu_score_fewer_held_out_tokens(bundled):
    """A GPT-2-small-sized model (on the meta device: real modules, no weights) gets the smaller cap."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from lm_demo.models import LoadedModel
    from lm_demo.perplexity import DEFAULT_MAX_TOKENS

    with torch.device("meta"):
        big = GPT2LMHeadModel(GPT2Config(n_layer=6))
    assert sum(p.numel() for p in big.parameters()) > cmp.SMALL_MODEL_PARAMS
    loaded = LoadedModel("big", "big", "local", big, bundled.tokenizer, "cpu", "float32")
    assert cmp.eval_token_cap(bundled) == DEFAULT_MAX_TOKENS
    assert cmp.eval_token_cap(bundled, loaded) == cmp.LARGE_MODEL_MAX_TOKENS < DEFAULT_MAX_TOKENS
    assert cmp.eval_token_cap(LoadedModel("big", "big", "local", big, bundled.tokenizer, "cuda", "bf16")) == \
        DEFAULT_MAX_TOKENS


def test_pasted_texts_are_split_by_line_or_block_never_glued(ckpts):
    from lm_demo.models import load_model
    from lm_demo.perplexity import token_losses

    pasted = "- Mamá, mamá, ¿los peces duermen?\n- Claro, hijo.\n\nHabía una vez un perro que ladraba."
    kw = dict(tuned=FT, settings=SETTINGS, n_samples=1, max_new_tokens=3, eval_text=pasted)
    lines = cmp.compare(PROMPT, eval_split="lines", **kw)
    blocks = cmp.compare(PROMPT, eval_split="blocks", **kw)
    assert lines.eval_source == blocks.eval_source == "pasted"
    assert lines.losses_base.n_texts == 3 and blocks.losses_base.n_texts == 2
    tuned = load_model(FT)
    expected = token_losses(tuned, ["- Mamá, mamá, ¿los peces duermen?\n- Claro, hijo.",
                                    "Había una vez un perro que ladraba."])
    assert blocks.losses_tuned.perplexity == pytest.approx(expected.perplexity, rel=1e-6)
    by_line = token_losses(tuned, ["- Mamá, mamá, ¿los peces duermen?", "- Claro, hijo.",
                                   "Había una vez un perro que ladraba."])
    assert lines.losses_tuned.perplexity == pytest.approx(by_line.perplexity, rel=1e-6)
    assert lines.losses_tuned.n_tokens < blocks.losses_tuned.n_tokens  # one more first token, no newline
    with pytest.raises(UserError) as e:
        cmp.compare(PROMPT, eval_split="frases", **kw)
    assert e.value.key == "ppl.err.split"


def test_same_seed_reproduces_both_columns(ckpts):
    kw = dict(tuned=FT, settings=SETTINGS, n_samples=2, max_new_tokens=10, eval_text="Había una vez un chiste.")
    a = cmp.compare(PROMPT, seed=123, **kw)
    b = cmp.compare(PROMPT, seed=123, **kw)
    other = cmp.compare(PROMPT, seed=124, **kw)
    assert a.samples_base.continuations == b.samples_base.continuations
    assert a.samples_tuned.continuations == b.samples_tuned.continuations
    assert a.samples_base.seeds == [123, 124]
    # Sample i is seed + i: the second sample of seed 123 is the first of seed 124.
    assert other.samples_base.continuations[0] == a.samples_base.continuations[1]
    assert other.samples_tuned.continuations[0] == a.samples_tuned.continuations[1]
    assert other.samples_base.continuations != a.samples_base.continuations
    # A column depends only on its model: the base column alone gives the same texts.
    from lm_demo.models import load_model

    alone = cmp.generate_samples(load_model("gpt2-es-tiny"), PROMPT, SETTINGS, 2, 10, 123)
    assert alone.continuations == a.samples_base.continuations


def test_diff_chart_probabilities_match_the_next_token_tab(ckpts):
    from lm_demo.charts.compare import diff_figure
    from lm_demo.models import load_model
    from lm_demo.next_token import next_token_distribution

    base, tuned = load_model("gpt2-es-tiny"), load_model(FT)
    diff = cmp.distribution_diff(base, tuned, PROMPT)
    fig = diff_figure(diff)
    nt_base = next_token_distribution(base, PROMPT, top_n=100)
    nt_tuned = next_token_distribution(tuned, PROMPT, top_n=100)
    p_base = dict(zip(nt_base.top_labels, nt_base.top_probs))
    p_tuned = dict(zip(nt_tuned.top_labels, nt_tuned.top_probs))
    bars = [(y, x, cd) for trace in fig.data for y, x, cd in zip(trace.y, trace.x, trace.customdata)]
    assert len(bars) == len(diff.gained) + len(diff.lost) > 10
    checked = 0
    for label, delta, (pb, pt) in bars:
        assert delta == pytest.approx(pt - pb, abs=1e-9)
        if label in p_base:
            assert pb == pytest.approx(p_base[label], rel=1e-5, abs=1e-9)
            checked += 1
        if label in p_tuned:
            assert pt == pytest.approx(p_tuned[label], rel=1e-5, abs=1e-9)
            checked += 1
    assert checked >= len(bars)  # every bar's token is in one model's top 100, most in both
    assert all(s.delta > 0 for s in diff.gained) and all(s.delta < 0 for s in diff.lost)
    assert [s.delta for s in diff.gained] == sorted((s.delta for s in diff.gained), reverse=True)
    # The top-10 tables are the "Siguiente token" top 10 of each model.
    assert [s.label for s in diff.top_base] == nt_base.top_labels[:10]
    assert [s.p_tuned for s in diff.top_tuned] == pytest.approx(nt_tuned.top_probs[:10], rel=1e-5)


def test_a_model_compared_with_itself_shows_no_difference(ckpts):
    from lm_demo.charts.compare import diff_figure

    c = cmp.compare(PROMPT, tuned="gpt2-es-tiny", base="gpt2-es-tiny", settings=SETTINGS, n_samples=2,
                    max_new_tokens=10, eval_text="En un lugar de la Mancha, de cuyo nombre no quiero acordarme.")
    assert c.samples_base.continuations == c.samples_tuned.continuations
    assert c.diff.gained == [] and c.diff.lost == []
    assert c.diff.max_abs_delta == 0.0 and c.diff.total_variation == 0.0
    assert c.losses_base.losses == c.losses_tuned.losses
    assert len(diff_figure(c.diff).data) == 0
    assert any("mismo modelo" in n for n in c.notes)


def test_missing_and_corrupt_checkpoints_give_clear_messages(ckpts, monkeypatch):
    with pytest.raises(UserError) as e:  # no base given, and not a checkpoint with metadata
        cmp.compare(PROMPT, tuned="no-existe")
    assert e.value.key == "cmp.err.no_base" and "no-existe" in str(e.value)
    with pytest.raises(UserError) as e:
        cmp.compare(PROMPT, tuned="no-existe", base="gpt2-es-tiny")
    assert e.value.key == "cmp.err.model_missing" and "no-existe" in str(e.value)
    monkeypatch.setattr(cmp, "DEMO_FINETUNE", "demo-que-falta")
    with pytest.raises(UserError) as e:
        cmp.resolve_pair(None)
    assert e.value.key == "cmp.err.demo_missing"

    bad = ckpts / "test-cmp-roto"
    from lm_demo.models import bundled_model_path

    shutil.copytree(bundled_model_path().parent / FT, bad)
    try:
        weights = bad / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:1000])  # a truncated download
        with pytest.raises(UserError) as e:
            cmp.compare(PROMPT, tuned=bad.name)
        assert e.value.key == "cmp.err.checkpoint_corrupt" and bad.name in str(e.value)
        (bad / "metadata.json").write_text("{no es json", encoding="utf-8")
        with pytest.raises(UserError) as e:
            cmp.compare(PROMPT, tuned=bad.name)
        assert e.value.key == "cmp.err.metadata_corrupt"
        (bad / "config.json").unlink()
        with pytest.raises(UserError) as e:
            cmp.compare(PROMPT, tuned=bad.name, base="gpt2-es-tiny")
        assert e.value.key == "cmp.err.checkpoint_corrupt"
    finally:
        shutil.rmtree(bad, ignore_errors=True)
    with pytest.raises(UserError) as e:
        cmp.compare("   ", tuned=FT)
    assert e.value.key == "err.empty_prompt"


def test_models_with_different_vocabularies_are_matched_by_token_text(ckpts, bundled):
    """A tiny random GPT-2 with its own small tokenizer against the bundled model."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from lm_demo.models import load_model
    from lm_demo.next_token import next_token_distribution
    from lm_demo.perplexity import token_losses

    corpus = ["- Mamá, mamá, ¿por qué?", "Había una vez un perro.", "En el silencio de la noche."] * 50
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus, vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"])
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                            eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                       bos_token_id=0, eos_token_id=0, pad_token_id=0))
    folder = ckpts / "test-cmp-otro-vocab"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    try:
        other = load_model(folder.name)
        diff = cmp.distribution_diff(bundled, other, PROMPT)
        assert not diff.same_vocab and any("vocabularios distintos" in n for n in diff.notes)
        nt = next_token_distribution(other, PROMPT, top_n=50)
        p_other = dict(zip(nt.top_labels, nt.top_probs))
        matched = [s for s in diff.gained + diff.lost if s.label in p_other]
        assert matched, "some shifted tokens exist in the small vocabulary"
        for s in matched:
            assert s.p_tuned == pytest.approx(p_other[s.label], rel=1e-5)
        # Per-token losses line up on the text's characters although the tokens differ.
        text = "En el silencio de la noche, el perro dijo: mamá."
        la, lb = token_losses(bundled, text), token_losses(other, text)
        assert la.n_tokens != lb.n_tokens and la.joined_text == lb.joined_text
        assert max(la.char_starts) <= len(text) and max(lb.char_starts) <= len(text)
    finally:
        from lm_demo.models import MODEL_CACHE

        MODEL_CACHE.evict(folder.name)
        shutil.rmtree(folder, ignore_errors=True)


def test_ui_handler_returns_every_output_and_turns_errors_into_spanish(ckpts):
    import gradio as gr

    from lm_demo.ui.components.compare_tab import compare as handler

    summary, html, diff_fig, table, loss_fig, csv_path, settings = handler(PROMPT, FT, "", 3, 2, 10, 1.0, 50, 0.95,
                                                                           1.0, "")
    assert "Perplejidad" in summary and FT in summary and "gpt2-es-tiny" in summary
    assert "187 textos" in summary and "primer token de cada texto es solo contexto" in summary
    assert html.count("cmp-sample-base") == 2 and html.count("cmp-sample-tuned") == 2
    assert PROMPT in html
    assert len(diff_fig.data) >= 1 and len(loss_fig.data) == 4
    assert list(table.columns)[1:3] == ["token (antes)", "p antes (modelo, T=1)"] and len(table) == 10
    assert csv_path.endswith(".csv") and f'"tuned": "{FT}"' in settings
    with pytest.raises(gr.Error) as e:
        handler(PROMPT, "no-existe", "")
    assert "no-existe" in str(e.value) and "Traceback" not in str(e.value)
