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


def test_every_setting_is_read_in_env_py_and_listed_in_the_readme():
    """Issue 21: one place per environment variable (``lm_demo/env.py``), and README's table lists them all."""
    import ast
    import re
    from pathlib import Path

    from lm_demo import env

    repo = Path(__file__).resolve().parents[1]
    sources = [p for p in (repo / "lm_demo").rglob("*.py")] + [repo / "app.py"]
    mentioned: set[str] = set()
    reads: list[str] = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        mentioned |= set(re.findall(r"\bLM_DEMO_[A-Z0-9_]*[A-Z0-9]\b", text))
        if path.name == "env.py" and path.parent.name == "lm_demo":
            continue
        for node in ast.walk(ast.parse(text)):
            # os.environ.get(...) / os.getenv(...) / os.environ[...] read (a write, as the CLI's flags do, is fine)
            call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
                node.func.attr == "getenv" or (node.func.attr == "get" and ast.unparse(node.func.value) == "os.environ"))
            item = isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and \
                ast.unparse(node.value) == "os.environ"
            if (call or item) and re.search(r"LM_DEMO_|SPACE_ID|HF_HUB_OFFLINE", ast.unparse(node)):
                reads.append(f"{path.relative_to(repo)}:{node.lineno}: {ast.unparse(node)}")
    assert reads == [], reads
    env_py = (repo / "lm_demo" / "env.py").read_text(encoding="utf-8")
    assert mentioned - {"LM_DEMO_TEST_NUMBER"} <= set(env.VARIABLES), sorted(mentioned - set(env.VARIABLES))
    assert [name for name in env.VARIABLES if env_py.count(f'"{name}"') < 2] == []  # listed, and read below
    readme = (repo / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(\w+)` \|", readme, flags=re.M))
    assert table == set(env.VARIABLES) | {"SPACE_ID", "HF_HUB_OFFLINE"}, sorted(table ^ set(env.VARIABLES))
