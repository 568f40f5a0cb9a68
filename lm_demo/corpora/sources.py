"""Where a preset's data can come from: bundled, local data folder, hub cache, hub.

Why this order: the app must teach in a fresh clone, offline (a GitHub
download, a Space, a classroom without internet).  So the redistributable
corpora ship inside the package (``lm_demo/data/``, gzip, with their licences;
see its README); then comes the local data folder (``LM_DEMO_DATA_DIR``, set
by ``app.py --data-dir``; by default ``<repo>/../shared/data`` when it
exists); then the files of a previous download in the hub cache (no network
call at all); and only then the hub, when ``models.hub_reachable()`` says it
answers (the hub client would otherwise stall ~23 s per file).

Every file is read through ``lm_demo.corpora.files`` (one place for limits).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from lm_demo import env
from lm_demo.corpora.files import read_table
from lm_demo.errors import UserError
from lm_demo.locales import t

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_DIR = Path(__file__).resolve().parents[1] / "data"


def data_dir() -> Path | None:
    """The local data folder, or None when there is none."""
    folder = env.data_dir()
    if folder:
        p = Path(folder).expanduser()
        return p.resolve() if p.is_dir() else None
    p = REPO_ROOT.parent / "shared" / "data"
    return p.resolve() if p.is_dir() else None


def bundled(rel: str) -> Path | None:
    """The copy of ``rel`` (a path of the shared data layout) shipped in ``lm_demo/data/``, gzipped."""
    p = BUNDLED_DIR / f"{rel}.gz"
    return p if p.is_file() else None


def local(rel: str) -> Path | None:
    """``rel`` in the local data folder, if it is there."""
    d = data_dir()
    if d is None:
        return None
    p = d / rel
    return p if p.is_file() else None


def bundled_or_local(rel: str) -> tuple[Path, str] | None:
    """(path, "bundled" | "local") for ``rel``, bundled first."""
    p = bundled(rel)
    if p is not None:
        return p, "bundled"
    p = local(rel)
    return (p, "local") if p is not None else None


def display_name(path: Path) -> str:
    """How a corpus file is named on screen and in a model's metadata: never a server path.

    Bundled: ``lm_demo/data/<file>``; in the local data folder: the path inside
    it; anything else (an upload): its file name.
    """
    p = Path(path).resolve()
    for root, prefix in ((BUNDLED_DIR, "lm_demo/data/"), (data_dir(), "")):
        if root is None:
            continue
        try:
            return prefix + p.relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            continue
    return p.name


def hub_cache_files(repo: str, config: str | None = None) -> list[Path]:
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


def rows_from_cache(repo: str, config: str | None, column: str, max_rows: int,
                    filter_column: tuple[str, str] | None = None) -> list[Any] | None:
    values: list[Any] = []
    columns = [column] + ([filter_column[0]] if filter_column is not None else [])
    for f in hub_cache_files(repo, config):
        want = max_rows - len(values) if max_rows and filter_column is None else 0
        try:  # a cached file over the corpus limits is skipped like a broken one
            df = read_table(f, columns, max_rows=want, count=column)
        except UserError:
            continue
        if filter_column is not None:
            df = df[df[filter_column[0]] == filter_column[1]]
        values.extend(df[column].tolist())
        if max_rows and len(values) >= max_rows:
            break
    return values or None


def rows_from_hub(repo: str, config: str | None, column: str, max_rows: int,
                  row_filter: Callable[[dict], bool] | None = None) -> list[Any]:
    """Rows of a hub dataset (streamed when we need only some of them)."""
    import datasets

    from lm_demo.corpora.limits import corpus_limits, too_many_rows

    limits = corpus_limits()
    streaming = bool(max_rows)
    ds = datasets.load_dataset(repo, config, split="train", streaming=streaming)
    out: list[Any] = []
    for row in ds:
        if row_filter is not None and not row_filter(row):
            continue
        out.append(row.get(column))
        if max_rows and len(out) >= max_rows:
            break
        if len(out) > limits.rows:
            raise too_many_rows(repo, limits)
    return out


def from_hub_or_cache(repo: str, config: str | None, column: str, max_rows: int, notes: list[str],
                      row_filter: Callable[[dict], bool] | None = None,
                      filter_column: tuple[str, str] | None = None) -> tuple[list[Any], str] | None:
    """(values, source) from the cache or, when reachable, the hub; None if neither."""
    from lm_demo.models import hub_reachable

    cached = rows_from_cache(repo, config, column, max_rows, filter_column)
    if cached:
        notes.append(t("train.note.from_cache", repo=repo))
        return (cached[:max_rows] if max_rows else cached), "cache"
    if not hub_reachable():
        return None
    try:
        return rows_from_hub(repo, config, column, max_rows, row_filter), "hub"
    except Exception as e:  # noqa: BLE001 - hub/datasets raise many types
        notes.append(t("train.note.hub_failed", repo=repo, detail=type(e).__name__))
        return None


def table_from_hub_or_cache(repo: str, notes: list[str]) -> tuple[Any, str] | None:
    """A whole (small) hub dataset as a DataFrame: (frame, "cache" | "hub"), or None."""
    import pandas as pd

    from lm_demo.models import hub_reachable

    frames = []
    for f in hub_cache_files(repo):
        try:
            frames.append(read_table(f))
        except UserError:
            continue
    if frames:
        notes.append(t("train.note.from_cache", repo=repo))
        return pd.concat(frames, ignore_index=True), "cache"
    if not hub_reachable():
        return None
    try:
        import datasets

        from lm_demo.corpora.limits import corpus_limits, too_many_rows

        ds = datasets.load_dataset(repo, split="train")
        if len(ds) > corpus_limits().rows:
            raise too_many_rows(repo, corpus_limits())
        return ds.to_pandas(), "hub"
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001
        notes.append(t("train.note.hub_failed", repo=repo, detail=type(e).__name__))
        return None


__all__ = ["BUNDLED_DIR", "data_dir", "display_name", "bundled", "local", "bundled_or_local", "hub_cache_files",
           "rows_from_cache", "rows_from_hub", "from_hub_or_cache", "table_from_hub_or_cache"]
