"""Corpus files: uploads (``.txt`` ``.csv`` ``.tsv`` ``.jsonl`` ``.json`` ``.parquet``) and the bundled ``.gz`` copies.

Every corpus file is read through this module (its bytes through ``streams``,
which ``tables`` shares), within ``limits.CorpusLimits``
(why: see ``lm_demo.corpora.limits``), checked before anything is
materialised:

- the file's size with ``os.stat`` before a byte is read (``streams.check_file``;
  ``precheck`` adds what a ``.txt``'s size or a Parquet file's metadata
  already show, for an immediate answer when a job is asked for);
- ``.txt`` and plain JSON: at most ``text_bytes + 1`` bytes are read; a
  ``.gz`` stream stops at the file limit once decompressed (``open_corpus``);
- tables (``read_table``): the needed columns only, in chunks, each spent
  from a ``Budget`` (``lm_demo.corpora.tables``: Parquet metadata first, then
  batches whose lengths are summed before their strings exist).

A read stops quietly at the caller's ``max_rows`` (the tab's "Máximo de
textos"), so a large file can still be used in part; without it, a file over
a limit is refused with a message that says which limit and what to do.
Binary, non-UTF-8, empty or column-less files get a clear Spanish message.

``.txt``: one text per line, or per blank-line separated block.  Tables: the
text column is the one asked for (case-insensitive) or a good guess from the
first rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

from lm_demo.corpora.limits import (
    MAX_COLUMNS,
    MAX_FIELD_BYTES,
    MAX_ROWS,
    MAX_TEXT_BYTES,
    MAX_UPLOAD_BYTES,
    MB,
    Budget,
    CorpusLimits,
    corpus_limits,
    is_text,
    json_too_big,
    size_text,
    text_too_long,
    too_many_rows,
    too_much_text,
)
from lm_demo.corpora.spec import Corpus, clean_texts, limit_rows, slug
from lm_demo.corpora.streams import (
    TEXT_SUFFIXES,
    check_file,
    data_suffix,
    decode,
    first_bad_utf8,
    is_gzip,
    open_corpus,
    read_corpus_bytes,
    read_text,
)
from lm_demo.errors import UserError
from lm_demo.locales import t

SAMPLE_ROWS = 200  # rows read to guess the text column
TEXT_COLUMN_GUESSES = ("text", "texto", "content", "contenido", "product_description", "body", "sentence",
                       "oracion", "poema", "poem", "chiste", "joke")
TXT_MODES = ("lines", "blocks")


def precheck(path: str | Path, max_rows: int = 0, limits: CorpusLimits | None = None) -> None:
    """Refuse at once what the file's size or metadata already show is over the limits (no text is read).

    For a request that starts a job: the job reads (and checks) everything
    again; this turns the plain cases into an immediate message.
    """
    p = Path(path)
    limits = limits or corpus_limits()
    check_file(p, limits)
    suffix, size = data_suffix(p), p.stat().st_size
    if is_gzip(p):
        return
    if suffix == ".txt" and not max_rows and size > limits.text_bytes:
        raise too_much_text(p.name, limits)
    if suffix == ".json" and size > limits.text_bytes:
        raise json_too_big(p.name, limits)
    if suffix == ".parquet" and not max_rows:
        from lm_demo.corpora.tables import parquet_rows

        if parquet_rows(p) > limits.rows:
            raise too_many_rows(p.name, limits)


# --------------------------------------------------------------------------- tables
def read_table(path: Path, columns: Sequence[str] | None = None, max_rows: int = 0, count: str | None = None,
               limits: CorpusLimits | None = None, sample: bool = False) -> Any:
    """A pandas DataFrame of ``columns`` (all when None) of a .csv/.tsv/.jsonl/.json/.parquet file (``.gz`` allowed).

    Reading stops at ``max_rows`` non-empty values of column ``count`` (rows
    when None); a read that would pass ``limits`` is refused.  ``sample``: the
    first ``SAMPLE_ROWS`` rows at most, never refused for size.
    """
    import pandas as pd

    from lm_demo.corpora import tables

    limits = limits or corpus_limits()
    if sample:
        budget = Budget(path.name, limits, stop_at=max_rows or SAMPLE_ROWS, quiet=True)
    else:
        budget = Budget(path.name, limits, stop_at=max_rows, count=count)
    frames = []
    for chunk in tables.chunks(path, columns, budget):
        frames.append(budget.take(chunk))
        if budget.done:
            break
    if not frames:
        return pd.DataFrame(columns=list(columns or []))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UserError("train.corpus.no_column", name=path.name, column=missing[0],
                            columns=", ".join(map(str, frame.columns)) or "—")
    return frame


_LETTER = re.compile(r"[^\W\d_]")


def text_columns(df: Any) -> list[str]:
    """Columns that hold text: most non-null cells are strings with a letter.

    (CSV is read as strings, so "1", "2.5" must not count as text.)
    """
    cols = []
    for c in df.columns:
        s = df[c].dropna()
        if len(s) and s.map(lambda v: isinstance(v, str) and bool(_LETTER.search(v))).mean() > 0.5:
            cols.append(str(c))
    return cols


def pick_text_column(df: Any, wanted: str | None, name: str) -> str:
    """The column to train on: ``wanted`` (case-insensitive), else a good guess."""
    cols = [str(c) for c in df.columns]
    if wanted and wanted.strip():
        for c in cols:
            if c.lower() == wanted.strip().lower():
                return c
        raise UserError("train.corpus.no_column", name=name, column=wanted, columns=", ".join(cols) or "—")
    texty = text_columns(df)
    for guess in TEXT_COLUMN_GUESSES:
        for c in texty:
            if c.lower() == guess:
                return c
    if len(texty) == 1:
        return texty[0]
    if not texty:
        raise UserError("train.corpus.no_text_column", name=name, columns=", ".join(cols) or "—")
    # several text columns: the one with the longest texts
    return max(texty, key=lambda c: df[c].dropna().astype(str).str.len().mean())


def file_columns(path: str | Path) -> list[str]:
    """Text columns of a table file, for the column picker ([] for .txt), from its first rows."""
    p = Path(path)
    check_file(p)
    if data_suffix(p) == ".txt":
        return []
    df = read_table(p, sample=True)
    return text_columns(df) or [str(c) for c in df.columns]


# --------------------------------------------------------------------------- texts
def split_txt(text: str, mode: str) -> list[str]:
    """One text per line, or per blank-line separated block."""
    if mode not in TXT_MODES:
        raise UserError("train.corpus.bad_txt_mode", mode=mode)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if mode == "blocks":
        return re.split(r"\n[ \t]*\n", text)
    return text.split("\n")


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _end_of_lines(data: bytes, n: int) -> int | None:
    """The offset just after the ``n``-th non-blank line of ``data`` (None when it has fewer)."""
    pos = found = 0
    while found < n:
        end = data.find(b"\n", pos)
        if end < 0:
            return None
        found += bool(data[pos:end].strip())
        pos = end + 1
    return pos if pos < len(data) else None


def _txt_texts(p: Path, mode: str, max_rows: int, limits: CorpusLimits) -> tuple[list[str], bool]:
    """(texts of a .txt, whether it was read whole); only what ``limits`` allow.

    A file over ``text_bytes`` is used in part only when ``max_rows`` says
    how many texts are wanted (and the part holds them).
    """
    if mode not in TXT_MODES:
        raise UserError("train.corpus.bad_txt_mode", mode=mode)
    data, whole = read_corpus_bytes(p, limits=limits)
    if not whole:
        if not max_rows:
            raise too_much_text(p.name, limits)
        data = data[:data.rfind(b"\n") + 1]  # the last text may be cut: leave it out
    if max_rows and mode == "lines":  # only the lines asked for are split (an upload's first line: one)
        cut = _end_of_lines(data, max_rows)
        if cut is not None:
            data, whole = data[:cut], False
    if not max_rows or max_rows > limits.rows:  # count before splitting: a million one-letter lines stop here
        n = data.count(b"\n") + 1 if mode == "lines" else sum(1 for _ in _BLANK_LINE.finditer(
            data.decode("utf-8", "replace"))) + 1
        if n > limits.rows:
            raise too_many_rows(p.name, limits)
    raw = split_txt(decode(data, p.name), mode)
    if raw and max(map(len, raw)) > limits.field_bytes:
        raise text_too_long(p.name, limits)
    return raw, whole


def load_file(path: str | Path, text_column: str | None = None, txt_mode: str = "lines",
              max_rows: int = 0, limits: CorpusLimits | None = None) -> Corpus:
    """A corpus from a local/uploaded file (see the module docstring); ``origin`` is its file name."""
    p = Path(path)
    limits = limits or corpus_limits()
    check_file(p, limits)
    notes: list[str] = []
    if data_suffix(p) == ".txt":
        raw, whole = _txt_texts(p, txt_mode, max_rows, limits)
        col = None
    else:
        sample = read_table(p, limits=limits, sample=True)
        if len(sample) == 0:
            raise UserError("train.corpus.empty_file", name=p.name)
        col = pick_text_column(sample, text_column, p.name)
        del sample
        df = read_table(p, [col], max_rows=max_rows, count=col, limits=limits)
        raw, whole = df[col].tolist(), True
        del df
    texts, dropped = clean_texts(raw)
    if not texts:
        raise UserError("train.corpus.no_texts", name=p.name)
    if col is None and whole:
        texts = limit_rows(texts, max_rows, notes)
    elif max_rows and len(texts) >= max_rows:  # a table read up to max_rows texts, or a .txt in part
        texts = texts[:max_rows]
        notes.append(t("train.note.max_rows_read", n=max_rows))
    elif not whole:
        raise too_much_text(p.name, limits)  # the part that fits holds fewer texts than asked for
    return Corpus(key=slug(p.stem), label=p.name, texts=texts, source="file", origin=p.name, text_column=col,
                  rows_before=len(raw), rows_after=len(texts), dropped_empty=dropped, notes=notes)


__all__ = ["MAX_UPLOAD_BYTES", "MAX_TEXT_BYTES", "MAX_ROWS", "MAX_FIELD_BYTES", "MAX_COLUMNS", "MB", "TEXT_SUFFIXES",
           "TXT_MODES", "CorpusLimits", "Budget", "corpus_limits", "precheck", "size_text", "too_many_rows",
           "too_much_text", "text_too_long", "json_too_big", "read_corpus_bytes", "read_text", "read_table", "open_corpus",
           "text_columns", "pick_text_column", "file_columns", "split_txt", "load_file", "check_file",
           "data_suffix", "decode", "first_bad_utf8", "is_text"]
