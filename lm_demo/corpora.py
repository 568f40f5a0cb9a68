"""Training corpora: the seeds' presets and uploaded files, cleaned, with stats.

Why the lookup order (local data folder, then the Hugging Face cache, then
the hub): a classroom often has no internet, and the hub client would stall
for ~23 s per file before failing.  So every preset first looks in the local
data folder (``LM_DEMO_DATA_DIR``, set by ``app.py --data-dir``; by default
``<repo>/../shared/data`` when it exists), then reads the files of a
previous download straight from the hub cache (no network call at all), and
only asks the hub when ``models.hub_reachable()`` says it answers.  A preset
that can't load says so and suggests uploading a file.

Cleaning is what the seeds did: drop null and empty texts (and strip
whitespace).  The jokes preset can exclude categories; ``sexo`` is excluded
by default for a class.

Uploads: ``.txt`` (one text per line, or per blank-line separated block),
``.csv`` / ``.tsv`` / ``.jsonl`` / ``.json`` / ``.parquet`` (pick the text
column).  At most ``MAX_UPLOAD_BYTES``; binary, non-UTF-8, empty or
column-less files get a clear Spanish message.
"""

from __future__ import annotations

import io
import json
import os
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from lm_demo.errors import UserError
from lm_demo.locales import t

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".json", ".parquet")
TEXT_COLUMN_GUESSES = ("text", "texto", "content", "contenido", "product_description", "body", "sentence",
                       "oracion", "poema", "poem", "chiste", "joke")
TXT_MODES = ("lines", "blocks")
GUTENBERG_QUIJOTE = "https://www.gutenberg.org/cache/epub/2000/pg2000.txt"


def data_dir() -> Path | None:
    """The local data folder, or None when there is none."""
    env = os.environ.get("LM_DEMO_DATA_DIR", "").strip()
    if env:
        p = Path(env).expanduser()
        return p.resolve() if p.is_dir() else None
    p = REPO_ROOT.parent / "shared" / "data"
    return p.resolve() if p.is_dir() else None


# --------------------------------------------------------------------------- spec / result
@dataclass
class CorpusSpec:
    """Which corpus to train on: a preset key, or a file ``path`` (which wins)."""

    preset: str = "chistes"
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
    source: str  # "local" | "cache" | "hub" | "file"
    origin: str  # file path(s) or hub id(s)
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


# --------------------------------------------------------------------------- cleaning
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


def corpus_stats(corpus: Corpus, tokenizer: Any = None) -> CorpusStats:
    """Rows before/after cleaning, words per text, token count (with a tokenizer)."""
    words = [len(x.split()) for x in corpus.texts]
    tok_lens = None
    if tokenizer is not None and corpus.texts:
        enc = tokenizer(corpus.texts, add_special_tokens=False)["input_ids"]
        tok_lens = [len(ids) for ids in enc]
    return CorpusStats(
        rows_before=corpus.rows_before, rows_after=corpus.rows_after, n_words=sum(words),
        median_words=float(statistics.median(words)) if words else 0.0,
        mean_words=float(statistics.fmean(words)) if words else 0.0,
        n_tokens=sum(tok_lens) if tok_lens is not None else None,
        median_tokens=float(statistics.median(tok_lens)) if tok_lens else None,
        word_lengths=words, token_lengths=tok_lens,
    )


# --------------------------------------------------------------------------- files
def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise UserError("train.corpus.binary", name=path.name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UserError("train.corpus.not_utf8", name=path.name, pos=e.start) from None


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise UserError("train.corpus.no_file", name=path.name)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise UserError("train.corpus.bad_type", name=path.name, types=", ".join(TEXT_SUFFIXES))
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise UserError("train.corpus.too_big", name=path.name, mb=round(size / 2**20),
                        max_mb=MAX_UPLOAD_BYTES // 2**20)
    if size == 0:
        raise UserError("train.corpus.empty_file", name=path.name)


def read_table(path: Path) -> Any:
    """A pandas DataFrame from a .csv/.tsv/.jsonl/.json/.parquet file (checked)."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        with open(path, "rb") as f:
            if f.read(4) != b"PAR1":
                raise UserError("train.corpus.bad_format", name=path.name, fmt="Parquet")
        try:
            return pd.read_parquet(path)
        except Exception as e:  # noqa: BLE001 - pyarrow raises many types
            raise UserError("train.corpus.bad_format", name=path.name, fmt="Parquet") from e
    text = _read_text_file(path)
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
    _check_file(p)
    if p.suffix.lower() == ".txt":
        return []
    return text_columns(read_table(p)) or [str(c) for c in read_table(p).columns]


def split_txt(text: str, mode: str) -> list[str]:
    """One text per line, or per blank-line separated block."""
    if mode not in TXT_MODES:
        raise UserError("train.corpus.bad_txt_mode", mode=mode)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if mode == "blocks":
        return re.split(r"\n[ \t]*\n", text)
    return text.split("\n")


def _slug(text: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return (re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "corpus")[:24]


def _limit(texts: list[str], max_rows: int, notes: list[str]) -> list[str]:
    if max_rows and 0 < max_rows < len(texts):
        notes.append(t("train.note.max_rows", n=max_rows, total=len(texts)))
        return texts[:max_rows]
    return texts


def load_file(path: str | Path, text_column: str | None = None, txt_mode: str = "lines",
              max_rows: int = 0) -> Corpus:
    """A corpus from a local/uploaded file (see the module docstring)."""
    p = Path(path)
    _check_file(p)
    notes: list[str] = []
    if p.suffix.lower() == ".txt":
        raw = split_txt(_read_text_file(p), txt_mode)
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
    texts = _limit(texts, max_rows, notes)
    label = p.name
    return Corpus(key=_slug(p.stem), label=label, texts=texts, source="file", origin=str(p), text_column=col,
                  rows_before=len(raw), rows_after=len(texts), dropped_empty=dropped, notes=notes)


# --------------------------------------------------------------------------- hub
def _hub_cache_files(repo: str, config: str | None = None) -> list[Path]:
    """Data files of a previously downloaded dataset in the hub cache (no network)."""
    try:
        from huggingface_hub import constants

        root = Path(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001
        root = Path.home() / ".cache" / "huggingface" / "hub"
    base = root / f"datasets--{repo.replace('/', '--')}" / "snapshots"
    if not base.is_dir():
        return []
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix.lower() in (".parquet", ".csv",
                                                                                          ".jsonl", ".json"))
    if config:
        inside = [p for p in files if config in p.relative_to(base).parts[1:]]
        files = inside or files
    return files


def _rows_from_cache(repo: str, config: str | None, column: str, max_rows: int,
                     filter_column: tuple[str, str] | None = None) -> list[Any] | None:
    files = _hub_cache_files(repo, config)
    values: list[Any] = []
    for f in files:
        try:
            df = read_table(f)
        except UserError:
            continue
        if filter_column is not None:
            if filter_column[0] not in df.columns:
                continue
            df = df[df[filter_column[0]] == filter_column[1]]
        if column in df.columns:
            values.extend(df[column].tolist())
        if max_rows and len(values) >= max_rows:
            break
    return values or None


def _rows_from_hub(repo: str, config: str | None, column: str, max_rows: int,
                   row_filter: Callable[[dict], bool] | None = None) -> list[Any]:
    """Rows of a hub dataset (streamed when we need only some of them)."""
    import datasets

    streaming = bool(max_rows)
    ds = datasets.load_dataset(repo, config, split="train", streaming=streaming)
    out: list[Any] = []
    for row in ds:
        if row_filter is not None and not row_filter(row):
            continue
        out.append(row.get(column))
        if max_rows and len(out) >= max_rows:
            break
    return out


def _from_hub_or_cache(repo: str, config: str | None, column: str, max_rows: int, notes: list[str],
                       row_filter: Callable[[dict], bool] | None = None,
                       filter_column: tuple[str, str] | None = None) -> tuple[list[Any], str] | None:
    """(values, source) from the cache or, when reachable, the hub; None if neither."""
    from lm_demo.models import hub_reachable

    cached = _rows_from_cache(repo, config, column, max_rows, filter_column)
    if cached:
        notes.append(t("train.note.from_cache", repo=repo))
        return (cached[:max_rows] if max_rows else cached), "cache"
    if not hub_reachable():
        return None
    try:
        return _rows_from_hub(repo, config, column, max_rows, row_filter), "hub"
    except Exception as e:  # noqa: BLE001 - hub/datasets raise many types
        notes.append(t("train.note.hub_failed", repo=repo, detail=type(e).__name__))
        return None


# --------------------------------------------------------------------------- presets
def _local(rel: str) -> Path | None:
    d = data_dir()
    if d is None:
        return None
    p = d / rel
    return p if p.is_file() else None


def _finish(key: str, spec: CorpusSpec, raw: list[Any], source: str, origin: str, column: str | None,
            notes: list[str], dropped_category: int = 0, rows_before: int | None = None) -> Corpus:
    texts, dropped = clean_texts(raw)
    if not texts:
        raise UserError("train.corpus.preset_empty", name=spec.label())
    texts = _limit(texts, spec.max_rows, notes)
    return Corpus(key=key, label=spec.label(), texts=texts, source=source, origin=origin, text_column=column,
                  rows_before=rows_before if rows_before is not None else len(raw) + dropped_category,
                  rows_after=len(texts), dropped_empty=dropped, dropped_category=dropped_category, notes=notes,
                  preset=key)


def _unavailable(spec: CorpusSpec) -> UserError:
    return UserError("train.corpus.preset_unavailable", name=spec.label())


def _load_chistes(spec: CorpusSpec) -> Corpus:
    import pandas as pd

    notes: list[str] = []
    local = _local("chistes/chistes.csv")
    if local is not None:
        df, source, origin = read_table(local), "local", str(local)
    else:
        df, source, origin = None, "", "mrm8488/CHISTES_spanish_jokes"
        files = _hub_cache_files(origin)
        frames = [read_table(f) for f in files]
        if frames:
            df, source = pd.concat(frames, ignore_index=True), "cache"
            notes.append(t("train.note.from_cache", repo=origin))
        else:
            from lm_demo.models import hub_reachable

            if hub_reachable():
                try:
                    import datasets

                    df, source = datasets.load_dataset(origin, split="train").to_pandas(), "hub"
                except Exception as e:  # noqa: BLE001
                    notes.append(t("train.note.hub_failed", repo=origin, detail=type(e).__name__))
        if df is None:
            raise _unavailable(spec)
    if "text" not in df.columns:
        raise _unavailable(spec)
    before = len(df)
    excluded = {c.strip().lower() for c in spec.exclude_categories if c and c.strip()}
    dropped_cat = 0
    if excluded and "category" in df.columns:
        keep = ~df["category"].astype(str).str.strip().str.lower().isin(excluded)
        dropped_cat = int((~keep).sum())
        df = df[keep]
        notes.append(t("train.note.excluded", cats=", ".join(sorted(excluded)), n=dropped_cat))
    return _finish("chistes", spec, df["text"].tolist(), source, origin, "text", notes, dropped_cat, before)


def _load_poesia(spec: CorpusSpec, notes: list[str] | None = None, max_rows: int = 0) -> Corpus:
    notes = [] if notes is None else notes
    local = _local("poesia_disco/sonetos_disco.csv")
    if local is not None:
        notes.append(t("train.note.poetry_standin"))
        df = read_table(local)
        return _finish("poesia", spec, df["content"].tolist(), "local", str(local), "content", notes)
    got = _from_hub_or_cache("somosnlp-hackathon-2022/spanish-poetry-dataset", None, "content", max_rows, notes)
    if got is None:
        raise _unavailable(spec)
    return _finish("poesia", spec, got[0], got[1], "somosnlp-hackathon-2022/spanish-poetry-dataset", "content",
                   notes)


def quijote_paragraphs(text: str, n_lines: int) -> tuple[list[str], int]:
    """The first ``n_lines`` lines as paragraphs, hard line wraps undone.

    Gutenberg wraps lines at ~70 characters; a wrap is not a text boundary,
    so lines are joined within a paragraph and paragraphs become the texts.
    Returns (paragraphs, lines used).
    """
    lines = text.replace("\r\n", "\n").lstrip("\ufeff").split("\n")
    if n_lines > 0:
        lines = lines[:n_lines]
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return paras, len(lines)


def _strip_gutenberg(text: str) -> str:
    start = re.search(r"\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*?\*\*\*", text)
    end = re.search(r"\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG", text)
    return text[start.end() if start else 0:end.start() if end else len(text)].strip()


def _load_quijote(spec: CorpusSpec) -> Corpus:
    notes: list[str] = []
    local = _local("quijote/quijote.txt")
    if local is not None:
        text, source, origin = _read_text_file(local), "local", str(local)
    else:
        from lm_demo.models import hub_reachable

        if not hub_reachable():
            raise _unavailable(spec)
        import urllib.request

        try:
            with urllib.request.urlopen(GUTENBERG_QUIJOTE, timeout=15) as r:
                text = _strip_gutenberg(r.read().decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError) as e:
            raise _unavailable(spec) from e
        source, origin = "hub", GUTENBERG_QUIJOTE
    n = int(spec.quijote_lines or 0)
    paras, used = quijote_paragraphs(text, n)
    notes.append(t("train.note.quijote_lines", n=used, paras=len(paras)))
    return _finish("quijote", spec, paras, source, origin, None, notes)


def _load_amazon(spec: CorpusSpec) -> Corpus:
    notes: list[str] = []
    max_rows = spec.max_rows or 5000
    got = _from_hub_or_cache("milistu/amazon-esci-data", "products", "product_description", max_rows, notes,
                             row_filter=lambda r: r.get("product_locale") == "es",
                             filter_column=("product_locale", "es"))
    if got is None:
        raise _unavailable(spec)
    return _finish("amazon", spec, got[0], got[1], "milistu/amazon-esci-data (products, es)",
                   "product_description", notes)


def _load_jsonl_local(rel: str, key: str, spec: CorpusSpec, notes: list[str]) -> Corpus:
    local = _local(rel)
    if local is None:
        raise _unavailable(spec)
    df = read_table(local)
    return _finish(key, spec, df["text"].tolist(), "local", str(local), "text", notes)


def _load_refranes(spec: CorpusSpec) -> Corpus:
    return _load_jsonl_local("fortunes_es/fortunes_es.jsonl", "refranes", spec, [])


def _load_prosa(spec: CorpusSpec) -> Corpus:
    notes: list[str] = []
    raw: list[Any] = []
    origins = []
    for rel in ("prosa/xquad_es_contextos.jsonl", "prosa/ud_spanish_gsd_dev_test_oraciones.jsonl"):
        p = _local(rel)
        if p is not None:
            raw += read_table(p)["text"].tolist()
            origins.append(str(p))
    if not raw:
        raise _unavailable(spec)
    return _finish("prosa", spec, raw, "local", "; ".join(origins), "text", notes)


def _load_mezcla(spec: CorpusSpec) -> Corpus:
    """Seed 000's mix: poetry + a fraction of Wikipedia (es) + MLSUM (es).

    Offline, the local prose files stand in for Wikipedia and MLSUM (a note says so).
    """
    notes: list[str] = []
    poetry = _load_poesia(CorpusSpec(preset="poesia"), notes)
    n_extra = max(1, int(round(len(poetry.texts) * max(0.0, min(float(spec.mix_fraction), 5.0)))))
    raw: list[Any] = list(poetry.texts)
    origins, sources = [poetry.origin], {poetry.source}
    for repo, config, column in (("wikimedia/wikipedia", "20231101.es", "text"), ("mlsum", "es", "text")):
        got = _from_hub_or_cache(repo, config, column, n_extra, notes)
        if got is not None:
            raw += got[0][:n_extra]
            origins.append(f"{repo} ({config})")
            sources.add(got[1])
    if len(origins) == 1:  # nothing from the hub: the local prose stands in
        for rel in ("prosa/xquad_es_contextos.jsonl", "prosa/ud_spanish_gsd_dev_test_oraciones.jsonl"):
            p = _local(rel)
            if p is not None:
                raw += read_table(p)["text"].tolist()[:n_extra]
                origins.append(str(p))
                sources.add("local")
        if len(origins) > 1:
            notes.append(t("train.note.mix_standin"))
    source = "local" if sources == {"local"} else "+".join(sorted(sources))
    return _finish("mezcla", spec, raw, source, "; ".join(origins), "text", notes,
                   rows_before=poetry.rows_before + len(raw) - len(poetry.texts))


PRESETS: dict[str, Callable[[CorpusSpec], Corpus]] = {
    "chistes": _load_chistes,
    "poesia": _load_poesia,
    "quijote": _load_quijote,
    "amazon": _load_amazon,
    "mezcla": _load_mezcla,
    "refranes": _load_refranes,
    "prosa": _load_prosa,
}

#: Where each preset comes from when loaded from the hub (for the UI and docs).
PRESET_SOURCES = {
    "chistes": "mrm8488/CHISTES_spanish_jokes (text)",
    "poesia": "somosnlp-hackathon-2022/spanish-poetry-dataset (content)",
    "quijote": "Project Gutenberg #2000",
    "amazon": "milistu/amazon-esci-data (products, product_description, es)",
    "mezcla": "poesía + wikimedia/wikipedia 20231101.es + MLSUM es",
    "refranes": "fortunes-es (Debian)",
    "prosa": "XQuAD es + UD Spanish-GSD",
}


def load_corpus(spec: CorpusSpec) -> Corpus:
    """The corpus ``spec`` names: its file when ``spec.path`` is set, else its preset."""
    if spec.path:
        return load_file(spec.path, spec.text_column, spec.txt_mode, spec.max_rows)
    loader = PRESETS.get((spec.preset or "").strip())
    if loader is None:
        raise UserError("train.corpus.unknown_preset", name=spec.preset, presets=", ".join(PRESETS))
    return loader(spec)


def available_presets() -> dict[str, str]:
    """Preset key → where it would load from now ("local" / "cache" / "hub" / "")."""
    from lm_demo.models import hub_reachable

    local = {"chistes": "chistes/chistes.csv", "poesia": "poesia_disco/sonetos_disco.csv",
             "quijote": "quijote/quijote.txt", "refranes": "fortunes_es/fortunes_es.jsonl",
             "prosa": "prosa/xquad_es_contextos.jsonl", "mezcla": "poesia_disco/sonetos_disco.csv"}
    hub = {"chistes": "mrm8488/CHISTES_spanish_jokes", "poesia": "somosnlp-hackathon-2022/spanish-poetry-dataset",
           "amazon": "milistu/amazon-esci-data"}
    online = None
    out = {}
    for key in PRESETS:
        if key in local and _local(local[key]) is not None:
            out[key] = "local"
        elif key in hub and _hub_cache_files(hub[key]):
            out[key] = "cache"
        else:
            if online is None:
                online = hub_reachable()
            out[key] = "hub" if online and key not in ("refranes", "prosa") else ""
    return out


__all__ = ["CorpusSpec", "Corpus", "CorpusStats", "PRESETS", "PRESET_SOURCES", "load_corpus", "load_file",
           "corpus_stats", "clean_texts", "data_dir", "file_columns", "available_presets", "MAX_UPLOAD_BYTES",
           "quijote_paragraphs", "split_txt"]
