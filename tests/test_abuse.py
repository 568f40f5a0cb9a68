"""Hostile input against the running app: every case gets a clear message, nobody stops another's job.

A public Space takes input from anyone: raw HTTP with ``Infinity`` where a
number goes, names that are not names, lone surrogates, checkpoints that
would run code, HTML where text is shown, a second client trying to stop
the first one's job, oversized bodies.  Each case runs against the real app
(``app_server``), the way a visitor's requests arrive.  The lean session
store that keeps many sessions cheap is checked in-process at the end.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from lm_demo.locales import STRINGS, t
from lm_demo.models import BUNDLED_NAME, bundled_model_path

pytestmark = pytest.mark.e2e

ES = STRINGS["es"]
GENERIC = ES["err.generic"].split("{")[0]
REPO = Path(__file__).resolve().parents[1]
DECODE_DEFAULTS = [5, 0, 5, 0, 0.8, 40, 1.0, 1.0, 0.5]  # max_steps ... epsilon after (prompt, model)
COMPARE_DEFAULTS = [1, 5, 1.0, 50, 0.95, 1.0, "", "lines"]  # n_samples ... eval_split after (prompt, tuned, base, seed)


def raw_call(base: str, api: str, data: list, timeout: float = 180) -> tuple[str, str]:
    """POST ``data`` to ``/gradio_api/call/<api>`` as raw JSON; (last event name, its data)."""
    body = json.dumps({"data": data}).encode()  # Python writes inf as Infinity, as a hostile client would
    req = urllib.request.Request(f"{base}gradio_api/call/{api}", data=body,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event_id = json.load(r)["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/{api}/{event_id}", timeout=timeout) as r:
        stream = r.read().decode("utf-8")
    events = [block for block in stream.split("\n\n") if block.strip()]
    name, _, data_line = events[-1].partition("\n")
    return name.removeprefix("event: ").strip(), data_line.removeprefix("data: ")


def error_text(base: str, api: str, data: list) -> str:
    """The message of the error ``api`` must answer with (fails on a result or a generic error)."""
    name, payload = raw_call(base, api, data)
    assert name == "error", f"{api} answered {name}: {payload[:200]}"
    message = json.loads(payload).get("error")
    assert message, "a bare 'Error' with no message"
    assert not message.startswith(GENERIC), message
    assert "Traceback" not in message
    return message


def client_error(client, *args, api_name: str) -> str:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        client.predict(*args, api_name=api_name)
    message = str(e.value)
    assert not message.startswith(GENERIC), message
    return message


def message_of(key: str, **params) -> str:
    return t(key, "es", **params)


# --------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("api, data", [
    ("decode_steps", ["Hola", BUNDLED_NAME, 5, float("inf"), *DECODE_DEFAULTS[2:]]),
    ("compare", ["Hola", "gpt2-es-tiny-chistes", "", float("inf"), *COMPARE_DEFAULTS]),
    ("trials_start", [[BUNDLED_NAME], "chistes", 20, 1, 5e-4, float("-inf")]),
    ("trials_start", [[BUNDLED_NAME], "chistes", 20, 1, 10**400, 42]),  # an integer no float can hold
])
def test_infinity_where_a_number_has_no_bound_is_a_clear_message(app_server, api, data):
    message = error_text(app_server, api, data)
    assert "número finito" in message


def api_defaults(base: str, api: str) -> dict:
    """The API's parameters with their defaults, in order (from ``/gradio_api/info``)."""
    with urllib.request.urlopen(f"{base}gradio_api/info", timeout=30) as r:
        params = json.load(r)["named_endpoints"][f"/{api}"]["parameters"]
    return {p["parameter_name"]: p.get("parameter_default") for p in params}


@pytest.mark.parametrize("field", ["epochs", "max_steps", "learning_rate", "seed"])
def test_infinity_in_training_settings_is_refused_before_a_job_starts(app_server, field):
    data = api_defaults(app_server, "train_start")
    data[field] = float("inf")
    message = error_text(app_server, "train_start", list(data.values()))
    assert message == message_of("err.not_finite", field=ES[f"train.hp.{field}"], value="inf")


def test_a_bounded_number_sent_as_infinity_is_clamped_as_documented(app_server):
    name, payload = raw_call(app_server, "next_token", ["Había una vez", BUNDLED_NAME, float("inf"), 0, 1.0, 10])
    assert name == "complete", payload[:300]
    table = json.loads(payload)[0]
    assert len(table["data"]) == 10


# --------------------------------------------------------------------------- names, types, text
@pytest.mark.parametrize("model, key, params", [
    (123, "err.model_name_type", {"kind": "int"}),
    ({"a": 1}, "err.model_name_type", {"kind": "dict"}),
    ("m" * 256, "err.model_name_too_long", {"n": 256, "max": 255}),
    ("gpt2\x00es", "err.bad_model_name", {"name": "gpt2\\x00es"}),
    ("gpt2<b>\x07</b>", "err.bad_model_name", {"name": "gpt2&lt;b&gt;\\x07&lt;/b&gt;"}),
])
def test_model_names_no_model_can_have(app_server, model, key, params):
    assert error_text(app_server, "model_info", [model]) == message_of(key, **params)


def test_a_non_list_of_models_for_the_quick_comparison(app_server):
    for models in ({"a": 1}, 7):
        message = error_text(app_server, "trials_start", [models, "chistes", 20, 1, 5e-4, 42])
        assert "debe ser una lista de nombres" in message
    message = error_text(app_server, "trials_start", [[123], "chistes", 20, 1, 5e-4, 42])
    assert "debe ser un texto" in message


def test_a_lone_surrogate_in_a_prompt(app_server):
    for api, data in (("next_token", ["Había \ud800 una vez", BUNDLED_NAME, 1.0, 0, 1.0, 10]),
                      ("decode_steps", ["\udfff", BUNDLED_NAME, *DECODE_DEFAULTS])):
        message = error_text(app_server, api, data)
        assert "no son texto válido" in message


def test_over_long_text_is_refused_by_the_server_too(app_server):
    from lm_demo.locales.numbers import number
    from lm_demo.ui.limits import MAX_TEXT_CHARS

    message = error_text(app_server, "next_token", ["a" * (MAX_TEXT_CHARS + 1), BUNDLED_NAME, 1.0, 0, 1.0, 10])
    assert "demasiado largo" in message and number(MAX_TEXT_CHARS, ",", "es") in message  # "20.000"


def test_an_oversized_request_body_is_refused_before_it_is_read(app_server):
    """Only the headers are sent: the 413 must come back without the body ever arriving.

    (Sending the whole body races the server's early answer: the client may
    see a broken pipe instead of the reply, depending on timing.)
    """
    import socket
    from urllib.parse import urlparse

    from lm_demo.ui.limits import MAX_BODY_BYTES

    url = urlparse(app_server)
    head = (f"POST {url.path or '/'}gradio_api/call/next_token HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n"
            "Connection: close\r\n\r\n").replace("//gradio_api", "/gradio_api")
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line, _, rest = reply.decode("utf-8", "replace").partition("\r\n")
    assert " 413 " in status_line, status_line
    assert "demasiado grande" in rest


# --------------------------------------------------------------------------- folders
@pytest.fixture()
def hostile_checkpoints(checkpoints_tmp):
    """Two folders in the app's checkpoints dir: one asks for remote code, one has only pickled weights."""
    made = []
    remote = checkpoints_tmp / "abuso-codigo-remoto"
    shutil.copytree(bundled_model_path(), remote)
    cfg = json.loads((remote / "config.json").read_text())
    cfg["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilModel"}
    (remote / "config.json").write_text(json.dumps(cfg))
    (remote / "evil.py").write_text("import os\nos.makedirs('/tmp/lm_demo_remote_code_ran', exist_ok=True)\n")
    made.append(remote)
    pickled = checkpoints_tmp / "abuso-pickle"
    shutil.copytree(bundled_model_path(), pickled)
    for f in pickled.glob("*.safetensors"):
        f.unlink()
    # A pickle that would run a command if it were unpickled without ``weights_only``.
    (pickled / "pytorch_model.bin").write_bytes(
        b"cos\nsystem\n(S'mkdir -p /tmp/lm_demo_pickle_ran'\ntR.")
    made.append(pickled)
    yield {p.name: p for p in made}
    for p in made:
        shutil.rmtree(p, ignore_errors=True)


def test_checkpoints_that_would_run_code_are_not_loaded(app_server, hostile_checkpoints):
    message = error_text(app_server, "model_info", ["abuso-codigo-remoto"])
    assert "pide ejecutar código" in message and "no se carga" in message
    message = error_text(app_server, "model_info", ["abuso-pickle"])
    assert "formato inseguro" in message and "no se carga" in message
    message = error_text(app_server, "compare", ["Hola", "abuso-pickle", BUNDLED_NAME, 42, *COMPARE_DEFAULTS])
    assert "formato inseguro" in message
    assert not Path("/tmp/lm_demo_remote_code_ran").exists() and not Path("/tmp/lm_demo_pickle_ran").exists()


def test_a_folder_outside_checkpoints_named_like_a_hub_id_is_refused(app_server):
    """The app runs in the repository: ``artifacts/hidden_model`` looks like a hub id and is a folder there."""
    hidden = REPO / "artifacts" / "hidden_model"
    shutil.rmtree(hidden, ignore_errors=True)
    shutil.copytree(bundled_model_path(), hidden)
    try:
        message = error_text(app_server, "model_info", ["artifacts/hidden_model"])
        assert "Solo se pueden cargar carpetas dentro de checkpoints/" in message
    finally:
        shutil.rmtree(hidden, ignore_errors=True)


# --------------------------------------------------------------------------- escaping
def test_html_in_a_model_name_is_escaped_in_the_message(app_server):
    message = error_text(app_server, "model_info", ["<img src=x onerror=alert(1)>"])
    assert "<img" not in message and "&lt;img src=x" in message


def test_html_in_a_model_name_shows_as_text_in_the_browser(page):
    """The popup renders HTML: the name must arrive escaped, shown as text, not an image."""
    from conftest import ARTIFACTS

    picker = page.locator("#model-picker input")
    picker.fill("<img src=x>")
    picker.press("Enter")
    toast = page.locator("[data-testid='toast-body']").filter(has_text="img src=x")
    toast.first.wait_for(timeout=60_000)
    assert toast.first.locator("img").count() == 0
    assert "<img src=x>" in toast.first.inner_text()
    page.wait_for_timeout(500)  # the popup slides in
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "abuse_escaped_name.png"))


def test_text_boxes_are_capped_in_the_browser(page, app_server):
    from lm_demo.ui.limits import MAX_TEXT_CHARS

    prompt = page.locator("#nt-prompt textarea")
    assert prompt.get_attribute("maxlength") == str(MAX_TEXT_CHARS)
    assert prompt.input_value() == "Había una vez"  # the capped box keeps its label and value
    assert "Texto de entrada" in page.locator("#nt-prompt").inner_text()
    # The other tabs' boxes are drawn when their tab opens: their config says the same.
    with urllib.request.urlopen(f"{app_server}config", timeout=30) as r:
        config = json.load(r)
    boxes = {c["props"].get("elem_id"): c["props"] for c in config["components"] if c.get("type") == "textbox"}
    for elem_id in ("nt-prompt", "dec-prompt", "cmp-prompt", "cmp-eval-text"):
        assert boxes[elem_id]["max_length"] == MAX_TEXT_CHARS, elem_id


# --------------------------------------------------------------------------- ownership
def test_only_the_client_that_started_a_comparison_can_stop_it(app_server):
    """Two clients: B sees A's running comparison read-only; its stop is refused; A's stop works.

    The job must certainly still run while B tries: a bundled corpus (it loads on any clone; the jokes need
    a data folder, and a job that fails at once has nothing to stop) and the most steps a comparison takes
    (2,000: minutes on the bundled model), so only A's stop ends it.
    """
    from gradio_client import Client

    a = Client(app_server, verbose=False, download_files=False)
    b = Client(app_server, verbose=False, download_files=False)
    job_id, status, *_ = a.predict([BUNDLED_NAME], "poesia", 200, 2000, 5e-4, 42, api_name="/trials_start")
    assert isinstance(job_id, str) and len(job_id) >= 10
    try:
        assert "⏳" in status, status
        for wrong in (None, "", "0000000000", job_id[:-1], {"id": job_id}):
            assert client_error(b, wrong, api_name="/trials_stop") == ES["err.not_owner"]
        # Training's stop follows the same rule for whatever job the runner holds.
        assert client_error(b, None, api_name="/train_stop") == ES["train.stop.not_owner"]
        # B watches the same job read-only (Stop disabled); A, with the id, may stop it.
        view_b = json.loads(raw_call(app_server, "trials_status", [None])[1])
        view_a = json.loads(raw_call(app_server, "trials_status", [job_id])[1])
        assert view_b[0].startswith("⏳") and view_a[0].startswith("⏳")
        assert view_b[-1]["interactive"] is False and view_a[-1]["interactive"] is True
        assert ES["job.watching"] in view_b[0] and ES["job.watching"] not in view_a[0]
        assert a.predict(job_id, api_name="/trials_stop") == ES["cmp.trials.progress.stopping"]
    finally:
        a.predict(job_id, api_name="/trials_stop")  # whatever failed above, don't leave the runner busy
    deadline = time.time() + 120
    while "⏳" in status and time.time() < deadline:
        time.sleep(1)
        status = a.predict(job_id, api_name="/trials_status")[0]
    assert "⏳" not in status and "detenida" in status, status


# --------------------------------------------------------------------------- many sessions (in-process)
def _demo():
    import gradio as gr

    from lm_demo.ui.widgets import Dropdown

    with gr.Blocks() as demo:
        picker = Dropdown(["a", "b"], value="a")
        state = gr.State(None)
    return demo, picker, state


def test_sessions_keep_their_own_state_and_updates_without_copying_the_page():
    import gradio as gr

    from lm_demo.ui.sessions import LeanStateHolder

    demo, picker, state = _demo()
    holder = LeanStateHolder()
    holder.set_blocks(demo)
    s1, s2 = holder["one"], holder["two"]
    assert s1.blocks_config is demo.default_config  # nothing copied until a session changes something
    s1[state._id] = "job-1"
    s1[picker._id] = gr.Dropdown(["a", "b", "c"], value="c", render=False)
    assert s1[state._id] == "job-1" and s2[state._id] is None
    assert [c[1] for c in s1[picker._id].choices] == ["a", "b", "c"]
    assert [c[1] for c in s2[picker._id].choices] == ["a", "b"]  # the other session (and the page) unchanged
    assert [c[1] for c in demo.default_config.blocks[picker._id].choices] == ["a", "b"]
    assert s1.config_values == {} and list(s1.components)  # deep links still get a config, built on demand


def test_idle_and_closed_sessions_are_dropped_with_what_was_remembered_for_them():
    from types import SimpleNamespace

    from lm_demo.ui import i18n
    from lm_demo.ui.sessions import LeanStateHolder, forget_callbacks

    demo, _, state = _demo()
    holder = LeanStateHolder()
    holder.set_blocks(demo)
    forgotten: list[str] = []
    forget_callbacks.append(forgotten.extend)
    try:
        for sid in ("idle", "closed", "busy"):
            holder[sid][state._id] = sid
            i18n.remember_lang("en", SimpleNamespace(session_hash=sid))
        holder.session_data["closed"].is_closed = True
        import datetime

        old = datetime.datetime.now() - datetime.timedelta(minutes=20)
        holder.time_last_used["idle"] = holder.time_last_used["closed"] = old
        gone = holder.drop_idle(idle_s=30 * 60, closed_s=10 * 60)
        assert sorted(gone) == ["closed"] and "closed" not in holder
        holder.time_last_used["idle"] -= datetime.timedelta(minutes=15)
        assert holder.drop_idle(idle_s=30 * 60) == ["idle"]
        assert list(holder.session_data) == ["busy"] and sorted(forgotten) == ["closed", "idle"]
    finally:
        forget_callbacks.remove(forgotten.extend)
        i18n.forget_sessions(["idle", "closed", "busy"])


def test_the_app_starts_with_lean_sessions_and_a_file_cache_that_expires():
    from lm_demo.ui.app import DELETE_CACHE, build_demo, launch_kwargs
    from lm_demo.ui.sessions import MAX_SESSIONS

    demo = build_demo(BUNDLED_NAME)
    assert demo.delete_cache == DELETE_CACHE and DELETE_CACHE[1] <= 24 * 3600
    kwargs = launch_kwargs()
    assert kwargs["state_session_capacity"] == MAX_SESSIONS
    assert kwargs["app_kwargs"]["lifespan"] is not None


def test_the_operators_token_stops_any_job_and_nothing_else_does(monkeypatch):
    from lm_demo.errors import UserError
    from lm_demo.training import Job
    from lm_demo.ui.ownership import request_stop

    job = Job("trials")
    monkeypatch.delenv("LM_DEMO_ADMIN_TOKEN", raising=False)
    for wrong in ("", None, "x" * 16, 42, job.id.upper() if job.id.upper() != job.id else job.id + "0"):
        with pytest.raises(UserError):
            request_stop(job, wrong)
    monkeypatch.setenv("LM_DEMO_ADMIN_TOKEN", "short")  # too short to count: never a key
    with pytest.raises(UserError):
        request_stop(job, "short")
    monkeypatch.setenv("LM_DEMO_ADMIN_TOKEN", "operador-del-space-2026")
    assert request_stop(job, "operador-del-space-2026") and job.stop_requested
    job.finish("stopped")
    assert request_stop(job, job.id) is False  # ended: nothing to stop


@pytest.mark.parametrize("text, shown", [
    ("No se pudo leer /tmp/gradio/ab12cd/poemas.csv", "No se pudo leer poemas.csv"),
    ("origen: /work/shared/data/poesia/p.parquet + wikimedia/wikipedia", "origen: p.parquet + wikimedia/wikipedia"),
    (r"C:\Users\profe\corpus.txt", "corpus.txt"),
    ("mrm8488/CHISTES_spanish_jokes", "mrm8488/CHISTES_spanish_jokes"),
    ("Solo carpetas dentro de checkpoints/; «../../etc» no", "Solo carpetas dentro de checkpoints/; «../../etc» no"),
    ("<img src=x> /a/b/c.txt", "&lt;img src=x&gt; c.txt"),
])
def test_text_shown_to_a_visitor_has_no_html_and_no_server_paths(text, shown):
    from lm_demo.ui.common import plain

    assert plain(text) == shown
