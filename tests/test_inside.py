""""Dentro del modelo": attention weights and the logit lens on the real bundled models, and on two other
architecture families (GPT-Neo and Llama, built from small random configs)."""

from __future__ import annotations

import pytest
import torch

from lm_demo import inside
from lm_demo.errors import UserError
from lm_demo.next_token import last_logits, next_token_distribution
from lm_demo.tokens import token_label

PROMPT = "En el silencio de la noche"


def _eager_attentions(folder: str, ids: list[int]) -> tuple:
    """The reference: the same checkpoint loaded by transformers with eager attention."""
    from transformers import AutoModelForCausalLM

    ref = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, attn_implementation="eager").eval()
    with torch.inference_mode():
        return ref(input_ids=torch.tensor([ids]), output_attentions=True).attentions


# --------------------------------------------------------------------------- attention
def test_attention_rows_sum_to_one_and_no_token_looks_ahead(bundled):
    view = inside.attention(bundled, PROMPT, 1, 2)
    ids = bundled.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    assert view.labels == [token_label(bundled.tokenizer, i) for i in ids]  # as in the next-token table
    w = view.all_weights
    assert w.shape == (4, 4, len(ids), len(ids))
    assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5)
    assert torch.all(w.triu(1) == 0)  # the causal mask: exactly zero on the future
    assert torch.all(w.tril() >= 0) and float(w[..., 0, 0].min()) == pytest.approx(1.0)  # the first token sees itself
    d = view.to_dict()
    assert (d["layer"], d["head"], d["n_layers"], d["n_heads"]) == (1, 2, 4, 4)
    assert d["weights"] == w[1, 2].tolist() and d["tokens"] == view.labels


def test_attention_weights_are_eager_attention_s(bundled):
    """The weights recorded from the SDPA model are those transformers' eager attention computes."""
    ids = bundled.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    ref = _eager_attentions(bundled.resolved, ids)
    view = inside.attention(bundled, PROMPT)
    for layer, a in enumerate(ref):
        assert torch.allclose(view.all_weights[layer], a[0], atol=1e-5)


def test_recording_changes_nothing_the_other_tabs_compute():
    from lm_demo.models import BUNDLED_NAME, ModelCache

    fresh = ModelCache(1).get(BUNDLED_NAME)  # a copy of its own, still on plain SDPA
    assert fresh.model.config._attn_implementation == "sdpa"
    ids = fresh.tokenizer("Había una vez un gato", add_special_tokens=False)["input_ids"]
    before = last_logits(fresh, ids, use_cache=False).clone()
    inside.attention(fresh, "Había una vez un gato")  # switches the model to the recording dispatcher
    assert fresh.model.config._attn_implementation == "lm_demo_sdpa"
    assert torch.equal(last_logits(fresh, ids, use_cache=False), before)


def test_layer_and_head_are_clamped_with_a_note(bundled):
    view = inside.attention(bundled, PROMPT, 99, -3)
    assert (view.layer, view.head) == (3, 0)
    assert len(view.notes) == 2 and "capa" in view.notes[0] and "cabeza" in view.notes[1]
    assert inside.attention(bundled, PROMPT, "no es un número", float("nan")).layer == 0


def test_head_patterns_name_real_heads(bundled):
    view = inside.attention(bundled, "El perro del vecino ladra y el perro")
    kinds = {p.kind: p for p in view.patterns}
    assert set(kinds) == {"previous", "first", "self", "repeat"}  # "perro" and "el" repeat
    prev = kinds["previous"]
    w = view.all_weights[prev.layer, prev.head]
    n = w.shape[0]
    assert prev.score == pytest.approx(float(sum(w[i, i - 1] for i in range(1, n)) / (n - 1)), abs=1e-6)


def test_empty_and_long_prompts(bundled):
    with pytest.raises(UserError) as e:
        inside.attention(bundled, "   ")
    assert "vacío" in e.value.message()
    long = " ".join(["la noche"] * 100)
    view = inside.attention(bundled, long)
    assert len(view.labels) == inside.MAX_TOKENS and "últimos" in view.notes[0]


# --------------------------------------------------------------------------- logit lens
@pytest.mark.parametrize("prompt", [PROMPT, "Había una vez", "- Mamá, mamá,"])
def test_the_lens_last_layer_is_the_next_token_distribution_exactly(bundled, prompt):
    lens = inside.logit_lens(bundled, prompt)
    nt = next_token_distribution(bundled, prompt, top_n=inside.LENS_TOP, use_cache=False)
    assert lens.n_layers == 4 and len(lens.top_ids) == 5
    assert lens.top_ids[-1][-1] == nt.top_ids[0]
    assert lens.top_probs[-1][-1] == nt.top_probs[0]  # the same number, not an approximation
    assert [(i, p) for i, _, p in lens.last_top[-1]] == list(zip(nt.top_ids, nt.top_probs))
    d = lens.to_dict()
    assert d["tokens"] == lens.labels and len(d["layers"]) == 5
    assert d["layers"][-1]["top_token"] == nt.top_labels[0] and d["layers"][-1]["top_prob"] == nt.top_probs[0]
    assert d["layers"][0]["name"] == "embeddings" and d["layers"][-1]["name"] == "output"
    assert all(len(layer["positions"]) == len(lens.labels) for layer in d["layers"])


def test_the_lens_is_the_final_norm_and_head_on_each_layer(bundled, monkeypatch):
    """Exactly so with the float32 scan (the bf16 one: tests/test_inside_projection.py)."""
    monkeypatch.setenv("LM_DEMO_LENS_DTYPE", "float32")
    inside._CACHE.clear()
    ids = bundled.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    model = bundled.model
    with torch.inference_mode():
        out = model(input_ids=torch.tensor([ids]), output_hidden_states=True, use_cache=False)
        expected = []
        for i, h in enumerate(out.hidden_states):
            h = h if i == len(out.hidden_states) - 1 else model.transformer.ln_f(h)
            expected.append(torch.softmax(model.lm_head(h)[0].float(), -1))
    lens = inside.logit_lens(bundled, PROMPT)
    for i, probs in enumerate(expected):
        top = probs.max(-1)
        assert lens.top_ids[i] == top.indices.tolist()
        assert lens.top_probs[i] == pytest.approx(top.values.tolist(), abs=1e-5)
        final = probs[torch.arange(len(ids)), torch.tensor(lens.top_ids[-1])]
        assert lens.final_probs[i] == pytest.approx(final.tolist(), abs=1e-5)
    inside._CACHE.clear()


def test_lens_settles_where_the_prediction_stops_changing(bundled):
    lens = inside.logit_lens(bundled, PROMPT)
    k = lens.settled_at()
    last = [row[-1] for row in lens.top_ids]
    assert all(t == last[-1] for t in last[k:]) and (k == 0 or last[k - 1] != last[-1])


# --------------------------------------------------------------------------- before / after
def test_compare_inside_default_pair_layer_by_layer(bundled):
    from lm_demo.compare import load_for_compare

    comp = inside.compare_inside(PROMPT)
    assert (comp.pair.base, comp.pair.tuned) == ("gpt2-es-tiny", "gpt2-es-tiny-chistes")
    assert len(comp.rows) == 5
    tuned = load_for_compare("gpt2-es-tiny-chistes")
    nt_b = next_token_distribution(bundled, PROMPT, use_cache=False)
    nt_t = next_token_distribution(tuned, PROMPT, use_cache=False)
    assert comp.rows[-1].base_token == nt_b.top_labels[0] and comp.rows[-1].tuned_token == nt_t.top_labels[0]
    assert comp.changed_layers == [r.layer for r in comp.rows if r.base_token != r.tuned_token]
    assert comp.attention_base is not None and comp.attention_tuned is not None
    assert comp.to_dict()["changed_layers"] == comp.changed_layers


def test_compare_inside_missing_model_is_a_clear_message():
    with pytest.raises(UserError) as e:
        inside.compare_inside(PROMPT, tuned="no-existe-este-modelo")
    assert "no-existe-este-modelo" in e.value.message()


# --------------------------------------------------------------------------- other architectures
def _tiny(tmp_path_factory, bundled, kind: str):
    """A small random model of another family, saved with the bundled tokenizer and loaded like any checkpoint."""
    from transformers import GPTNeoConfig, GPTNeoForCausalLM, LlamaConfig, LlamaForCausalLM

    from lm_demo.models import load_model

    torch.manual_seed(0)
    vocab = len(bundled.tokenizer)
    if kind == "gpt_neo":
        cfg = GPTNeoConfig(vocab_size=vocab, max_position_embeddings=128, hidden_size=64, num_layers=2,
                           attention_types=[[["global", "local"], 1]], num_heads=4, window_size=128)
        model = GPTNeoForCausalLM(cfg)
    else:
        cfg = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
        model = LlamaForCausalLM(cfg)
    folder = tmp_path_factory.mktemp(kind)
    model.save_pretrained(folder)
    bundled.tokenizer.save_pretrained(folder)
    return load_model(str(folder), allow_fallback=False, allow_any_path=True), str(folder)


@pytest.fixture(scope="module", params=["gpt_neo", "llama"])
def other(request, tmp_path_factory, bundled):
    return _tiny(tmp_path_factory, bundled, request.param)


def test_other_families_attention_and_lens(other):
    loaded, folder = other
    ids = loaded.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    view = inside.attention(loaded, PROMPT)
    w = view.all_weights
    assert w.shape[:2] == (2, 4)
    assert torch.allclose(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5) and torch.all(w.triu(1) == 0)
    for layer, a in enumerate(_eager_attentions(folder, ids)):
        assert torch.allclose(w[layer], a[0], atol=1e-5)
    lens = inside.logit_lens(loaded, PROMPT)
    nt = next_token_distribution(loaded, PROMPT, use_cache=False)
    assert lens.top_ids[-1][-1] == nt.top_ids[0] and lens.top_probs[-1][-1] == nt.top_probs[0]


def test_other_families_step_by_hand_like_greedy_decoding(other):
    from lm_demo import stepping
    from lm_demo.decoding import DecoderSpec, decode

    loaded, _ = other
    st = stepping.state(loaded, PROMPT, [], top_n=3)
    for _ in range(8):
        st = stepping.choose(loaded, PROMPT, st.current.ids, [st.candidates[0].id], top_n=3)
    greedy = decode(loaded, PROMPT, [DecoderSpec("greedy")], max_steps=8, eos_token_id=-1).runs[0]
    assert st.current.ids == greedy.token_ids
    assert [r.cum_logprob for r in st.current.rows] == [r.cum_logprob for r in greedy.rows]
    back = stepping.undo(loaded, PROMPT, st.current.ids, top_n=3)
    assert back.current.rows == st.current.rows[:-1]


def test_a_model_without_attention_weights_says_so_and_keeps_the_lens(tmp_path_factory, bundled):
    """A real model whose attention code can't be switched (like a custom architecture): a clear message."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from lm_demo.models import LoadedModel

    class Opaque(GPT2LMHeadModel):
        @classmethod
        def _can_set_attn_implementation(cls) -> bool:
            return False

    torch.manual_seed(0)
    model = Opaque(GPT2Config(vocab_size=len(bundled.tokenizer), n_positions=64, n_embd=32, n_layer=2,
                              n_head=2)).eval()
    assert model.config._attn_implementation == "sdpa"
    loaded = LoadedModel("opaque", "random", "local", model, bundled.tokenizer, "cpu", "float32")
    with pytest.raises(UserError) as e:
        inside.attention(loaded, PROMPT)
    assert "Opaque" in e.value.message() and "no está disponible" in e.value.message()
    lens = inside.logit_lens(loaded, PROMPT)
    assert lens.top_probs[-1][-1] == next_token_distribution(loaded, PROMPT, use_cache=False).top_probs[0]
