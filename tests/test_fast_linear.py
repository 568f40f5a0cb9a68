"""The CPU inference layers (lm_demo.fast_linear) give the model's own results, with the
kernels measured at load, and the bf16 mode reports its true difference."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.pytorch_utils import Conv1D

from lm_demo import cpu_kernels as ck
from lm_demo.cpu_host import bf16_support
from lm_demo.fast_linear import (
    MAX_THIN_ROWS,
    PROB_DIFF_PROMPT,
    ThinLinear,
    is_optimized,
    kernel_report,
    optimize_for_cpu_inference,
)


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 8, 20, MAX_THIN_ROWS + 5])
def test_thin_linear_matches_conv1d(rows):
    torch.manual_seed(rows)
    conv = Conv1D(48, 32)  # nf=48 outputs, nx=32 inputs
    torch.nn.init.normal_(conv.bias)
    thin = ThinLinear(torch.nn.Parameter(conv.weight.detach().t().contiguous()), conv.bias,
                      conv.weight.detach(), conv)
    x = torch.randn(rows, 32)
    with torch.inference_mode():
        assert torch.allclose(thin(x), conv(x), atol=1e-5)
        x3 = torch.randn(2, max(rows, 1), 32)
        assert thin(x3).shape == (2, max(rows, 1), 48)
        assert torch.allclose(thin(x3), conv(x3), atol=1e-5)


@pytest.mark.parametrize("rows", [1, 3, 40])
def test_thin_linear_matches_linear_without_bias(rows):
    torch.manual_seed(0)
    lin = torch.nn.Linear(32, 100, bias=False)
    thin = ThinLinear(lin.weight, None, None, lin)
    x = torch.randn(rows, 32)
    with torch.inference_mode():
        assert torch.allclose(thin(x), lin(x), atol=1e-5)
    assert repr(thin) == repr(lin)  # printed as the layer it replaced


def test_loaded_model_is_optimized_and_equal_to_plain(bundled):
    model = bundled.model
    assert is_optimized(model)
    assert not any(isinstance(m, Conv1D) for m in model.modules())
    assert model.lm_head.weight is model.transformer.wte.weight  # still tied
    assert "Conv1D(" in str(model)  # the module tree still reads as GPT-2's
    plain = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in model.parameters())
    ids = bundled.tokenizer("Había una vez un poeta que soñaba", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        for batch in (ids, ids.repeat(3, 1), ids[:, :1], ids[:, :1].repeat(3, 1)):
            assert torch.allclose(model(batch).logits, plain(batch).logits, atol=1e-4)


def test_optimized_model_cannot_be_saved(bundled):
    from lm_demo.checkpoints import save_checkpoint

    with pytest.raises(ValueError):  # raised before anything is written
        save_checkpoint(bundled.model, bundled.tokenizer, "copia", {})


def test_noop_off_cpu_or_without_parameters():
    assert optimize_for_cpu_inference(torch.nn.Sequential()) == 0


# --------------------------------------------------------------------------- measured kernels
BF16_OK, BF16_WHY = bf16_support()


def _conv_and_thin(seed: int = 0) -> tuple[Conv1D, ThinLinear]:
    torch.manual_seed(seed)
    conv = Conv1D(40, 24)
    torch.nn.init.normal_(conv.bias)
    thin = ThinLinear(torch.nn.Parameter(conv.weight.detach().t().contiguous()), conv.bias,
                      conv.weight.detach(), conv)
    return conv, thin


@pytest.mark.parametrize("kernels", [("mkl-packed", "oneDNN", "x@W"), ("F.linear", "x@W", "oneDNN"),
                                     ("W·xᵀ", "F.linear", "W·xᵀ")])
def test_installed_kernels_serve_each_row_case(kernels):
    if not all(ck.available(k) for k in kernels):
        pytest.skip("a kernel is not in this PyTorch build")
    conv, thin = _conv_and_thin()
    thin.install(kernels)
    assert thin.kernels == kernels
    assert (thin.weight_in_out is not None) == ("x@W" in kernels)  # the (in, out) copy only when used
    with torch.inference_mode():
        for rows in (1, 2, 3, 8, 9, 20, MAX_THIN_ROWS, MAX_THIN_ROWS + 1):
            x = torch.randn(rows, 24)
            assert torch.allclose(thin(x), conv(x), atol=1e-5), rows
        x = torch.randn(4, 5, 24)[:, 1:4]  # a non-contiguous view, as a sliced hidden state can be
        assert torch.allclose(thin(x), conv(x.contiguous()), atol=1e-5)


@pytest.mark.parametrize("kernels", [("mkl-packed", "oneDNN", "x@W"), ("W·xᵀ", "F.linear", "oneDNN")])
def test_a_deep_copy_has_its_own_layouts_and_the_same_results(kernels):
    import copy

    if not all(ck.available(k) for k in kernels):
        pytest.skip("a kernel is not in this PyTorch build")
    conv, thin = _conv_and_thin()
    thin.install(kernels)
    twin = copy.deepcopy(thin)
    assert twin.kernels == thin.kernels and twin.weight is not thin.weight
    assert all(a[1] is not b[1] for a, b in zip(twin._routes, thin._routes))
    with torch.inference_mode():
        for rows in (1, 3, 20):
            x = torch.randn(rows, 24)
            assert torch.allclose(twin(x), conv(x), atol=1e-5), rows
    with torch.no_grad():
        twin.weight.zero_()  # the copy's parameter is its own: the original keeps its results
    with torch.inference_mode():
        assert torch.allclose(thin(torch.randn(2, 24) * 0 + 1), conv(torch.ones(2, 24)), atol=1e-5)


def test_loaded_model_reports_its_measured_kernels(bundled):
    report = kernel_report(bundled.model)
    assert report is not None and report.autotuned and report.cpu
    layers = [m for m in bundled.model.modules() if isinstance(m, ThinLinear)]
    assert sum(count for _, count in report.shapes) == len(layers)
    by_shape = {(p.in_features, p.out_features): p for p, _ in report.shapes}
    for layer in layers:
        plan = by_shape[(layer.in_features, layer.out_features)]
        expected = tuple(c.chosen for c in plan.cases)
        assert layer.kernels == expected  # what the panel shows is what runs
        if plan.measured:
            for c in plan.cases:
                assert c.chosen_ms is not None and c.chosen_ms <= ck.TOLERANCE ** 2 * min(c.ms.values()) + 1e-12
    assert not report.bf16_active and report.max_prob_diff is None  # fp32 unless asked


def test_time_budget_spent_keeps_fixed_rule_and_same_results(bundled, monkeypatch):
    monkeypatch.setattr(ck, "TUNE_BUDGET_S", -1.0)
    monkeypatch.setattr(ck, "_PLANS", {})  # nothing cached: every shape would need measuring
    model = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    plain = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    n = optimize_for_cpu_inference(model, tokenizer=bundled.tokenizer)
    report = kernel_report(model)
    assert report.unmeasured_layers == n and not any(p.measured for p, _ in report.shapes)
    ids = bundled.tokenizer("En un lugar de la Mancha", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        first = model(ids).logits
        assert torch.allclose(first, plain(ids).logits, atol=1e-4)
    # The same shapes loaded again in this process (the model evicted and reloaded), now with time to
    # measure: the fixed rule stays, so the same prompt gives the same numbers bit for bit.
    monkeypatch.setattr(ck, "TUNE_BUDGET_S", 60.0)
    again = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    optimize_for_cpu_inference(again, tokenizer=bundled.tokenizer)
    assert kernel_report(again).unmeasured_layers == n
    assert [m.kernels for m in again.modules() if isinstance(m, ThinLinear)] == [
        m.kernels for m in model.modules() if isinstance(m, ThinLinear)]
    with torch.inference_mode():
        assert torch.equal(again(ids).logits, first)


def test_autotune_off_keeps_fixed_rule(bundled):
    model = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    optimize_for_cpu_inference(model, tune=False)
    report = kernel_report(model)
    assert not report.autotuned and report.shapes == []
    assert model.transformer.h[0].mlp.c_fc.kernels == ("x@W", "W·xᵀ", "W·xᵀ")
    assert model.lm_head.kernels == ("F.linear", "W·xᵀ", "W·xᵀ")


@pytest.mark.skipif(not BF16_OK, reason=f"this CPU has no oneDNN bfloat16 kernels ({BF16_WHY})")
def test_bf16_mode_reports_the_true_probability_difference(bundled):
    model = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    plain = AutoModelForCausalLM.from_pretrained(bundled.resolved, local_files_only=True).eval()
    optimize_for_cpu_inference(model, tokenizer=bundled.tokenizer, bf16=True)
    report = kernel_report(model)
    assert report.bf16_requested and report.bf16_available
    layers = [m for m in model.modules() if isinstance(m, ThinLinear)]
    if not report.bf16_active:  # measured slower everywhere: force it, the check must still hold
        for layer in layers:
            layer.install(("oneDNN-bf16", "oneDNN-bf16", "bf16"))
        from lm_demo.fast_linear import _bf16_prob_diff

        report.max_prob_diff, report.top1_agree = _bf16_prob_diff(model, layers, bundled.tokenizer)
    assert any(ck.KERNELS[k].bf16 for layer in layers for k in layer.kernels)
    ids = torch.tensor([bundled.tokenizer(PROB_DIFF_PROMPT, add_special_tokens=False)["input_ids"]])
    with torch.inference_mode():  # independently: the bf16 model against the plain fp32 one
        diffs = [(torch.softmax(model(b).logits, -1) - torch.softmax(plain(b).logits, -1)).abs().max()
                 for b in (ids, ids[:, :1], ids[0, :3, None])]
    true_max = float(max(diffs))
    assert 0 < true_max < 0.05  # reduced precision: a visible but small difference
    assert report.max_prob_diff == pytest.approx(true_max, rel=1e-3, abs=1e-6)
    assert all(layer.use_kernels for layer in layers)  # the fp32 comparison left the kernels on


def test_gradient_through_the_input_still_flows():
    """A tab may ask which input mattered (a gradient w.r.t. the embeddings): packed kernels have no
    backward, so such calls take ``F.linear``."""
    conv, thin = _conv_and_thin(3)
    if ck.available("oneDNN"):
        thin.install(("oneDNN", "oneDNN", "oneDNN"))
    x = torch.randn(3, 24, requires_grad=True)
    thin(x).sum().backward()
    x_ref = x.detach().clone().requires_grad_(True)
    conv(x_ref).sum().backward()
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-5)


def test_copy_bytes_counts_only_layouts_beside_the_parameter():
    lin = torch.nn.Linear(32, 48)
    thin = ThinLinear(lin.weight, lin.bias, None, lin)
    thin.install(("F.linear", "W·xᵀ", "F.linear"))
    assert thin.copy_bytes() == 0  # both use the parameter itself
    thin.install(("x@W", "x@W", "W·xᵀ"))
    assert thin.copy_bytes() == 32 * 48 * 4  # one transposed copy, shared by two cases
    if ck.available("mkl-packed"):
        thin.install(("mkl-packed", "F.linear", "F.linear"))
        assert thin.copy_bytes() >= 32 * 48 * 4  # the packed buffer (the parameter it also holds is not counted)
