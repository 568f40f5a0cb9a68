"""What the stats panel shows about a corpus: rows before/after cleaning, words and tokens per text."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from lm_demo import env
from lm_demo.corpora.spec import Corpus
from lm_demo.locales import t
from lm_demo.model_memo import PerModelLRU


@dataclass
class CorpusStats:
    rows_before: int
    rows_after: int
    n_words: int
    median_words: float
    mean_words: float
    n_tokens: int | None
    median_tokens: float | None
    word_lengths: list[int]
    token_lengths: list[int] | None

    def table(self, lang: str | None = None) -> list[list[Any]]:
        """Rows (name, value) for a two-column table."""
        rows = [
            [t("train.stats.rows_before", lang), self.rows_before],
            [t("train.stats.rows_after", lang), self.rows_after],
            [t("train.stats.median_words", lang), round(self.median_words, 1)],
            [t("train.stats.words", lang), self.n_words],
        ]
        if self.n_tokens is not None:
            rows += [[t("train.stats.tokens", lang), self.n_tokens],
                     [t("train.stats.median_tokens", lang), round(self.median_tokens or 0, 1)]]
        return rows


TOKENIZE_BATCH = 1000


def corpus_stats(corpus: Corpus, tokenizer: Any = None) -> CorpusStats:
    """Rows before/after cleaning, words per text, token count (with a tokenizer).

    Tokenized in batches keeping only the lengths: the token lists of a whole
    corpus at once cost ~70 bytes per character of text (measured).
    """
    words = [len(x.split()) for x in corpus.texts]
    tok_lens = None
    if tokenizer is not None and corpus.texts:
        tok_lens = []
        for i in range(0, len(corpus.texts), TOKENIZE_BATCH):
            enc = tokenizer(corpus.texts[i:i + TOKENIZE_BATCH], add_special_tokens=False)["input_ids"]
            tok_lens.extend(len(ids) for ids in enc)
    return CorpusStats(
        rows_before=corpus.rows_before, rows_after=corpus.rows_after, n_words=sum(words),
        median_words=float(statistics.median(words)) if words else 0.0,
        mean_words=float(statistics.fmean(words)) if words else 0.0,
        n_tokens=sum(tok_lens) if tok_lens is not None else None,
        median_tokens=float(statistics.median(tok_lens)) if tok_lens else None,
        word_lengths=words, token_lengths=tok_lens,
    )


#: The stats of a preset per tokenizer (dropped with its model): a class opening the panel for the same preset
#: asks the same question 30 times, each a whole-corpus tokenization (~0.8 s for «Poesía») in the one slot.
_PRESET_STATS: PerModelLRU[tuple[Corpus, CorpusStats]] = PerModelLRU(size=8)


def describe_corpus(spec: Any, tokenizer: Any = None) -> tuple[Corpus, CorpusStats]:
    """The corpus ``spec`` names (its texts left out) and its stats, prepared in the one slot.

    (``prepare.prepared``: one preparation at a time; the texts and tokens are
    freed, and the memory given back, before this returns.)  A preset's
    result is kept per tokenizer, language, limits and data folder (an
    upload is never kept: the same name may be another file).  The result is
    shared: don't modify it.
    """
    from dataclasses import astuple, replace

    from lm_demo.corpora import load_corpus
    from lm_demo.corpora.limits import corpus_limits
    from lm_demo.corpora.prepare import prepared
    from lm_demo.locales import current_lang

    def work() -> tuple[Corpus, CorpusStats]:
        corpus = load_corpus(spec)
        return replace(corpus, texts=[]), corpus_stats(corpus, tokenizer)

    def compute() -> tuple[Corpus, CorpusStats]:
        return prepared(work)

    if tokenizer is None or spec.path:
        return compute()
    key = (astuple(spec), current_lang(), corpus_limits(), env.data_dir())
    try:
        hash(key)
    except TypeError:  # a spec built by hand with a list inside (a notebook): answered, not kept
        return compute()
    return _PRESET_STATS.get_or_compute(tokenizer, key, compute)


__all__ = ["CorpusStats", "corpus_stats", "describe_corpus"]
