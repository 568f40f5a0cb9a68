"""The CPU inference layers (lm_demo.fast_linear) give the model's own results."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.pytorch_utils import Conv1D

from lm_demo.fast_linear import MAX_THIN_ROWS, ThinLinear, is_optimized, optimize_for_cpu_inference


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
