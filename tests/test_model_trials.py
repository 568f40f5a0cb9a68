"""The quick model comparison (seed 000) as a background job on the real training runner."""

from __future__ import annotations

import math

import pytest

from lm_demo.errors import UserError
from lm_demo.model_trials import (
    TRIAL_PROMPT,
    TrialSpec,
    best_index,
    rows_from_events,
    start_trials,
)
from lm_demo.models import BUNDLED_NAME

DEMO_FT = "gpt2-es-tiny-chistes"
TINY = dict(corpus_preset="refranes", n_examples=40, max_steps=2, block_size=32, batch_size=4,
            sample_max_new_tokens=6)


def test_two_models_fill_the_table_and_an_unavailable_one_gets_an_error_row():
    job = start_trials(TrialSpec(models=[BUNDLED_NAME, "datificate/gpt2-small-spanish", DEMO_FT, BUNDLED_NAME],
                                 **TINY))
    assert job.kind == "trials"
    assert job.wait(timeout=240), "the quick comparison did not finish"
    assert job.status == "finished", job.error
    rows = job.result
    assert [r.model for r in rows] == [BUNDLED_NAME, "datificate/gpt2-small-spanish", DEMO_FT]  # deduplicated
    assert rows_from_events(job.events) == rows  # the table a poller rebuilds equals the result
    ok = [r for r in rows if r.status == "done"]
    assert [r.model for r in ok] == [BUNDLED_NAME, DEMO_FT]
    for r in ok:
        assert r.steps == 2 and r.params and r.seconds and r.seconds > 0
        assert math.isfinite(r.eval_loss) and math.isfinite(r.eval_loss_before)
        assert r.perplexity == pytest.approx(math.exp(r.eval_loss), rel=1e-6)
        assert r.sample.startswith(TRIAL_PROMPT) and len(r.sample) > len(TRIAL_PROMPT)
    # Offline, a hub preset is an error row with a Spanish message, not a silent fallback.
    bad = rows[1]
    assert bad.status == "error" and "datificate/gpt2-small-spanish" in bad.error and bad.eval_loss is None
    best = best_index(rows)
    assert rows[best].eval_loss == min(r.eval_loss for r in ok)
    # Rows were posted as they changed: each model went pending -> running -> done/error.
    states = [(e["index"], e["row"]["status"]) for e in job.events if e["type"] == "trial"]
    assert states.index((0, "done")) < states.index((2, "running"))

    from lm_demo.ui.components.compare_tab import trials_frame

    frame = trials_frame(rows)
    assert list(frame.iloc[:, 0]).count("★") == 1 and frame.iloc[best, 0] == "★"


def test_stop_ends_the_job_between_steps_and_the_runner_is_busy_meanwhile():
    job = start_trials(TrialSpec(models=[BUNDLED_NAME, DEMO_FT], **(TINY | {"max_steps": 500})))
    try:
        for _ in range(600):  # wait for the first training step of the first model
            if any(e["type"] == "train" for e in job.events) or not job.running:
                break
            job.wait(0.1)
        with pytest.raises(UserError) as e:
            start_trials(TrialSpec(models=[BUNDLED_NAME], **TINY))
        assert e.value.key == "train.err.busy"
    finally:
        job.request_stop()
    assert job.wait(timeout=120)
    assert job.status == "stopped"
    rows = job.result
    assert [r.status for r in rows] == ["stopped", "stopped"]
    assert rows[0].steps is not None and rows[0].steps < 500


def test_bad_specs_are_user_errors_or_documented_clamps():
    with pytest.raises(UserError) as e:
        start_trials(TrialSpec(models=["", "  "]))
    assert e.value.key == "cmp.trials.err.no_models"
    with pytest.raises(UserError) as e:
        TrialSpec(models=[BUNDLED_NAME], max_steps="muchos").validated()
    assert e.value.key == "err.bad_number"
    spec, notes = TrialSpec(models=[f"m{i}" for i in range(12)], n_examples=1, max_steps=10**9).validated()
    assert len(spec.models) == 8 and spec.n_examples == 20 and spec.max_steps == 2000
    assert len(notes) == 3
    spec, _ = TrialSpec(models=["a"], n_examples=float("inf"), learning_rate="-1e400").validated()
    assert spec.n_examples == 5000 and spec.learning_rate == 1e-6
