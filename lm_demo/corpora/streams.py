"""A corpus file's bytes, within the limits: the one way any corpus file is opened.

Why a module of its own: both ``files`` (plain text, the entry points) and
``tables`` (CSV, JSON, Parquet in chunks) read through it, and neither should
depend on the other for that.  What it guarantees: a file is checked with
``os.stat`` before a byte is read (``check_file``: missing, unsupported
type, empty, over ``limits.file_bytes``); a ``.gz`` stream stops at the file
limit once decompressed (``open_corpus``); a whole read takes at most
``text_bytes + 1`` bytes (``read_corpus_bytes``); text is UTF-8 and never
binary (``decode``).
"""

from __future__ import annotations

import codecs
import gzip
import io
from pathlib import Path
from typing import Any, BinaryIO

from lm_demo.corpora.limits import MB, CorpusLimits, corpus_limits, size_text, too_much_text
from lm_demo.errors import UserError

TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".json", ".parquet")


def data_suffix(path: Path) -> str:
    """The format suffix, looking through ``.gz`` (``a.csv.gz`` → ``.csv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[-2] if len(suffixes) > 1 else ""
    return path.suffix.lower()


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def check_file(path: Path, limits: CorpusLimits | None = None) -> None:
    """Refuse a missing, unsupported, empty or too large file before reading it (``os.stat`` only)."""
    limits = limits or corpus_limits()
    if not path.is_file():
        raise UserError("train.corpus.no_file", name=path.name)
    if data_suffix(path) not in TEXT_SUFFIXES or (is_gzip(path) and data_suffix(path) == ".parquet"):
        raise UserError("train.corpus.bad_type", name=path.name, types=", ".join(TEXT_SUFFIXES))
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise UserError("train.corpus.too_big", name=path.name, mb=round(size / MB),
                        max_mb=limits.file_bytes // MB)
    if size == 0:
        raise UserError("train.corpus.empty_file", name=path.name)


class _Capped(io.RawIOBase):
    """A corpus file's bytes (decompressed when ``.gz``) that refuse to go past ``cap``."""

    def __init__(self, path: Path, cap: int) -> None:
        super().__init__()
        self._f: BinaryIO = gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # type: ignore[assignment]
        self.name, self.cap, self.n = path.name, cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            n = self._f.readinto(buffer)
        except (OSError, EOFError) as e:  # a broken gzip stream
            raise UserError("train.corpus.bad_format", name=self.name, fmt="gzip") from e
        self.n += n or 0
        if self.n > self.cap:
            raise UserError("train.corpus.too_big_unpacked", name=self.name, size=size_text(self.cap))
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_corpus(path: Path, limits: CorpusLimits | None = None) -> io.BufferedReader:
    """A buffered binary stream of ``path``, checked first, decompressed up to ``limits.file_bytes``."""
    limits = limits or corpus_limits()
    check_file(path, limits)
    return io.BufferedReader(_Capped(path, limits.file_bytes), buffer_size=1 << 16)


def read_corpus_bytes(path: Path, cap: int | None = None, limits: CorpusLimits | None = None) -> tuple[bytes, bool]:
    """(at most ``cap`` bytes of the file, decompressed; whether that is all of it).

    ``cap`` defaults to ``limits.text_bytes``: a ``.txt`` or plain JSON is read
    whole only when it is that small; the caller decides what a partial read
    means.  An uncompressed file's size is known before reading.
    """
    limits = limits or corpus_limits()
    cap = limits.text_bytes if cap is None else cap
    check_file(path, limits)
    with _Capped(path, max(limits.file_bytes, cap + 1)) as f:
        data = _read_all(f, cap + 1)
    return data[:cap], len(data) <= cap


def _read_all(f: Any, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        b = f.read(min(1 << 20, n - got))
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped) of a corpus file's bytes, never binary."""
    if b"\x00" in data[:8192]:
        raise UserError("train.corpus.binary", name=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError("train.corpus.not_utf8", name=name, pos=e.start) from None


def first_bad_utf8(path: Path, limits: CorpusLimits | None = None) -> int:
    """Byte offset of the first invalid UTF-8 in ``path`` (decompressed), or -1."""
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    done = 0
    with open_corpus(path, limits) as f:
        while block := f.read(1 << 20):
            try:
                dec.decode(block)
            except UnicodeDecodeError as e:
                pending = len(dec.getstate()[0])
                return done - pending + e.start
            done += len(block)
    return -1


def read_text(path: Path, limits: CorpusLimits | None = None) -> str:
    """A whole corpus file as text (bundled Quijote, uploads): refused when over ``text_bytes``."""
    limits = limits or corpus_limits()
    data, whole = read_corpus_bytes(path, limits=limits)
    if not whole:
        raise too_much_text(path.name, limits)
    return decode(data, path.name)


__all__ = ["TEXT_SUFFIXES", "data_suffix", "is_gzip", "check_file", "open_corpus", "read_corpus_bytes", "decode",
           "first_bad_utf8", "read_text"]
