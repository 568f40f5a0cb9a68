"""Several processes, one run: what the runner does differently under ``torchrun`` / ``accelerate launch``.

Why: the Trainer already trains with DDP when started by ``torchrun``
(gradients averaged over processes, each process a slice of every batch), but
everything around it ran once per process: each process loaded and packed
the corpus, wrote the checkpoint to the same folder and printed the story.
Here the main process (rank 0) prepares the data, names the run, saves and
prints; the others wait for it and read what it prepared.  Metrics are
already gathered over all ranks by the Trainer (losses, tokens seen); the
stop and save decisions of the callback are agreed on by all ranks
(``agree``), or the processes would fall out of step and hang.

Outside a launcher (``WORLD_SIZE`` unset or 1) every function is a no-op.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Iterator


def world_size() -> int:
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def is_distributed() -> bool:
    return world_size() > 1


def is_main() -> bool:
    return rank() == 0


def quiet_others() -> None:
    """No progress bars on a process other than the main one (transformers' weight loading, datasets' maps and
    loads, the Trainer's): a launch of N processes draws the main one's bars, not N of each.  The others live
    only for this run, so nothing is switched back."""
    if is_main():
        return
    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()


def setup() -> None:
    """Start the process group (gloo on CPU, nccl on GPU) through accelerate, as the Trainer would."""
    if not is_distributed():
        return
    import torch
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return
    from accelerate import PartialState

    PartialState(cpu=not torch.cuda.is_available())


def _ready() -> bool:
    if not is_distributed():
        return False
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


def barrier() -> None:
    if _ready():
        import torch.distributed as dist

        dist.barrier()


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (a picklable object)."""
    if not _ready():
        return obj
    import torch.distributed as dist

    box = [obj if is_main() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def agree(*flags: bool) -> tuple[bool, ...]:
    """Each flag True on every rank when it is True on any rank (stop, save)."""
    if not _ready():
        return tuple(bool(f) for f in flags)
    import torch
    import torch.distributed as dist

    t = torch.tensor([1.0 if f else 0.0 for f in flags])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return tuple(bool(x > 0) for x in t.tolist())


@contextmanager
def main_first() -> Iterator[None]:
    """The main process runs the block first; the others run it once it is done."""
    if not _ready():
        yield
        return
    if not is_main():
        barrier()
    try:
        yield
    finally:
        if is_main():
            barrier()


def teardown() -> None:
    if _ready():
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()


__all__ = ["world_size", "rank", "is_distributed", "is_main", "quiet_others", "setup", "barrier", "broadcast", "agree",
           "main_first", "teardown"]
