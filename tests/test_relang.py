"""What a language switch redraws, without a browser: numbers in the reader's language, texts that keep their
key (training notes), each tab's redraw from what it kept, and the smaller fixes of the classroom polish."""

from __future__ import annotations

import json

import gradio as gr
import pytest

from lm_demo.locales import STRINGS, from_ref, retranslate, t, to_ref, use_lang
from lm_demo.locales.numbers import convert, number, plotly_separators

EN = STRINGS["en"]


# --- numbers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, spec, es, en", [
    (1557.4, ",.0f", "1.557", "1,557"), (5.2734, ".2f", "5,27", "5.27"), (1234567.891, ",.2f", "1.234.567,89",
                                                                         "1,234,567.89"),
    (-0.05, "+.2f", "-0,05", "-0.05"), (0.5, "", "0,5", "0.5"), (1557, "", "1557", "1557"),  # a step, a seed
    (1557, ",", "1.557", "1,557"), (float("nan"), ".2f", "nan", "nan"), (0.598, ".1%", "59,8\u00a0%", "59.8%"),
    ("—", ",", "—", "—")])  # a count not known yet
def test_number_in_each_language(value, spec, es, en):
    assert number(value, spec, "es") == es and number(value, spec, "en") == en


def test_numbers_follow_the_current_language_in_templates_and_charts():
    assert "5,27 bits" in t("nt.entropy", "es", raw=5.2734, warped=1.0, kept=3, vocab=8000, n=4)
    assert "5.27 bits" in t("nt.entropy", "en", raw=5.2734, warped=1.0, kept=3, vocab=8000, n=4)
    with use_lang("en"):
        assert number(0.25, ".2f") == "0.25" and plotly_separators() == ".,"
    assert plotly_separators() == ",." and number(0.25, ".2f") == "0,25"
    assert convert("1.557,5", "es", "en") == "1,557.5" and convert("gpt2-es", "es", "en") == "gpt2-es"


def test_model_size_in_each_language():
    from lm_demo.model_info import human_count

    assert human_count(5_273_088, "es") == "5,27 M" and human_count(5_273_088, "en") == "5.27 M"
    assert human_count(999) == "999"


def test_figures_carry_the_languages_separators():
    from lm_demo.charts import new_figure

    assert new_figure().layout.separators == ",."
    with use_lang("en"):
        assert new_figure().layout.separators == ".,"


# --- texts that keep their key --------------------------------------------------------------------------------


def test_a_text_remembers_its_key_through_json():
    note = t("note.clamped", field=t("train.hp.epochs"), value=2.5, lo=0, hi=1)
    assert note == "«Épocas» se ajustó a 2,5 (rango permitido: 0–1)."
    ref = json.loads(json.dumps(to_ref(note)))  # as a run's events file keeps it
    assert from_ref(ref, "en") == "“Epochs” was set to 2.5 (allowed range: 0–1)."
    assert retranslate(note, "en") == from_ref(ref, "en")
    assert to_ref("texto sin clave") is None and from_ref(None) is None and from_ref({"key": 3}) is None


def test_retranslate_handles_texts_without_fields_and_numbers():
    block = str(t("train.note.block_split", "es", block=32))
    assert retranslate(block, "en") == t("train.note.block_split", "en", block=32)
    plain = str(t("train.status.idle", "es"))
    assert retranslate(plain, "en") == EN["train.status.idle"]
    entropy = str(t("nt.entropy", "es", raw=1.234, warped=0.5, kept=3, vocab=10, n=2))
    assert retranslate(entropy, "en") == t("nt.entropy", "en", raw=1.234, warped=0.5, kept=3, vocab=10, n=2)


def test_training_notes_are_written_in_the_readers_language():
    from lm_demo.ui.components.training_view import notes_markdown_of

    posted = t("train.note.block_split_eval", texts=6, tokens=28, block=32)
    events = [{"type": "note", "text": posted, "ref": to_ref(posted)},
              {"type": "note", "text": str(t("train.note.resumed", step=10, total=30))},  # an older run's event
              {"type": "note", "text": posted, "ref": to_ref(posted)}]  # a resume posts it again
    with use_lang("en"):
        md = notes_markdown_of(events)
    assert md.count("- ℹ️") == 2
    assert "The 6 texts held out for evaluation add up to 28 tokens, less than one block of 32" in md
    assert "Continuing the interrupted run from step 10 of 30" in md and "Los 6" not in md


def test_thirty_short_lines_get_the_held_out_note(bundled):
    """The class's 30 short lines: the 6 held out for evaluation do not fill a block of 32 tokens."""
    from lm_demo.packing import build_datasets

    lines = ["Llueve.", "Hace frío.", "Sale el sol.", "Gato negro.", "Leemos.", "Luna llena.", "Comemos.", "Tren.",
             "Abuela.", "Pájaros.", "Poemas.", "El río.", "Libros.", "Murales.", "Viento.", "Guitarra.", "Estrellas.",
             "Pan.", "Clase.", "Flores.", "Autobús.", "Ajedrez.", "Nieve.", "Papá lee.", "Cantamos.", "Colinas.",
             "Palabras.", "Tarde.", "Mar azul.", "Fin."]
    data = build_datasets(lines, bundled.tokenizer, 32, "packed", 0.2, 42)
    assert data.split == "blocks" and len(data.notes) == 1
    assert data.notes[0].key == "train.note.block_split_eval" and data.notes[0].params["texts"] == 6
    assert data.notes[0].params["tokens"] < 32 and "Pocos textos largos" not in data.notes[0]


# --- redraws ---------------------------------------------------------------------------------------------------


def test_with_kept_and_outputs_only_share_one_handler():
    from lm_demo.ui import relang

    def plain(x: int) -> tuple:
        return (x, x + 1), {"x": x}

    def gen(x: int):
        for i in range(2):
            yield (x + i,), {"i": i}

    assert relang.outputs_only(plain)(1) == (1, 2) and relang.with_kept(plain)(1) == (1, 2, {"x": 1})
    assert list(relang.outputs_only(gen)(5)) == [(5,), (6,)]
    assert list(relang.with_kept(gen)(5)) == [(5, {"i": 0}), (6, {"i": 1})]


def test_again_runs_the_last_call_or_leaves_the_page():
    from lm_demo.ui import relang
    from lm_demo.ui.common import guard

    @guard
    def handler(name: str) -> tuple:
        if not name:
            raise ValueError("boom")
        return t("mp.tab"), name

    redraw = relang.again(handler, 2)
    with use_lang("en"):
        assert redraw(["x"]) == (EN["mp.tab"], "x")
        skipped = redraw(None)
        failed = redraw([""])  # an error was shown when it ran: the page stays as it is
    assert all(isinstance(v, dict) and v.get("__type__") == "update" for v in (*skipped, *failed))


def test_a_decoding_is_redrawn_in_english_from_what_it_kept():
    from lm_demo.ui.components import decoding_tab

    *_, last = decoding_tab.decode_steps_page("Había una vez", "gpt2-es-tiny", 3, 7)
    kept = last[-1]
    api = list(decoding_tab.decode_steps("Había una vez", "gpt2-es-tiny", 3, 7))[-1]
    assert len(api) == len(last) - 1 and api[1] == last[1]  # the API's outputs: the same, without the kept data
    with use_lang("en"):
        notes, summary, *rest = decoding_tab.redraw(kept)
    tables, chart = rest[3:6], rest[6]
    assert summary.startswith("- **" + EN["dec.name.greedy"]) and "3 tokens" in summary
    assert list(tables[0].columns)[0] == EN["dec.col.step"] and EN["dec.mode.greedy"] in set(tables[0].iloc[:, 6])
    assert chart.layout.xaxis2.title.text == EN["dec.chart.step"] and chart.layout.separators == ".,"


def test_a_comparison_is_redrawn_in_english_without_generating_again():
    from lm_demo.ui.components import compare_tab

    out = compare_tab.compare_page("Había una vez", n_samples=1, max_new_tokens=3, eval_text="Había una vez un gato.")
    with use_lang("en"):
        summary, samples, diff, table, loss, csv, settings = compare_tab.redraw(out[-1])
    assert EN["cmp.col.rank"] == table.columns[0] and "Perplexity" in summary
    assert out[1] != samples and out[1].count("cmp-sample-base") == samples.count("cmp-sample-base") == 1
    assert EN["cmp.before"] in diff.layout.xaxis.title.text
    assert isinstance(csv, dict) and isinstance(settings, dict)  # left as they are


# --- smaller fixes --------------------------------------------------------------------------------------------


def test_a_corpus_that_cannot_be_read_shows_its_message_only(tmp_path):
    from lm_demo.ui.components.training_corpus import corpus_preview, corpus_preview_page

    missing = str(tmp_path / "no-existe.csv")
    summary, table, hist, notes, csv = corpus_preview_page("poesia", missing, None, "lines", [], 0, 0,
                                                           "gpt2-es-tiny")
    assert summary.startswith("⚠️") and table is None and hist is None and csv is None
    assert str(tmp_path) not in summary  # no server path
    with pytest.raises(gr.Error):  # the API's endpoint still fails
        corpus_preview("poesia", missing, None, "lines", [], 0, 0, "gpt2-es-tiny")


def test_starting_a_run_clears_the_previous_one_at_once():
    from lm_demo.ui.components.training_view import starting_view

    status, overfit, loss, ppl, samples, notes, use_btn, csv = starting_view(False)
    assert status == STRINGS["es"]["train.status.stage.corpus"] and overfit == "" and notes == "" and csv is None
    assert not loss.data and not ppl.data and use_btn.visible is False


def test_gradios_screen_reader_key_is_translated():
    from lm_demo.ui import i18n

    table = i18n.gradio_i18n()
    assert i18n.FRONT["es"]["common.complete"] == "Completado" and i18n.FRONT["en"]["common.complete"] == "Complete"
    assert i18n.FRONT["es"]["status.queue_position"] == "En cola: {position} de {size}"  # Gradio fills it in
    assert table is i18n.gradio_i18n()


def test_tables_on_the_page_show_decimals_in_the_readers_language():
    import pandas as pd

    from lm_demo.ui.common import shown_numbers

    table = pd.DataFrame({"rango": [1, 2], "prob": [0.102477, 31.0], "token": ["␣de", "␣la"]})
    styled, text = shown_numbers((table, "5,27"))
    shown = gr.Dataframe(interactive=False).postprocess(styled)
    assert shown.data == [[1, 0.102477, "␣de"], [2, 31.0, "␣la"]]  # the values: the API and the CSV read these
    assert shown.metadata["display_value"] == [[1, "0,102477", "␣de"], [2, "31", "␣la"]] and text == "5,27"
    with use_lang("en"):
        assert shown_numbers(table) is table
