"""Benchmark the "Dentro del modelo" tab against the forwards it is built on (ratios in one run).

1. Attention + logit lens of a 20-token prompt (``inside.attention`` then ``inside.logit_lens``, as the
   "Analizar" button runs them: one forward with the attention weights and hidden states, then the
   lens's vocabulary projection for every layer and position) against **one plain forward** of the same
   20 tokens: the model as transformers builds it, ``model(input_ids)`` (logits for every position).
   Also shown against the "Siguiente token" tab's forward (the app's model, last position only).
   Target: <= 2x.
2. One manual step of "Tú eliges" (``stepping.choose`` with the argmax, candidates included) against one
   cached step of the decoding engine (``decoding.decode`` with one greedy decoder: (time of N steps -
   time of 1 step) / (N - 1)).  Target: <= 1.2x.  Both must write the same tokens.

Model: the GPT-2-small shape (124 M) built from its config (random init: speed does not depend on the
weights), like ``bench/decoding.py``, with the bundled tokenizer; ``--bundled`` adds the bundled model.
Offline, 2 threads by default.  Run: ``.venv/bin/python bench/inside.py`` (about a minute on 2 cores).
On a machine shared with other work, ``--threads 1 --clock cpu`` measures the work itself (CPU seconds).
Last line: ``inside_vs_forward=<x> step_vs_decoding=<y>``.
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

from lm_demo import inside, stepping  # noqa: E402
from lm_demo.decoding import DecoderSpec, decode  # noqa: E402
from lm_demo.fast_linear import is_optimized, optimize_for_cpu_inference  # noqa: E402
from lm_demo.models import BUNDLED_NAME, LoadedModel, load_model  # noqa: E402
from lm_demo.next_token import last_logits  # noqa: E402

PROMPT_TOKENS = 20
SOURCE_TEXT = ("En el silencio de la noche, cuando todos dormían en el pueblo, una niña miraba las estrellas "
               "desde su ventana y soñaba con viajes lejanos")
NO_EOS = -1


def gpt2_small_shape(tokenizer) -> LoadedModel:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
    return LoadedModel("gpt2-small-shape", "random init", "local", GPT2LMHeadModel(cfg).eval(), tokenizer, "cpu",
                       "float32")


def plain_and_app(loaded: LoadedModel) -> tuple[LoadedModel, LoadedModel]:
    """The model as transformers builds it, and the app's copy (``fast_linear``, as ``load_model`` prepares it)."""
    if is_optimized(loaded.model):
        from transformers import AutoModelForCausalLM

        plain = AutoModelForCausalLM.from_pretrained(loaded.resolved, local_files_only=True).eval()
        return dataclasses.replace(loaded, model=plain), loaded
    app = copy.deepcopy(loaded.model)
    optimize_for_cpu_inference(app)
    return loaded, dataclasses.replace(loaded, model=app)


def prompt_of(tokenizer, n: int) -> tuple[str, list[int]]:
    """A prompt of exactly ``n`` tokens (cut from SOURCE_TEXT at a token boundary)."""
    ids = tokenizer(SOURCE_TEXT, add_special_tokens=False)["input_ids"]
    for cut in range(n, len(ids) + 1):
        text = tokenizer.decode(ids[:cut], clean_up_tokenization_spaces=False)
        again = tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(again) == n:
            return text, again
    raise RuntimeError(f"no {n}-token prompt in the source text")


CLOCK = time.perf_counter  # --clock cpu: time.process_time (CPU seconds of this process)


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return statistics.median(times)


def bench_views(plain: LoadedModel, app: LoadedModel, prompt: str, ids: list[int], repeats: int) -> float:
    x = torch.tensor([ids])

    def plain_forward() -> None:
        with torch.inference_mode():
            plain.model(input_ids=x, use_cache=False)

    def views() -> None:
        inside._CACHE.clear()  # a new prompt every time: the forward and the lens are computed
        inside.attention(app, prompt, 0, 0)
        inside.logit_lens(app, prompt)

    # interleaved, so that load from other processes hits both alike
    t_plain, t_app, t_views = [], [], []
    for _ in range(repeats):
        t_plain.append(median_time(plain_forward, 1))
        t_app.append(median_time(lambda: last_logits(app, ids, use_cache=False), 1))
        t_views.append(median_time(views, 1))
    n_layers = app.model.config.n_layer
    print(f"prompt {len(ids)} tokens; lens {n_layers + 1} layers x {len(ids)} positions x {app.vocab_size} tokens; "
          f"median (min) of {repeats}")
    tp = report("plain forward (transformers model, all positions)", t_plain)[0]
    report("next-token forward (app model, last position)", t_app)
    tv = report("attention + logit lens", t_views, t_plain, "plain forward")[0]
    report("", t_views, t_app, "next-token forward")
    return tv / tp


def report(label: str, times: list[float], base: list[float] | None = None, base_name: str = "") -> tuple[float, ...]:
    """Print median (min) in ms, and the ratio to ``base`` (median and min ratios); returns the medians."""
    med, low = statistics.median(times), min(times)
    line = f"{label:52s} {med * 1000:8.1f} ms ({low * 1000:7.1f})" if label else " " * 77
    if base:
        line += f"   ratio {med / statistics.median(base):5.2f}x ({low / min(base):4.2f}x) {base_name}"
    print(line)
    return med, low


def bench_step(app: LoadedModel, prompt: str, steps: int, repeats: int) -> float:
    spec = [DecoderSpec("greedy")]

    def engine(n: int) -> list[int]:
        return decode(app, prompt, spec, max_steps=n, top_n=stepping.MAX_TOP_N, eos_token_id=NO_EOS).runs[0].token_ids

    def manual() -> tuple[list[int], list[float]]:
        stepping._TRACES.clear()
        st = stepping.state(app, prompt, [], top_n=5)
        times = []
        for _ in range(steps):
            t0 = CLOCK()
            st = stepping.choose(app, prompt, st.current.ids, [st.candidates[0].id], top_n=5)
            times.append(CLOCK() - t0)
        return st.current.ids, times

    per_engine, per_manual, same = [], [], True
    for _ in range(repeats):
        t_n = median_time(lambda: engine(steps), 1)
        t_1 = median_time(lambda: engine(1), 1)
        per_engine.append((t_n - t_1) / (steps - 1))
        ids, times = manual()
        per_manual.extend(times)
        same = same and ids == engine(steps)
    te = report("cached decoding step (engine, 1 greedy decoder)", per_engine)[0]
    tm = report("manual step (choose + next candidates)", per_manual, per_engine, "decoding step")[0]
    print(f"argmax by hand = greedy decoding: {same}")
    return tm / te


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--repeats", type=int, default=7, help="interleaved repetitions (default 7)")
    ap.add_argument("--steps", type=int, default=30, help="steps of the stepping comparison (default 30)")
    ap.add_argument("--bundled", action="store_true", help=f"also the bundled {BUNDLED_NAME}")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time (default), or CPU time of this process: with --threads 1 it is the work done, "
                         "whatever else the machine runs")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    bundled = load_model(BUNDLED_NAME)
    prompt, ids = prompt_of(bundled.tokenizer, PROMPT_TOKENS)
    models = [("GPT-2-small shape (124M, random init)", gpt2_small_shape(bundled.tokenizer))]
    if args.bundled:
        models.append((f"bundled {BUNDLED_NAME}", bundled))
    result = None
    for label, loaded in reversed(models):
        plain, app = plain_and_app(loaded)
        print(f"== {label}, {torch.get_num_threads()} threads, {args.clock} clock")
        r_views = bench_views(plain, app, prompt, ids, args.repeats)
        r_step = bench_step(app, prompt, args.steps, max(3, args.repeats // 2))
        result = (r_views, r_step)
    print(f"inside_vs_forward={result[0]:.2f} step_vs_decoding={result[1]:.2f}")


if __name__ == "__main__":
    main()
