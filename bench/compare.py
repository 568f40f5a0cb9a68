"""Cost of the "Antes / después" tab's two heavy parts on a GPT-2-small-shaped model, vs baselines.

1. Side-by-side samples: ``compare.generate_samples`` (5 samples x 40 new
   tokens, one KV-cached batch through ``lm_demo.decoding``) vs the naive
   way, 5 separate ``model.generate(do_sample=True)`` calls with
   ``torch.manual_seed(seed + i)``.
2. Perplexity: ``perplexity.token_losses`` (per-token losses, windows of
   the same length batched) over 2,048 tokens, context 1,024, stride 512, vs
   the sliding-window loop of the transformers perplexity guide (one window
   per forward, mean loss only).

The model is built from ``GPT2Config`` (124M, random init: speed does not
depend on the weights); the bundled tokenizer stands in (its ids are valid
rows of the 50257-token embedding).  Offline, 2 threads, same process,
baseline and ours timed alternately.

Run: ``.venv/bin/python bench/compare.py``.  Last lines
``compare_samples_ratio=<x>`` and ``compare_perplexity_ratio=<x>`` (ours / baseline).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lm_demo.models import BUNDLED_NAME, LoadedModel, load_model  # noqa: E402

REPEATS = 3
SAMPLES, NEW_TOKENS, SEED = 5, 40, 42
PPL_TOKENS, STRIDE = 2048, 512
PROMPT = "Había una vez una niña que vivía en un pueblo pequeño junto al mar"


def medians_s(base, ours, repeats: int = REPEATS) -> tuple[float, float]:
    """Median seconds of ``base`` and ``ours``, run alternately (a shared machine's load drifts)."""
    base(), ours()  # warm-up
    tb, to = [], []
    for _ in range(repeats):
        for fn, times in ((base, tb), (ours, to)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(tb), statistics.median(to)


def main() -> None:
    torch.set_num_threads(2)
    from transformers import GPT2Config, GPT2LMHeadModel

    from lm_demo.compare import generate_samples
    from lm_demo.perplexity import token_losses
    from lm_demo.sampling import SamplingSettings

    tok = load_model(BUNDLED_NAME).tokenizer
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024,
                                       bos_token_id=0, eos_token_id=0, pad_token_id=0)).eval()
    loaded = LoadedModel("gpt2-small-shape", "random init", "local", model, tok, "cpu", "float32")
    settings = SamplingSettings(1.0, 50, 0.95)
    prompt_ids = torch.tensor([tok(PROMPT, add_special_tokens=False)["input_ids"]])

    def gen_baseline() -> None:
        for i in range(SAMPLES):
            torch.manual_seed(SEED + i)
            with torch.inference_mode():
                model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=True, top_k=50,
                               top_p=0.95, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, pad_token_id=0)

    def gen_ours() -> None:
        generate_samples(loaded, PROMPT, settings, SAMPLES, NEW_TOKENS, SEED)

    # A long text of real Spanish tokens: the bundled vocabulary, cycled.
    text = ("En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que vivía un "
            "hidalgo de los de lanza en astillero, adarga antigua, rocín flaco y galgo corredor. ") * 60
    ids = tok(text, add_special_tokens=False)["input_ids"][: PPL_TOKENS - 1]
    text = tok.decode(ids)
    seq = torch.tensor([[0] + tok(text, add_special_tokens=False)["input_ids"]])

    def ppl_baseline() -> float:
        # transformers docs, "Perplexity of fixed-length models": one window per forward.
        nlls, prev_end, n = [], 0, seq.shape[1]
        with torch.inference_mode():
            for begin in range(0, n, STRIDE):
                end = min(begin + 1024, n)
                trg = end - prev_end
                x = seq[:, begin:end]
                labels = x.clone()
                labels[:, :-trg] = -100
                nlls.append(model(input_ids=x, labels=labels).loss * trg)
                prev_end = end
                if end == n:
                    break
        return float(torch.exp(torch.stack(nlls).sum() / prev_end))

    def ppl_ours() -> float:
        return token_losses(loaded, text, stride=STRIDE, max_tokens=None).perplexity

    g_base, g_ours = medians_s(gen_baseline, gen_ours)
    p_base, p_ours = medians_s(ppl_baseline, ppl_ours)
    print(f"GPT-2-small shape, {torch.get_num_threads()} threads, median of {REPEATS}")
    print(f"samples: {SAMPLES} x {NEW_TOKENS} tokens, 5 x model.generate   {g_base:7.2f} s")
    print(f"samples: compare.generate_samples (one batch)   {g_ours:7.2f} s   ratio {g_ours / g_base:.2f}x")
    print(f"perplexity: {seq.shape[1]} tokens, guide's window loop   {p_base:7.2f} s")
    print(f"perplexity: perplexity.token_losses (per token) {p_ours:7.2f} s   ratio {p_ours / p_base:.2f}x")
    print(f"compare_samples_ratio={g_ours / g_base:.2f}")
    print(f"compare_perplexity_ratio={p_ours / p_base:.2f}")


if __name__ == "__main__":
    main()
