"""What each browser session costs the server, kept small and given back.

Why: a public Space or a class of 30 opens hundreds of sessions (every page
load, every API client is one).  Measured on this app (244 components),
Gradio 6.31 kept ~0.4 MiB per session forever: each ``SessionState`` holds
a config dict for every component of the page (``config_values``), filled
eagerly, plus the last value of every input and output the session sent or
got (only used by ``gr.DeepLinkButton``, which this app has not), and
Gradio removes a session only when 10,000 newer ones exist.

So the app swaps in ``LeanStateHolder`` when the server starts (a lifespan
hook, before the first request): sessions keep what handlers need (their
``gr.State`` values and per-session component updates) and not the config
copies; sessions idle for ``LM_DEMO_SESSION_IDLE_MINUTES`` (closed tabs
sooner) are dropped together with what other modules remember per session
(``forget_callbacks``, e.g. the page language), and freed memory is handed
back to the operating system (``malloc_trim``).  Gradio calls
``delete_all_expired_state`` every second; the sweep runs from there.
"""

from __future__ import annotations

import datetime
import logging
import time
from contextlib import asynccontextmanager
from copy import copy
from typing import Any, AsyncIterator, Callable, Iterable

from gradio.state_holder import SessionState, StateHolder

from lm_demo import env

log = logging.getLogger("lm_demo")

SWEEP_SECONDS = 30.0  # how often idle sessions are looked for
TRIM_SECONDS = 120.0  # freed memory is handed back at most this often when sessions were used
CLOSED_MINUTES = 10.0  # a closed tab's session (Gradio keeps it an hour) is dropped after this
MAX_SESSIONS = 2000  # Gradio's own cap (``state_session_capacity``; default 10,000)

#: Called with the ids of dropped sessions (modules that remember something per session).
forget_callbacks: list[Callable[[list[str]], None]] = []


def idle_minutes() -> float:
    """Minutes without a request after which a session is dropped (``LM_DEMO_SESSION_IDLE_MINUTES``, 60)."""
    return env.session_idle_minutes(60.0)


class LeanSessionState(SessionState):
    """A ``SessionState`` without the per-component config copies (deep links only; unused here).

    Its ``blocks_config`` is the app's own until the session's first
    component update, then a copy (Gradio copies it for every session: 12 KiB
    here).  Only ``__setitem__`` and ``gr.render`` (which this app has not;
    then it copies at once) write to it.
    """

    def __init__(self, blocks: Any) -> None:  # noqa: D107 - parent's attributes minus ``config_values``
        self._shared_config = blocks.default_config
        self._own_config = None if not blocks.default_config.renderables else copy(blocks.default_config)
        self.config_values: dict[int, Any] = {}
        self.state_data: dict[int, Any] = {}
        self._state_ttl: dict[int, Any] = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 3600

    @property
    def blocks_config(self) -> Any:
        return self._own_config if self._own_config is not None else self._shared_config

    @blocks_config.setter
    def blocks_config(self, value: Any) -> None:
        self._own_config = value

    def __setitem__(self, key: int, value: Any) -> None:
        from gradio.components import State

        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, datetime.datetime.now())
            self.state_data[key] = value
        elif self.blocks_config.blocks.get(key) is not value:  # a component updated for this session
            if self._own_config is None:
                self._own_config = copy(self._shared_config)
            self._own_config.blocks[key] = value

    def _update_config(self, key: int) -> None:
        """Not kept: Gradio stores it only to rebuild a page from a deep link."""

    def _update_value_in_config(self, key: int, value: Any) -> None:
        """Not kept (every input and output value, per session): see ``_update_config``."""

    @property
    def components(self) -> Iterable[dict]:
        for key, block in self.blocks_config.blocks.items():
            config = self.blocks_config.config_for_block(key, [], block)
            if config:
                yield config


class LeanStateHolder(StateHolder):
    """Gradio's ``StateHolder`` with lean sessions and idle sessions dropped."""

    def __init__(self) -> None:
        super().__init__()
        self._last_sweep = self._last_trim = time.monotonic()

    def __getitem__(self, session_id: str) -> SessionState:
        with self.lock:  # the sweep reads both dicts from the event loop's thread
            state = self.session_data.get(session_id)
            if state is None:
                state = self.session_data[session_id] = LeanSessionState(self.blocks)
            self.time_last_used[session_id] = datetime.datetime.now()
        self.update(session_id)  # LRU order and Gradio's cap (``state_session_capacity``)
        return state

    def delete_all_expired_state(self) -> None:
        super().delete_all_expired_state()
        now = time.monotonic()
        if now - self._last_sweep >= SWEEP_SECONDS:
            self._last_sweep = now
            if not self.drop_idle() and now - self._last_trim >= TRIM_SECONDS and self._used_since_trim():
                release_memory(collect=False)  # what requests freed since (large inputs, figures)
                self._last_trim = now

    def _used_since_trim(self) -> bool:
        since = datetime.datetime.now() - datetime.timedelta(seconds=time.monotonic() - self._last_trim)
        with self.lock:
            return any(last > since for last in self.time_last_used.values())

    def drop_idle(self, idle_s: float | None = None, closed_s: float | None = None) -> list[str]:
        """Drop sessions unused for ``idle_s`` seconds (closed ones: ``closed_s``); returns their ids."""
        idle_s = idle_minutes() * 60 if idle_s is None else idle_s
        closed_s = min(idle_s, CLOSED_MINUTES * 60) if closed_s is None else closed_s
        now = datetime.datetime.now()
        with self.lock:
            gone = []
            for sid, state in self.session_data.items():
                last = self.time_last_used.get(sid, now)
                age = (now - last).total_seconds()
                if age > idle_s or (getattr(state, "is_closed", False) and age > closed_s):
                    gone.append(sid)
        for sid in gone:
            try:
                self.delete_state(sid)  # gr.State delete callbacks
            except Exception:  # noqa: BLE001 - a callback must not keep the session alive
                log.exception("deleting the state of session %s", sid)
            with self.lock:
                self.session_data.pop(sid, None)
                self.time_last_used.pop(sid, None)
        if gone:
            for forget in forget_callbacks:
                try:
                    forget(gone)
                except Exception:  # noqa: BLE001
                    log.exception("forgetting %d sessions", len(gone))
            release_memory()
            self._last_trim = time.monotonic()
        return gone


def release_memory(background: bool = True, collect: bool = True) -> None:
    """Give freed heap pages back to the OS (glibc ``malloc_trim``), after a garbage collection
    when ``collect``; in a thread of its own when ``background`` (never on the event loop).

    Why: CPython returns freed objects to malloc, which keeps the pages; on a
    long-running server the RSS then only grows with each burst of requests.
    (The core's ``lm_demo.memory.give_back``, shared with the corpus preparation.)
    """
    from lm_demo.memory import give_back

    give_back(background=background, collect=collect)


def install(app: Any) -> LeanStateHolder:
    """Replace ``app.state_holder`` (a fresh server, before any request) with a ``LeanStateHolder``."""
    old = app.state_holder
    holder = LeanStateHolder()
    holder.set_blocks(app.get_blocks())
    with old.lock:
        for sid, state in old.session_data.items():  # none on a fresh server; kept if any
            holder.session_data[sid] = state
            holder.time_last_used[sid] = old.time_last_used.get(sid, datetime.datetime.now())
    app.state_holder = holder
    return holder


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """``launch(app_kwargs={"lifespan": lifespan})``: lean sessions from the first request on."""
    install(app)
    yield
