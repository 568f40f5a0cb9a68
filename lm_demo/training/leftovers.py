"""What interrupted saves leave behind, removed at start-up (the tab's first load, the CLI).

- ``.tmp-<pid>-*`` / ``.old-<pid>-*`` folders of ``lm_demo.checkpoints`` whose
  process is gone (a live process may be writing them right now);
- empty ``lm_demo-train-*`` temporary folders of runs that save nothing;
- half-written checkpoints in run folders nobody trains now (``runs.Run.busy``):
  a checkpoint counts only once ``run.json`` names it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lm_demo.training import runs


def cleanup_leftovers() -> list[str]:
    """Remove what interrupted saves leave behind (see the module docstring); returns what was removed."""
    from lm_demo.models import checkpoints_dir

    removed: list[str] = []
    root = checkpoints_dir()
    if root.is_dir():
        for d in root.iterdir():
            if not d.is_dir() or not d.name.startswith((".tmp-", ".old-")):
                continue
            parts = d.name.split("-")
            owner = parts[1] if len(parts) > 2 and parts[1].isdigit() else None
            if owner is not None and int(owner) != os.getpid() and runs.pid_alive(owner):
                continue  # another process is writing it right now
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob(f"{runs.TEMP_PREFIX}*"):
        try:
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
                removed.append(str(d))
        except OSError:
            continue
    for run in runs.all_runs():  # half-written checkpoints of runs nobody trains now
        if run.busy():
            continue
        named = run.data.get("checkpoint")
        for d in run.path.glob(f"{runs.CHECKPOINT_PREFIX}*"):
            if d.name != named and not (d / "trainer_state.json").is_file():
                shutil.rmtree(d, ignore_errors=True)
                removed.append(str(d))
    return removed


__all__ = ["cleanup_leftovers"]
