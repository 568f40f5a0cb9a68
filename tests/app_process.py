"""Run ``app.py`` as a separate process on a free port: for tests and benchmarks.

Why a module: the end-to-end tests, ``bench/startup.py`` and
``bench/load.py`` all need the real app the way a teacher starts it (its own
process, offline), and must always stop it, even when something fails.  It
lives beside the tests, not in the package (the app never uses it); the bench
scripts, run from the repository root, import it as ``tests.app_process``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on right now (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(args: list[str] | None = None, env: dict[str, str] | None = None,
              log: IO[Any] | int = subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py [args]`` offline on a free port; returns (process, base URL).

    Does not wait for it: see ``wait_http``.  ``env`` adds to (and overrides)
    the current environment.
    """
    port = free_port()
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False",
                    PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py"), *(args or [])], cwd=REPO, env=full_env,
                            stdout=log, stderr=subprocess.STDOUT if log is not subprocess.DEVNULL else log)
    return proc, f"http://127.0.0.1:{port}/"


def wait_http(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None, poll_s: float = 0.05) -> float:
    """Wait for HTTP 200 at ``url``; returns the seconds waited.

    Raises ``RuntimeError`` if ``proc`` exits first, ``TimeoutError`` after
    ``timeout`` seconds.
    """
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(poll_s)
    raise TimeoutError(f"no HTTP 200 from {url} after {timeout:.0f} s")


def stop_app(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Terminate ``proc``, killing it if it doesn't exit within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
