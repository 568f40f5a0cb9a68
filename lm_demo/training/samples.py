"""Short texts from a model being trained: the tab's samples, the trials' row, the CLI's story.

Why the clamp: a model trained from scratch may have a 64- or 128-token
context; asking it for 200 new tokens used to end the CLI with an
``IndexError`` after a successful run.  ``fit_prompt`` keeps the whole prompt
and gives fewer new tokens when both don't fit; the prompt is cut (its end
kept) only when it would leave fewer than half the context for the
continuation; the same rule ``lm_demo.decoding`` applies to its steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from lm_demo.locales import t


def model_positions(model: Any) -> int:
    """How many tokens the model can attend to (its context)."""
    cfg = model.config
    for attr in ("n_positions", "max_position_embeddings"):
        if getattr(cfg, attr, None):
            return int(getattr(cfg, attr))
    return 1024


@dataclass
class FittedPrompt:
    ids: list[int]
    max_new_tokens: int
    notes: list[str] = field(default_factory=list)


def fit_prompt(tokenizer: Any, prompt: str, max_new_tokens: int, positions: int) -> FittedPrompt:
    """The prompt's ids and a number of new tokens that fit together in ``positions`` tokens."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id]
    want = max(1, int(max_new_tokens))
    positions = max(2, int(positions))
    notes: list[str] = []
    new = min(want, max(positions - len(ids), min(want, positions // 2)))
    if new < want:
        notes.append(t("train.note.sample_fit", n=new, ctx=positions))
    keep = positions - new
    if len(ids) > keep:
        ids = ids[-keep:]
        notes.append(t("note.prompt_truncated", n=keep))
    return FittedPrompt(ids, new, notes)


def generate_sample(model: Any, tokenizer: Any, prompt: str, max_new_tokens: int = 40, seed: int = 0,
                    temperature: float = 0.8, top_k: int = 50, top_p: float = 0.95,
                    repetition_penalty: float = 1.0, stopping_criteria: Any = None, min_new_tokens: int = 0,
                    stop_factory: Callable[[int], Any] | None = None, notes: list[str] | None = None) -> str:
    """A short sample (prompt + continuation), same random stream every call, within the model's context.

    ``fork_rng`` keeps the sample from disturbing the training RNG, and the
    fixed seed makes successive samples differ only because the model did.
    ``stop_factory(prompt_len)`` builds stopping criteria that need the
    length of the prompt actually used.  Clamping notes go to ``notes``.
    """
    import torch

    fitted = fit_prompt(tokenizer, prompt, max_new_tokens, model_positions(model))
    if notes is not None:
        notes.extend(fitted.notes)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    input_ids = torch.tensor([fitted.ids], device=device)
    devices = [device.index or 0] if device.type == "cuda" else []
    if stop_factory is not None:
        stopping_criteria = stop_factory(len(fitted.ids))
    new = fitted.max_new_tokens
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            greedy = temperature < 1e-4
            out = model.generate(
                input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=new,
                do_sample=not greedy, temperature=None if greedy else temperature, top_k=int(top_k),
                top_p=top_p if top_p < 1 else None, repetition_penalty=repetition_penalty,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                stopping_criteria=stopping_criteria, min_new_tokens=min(min_new_tokens, new) or None,
            )
    finally:
        if was_training:
            model.train()
    return tokenizer.decode(out[0], skip_special_tokens=True)


__all__ = ["generate_sample", "fit_prompt", "model_positions", "FittedPrompt"]
