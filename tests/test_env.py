"""Operator settings from the environment: a typo keeps the default, never crashes or lifts a cap."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lm_demo.env import env_number
from lm_demo.training import caps


@pytest.mark.parametrize("raw, expected", [("2.5", 2.5), (" 7 ", 7.0), ("0", None), ("-1", None), ("inf", None),
                                           ("nan", None), ("tres", None), ("", None)])
def test_env_number_takes_only_finite_positive_numbers(monkeypatch, raw, expected):
    monkeypatch.setenv("LM_DEMO_TEST_NUMBER", raw)
    assert env_number("LM_DEMO_TEST_NUMBER") == expected
    assert env_number("LM_DEMO_TEST_NUMBER", 9.0) == (9.0 if expected is None else expected)


def test_zero_means_no_cap_and_infinity_keeps_the_default(monkeypatch):
    monkeypatch.setenv("LM_DEMO_MAX_TRAIN_MINUTES", "0")
    assert caps.max_minutes() == 0.0
    monkeypatch.setenv("LM_DEMO_MAX_TRAIN_MINUTES", "inf")
    monkeypatch.setenv("SPACE_ID", "someone/lm_demo")
    assert caps.max_minutes("cpu") == caps.SPACE_CPU_MINUTES


def test_a_bad_model_cache_size_does_not_stop_the_app_from_importing():
    code = "from lm_demo.models import MODEL_CACHE; print(MODEL_CACHE.max_models)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"LM_DEMO_MAX_MODELS": "tres", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
