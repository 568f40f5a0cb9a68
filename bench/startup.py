"""Seconds from ``python app.py`` to the first HTTP 200, offline, median of 3.

Why a script: start-up is what a teacher waits for in front of the class;
importing gradio+torch+transformers+datasets+plotly alone takes ~6 s here,
so the app imports torch/transformers only when a tab first needs them.

Last line: ``startup_s=<median>``.  Target: <= 8.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lm_demo import app_process  # noqa: E402  (imports nothing heavy)


def one_start(timeout: float = 120.0) -> float:
    """Seconds from starting ``app.py`` to its first HTTP 200."""
    t0 = time.perf_counter()
    proc, url = app_process.start_app()
    try:
        app_process.wait_http(url, timeout=timeout, proc=proc)
        return time.perf_counter() - t0
    finally:
        app_process.stop_app(proc)


def bare_imports() -> float:
    """Baseline in the same run: importing the heavy stack, which a naive app does first."""
    code = "import gradio, torch, transformers, datasets, plotly"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    return time.perf_counter() - t0


def main(runs: int = 3) -> None:
    base = statistics.median(bare_imports() for _ in range(runs))
    print(f"baseline: import gradio+torch+transformers+datasets+plotly = {base:.2f} s (median of {runs})")
    times = [one_start() for _ in range(runs)]
    for i, s in enumerate(times, 1):
        print(f"run {i}: first HTTP 200 after {s:.2f} s")
    med = statistics.median(times)
    print(f"ratio to bare heavy imports: {med / base:.2f}")
    print(f"startup_s={med:.2f}")


if __name__ == "__main__":
    main()
