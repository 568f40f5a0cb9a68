"""What a corpus is: the request (``CorpusSpec``), the result (``Corpus``) and the cleaning every source shares.

Cleaning is what the seeds did: drop null and empty texts and strip
whitespace (line endings normalised to ``\\n``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lm_demo.locales import t

DEFAULT_PRESET = "poesia"


@dataclass
class CorpusSpec:
    """Which corpus to train on: a preset key, or a file ``path`` (which wins)."""

    preset: str = DEFAULT_PRESET
    path: str | None = None
    text_column: str | None = None
    txt_mode: str = "lines"
    max_rows: int = 0  # 0 = all rows
    quijote_lines: int = 2000  # seed 001 used about 100
    exclude_categories: tuple[str, ...] = ("sexo",)
    mix_fraction: float = 0.2  # seed 000: prose rows per poetry row

    def label(self) -> str:
        if self.path:
            return Path(self.path).name
        key = f"train.corpus.{self.preset}"
        text = t(key)
        return self.preset if text == key else text


@dataclass
class Corpus:
    """Clean texts plus where they came from (for metadata and the stats panel)."""

    key: str  # short slug for checkpoint names
    label: str
    texts: list[str]
    source: str  # "bundled" | "local" | "cache" | "hub" | "file"
    origin: str  # display names: files relative to the bundled/data folder, an upload's name, hub ids (never a server path)
    text_column: str | None
    rows_before: int
    rows_after: int
    dropped_empty: int = 0
    dropped_category: int = 0
    notes: list[str] = field(default_factory=list)
    preset: str | None = None

    def describe(self) -> dict:
        return {"key": self.key, "label": self.label, "preset": self.preset, "source": self.source,
                "origin": self.origin, "text_column": self.text_column, "rows_before": self.rows_before,
                "rows_after": self.rows_after, "dropped_empty": self.dropped_empty,
                "dropped_category": self.dropped_category}


def clean_texts(values: Sequence[Any]) -> tuple[list[str], int]:
    """Stripped non-empty strings; also how many were dropped (null/empty)."""
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):  # None / NaN
            continue
        s = str(v).replace("\r\n", "\n").replace("\r", "\n").strip()
        if s:
            out.append(s)
    return out, len(values) - len(out)


def limit_rows(texts: list[str], max_rows: int, notes: list[str]) -> list[str]:
    """The first ``max_rows`` texts (all when 0), with a note when some were left out."""
    if max_rows and 0 < max_rows < len(texts):
        notes.append(t("train.note.max_rows", n=max_rows, total=len(texts)))
        return texts[:max_rows]
    return texts


def slug(text: str) -> str:
    """A short ASCII name for checkpoint names (``Canción.txt`` → ``cancion-txt``)."""
    import unicodedata

    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return (re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "corpus")[:24]


__all__ = ["CorpusSpec", "Corpus", "clean_texts", "limit_rows", "slug", "DEFAULT_PRESET"]
