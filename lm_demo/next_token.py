"""The next-token distribution of a prompt, before and after temperature/top-k/top-p.

Why only the last position: the tab needs one distribution, and asking the
model for the last position's logits alone (``logits_to_keep=1``) skips the
vocabulary projection of every other position: the biggest matmul of a
GPT-2 forward on a short prompt.

Why a small logits cache: in class the prompt stays and the sliders move
(temperature, top-k, top-p re-run the tab on release); those calls need no
forward at all.  Per model (weakly keyed, so an evicted model takes its
entries with it), the last ``LOGITS_CACHE_SIZE`` prompts, under a lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lm_demo.model_memo import PerModelLRU
from lm_demo.sampling import SamplingSettings, entropy_bits, warp_logits
from lm_demo.tokens import encode_prompt, prompt_chips, token_label

MAX_TOP_N = 100
# Each probability column says its distribution: the model's own (T=1) or the one sampled from.
TABLE_COLUMNS = ["rango · modelo (T=1)", "token", "id", "prob. · modelo (T=1)", "prob. acumulada · modelo (T=1)",
                 "prob. · muestreada (tras T/top-k/top-p)"]


@dataclass
class NextTokenResult:
    """Everything the tab shows; plain data so a notebook can use it too."""

    prompt_ids: list[int]
    prompt_chips: list[tuple[str, str]]
    top_ids: list[int]
    top_labels: list[str]
    top_probs: list[float]  # the model's distribution: raw softmax (temperature 1)
    top_warped: list[float]  # the sampled distribution: after temperature/top-k/top-p
    entropy_raw: float  # bits
    entropy_warped: float  # bits
    kept_tokens: int  # tokens with non-zero probability after warping
    vocab_size: int
    settings: SamplingSettings
    notes: list[str] = field(default_factory=list)

    def table(self) -> Any:
        """The top-N table as a pandas DataFrame (columns ``TABLE_COLUMNS``)."""
        import pandas as pd

        cum, rows = 0.0, []
        for rank, (tid, label, p, pw) in enumerate(
            zip(self.top_ids, self.top_labels, self.top_probs, self.top_warped), start=1
        ):
            cum += p
            rows.append([rank, label, tid, round(p, 6), round(cum, 6), round(pw, 6)])
        return pd.DataFrame(rows, columns=TABLE_COLUMNS)


LOGITS_CACHE_SIZE = 32
_LOGITS_CACHE: PerModelLRU[Any] = PerModelLRU(LOGITS_CACHE_SIZE)


def last_logits(loaded: Any, ids: list[int], use_cache: bool = True) -> Any:
    """Logits (1, vocab) of the position after ``ids``, in float32 (a tensor callers must not modify)."""
    import torch

    model = loaded.model

    def forward() -> Any:
        x = torch.tensor([ids], device=model.device)
        with torch.inference_mode():
            out = model(input_ids=x, logits_to_keep=1, use_cache=False)
        return out.logits[:, -1, :].float()

    return _LOGITS_CACHE.get_or_compute(model, tuple(ids), forward, use_cache)


def next_token_distribution(
    loaded: Any,
    prompt: str,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    top_n: int = 10,
    use_cache: bool = True,
) -> NextTokenResult:
    """The top-``top_n`` next tokens of ``prompt`` with raw and adjusted probabilities.

    ``loaded`` is a ``models.LoadedModel``.  Out-of-range settings are clamped
    as documented in ``lm_demo.sampling``; ``top_n`` to [1, 100].
    ``use_cache=False`` always runs the model (benchmarks of a new prompt).
    """
    import torch

    settings = SamplingSettings(temperature, top_k, top_p).clamped(loaded.vocab_size)
    try:
        top_n = int(top_n)
    except (TypeError, ValueError):
        top_n = 10
    top_n = min(max(top_n, 1), MAX_TOP_N, loaded.vocab_size)
    enc = encode_prompt(loaded.tokenizer, prompt, loaded.max_positions)
    logits = last_logits(loaded, enc.ids, use_cache)
    probs = torch.softmax(logits, dim=-1)[0]
    context = torch.tensor([enc.ids], device=logits.device)
    warped = torch.softmax(warp_logits(logits, context, settings), dim=-1)[0]
    top = torch.topk(probs, top_n)
    ids = top.indices.tolist()
    return NextTokenResult(
        prompt_ids=enc.ids,
        prompt_chips=prompt_chips(loaded.tokenizer, enc.ids),
        top_ids=ids,
        top_labels=[token_label(loaded.tokenizer, i) for i in ids],
        top_probs=top.values.tolist(),
        top_warped=warped[top.indices].tolist(),
        entropy_raw=entropy_bits(probs),
        entropy_warped=entropy_bits(warped),
        kept_tokens=int((warped > 0).sum()),
        vocab_size=int(probs.shape[0]),
        settings=settings,
        notes=enc.notes,
    )
