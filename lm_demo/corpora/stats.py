"""What the stats panel shows about a corpus: rows before/after cleaning, words and tokens per text."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from lm_demo.corpora.spec import Corpus
from lm_demo.locales import t


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


def describe_corpus(spec: Any, tokenizer: Any = None) -> tuple[Corpus, CorpusStats]:
    """The corpus ``spec`` names (its texts left out) and its stats, prepared in the one slot.

    (``prepare.prepared``: one preparation at a time; the texts and tokens are
    freed, and the memory given back, before this returns.)
    """
    from dataclasses import replace

    from lm_demo.corpora import load_corpus
    from lm_demo.corpora.prepare import prepared

    def work() -> tuple[Corpus, CorpusStats]:
        corpus = load_corpus(spec)
        return replace(corpus, texts=[]), corpus_stats(corpus, tokenizer)

    return prepared(work)


__all__ = ["CorpusStats", "corpus_stats", "describe_corpus"]
