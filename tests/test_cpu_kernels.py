"""The kernel autotuner (lm_demo.cpu_kernels): every candidate is correct, the choice is measured."""

from __future__ import annotations

import time

import pytest
import torch
from torch.nn import functional as F

from lm_demo import cpu_kernels as ck
from lm_demo.cpu_host import bf16_support, host_report

BF16_OK, BF16_WHY = bf16_support()
needs_bf16 = pytest.mark.skipif(not BF16_OK, reason=f"this CPU has no oneDNN bfloat16 kernels ({BF16_WHY})")


def _layer(in_f: int, out_f: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out_f, in_f, generator=g) * 0.05
    return w, w.t().contiguous(), torch.randn(out_f, generator=g)


@pytest.mark.parametrize("name,rows", [(n, r) for n, k in ck.KERNELS.items() if not k.bf16
                                       for r in ([1] if k.exact_rows else [1, 3, 8, 20, 256])])
def test_fp32_kernels_equal_f_linear(name, rows):
    kernel = ck.KERNELS[name]  # a packed MKL weight only serves the row count it was packed for (1)
    if not ck.available(name):
        pytest.skip(f"{name} is not in this PyTorch build")
    w, w_io, b = _layer(96, 136, rows)
    x = torch.randn(rows, 96)
    with torch.inference_mode():
        for bias in (b, None):
            y = kernel.run(x, ck.prepare(kernel.layout, w, w_io, rows), bias)
            assert y.shape == (rows, 136) and y.is_contiguous()
            assert torch.allclose(y, F.linear(x, w, bias), atol=1e-5, rtol=1e-5)


@needs_bf16
@pytest.mark.parametrize("name", [n for n, k in ck.KERNELS.items() if k.bf16])
@pytest.mark.parametrize("rows", [1, 3, 20])
def test_bf16_kernels_close_to_f_linear(name, rows):
    kernel = ck.KERNELS[name]
    assert ck.available(name), "oneDNN says bf16 is supported, so the bf16 kernels must run"
    w, w_io, b = _layer(256, 64, rows)
    x = torch.randn(rows, 256)
    with torch.inference_mode():
        y = kernel.run(x, ck.prepare(kernel.layout, w, w_io, rows), ck.prepare_bias(kernel, b))
    ref = F.linear(x, w, b)
    assert y.dtype == torch.float32
    err = (y - ref).abs().max() / ref.abs().max()
    assert 0 < err < 0.02  # bfloat16 keeps 8 bits of mantissa: not exact, but close


def test_choose_charges_each_new_weight_copy():
    ms = {"F.linear": 1.00, "oneDNN": 0.97, "x@W": 0.50}
    assert ck._choose(ms, {"oi"}) == "x@W"  # much faster: worth its own copy
    ms = {"F.linear": 1.00, "W·xᵀ": 1.02, "oneDNN": 0.98}
    assert ck._choose(ms, {"oi"}) == "F.linear"  # within TOLERANCE: no new copy of the weights
    assert ck._choose(ms, {"oi", "onednn"}) == "oneDNN"  # its copy is kept anyway: the fastest
    ms = {"F.linear": 1.00, "mkl-packed": 0.92}
    assert ck._choose(ms, {"oi"}) == "F.linear"  # a packed weight is two copies: 8 % does not pay for it
    assert ck._choose({"F.linear": 1.00, "mkl-packed": 0.85}, {"oi"}) == "mkl-packed"


def test_candidates_per_case():
    one, few, prompt = (ck.candidates(c, bf16=False) for c in ck.ROW_CASES)
    assert "F.linear" in one and "W·xᵀ" in few and "x@W" in prompt
    assert "mkl-packed" not in few and "mkl-packed" not in prompt  # packed for one row count only
    assert not any(ck.KERNELS[n].bf16 for n in one + few + prompt)
    if BF16_OK:
        assert "oneDNN-bf16" in ck.candidates(ck.ROW_CASES[1], bf16=True)


def test_tune_shape_measures_every_candidate_and_caches():
    layers = [_layer(72, 40, i) for i in range(3)]
    plan = ck.tune_shape(layers)
    assert plan is not None and not plan.from_cache and plan.measured and plan.seconds > 0
    assert [c.case for c in plan.cases] == [c.name for c in ck.ROW_CASES]
    for case, choice in zip(ck.ROW_CASES, plan.cases):
        assert set(choice.ms) == set(ck.candidates(case, bf16=False))
        best = min(choice.ms.values())
        most_copies = max(ck.KERNELS[n].copy_size for n in choice.ms)
        assert choice.chosen_ms <= (1 + (ck.TOLERANCE - 1) * most_copies) * best + 1e-12
    again = ck.tune_shape(layers)
    assert again.from_cache and again.seconds == 0 and again.cases == plan.cases
    assert ck.tune_shape([_layer(72, 41)], deadline=time.perf_counter() - 1) is None  # budget spent


def test_a_slow_kernel_is_measured_and_not_chosen(monkeypatch):
    """The choice follows the clock: a correct but slow candidate loses wherever it is offered."""

    def slow(x, w, b):
        time.sleep(0.02)
        return F.linear(x, w, b)

    monkeypatch.setitem(ck.KERNELS, "slow", ck.Kernel("slow", "oi", slow))
    ck.available.cache_clear()
    try:
        plan = ck.tune_shape([_layer(56, 24, 7)])  # a shape no other test tunes: not cached
        for choice in plan.cases:
            assert choice.chosen != "slow"
            assert choice.ms["slow"] >= 20.0 > choice.chosen_ms
    finally:
        ck.available.cache_clear()


def test_env_switches(monkeypatch):
    from lm_demo import env

    monkeypatch.delenv(env.CPU_BF16, raising=False)
    monkeypatch.delenv(env.CPU_AUTOTUNE, raising=False)
    assert not env.cpu_bf16() and env.cpu_autotune()  # defaults: fp32, measured
    monkeypatch.setenv(env.CPU_BF16, "1")
    monkeypatch.setenv(env.CPU_AUTOTUNE, "0")
    assert env.cpu_bf16() and not env.cpu_autotune()
    monkeypatch.setenv(env.CPU_BF16, "off")
    assert not env.cpu_bf16()


def test_host_description():
    report = host_report(autotuned=True, bf16=False)
    assert report.cpu and report.threads == torch.get_num_threads()
    assert report.bf16_available == BF16_OK
    assert report.lines()[0].startswith("cpu=")


def test_app_has_a_bf16_flag():
    import app

    assert app.parse_args(["--cpu-bf16"]).cpu_bf16 and not app.parse_args([]).cpu_bf16
