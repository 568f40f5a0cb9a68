"""Exports without a server: safe file names, CSV headers, settings JSON, PNG file names, "apply settings"."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from lm_demo import exports
from lm_demo.errors import UserError
from lm_demo.locales import STRINGS

SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CREATED = "2026-11-23T21:30:05"


def nt_settings(**over):
    base = dict(model="gpt2-es-tiny", prompt="Había una vez",
                params=dict(temperature=0.8, top_k=40, top_p=0.95, seed=0), created=CREATED)
    base.update(over)
    return exports.make_settings("next_token", **base)


def test_file_stem_reads_like_the_settings():
    stem = exports.file_stem(nt_settings(), "siguiente-token")
    assert stem == "siguiente-token_gpt2-es-tiny_habia-una-vez_T0.8_k40_p0.95_seed0_2026-11-23T2130"
    # deterministic given the settings; only the creation time changes the timestamp
    assert exports.file_stem(nt_settings(), "siguiente-token") == stem
    later = exports.file_stem(nt_settings(created="2026-11-24T08:05:00"), "siguiente-token")
    assert later == stem.replace("2026-11-23T2130", "2026-11-24T0805")


HOSTILE = ["../../etc/passwd", "..\\..\\windows\\system32", "/", ".", "..", "🐉🔥😀", "a\x00b\nc\rd\te",
           "CON", ".hidden", "-rf", "ñandú «über» çà", "x" * 5000, "", " ", "%s%n{0}$(rm -rf /)", "a/../../b"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_file_stem_is_safe_whatever_the_settings(hostile):
    s = exports.make_settings(hostile, model=hostile, prompt=hostile,
                              params={"temperature": hostile, "top_k": float("inf"), "seed": -3, "corpus": hostile,
                                      hostile: hostile}, created=hostile)
    for name in (hostile, "siguiente-token", "../" * 30):
        stem = exports.file_stem(s, name)
        assert SAFE.fullmatch(stem), stem
        assert ".." not in stem and "/" not in stem and "\\" not in stem
        assert len(stem) <= exports.MAX_STEM
        assert stem.isascii()


def test_fold_folds_accents_and_drops_the_rest():
    assert exports.fold("Había una vez") == "habia-una-vez"
    assert exports.fold("Ñandú, ¿qué tal?") == "nandu-que-tal"
    assert exports.fold("../../etc") == "etc"
    assert exports.fold("🐉") == ""
    assert exports.fold("muy largo " * 10, 12) == "muy-largo"  # whole words
    assert exports.fold("x" * 50, 10) == "x" * 10


def test_long_settings_keep_the_timestamp():
    s = exports.make_settings("decoding", model="m" * 200, prompt="p " * 300,
                              params={k: 0.123456789 for k in exports.ABBREV}, created=CREATED)
    stem = exports.file_stem(s, "decodificacion-epsilon-voraz")
    assert stem.endswith("_2026-11-23T2130") and len(stem) <= exports.MAX_STEM


def hostile_frame():
    return pd.DataFrame({
        "token": ["#hola", "a,b", 'dijo "no"', "línea\nnueva", "␣de", "# no es comentario"],
        "p": [0.5, 0.25, 0.125, 0.0625, 1e-9, 0.0],
        "rank": [1, 2, 3, 4, 5, 6],
    })


def test_csv_header_round_trip_with_pandas(tmp_path):
    s = nt_settings(prompt='Érase "una" vez\n# y otra #línea 🐉', params=dict(temperature=0.8, top_k=40, top_n=10,
                                                                            exclude=["sexo"], upload=None))
    path = exports.table_file(hostile_frame(), s, "siguiente-token", tmp_path)
    assert path.parent == tmp_path and path.name == exports.file_stem(s, "siguiente-token") + ".csv"
    text = path.read_text(encoding="utf-8")
    head = text.splitlines()[:12]
    assert head[0] == '# app: "lm_demo"'
    assert '# model: "gpt2-es-tiny"' in head and "# temperature: 0.8" in head and "# top_k: 40" in head
    back = pd.read_csv(path, comment="#")
    pd.testing.assert_frame_equal(back, hostile_frame())
    assert exports.read_csv_settings(path) == s


def test_settings_json_round_trip():
    s = nt_settings(params=dict(temperature=0.8, top_k=40, top_p=0.95, top_n=10))
    text = exports.settings_json(s)
    assert json.loads(text) == s and "Había" in text  # readable UTF-8, not \u escapes
    allowed = ["model", "prompt", "temperature", "top_k", "top_p", "top_n"]
    assert exports.parse_settings(text, "next_token", allowed) == {
        "model": "gpt2-es-tiny", "prompt": "Había una vez", "temperature": 0.8, "top_k": 40, "top_p": 0.95,
        "top_n": 10}
    # a hand-written flat object works too
    assert exports.parse_settings('{"temperature": 1.5}', "next_token", allowed) == {"temperature": 1.5}


def test_settings_record_the_fallback_model_and_plain_values():
    import numpy as np

    class Loaded:
        name, resolved, source = "datificate/gpt2-small-spanish", "/x/checkpoints/gpt2-es-tiny", "fallback"

    s = exports.make_settings("next_token", **exports.model_names(Loaded()),
                              params={"a": np.float32(0.5), "b": np.int64(3), "c": (1, 2), "d": float("nan")})
    assert s["model"] == "datificate/gpt2-small-spanish" and s["model_used"] == "gpt2-es-tiny"
    assert s["params"] == {"a": 0.5, "b": 3, "c": [1, 2], "d": None}
    assert "gpt2-es-tiny" in exports.file_stem(s, "x")
    json.dumps(s)


@pytest.mark.parametrize("text, key", [
    ("", "exp.err.empty"),
    ("   \n", "exp.err.empty"),
    ("{temperature: 1}", "exp.err.invalid_json"),
    ('{"temperature": 1', "exp.err.invalid_json"),
    ("[1, 2]", "exp.err.not_object"),
    ('"hola"', "exp.err.not_object"),
    ('{"params": 3}', "exp.err.not_object"),
    ('{"tab": "decoding", "params": {}}', "exp.err.wrong_tab"),
    ('{"params": {"temperatura": 1}}', "exp.err.unknown_keys"),
    ('{"rm -rf": 1}', "exp.err.unknown_keys"),
])
def test_bad_pasted_settings_give_a_spanish_message(text, key):
    with pytest.raises(UserError) as e:
        exports.parse_settings(text, "next_token", ["prompt", "temperature"])
    assert e.value.key == key
    msg = str(e.value)
    assert msg and "{" not in msg and "Traceback" not in msg
    if key == "exp.err.wrong_tab":
        assert "Decodificación paso a paso" in msg and "Siguiente token" in msg
    if key == "exp.err.unknown_keys":
        assert "temperature" in msg  # says what it can use


def test_coerce_number_clamps_and_refuses():
    assert exports.coerce_number("1.5", "t", lo=0, hi=1) == 1
    assert exports.coerce_number(7.6, "k", integer=True) == 8
    for bad in ("mucho", None, True, [1], float("nan"), "inf"):
        with pytest.raises(UserError) as e:
            exports.coerce_number(bad, "top_k")
        assert e.value.key == "exp.err.bad_value" and "top_k" in str(e.value)


def test_every_export_string_exists_in_both_languages():
    keys = [k for k in STRINGS["es"] if k.startswith("exp.") or ".file." in k or k == "train.history_csv"]
    assert len(keys) >= 20
    for k in keys:
        assert STRINGS["en"].get(k), k
    for k in (k for k in keys if ".file." in k):  # file-name words are already safe
        for lang in ("es", "en"):
            assert exports.fold(STRINGS[lang][k]) == STRINGS[lang][k]


def test_new_folder_is_fresh_and_old_ones_are_pruned(monkeypatch):
    import os
    import time

    monkeypatch.setattr(exports, "CLEANUP_CHANCE", 0.0)  # this call never prunes
    a = exports.new_folder()
    os.utime(a, (time.time() - exports.KEEP_SECONDS - 10,) * 2)
    b = exports.new_folder()
    assert a != b and b.is_dir() and a.exists()
    monkeypatch.setattr(exports, "CLEANUP_CHANCE", 1.0)  # this one does
    c = exports.new_folder()
    assert c.is_dir() and b.exists() and not a.exists()


# --------------------------------------------------------------------------- PNG file names
def test_exportable_figure_sends_its_file_name_to_the_browser():
    import gradio as gr
    import plotly.graph_objects as go

    from lm_demo.charts.export import exportable

    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    out = exportable(fig, "siguiente-token-grafico_T0.8")
    assert out is fig and isinstance(out, go.Figure)
    out.update_layout(height=300)  # still a normal figure
    data = gr.Plot().postprocess(out)
    assert data.type == "plotly"
    sent = json.loads(data.plot)
    assert sent["layout"]["height"] == 300
    assert sent["config"]["toImageButtonOptions"] == {"format": "png", "filename": "siguiente-token-grafico_T0.8",
                                                      "scale": 2}
    assert sent["config"]["displayModeBar"] is True
    assert exportable(None, "x") is None


def test_tab_charts_are_exportable(bundled):
    from lm_demo.ui.components.next_token_tab import next_token

    table, fig, _entropy, _chips, _notes, csv_path, settings = next_token("Había una vez", "gpt2-es-tiny", 0.8, 40,
                                                                          0.95, 10)
    name = fig._lm_config["toImageButtonOptions"]["filename"]
    assert name.startswith("siguiente-token-grafico_gpt2-es-tiny_habia-una-vez_T0.8_k40_p0.95_n10_")
    assert csv_path.endswith(".csv") and "/siguiente-token_gpt2-es-tiny_habia-una-vez_T0.8_k40_p0.95_n10_" in csv_path
    pd.testing.assert_frame_equal(pd.read_csv(csv_path, comment="#"), table, check_dtype=False)
    assert json.loads(settings)["params"] == {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "top_n": 10}


# --------------------------------------------------------------------------- "apply settings"
def test_apply_settings_sets_clamps_and_refuses():
    import gradio as gr

    from lm_demo.ui.components.export_panel import apply_settings_fn
    from lm_demo.ui.widgets import Dropdown, Slider

    with gr.Blocks():
        prompt = gr.Textbox()
        temp = Slider(0, 3, value=1.0, step=0.05)
        top_k = Slider(0, 200, value=0, step=1)
        mode = Dropdown([("Líneas", "lines"), ("Bloques", "blocks")], value="lines")
        scratch = gr.Checkbox(False)
    fields = {"prompt": prompt, "temperature": temp, "top_k": top_k, "mode": mode, "scratch": scratch,
              "upload": None}
    apply = apply_settings_fn("next_token", fields, "nt.run")
    text = exports.settings_json(exports.make_settings(
        "next_token", prompt="Hola", params={"temperature": 9, "top_k": 12.7, "mode": "blocks", "upload": "x.txt"}))
    out = apply(text)
    assert out[:4] == ["Hola", 3.0, 13, "blocks"] and isinstance(out[2], int)
    assert isinstance(out[4], type(gr.skip()))  # absent: left as it is
    for bad in ('{"mode": "otro"}', '{"scratch": "sí"}', '{"prompt": 3}', "no es json", '{"tab": "training"}'):
        with pytest.raises(gr.Error) as e:
            apply(bad)
        assert "Traceback" not in str(e.value) and "{" not in str(e.value)


def test_each_tab_takes_back_the_settings_it_shows(bundled, monkeypatch):
    """The JSON a tab shows after a run, pasted into "Aplicar ajustes", sets every one of its inputs."""
    import gradio as gr

    import lm_demo.training
    from lm_demo.ui.app import build_demo
    from lm_demo.ui.components import compare_tab, decoding_tab, next_token_tab, training_tab

    demo = build_demo("gpt2-es-tiny")
    apply = {demo.blocks[f.targets[0][0]].elem_id: f for f in demo.fns.values() if f.name == "apply_settings"}
    assert set(apply) == {"nt-apply", "dec-apply", "cmp-apply", "train-apply"}

    class FakeJob:
        id = "fake-job"

    monkeypatch.setattr(lm_demo.training, "start_training", lambda cfg: FakeJob())
    shown = {
        "nt-apply": next_token_tab.next_token("Había una vez", "gpt2-es-tiny", 0.7, 30, 0.9, 12)[-1],
        "dec-apply": list(decoding_tab.decode_steps("Había una vez", "gpt2-es-tiny", 3, 7))[-1][-1],
        "cmp-apply": compare_tab.compare("Había una vez", n_samples=1, max_new_tokens=5,
                                         eval_text="Un texto corto para medir.")[-1],
        "train-apply": training_tab.train_start("poesia", None, None, "lines", [], 100, 50, "gpt2-es-tiny",
                                                False, 2, 2, 64, "packed", 32, 1.0, 1e-3, 4, 1, 0.0, 0, 5, 10, 7,
                                                0, "Érase", "mi-modelo")[-1],
    }
    for elem_id, text in shown.items():
        fn = apply[elem_id]
        values = fn.fn(text)
        settings = json.loads(text)
        n_set = sum(not isinstance(v, type(gr.skip())) for v in values)
        assert n_set == len(fn.outputs), (elem_id, values)
        assert len(settings["params"]) + ("prompt" in settings) + ("model" in settings) >= n_set
    assert apply["dec-apply"].fn(shown["dec-apply"])[2:4] == [3, 7]  # max_steps, seed
    train = apply["train-apply"].fn(shown["train-apply"])
    assert train[0] == "gpt2-es-tiny" and train[1] == "poesia" and "mi-modelo" in train
