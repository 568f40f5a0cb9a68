"""Make the bundled demo fine-tune ``checkpoints/gpt2-es-tiny-chistes``.

Why it exists: the "Antes / después" tab must work out of the box, offline,
with a base model and a fine-tune of it.  This fine-tunes the bundled
``gpt2-es-tiny`` on the Spanish jokes of ``../shared/data`` (categories
``sexo`` and ``regionales`` left out for a classroom) with the app's own
training runner (``python -m lm_demo.train``, keeping the best evaluation:
``--keep best``), then measures held-out
perplexity before/after with ``lm_demo.perplexity`` and writes the model
card.  ``lm_demo.checkpoints`` refuses to write a bundled name, so the run
saves into a temporary checkpoints folder and the result is moved here.

Usage (about 10 minutes on 2 CPU cores)::

    HF_HUB_OFFLINE=1 python scripts/make_demo_finetune.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = "gpt2-es-tiny-chistes"
BASE = "gpt2-es-tiny"
PROMPTS = ["- Mamá, mamá,", "- Doctor, doctor,", "Había una vez", "En el silencio de la noche"]


def train(work: Path, args: argparse.Namespace) -> Path:
    os.environ["LM_DEMO_CHECKPOINTS"] = str(work)
    from lm_demo import train as cli

    argv = ["--corpus", "chistes", "--exclude", "sexo,regionales", "--model", BASE,
            "--epochs", str(args.epochs), "--lr", str(args.lr), "--block-size", "128", "--batch-size", "8",
            "--grad-accum", "1", "--weight-decay", "0.01", "--warmup", "30", "--eval-steps", str(args.eval_steps),
            "--patience", "3", "--keep", "best", "--seed", "42", "--threads", str(args.threads),
            "--name", f"{NAME}-build",
            "--prompt", "- Mamá, mamá,", "--max-new-tokens", "60", "--sentences", "3"]
    if cli.main(argv) != 0:
        sys.exit("training failed")
    return work / f"{NAME}-build"


def model_card(meta: dict, before: float, after: float, n_tokens: int, samples: dict, size_mb: float) -> str:
    corpus = meta.get("corpus", {})
    hp = meta.get("hyperparameters", {})
    lines = [
        f"# {NAME}",
        "",
        f"The bundled demo fine-tune of lm_demo: `{BASE}` (the small Spanish GPT-2 shipped in "
        f"`checkpoints/{BASE}`) fine-tuned on Spanish jokes, so that the \"Antes / después\" tab works "
        "offline out of the box.",
        "",
        "## Data",
        "",
        "- `../shared/data/chistes/chistes.csv` (a copy of GitHub `liopic/chistes-nlp`, the source of the "
        "Hugging Face data set `mrm8488/CHISTES_spanish_jokes`), column `text`.",
        f"- Categories `sexo` and `regionales` excluded for a classroom; {corpus.get('rows_after', '?')} jokes "
        f"used, {corpus.get('eval_texts', '?')} of them held out for evaluation (seeded split by text; "
        "a sample is in `eval_texts.jsonl`).",
        f"- Packed into {hp.get('block_size', 128)}-token blocks with `<|endoftext|>` between jokes "
        f"({corpus.get('train_tokens', '?')} training tokens).",
        "",
        "**Licence note**: the jokes data set states no licence (scraped from joke websites for the PyDay BCN "
        "2018 / PyConES 2019 workshops). This checkpoint is a teaching demo; do not redistribute it as a "
        f"general-purpose model. The base model `{BASE}` was trained on public-domain and openly licensed "
        "Spanish text (see its metadata).",
        "",
        "## Training",
        "",
        f"- Runner: `python -m lm_demo.train` (Hugging Face `Trainer`), device {meta.get('device')}, "
        f"{meta.get('duration_s')} s.",
        f"- {meta.get('steps')} steps ({meta.get('epochs', 0):.2f} epochs), learning rate {hp.get('learning_rate')}, "
        f"batch {hp.get('batch_size')}, warmup {hp.get('warmup_steps')}, weight decay {hp.get('weight_decay')}, "
        f"early stopping patience {hp.get('early_stopping_patience')}; the best evaluation (step "
        f"{meta.get('best_step')}) is kept.",
        f"- Size: {size_mb:.1f} MB (fp32 safetensors, 5.3 M parameters, vocabulary 8000, context 256).",
        "",
        "## Held-out perplexity (`lm_demo.perplexity`, the tab's own computation)",
        "",
        f"On the {n_tokens} tokens of `eval_texts.jsonl` (jokes never seen in training):",
        "",
        "| model | perplexity |",
        "|---|---|",
        f"| `{BASE}` (before) | {before:.2f} |",
        f"| `{NAME}` (after) | {after:.2f} |",
        "",
        f"Trainer eval loss {meta.get('eval_loss', float('nan')):.4f} "
        f"(perplexity {meta.get('eval_perplexity', float('nan')):.2f}) on packed eval blocks.",
        "",
        "## Samples (seed 42, temperature 1, top-k 50, top-p 0.95, 40 new tokens)",
        "",
    ]
    for prompt, pair in samples.items():
        lines += [f"Prompt `{prompt}`:", "",
                  f"- before: {json.dumps(prompt + pair['before'], ensure_ascii=False)}",
                  f"- after: {json.dumps(prompt + pair['after'], ensure_ascii=False)}", ""]
    lines += ["Made by `scripts/make_demo_finetune.py`.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--eval-steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "checkpoints" / NAME)
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="lm_demo-demo-ft-") as tmp:
        built = train(Path(tmp), args)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.move(str(built), str(args.out))
    os.environ.pop("LM_DEMO_CHECKPOINTS", None)

    from lm_demo.compare import generate_samples
    from lm_demo.models import MODEL_CACHE, load_model
    from lm_demo.perplexity import token_losses
    from lm_demo.sampling import SamplingSettings

    MODEL_CACHE.evict(NAME)
    meta_path = args.out / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    texts = [json.loads(x)["text"] for x in (args.out / "eval_texts.jsonl").read_text(encoding="utf-8").splitlines()
             if x.strip()]
    base = load_model(BASE, allow_fallback=False)
    tuned = load_model(str(args.out.resolve()), allow_fallback=False, allow_any_path=True)
    lb, lt = token_losses(base, texts, max_tokens=None), token_losses(tuned, texts, max_tokens=None)
    settings = SamplingSettings(1.0, 50, 0.95)
    samples = {p: {"before": generate_samples(base, p, settings, 1, 40, 42).continuations[0],
                   "after": generate_samples(tuned, p, settings, 1, 40, 42).continuations[0]} for p in PROMPTS}
    meta.update({
        "name": NAME, "kind": "bundled-demo-finetune", "script": "scripts/make_demo_finetune.py",
        "heldout_perplexity": {"base": round(lb.perplexity, 2), "tuned": round(lt.perplexity, 2),
                               "tokens": lb.n_tokens, "method": "lm_demo.perplexity.token_losses"},
        "demo_samples": samples,
    })
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file()) / 2**20
    (args.out / "README.md").write_text(model_card(meta, lb.perplexity, lt.perplexity, lb.n_tokens, samples, size),
                                        encoding="utf-8")
    print(f"{NAME}: held-out perplexity {lb.perplexity:.2f} -> {lt.perplexity:.2f} on {lb.n_tokens} tokens; "
          f"{size:.1f} MB; {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
