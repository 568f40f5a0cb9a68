"""What reading one corpus file may produce: the limits, the messages, and the budget a read spends.

Why: a public Space takes files from anyone, and a file's size says little
about what it becomes in memory.  Measured on the app before these limits:
a 12 KB Parquet file of 1,000,000 repeated rows took 75 s and 4.5 GB, a
49 MB ``.txt`` 58 s and 3.6 GB, a 10 MB single-line CSV 1.1 GB (the
tokenizer costs ~70 bytes per character of text, not per byte of file).
So every read through ``lm_demo.corpora.files`` (the only way a corpus file
is read) is bounded by ``CorpusLimits``: the file on disk (and what a
``.gz`` may decompress to), the text read, the rows, one text.  The app,
the stats panel, the quick comparison and the CLI share them
(``corpus_limits``); ``LM_DEMO_MAX_CORPUS_MB`` / ``LM_DEMO_MAX_CORPUS_ROWS``
raise them (the CLI sets them from ``--max-corpus-mb`` / ``--max-corpus-rows``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lm_demo import env
from lm_demo.errors import UserError

MB = 2**20
MAX_UPLOAD_BYTES = 50 * MB
MAX_TEXT_BYTES = 10 * MB  # ~5 Quijotes; an automatic CPU run trains on ~0.2 M tokens of it
MAX_ROWS = 100_000
MAX_FIELD_BYTES = 1 * MB
MAX_COLUMNS = 1_000


@dataclass(frozen=True)
class CorpusLimits:
    """What reading one corpus file may produce (see the module docstring).

    Lengths are counted in characters of the decoded text (bytes for Parquet):
    for Spanish text the two differ by a few percent.
    """

    file_bytes: int = MAX_UPLOAD_BYTES
    text_bytes: int = MAX_TEXT_BYTES
    rows: int = MAX_ROWS
    field_bytes: int = MAX_FIELD_BYTES


def corpus_limits() -> CorpusLimits:
    """The limits in force: the defaults, or larger ones from ``LM_DEMO_MAX_CORPUS_MB`` / ``_ROWS``.

    A larger text limit raises the file limit with it (a CLI user pointing at a
    200 MB local file); the one-text limit stays (one text is never a book).
    """
    mb, rows = env.max_corpus_mb(), env.max_corpus_rows()
    text = int(mb * MB) if mb else MAX_TEXT_BYTES
    return CorpusLimits(file_bytes=max(MAX_UPLOAD_BYTES, text), text_bytes=text,
                        rows=int(rows) if rows else MAX_ROWS)


def size_text(n: int) -> str:
    """``10 MB``, ``1.5 MB``, ``20 KB``: a limit as the messages show it."""
    if n >= MB:
        return f"{n / MB:.0f} MB" if n >= 10 * MB or n % MB == 0 else f"{n / MB:.1f} MB"
    return f"{n // 1024} KB" if n >= 1024 else f"{n} bytes"


def too_many_rows(name: str, limits: CorpusLimits) -> UserError:
    return UserError("train.corpus.too_many_rows", name=name, max=limits.rows)


def too_much_text(name: str, limits: CorpusLimits) -> UserError:
    return UserError("train.corpus.too_much_text", name=name, size=size_text(limits.text_bytes))


def text_too_long(name: str, limits: CorpusLimits) -> UserError:
    return UserError("train.corpus.text_too_long", name=name, size=size_text(limits.field_bytes))


def json_too_big(name: str, limits: CorpusLimits) -> UserError:
    return UserError("train.corpus.json_too_big", name=name, size=size_text(limits.text_bytes))


class Budget:
    """What one read of ``name`` may still take; ``stop_at`` texts of column ``count`` end it quietly.

    ``take(frame)`` is called with every chunk read (only the needed columns):
    it cuts the chunk at ``stop_at`` non-empty texts, then refuses the read
    when a text, the rows or all the text so far go over ``limits``.
    ``precheck(lengths)`` does the same for one text column's lengths before
    its strings are made (Parquet).
    """

    def __init__(self, name: str, limits: CorpusLimits, stop_at: int = 0, count: str | None = None,
                 quiet: bool = False) -> None:
        self.name, self.limits, self.stop_at, self.count, self.quiet = name, limits, max(0, stop_at), count, quiet
        self.rows = 0
        self.text = 0
        self.found = 0  # non-empty texts of ``count`` so far
        self.done = False

    def precheck(self, lengths: Any) -> None:
        """``lengths``: a numeric array (one text column of one batch), before the strings exist."""
        if len(lengths) and int(lengths.max()) > self.limits.field_bytes:
            raise text_too_long(self.name, self.limits)
        if int(lengths.sum()) > self.limits.text_bytes:
            raise too_much_text(self.name, self.limits)

    def take(self, frame: Any) -> Any:
        """``frame`` cut where the read should stop (``self.done`` then), checked against the limits."""
        if self.stop_at:
            import numpy as np

            need = self.stop_at - self.found
            if self.count is not None and self.count in frame.columns:
                hits = frame[self.count].map(is_text).to_numpy().cumsum()
            else:
                hits = np.arange(1, len(frame) + 1)
            if len(hits) and hits[-1] >= need:
                frame = frame.iloc[:int((hits >= need).argmax()) + 1]
                self.done = True
            self.found += int(hits[len(frame) - 1]) if len(frame) else 0
        self.rows += len(frame)
        for c in frame.columns:
            lengths = frame[c].map(lambda v: len(v) if isinstance(v, str) else 0)
            if len(lengths) and int(lengths.max()) > self.limits.field_bytes:
                raise text_too_long(self.name, self.limits)
            self.text += int(lengths.sum())
        if self.quiet:  # a sample: stop, never refuse, at a limit
            self.done = self.done or self.rows >= self.limits.rows or self.text >= self.limits.text_bytes
        elif self.rows > self.limits.rows:
            raise too_many_rows(self.name, self.limits)
        elif self.text > self.limits.text_bytes:
            raise too_much_text(self.name, self.limits)
        return frame


def is_text(value: Any) -> bool:
    """Whether ``value`` becomes a text once cleaned (``spec.clean_texts``): not null, not blank."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value == value  # NaN != NaN


__all__ = ["CorpusLimits", "Budget", "corpus_limits", "size_text", "too_many_rows", "too_much_text", "text_too_long",
           "json_too_big", "is_text", "MB", "MAX_UPLOAD_BYTES", "MAX_TEXT_BYTES", "MAX_ROWS", "MAX_FIELD_BYTES",
           "MAX_COLUMNS"]
