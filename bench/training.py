"""Real-text tokens per second of our training recipe vs the seeds' one.

Same corpus (the 2,419 real jokes of ``../shared/data/chistes/chistes.csv``),
same GPT-2-small-shaped model (124 M parameters, 50,257-token vocabulary,
random init: speed does not depend on the weights), same hardware and
process, the same ``transformers.Trainer`` path as the app:

- ``packed``: our default (``lm_demo.packing``, block 128, batch 8): texts
  joined with eos and cut into full blocks, every position is real text.
- ``padded``: the seeds' recipe, every text padded to 512, batch 2.

Tokenizer (``--tokenizer``): how many tokens a joke is depends on it, and
with it the share of padding in the seeds' recipe.  The seeds' GPT-2-small
Spanish tokenizer (50 k entries) is not available offline, so by default
(``bpe50k``) a byte-level BPE of the same size is trained here in a few
seconds on the local Spanish text (Quijote, sonnets, sayings, prose; never
the jokes), which cuts a joke into ~47 tokens (median).  ``bundled`` uses the
8,000-entry tokenizer of the bundled tiny model instead (~55 tokens per joke:
less padding, so a smaller ratio).  Both recipes always share one tokenizer.

"Real-text tokens" are the tokens of the texts (``attention_mask`` 1), as
``Trainer`` counts them with ``include_num_input_tokens_seen="non_padding"``.
Each recipe runs ``--steps`` optimiser steps; the first is a warm-up and is
not timed.  The time of one epoch is the mean step time times the steps one
epoch of the corpus takes with that recipe.  ``--repeats`` alternates the
recipes (A B A B...) and keeps the median, which evens out a shared CPU.

Run: ``.venv/bin/python bench/training.py``.  Last line
``packed_vs_padded=<x>`` (target >= 10).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import (  # noqa: E402
    GPT2Config,
    GPT2LMHeadModel,
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    default_data_collator,
)
from transformers.utils import logging as hf_logging  # noqa: E402

from lm_demo.corpora import CorpusSpec, load_corpus  # noqa: E402
from lm_demo.models import load_model  # noqa: E402
from lm_demo.packing import build_datasets  # noqa: E402

RECIPES = {
    "packed": dict(recipe="packed", block_size=128, batch_size=8),
    "padded": dict(recipe="padded", block_size=512, batch_size=2),
}


class StepClock(TrainerCallback):
    """(time, real tokens seen) at the end of every optimiser step."""

    def __init__(self) -> None:
        self.marks: list[tuple[float, int]] = []

    def on_step_end(self, args, state, control, **kw):  # noqa: ANN001
        self.marks.append((time.perf_counter(), int(state.num_input_tokens_seen)))


def spanish_bpe50k():
    """A 50,257-entry byte-level BPE trained on local Spanish text (not the jokes)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    texts: list[str] = []
    for preset in ("quijote", "poesia", "refranes", "prosa"):
        texts += load_corpus(CorpusSpec(preset=preset, quijote_lines=0)).texts
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=50257, min_frequency=2, special_tokens=["<|endoftext|>"],
                            show_progress=False)
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                            unk_token="<|endoftext|>")
    tok.pad_token = tok.eos_token
    return tok


def run(model: GPT2LMHeadModel, data, batch_size: int, steps: int) -> dict:
    clock = StepClock()
    out = tempfile.mkdtemp(prefix="bench-train-")
    args = TrainingArguments(
        output_dir=out, per_device_train_batch_size=batch_size, max_steps=steps, learning_rate=5e-5,
        logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", disable_tqdm=True,
        include_num_input_tokens_seen="non_padding", use_cpu=not torch.cuda.is_available(), seed=0,
        dataloader_pin_memory=False, remove_unused_columns=False,
    )
    trainer = Trainer(model=model, args=args, train_dataset=data.train, data_collator=default_data_collator,
                      callbacks=[clock])
    trainer.remove_callback(PrinterCallback)
    trainer.train()
    (t0, n0), (t1, n1) = clock.marks[0], clock.marks[-1]  # step 1 is the warm-up
    step_s = (t1 - t0) / (len(clock.marks) - 1)
    steps_per_epoch = math.ceil(len(data.train) / batch_size)
    return {"tokens_per_s": (n1 - n0) / (t1 - t0), "step_s": step_s, "epoch_s": step_s * steps_per_epoch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=4, help="optimiser steps per run (the first is not timed)")
    ap.add_argument("--repeats", type=int, default=1, help="alternating runs per recipe (median kept)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokenizer", choices=("bpe50k", "bundled"), default="bpe50k",
                    help="bpe50k: a GPT-2-small-sized Spanish BPE trained here; bundled: the tiny model's 8k one")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hf_logging.set_verbosity_error()

    tok = load_model("gpt2-es-tiny").tokenizer if args.tokenizer == "bundled" else spanish_bpe50k()
    texts = load_corpus(CorpusSpec(preset="chistes", exclude_categories=())).texts
    lengths = [len(x) for x in tok(texts, add_special_tokens=False)["input_ids"]]
    print(f"corpus: {len(texts)} jokes, median {statistics.median(lengths):.0f} tokens, "
          f"{sum(lengths):,} tokens ({args.tokenizer} tokenizer, {len(tok):,} entries); device {'cuda' if torch.cuda.is_available() else 'cpu'}, "
          f"{torch.get_num_threads()} threads")
    datasets = {name: build_datasets(texts, tok, block_size=r["block_size"], recipe=r["recipe"], eval_fraction=0.1,
                                     seed=0, max_eval_blocks=1) for name, r in RECIPES.items()}
    for name, d in datasets.items():
        print(f"{name}: {len(d.train)} training rows of {d.block_size} tokens, "
              f"{100 * (1 - d.padding_fraction):.0f} % real text")

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257))
    print(f"model: GPT-2-small shape, {sum(p.numel() for p in model.parameters()) / 1e6:.0f} M parameters")
    results: dict[str, list[dict]] = {name: [] for name in RECIPES}
    for _ in range(args.repeats):
        for name, r in RECIPES.items():
            results[name].append(run(model, datasets[name], r["batch_size"], args.steps))
    summary = {}
    for name, runs in results.items():
        tps = statistics.median(x["tokens_per_s"] for x in runs)
        epoch = statistics.median(x["epoch_s"] for x in runs)
        summary[name] = tps
        r = RECIPES[name]
        print(f"{name:7s} (block {r['block_size']}, batch {r['batch_size']}): {tps:8.1f} real tokens/s, "
              f"one epoch ~{epoch / 60:6.1f} min")
    print(f"packed_vs_padded={summary['packed'] / summary['padded']:.2f}")


if __name__ == "__main__":
    main()
