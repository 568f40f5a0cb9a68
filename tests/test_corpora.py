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
def local_only(monkeypatch, tmp_path, shared_data):
    """The local data folder, with the bundled copies hidden (tests of the local-folder path)."""
    import lm_demo.corpora.sources as sources

    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(shared_data))
    monkeypatch.setattr(sources, "BUNDLED_DIR", tmp_path / "no-bundled-data")


def _bundled_text(rel: str) -> str:
    with gzip.open(BUNDLED_DIR / f"{rel}.gz", "rt", encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("preset", BUNDLED_PRESETS)
def test_bundled_presets_load_without_a_data_folder(no_data_folder, preset):
    c = load_corpus(CorpusSpec(preset=preset))
    assert c.rows_after > 100 and all(t.strip() == t and t for t in c.texts)
    assert c.source.startswith("bundled") and "lm_demo/data" in c.origin


def test_bundled_files_are_the_shared_data_byte_for_byte(shared_data):
    import hashlib

    sums = {}
    for line in (BUNDLED_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| `") and ".gz`" in line:
            rel = line.split("`")[1][:-3]
            sums[rel] = line.rstrip(" |").rsplit("`", 2)[-2]
    assert len(sums) == 5
    for rel, digest in sums.items():
        with gzip.open(BUNDLED_DIR / f"{rel}.gz", "rb") as f:
            data = f.read()
        assert hashlib.sha256(data).hexdigest() == digest == hashlib.sha256((shared_data / rel).read_bytes()).hexdigest()
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
def _jokes(shared_data):
    with open(shared_data / "chistes" / "chistes.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_jokes_come_from_the_local_folder_offline_and_exclude_sexo(shared_data, monkeypatch):
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(shared_data))
    rows = _jokes(shared_data)
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


def test_jokes_without_exclusions_and_max_rows(shared_data, monkeypatch):
    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(shared_data))
    rows = _jokes(shared_data)
    c = load_corpus(CorpusSpec(preset="chistes", exclude_categories=()))
    assert c.rows_after == sum(bool(r["text"].strip()) for r in rows)
    small = load_corpus(CorpusSpec(preset="chistes", max_rows=50))
    assert len(small.texts) == 50 and small.texts == load_corpus(CorpusSpec(preset="chistes")).texts[:50]


def test_jokes_prefer_the_hub_cache_to_the_local_folder(shared_data, monkeypatch, tmp_path):
    """Hub-first for the jokes (no licence to bundle them): a cached download wins over the data folder."""
    import pandas as pd

    monkeypatch.setenv("LM_DEMO_DATA_DIR", str(shared_data))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    snap = tmp_path / "datasets--mrm8488--CHISTES_spanish_jokes" / "snapshots" / "abc" / "data"
    snap.mkdir(parents=True)
    pd.DataFrame({"text": ["Uno del caché.", "Otro del caché."], "category": ["otros", "otros"]}).to_parquet(
        snap / "train.parquet")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    c = load_corpus(CorpusSpec(preset="chistes"))
    assert c.source == "cache" and c.texts == ["Uno del caché.", "Otro del caché."]


def test_local_folder_is_the_fallback_of_bundled_presets(local_only, shared_data):
    c = load_corpus(CorpusSpec(preset="refranes"))
    assert c.source == "local" and str(shared_data) in c.origin and c.rows_after > 10_000
    assert available_presets()["poesia"] == "local"


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
