"""Shared fixtures: offline hub, the real bundled model, and one app server for e2e tests.

``HF_HUB_OFFLINE`` must be set before transformers is imported, so it is set
here, at collection time.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402

from tests import app_process  # noqa: E402

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
    """``../shared/data`` where it exists (CI); a contributor's clone has none, so only a comparison with it
    (never a behaviour) may use this fixture, and it is skipped there."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no ../shared/data beside this clone ({SHARED_DATA}): nothing to compare with")
    return SHARED_DATA


@pytest.fixture(scope="session")
def local_data(tmp_path_factory):
    """A small local data folder written by the tests (``tests/local_data.py``), in the shared layout."""
    from tests.local_data import write_local_data

    return write_local_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def checkpoints_tmp(tmp_path_factory) -> Path:
    """A private checkpoints folder for tests that write checkpoints."""
    return tmp_path_factory.mktemp("checkpoints")


_APP: dict = {}  # the session's app process (``app_pid``)


@pytest.fixture(scope="session")
def app_server(checkpoints_tmp):
    """``python app.py`` on a free port, offline, with a private checkpoints folder.

    Yields the base URL; one server for the whole session, since starting one
    costs seconds.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "app_server.log", "w")
    proc, url = app_process.start_app(env={"LM_DEMO_CHECKPOINTS": str(checkpoints_tmp)}, log=log)
    _APP["proc"] = proc
    try:
        app_process.wait_http(url, proc=proc, poll_s=0.3)
        yield url
    finally:
        app_process.stop_app(proc)
        log.close()


@pytest.fixture(scope="session")
def app_pid(app_server) -> int:
    """The process id of ``app_server``'s app (to watch its memory)."""
    return _APP["proc"].pid


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
