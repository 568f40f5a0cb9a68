"""Benchmark the decoding tab's workload: greedy, sampling and epsilon-greedy side
by side, 100 new tokens each, with a top-10 table per step.

Compared, in the same process (ratios, not absolute times, are the result):
- ``engine``: ``lm_demo.decoding.decode`` (one batch of 3, KV cache, topk) on
  the model as ``models.load_model`` prepares it for the CPU
  (``lm_demo.fast_linear``);
- ``seed loop``: what the seeds did (plain transformers model), per decoder: full recompute of the whole
  sequence every step + ``argsort`` of the whole vocabulary for the table;
- ``generate``: plain ``model.generate`` per decoder (KV cache), with the raw
  logits kept (``output_logits``) and a top-10 table made from them.
And a single greedy decoder: the engine vs ``generate``, and the engine's 3
decoders against its single greedy decoder (``batch3_vs_single``: what the
second and third decoder cost; 1.0 would be free).  The engine's 3-decoder
and 1-decoder runs alternate, so a burst of load from other processes falls
on both alike.

Models: a GPT-2-small-shaped model built from its config (random init: speed
does not depend on the weights) and the bundled ``gpt2-es-tiny``.  The bundled
tokenizer stands in for the big model's (its 8000 ids are valid rows of a
50257 vocabulary; only the prompt's ids matter here).  Offline, 2 threads.

Run: ``.venv/bin/python bench/decoding.py`` (about 2-4 minutes on 2 quiet cores;
``--bf16`` for the reduced-precision mode, ``--no-autotune`` for the fixed rule).
Last lines, for the GPT-2-small shape: ``batch3_vs_single=<x>`` (median over the repeats of
3 decoders' time / 1 decoder's time, run back to back; target <= 1.3),
``speedup_vs_seed_loop=<x>`` (target >= 8), then ``load_avg=<1-min load at start>,<at end>``
(timings are only comparable at low load).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from lm_demo.decoding import DecoderSpec, decode  # noqa: E402
from lm_demo.fast_linear import is_optimized, kernel_report, optimize_for_cpu_inference  # noqa: E402
from lm_demo.models import BUNDLED_NAME, LoadedModel, load_model  # noqa: E402
from lm_demo.sampling import build_processors  # noqa: E402

STEPS = 100
TOP_N = 10
SEED = 0
PROMPT = "Había una vez una niña que vivía en un pueblo"
SPECS = [
    DecoderSpec("greedy"),
    DecoderSpec("sampling", temperature=0.8, top_k=40),
    DecoderSpec("epsilon", temperature=0.8, top_k=40, epsilon=0.5),
]
NO_EOS = -1  # never stop early: every method writes exactly STEPS tokens


def gpt2_small_shape(tokenizer) -> LoadedModel:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
    model = GPT2LMHeadModel(cfg).eval()
    return LoadedModel("gpt2-small-shape", "random init", "local", model, tokenizer, "cpu", "float32")


def plain_and_app(loaded: LoadedModel) -> tuple[LoadedModel, LoadedModel]:
    """The plain transformers model (seed loop, generate) and the app's copy.

    ``models.load_model`` passes every CPU model through
    ``fast_linear.optimize_for_cpu_inference``; the seeds' loop and
    ``generate`` get the model as transformers builds it.
    """
    if is_optimized(loaded.model):  # the bundled model comes from load_model
        from transformers import AutoModelForCausalLM

        plain = AutoModelForCausalLM.from_pretrained(loaded.resolved, local_files_only=True).eval()
        return dataclasses.replace(loaded, model=plain), loaded
    app = copy.deepcopy(loaded.model)
    optimize_for_cpu_inference(app, tokenizer=loaded.tokenizer)
    return loaded, dataclasses.replace(loaded, model=app)


def timed(fn, repeats: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


# --------------------------------------------------------------------------- the three methods
def run_engine(loaded: LoadedModel, specs: list[DecoderSpec]) -> list[list[int]]:
    res = decode(loaded, PROMPT, specs, max_steps=STEPS, seed=SEED, top_n=TOP_N, eos_token_id=NO_EOS)
    return [[r.chosen_id for r in run.rows] for run in res.runs]


def run_seed_loop(loaded: LoadedModel, specs: list[DecoderSpec], prompt_ids: list[int]) -> list[list[int]]:
    """The seeds' loop, one decoder after the other: no cache, argsort for the table."""
    model, out = loaded.model, []
    for i, spec in enumerate(specs):
        settings = spec.clamped(loaded.vocab_size).settings()
        procs = build_processors(settings)
        gen = torch.Generator().manual_seed(SEED + i)
        ids = list(prompt_ids)
        table = []
        with torch.inference_mode():
            for _ in range(STEPS):
                logits = model(input_ids=torch.tensor([ids])).logits[:, -1, :].float()
                probs = torch.softmax(logits, -1)[0]
                order = torch.argsort(probs, descending=True)
                table.append([(int(j), float(probs[j])) for j in order[:TOP_N]])
                greedy = spec.kind == "greedy" or (spec.kind == "epsilon" and torch.rand(1, generator=gen) < spec.epsilon)
                if greedy:
                    nxt = int(order[0])
                else:
                    w = torch.softmax(procs(torch.tensor([ids]), logits), -1)
                    nxt = int(torch.multinomial(w[0], 1, generator=gen))
                ids.append(nxt)
        out.append(ids[len(prompt_ids):])
    return out


def run_generate(loaded: LoadedModel, specs: list[DecoderSpec], prompt_ids: list[int]) -> list[list[int]]:
    """``model.generate`` per decoder (epsilon-greedy has no generate mode: sampled instead)."""
    model, out = loaded.model, []
    for i, spec in enumerate(specs):
        s = spec.clamped(loaded.vocab_size)
        torch.manual_seed(SEED + i)
        kw = dict(do_sample=False) if s.kind == "greedy" else dict(
            do_sample=True, temperature=s.temperature, top_k=s.top_k or None, top_p=s.top_p)
        with torch.inference_mode():
            g = model.generate(torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids),
                               dtype=torch.long), max_new_tokens=STEPS, min_new_tokens=STEPS,
                               output_logits=True, return_dict_in_generate=True, pad_token_id=0, **kw)
            table = [torch.topk(torch.softmax(lg.float(), -1)[0], TOP_N) for lg in g.logits]
        assert len(table) == STEPS
        out.append(g.sequences[0, len(prompt_ids):].tolist())
    return out


def bench(label: str, loaded: LoadedModel, seed_repeats: int, fast_repeats: int) -> tuple[float, float]:
    """Prints the comparison; returns (speedup vs the seed loop, batch-of-3 / single decoder)."""
    plain, app = plain_and_app(loaded)
    prompt_ids = loaded.tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    for line in kernel_report(app.model).lines():
        print(line)
    # warm-up (allocator, lazy inits)
    decode(app, PROMPT, SPECS, max_steps=3, seed=SEED, eos_token_id=NO_EOS)
    decode(app, PROMPT, SPECS[:1], max_steps=3, seed=SEED, eos_token_id=NO_EOS)
    run_generate(plain, SPECS[:1], prompt_ids)

    engine3, engine1 = [], []
    for _ in range(fast_repeats):  # alternated: load from other processes hits both alike
        t, tok_engine = timed(lambda: run_engine(app, SPECS))
        engine3.append(t)
        t, tok_one = timed(lambda: run_engine(app, SPECS[:1]))
        engine1.append(t)
    t_engine, t_one = statistics.median(engine3), statistics.median(engine1)
    # Each repeat's pair ran back to back: the median of the pairs' ratios is what load bursts move least.
    batch3 = statistics.median(a / b for a, b in zip(engine3, engine1))
    t_seed, tok_seed = timed(lambda: run_seed_loop(plain, SPECS, prompt_ids), seed_repeats)
    t_gen, tok_gen = timed(lambda: run_generate(plain, SPECS, prompt_ids), seed_repeats)
    t_gen1, tok_gen1 = timed(lambda: run_generate(plain, SPECS[:1], prompt_ids), fast_repeats)

    print(f"== {label}: 3 decoders x {STEPS} steps, top-{TOP_N} table, prompt {len(prompt_ids)} tokens, "
          f"{torch.get_num_threads()} threads")
    print(f"engine (batched, KV cache)      {t_engine:7.2f} s")
    print(f"seed loop (recompute + argsort) {t_seed:7.2f} s   ratio {t_seed / t_engine:5.2f}x")
    print(f"generate per decoder            {t_gen:7.2f} s   ratio {t_gen / t_engine:5.2f}x")
    print(f"single greedy: engine {t_one:.2f} s, generate {t_gen1:.2f} s, engine/generate {t_one / t_gen1:.2f}x")
    print(f"engine 3 decoders / 1 decoder: medians {t_engine:.2f} s / {t_one:.2f} s = {t_engine / t_one:.2f}x; "
          f"per repeat: {', '.join(f'{a / b:.2f}' for a, b in zip(engine3, engine1))} (median {batch3:.2f}x)")
    print(f"greedy tokens identical (engine, seed loop, generate): "
          f"{tok_engine[0] == tok_seed[0] == tok_gen[0] == tok_one[0] == tok_gen1[0]}")
    return t_seed / t_engine, batch3


def main() -> None:
    import argparse

    global STEPS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=STEPS, help="new tokens per decoder (default 100)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--skip-bundled", action="store_true", help="only the GPT-2-small shape")
    ap.add_argument("--repeats", type=int, default=5, help="engine runs of 3 and of 1 decoder, alternated (default 5)")
    ap.add_argument("--bf16", action="store_true", help="reduced-precision mode (LM_DEMO_CPU_BF16=1)")
    ap.add_argument("--no-autotune", action="store_true", help="fixed kernel rule (LM_DEMO_CPU_AUTOTUNE=0)")
    args = ap.parse_args()
    STEPS = args.steps
    if args.bf16:
        os.environ["LM_DEMO_CPU_BF16"] = "1"
    if args.no_autotune:
        os.environ["LM_DEMO_CPU_AUTOTUNE"] = "0"
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()[0]
    bundled = load_model(BUNDLED_NAME)
    if not args.skip_bundled:
        bench(f"bundled {BUNDLED_NAME}", bundled, seed_repeats=1, fast_repeats=args.repeats)
    small = gpt2_small_shape(bundled.tokenizer)
    speedup, batch3 = bench("GPT-2-small shape (124M, random init)", small, seed_repeats=1,
                            fast_repeats=args.repeats)
    print(f"batch3_vs_single={batch3:.2f}")
    print(f"speedup_vs_seed_loop={speedup:.2f}")
    print(f"load_avg={load_start:.2f},{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
