"""Training corpora: the presets (bundled, local, hub) and uploaded files, cleaned, with stats.

One module per concern:

- ``spec``: ``CorpusSpec`` (what to load), ``Corpus`` (what was loaded), cleaning;
- ``files``: reading uploads and bundled ``.gz`` files (one function for size limits);
- ``sources``: where preset data lives (bundled ``lm_demo/data/`` → local folder → hub cache → hub);
- ``presets``: the seven presets and whether each can load here;
- ``stats``: rows, words and tokens per text for the stats panel.

``load_corpus(spec)`` is the entry point.
"""

from __future__ import annotations

from lm_demo.corpora.files import MAX_UPLOAD_BYTES, TEXT_SUFFIXES, file_columns, load_file, split_txt
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
from lm_demo.corpora.stats import CorpusStats, corpus_stats
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
           "quijote_paragraphs", "split_txt"]
