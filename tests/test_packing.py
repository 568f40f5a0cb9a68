"""Packing: blocks without padding that keep eos labels; the seeds' padded recipe; the split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lm_demo.errors import UserError
from lm_demo.packing import IGNORE_INDEX, build_datasets, pack_ids, pad_ids, split_indices


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(1, 50), max_size=40), max_size=30), st.integers(2, 33))
def test_pack_ids_cuts_the_eos_joined_stream_into_full_blocks(texts, block):
    blocks, dropped = pack_ids(texts, block, eos_id=0)
    stream = [x for ids in texts for x in [*ids, 0]]
    assert all(len(b) == block for b in blocks)
    assert [x for b in blocks for x in b] == stream[:len(blocks) * block]
    assert dropped == len(stream) - len(blocks) * block < block


def test_pad_ids_masks_padding_and_every_eos_like_the_seeds():
    inputs, masks, labels = pad_ids([[5, 6, 0, 7], [8] * 10], 6, pad_id=0)
    assert inputs == [[5, 6, 0, 7, 0, 0], [8] * 6]
    assert masks == [[1, 1, 1, 1, 0, 0], [1] * 6]
    assert labels[0] == [5, 6, IGNORE_INDEX, 7, IGNORE_INDEX, IGNORE_INDEX]  # the eos in the text lost its label


def test_split_is_seeded_and_disjoint():
    a = split_indices(100, 0.1, seed=1)
    assert a == split_indices(100, 0.1, seed=1)
    assert a != split_indices(100, 0.1, seed=2)
    train, ev = a
    assert len(ev) == 10 and not set(train) & set(ev) and sorted(train + ev) == list(range(100))
    assert split_indices(3, 0.1, 0)[1] != [] and split_indices(1, 0.1, 0)[1] == []


@pytest.fixture(scope="module")
def jokes():
    """200 short texts (the bundled sayings, ~20 tokens each): the kind of corpus padding wastes most on."""
    from lm_demo.corpora import CorpusSpec, load_corpus

    return load_corpus(CorpusSpec(preset="refranes", max_rows=200)).texts


def test_packed_blocks_have_no_padding_and_keep_eos_labels(bundled, jokes):
    tok = bundled.tokenizer
    eos = tok.eos_token_id
    assert tok.pad_token_id == eos  # the situation that made the seeds mask every eos
    data = build_datasets(jokes, tok, block_size=64, recipe="packed", eval_fraction=0.1, seed=3)
    assert len(data.train) > 10 and len(data.eval) >= 1
    for ds in (data.train, data.eval):
        for row in ds:
            assert len(row["input_ids"]) == 64
            assert all(m == 1 for m in row["attention_mask"])
            assert row["labels"] == row["input_ids"] and IGNORE_INDEX not in row["labels"]
    n_eos = sum(row["labels"].count(eos) for row in data.train)
    assert n_eos >= len(data.train) * 64 // 100  # short texts: at least one eos per 100 tokens
    assert data.padding_fraction == 0.0
    assert len(data.eval_texts) == 20 and not set(data.eval_texts) & set(jokes[i] for i in split_indices(200, 0.1, 3)[0])


def test_padded_recipe_is_mostly_padding_and_never_learns_eos(bundled, jokes):
    tok = bundled.tokenizer
    data = build_datasets(jokes, tok, block_size=256, recipe="padded", seed=3)
    assert len(data.train) == 180
    assert data.padding_fraction > 0.6
    assert all(tok.eos_token_id not in row["labels"] for row in data.train)
    row = data.train[0]
    real = sum(row["attention_mask"])
    assert row["labels"][real:] == [IGNORE_INDEX] * (256 - real)


def test_token_ids_given_by_the_caller_are_used_as_they_are(bundled, jokes):
    from lm_demo.packing import tokenize_texts

    ids = tokenize_texts(jokes, bundled.tokenizer)
    given = build_datasets(jokes, bundled.tokenizer, block_size=64, seed=3, ids=ids)
    own = build_datasets(jokes, bundled.tokenizer, block_size=64, seed=3)
    assert given.train["input_ids"] == own.train["input_ids"] and given.eval_texts == own.eval_texts
    with pytest.raises(ValueError):
        build_datasets(jokes, bundled.tokenizer, ids=ids[:-1])


def test_few_long_texts_split_by_blocks(bundled):
    text = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, vivía un hidalgo. " * 20
    data = build_datasets([text], bundled.tokenizer, block_size=16, seed=0)
    assert data.split == "blocks" and len(data.eval) >= 1 and len(data.train) > len(data.eval)


def test_corpus_too_small(bundled):
    with pytest.raises(UserError) as e:
        build_datasets(["hola"], bundled.tokenizer, block_size=64)
    assert e.value.key == "train.err.corpus_too_small" and "bloque" in str(e.value)
    with pytest.raises(UserError):
        build_datasets([], bundled.tokenizer, block_size=64)
