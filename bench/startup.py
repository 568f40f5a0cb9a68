"""Seconds from ``python app.py`` to the first HTTP 200, offline, median of 3.

Why a script: start-up is what a teacher waits for in front of the class;
importing gradio+torch+transformers+datasets+plotly alone takes ~6 s here,
so the app imports torch/transformers only when a tab first needs them.

Last line: ``startup_s=<median>``.  Target: <= 8.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(timeout: float = 120.0) -> float:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("no HTTP 200")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
