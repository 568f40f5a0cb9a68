"""Corpus files: uploads (``.txt`` ``.csv`` ``.tsv`` ``.jsonl`` ``.json`` ``.parquet``) and the bundled ``.gz`` copies.

Every byte of a corpus file is read through ``read_corpus_bytes``: the one
place for limits (today: uploads of at most ``MAX_UPLOAD_BYTES``, bundled
files decompressed up to ``MAX_DECOMPRESSED_BYTES``).  Binary, non-UTF-8,
empty or column-less files get a clear Spanish message.

``.txt``: one text per line, or per blank-line separated block.  Tables: the
text column is the one asked for (case-insensitive) or a good guess.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path
from typing import Any

from lm_demo.corpora.spec import Corpus, clean_texts, limit_rows, slug
from lm_demo.errors import UserError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".json", ".parquet")
TEXT_COLUMN_GUESSES = ("text", "texto", "content", "contenido", "product_description", "body", "sentence",
                       "oracion", "poema", "poem", "chiste", "joke")
TXT_MODES = ("lines", "blocks")


def data_suffix(path: Path) -> str:
    """The format suffix, looking through ``.gz`` (``a.csv.gz`` → ``.csv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[-2] if len(suffixes) > 1 else ""
    return path.suffix.lower()


def check_file(path: Path) -> None:
    """Refuse a missing, unsupported, empty or too large file before reading it."""
    if not path.is_file():
        raise UserError("train.corpus.no_file", name=path.name)
    if data_suffix(path) not in TEXT_SUFFIXES:
        raise UserError("train.corpus.bad_type", name=path.name, types=", ".join(TEXT_SUFFIXES))
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UserError("train.corpus.too_big", name=path.name, mb=round(size / 2**20),
                        max_mb=MAX_UPLOAD_BYTES // 2**20)
    if size == 0:
        raise UserError("train.corpus.empty_file", name=path.name)


def read_corpus_bytes(path: Path) -> bytes:
    """The bytes of a corpus file (decompressed when ``.gz``), within the limits above."""
    check_file(path)
    if path.suffix.lower() != ".gz":
        return path.read_bytes()
    with gzip.open(path, "rb") as f:
        data = f.read(MAX_DECOMPRESSED_BYTES + 1)
    if len(data) > MAX_DECOMPRESSED_BYTES:
        raise UserError("train.corpus.too_big", name=path.name, mb=MAX_DECOMPRESSED_BYTES // 2**20,
                        max_mb=MAX_DECOMPRESSED_BYTES // 2**20)
    return data


def read_text(path: Path) -> str:
    """A corpus file as text: UTF-8 (a BOM is dropped), never binary."""
    data = read_corpus_bytes(path)
    if b"\x00" in data[:8192]:
        raise UserError("train.corpus.binary", name=path.name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError("train.corpus.not_utf8", name=path.name, pos=e.start) from None


def read_table(path: Path) -> Any:
    """A pandas DataFrame from a .csv/.tsv/.jsonl/.json/.parquet file (checked; ``.gz`` allowed)."""
    import pandas as pd

    suffix = data_suffix(path)
    if suffix == ".parquet":
        data = read_corpus_bytes(path)
        if data[:4] != b"PAR1":
            raise UserError("train.corpus.bad_format", name=path.name, fmt="Parquet")
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as e:  # noqa: BLE001 - pyarrow raises many types
            raise UserError("train.corpus.bad_format", name=path.name, fmt="Parquet") from e
    text = read_text(path)
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(io.StringIO(text), sep="\t" if suffix == ".tsv" else ",", dtype=str,
                               keep_default_na=True)
        if suffix == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            return pd.DataFrame([r if isinstance(r, dict) else {"text": r} for r in rows])
        data = json.loads(text)
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        return pd.DataFrame([r if isinstance(r, dict) else {"text": r} for r in data])
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - pandas/json parse errors
        fmt = {".csv": "CSV", ".tsv": "TSV"}.get(suffix, "JSON")
        raise UserError("train.corpus.bad_format", name=path.name, fmt=fmt) from e


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
    """Text columns of a table file, for the column picker ([] for .txt)."""
    p = Path(path)
    check_file(p)
    if data_suffix(p) == ".txt":
        return []
    df = read_table(p)
    return text_columns(df) or [str(c) for c in df.columns]


def split_txt(text: str, mode: str) -> list[str]:
    """One text per line, or per blank-line separated block."""
    if mode not in TXT_MODES:
        raise UserError("train.corpus.bad_txt_mode", mode=mode)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if mode == "blocks":
        return re.split(r"\n[ \t]*\n", text)
    return text.split("\n")


def load_file(path: str | Path, text_column: str | None = None, txt_mode: str = "lines",
              max_rows: int = 0) -> Corpus:
    """A corpus from a local/uploaded file (see the module docstring)."""
    p = Path(path)
    check_file(p)
    notes: list[str] = []
    if data_suffix(p) == ".txt":
        raw = split_txt(read_text(p), txt_mode)
        col = None
    else:
        df = read_table(p)
        if len(df) == 0:
            raise UserError("train.corpus.empty_file", name=p.name)
        col = pick_text_column(df, text_column, p.name)
        raw = df[col].tolist()
    texts, dropped = clean_texts(raw)
    if not texts:
        raise UserError("train.corpus.no_texts", name=p.name)
    texts = limit_rows(texts, max_rows, notes)
    return Corpus(key=slug(p.stem), label=p.name, texts=texts, source="file", origin=str(p), text_column=col,
                  rows_before=len(raw), rows_after=len(texts), dropped_empty=dropped, notes=notes)


__all__ = ["MAX_UPLOAD_BYTES", "TEXT_SUFFIXES", "TXT_MODES", "read_corpus_bytes", "read_text", "read_table",
           "text_columns", "pick_text_column", "file_columns", "split_txt", "load_file", "check_file",
           "data_suffix"]
