"""The corpus half of the training tab: the preset menu (what can load here), uploads, the stats panel.

Wiring only; the corpora are ``lm_demo.corpora``.
"""

from __future__ import annotations

import os
from typing import Any

import gradio as gr

from lm_demo.ui.common import T, guard, in_code, notes_markdown, plain
from lm_demo.ui.components.export_panel import download
from lm_demo.ui.widgets import Dropdown

PRESET_KEYS = ("poesia", "quijote", "refranes", "prosa", "mezcla", "chistes", "amazon")
DEFAULT_PRESET = "poesia"  # bundled: it always loads (lm_demo.corpora.DEFAULT_PRESET)
JOKE_CATEGORIES = ("otros", "familia", "sexo", "animales", "profesiones", "regionales", "tematicos")
UPLOAD_TYPES = [".txt", ".csv", ".tsv", ".jsonl", ".json", ".parquet"]


def number_field(value: Any, field: str, cast: type = float) -> Any:
    """``value`` as a number; ``field`` is a locale key (``train.hp.<field>`` when it has no dot)."""
    from lm_demo.errors import UserError

    try:
        x = float(value)
        if x != x:  # NaN
            raise ValueError
        return cast(x)
    except (TypeError, ValueError, OverflowError):
        raise UserError("err.bad_number", field=T(field if "." in field else f"train.hp.{field}")) from None


def upload_path(upload: Any) -> str | None:
    return upload if isinstance(upload, str) else getattr(upload, "path", None) or getattr(upload, "name", None)


def corpus_spec(preset: str | None, upload: Any, text_column: str | None, txt_mode: str | None, exclude: Any,
          quijote_lines: Any, max_rows: Any) -> Any:
    from lm_demo.corpora import CorpusSpec

    return CorpusSpec(
        preset=(preset or DEFAULT_PRESET), path=upload_path(upload) or None,
        text_column=(text_column or "").strip() or None, txt_mode=txt_mode or "lines",
        exclude_categories=tuple(exclude or ()),
        quijote_lines=number_field(quijote_lines or 0, "train.corpus.quijote_lines", int),
        max_rows=number_field(max_rows or 0, "train.corpus.max_rows", int),
    )


def preset_choices(avail: dict[str, str]) -> list[tuple[Any, str]]:
    """The preset menu: a preset that cannot load here says so in its label (before the teacher picks it)."""
    out = []
    for k in PRESET_KEYS:
        label = T(f"train.corpus.{k}")
        out.append((T("train.corpus.unavailable", label=label) if not avail.get(k) else label, k))
    return out



@guard
def corpus_preview(preset: str, upload: Any, text_column: str | None, txt_mode: str, exclude: list[str] | None,
                   quijote_lines: float, max_rows: float, model_name: str | None) -> tuple[Any, ...]:
    """Summary line, stats table, length histogram, notes and the table as CSV, of the chosen corpus."""
    import pandas as pd

    from lm_demo import exports
    from lm_demo.charts.export import exportable
    from lm_demo.charts.training import length_histogram
    from lm_demo.corpora import describe_corpus
    from lm_demo.jobs import ensure_training_allowed
    from lm_demo.locales import t
    from lm_demo.models import load_model

    ensure_training_allowed()  # a public Space that turned training off reads no visitor's file
    spec = corpus_spec(preset, upload, text_column, txt_mode, exclude, quijote_lines, max_rows)
    loaded = load_model(model_name)
    corpus, stats = describe_corpus(spec, loaded.tokenizer)  # bounded, one at a time, memory given back
    source = " + ".join(T(f"train.source.{s}") for s in corpus.source.split("+"))
    summary = T("train.corpus.summary", label=plain(corpus.label), source=source, origin=in_code(corpus.origin),
                rows=corpus.rows_after)
    table = pd.DataFrame(stats.table(), columns=[T("train.stats.name"), T("train.stats.value")])
    hist = length_histogram(stats.word_lengths, title="", x_title=T("train.stats.words_axis"),
                            y_title=T("train.stats.count_axis"), median_label=T("train.stats.median"))
    path = upload_path(upload)
    settings = exports.make_settings("training", **exports.model_names(loaded), params=dict(
        corpus=preset, exclude=list(exclude or []), quijote_lines=quijote_lines, max_rows=max_rows,
        text_column=text_column or "", txt_mode=txt_mode, upload=os.path.basename(path) if path else None))
    csv_path = exports.table_file(table, settings, t("train.file.stats"))
    exportable(hist, exports.file_stem(settings, t("train.file.hist")))
    return summary, table, hist, notes_markdown(corpus.notes + loaded.notes), download(csv_path)


@guard
def corpus_preview_page(*args: Any) -> tuple[Any, ...]:
    """``corpus_preview`` for the page: a corpus that cannot be read shows its message in the panel, with
    the table and chart left empty (an error would put red badges on both); the API's raises it."""
    try:
        return corpus_preview(*args)
    except gr.Error as e:
        return f"⚠️ {e.message}", None, None, "", None


PROMPT_WORDS = 2


@guard
def upload_columns(upload: Any, current: str | None, txt_mode: str | None = "lines") -> tuple[Any, Any]:
    """Fill the column picker from an uploaded table (guessing the text column), and start the sample
    prompt with the first words of the class's own text, so the samples show what the model picked up."""
    from lm_demo.corpora import file_columns, load_file, prepared
    from lm_demo.jobs import ensure_training_allowed

    ensure_training_allowed()
    path = upload_path(upload)
    if not path:
        return gr.Dropdown(choices=[], value=None), gr.skip()
    cols = prepared(lambda: file_columns(path))
    guess = current if current in cols else next(
        (c for c in cols if c.lower() in ("text", "texto", "content", "contenido")), cols[0] if cols else None)
    first = prepared(lambda: load_file(path, guess, txt_mode or "lines", max_rows=1).texts[0].split())
    prompt = " ".join(first[:PROMPT_WORDS]) if first else gr.skip()
    return gr.Dropdown(choices=cols, value=guess), prompt


@guard
def preset_menu() -> Any:
    """The preset menu with what can load here now (the hub checked), redrawn when the page loads if the hub
    changes what can load."""
    from lm_demo.corpora import available_presets

    online = available_presets(check_hub=True)
    if {k: bool(v) for k, v in online.items()} == {k: bool(v) for k, v in available_presets(False).items()}:
        return gr.skip()  # the drawn labels stay (they follow a language switch; new ones would not)
    return Dropdown(choices=preset_choices(online))


def preset_options(preset: str) -> tuple[Any, Any, Any]:
    """The jokes' categories only for the jokes, the line count only for Quijote; a prompt in the corpus's style."""
    from lm_demo.corpora import prompt_for

    return (gr.CheckboxGroup(visible=preset == "chistes"), gr.Number(visible=preset == "quijote"),
            gr.Textbox(value=prompt_for(preset)))
