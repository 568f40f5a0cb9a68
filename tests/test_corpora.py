"""Corpora: the bundled presets (no data folder needed), the local folder and hub order, uploads, stats, bad files."""

from __future__ import annotations

import csv
import gzip
import json
import statistics

import pytest

from lm_demo.corpora import (
    BUNDLED_DIR,
    MAX_UPLOAD_BYTES,
    CorpusSpec,
    available_presets,
    clean_texts,
    corpus_stats,
    file_columns,
    load_corpus,
    load_file,
    quijote_paragraphs,
)
from lm_demo.errors import UserError

BUNDLED_PRESETS = ("poesia", "quijote", "refranes", "prosa", "mezcla")


@pytest.fixture
def no_data_folder(monkeypatch, tmp_path):
    """A fresh clone: no ../shared/data, no hub."""
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(tmp_path / "no-such-folder"))


@pytest.fixture
def local_only(monkeypatch, tmp_path, local_data):
    """The local data folder, with the bundled copies hidden (tests of the local-folder path)."""
    import lm_demo.corpora.sources as sources

    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(local_data.root))
    monkeypatch.setattr(sources, "BUNDLED_DIR", tmp_path / "no-bundled-data")
    return local_data


def _bundled_text(rel: str) -> str:
    with gzip.open(BUNDLED_DIR / f"{rel}.gz", "rt", encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("preset", BUNDLED_PRESETS)
def test_bundled_presets_load_without_a_data_folder(no_data_folder, preset):
    c = load_corpus(CorpusSpec(preset=preset))
    assert c.rows_after > 100 and all(t.strip() == t and t for t in c.texts)
    assert c.source.startswith("bundled") and c.origin.startswith("lm_demo/data/")
    assert "/work" not in c.origin and not c.origin.startswith("/")  # a display name, never a server path


def _bundled_checksums() -> dict[str, str]:
    """File (shared layout) → SHA-256 of its uncompressed bytes, as ``lm_demo/data/README.md`` lists them."""
    sums = {}
    for line in (BUNDLED_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `") and ".gz`" in line:
            rel = line.split("`")[1][:-3]
            sums[rel] = line.rstrip(" |").rsplit("`", 2)[-2]
    return sums


def _sha256_of_bundled(rel: str) -> str:
    import hashlib

    with gzip.open(BUNDLED_DIR / f"{rel}.gz", "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_bundled_files_are_the_shared_data_byte_for_byte(shared_data):
    """Where ``../shared/data`` is beside the clone (CI): the bundled copies are its files, unchanged."""
    import hashlib

    for rel, digest in _bundled_checksums().items():
        assert _sha256_of_bundled(rel) == digest == hashlib.sha256((shared_data / rel).read_bytes()).hexdigest()


def test_bundled_files_match_their_checksums_licences_and_size():
    """On any clone: each bundled file is what its README's checksum says, with its licence beside it."""
    sums = _bundled_checksums()
    assert len(sums) == 5
    for rel, digest in sums.items():
        assert _sha256_of_bundled(rel) == digest, rel
    # licences and attribution travel with the data; the jokes (no licence) do not
    assert (BUNDLED_DIR / "poesia_disco" / "LICENSE.disco-CC-BY-4.0.txt").is_file()
    assert (BUNDLED_DIR / "prosa" / "LICENSE.CC-BY-SA-4.0.txt").is_file()
    assert (BUNDLED_DIR / "fortunes_es" / "LICENSE-NOTE.md").is_file()
    readme = (BUNDLED_DIR / "README.md").read_text(encoding="utf-8")
    assert "Ruiz Fabo" in readme and "CC BY-SA 4.0" in readme and "off/" in readme
    assert not list(BUNDLED_DIR.rglob("chistes*"))
    assert sum(f.stat().st_size for f in BUNDLED_DIR.rglob("*") if f.is_file()) < 4 * 2**20


def test_refranes_leave_out_the_offensive_section():
    rows = [json.loads(x) for x in _bundled_text("fortunes_es/fortunes_es.jsonl").splitlines()]
    assert len(rows) == 10_788 and not {r["category"] for r in rows} & {"off", "racistas", "sexo"}


def test_quijote_first_lines_become_unwrapped_paragraphs(no_data_folder):
    text = _bundled_text("quijote/quijote.txt")
    paras, used = quijote_paragraphs(text, 300)
    assert used == 300
    assert paras and all("\n" not in p for p in paras)
    first_300 = text.split("\n")[:300]
    assert " ".join(paras).split() == " ".join(first_300).split()  # same words, wraps undone
    c = load_corpus(CorpusSpec(preset="quijote", quijote_lines=300))
    assert c.texts == paras and c.source == "bundled"


def test_mix_offline_uses_bundled_prose_as_standin(no_data_folder):
    poetry = load_corpus(CorpusSpec(preset="poesia"))
    mix = load_corpus(CorpusSpec(preset="mezcla", mix_fraction=0.1))
    assert mix.texts[:len(poetry.texts)] == poetry.texts
    assert len(mix.texts) > len(poetry.texts)
    assert any("Wikipedia" in n for n in mix.notes)


def test_mix_names_itself_when_it_cannot_load(monkeypatch, no_data_folder, tmp_path):
    import lm_demo.corpora.sources as sources

    monkeypatch.setattr(sources, "BUNDLED_DIR", tmp_path / "none")
    with pytest.raises(UserError) as e:
        load_corpus(CorpusSpec(preset="mezcla"))
    assert "Mezcla" in str(e.value) and "Poesía" not in str(e.value)


def test_availability_marks_what_cannot_load_here(no_data_folder):
    avail = available_presets()
    assert {k: avail[k] for k in BUNDLED_PRESETS} == dict.fromkeys(BUNDLED_PRESETS, "bundled")
    assert avail["chistes"] == "" and avail["amazon"] == ""  # offline, no data folder, nothing cached


# --------------------------------------------------------------------------- local data folder
def _jokes(local_data):
    """The jokes file read back with the csv module (its fields hold newlines)."""
    with open(local_data.root / "chistes" / "chistes.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_the_written_data_folder_reads_back_as_written(local_data):
    rows = _jokes(local_data)
    assert rows == local_data.jokes and any("\n" in r["text"] for r in rows)


def test_jokes_come_from_the_local_folder_offline_and_exclude_sexo(local_data, monkeypatch):
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(local_data.root))
    rows = _jokes(local_data)
    n_sexo = sum(r["category"] == "sexo" for r in rows)
    c = load_corpus(CorpusSpec(preset="chistes"))
    assert c.source == "local" and c.text_column == "text"
    assert c.rows_before == len(rows)
    assert c.dropped_category == n_sexo > 0
    assert c.rows_after == len(rows) - n_sexo - c.dropped_empty
    kept = {r["text"].strip() for r in rows if r["category"] != "sexo"}
    assert set(c.texts) <= kept
    assert any("sexo" in n for n in c.notes)
    assert available_presets()["chistes"] == "local"


def test_jokes_without_exclusions_and_max_rows(local_data, monkeypatch):
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(local_data.root))
    rows = _jokes(local_data)
    c = load_corpus(CorpusSpec(preset="chistes", exclude_categories=()))
    assert c.rows_after == sum(bool(r["text"].strip()) for r in rows)
    small = load_corpus(CorpusSpec(preset="chistes", max_rows=50))
    assert len(small.texts) == 50 and small.texts == load_corpus(CorpusSpec(preset="chistes")).texts[:50]


def test_jokes_prefer_the_hub_cache_to_the_local_folder(local_data, monkeypatch, tmp_path):
    """Hub-first for the jokes (no licence to bundle them): a cached download wins over the data folder."""
    import pandas as pd

    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(local_data.root))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snap = tmp_path / "datasets--mrm8488--CHISTES_spanish_jokes" / "snapshots" / "abc" / "data"
    snap.mkdir(parents=True)
    pd.DataFrame({"text": ["Uno del caché.", "Otro del caché."], "category": ["otros", "otros"]}).to_parquet(
        snap / "train.parquet")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    c = load_corpus(CorpusSpec(preset="chistes"))
    assert c.source == "cache" and c.texts == ["Uno del caché.", "Otro del caché."]


def test_local_folder_is_the_fallback_of_bundled_presets(local_only):
    c = load_corpus(CorpusSpec(preset="refranes"))
    assert c.source == "local" and c.origin == "fortunes_es/fortunes_es.jsonl"
    assert c.texts == [r["text"] for r in local_only.fortunes]
    poetry = load_corpus(CorpusSpec(preset="poesia"))
    assert poetry.source == "local" and poetry.texts == local_only.sonnets
    prose = load_corpus(CorpusSpec(preset="prosa"))
    assert prose.source == "local" and prose.texts == local_only.prose
    assert available_presets()["poesia"] == "local"


def test_default_data_folder_is_the_shared_one_beside_the_clone_when_there_is_one(monkeypatch, tmp_path):
    """Unset ``LM_DEMO_DATA_DIR``: ``<clone>/../shared/data`` where it exists (CI), none on a lone clone."""
    import lm_demo.corpora.sources as sources

    monkeypatch.delenv("LM_DEMO_DATA_DIR", raising=False)
    clone = tmp_path / "lm_demo"
    clone.mkdir()
    monkeypatch.setattr(sources, "REPO_ROOT", clone)
    assert sources.data_dir() is None and sources.local("chistes/chistes.csv") is None
    (tmp_path / "shared" / "data" / "chistes").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "chistes" / "chistes.csv").write_text("id,text\n0,Uno.\n", encoding="utf-8")
    assert sources.data_dir() == (tmp_path / "shared" / "data").resolve()
    assert sources.local("chistes/chistes.csv") is not None


def test_hub_only_preset_offline_suggests_upload(no_data_folder):
    with pytest.raises(UserError) as e:
        load_corpus(CorpusSpec(preset="amazon"))
    assert e.value.key == "train.corpus.preset_unavailable"
    assert "sube un archivo" in str(e.value) and "Elige otro corpus" in str(e.value)


def test_jokes_without_data_folder_are_unavailable(no_data_folder):
    with pytest.raises(UserError) as e:
        load_corpus(CorpusSpec(preset="chistes"))
    assert e.value.key == "train.corpus.preset_unavailable"


def test_unknown_preset():
    with pytest.raises(UserError, match="desconocido"):
        load_corpus(CorpusSpec(preset="klingon"))


def test_clean_texts_drops_null_and_empty():
    texts, dropped = clean_texts(["  hola ", None, float("nan"), "", "   \n", "a\r\nb"])
    assert texts == ["hola", "a\nb"] and dropped == 4


# --------------------------------------------------------------------------- uploads
def test_txt_lines_and_blocks(tmp_path):
    p = tmp_path / "cuentos.txt"
    p.write_text("uno\ndos\n\ntres\ncuatro\n\n\n", encoding="utf-8")
    assert load_file(p, txt_mode="lines").texts == ["uno", "dos", "tres", "cuatro"]
    assert load_file(p, txt_mode="blocks").texts == ["uno\ndos", "tres\ncuatro"]
    assert load_file(p).source == "file"


def test_csv_jsonl_parquet_pick_the_text_column(tmp_path):
    import pandas as pd

    df = pd.DataFrame({"id": [1, 2, 3], "texto": ["una frase", "", "otra frase más larga"], "nota": [1.0, 2.0, 3.0]})
    csv_p, jsonl_p, pq_p = tmp_path / "a.csv", tmp_path / "a.jsonl", tmp_path / "a.parquet"
    df.to_csv(csv_p, index=False)
    df.to_json(jsonl_p, orient="records", lines=True, force_ascii=False)
    df.to_parquet(pq_p)
    for p in (csv_p, jsonl_p, pq_p):
        c = load_file(p)
        assert c.text_column == "texto" and c.texts == ["una frase", "otra frase más larga"], p
        assert c.rows_before == 3 and c.dropped_empty == 1
        assert "texto" in file_columns(p)
    assert load_file(csv_p, text_column="TEXTO").text_column == "texto"


def test_empty_file(tmp_path):
    p = tmp_path / "vacio.txt"
    p.write_bytes(b"")
    with pytest.raises(UserError, match="vacío"):
        load_file(p)
    q = tmp_path / "blancos.txt"
    q.write_text("\n  \n\n", encoding="utf-8")
    with pytest.raises(UserError, match="ningún texto"):
        load_file(q)


def test_binary_file(tmp_path):
    p = tmp_path / "imagen.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UserError) as e:
        load_file(p)
    assert e.value.key == "train.corpus.binary" and "imagen.txt" in str(e.value)


def test_non_utf8_file(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes("text\ncanción de cuna\nañoranza\n".encode("latin-1"))
    with pytest.raises(UserError) as e:
        load_file(p)
    assert e.value.key == "train.corpus.not_utf8" and "UTF-8" in str(e.value)


def test_csv_without_text_column(tmp_path):
    p = tmp_path / "numeros.csv"
    p.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        load_file(p)
    assert e.value.key == "train.corpus.no_text_column" and "a, b" in str(e.value)
    q = tmp_path / "t.csv"
    q.write_text("texto\nhola\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        load_file(q, text_column="content")
    assert e.value.key == "train.corpus.no_column" and "texto" in str(e.value)


def test_upload_of_200_mb_is_refused_before_reading(tmp_path):
    p = tmp_path / "enorme.txt"
    with open(p, "wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: instant, no disk used
    with pytest.raises(UserError) as e:
        load_file(p)
    assert e.value.key == "train.corpus.too_big"
    assert "200 MB" in str(e.value) and str(MAX_UPLOAD_BYTES // 2**20) in str(e.value)


def test_bad_type_and_bad_json(tmp_path):
    p = tmp_path / "doc.docx"
    p.write_bytes(b"PK\x03\x04")
    with pytest.raises(UserError, match="tipo de archivo"):
        load_file(p)
    q = tmp_path / "roto.jsonl"
    q.write_text('{"text": "hola"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(UserError, match="JSON"):
        load_file(q)
    r = tmp_path / "falso.parquet"
    r.write_text("no soy parquet", encoding="utf-8")
    with pytest.raises(UserError, match="Parquet"):
        load_file(r)


# --------------------------------------------------------------------------- stats
def test_stats_count_words_and_tokens(bundled, tmp_path):
    from lm_demo.charts.training import length_histogram

    p = tmp_path / "t.jsonl"
    texts = ["Había una vez un gato.", "El perro ladra", "Uno dos tres cuatro cinco seis"]
    p.write_text("\n".join(json.dumps({"text": x}, ensure_ascii=False) for x in texts), encoding="utf-8")
    c = load_file(p)
    s = corpus_stats(c, bundled.tokenizer)
    assert s.word_lengths == [5, 3, 6] and s.median_words == 5 and s.n_words == 14
    expect = [len(bundled.tokenizer(x, add_special_tokens=False)["input_ids"]) for x in texts]
    assert s.token_lengths == expect and s.n_tokens == sum(expect)
    assert s.median_tokens == statistics.median(expect)
    assert [r[1] for r in s.table()][:2] == [3, 3]
    fig = length_histogram(s.word_lengths)
    assert fig.data[0].type == "histogram" and len(fig.data[0].x) == 3


def test_a_presets_stats_are_kept_per_language_and_an_upload_is_always_read_again(bundled, tmp_path, no_data_folder):
    """A class opening the stats of the same preset gets the first answer again; an upload is never kept."""
    from lm_demo.corpora import CorpusSpec, describe_corpus
    from lm_demo.locales import use_lang

    first = describe_corpus(CorpusSpec(preset="refranes", max_rows=300), bundled.tokenizer)
    again = describe_corpus(CorpusSpec(preset="refranes", max_rows=300), bundled.tokenizer)
    assert again is first and first[1].rows_after == 300
    assert describe_corpus(CorpusSpec(preset="refranes", max_rows=200), bundled.tokenizer)[1].rows_after == 200
    listed = CorpusSpec(preset="refranes", max_rows=300, exclude_categories=["sexo"])  # by hand, in a notebook
    assert describe_corpus(listed, bundled.tokenizer)[1].token_lengths == first[1].token_lengths
    with use_lang("en"):
        english = describe_corpus(CorpusSpec(preset="refranes", max_rows=300), bundled.tokenizer)
    assert english is not first and english[0].label != first[0].label  # "Proverbs", not «Refranes»
    assert english[1].token_lengths == first[1].token_lengths
    p = tmp_path / "clase.txt"
    p.write_text("uno\ndos\n", encoding="utf-8")
    assert describe_corpus(CorpusSpec(path=str(p)), bundled.tokenizer)[1].rows_after == 2
    p.write_text("uno\ndos\ntres\n", encoding="utf-8")
    assert describe_corpus(CorpusSpec(path=str(p)), bundled.tokenizer)[1].rows_after == 3


# --------------------------------------------------------------------------- limits (what a read may produce)
from lm_demo.corpora import CorpusLimits, prepared  # noqa: E402
from lm_demo.corpora.files import precheck, read_table  # noqa: E402

SMALL = CorpusLimits(file_bytes=2_000_000, text_bytes=20_000, rows=500, field_bytes=2_000)


def _parquet_bomb(path, rows=1_000_000, text="Había una vez un texto que se repetía sin parar en la misma columna"):
    """A Parquet file of ``rows`` copies of one string: dictionary-encoded, a few KB on disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": pa.array([text] * rows)}), path, compression="zstd", use_dictionary=True)
    return path


def test_a_parquet_bomb_is_refused_from_its_metadata_and_usable_in_part(tmp_path):
    bomb = _parquet_bomb(tmp_path / "bomba.parquet")
    assert bomb.stat().st_size < 50_000
    for check in (lambda: load_file(bomb), lambda: precheck(bomb)):
        with pytest.raises(UserError) as e:
            check()
        assert e.value.key == "train.corpus.too_many_rows" and "bomba.parquet" in str(e.value)
        assert "100000" in str(e.value) and "Máximo de textos" in str(e.value)
    c = load_file(bomb, max_rows=1000)  # the teacher's "Máximo de textos": only those rows are read
    assert len(c.texts) == 1000 and c.rows_before == 1000 and "primeros 1.000 textos" in c.notes[0]
    assert file_columns(bomb) == ["text"]


def test_parquet_rows_are_summed_before_their_strings_exist(tmp_path):
    """One 5 KB string repeated: the per-batch lengths refuse it while the column is still a dictionary."""
    bomb = _parquet_bomb(tmp_path / "largo.parquet", rows=400, text="palabra " * 640)
    with pytest.raises(UserError) as e:
        load_file(bomb, limits=SMALL)
    assert e.value.key == "train.corpus.text_too_long"
    wide = _parquet_bomb(tmp_path / "muchos.parquet", rows=400, text="una frase de poema " * 5)
    with pytest.raises(UserError) as e:
        load_file(wide, limits=SMALL)
    assert e.value.key == "train.corpus.too_much_text" and "19 KB de texto" in str(e.value)


def test_a_dictionary_typed_parquet_column_is_text(tmp_path):
    """(A pyarrow dictionary column became a pandas Categorical, and the column guess failed with a TypeError.)"""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arr = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int32()), pa.array(["una frase", "otra frase"]))
    p = tmp_path / "categorias.parquet"
    pq.write_table(pa.table({"texto": arr, "n": [1, 2, 3]}), p)
    c = load_file(p)
    assert c.text_column == "texto" and c.texts == ["una frase", "otra frase", "una frase"]


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".jsonl", ".json", ".parquet"])
def test_every_format_refuses_too_much_text_and_too_many_rows(tmp_path, suffix):
    import pandas as pd

    many = pd.DataFrame({"texto": [f"verso número {i} de un poema" for i in range(800)], "id": range(800)})
    p = tmp_path / f"poemas{suffix}"
    if suffix == ".txt":
        p.write_text("\n".join(many["texto"]), encoding="utf-8")
    elif suffix == ".csv":
        many.to_csv(p, index=False)
    elif suffix == ".jsonl":
        many.to_json(p, orient="records", lines=True, force_ascii=False)
    elif suffix == ".json":
        many.to_json(p, orient="records", force_ascii=False)
    else:
        many.to_parquet(p)
    rows_only = CorpusLimits(file_bytes=2_000_000, text_bytes=1_000_000, rows=500, field_bytes=2_000)
    with pytest.raises(UserError) as e:
        load_file(p, limits=rows_only)
    assert e.value.key == "train.corpus.too_many_rows" and "500" in str(e.value)
    text_only = CorpusLimits(file_bytes=2_000_000, text_bytes=10_000, rows=10_000, field_bytes=2_000)
    with pytest.raises(UserError) as e:
        load_file(p, limits=text_only)
    assert e.value.key in ("train.corpus.too_much_text", "train.corpus.json_too_big"), e.value.key
    if suffix != ".json":  # a plain JSON file is parsed whole: it must be small, whatever is asked for
        c = load_file(p, max_rows=100, limits=SMALL)
        assert c.texts == list(many["texto"][:100]) and c.notes
    assert len(load_file(p, max_rows=100).texts) == 100  # the default limits hold it all


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".jsonl"])
def test_one_huge_text_is_refused_before_it_is_tokenized(tmp_path, suffix):
    word = "palabra "
    huge = (word * (3 * 2**20 // len(word))).strip()  # 3 MB on one line
    p = tmp_path / f"una_linea{suffix}"
    if suffix == ".txt":
        p.write_text(huge, encoding="utf-8")
    elif suffix == ".csv":
        p.write_text("text\n" + huge + "\n", encoding="utf-8")
    else:
        p.write_text(json.dumps({"text": huge}) + "\n", encoding="utf-8")
    with pytest.raises(UserError) as e:
        load_file(p)
    assert e.value.key == "train.corpus.text_too_long" and "1 MB" in str(e.value)
    if suffix != ".txt":
        with pytest.raises(UserError):
            file_columns(p)  # the column picker reads the first rows: refused there already


def test_a_gzip_that_unpacks_past_the_file_limit_is_cut_off(tmp_path):
    p = tmp_path / "bomba.csv.gz"
    with gzip.open(p, "wb") as f:
        f.write(b"text\n")
        for _ in range(30):
            f.write((b"a b c d " * 100 + b"\n") * 1_000)  # 24 MB of text, a few KB compressed
    assert p.stat().st_size < 200_000
    with pytest.raises(UserError) as e:
        load_file(p, limits=CorpusLimits(file_bytes=5 * 2**20))
    assert e.value.key == "train.corpus.too_big_unpacked" and "5 MB" in str(e.value)
    txt = tmp_path / "bomba.txt.gz"
    with gzip.open(txt, "wb") as f:
        f.write(b"hola\n" * 5_000_000)
    with pytest.raises(UserError) as e:
        load_file(txt)
    assert e.value.key in ("train.corpus.too_much_text", "train.corpus.too_many_rows")


def test_a_txt_over_the_limit_is_refused_by_its_size_or_read_in_part(tmp_path):
    p = tmp_path / "libro.txt"
    p.write_text("".join(f"línea {i}\n" for i in range(3000)), encoding="utf-8")
    with pytest.raises(UserError) as e:
        precheck(p, limits=SMALL)  # by os.stat, no byte read
    assert e.value.key == "train.corpus.too_much_text"
    precheck(p, max_rows=10, limits=SMALL)
    c = load_file(p, max_rows=50, limits=SMALL)
    assert c.texts == [f"línea {i}" for i in range(50)]
    with pytest.raises(UserError) as e:  # the part within the limit holds fewer than asked for
        load_file(p, max_rows=2900, limits=CorpusLimits(text_bytes=20_000, rows=5_000))
    assert e.value.key == "train.corpus.too_much_text"


def test_too_many_columns(tmp_path):
    p = tmp_path / "ancho.csv"
    p.write_text(",".join(f"c{i}" for i in range(2000)) + "\n" + ",".join("x" for _ in range(2000)) + "\n")
    with pytest.raises(UserError) as e:
        file_columns(p)
    assert e.value.key == "train.corpus.too_many_columns" and "más de 1000 columnas" in str(e.value)


def test_limits_from_the_environment(monkeypatch, tmp_path):
    from lm_demo.corpora import corpus_limits

    monkeypatch.delenv("LM_DEMO_MAX_CORPUS_MB", raising=False)
    monkeypatch.delenv("LM_DEMO_MAX_CORPUS_ROWS", raising=False)
    default = corpus_limits()
    assert default.text_bytes == 10 * 2**20 and default.rows == 100_000 and default.file_bytes == MAX_UPLOAD_BYTES
    monkeypatch.setenv("LM_DEMO_MAX_CORPUS_MB", "200")
    monkeypatch.setenv("LM_DEMO_MAX_CORPUS_ROWS", "2000000")
    raised = corpus_limits()
    assert raised.text_bytes == raised.file_bytes == 200 * 2**20 and raised.rows == 2_000_000
    assert raised.field_bytes == default.field_bytes
    monkeypatch.setenv("LM_DEMO_MAX_CORPUS_MB", "nan")
    assert corpus_limits().text_bytes == default.text_bytes
    bomb = _parquet_bomb(tmp_path / "b.parquet", rows=150_000)
    monkeypatch.setenv("LM_DEMO_MAX_CORPUS_MB", "20")
    assert len(load_file(bomb).texts) == 150_000  # the operator (or the CLI's flags) raised them


def test_a_table_of_presets_reads_only_its_columns_within_limits(no_data_folder):
    df = read_table(BUNDLED_DIR / "fortunes_es" / "fortunes_es.jsonl.gz", ["text"])
    assert list(df.columns) == ["text"] and len(df) > 10_000
    with pytest.raises(UserError) as e:
        read_table(BUNDLED_DIR / "fortunes_es" / "fortunes_es.jsonl.gz", ["texto"])
    assert e.value.key == "train.corpus.no_column"


def test_one_corpus_preparation_at_a_time():
    import threading

    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "hecho"

    first = threading.Thread(target=lambda: prepared(slow))
    first.start()
    assert started.wait(10)
    try:
        with pytest.raises(UserError) as e:
            prepared(lambda: "otro", wait_s=0.2)
        assert e.value.key == "train.corpus.busy" and "Inténtalo de nuevo" in str(e.value)
    finally:
        release.set()
        first.join(10)
    assert prepared(lambda: "libre", wait_s=0.2) == "libre"


def test_origins_are_display_names_never_server_paths(no_data_folder, tmp_path):
    from lm_demo.corpora.sources import display_name

    assert load_corpus(CorpusSpec(preset="quijote")).origin == "lm_demo/data/quijote/quijote.txt.gz"
    up = tmp_path / "gradio" / "ab12" / "mis poemas.txt"
    up.parent.mkdir(parents=True)
    up.write_text("uno\ndos\n", encoding="utf-8")
    assert load_file(up).origin == "mis poemas.txt"
    assert display_name(up) == "mis poemas.txt"
