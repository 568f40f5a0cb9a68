"""The Spanish/English switch without a browser: the locale table, the current language,
``guard`` reading the user's language from the request, and the markers the UI sends.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from pathlib import Path

import gradio as gr
import pytest
from gradio.i18n import I18nData

from lm_demo.errors import UserError
from lm_demo.locales import LANGS, STRINGS, current_lang, normalize_lang, t, use_lang

REPO = Path(__file__).resolve().parents[1]


# --- the table ---------------------------------------------------------------------------------


def test_every_key_exists_in_both_languages():
    es, en = set(STRINGS["es"]), set(STRINGS["en"])
    assert not es - en, f"missing in English: {sorted(es - en)}"
    assert not en - es, f"missing in Spanish: {sorted(en - es)}"
    assert all(STRINGS[lang][k].strip() for lang in LANGS for k in STRINGS[lang]), "empty texts"


def test_both_languages_take_the_same_parameters():
    field = re.compile(r"\{(\w*)[^}]*\}")
    diff = {k: (sorted(set(field.findall(STRINGS["es"][k]))), sorted(set(field.findall(STRINGS["en"][k]))))
            for k in STRINGS["es"] if k in STRINGS["en"]}
    diff = {k: v for k, v in diff.items() if v[0] != v[1]}
    assert not diff, diff


# --- the current language ----------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [("en", "en"), ("EN", "en"), ("en-US", "en"), ("en_GB", "en"),
                                             ("es", "es"), ("es-MX", "es"), ("fr", "es"), ("", "es"),
                                             (None, "es"), (3, "es"), (" en ", "en")])
def test_normalize_lang(value, expected):
    assert normalize_lang(value) == expected


def test_t_follows_the_context_language_and_use_lang_restores_it():
    assert current_lang() == "es"
    assert t("app.classroom") == STRINGS["es"]["app.classroom"]
    with use_lang("en") as lang:
        assert lang == "en" and t("app.classroom") == STRINGS["en"]["app.classroom"]
        assert t("app.classroom", "es") == STRINGS["es"]["app.classroom"]  # an explicit language wins
        with use_lang("es"):
            assert t("app.classroom") == STRINGS["es"]["app.classroom"]
        assert t("err.generic", detail="X").startswith("Something went wrong: X")
    assert current_lang() == "es"
    with pytest.raises(RuntimeError), use_lang("en"):
        raise RuntimeError
    assert current_lang() == "es"
    assert t("no.such.key") == "no.such.key"


def test_the_language_is_per_thread():
    seen = {}
    with use_lang("en"):
        th = threading.Thread(target=lambda: seen.setdefault("lang", current_lang()))
        th.start()
        th.join()
    assert seen["lang"] == "es"


def test_user_error_message_in_the_current_language():
    e = UserError("err.unknown_model", name="x")
    assert str(e) == STRINGS["es"]["err.unknown_model"].format(name="x")  # str() stays Spanish
    with use_lang("en"):
        assert e.message() == STRINGS["en"]["err.unknown_model"].format(name="x")


def test_retranslate_rewrites_a_kept_message_in_the_current_language():
    from lm_demo.locales import retranslate

    es = t("note.fallback", "es", bundled="gpt2-es-tiny", requested="x/y")
    en = t("note.fallback", "en", bundled="gpt2-es-tiny", requested="x/y")
    assert retranslate(es, "en") == en and retranslate(en, "es") == es and retranslate(es, "es") == es
    with use_lang("en"):
        assert retranslate(es) == en
    entropy = t("nt.entropy", "es", raw=1.234, warped=0.5, kept=3, vocab=10, n=2)
    assert retranslate(entropy, "en") == t("nt.entropy", "en", raw=1.234, warped=0.5, kept=3, vocab=10, n=2)
    assert retranslate("texto del modelo", "en") == "texto del modelo"


def test_next_token_columns_in_spanish_are_the_cores():
    from lm_demo.next_token import TABLE_COLUMNS
    from lm_demo.ui.components.next_token_tab import TABLE_COLUMNS as KEYS

    assert [STRINGS["es"][f"nt.col.{k}"] for k in KEYS] == TABLE_COLUMNS


# --- guard ---------------------------------------------------------------------------------------


def english_request(session: str = "s-en") -> gr.Request:
    return gr.Request(cookies={"lm_lang": "en"}, headers={}, session_hash=session)


def test_guard_answers_in_the_language_of_the_request():
    from lm_demo.ui.common import guard

    @guard
    def handler(prompt: str, n: float = 1) -> str:
        if not prompt:
            raise UserError("err.empty_prompt")
        return t("app.classroom")

    # Gradio passes the request first; the API (no cookie) and direct calls are Spanish.
    assert handler(english_request(), "hola") == STRINGS["en"]["app.classroom"]
    assert handler(gr.Request(headers={}, session_hash="s-api"), "hola") == STRINGS["es"]["app.classroom"]
    assert handler("hola") == STRINGS["es"]["app.classroom"]
    assert handler("hola", 2) == STRINGS["es"]["app.classroom"]
    with pytest.raises(gr.Error) as err:
        handler(english_request(), "")
    assert err.value.message == STRINGS["en"]["err.empty_prompt"]
    with pytest.raises(gr.Error) as err:
        handler("")
    assert err.value.message == STRINGS["es"]["err.empty_prompt"]
    assert current_lang() == "es"


def test_guard_generator_sets_the_language_around_every_step_in_any_thread():
    from lm_demo.ui.common import guard

    @guard
    def gen(n: int = 3):
        for i in range(n):
            yield i, current_lang(), t("app.classroom")
        raise UserError("err.empty_prompt")

    it = gen(english_request(), 3)
    out = [next(it)]
    box = {}

    def resume():  # Gradio may resume a generator in another worker thread
        box["item"] = next(it)

    th = threading.Thread(target=resume)
    th.start()
    th.join()
    out.append(box["item"])
    out.append(next(it))
    assert [o[1] for o in out] == ["en", "en", "en"]
    assert all(o[2] == STRINGS["en"]["app.classroom"] for o in out)
    with pytest.raises(gr.Error) as err:
        next(it)
    assert err.value.message == STRINGS["en"]["err.empty_prompt"]
    assert current_lang() == "es"
    direct = gen(2)  # called directly: the current language
    assert [next(direct)[1] for _ in range(2)] == ["es", "es"]


def test_guard_hides_the_request_from_the_api_and_gradio_injects_it_first():
    from gradio.helpers import special_args
    from gradio.utils import get_function_params

    from lm_demo.ui.common import guard

    def handler(prompt: str, model: str | None = None, temperature: float = 1.0) -> str:
        return prompt

    wrapped = guard(handler)
    assert get_function_params(wrapped) == get_function_params(handler)
    req = english_request()
    inputs, *_ = special_args(wrapped, ["hola"], req)  # an API call may send only the first input
    assert inputs[0] is req and inputs[1:] == ["hola", None, 1.0]
    assert wrapped(*inputs) == "hola"
    # Gradio without a request passes None first (one argument more than the handler takes)
    assert wrapped(None, "hola", None, 1.0) == "hola"
    assert wrapped(None, None, 1.0) is None  # a direct call whose first argument is None


def test_the_switch_is_remembered_per_session_before_the_cookie():
    from lm_demo.ui import i18n

    req = gr.Request(headers={}, session_hash="s-switch")
    assert i18n.request_lang(req) == "es"
    i18n.remember_lang("en", req)
    assert i18n.request_lang(req) == "en"
    i18n.remember_lang("es", english_request("s-switch"))
    assert i18n.request_lang(english_request("s-switch")) == "es"  # the page's choice beats the cookie
    assert i18n.request_lang(None) == "es"
    assert i18n.request_lang(gr.Request(headers={}, cookies={"lm_lang": "de"})) == "es"


# --- what the browser gets -----------------------------------------------------------------------


def test_T_gives_markers_while_building_and_text_in_handlers():
    from lm_demo.ui import i18n
    from lm_demo.ui.common import T, compose, static_ui

    assert T("app.classroom") == STRINGS["es"]["app.classroom"]
    with use_lang("en"):
        assert T("err.generic", detail="X") == STRINGS["en"]["err.generic"].format(detail="X")
    with static_ui():
        m = T("app.classroom")
        assert isinstance(m, I18nData) and m.key == "lm.app.classroom"
        d = T("dec.text", name=T("dec.name.greedy"))
        assert isinstance(d, I18nData)
        for lang in LANGS:
            expected = STRINGS[lang]["dec.text"].format(name=STRINGS[lang]["dec.name.greedy"])
            assert i18n.FRONT[lang][d.key] == expected
        c = compose(lambda: f"# {T('app.title')}\n{T('app.subtitle')}")
        assert i18n.FRONT["en"][c.key] == f"# {STRINGS['en']['app.title']}\n{STRINGS['en']['app.subtitle']}"
        assert T("no.such.key") == "no.such.key"
    assert isinstance(T("app.classroom"), str)


def test_localize_turns_any_string_with_markers_into_one_marker():
    from lm_demo.ui import i18n

    pure = str(i18n.marker("app.classroom"))
    assert i18n.localize(pure).key == "lm.app.classroom"
    mixed = i18n.localize(f"### {i18n.marker('app.title')} · {i18n.marker('app.classroom')}")
    assert i18n.FRONT["en"][mixed.key] == f"### {STRINGS['en']['app.title']} · {STRINGS['en']['app.classroom']}"
    assert i18n.FRONT["es"][mixed.key] == f"### {STRINGS['es']['app.title']} · {STRINGS['es']['app.classroom']}"
    assert i18n.localize("plain") == "plain"
    assert i18n.resolve(f"a {i18n.marker('app.classroom')} b", "en") == f"a {STRINGS['en']['app.classroom']} b"
    assert i18n.resolve("a __i18n__{broken b", "en") == "a __i18n__{broken b"


@pytest.fixture(scope="module")
def demo():
    from lm_demo.ui.app import build_demo

    return build_demo()


def _dump(value) -> str:
    return json.dumps(value, default=lambda o: o.to_dict() if hasattr(o, "to_dict") else str(o), ensure_ascii=False)


def test_the_page_config_has_one_known_marker_per_text_and_no_raw_ones(demo):
    from lm_demo.ui import gradio_locale, i18n

    config = _dump(demo.get_config_file())
    assert "__i18n__" not in config  # a marker inside a longer string would be shown raw
    keys = re.findall(r'"__type__": "translation_metadata", "key": "([^"]+)"', config)
    assert len(keys) > 100
    for lang in LANGS:
        assert not [k for k in keys if k not in i18n.FRONT[lang]]
    # the browser's locales: Spanish as "es" and as "en" (the fallback of every other browser), English apart
    table = i18n.gradio_i18n().translations_dict
    assert set(table) == {"es", "en", gradio_locale.FRONT_LOCALES["en"]}
    assert all(k in table[code] for code in table for k in keys)
    assert table["en"]["lm.nt.tab"] == table["es"]["lm.nt.tab"] == STRINGS["es"]["nt.tab"]
    assert table[gradio_locale.FRONT_LOCALES["en"]]["lm.nt.tab"] == STRINGS["en"]["nt.tab"]


def test_the_api_keeps_its_names_and_spanish_labels(demo):
    info = demo.get_api_info()
    assert "__i18n__" not in _dump(info)
    params = info["named_endpoints"]["/next_token"]["parameters"]
    assert [p["parameter_name"] for p in params][:2] == ["prompt", "model_name"]
    assert params[0]["label"] == STRINGS["es"]["nt.prompt"]


# Server functions that write no text (they set values, visibility or ranges): no language needed.
TEXT_FREE = {"load_example", "<lambda>", "preset_options", "apply_hp_preset", "setup", "sync_lang"}


def test_every_handler_runs_in_the_users_language(demo):
    """Every server function of the page that can write text is wrapped by ``guard``."""
    fns = [fn for fn in demo.fns.values() if fn.fn is not None]
    unguarded = {fn.fn.__name__ for fn in fns if not getattr(fn.fn, "__lm_guarded__", False)}
    assert unguarded <= TEXT_FREE, unguarded - TEXT_FREE
    public = [fn for fn in fns if fn.api_visibility == "public"]
    assert public and all(getattr(fn.fn, "__lm_guarded__", False) for fn in public)


def test_no_spanish_text_left_in_the_ui_code():
    """UI text lives in the locale table; only the model's example prompts (Spanish on purpose) may stay."""
    accented = re.compile(r"[áéíóúñ¿¡ÁÉÍÓÚÑ]")
    allowed = re.compile(r"^(-\s)?[A-ZÁÉÍÓÚ¡¿].*")  # a prompt for the model: a sentence start
    found = []
    for path in sorted((REPO / "lm_demo" / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        prompts = set()
        for node in ast.walk(tree):  # EXAMPLE_PROMPTS, scenario prompts, default sample prompts
            if isinstance(node, (ast.List, ast.Tuple)):
                prompts |= {id(e) for e in node.elts if isinstance(e, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                    and accented.search(node.value)):
                if node.value in ("Español",):  # the language switch names each language in itself
                    continue
                if id(node) in prompts and allowed.match(node.value) or node.value.startswith("Había una vez"):
                    continue
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)
