"""Training's evaluation loss: the app's perplexity code on the same blocks, and how far Trainer.evaluate is.

The blocks are the bundled jokes fine-tune's own evaluation blocks (its saved
held-out jokes packed into 128-token blocks, as training packed them), so the
numbers are the ones its metadata reports.
"""

from __future__ import annotations

import json
import math
import tempfile

import pytest
import torch

from lm_demo.compare import DEMO_FINETUNE, checkpoint_folder
from lm_demo.packing import _dataset, pack_ids, pad_ids
from lm_demo.perplexity import sequence_losses
from lm_demo.training.exact_eval import blocks_loss, evaluate_blocks, exact_eval_trainer, fix_causal_lm_loss_type

BLOCK = 128


@pytest.fixture(scope="module")
def jokes():
    folder = checkpoint_folder(DEMO_FINETUNE)
    lines = (folder / "eval_texts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["text"] for x in lines if x.strip()]


def fresh_model():
    """A private copy of the fine-tune (the Trainer and the loss-type fix touch the model)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = checkpoint_folder(DEMO_FINETUNE)
    return AutoModelForCausalLM.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


def direct_mean_loss(model, blocks: list[list[int]], labels: list[list[int]] | None = None) -> tuple[float, int]:
    """Independent reference: one forward per block, cross-entropy of the shifted labels."""
    total, count = 0.0, 0
    for k, block in enumerate(blocks):
        x = torch.tensor([block])
        y = torch.tensor([labels[k] if labels else block])
        with torch.inference_mode():
            logits = model(input_ids=x).logits[0, :-1].float()
        total += float(torch.nn.functional.cross_entropy(logits, y[0, 1:], ignore_index=-100, reduction="sum"))
        count += int((y[0, 1:] != -100).sum())
    return total / count, count


def plain_trainer_eval(model, ds) -> float:
    from transformers import Trainer, TrainingArguments, default_data_collator

    args = TrainingArguments(output_dir=tempfile.mkdtemp(prefix="lm_demo-test-"), per_device_eval_batch_size=8,
                             report_to="none", use_cpu=True, prediction_loss_only=True, remove_unused_columns=False,
                             disable_tqdm=True)
    return Trainer(model=model, args=args, eval_dataset=ds, data_collator=default_data_collator).evaluate()["eval_loss"]


def test_packed_blocks_equal_the_perplexity_code_and_trainer_evaluate_is_low(jokes):
    model, tok = fresh_model()
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in jokes]
    blocks = pack_ids(ids, BLOCK, tok.eos_token_id)[0][:16]
    ds = _dataset(blocks, None, [list(b) for b in blocks])

    ours = evaluate_blocks(model, ds, batch_size=8)
    # the project's perplexity code, each block a sequence of its own
    scores = sequence_losses(model, blocks)
    mean = math.fsum(x for s in scores for x in s.losses) / sum(s.n_tokens for s in scores)
    ref, count = direct_mean_loss(model, blocks)
    assert ours["eval_tokens"] == count == 16 * (BLOCK - 1)
    assert ours["eval_loss"] == pytest.approx(mean, rel=1e-9)
    assert ours["eval_loss"] == pytest.approx(ref, rel=1e-5)
    assert ours["eval_perplexity"] == pytest.approx(math.exp(ref), rel=1e-4)

    # Trainer.evaluate (transformers 5.23, GPT-2) divides by all 128 labels of a block, not the 127 predicted.
    trainer_loss = plain_trainer_eval(model, ds)
    assert trainer_loss == pytest.approx(ref * (BLOCK - 1) / BLOCK, rel=1e-5)
    gap = 1 - math.exp(trainer_loss) / math.exp(ref)
    assert 0.025 < gap < 0.05  # about 3.4 % lower perplexity on these blocks
    print(f"\nperplexity of 16 packed blocks: ours {ours['eval_perplexity']:.2f}, "
          f"Trainer.evaluate {math.exp(trainer_loss):.2f} ({gap:.1%} lower)")

    # The drop-in trainer reports our number, under the usual name.
    from transformers import TrainingArguments, default_data_collator

    args = TrainingArguments(output_dir=tempfile.mkdtemp(prefix="lm_demo-test-"), per_device_eval_batch_size=8,
                             report_to="none", use_cpu=True, prediction_loss_only=True, remove_unused_columns=False,
                             disable_tqdm=True)
    exact = exact_eval_trainer(model=model, args=args, eval_dataset=ds, data_collator=default_data_collator)
    metrics = exact.evaluate()
    assert metrics["eval_loss"] == pytest.approx(ours["eval_loss"], rel=1e-9)
    assert metrics["eval_perplexity"] == pytest.approx(ours["eval_perplexity"], rel=1e-9)
    assert metrics["eval_tokens"] == count and "eval_runtime" in metrics
    # ...and with the loss type fixed, the plain Trainer counts the predicted tokens too (training loss).
    assert exact._loss_shifts_labels and not fix_causal_lm_loss_type(model)
    assert plain_trainer_eval(model, ds) == pytest.approx(ref, rel=1e-5)


def test_padded_blocks_score_each_text_from_its_second_token_and_skip_minus_100(jokes):
    """The seeds' recipe: one text per row, padded with eos (= pad), labels -100 on every eos."""
    model, tok = fresh_model()
    texts = jokes[:12]
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    inputs, masks, labels = pad_ids(ids, BLOCK, tok.pad_token_id)
    ds = _dataset(inputs, masks, labels)
    ours = evaluate_blocks(model, ds, batch_size=5)  # batches of unequal token counts
    real = [row[: sum(m)] for row, m in zip(inputs, masks)]
    ref, count = direct_mean_loss(model, real, [lab[: len(r)] for lab, r in zip(labels, real)])
    assert ours["eval_tokens"] == count
    assert ours["eval_loss"] == pytest.approx(ref, rel=1e-5)
    s, c = blocks_loss(model, inputs[:3], labels[:3], masks[:3])
    r3, c3 = direct_mean_loss(model, real[:3], [lab[: len(r)] for lab, r in zip(labels[:3], real[:3])])
    assert c == c3 and s / c == pytest.approx(r3, rel=1e-5)


def test_training_with_the_exact_trainer_reports_its_evaluations_to_callbacks(jokes):
    """eval_on_start and step evaluations reach a TrainerCallback with our numbers."""
    from transformers import TrainerCallback, TrainingArguments, default_data_collator

    model, tok = fresh_model()
    ids = [tok(t, add_special_tokens=False)["input_ids"] for t in jokes]
    blocks = pack_ids(ids, BLOCK, tok.eos_token_id)[0]
    train, evals = blocks[:8], blocks[8:12]
    before = evaluate_blocks(model, evals)
    seen = []

    class Keep(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, **kw):  # noqa: ANN001
            seen.append((state.global_step, dict(metrics)))

    args = TrainingArguments(output_dir=tempfile.mkdtemp(prefix="lm_demo-test-"), per_device_train_batch_size=4,
                             per_device_eval_batch_size=4, max_steps=2, learning_rate=1e-4, eval_strategy="steps",
                             eval_steps=2, eval_on_start=True, save_strategy="no", report_to="none", use_cpu=True,
                             prediction_loss_only=True, remove_unused_columns=False, disable_tqdm=True, seed=0)
    trainer = exact_eval_trainer(model=model, args=args, train_dataset=_dataset(train, None, train),
                                 eval_dataset=_dataset(evals, None, evals), data_collator=default_data_collator,
                                 callbacks=[Keep()])
    trainer.train()
    assert [s for s, _ in seen] == [0, 2]
    assert seen[0][1]["eval_loss"] == pytest.approx(before["eval_loss"], rel=1e-6)
    after = evaluate_blocks(model, evals)
    assert seen[1][1]["eval_loss"] == pytest.approx(after["eval_loss"], rel=1e-6)
    assert seen[1][1]["eval_loss"] != pytest.approx(seen[0][1]["eval_loss"], rel=1e-6)  # it did train
