"""Training corpora: the presets (bundled, local, hub) and uploaded files, cleaned, with stats.

One module per concern:

- ``spec``: ``CorpusSpec`` (what to load), ``Corpus`` (what was loaded), cleaning;
- ``limits``: what reading one file may produce (size, text, rows, one text), the one place for them;
- ``streams``: a corpus file's bytes within the limits (every read of a file opens it there);
- ``files``: reading uploads and bundled ``.gz`` files: plain text, and tables through ``tables``;
- ``sources``: where preset data lives (bundled ``lm_demo/data/`` → local folder → hub cache → hub);
- ``presets``: the seven presets and whether each can load here;
- ``tables``: CSV/TSV, JSONL, JSON and Parquet read in chunks of the needed columns;
- ``prepare``: one corpus preparation at a time, memory given back after;
- ``stats``: rows, words and tokens per text for the stats panel.

Every read is bounded (``limits.CorpusLimits``: file size, text, rows, one
text) before anything is materialised; the app, the stats, the quick
comparison and the CLI share the limits.

``load_corpus(spec)`` is the entry point.
"""

from __future__ import annotations

from lm_demo.corpora.files import (
    MAX_UPLOAD_BYTES,
    TEXT_SUFFIXES,
    CorpusLimits,
    corpus_limits,
    file_columns,
    load_file,
    split_txt,
)
from lm_demo.corpora.prepare import prepared
from lm_demo.corpora.presets import (
    PRESET_PROMPTS,
    PRESET_SOURCES,
    PRESETS,
    availability,
    prompt_for,
    quijote_paragraphs,
)
from lm_demo.corpora.sources import BUNDLED_DIR, data_dir
from lm_demo.corpora.spec import DEFAULT_PRESET, Corpus, CorpusSpec, clean_texts
from lm_demo.corpora.stats import CorpusStats, corpus_stats, describe_corpus
from lm_demo.errors import UserError


def load_corpus(spec: CorpusSpec) -> Corpus:
    """The corpus ``spec`` names: its file when ``spec.path`` is set, else its preset."""
    if spec.path:
        return load_file(spec.path, spec.text_column, spec.txt_mode, spec.max_rows)
    loader = PRESETS.get((spec.preset or "").strip())
    if loader is None:
        raise UserError("train.corpus.unknown_preset", name=spec.preset, presets=", ".join(PRESETS))
    return loader(spec)


def available_presets(check_hub: bool = True) -> dict[str, str]:
    """Preset key → where it would load from now ("bundled" / "local" / "cache" / "hub" / "")."""
    return availability(check_hub)


__all__ = ["CorpusSpec", "Corpus", "CorpusStats", "PRESETS", "PRESET_SOURCES", "PRESET_PROMPTS", "DEFAULT_PRESET",
           "load_corpus", "load_file", "corpus_stats", "clean_texts", "data_dir", "file_columns",
           "available_presets", "prompt_for", "MAX_UPLOAD_BYTES", "TEXT_SUFFIXES", "BUNDLED_DIR",
           "quijote_paragraphs", "split_txt", "CorpusLimits", "corpus_limits", "prepared", "describe_corpus"]
