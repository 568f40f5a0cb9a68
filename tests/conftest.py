"""Shared fixtures: offline hub, the real bundled model, and one app server for e2e tests.

``HF_HUB_OFFLINE`` must be set before transformers is imported, so it is set
here, at collection time.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LM_DEMO_DATA_DIR", REPO.parent / "shared" / "data"))
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "artifacts"


@pytest.fixture(scope="session")
def bundled():
    """The real bundled model, loaded once (``models.LoadedModel``)."""
    from lm_demo.models import BUNDLED_NAME, load_model

    return load_model(BUNDLED_NAME)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"../shared/data not found at {SHARED_DATA}")
    return SHARED_DATA


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 90.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@pytest.fixture(scope="session")
def checkpoints_tmp(tmp_path_factory) -> Path:
    """A private checkpoints folder for tests that write checkpoints."""
    return tmp_path_factory.mktemp("checkpoints")


@pytest.fixture(scope="session")
def app_server(checkpoints_tmp):
    """``python app.py`` on a free port, offline, with a private checkpoints folder.

    Yields the base URL; one server for the whole session, since starting one
    costs seconds.
    """
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_SERVER_PORT=str(port),
               LM_DEMO_CHECKPOINTS=str(checkpoints_tmp), PYTHONUNBUFFERED="1")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "app_server.log", "w")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc=proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def gradio_client(app_server):
    from gradio_client import Client

    return Client(app_server, verbose=False)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser, app_server):
    """A fresh page (Spanish locale) on the app, loaded."""
    ctx = browser.new_context(locale="es-ES", viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(app_server)
    pg.wait_for_selector("#model-picker", timeout=60_000)
    yield pg
    ctx.close()
