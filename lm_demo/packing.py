"""Turn texts into training blocks: packed (our default) or padded (the seeds').

Why packing: the seeds padded every text to 256 or 512 tokens while a joke
has a median of ~44 tokens, so ~90 % of the compute went to padding; and
since pad == eos, ``DataCollatorForLanguageModeling`` masked the label of
every eos, so their models never learned to end a text.  Packing joins the
texts with eos after each one (``t1 <eos> t2 <eos> ...``) and cuts the stream
into blocks of exactly ``block_size`` tokens: no padding at all, and every
eos is a label.  The usual trade-off: attention can cross text boundaries
inside a block (the eos tells the model where one text ended).

The seeds' recipe (``recipe="padded"``) is kept, labelled as such, for the
comparison in class: each text is truncated / padded to ``block_size`` with
pad == eos, ``attention_mask`` 0 on the padding, and labels -100 wherever
the token equals the pad id (exactly what their collator did, eos included).

The train/eval split is done on texts (seeded, 90/10 by default) before
packing, so no eval text leaks into training; when one side would get no
block (a few long texts, or held-out lines too short to fill one) the blocks
are split instead, and a note says which.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from lm_demo.errors import UserError
from lm_demo.locales import t

IGNORE_INDEX = -100


def tokenize_texts(texts: Sequence[str], tokenizer: Any) -> list[list[int]]:
    """Token ids of each text (no special tokens), via ``datasets.map`` (batched)."""
    if not texts:
        return []
    from datasets import Dataset
    from transformers.utils import logging as hf_logging

    ds = Dataset.from_dict({"text": list(texts)})
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "sequence longer than the model max length": we cut blocks ourselves
    try:
        ds = ds.map(lambda b: {"input_ids": tokenizer(b["text"], add_special_tokens=False)["input_ids"]},
                    batched=True, batch_size=1000, remove_columns=["text"], keep_in_memory=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    return ds["input_ids"]


def pack_ids(ids_lists: Sequence[Sequence[int]], block_size: int, eos_id: int) -> tuple[list[list[int]], int]:
    """Blocks of exactly ``block_size`` from the texts joined with eos after each.

    Returns (blocks, tokens dropped at the end, fewer than one block).
    """
    if block_size < 2:
        raise ValueError("block_size must be >= 2")
    stream: list[int] = []
    for ids in ids_lists:
        stream.extend(ids)
        stream.append(eos_id)
    n = len(stream) // block_size
    return [stream[i * block_size:(i + 1) * block_size] for i in range(n)], len(stream) - n * block_size


def pad_ids(ids_lists: Sequence[Sequence[int]], length: int, pad_id: int
            ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """The seeds' recipe: truncate/pad each text to ``length``; labels -100 where id == pad.

    Returns (input_ids, attention_mask, labels).  With pad == eos, any eos in
    the text also loses its label: the bug this module's docstring describes.
    """
    inputs, masks, labels = [], [], []
    for ids in ids_lists:
        ids = list(ids[:length])
        n = len(ids)
        row = ids + [pad_id] * (length - n)
        inputs.append(row)
        masks.append([1] * n + [0] * (length - n))
        labels.append([x if x != pad_id else IGNORE_INDEX for x in row])
    return inputs, masks, labels


def split_indices(n: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Seeded shuffle of ``range(n)`` cut into (train, eval); eval gets >= 1 when n >= 2."""
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    n_eval = int(round(n * eval_fraction))
    if n >= 2:
        n_eval = min(max(n_eval, 1), n - 1)
    else:
        n_eval = 0
    return sorted(idx[n_eval:]), sorted(idx[:n_eval])


@dataclass
class PackedData:
    """Train/eval datasets plus what the stats panel and the metadata report."""

    train: Any  # datasets.Dataset with input_ids, attention_mask, labels
    eval: Any
    eval_texts: list[str]
    recipe: str
    block_size: int
    n_texts: int
    train_texts: int
    real_tokens: int  # text tokens (eos separators included when packed) in train
    positions: int  # tokens the model processes per epoch of train (incl. padding)
    dropped_tokens: int = 0
    split: str = "texts"  # "texts" | "blocks"
    notes: list[str] = field(default_factory=list)

    @property
    def padding_fraction(self) -> float:
        return 1.0 - self.real_tokens / self.positions if self.positions else 0.0

    def describe(self) -> dict:
        return {"recipe": self.recipe, "block_size": self.block_size, "n_texts": self.n_texts,
                "train_texts": self.train_texts, "eval_texts": len(self.eval_texts), "train_blocks": len(self.train),
                "eval_blocks": len(self.eval), "train_tokens": self.real_tokens, "positions": self.positions,
                "padding_fraction": round(self.padding_fraction, 4), "split": self.split}


def _dataset(inputs: list[list[int]], masks: list[list[int]] | None, labels: list[list[int]]) -> Any:
    from datasets import Dataset

    if masks is None:
        masks = [[1] * len(x) for x in inputs]
    return Dataset.from_dict({"input_ids": inputs, "attention_mask": masks, "labels": labels})


def build_datasets(texts: Sequence[str], tokenizer: Any, block_size: int = 128, recipe: str = "packed",
                   eval_fraction: float = 0.1, seed: int = 42, max_eval_blocks: int = 64,
                   ids: Sequence[Sequence[int]] | None = None) -> PackedData:
    """Tokenize, split (seeded) and pack or pad ``texts`` into train/eval datasets.

    ``ids``: the texts' token ids when the caller has them already (the
    runner counts tokens before choosing the block size).
    """
    if recipe not in ("packed", "padded"):
        raise UserError("train.err.bad_recipe", recipe=recipe)
    texts = list(texts)
    if not texts:
        raise UserError("train.err.corpus_too_small", tokens=0, block=block_size)
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    ids = list(ids) if ids is not None else tokenize_texts(texts, tokenizer)
    if len(ids) != len(texts):
        raise ValueError("ids must hold one list per text")
    notes: list[str] = []
    tr_idx, ev_idx = split_indices(len(texts), eval_fraction, seed)
    split = "texts"
    if recipe == "padded":
        tr_in, tr_mask, tr_lab = pad_ids([ids[i] for i in tr_idx], block_size, pad)
        ev_in, ev_mask, ev_lab = pad_ids([ids[i] for i in ev_idx], block_size, pad)
        if not tr_in or not ev_in:
            raise UserError("train.err.corpus_too_small", tokens=sum(map(len, ids)), block=block_size)
        real = sum(sum(m) for m in tr_mask)
        positions = len(tr_in) * block_size
        dropped = sum(max(0, len(ids[i]) - block_size) for i in tr_idx)
        if dropped:
            notes.append(t("train.note.truncated", n=dropped))
        eval_texts = [texts[i] for i in ev_idx]
        if len(ev_in) > max_eval_blocks:
            ev_in, ev_mask, ev_lab = ev_in[:max_eval_blocks], ev_mask[:max_eval_blocks], ev_lab[:max_eval_blocks]
        train_ds, eval_ds = _dataset(tr_in, tr_mask, tr_lab), _dataset(ev_in, ev_mask, ev_lab)
        n_train_texts = len(tr_idx)
    else:
        tr_blocks, dropped = pack_ids([ids[i] for i in tr_idx], block_size, eos)
        ev_blocks, _ = pack_ids([ids[i] for i in ev_idx], block_size, eos)
        eval_texts = [texts[i] for i in ev_idx]
        n_train_texts = len(tr_idx)
        if not tr_blocks or not ev_blocks:  # a few long texts: split blocks instead
            blocks, dropped = pack_ids(ids, block_size, eos)
            if len(blocks) < 2:
                raise UserError("train.err.corpus_too_small", tokens=sum(map(len, ids)) + len(ids),
                                block=block_size)
            b_tr, b_ev = split_indices(len(blocks), eval_fraction, seed)
            tr_blocks, ev_blocks = [blocks[i] for i in b_tr], [blocks[i] for i in b_ev]
            eval_texts = [tokenizer.decode(b, skip_special_tokens=True) for b in ev_blocks]
            n_train_texts = len(texts)
            split = "blocks"
            ev_tokens = sum(len(ids[i]) + 1 for i in ev_idx)  # with the eos after each
            notes.append(t("train.note.block_split_eval", texts=len(ev_idx), tokens=ev_tokens, block=block_size)
                         if ev_idx and ev_tokens < block_size else t("train.note.block_split", block=block_size))
        if len(ev_blocks) > max_eval_blocks:
            ev_blocks = ev_blocks[:max_eval_blocks]
        real = positions = len(tr_blocks) * block_size
        train_ds = _dataset(tr_blocks, None, [list(b) for b in tr_blocks])
        eval_ds = _dataset(ev_blocks, None, [list(b) for b in ev_blocks])
    return PackedData(train=train_ds, eval=eval_ds, eval_texts=eval_texts, recipe=recipe, block_size=block_size,
                      n_texts=len(texts), train_texts=n_train_texts, real_tokens=real, positions=positions,
                      dropped_tokens=dropped, split=split, notes=notes)


__all__ = ["tokenize_texts", "pack_ids", "pad_ids", "split_indices", "build_datasets", "PackedData",
           "IGNORE_INDEX"]
