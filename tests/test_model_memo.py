"""The per-model result caches (lm_demo.model_memo): recent keys only, gone with their model."""

from __future__ import annotations

import gc

from lm_demo.model_memo import PerModelLRU


class _Model:  # any object a weak reference can point to; the caches key on model instances
    pass


def test_computes_once_per_key_and_keeps_only_the_most_recent():
    memo: PerModelLRU[int] = PerModelLRU(2)
    model, calls = _Model(), []

    def compute(k: int):
        return lambda: calls.append(k) or k * 10

    assert [memo.get_or_compute(model, k, compute(k)) for k in (1, 2, 1)] == [10, 20, 10]
    assert calls == [1, 2]  # the second 1 was kept
    memo.get_or_compute(model, 3, compute(3))  # 2 is now the oldest: dropped
    assert memo.get(model, 2) is None and memo.get(model, 1) == 10 and memo.get(model, 3) == 30
    assert memo.get(_Model(), 1) is None  # another model has its own entries
    assert memo.get_or_compute(model, 4, compute(4), use=False) == 40 and memo.get(model, 4) is None


def test_entries_go_with_their_model():
    memo: PerModelLRU[int] = PerModelLRU(4)
    model = _Model()
    memo.put(model, "k", 1)
    assert len(memo._store) == 1
    del model
    gc.collect()
    assert len(memo._store) == 0
