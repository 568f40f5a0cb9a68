"""Train the small Spanish GPT-2 that ships in ``checkpoints/gpt2-es-tiny``.

Why this exists: the Hugging Face hub is not reachable in classrooms without
internet, in CI or on this project's machines, so the app needs a model it can
always load.  This script makes that model from the public-domain / openly
licensed corpora in ``../shared/data`` (Don Quijote, the DISCO sonnets and the
Debian ``fortunes-es`` collection), on the CPU, in well under an hour.

Recipe: a byte-level BPE tokenizer (vocab 8000, ``<|endoftext|>`` as
bos/eos/unk/pad like ``datificate/gpt2-small-spanish``), a 4-layer GPT-2
(256 wide, 256 positions), texts joined with eos and packed into 256-token
blocks (no padding, eos is learned), AdamW with a cosine schedule.

Usage::

    python scripts/train_bundled_model.py --out checkpoints/gpt2-es-tiny

``--init-from DIR`` continues from a saved model and tokenizer (the data
split is the same, being seeded) with a fresh optimizer and schedule: how the
shipped model was finished when a shared machine made the first run slow
(see its model card for the exact commands).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

EOS = "<|endoftext|>"
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def unwrap(block: str) -> str:
    """Join hard-wrapped lines of a prose paragraph into one line."""
    return re.sub(r"\s*\n\s*", " ", block.strip())


def quijote_paragraphs(data: Path) -> list[str]:
    text = (data / "quijote" / "quijote.txt").read_text(encoding="utf-8")
    paras = [unwrap(p) for p in re.split(r"\n\s*\n", text)]
    # Chapter headings and front matter are short; keep real paragraphs.
    return [p for p in paras if len(p.split()) >= 8]


def sonnets(data: Path) -> list[str]:
    with open(data / "poesia_disco" / "sonetos_disco.csv", encoding="utf-8", newline="") as f:
        return [row["content"].strip() for row in csv.DictReader(f) if row["content"].strip()]


def fortunes(data: Path) -> list[str]:
    out = []
    with open(data / "fortunes_es" / "fortunes_es.jsonl", encoding="utf-8") as f:
        for line in f:
            text = json.loads(line)["text"]
            # Drop the tab-indented attribution lines ("\t\t-- Publio Siro.").
            body = "\n".join(ln for ln in text.split("\n") if not ln.startswith("\t"))
            body = unwrap(body)
            if len(body.split()) >= 3:
                out.append(body)
    return out


def heldout_sentences(data: Path) -> list[str]:
    """Out-of-domain modern Spanish (UD Spanish-GSD) for an honest perplexity."""
    with open(data / "prosa" / "ud_spanish_gsd_dev_test_oraciones.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f]


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS])
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS)
    tok.pad_token = tok.eos_token
    return tok


def pack(ids_per_text: list[list[int]], eos_id: int, block: int) -> torch.Tensor:
    flat: list[int] = []
    for ids in ids_per_text:
        flat.extend(ids)
        flat.append(eos_id)
    n = len(flat) // block
    return torch.tensor(flat[: n * block], dtype=torch.long).view(n, block)


@torch.no_grad()
def perplexity(model, blocks: torch.Tensor, batch: int = 16) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(blocks), batch):
        x = blocks[i : i + batch]
        out = model(input_ids=x, labels=x)
        n = x.numel() - x.shape[0]
        total += out.loss.item() * n
        count += n
    model.train()
    return math.exp(total / count)


@torch.no_grad()
def sample(model, tok, prompt: str, greedy: bool, seed: int = 0, n: int = 40) -> str:
    torch.manual_seed(seed)
    ids = tok(prompt, return_tensors="pt").input_ids
    out = model.generate(
        ids,
        max_new_tokens=n,
        do_sample=not greedy,
        top_k=50 if not greedy else None,
        top_p=0.95 if not greedy else None,
        temperature=0.9 if not greedy else None,
        repetition_penalty=1.2 if greedy else None,
        pad_token_id=tok.eos_token_id,
    )
    return tok.decode(out[0], skip_special_tokens=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=Path("checkpoints/gpt2-es-tiny"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/gpt2-es-tiny-work"))
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--block", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1800)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--init-from", type=Path, default=None, help="continue from this model folder")
    ap.add_argument("--steps-before", type=int, default=0, help="steps already done by --init-from (for the record)")
    args = ap.parse_args()

    from transformers import GPT2Config, GPT2LMHeadModel, get_cosine_schedule_with_warmup

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    t0 = time.time()
    sources = {"quijote": quijote_paragraphs(args.data), "sonetos": sonnets(args.data), "fortunes": fortunes(args.data)}
    texts = [t for name in sources for t in sources[name]]
    random.shuffle(texts)
    n_eval = len(texts) // 50
    eval_texts, train_texts = texts[:n_eval], texts[n_eval:]
    print({k: len(v) for k, v in sources.items()}, "train", len(train_texts), "eval", n_eval, flush=True)

    if args.init_from:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(args.init_from)
    else:
        tok = train_tokenizer(train_texts, args.vocab)
    enc = lambda ts: tok(ts, add_special_tokens=False)["input_ids"]  # noqa: E731
    train_blocks = pack(enc(train_texts), tok.eos_token_id, args.block)
    eval_blocks = pack(enc(eval_texts), tok.eos_token_id, args.block)
    ud_blocks = pack(enc(heldout_sentences(args.data)), tok.eos_token_id, args.block)
    print("train tokens", train_blocks.numel(), "eval tokens", eval_blocks.numel(), flush=True)

    config = GPT2Config(
        vocab_size=len(tok), n_positions=args.block, n_embd=256, n_layer=4, n_head=4,
        bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.eos_token_id,
    )
    model = GPT2LMHeadModel.from_pretrained(args.init_from) if args.init_from else GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    print("parameters", n_params, flush=True)

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1, betas=(0.9, 0.95))
    sched = get_cosine_schedule_with_warmup(opt, args.warmup, args.steps)
    history = []
    g = torch.Generator().manual_seed(args.seed)
    model.train()
    tstart = time.time()
    for step in range(1, args.steps + 1):
        idx = torch.randint(len(train_blocks), (args.batch,), generator=g)
        x = train_blocks[idx]
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if step % 50 == 0:
            el = time.time() - tstart
            print(f"step {step} loss {loss.item():.3f} tok/s {step * x.numel() / el:.0f} elapsed {el:.0f}s", flush=True)
        if step % 300 == 0 or step == args.steps:
            ppl = perplexity(model, eval_blocks)
            history.append({"step": args.steps_before + step, "train_loss": round(loss.item(), 4), "eval_perplexity": round(ppl, 2)})
            print("eval", history[-1], flush=True)
            model.save_pretrained(args.work)
            tok.save_pretrained(args.work)

    model.eval()
    eval_ppl = perplexity(model, eval_blocks)
    ud_ppl = perplexity(model, ud_blocks)
    samples = {
        "greedy": sample(model, tok, "Había una vez", greedy=True),
        "sampled_seed0": sample(model, tok, "Había una vez", greedy=False, seed=0),
        "sampled_seed1": sample(model, tok, "En el silencio de la noche", greedy=False, seed=1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tok.save_pretrained(args.out)
    meta = {
        "name": args.out.name,
        "base_model": None,
        "kind": "bundled",
        "corpus": {k: len(v) for k, v in sources.items()},
        "train_tokens": train_blocks.numel(),
        "parameters": n_params,
        "hyperparameters": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                            if k not in ("data", "out", "work")},
        "total_steps": args.steps_before + args.steps,
        "history": history,
        "eval_perplexity": round(eval_ppl, 2),
        "ud_gsd_perplexity": round(ud_ppl, 2),
        "samples": samples,
        "device": "cpu",
        "duration_s": round(time.time() - t0),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "script": "scripts/train_bundled_model.py",
    }
    (args.out / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(meta, ensure_ascii=False, indent=2), flush=True)


if __name__ == "__main__":
    main()
