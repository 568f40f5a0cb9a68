""""Tú eliges" on the real bundled model: the student's choices against the decoding engine, undo, branches,
and bad input."""

from __future__ import annotations

import pytest

from lm_demo import stepping
from lm_demo.decoding import DecoderSpec, decode
from lm_demo.errors import UserError

PROMPT = "En el silencio de la noche"


@pytest.fixture()
def fresh_store():
    """No trace kept from earlier tests: every state is built here."""
    stepping._TRACES.clear()
    yield
    stepping._TRACES.clear()


class ForwardCounter:
    """Counts the model's forward calls (how many times the model really runs)."""

    def __init__(self, model):
        self.n = 0
        self.handle = model.register_forward_pre_hook(self._hook)

    def _hook(self, *_):
        self.n += 1

    def close(self):
        self.handle.remove()


def _greedy_by_hand(loaded, steps: int) -> stepping.StepState:
    st = stepping.state(loaded, PROMPT, [], top_n=3)
    for _ in range(steps):
        st = stepping.choose(loaded, PROMPT, st.current.ids, [st.candidates[0].id], top_n=3)
    return st


def test_choosing_the_argmax_every_step_is_greedy_decoding(bundled, fresh_store):
    st = _greedy_by_hand(bundled, 25)
    greedy = decode(bundled, PROMPT, [DecoderSpec("greedy")], max_steps=25, top_n=5, eos_token_id=-1).runs[0]
    assert st.current.ids == greedy.token_ids
    for mine, ref in zip(st.current.rows, greedy.rows):
        assert (mine.step, mine.chosen_id, mine.rank, mine.prob, mine.cum_logprob) == \
            (ref.step, ref.chosen_id, ref.rank, ref.prob, ref.cum_logprob)
        assert mine.candidates[:5] == ref.candidates
    assert all(r.rank == 1 and r.mode == "click" for r in st.current.rows)
    assert st.text == PROMPT + greedy.text


def test_one_click_is_one_cached_forward_and_undo_runs_nothing(bundled, fresh_store):
    st = stepping.state(bundled, PROMPT, [], top_n=5)
    counter = ForwardCounter(bundled.model)
    try:
        st = stepping.choose(bundled, PROMPT, st.current.ids, [st.candidates[2].id], top_n=5)
        st = stepping.choose(bundled, PROMPT, st.current.ids, [st.candidates[0].id], top_n=5)
        assert counter.n == 2
        stepping.undo(bundled, PROMPT, st.current.ids, top_n=5)
        stepping.undo(bundled, PROMPT, st.current.ids[:-1], top_n=5)
        assert counter.n == 2
    finally:
        counter.close()


def test_undo_restores_the_previous_state_exactly(bundled, fresh_store):
    st = stepping.state(bundled, PROMPT, [], top_n=5)
    history = [st.to_dict("m")]
    for k in (0, 3, 1, 0):
        st = stepping.choose(bundled, PROMPT, st.current.ids, [st.candidates[k].id], top_n=5)
        history.append(st.to_dict("m"))
    st = stepping.choose(bundled, PROMPT, st.current.ids, stepping.typed_ids(bundled, " y la luna"), top_n=5,
                         mode="typed", modes=[r.mode for r in st.current.rows])
    modes = [r.mode for r in st.current.rows]
    assert modes[-1] == "typed" and modes[:4] == ["click"] * 4
    # undo the typed tokens one by one, then the clicks: every state comes back as it was shown
    ids = st.current.ids
    while len(ids) > 4:
        st = stepping.undo(bundled, PROMPT, ids, top_n=5, modes=modes)
        ids, modes = st.current.ids, [r.mode for r in st.current.rows]
    for expected in reversed(history[:-1]):
        st = stepping.undo(bundled, PROMPT, st.current.ids, top_n=5)
        assert st.to_dict("m") == expected
    with pytest.raises(UserError) as e:
        stepping.undo(bundled, PROMPT, [], top_n=5)
    assert "deshacer" in e.value.message()


def test_a_state_is_a_function_of_its_ids(bundled, fresh_store):
    """What the page holds (the ids) is enough: with no trace kept, the same numbers come back."""
    st = _greedy_by_hand(bundled, 6)
    st = stepping.choose(bundled, PROMPT, st.current.ids, [st.candidates[1].id], top_n=4)
    kept = st.to_dict("m")
    stepping._TRACES.clear()
    assert stepping.state(bundled, PROMPT, st.current.ids, top_n=4).to_dict("m") == kept
    # and after choosing again from the rebuilt state, undo gives it back
    again = stepping.choose(bundled, PROMPT, st.current.ids, [7], top_n=4)
    assert stepping.undo(bundled, PROMPT, again.current.ids, top_n=4).to_dict("m") == kept


def test_typed_text_is_appended_token_by_token_with_its_rank(bundled, fresh_store):
    st = stepping.state(bundled, PROMPT, [], top_n=5)
    ids = stepping.typed_ids(bundled, " y el mar")
    st = stepping.choose(bundled, PROMPT, [], ids, top_n=5, mode="typed")
    assert st.current.ids == ids and st.text == PROMPT + " y el mar"
    assert [r.step for r in st.current.rows] == list(range(1, len(ids) + 1))
    assert all(r.mode == "typed" and r.rank >= 1 and 0 < r.prob <= 1 for r in st.current.rows)
    import math

    assert st.current.cum_logprob == pytest.approx(sum(math.log(r.prob) for r in st.current.rows))
    for bad, word in (("", "Escribe"), ("palabra " * 30, "como mucho")):
        with pytest.raises(UserError) as e:
            stepping.typed_ids(bundled, bad)
        assert word in e.value.message()


def test_a_branch_is_kept_and_compared(bundled, fresh_store):
    a = _greedy_by_hand(bundled, 5)
    saved = a.current.ids
    b = stepping.undo(bundled, PROMPT, saved, top_n=5)
    b = stepping.undo(bundled, PROMPT, b.current.ids, top_n=5)
    b = stepping.choose(bundled, PROMPT, b.current.ids, [b.candidates[4].id], top_n=5, saved=saved)
    assert b.saved is not None and b.saved.ids == saved
    assert b.saved.cum_logprob == a.current.cum_logprob
    assert b.diverge_step() == 4 and b.current.ids[:3] == saved[:3]
    assert b.current.cum_logprob < b.saved.rows[3].cum_logprob  # rank 5 is less likely than rank 1 at step 4
    d = b.to_dict("m")
    assert d["saved"]["ids"] == saved and d["ids"] == b.current.ids


@pytest.mark.parametrize("ids, word", [([-1], "no existe"), ([10**9], "no existe"), (["a"], "no es válido"),
                                       ("1,2", "no es válido"), ([1.5], "no es válido"),
                                       ([1] * (stepping.MAX_STEPS + 1), "Como mucho")])
def test_bad_ids_are_refused_in_spanish(bundled, ids, word):
    with pytest.raises(UserError) as e:
        stepping.state(bundled, PROMPT, ids)
    assert word in e.value.message()


def test_top_n_is_clamped(bundled):
    st = stepping.state(bundled, PROMPT, [], top_n=500)
    assert len(st.candidates) == stepping.MAX_TOP_N and st.notes
    assert len(stepping.state(bundled, PROMPT, [], top_n="x").candidates) == 5
