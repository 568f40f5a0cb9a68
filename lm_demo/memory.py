"""Give freed memory back to the operating system, and say how much is free: for core code without Gradio.

Why: CPython returns freed objects to malloc, which keeps the pages, so a
long-running server's memory only grows with each large request (a corpus
read and tokenized, a training run).  ``give_back`` runs a garbage
collection and glibc's ``malloc_trim`` (nothing to do on other C libraries).
``available_bytes`` is what a new allocation can still get: the smaller of
the kernel's ``MemAvailable`` and what the container's cgroup still allows
(a Space's limit is a cgroup limit, well below the host's memory).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from pathlib import Path
from typing import Any

_libc: Any = None
_libc_lock = threading.Lock()


def _trim() -> None:
    global _libc
    with _libc_lock:
        if _libc is None:
            try:
                _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _libc.malloc_trim.argtypes = [ctypes.c_size_t]
            except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
                _libc = False
    if _libc:
        _libc.malloc_trim(0)


def give_back(background: bool = False, collect: bool = True) -> None:
    """A garbage collection (when ``collect``) then ``malloc_trim``; in a thread of its own when ``background``."""
    def work() -> None:
        if collect:
            gc.collect()
        _trim()

    if background:
        threading.Thread(target=work, name="lm_demo-give-back-memory", daemon=True).start()
    else:
        work()


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cgroup_room() -> int | None:
    """Bytes the process's cgroup still allows (v2 ``memory.max - memory.current``, or v1), None when unlimited."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        rel = parts[2].lstrip("/")
        if parts[0] == "0":  # v2
            base = Path("/sys/fs/cgroup") / rel
            limit, used = _read(base / "memory.max"), _read(base / "memory.current")
        elif "memory" in parts[1].split(","):  # v1
            base = Path("/sys/fs/cgroup/memory") / rel
            limit, used = _read(base / "memory.limit_in_bytes"), _read(base / "memory.usage_in_bytes")
        else:
            continue
        if limit and used and limit.isdigit() and used.isdigit() and int(limit) < 1 << 60:
            return max(0, int(limit) - int(used))
    return None


def available_bytes() -> int | None:
    """Memory a new allocation can still get (``MemAvailable``, capped by the cgroup's room); None if unknown."""
    found: list[int] = []
    text = _read(Path("/proc/meminfo"))
    for line in (text or "").splitlines():
        if line.startswith("MemAvailable:"):
            found.append(int(line.split()[1]) * 1024)
    room = _cgroup_room()
    if room is not None:
        found.append(room)
    return min(found) if found else None


__all__ = ["give_back", "available_bytes"]
