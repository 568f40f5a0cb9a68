"""A few recent results per model, dropped with the model, under one lock.

Why: moving a "Siguiente token" slider, redrawing attention for another head
and re-running a comparison on the same held-out texts ask the same model the
same question again.  Each such cache is keyed weakly by the model object, so a
model evicted from ``models.MODEL_CACHE`` (or a fine-tuned copy saved over)
takes its results with it, and keeps only the ``size`` most recent keys.
Values are shared: callers must not modify them.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any, Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class PerModelLRU(Generic[V]):
    """``get_or_compute(model, key, compute)``: ``compute()`` once per model and key while recent."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._store: weakref.WeakKeyDictionary[Any, OrderedDict[Hashable, V]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, model: Any, key: Hashable) -> V | None:
        with self._lock:
            per_model = self._store.get(model)
            if per_model is None or key not in per_model:
                return None
            per_model.move_to_end(key)
            return per_model[key]

    def put(self, model: Any, key: Hashable, value: V) -> None:
        with self._lock:
            per_model = self._store.setdefault(model, OrderedDict())
            per_model[key] = value
            per_model.move_to_end(key)
            while len(per_model) > self.size:
                per_model.popitem(last=False)

    def get_or_compute(self, model: Any, key: Hashable, compute: Callable[[], V], use: bool = True) -> V:
        """The kept value, else ``compute()`` kept (the lock is not held while computing: two threads
        asking at once may both compute; the result is the same).  ``use=False``: compute, keep nothing."""
        if not use:
            return compute()
        found = self.get(model, key)
        if found is not None:
            return found
        value = compute()
        self.put(model, key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._store.clear()


__all__ = ["PerModelLRU"]
