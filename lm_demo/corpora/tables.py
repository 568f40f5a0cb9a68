"""Table files read in chunks of the needed columns: CSV/TSV, JSONL, JSON, Parquet.

Only ``files.read_table`` calls ``chunks``; bytes come through ``streams``; the limits themselves (what a
read may produce, when it stops) are ``limits.Budget``'s.  What each format
does so that nothing large exists before the budget has seen it:

- CSV/TSV: the header's column count first, then pandas in chunks of
  ``CHUNK_ROWS`` rows with ``usecols``; the stream itself stops at the file
  limit (a ``.gz`` decompressed past it is refused).
- JSONL: one line at a time, keeping only the needed keys.
- JSON: the whole file only when it is within the text limit.
- Parquet: the metadata first (row count and the columns' uncompressed
  size: a file over the limits is refused without reading a row), then
  ``iter_batches`` of ``PARQUET_BATCH`` rows with dictionary-encoded columns
  kept as dictionaries, so a million repeats of one string are a million
  small integers until their lengths have been summed.
"""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path
from typing import Any, Iterator, Sequence

from lm_demo.corpora.streams import data_suffix, decode, first_bad_utf8, open_corpus, read_corpus_bytes
from lm_demo.corpora.limits import MAX_COLUMNS, Budget, json_too_big, text_too_long, too_many_rows, too_much_text
from lm_demo.errors import UserError

CHUNK_ROWS = 2_000
PARQUET_BATCH = 256
SNIFF_BYTES = 8192


def chunks(path: Path, columns: Sequence[str] | None, budget: Budget) -> Iterator[Any]:
    """DataFrames of ``columns`` (all when None), in file order, for ``budget.take``."""
    suffix = data_suffix(path)
    if suffix == ".parquet":
        yield from _parquet(path, columns, budget)
        return
    head = _sniff(path, budget)
    if suffix in (".csv", ".tsv"):
        yield from _csv(path, columns, budget, "\t" if suffix == ".tsv" else ",", head)
    elif suffix == ".jsonl":
        yield from _jsonl(path, columns, budget)
    else:
        yield from _json(path, columns, budget)


def _sniff(path: Path, budget: Budget) -> bytes:
    """The first bytes (decompressed): a binary file is refused before a parser sees it."""
    with open_corpus(path, budget.limits) as f:
        head = f.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise UserError("train.corpus.binary", name=path.name)
    return head


def _bad(path: Path, fmt: str, e: BaseException | None = None) -> UserError:
    err = UserError("train.corpus.bad_format", name=path.name, fmt=fmt)
    if e is not None:
        err.__cause__ = e
    return err


def _not_utf8(path: Path, budget: Budget) -> UserError:
    return UserError("train.corpus.not_utf8", name=path.name, pos=max(0, first_bad_utf8(path, budget.limits)))


def _too_many_columns(path: Path) -> UserError:
    return UserError("train.corpus.too_many_columns", name=path.name, max=MAX_COLUMNS)


# --------------------------------------------------------------------------- CSV / TSV
def _csv(path: Path, columns: Sequence[str] | None, budget: Budget, sep: str, head: bytes) -> Iterator[Any]:
    import pandas as pd

    first = head.split(b"\n", 1)[0]
    if first.count(sep.encode()) + 1 > MAX_COLUMNS:
        raise _too_many_columns(path)
    fmt = "TSV" if sep == "\t" else "CSV"
    with open_corpus(path, budget.limits) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig") as text:
        try:
            reader = pd.read_csv(text, sep=sep, dtype=str, keep_default_na=True, chunksize=CHUNK_ROWS,
                                 usecols=list(columns) if columns is not None else None)
            for chunk in reader:
                if len(chunk.columns) > MAX_COLUMNS:
                    raise _too_many_columns(path)
                yield chunk
        except UserError:
            raise
        except UnicodeDecodeError:
            raise _not_utf8(path, budget) from None
        except ValueError as e:
            if columns is not None and "usecols" in str(e).lower():
                header = pd.read_csv(io.StringIO(decode(head, path.name).split("\n", 1)[0]), sep=sep, nrows=0)
                raise UserError("train.corpus.no_column", name=path.name, column=next(iter(columns)),
                                columns=", ".join(map(str, header.columns)) or "—") from None
            raise _bad(path, fmt, e) from None
        except Exception as e:  # noqa: BLE001 - pandas parse errors
            raise _bad(path, fmt, e) from None


# --------------------------------------------------------------------------- JSON lines / JSON
def _rows_frame(rows: list[dict], columns: Sequence[str] | None, path: Path) -> Any:
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(columns) if columns is not None else None)
    if len(frame.columns) > MAX_COLUMNS:
        raise _too_many_columns(path)
    return frame


def _keep(obj: Any, columns: Sequence[str] | None) -> dict:
    row = obj if isinstance(obj, dict) else {"text": obj}
    return row if columns is None else {c: row.get(c) for c in columns}


def _jsonl(path: Path, columns: Sequence[str] | None, budget: Budget) -> Iterator[Any]:
    rows: list[dict] = []
    seen: set[str] = set()
    offset = 0
    with open_corpus(path, budget.limits) as f:
        for i, line in enumerate(f):
            start = offset
            offset += len(line)
            if i == 0 and line.startswith(codecs.BOM_UTF8):
                line, start = line[len(codecs.BOM_UTF8):], start + len(codecs.BOM_UTF8)
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise UserError("train.corpus.not_utf8", name=path.name, pos=start + e.start) from None
            except ValueError as e:
                raise _bad(path, "JSON", e) from None
            if isinstance(obj, dict):
                if len(obj) > MAX_COLUMNS:
                    raise _too_many_columns(path)
                if columns is not None:
                    seen.update(obj)
            rows.append(_keep(obj, columns))
            if len(rows) >= CHUNK_ROWS:
                yield _rows_frame(rows, columns, path)
                rows = []
    if rows:
        yield _rows_frame(rows, columns, path)
    _check_seen(path, columns, seen)


def _check_seen(path: Path, columns: Sequence[str] | None, seen: set[str]) -> None:
    if columns is not None and seen and any(c not in seen for c in columns):
        missing = next(c for c in columns if c not in seen)
        raise UserError("train.corpus.no_column", name=path.name, column=missing, columns=", ".join(sorted(seen)))


def _json(path: Path, columns: Sequence[str] | None, budget: Budget) -> Iterator[Any]:
    """A plain JSON file (a list of rows, or an object holding one) parsed whole: only when it is small."""
    data, whole = read_corpus_bytes(path, limits=budget.limits)
    if not whole:
        raise json_too_big(path.name, budget.limits)
    try:
        parsed = json.loads(decode(data, path.name))
    except UserError:
        raise
    except ValueError as e:
        raise _bad(path, "JSON", e) from None
    del data
    if isinstance(parsed, dict):
        parsed = next((v for v in parsed.values() if isinstance(v, list)), [parsed])
    if not isinstance(parsed, list):
        parsed = [parsed]
    seen: set[str] = set()
    for i in range(0, len(parsed), CHUNK_ROWS):
        part = parsed[i:i + CHUNK_ROWS]
        for obj in part:
            if isinstance(obj, dict):
                seen.update(obj)
                if len(seen) > MAX_COLUMNS:
                    raise _too_many_columns(path)
        yield _rows_frame([_keep(o, columns) for o in part], columns, path)
    _check_seen(path, columns, seen)


# --------------------------------------------------------------------------- Parquet
def _is_text_type(pa: Any, typ: Any) -> bool:
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return pa.types.is_string(typ) or pa.types.is_large_string(typ) or getattr(pa.types, "is_string_view",
                                                                                lambda _t: False)(typ)


def _lengths(pa: Any, pc: Any, arr: Any) -> Any:
    """Byte length of every value of a text column (0 for nulls), without decoding a dictionary."""
    if pa.types.is_dictionary(arr.type):
        per_value = pc.binary_length(arr.dictionary)
        lengths = pc.take(per_value, arr.indices)
    else:
        lengths = pc.binary_length(arr)
    return pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False)


def _parquet_metadata_check(pf: Any, texts: list[str], budget: Budget, path: Path) -> None:
    """Refuse from the metadata alone what is over the limits (nothing read yet)."""
    md, limits = pf.metadata, budget.limits
    leaf = {md.schema.column(i).path: i for i in range(md.num_columns)}  # flat columns: the name
    total = 0
    for g in range(md.num_row_groups):
        group = md.row_group(g)
        for name in texts:
            if name not in leaf:
                continue
            size = group.column(leaf[name]).total_uncompressed_size
            if group.num_rows and size / group.num_rows > limits.field_bytes:
                raise text_too_long(path.name, limits)
            total += max(0, size - 4 * group.num_rows)  # PLAIN writes a 4-byte length before each value
    if budget.quiet or budget.stop_at:
        return  # a sample, or the first rows only: the batches are checked as they come
    if md.num_rows > limits.rows:
        raise too_many_rows(path.name, limits)
    if total > limits.text_bytes:
        raise too_much_text(path.name, limits)


def parquet_rows(path: Path) -> int:
    """The row count a Parquet file's metadata gives (0 when it is not readable Parquet: the read says why)."""
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # noqa: BLE001
        return 0


def _parquet(path: Path, columns: Sequence[str] | None, budget: Budget) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with open_corpus(path, budget.limits) as f:
        if f.read(4) != b"PAR1":
            raise _bad(path, "Parquet")
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
    except Exception as e:  # noqa: BLE001 - pyarrow raises many types
        raise _bad(path, "Parquet", e) from None
    if len(schema.names) > MAX_COLUMNS:
        raise _too_many_columns(path)
    wanted = list(columns) if columns is not None else list(schema.names)
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise UserError("train.corpus.no_column", name=path.name, column=missing[0],
                        columns=", ".join(schema.names) or "—")
    texts = [c for c in wanted if _is_text_type(pa, schema.field(c).type)]
    try:
        _parquet_metadata_check(pf, texts, budget, path)
        reader = pq.ParquetFile(path, read_dictionary=texts)
        for batch in reader.iter_batches(batch_size=PARQUET_BATCH, columns=wanted):
            arrays = []
            for name, arr in zip(batch.schema.names, batch.columns):
                if name in texts:
                    budget.precheck(_lengths(pa, pc, arr))
                    if pa.types.is_dictionary(arr.type):
                        arr = arr.dictionary_decode()
                arrays.append(arr)
            yield pa.Table.from_arrays(arrays, names=batch.schema.names).to_pandas()
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001
        raise _bad(path, "Parquet", e) from None


__all__ = ["chunks", "parquet_rows", "CHUNK_ROWS", "PARQUET_BATCH"]
