"""Killing a training process at a known point: after its run record reaches a step (crash-safe runs, issue 9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest


def wait_for_step(proc: subprocess.Popen, run_json: Path, step: int, timeout_s: float) -> None:
    """Return once ``run_json`` records ``step`` or more (a resumable checkpoint is on disk), ``proc`` still running.

    Fails the test if ``proc`` exits first or nothing is recorded within ``timeout_s``.
    """
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            if json.loads(run_json.read_text())["step"] >= step:
                return
        except (OSError, ValueError, KeyError):
            pass  # not written yet, or caught mid-replace
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else f"exited with {proc.returncode}"
        time.sleep(0.05)
    pytest.fail(f"no checkpoint at step {step} within {timeout_s:.0f} s")


def kill_at_step(proc: subprocess.Popen, run_json: Path, step: int, timeout_s: float) -> None:
    """SIGKILL ``proc`` once ``run_json`` records ``step`` or more (see ``wait_for_step``)."""
    try:
        wait_for_step(proc, run_json, step, timeout_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
