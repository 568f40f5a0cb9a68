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
    HF_HUB_OFFLINE=1 python scripts/make_demo_finetune.py --card-only   # metadata + README from the weights

``--card-only`` trains nothing: it recomputes every number and sample of
``metadata.json`` from the shipped weights (``tests/test_model_cards.py``
does the same and compares) and writes the model card again.  Perplexities
follow the app's one convention (``lm_demo.perplexity``): the "Antes /
después" tab shows the same numbers on the saved split.
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
SAMPLE_SETTINGS = dict(temperature=1.0, top_k=50, top_p=0.95)
SAMPLE_SEED = 42
SAMPLE_TOKENS = 40
METHOD = "lm_demo.perplexity: each text on its own, first token context, exp(mean loss of the others)"


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


def eval_texts(folder: Path) -> list[str]:
    lines = (folder / "eval_texts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["text"] for x in lines if x.strip()]


def eval_blocks(folder: Path, tok, meta: dict) -> list[list[int]]:
    """The evaluation blocks training used: the saved split packed as ``lm_demo.packing`` packed it."""
    from lm_demo.packing import pack_ids

    hp, corpus = meta.get("hyperparameters", {}), meta.get("corpus", {})
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in eval_texts(folder)]
    blocks, _ = pack_ids(ids, int(corpus.get("block_size", hp.get("block_size", 128))), tok.eos_token_id)
    return blocks[: int(hp.get("max_eval_blocks", 64))]


def refresh_card(folder: Path) -> tuple[dict, str]:
    """(metadata, README text) of the fine-tune in ``folder``: numbers and samples recomputed from its weights."""
    from lm_demo.compare import generate_samples, held_out_losses
    from lm_demo.models import bundled_model_path, load_model
    from lm_demo.perplexity import DEFAULT_MAX_TOKENS
    from lm_demo.sampling import SamplingSettings
    from lm_demo.training.exact_eval import evaluate_blocks

    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    base = load_model(BASE, allow_fallback=False)
    shipped = folder.resolve() == (bundled_model_path().parent / NAME).resolve()
    tuned = load_model(NAME if shipped else str(folder.resolve()), allow_fallback=False, allow_any_path=True)
    texts = eval_texts(folder)
    # Exactly what "Antes / después" computes (and caches) on this split; the whole split must fit its cap.
    lb, lt = held_out_losses(base, texts, DEFAULT_MAX_TOKENS), held_out_losses(tuned, texts, DEFAULT_MAX_TOKENS)
    if lb.truncated_from or lt.truncated_from:
        raise SystemExit(f"the eval split has more than {DEFAULT_MAX_TOKENS} tokens: the tab would cut it")
    blocks = eval_blocks(folder, tuned.tokenizer, meta)
    ev = evaluate_blocks(tuned.model, blocks)
    settings = SamplingSettings(**SAMPLE_SETTINGS)
    samples = {p: {"before": generate_samples(base, p, settings, 1, SAMPLE_TOKENS, SAMPLE_SEED).continuations[0],
                   "after": generate_samples(tuned, p, settings, 1, SAMPLE_TOKENS, SAMPLE_SEED).continuations[0]}
               for p in PROMPTS}
    trainer = meta.get("trainer_evaluate") or {"eval_loss": meta.get("eval_loss"),
                                               "eval_perplexity": meta.get("eval_perplexity")}
    trainer["note"] = ("what transformers 5.23 Trainer.evaluate reported at the end of training (it divides the "
                       "summed loss by every label, the first token of each block included); the history's eval "
                       "events are in the same convention")
    meta.update({
        "name": NAME, "kind": "bundled-demo-finetune", "script": "scripts/make_demo_finetune.py",
        "eval_loss": ev["eval_loss"], "eval_perplexity": ev["eval_perplexity"],
        "eval_blocks": {"blocks": len(blocks), "tokens": int(ev["eval_tokens"]),
                        "method": "lm_demo.training.exact_eval.evaluate_blocks: each packed block on its own, first token "
                                  "context"},
        "trainer_evaluate": trainer,
        "heldout_perplexity": {"base": round(lb.perplexity, 2), "tuned": round(lt.perplexity, 2),
                               "texts": lb.n_texts, "tokens": lb.n_tokens, "method": METHOD},
        "demo_samples": samples,
        "demo_sample_settings": dict(SAMPLE_SETTINGS, seed=SAMPLE_SEED, max_new_tokens=SAMPLE_TOKENS,
                                     engine="lm_demo.compare.generate_samples"),
    })
    return meta, model_card(meta, weights_mb(folder))


def weights_mb(folder: Path) -> float:
    return (folder / "model.safetensors").stat().st_size / 2**20


def model_card(meta: dict, size_mb: float) -> str:
    """README.md of the demo fine-tune, from its ``metadata.json`` (and the weights' size)."""
    corpus = meta.get("corpus", {})
    hp = meta.get("hyperparameters", {})
    h, eb, tr = meta["heldout_perplexity"], meta["eval_blocks"], meta["trainer_evaluate"]
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
        "all of them are in `eval_texts.jsonl`).",
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
        "## Held-out perplexity",
        "",
        f"On the {h['texts']} jokes of `eval_texts.jsonl` (never seen in training), {h['tokens']:,} scored tokens, "
        "with the app's one convention (`lm_demo.perplexity`, what the \"Antes / después\" tab shows): each joke "
        "on its own, its first token only context, exp of the mean loss of the other tokens.",
        "",
        "| model | perplexity |",
        "|---|---|",
        f"| `{BASE}` (before) | {h['base']:.2f} |",
        f"| `{NAME}` (after) | {h['tuned']:.2f} |",
        "",
        f"Training's evaluation on its {eb['blocks']} packed {hp.get('block_size', 128)}-token eval blocks (each "
        f"block on its own, first token context; `lm_demo.training.exact_eval`): loss {meta['eval_loss']:.4f}, perplexity "
        f"{meta['eval_perplexity']:.2f}. The training history in `metadata.json` was logged by `Trainer.evaluate` "
        f"(transformers 5.23), which divides by every label of a block, the unpredicted first one included: it "
        f"reported loss {tr['eval_loss']:.4f} (perplexity {tr['eval_perplexity']:.2f}) for the same weights.",
        "",
        f"## Samples (seed {SAMPLE_SEED}, temperature 1, top-k 50, top-p 0.95, {SAMPLE_TOKENS} new tokens)",
        "",
        "Written by the app's own sampler (`lm_demo.compare.generate_samples`): \"Antes / después\" with these "
        "settings shows them as sample 1.",
        "",
    ]
    for prompt, pair in meta["demo_samples"].items():
        lines += [f"Prompt `{prompt}`:", "",
                  f"- before: {json.dumps(prompt + pair['before'], ensure_ascii=False)}",
                  f"- after: {json.dumps(prompt + pair['after'], ensure_ascii=False)}", ""]
    lines += ["Made by `scripts/make_demo_finetune.py` (`--card-only` rewrites this card from the weights).", ""]
    return "\n".join(lines)


def write_card(folder: Path) -> dict:
    meta, readme = refresh_card(folder)
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "README.md").write_text(readme, encoding="utf-8")
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--eval-steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", type=Path, default=REPO / "checkpoints" / NAME)
    ap.add_argument("--card-only", action="store_true", help="only recompute metadata.json and README.md")
    args = ap.parse_args()
    t0 = time.time()
    if not args.card_only:
        with tempfile.TemporaryDirectory(prefix="lm_demo-demo-ft-") as tmp:
            built = train(Path(tmp), args)
            if args.out.exists():
                shutil.rmtree(args.out)
            shutil.move(str(built), str(args.out))
        os.environ.pop("LM_DEMO_CHECKPOINTS", None)
        from lm_demo.models import MODEL_CACHE

        MODEL_CACHE.evict(NAME)
    meta = write_card(args.out)
    h = meta["heldout_perplexity"]
    print(f"{NAME}: held-out perplexity {h['base']:.2f} -> {h['tuned']:.2f} on {h['texts']} texts, {h['tokens']} "
          f"tokens; eval blocks {meta['eval_perplexity']:.2f}; {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
