"""Training's evaluation loss with the app's one perplexity convention.

Why: in transformers 5.23, ``Trainer`` decides how many tokens a batch's
summed loss is divided by from the model's ``loss_type``.  ``GPT2LMHeadModel``
matches no entry of ``LOSS_MAPPING`` (its name has no ``ForCausalLM``), so
``loss_type`` is None, the Trainer does not know that labels are shifted and
counts *every* label, the first token of each block included, which is never
predicted.  For packed 128-token blocks the evaluation loss comes out
127/128 of the truth: perplexity 85.93 where the blocks' real one is 89.00
(the bundled jokes fine-tune).  The training loss is scaled the same way.

What this module gives training:

- ``blocks_loss``: the summed loss and the count of the predicted tokens of
  a batch of blocks, computed by ``lm_demo.perplexity.sequence_losses`` (the
  same code as "Antes / después" and the ``perplexity`` API): each block on
  its own, its first token context, labels -100 and padding left out.
- ``evaluate_blocks``: that over a whole data set: ``{"eval_loss",
  "eval_perplexity", "eval_tokens"}``, token-weighted over all blocks.
- ``exact_eval_trainer(**kwargs)``: a ``Trainer`` whose ``evaluate`` reports
  ``evaluate_blocks``'s numbers (same metric names, same callbacks and
  logs) and whose training loss divides by the predicted tokens too (the
  model's ``loss_type`` is set to ``"ForCausalLM"``, the loss it already
  falls back to).  Drop-in: ``exact_eval_trainer(model=..., args=...,
  train_dataset=..., eval_dataset=..., data_collator=..., callbacks=...)``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from lm_demo.perplexity import model_positions, sequence_losses

IGNORE_INDEX = -100


def _rows(x: Any) -> list[list[int]]:
    if x is None:
        return []
    return x.tolist() if hasattr(x, "tolist") else [list(r) for r in x]


def blocks_loss(model: Any, input_ids: Any, labels: Any = None, attention_mask: Any = None) -> tuple[float, int]:
    """(summed loss in nats, predicted tokens) of a batch of blocks (tensors or lists of rows).

    A block's real tokens are where ``attention_mask`` is 1 (all when None);
    position ``p >= 1`` is scored unless ``labels[p]`` is -100, and the
    target is ``input_ids[p]`` (training's labels are the inputs, -100 on
    what must not count).
    """
    ids = _rows(input_ids)
    lab = _rows(labels) if labels is not None else None
    mask = _rows(attention_mask) if attention_mask is not None else None
    seqs, scored = [], []
    for k, row in enumerate(ids):
        n = sum(1 for v in mask[k] if v) if mask is not None else len(row)
        seqs.append(row[:n])
        scored.append([v != IGNORE_INDEX for v in lab[k][:n]] if lab is not None else None)
    scores = sequence_losses(model, seqs, max_length=model_positions(model), scored=scored)
    return math.fsum(l for s in scores for l in s.losses), sum(s.n_tokens for s in scores)


def _loss_metrics(total: float, count: int, prefix: str = "eval") -> dict[str, float]:
    loss = total / count if count else float("nan")
    ppl = math.exp(min(loss, 50.0)) if count else float("nan")
    return {f"{prefix}_loss": loss, f"{prefix}_perplexity": ppl, f"{prefix}_tokens": float(count)}


def evaluate_blocks(model: Any, blocks: Iterable[Any], batch_size: int = 16, prefix: str = "eval") -> dict[str, float]:
    """Token-weighted evaluation loss and perplexity of ``model`` on ``blocks``.

    ``blocks``: a ``datasets.Dataset`` (or any iterable of dicts) with
    ``input_ids`` and optionally ``labels`` / ``attention_mask``, or token-id lists.
    """
    rows = [b if isinstance(b, Mapping) else {"input_ids": b} for b in blocks]
    total, count, step = 0.0, 0, max(1, int(batch_size))
    for i in range(0, len(rows), step):
        chunk = rows[i: i + step]
        column = lambda key: [r[key] for r in chunk] if all(key in r for r in chunk) else None  # noqa: E731
        s, c = blocks_loss(model, column("input_ids"), column("labels"), column("attention_mask"))
        total, count = total + s, count + c
    return _loss_metrics(total, count, prefix)


def fix_causal_lm_loss_type(model: Any) -> bool:
    """Tell the Trainer that ``model``'s loss shifts labels (see the module docstring).

    Sets ``loss_type = "ForCausalLM"`` on a causal LM whose ``loss_type`` is
    unrecognised (the loss function it already falls back to), so the
    Trainer counts ``labels[..., 1:]``.  Returns whether it changed anything.
    """
    from transformers.loss.loss_utils import LOSS_MAPPING
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    inner = getattr(getattr(model, "base_model", None), "model", None)  # a PEFT wrapper's model
    target = inner if inner is not None and hasattr(inner, "loss_type") else model
    if getattr(target, "loss_type", None) in LOSS_MAPPING:
        return False
    if type(target).__name__ not in set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values()):
        return False
    target.loss_type = "ForCausalLM"
    return True


def _across_ranks(total: float, count: int, rows: int) -> tuple[float, int, int]:
    """Sums over every process under ``torchrun`` (each evaluates its shard of the blocks); as is otherwise."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return total, count, rows
    t = torch.tensor([total, float(count), float(rows)], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t[0]), int(t[1]), int(t[2])


_TRAINER_CLASS: Any = None


def exact_eval_trainer_class() -> Any:
    """``transformers.Trainer`` with the exact evaluation loop (built once, on first use)."""
    global _TRAINER_CLASS
    if _TRAINER_CLASS is not None:
        return _TRAINER_CLASS
    from transformers import Trainer
    from transformers.trainer_utils import EvalLoopOutput

    class ExactEvalTrainer(Trainer):
        """Evaluation loss = ``blocks_loss`` over the eval set; training loss per predicted token."""

        def __init__(self, model: Any = None, *args: Any, **kwargs: Any) -> None:
            if model is not None:
                fix_causal_lm_loss_type(model)
            super().__init__(model, *args, **kwargs)

        def evaluation_loop(self, dataloader: Any, description: str, prediction_loss_only: bool | None = None,
                            ignore_keys: list[str] | None = None, metric_key_prefix: str = "eval") -> Any:
            model = self.accelerator.unwrap_model(self.model)
            self.callback_handler.eval_dataloader = dataloader
            total, count, rows = 0.0, 0, 0
            for inputs in dataloader:
                s, c = blocks_loss(model, inputs["input_ids"], inputs.get("labels"), inputs.get("attention_mask"))
                total, count, rows = total + s, count + c, rows + len(inputs["input_ids"])
                self.control = self.callback_handler.on_prediction_step(self.args, self.state, self.control)
            total, count, rows = _across_ranks(total, count, rows)
            metrics = _loss_metrics(total, count, metric_key_prefix)
            return EvalLoopOutput(predictions=None, label_ids=None, metrics=metrics, num_samples=rows)

    _TRAINER_CLASS = ExactEvalTrainer
    return ExactEvalTrainer


def exact_eval_trainer(**kwargs: Any) -> Any:
    """A ``Trainer`` (same arguments) whose losses follow the app's perplexity convention."""
    return exact_eval_trainer_class()(**kwargs)


__all__ = ["blocks_loss", "evaluate_blocks", "exact_eval_trainer", "exact_eval_trainer_class",
           "fix_causal_lm_loss_type", "IGNORE_INDEX"]

