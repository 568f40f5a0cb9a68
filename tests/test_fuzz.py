"""Fuzz every public API through the running app: any input gives an answer or a clear message.

"Clear message" means a ``gr.Error`` raised by our ``guard`` from a
``UserError`` (Spanish text), never Gradio's or Python's own error text, never
a traceback, and the app keeps answering afterwards.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lm_demo.locales import STRINGS

pytestmark = pytest.mark.e2e

any_text = st.one_of(
    st.none(), st.text(max_size=300), st.text(alphabet=st.characters(), min_size=1, max_size=50),
    # what only an API client sends: NUL and control characters, HTML (lone surrogates: test_abuse, raw HTTP)
    st.text(alphabet=st.sampled_from("\x00\x07<>&`/. ab"), min_size=1, max_size=20),
)
any_name = st.one_of(any_text, st.text(min_size=250, max_size=400), st.integers(), st.lists(st.text(max_size=5)),
                     st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
any_number = st.one_of(
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
GENERIC = STRINGS["es"]["err.generic"].split("{")[0]
MODEL = "gpt2-es-tiny"


def known_spanish_message(message: str) -> bool:
    """Whether ``message`` is one of our locale table's Spanish messages (with its values filled in)."""
    for key, template in STRINGS["es"].items():
        if key == "err.generic" or len(template) < 12:
            continue
        parts = re.split(r"\{[^}]*\}", template)
        if re.fullmatch(".*".join(re.escape(p) for p in parts), message.strip(), flags=re.DOTALL):
            return True
    return False


def call(client, api_name: str, *args):
    from gradio_client.exceptions import AppError

    try:
        return client.predict(*args, api_name=api_name), None
    except AppError as e:
        msg = str(e)
        assert "Traceback" not in msg
        assert not msg.startswith(GENERIC), f"unexpected server error for {args!r}: {msg}"
        assert known_spanish_message(msg), f"not one of our Spanish messages: {msg!r}"
        return None, msg


@FUZZ
@given(prompt=any_text, temperature=any_number, top_k=any_number, top_p=any_number, top_n=any_number)
def test_next_token_api_never_crashes(gradio_client, prompt, temperature, top_k, top_p, top_n):
    result, err = call(gradio_client, "/next_token", prompt, MODEL, temperature, top_k, top_p, top_n)
    if err is None:
        table = result[0]
        assert 1 <= len(table["data"]) <= 50
        assert sum(r[3] for r in table["data"]) <= 1.0 + 1e-5


@FUZZ
@given(name=any_name)
def test_model_names_never_crash(gradio_client, name):
    call(gradio_client, "/model_info", name)


def test_app_still_answers_after_fuzzing(gradio_client):
    table, *_ = gradio_client.predict("Había una vez", api_name="/next_token")
    assert len(table["data"]) == 10


@FUZZ
@given(preset=any_text, column=any_text, mode=any_text, max_rows=any_number, lines=any_number)
def test_corpus_stats_never_crash(gradio_client, preset, column, mode, max_rows, lines):
    call(gradio_client, "/train_corpus_stats", preset, None, column, mode, [], lines, max_rows, MODEL)


@FUZZ
@given(job_id=any_text)
def test_training_status_and_stop_never_crash(gradio_client, job_id):
    call(gradio_client, "/train_status", job_id, False)
    call(gradio_client, "/train_stop", job_id)


SMALL_FUZZ = settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@SMALL_FUZZ
@given(prompt=any_text, steps=any_number, seed=any_number, top_n=any_number, sentences=any_number,
       temperature=any_number, top_k=any_number, top_p=any_number, penalty=any_number, eps=any_number)
def test_decode_steps_api_never_crashes(gradio_client, prompt, steps, seed, top_n, sentences, temperature, top_k,
                                        top_p, penalty, eps):
    call(gradio_client, "/decode_steps", prompt, MODEL, steps, seed, top_n, sentences, temperature, top_k, top_p,
         penalty, eps)


@SMALL_FUZZ
@given(prompt=any_text, tuned=any_text, base=any_text, seed=any_number, n=any_number, new=any_number)
def test_compare_api_never_crashes(gradio_client, prompt, tuned, base, seed, n, new):
    call(gradio_client, "/compare", prompt, tuned, base, seed, n, new, 1.0, 50, 0.95, 1.0, "")
