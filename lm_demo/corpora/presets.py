"""The seven corpus presets: where each one's texts come from, and whether it can load here.

Lookup per preset (see ``sources``): bundled → local data folder → hub cache
→ hub.  Bundled (``lm_demo/data/``): Don Quijote, the DISCO sonnets (the
poetry stand-in), fortunes-es (refranes) and the two prose sets, so
"poesia" (the default), "quijote", "refranes", "prosa" and "mezcla" always
load.  The jokes state no licence, so they are not bundled: the hub's copy
first (cache, then the hub), the local data folder second.  The Amazon
descriptions are hub-only.  A preset that can't load says so and suggests
uploading a file; ``availability`` tells the tab beforehand.

The jokes preset can exclude categories; ``sexo`` is excluded by default for
a class.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from lm_demo.corpora import sources
from lm_demo.corpora.files import read_table
from lm_demo.corpora.spec import DEFAULT_PRESET, Corpus, CorpusSpec, clean_texts, limit_rows
from lm_demo.corpora.streams import read_text
from lm_demo.errors import UserError
from lm_demo.locales import t

GUTENBERG_QUIJOTE = "https://www.gutenberg.org/cache/epub/2000/pg2000.txt"
JOKES_REPO = "mrm8488/CHISTES_spanish_jokes"
POETRY_REPO = "somosnlp-hackathon-2022/spanish-poetry-dataset"
AMAZON_REPO = "milistu/amazon-esci-data"
QUIJOTE = "quijote/quijote.txt"
SONNETS = "poesia_disco/sonetos_disco.csv"
FORTUNES = "fortunes_es/fortunes_es.jsonl"
JOKES = "chistes/chistes.csv"
PROSE = ("prosa/xquad_es_contextos.jsonl", "prosa/ud_spanish_gsd_dev_test_oraciones.jsonl")

#: A prompt in each corpus's style, for the training samples and the CLI's story.
PRESET_PROMPTS = {
    "chistes": "- Mamá, mamá,", "poesia": "En el silencio de la noche", "quijote": "En un lugar de la Mancha",
    "amazon": "Este producto", "mezcla": "En el silencio de la noche", "refranes": "Más vale",
    "prosa": "La ciudad",
}
FILE_PROMPT = "Había una vez"


def _finish(key: str, spec: CorpusSpec, raw: list[Any], source: str, origin: str, column: str | None,
            notes: list[str], dropped_category: int = 0, rows_before: int | None = None) -> Corpus:
    texts, dropped = clean_texts(raw)
    if not texts:
        raise UserError("train.corpus.preset_empty", name=spec.label())
    texts = limit_rows(texts, spec.max_rows, notes)
    return Corpus(key=key, label=spec.label(), texts=texts, source=source, origin=origin, text_column=column,
                  rows_before=rows_before if rows_before is not None else len(raw) + dropped_category,
                  rows_after=len(texts), dropped_empty=dropped, dropped_category=dropped_category, notes=notes,
                  preset=key)


def _unavailable(spec: CorpusSpec) -> UserError:
    return UserError("train.corpus.preset_unavailable", name=spec.label())


def _load_chistes(spec: CorpusSpec) -> Corpus:
    notes: list[str] = []
    got = sources.table_from_hub_or_cache(JOKES_REPO, notes)
    if got is not None:
        df, source = got
        origin = JOKES_REPO
    else:
        path = sources.local(JOKES)
        if path is None:
            raise _unavailable(spec)
        df, source, origin = read_table(path), "local", sources.display_name(path)
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
    found = sources.bundled_or_local(SONNETS)
    if found is not None:
        notes.append(t("train.note.poetry_standin"))
        df = read_table(found[0], ["content"])
        return _finish("poesia", spec, df["content"].tolist(), found[1], sources.display_name(found[0]), "content",
                       notes)
    got = sources.from_hub_or_cache(POETRY_REPO, None, "content", max_rows, notes)
    if got is None:
        raise _unavailable(spec)
    return _finish("poesia", spec, got[0], got[1], POETRY_REPO, "content", notes)


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
    found = sources.bundled_or_local(QUIJOTE)
    if found is not None:
        text, source, origin = read_text(found[0]), found[1], sources.display_name(found[0])
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
    paras, used = quijote_paragraphs(text, int(spec.quijote_lines or 0))
    notes.append(t("train.note.quijote_lines", n=used, paras=len(paras)))
    return _finish("quijote", spec, paras, source, origin, None, notes)


def _load_amazon(spec: CorpusSpec) -> Corpus:
    notes: list[str] = []
    got = sources.from_hub_or_cache(AMAZON_REPO, "products", "product_description", spec.max_rows or 5000, notes,
                                    row_filter=lambda r: r.get("product_locale") == "es",
                                    filter_column=("product_locale", "es"))
    if got is None:
        raise _unavailable(spec)
    return _finish("amazon", spec, got[0], got[1], f"{AMAZON_REPO} (products, es)", "product_description", notes)


def _load_refranes(spec: CorpusSpec) -> Corpus:
    found = sources.bundled_or_local(FORTUNES)
    if found is None:
        raise _unavailable(spec)
    df = read_table(found[0], ["text"])
    return _finish("refranes", spec, df["text"].tolist(), found[1], sources.display_name(found[0]), "text", [])


def _prose_rows(limit: int = 0) -> tuple[list[Any], list[str], set[str]]:
    """Texts of the two prose sets (each cut to ``limit`` when > 0), their files and sources."""
    raw: list[Any] = []
    origins: list[str] = []
    kinds: set[str] = set()
    for rel in PROSE:
        found = sources.bundled_or_local(rel)
        if found is not None:
            texts = read_table(found[0], ["text"], max_rows=limit, count="text")["text"].tolist()
            raw += texts[:limit] if limit else texts
            origins.append(sources.display_name(found[0]))
            kinds.add(found[1])
    return raw, origins, kinds


def _load_prosa(spec: CorpusSpec) -> Corpus:
    raw, origins, kinds = _prose_rows()
    if not raw:
        raise _unavailable(spec)
    return _finish("prosa", spec, raw, "+".join(sorted(kinds)), "; ".join(origins), "text", [])


def _load_mezcla(spec: CorpusSpec) -> Corpus:
    """Seed 000's mix: poetry + a fraction of Wikipedia (es) + MLSUM (es).

    Offline, the bundled prose stands in for Wikipedia and MLSUM (a note says
    so).  Errors name the mix, not the poetry inside it.
    """
    notes: list[str] = []
    try:
        poetry = _load_poesia(CorpusSpec(preset="poesia"), notes)
    except UserError:
        raise _unavailable(spec) from None
    n_extra = max(1, int(round(len(poetry.texts) * max(0.0, min(float(spec.mix_fraction), 5.0)))))
    raw: list[Any] = list(poetry.texts)
    origins, kinds = [poetry.origin], {poetry.source}
    for repo, config, column in (("wikimedia/wikipedia", "20231101.es", "text"), ("mlsum", "es", "text")):
        got = sources.from_hub_or_cache(repo, config, column, n_extra, notes)
        if got is not None:
            raw += got[0][:n_extra]
            origins.append(f"{repo} ({config})")
            kinds.add(got[1])
    if len(origins) == 1:  # nothing from the hub: the bundled prose stands in
        prose, files, prose_kinds = _prose_rows(n_extra)
        if prose:
            raw += prose
            origins += files
            kinds |= prose_kinds
            notes.append(t("train.note.mix_standin"))
    return _finish("mezcla", spec, raw, "+".join(sorted(kinds)), "; ".join(origins), "text", notes,
                   rows_before=poetry.rows_before + len(raw) - len(poetry.texts))


PRESETS: dict[str, Callable[[CorpusSpec], Corpus]] = {
    "poesia": _load_poesia,
    "quijote": _load_quijote,
    "refranes": _load_refranes,
    "prosa": _load_prosa,
    "mezcla": _load_mezcla,
    "chistes": _load_chistes,
    "amazon": _load_amazon,
}

#: Where each preset comes from (for the UI and docs).
PRESET_SOURCES = {
    "chistes": f"{JOKES_REPO} (text); local: {JOKES}",
    "poesia": "DISCO sonnets, CC BY 4.0 (bundled); hub: somosnlp-hackathon-2022/spanish-poetry-dataset",
    "quijote": "Project Gutenberg #2000 (bundled)",
    "amazon": f"{AMAZON_REPO} (products, product_description, es)",
    "mezcla": "poesía + wikimedia/wikipedia 20231101.es + MLSUM es (offline: bundled prose)",
    "refranes": "fortunes-es, Debian (bundled)",
    "prosa": "XQuAD es + UD Spanish-GSD, CC BY-SA 4.0 (bundled)",
}

# Files (shared data layout) that make a preset loadable without the hub.
_OFFLINE_FILES = {"poesia": (SONNETS,), "quijote": (QUIJOTE,), "refranes": (FORTUNES,), "prosa": PROSE,
                  "mezcla": (SONNETS,), "chistes": (JOKES,)}
_HUB = {"chistes": JOKES_REPO, "poesia": POETRY_REPO, "amazon": AMAZON_REPO}


def availability(check_hub: bool = True) -> dict[str, str]:
    """Preset key → where it loads from now: "bundled" | "local" | "cache" | "hub" | "" (it can't).

    With ``check_hub=False`` no network is touched and a hub-only preset
    reads "" (the tab's first draw; the page load then checks the hub).
    """
    from lm_demo.models import hub_reachable

    online: bool | None = None
    out = {}
    for key in PRESETS:
        files = _OFFLINE_FILES.get(key, ())
        if key == "chistes" and key in _HUB and sources.hub_cache_files(_HUB[key]):
            out[key] = "cache"  # the jokes: the hub's copy first
        elif any(sources.bundled(f) for f in files):
            out[key] = "bundled"
        elif any(sources.local(f) for f in files):
            out[key] = "local"
        elif key in _HUB and sources.hub_cache_files(_HUB[key]):
            out[key] = "cache"
        else:
            if online is None:
                online = bool(check_hub and hub_reachable())
            out[key] = "hub" if online and key in ("chistes", "poesia", "amazon", "quijote") else ""
    return out


def prompt_for(preset: str | None) -> str:
    """The sample prompt in the style of ``preset`` (the default one for a file)."""
    return PRESET_PROMPTS.get((preset or "").strip(), FILE_PROMPT)


__all__ = ["PRESETS", "PRESET_SOURCES", "PRESET_PROMPTS", "DEFAULT_PRESET", "availability", "prompt_for",
           "quijote_paragraphs"]
