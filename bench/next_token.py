"""Median latency of ``lm_demo.next_token.next_token_distribution`` on a
GPT-2-small-shaped model, with a 20-token prompt, vs a bare baseline.

Baseline, in the same process: one full forward of the prompt (all positions'
logits, as a naive implementation would) on the plain transformers model,
softmax of the last position, top-10.  Ours runs on a copy prepared as
``models.load_model`` prepares every CPU model (``lm_demo.fast_linear``).

The model is built from ``GPT2Config`` (124M, random init: speed does not
depend on the weights).  It has no tokenizer of its own offline, so the
bundled model's tokenizer stands in: its 8000 ids are valid rows of the
50257-token embedding, and ``next_token_distribution`` only needs the prompt's
ids and labels for the top tokens.  Offline, 2 threads.

``next_token_ms`` is a new prompt every call (no logits cache); the line
before it shows a slider move on the same prompt, which the cache serves.
The calls alternate (baseline, ours, ours with defaults, slider move), so a
burst of load from other processes falls on each alike.

Run: ``.venv/bin/python bench/next_token.py`` (``--bf16`` for the reduced-precision
mode, ``--no-autotune`` for the fixed kernel rule).  Last lines:
``next_token_vs_bare=<x>`` (ours over the baseline; target <= 0.7),
``next_token_ms=<x>`` (target <= 60 on a quiet host) and
``load_avg=<1-min load at start>,<at end>``.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lm_demo.fast_linear import kernel_report, optimize_for_cpu_inference  # noqa: E402
from lm_demo.models import BUNDLED_NAME, LoadedModel, load_model  # noqa: E402
from lm_demo.next_token import next_token_distribution  # noqa: E402

REPEATS = 30
PROMPT_TOKENS = 20
TEXT = "Había una vez una niña que vivía en un pueblo pequeño junto al mar, y todas las mañanas salía a buscar"


def prompt_of(tokenizer, n: int) -> str:
    """A Spanish prompt that the tokenizer splits into exactly ``n`` tokens."""
    ids = tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    for cut in range(n, len(ids) + 1):
        text = tokenizer.decode(ids[:cut])
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) == n:
            return text
    raise RuntimeError("no prompt of the wanted length")


def median_ms(fns: dict, repeats: int = REPEATS) -> dict[str, float]:
    """Median ms of each function, calls alternated round by round (after 3 warm-up rounds)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(3 + repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            if i >= 3:
                times[name].append((time.perf_counter() - t0) * 1000)
    return {name: statistics.median(v) for name, v in times.items()}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bf16", action="store_true", help="reduced-precision mode (LM_DEMO_CPU_BF16=1)")
    ap.add_argument("--no-autotune", action="store_true", help="fixed kernel rule (LM_DEMO_CPU_AUTOTUNE=0)")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args()
    if args.bf16:
        os.environ["LM_DEMO_CPU_BF16"] = "1"
    if args.no_autotune:
        os.environ["LM_DEMO_CPU_AUTOTUNE"] = "0"
    load_start = os.getloadavg()[0]
    torch.set_num_threads(2)
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = load_model(BUNDLED_NAME).tokenizer
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257,
                                       n_positions=1024)).eval()
    # The app's copy gets what models.load_model does to every CPU model
    # (lm_demo.fast_linear); the baseline keeps the plain transformers model.
    fast = copy.deepcopy(model)
    optimize_for_cpu_inference(fast, tokenizer=tok)
    for line in kernel_report(fast).lines():
        print(line)
    loaded = LoadedModel("gpt2-small-shape", "random init", "local", fast, tok, "cpu", "float32")
    prompt = prompt_of(tok, PROMPT_TOKENS)
    ids = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])

    def baseline() -> None:
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0, -1].float()
            torch.topk(torch.softmax(logits, -1), 10)

    def ours() -> None:  # a new prompt every time: the logits cache is bypassed
        next_token_distribution(loaded, prompt, temperature=0.8, top_k=40, top_p=0.95, top_n=10, use_cache=False)

    def ours_default() -> None:
        next_token_distribution(loaded, prompt, top_n=10, use_cache=False)

    temps = iter([0.5 + 0.01 * i for i in range(10_000)])

    def slider_move() -> None:  # same prompt, another temperature: served from the logits cache
        next_token_distribution(loaded, prompt, temperature=next(temps), top_k=40, top_p=0.95, top_n=10)

    med = median_ms({"base": baseline, "ours": ours, "default": ours_default, "slider": slider_move}, args.repeats)
    base, ms, ms_default, ms_slider = med["base"], med["ours"], med["default"], med["slider"]
    print(f"GPT-2-small shape, {ids.shape[1]}-token prompt, {torch.get_num_threads()} threads, "
          f"median of {args.repeats}")
    print(f"baseline (full forward + softmax + top-10)        {base:7.1f} ms")
    print(f"next_token_distribution (T=0.8, top-k 40, top-p .95) {ms:7.1f} ms   ratio {ms / base:.2f}x")
    print(f"next_token_distribution (defaults)                 {ms_default:7.1f} ms   ratio {ms_default / base:.2f}x")
    print(f"slider moved, same prompt (logits cache)          {ms_slider:7.1f} ms   ratio {ms_slider / base:.2f}x")
    print(f"next_token_vs_bare={ms / base:.2f}")
    print(f"next_token_ms={ms:.1f}")
    print(f"load_avg={load_start:.2f},{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
