"""The bundled checkpoints' model cards reproduce from the shipped weights.

Each script that made a bundled checkpoint has a ``refresh_card`` that
recomputes every perplexity and sample of its ``metadata.json`` from the
weights (``--card-only`` writes them); here they are recomputed and compared
with what ships, and each README is regenerated from its metadata.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def script(name: str):
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", REPO / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def shipped(folder: Path) -> tuple[dict, str]:
    return (json.loads((folder / "metadata.json").read_text(encoding="utf-8")),
            (folder / "README.md").read_text(encoding="utf-8"))


def test_demo_finetune_card_reproduces_from_its_weights():
    mod = script("make_demo_finetune")
    folder = REPO / "checkpoints" / mod.NAME
    meta, readme = shipped(folder)
    fresh, _ = mod.refresh_card(folder)
    assert fresh["demo_samples"] == meta["demo_samples"]
    for key in ("base", "tuned"):
        assert fresh["heldout_perplexity"][key] == pytest.approx(meta["heldout_perplexity"][key], abs=0.011)
    for key in ("texts", "tokens"):
        assert fresh["heldout_perplexity"][key] == meta["heldout_perplexity"][key]
    assert meta["heldout_perplexity"]["tuned"] < 0.5 * meta["heldout_perplexity"]["base"]
    assert fresh["eval_loss"] == pytest.approx(meta["eval_loss"], rel=1e-5)
    assert fresh["eval_blocks"] == meta["eval_blocks"]
    # What Trainer.evaluate logged is 127/128 of the blocks' loss (it counts the unpredicted first labels).
    assert meta["trainer_evaluate"]["eval_loss"] == pytest.approx(meta["eval_loss"] * 127 / 128, rel=1e-5)
    assert mod.model_card(meta, mod.weights_mb(folder)) == readme
    assert f"| `{mod.BASE}` (before) | {meta['heldout_perplexity']['base']:.2f} |" in readme
    # The last sample of the training log was written by the final (shipped) weights.
    from lm_demo.models import load_model
    from lm_demo.training import generate_sample

    tuned = load_model(mod.NAME)
    hp = meta["hyperparameters"]
    last = meta["samples"][-1]
    assert last["step"] == meta["best_step"] == meta["steps"]
    assert generate_sample(tuned.model, tuned.tokenizer, hp["sample_prompt"], 60, seed=hp["seed"]) == last["text"]


def test_bundled_model_card_reproduces_from_its_weights(shared_data):
    mod = script("train_bundled_model")
    folder = REPO / "checkpoints" / "gpt2-es-tiny"
    meta, readme = shipped(folder)
    fresh, _ = mod.refresh_card(folder, shared_data)
    assert fresh["samples"] == meta["samples"]
    for key in ("heldout_perplexity", "ud_gsd_perplexity"):
        assert fresh[key]["perplexity"] == pytest.approx(meta[key]["perplexity"], abs=0.011)
        assert (fresh[key]["texts"], fresh[key]["tokens"]) == (meta[key]["texts"], meta[key]["tokens"])
    assert fresh["eval_perplexity"] == pytest.approx(meta["eval_perplexity"], abs=0.011)
    assert meta["eval_perplexity"] == meta["history"][-1]["eval_perplexity"]  # the last training evaluation
    assert fresh["split"] == meta["split"] and fresh["eval_blocks"] == meta["eval_blocks"]
    assert mod.model_card(meta) == readme
    # The greedy sample is what the decoding tab's greedy column writes (penalty 1.2, 40 steps).
    from lm_demo.decoding import DecoderSpec, decode
    from lm_demo.models import load_model

    run = decode(load_model("gpt2-es-tiny"), "Había una vez", [DecoderSpec("greedy", repetition_penalty=1.2)],
                 max_steps=40).runs[0]
    assert "Había una vez" + run.text == meta["samples"]["greedy"]
