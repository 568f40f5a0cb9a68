"""Before / after: what fine-tuning on a corpus changed in a model.

Why this module: the lesson's point is to *see* what a corpus teaches.  For
one prompt we put a base model and its fine-tuned checkpoint (or any two
models) side by side on equal terms:

- generations with the same seed and decoding settings (``lm_demo.decoding``),
  where sample ``i`` of either model uses a random generator seeded with
  ``seed + i``, so a column is reproducible on its own and independent of
  the other column;
- the next-token distributions, and the tokens that gained and lost the most
  probability (taken from ``lm_demo.next_token.last_logits``, the same
  numbers the "Siguiente token" tab shows);
- the perplexity of both on held-out texts, token by token, with the app's
  one convention (``lm_demo.perplexity``: each text on its own, its first
  token context only).  Pasted text is split into texts by line or by
  blank-line block (``eval_split``), never glued into one document.  A
  checkpoint's saved eval split is scored whole up to ``eval_token_cap``
  tokens (the bundled pair: all of it); results are cached per model, texts
  and language, since the split doesn't change between two prompts.

Two arbitrary models may have different tokenizers; then tokens are matched
by their text, and a token the other vocabulary can't produce in one piece
counts as probability 0 there (the result says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lm_demo.errors import UserError
from lm_demo.model_memo import PerModelLRU
from lm_demo.sampling import SamplingSettings

DEMO_FINETUNE = "gpt2-es-tiny-chistes"  # bundled demo fine-tune (base: gpt2-es-tiny)
MAX_SAMPLES = 8  # lm_demo.decoding.MAX_DECODERS
MAX_NEW_TOKENS = 200
DEFAULT_SAMPLES = 5
DEFAULT_NEW_TOKENS = 40
DEFAULT_SEED = 42
DIFF_TOP = 12  # gained and lost tokens shown
CANDIDATES_OTHER_VOCAB = 300  # per model, when vocabularies differ


# --------------------------------------------------------------------------- which models
@dataclass(frozen=True)
class Pair:
    """The two models to compare: ``base`` ("antes") and ``tuned`` ("después")."""

    base: str
    tuned: str
    base_from_metadata: bool = False


def checkpoint_folder(name: str) -> Path | None:
    """The folder of checkpoint ``name`` inside checkpoints/ (None when it is not one)."""
    from lm_demo.models import bundled_model_path, checkpoints_dir

    name = (name or "").strip()
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    for root in (checkpoints_dir(), bundled_model_path().parent):
        d = root / name
        if d.is_dir():
            return d
    return None


def read_metadata(name: str) -> dict[str, Any] | None:
    """``metadata.json`` of checkpoint ``name`` (via ``lm_demo.checkpoints``); None when it has none.

    Raises ``UserError`` when the file exists but is not valid JSON.
    """
    from lm_demo.checkpoints import METADATA_FILE, load_metadata

    folder = checkpoint_folder(name)
    if folder is None or not (folder / METADATA_FILE).is_file():
        return None
    if not (folder / "config.json").is_file():
        raise UserError("cmp.err.checkpoint_corrupt", name=name, detail="config.json")
    try:
        meta = load_metadata(name)
    except UserError as e:
        raise UserError("cmp.err.metadata_corrupt", name=name) from e
    if not isinstance(meta, dict):
        raise UserError("cmp.err.metadata_corrupt", name=name)
    return meta


def base_model_of(name: str) -> str | None:
    """The base model recorded in checkpoint ``name``'s metadata, if any."""
    meta = read_metadata(name) or {}
    base = meta.get("base_model")
    if isinstance(base, dict):  # tolerate {"name": ...}
        base = base.get("name")
    return str(base).strip() or None if base else None


def finetuned_checkpoints() -> list[str]:
    """Local checkpoints whose metadata names a base model (what "después" offers first)."""
    from lm_demo.models import list_checkpoints

    out = []
    for name in list_checkpoints():
        try:
            if base_model_of(name):
                out.append(name)
        except UserError:
            continue
    return out


def resolve_pair(tuned: str | None = None, base: str | None = None) -> Pair:
    """The pair to compare: ``tuned`` defaults to the demo fine-tune, ``base`` to its metadata's base."""
    tuned = (tuned or "").strip() or DEMO_FINETUNE
    base = (base or "").strip()
    if checkpoint_folder(tuned) is None and tuned == DEMO_FINETUNE:
        raise UserError("cmp.err.demo_missing", name=DEMO_FINETUNE)
    if base:
        return Pair(base=base, tuned=tuned)
    if checkpoint_folder(tuned) is None:
        raise UserError("cmp.err.no_base", name=tuned)
    found = base_model_of(tuned)
    if not found:
        raise UserError("cmp.err.no_base", name=tuned)
    return Pair(base=found, tuned=tuned, base_from_metadata=True)


def load_for_compare(name: str) -> Any:
    """``models.load_model`` without the silent offline fallback, with clear messages.

    Comparing a missing model with the bundled one would be a silent lie, so
    no fallback here; a checkpoint folder that fails to load is reported as
    damaged, naming what failed.
    """
    from lm_demo.models import load_model

    folder = checkpoint_folder(name)
    if folder is not None and not (folder / "config.json").is_file():
        raise UserError("cmp.err.checkpoint_corrupt", name=name, detail="config.json")
    try:
        return load_model(name, allow_fallback=False)
    except UserError as e:
        if folder is None and e.key in ("err.model_load_failed", "err.unknown_model"):
            raise UserError("cmp.err.model_missing", name=name) from e
        raise
    except Exception as e:  # noqa: BLE001 - sorted below
        # What damaged files raise (truncated weights: SafetensorError; bad JSON: OSError/ValueError;
        # wrong shapes: RuntimeError).  Anything else is a bug, not the user's folder: re-raised.
        damaged = isinstance(e, (OSError, ValueError, KeyError, EOFError, RuntimeError)) or (
            type(e).__name__ == "SafetensorError")
        if not damaged or isinstance(e, NotImplementedError):
            raise
        if folder is not None:
            raise UserError("cmp.err.checkpoint_corrupt", name=name, detail=type(e).__name__) from e
        raise UserError("err.model_load_failed", name=name, detail=type(e).__name__) from e


def eval_texts_of(name: str, limit: int = 2000) -> list[str]:
    """The held-out texts saved with checkpoint ``name`` (``eval_texts.jsonl``), or []."""
    from lm_demo.checkpoints import EVAL_TEXTS_FILE, load_eval_texts

    folder = checkpoint_folder(name)
    if folder is None or not (folder / EVAL_TEXTS_FILE).is_file():
        return []
    try:
        return [x for x in load_eval_texts(name) if x.strip()][:limit]
    except (OSError, UnicodeDecodeError) as e:
        raise UserError("cmp.err.eval_corrupt", name=name) from e


# --------------------------------------------------------------------------- generations
@dataclass
class Samples:
    model_name: str
    prompt: str
    continuations: list[str]
    seeds: list[int]
    prompt_tokens: int
    new_tokens: list[int]
    notes: list[str] = field(default_factory=list)


def generate_samples(
    loaded: Any,
    prompt: str,
    settings: SamplingSettings | None = None,
    n: int = DEFAULT_SAMPLES,
    max_new_tokens: int = DEFAULT_NEW_TOKENS,
    seed: int = DEFAULT_SEED,
) -> Samples:
    """``n`` continuations of ``prompt``; sample ``i`` is drawn with seed ``seed + i``.

    Runs ``lm_demo.decoding.decode`` with ``n`` identical sampling decoders
    (one KV-cached batch; decoder ``i`` owns a ``torch.Generator`` seeded with
    ``seed + i``, so a sample doesn't depend on the others and no global seed
    is touched).  The distribution is ``sampling.warp_logits``: the same as
    the other tabs.  Clamps: ``n`` to [1, 8]; ``max_new_tokens`` to [1, 200]
    and to what the context leaves (see ``lm_demo.decoding``).
    """
    from lm_demo.decoding import DecoderSpec, decode
    from lm_demo.locales import t

    s = (settings or SamplingSettings()).clamped(loaded.vocab_size)
    n = min(max(int(_int(n, DEFAULT_SAMPLES)), 1), MAX_SAMPLES)
    max_new_tokens = min(max(int(_int(max_new_tokens, DEFAULT_NEW_TOKENS)), 1), MAX_NEW_TOKENS)
    seed = int(_int(seed, DEFAULT_SEED))
    spec = DecoderSpec("sampling", s.temperature, s.top_k, s.top_p, s.repetition_penalty)
    res = decode(loaded, prompt, [spec] * n, max_steps=max_new_tokens, seed=seed, top_n=1)
    notes = list(res.notes)
    if s.greedy and n > 1:
        notes.append(t("cmp.note.greedy_same"))
    return Samples(loaded.name, prompt, [r.text for r in res.runs], [r.seed for r in res.runs],
                   len(res.prompt_ids), [len(r.token_ids) for r in res.runs], notes)


def _int(value: Any, default: int) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(x) or math.isinf(x) else x


# --------------------------------------------------------------------------- distributions
@dataclass(frozen=True)
class TokenShift:
    label: str  # visible token text
    p_base: float
    p_tuned: float

    @property
    def delta(self) -> float:
        return self.p_tuned - self.p_base


@dataclass
class DistributionDiff:
    """How the next-token distribution of the prompt moved from base to tuned."""

    base_name: str
    tuned_name: str
    prompt: str
    same_vocab: bool
    gained: list[TokenShift]  # largest increase first
    lost: list[TokenShift]  # largest decrease first
    max_abs_delta: float
    total_variation: float  # half the L1 distance: 0 = identical, 1 = disjoint
    top_base: list[TokenShift]  # the most likely tokens of each model, for tables
    top_tuned: list[TokenShift]
    notes: list[str] = field(default_factory=list)


def same_vocabulary(tok_a: Any, tok_b: Any) -> bool:
    return tok_a is tok_b or tok_a.get_vocab() == tok_b.get_vocab()


def _full_probs(loaded: Any, prompt: str) -> Any:
    import torch

    from lm_demo.next_token import last_logits
    from lm_demo.tokens import encode_prompt

    enc = encode_prompt(loaded.tokenizer, prompt, loaded.max_positions)
    return torch.softmax(last_logits(loaded, enc.ids), dim=-1)[0], enc


def _single_token_id(tok: Any, text: str) -> int | None:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    return int(ids[0]) if len(ids) == 1 else None


def distribution_diff(base: Any, tuned: Any, prompt: str, top: int = DIFF_TOP) -> DistributionDiff:
    """Tokens that gained and lost the most probability after ``prompt`` (raw softmax).

    Same vocabulary: compared id by id over the whole vocabulary.  Different
    vocabularies: the ``CANDIDATES_OTHER_VOCAB`` most likely tokens of each
    model, matched by text.
    """
    import torch

    from lm_demo.locales import t
    from lm_demo.tokens import token_label, token_text

    top = min(max(int(_int(top, DIFF_TOP)), 1), 50)
    pa, enc_a = _full_probs(base, prompt)
    pb, enc_b = _full_probs(tuned, prompt)
    notes = list(dict.fromkeys(enc_a.notes + enc_b.notes))
    same = same_vocabulary(base.tokenizer, tuned.tokenizer) and pa.shape == pb.shape
    shifts: list[TokenShift]
    if same:
        delta = (pb.double() - pa.double())
        k = min(top, delta.numel())
        up = torch.topk(delta, k).indices.tolist()
        down = torch.topk(-delta, k).indices.tolist()
        lab = lambda i: token_label(base.tokenizer, i)  # noqa: E731
        gained = [TokenShift(lab(i), float(pa[i]), float(pb[i])) for i in up if delta[i] > 0]
        lost = [TokenShift(lab(i), float(pa[i]), float(pb[i])) for i in down if delta[i] < 0]
        max_abs = float(delta.abs().max())
        tv = float(delta.abs().sum() / 2)
    else:
        notes.append(t("cmp.note.vocab_differs"))
        table: dict[str, list[float]] = {}
        for side, (model, probs, other, oprobs) in enumerate(
            ((base, pa, tuned, pb), (tuned, pb, base, pa))
        ):
            for i in torch.topk(probs, min(CANDIDATES_OTHER_VOCAB, probs.numel())).indices.tolist():
                text = token_text(model.tokenizer, i)
                if text in table:
                    continue
                j = _single_token_id(other.tokenizer, text)
                p_other = float(oprobs[j]) if j is not None and j < oprobs.numel() else 0.0
                pair = [float(probs[i]), p_other] if side == 0 else [p_other, float(probs[i])]
                table[text] = pair
        shifts = [TokenShift(token_label_text(s), a, b) for s, (a, b) in table.items()]
        gained = sorted([s for s in shifts if s.delta > 0], key=lambda s: -s.delta)[:top]
        lost = sorted([s for s in shifts if s.delta < 0], key=lambda s: s.delta)[:top]
        max_abs = max((abs(s.delta) for s in shifts), default=0.0)
        tv = sum(abs(s.delta) for s in shifts) / 2
    n_tab = 10
    ta = torch.topk(pa, min(n_tab, pa.numel()))
    tb = torch.topk(pb, min(n_tab, pb.numel()))
    top_base = [TokenShift(token_label(base.tokenizer, i), float(p), _prob_in(pb, same, tuned, base, i))
                for i, p in zip(ta.indices.tolist(), ta.values.tolist())]
    top_tuned = [TokenShift(token_label(tuned.tokenizer, i), _prob_in(pa, same, base, tuned, i), float(p))
                 for i, p in zip(tb.indices.tolist(), tb.values.tolist())]
    return DistributionDiff(base.name, tuned.name, prompt, same, gained, lost, max_abs, tv,
                            top_base, top_tuned, notes)


def token_label_text(text: str) -> str:
    from lm_demo.tokens import visible

    return visible(text)


def _prob_in(other_probs: Any, same: bool, other: Any, this: Any, i: int) -> float:
    """Probability the other model gives to token ``i`` of ``this`` model."""
    if same:
        return float(other_probs[i])
    from lm_demo.tokens import token_text

    j = _single_token_id(other.tokenizer, token_text(this.tokenizer, i))
    return float(other_probs[j]) if j is not None and j < other_probs.numel() else 0.0


# --------------------------------------------------------------------------- perplexity
LOSSES_CACHE_SIZE = 8
SMALL_MODEL_PARAMS = 50_000_000
LARGE_MODEL_MAX_TOKENS = 4096  # a GPT-2-small pair on 2 CPU cores: a few seconds each


def eval_token_cap(*models: Any) -> int:
    """Scored tokens per model for the held-out text: all of a small model's split, fewer for big models on CPU.

    The bundled pair scores its whole split (``perplexity.DEFAULT_MAX_TOKENS``);
    a pair with a model over ``SMALL_MODEL_PARAMS`` parameters on a CPU stops at
    ``LARGE_MODEL_MAX_TOKENS`` (whole texts in order; the summary says so).
    """
    from lm_demo.perplexity import DEFAULT_MAX_TOKENS

    big = any(str(getattr(m, "device", "cpu")) == "cpu"
              and sum(p.numel() for p in m.model.parameters()) > SMALL_MODEL_PARAMS for m in models)
    return LARGE_MODEL_MAX_TOKENS if big else DEFAULT_MAX_TOKENS
_LOSSES_CACHE: PerModelLRU[Any] = PerModelLRU(LOSSES_CACHE_SIZE)


def held_out_losses(loaded: Any, texts: list[str], max_tokens: int | None) -> Any:
    """``perplexity.token_losses`` of ``loaded`` on ``texts``, cached per model (weakly), texts, cap and language.

    Returns the cached ``TokenLosses`` itself: callers must not modify it.
    """
    from lm_demo.locales import current_lang
    from lm_demo.perplexity import token_losses

    key = (tuple(texts), max_tokens, current_lang())
    return _LOSSES_CACHE.get_or_compute(loaded.model, key, lambda: token_losses(loaded, texts, max_tokens=max_tokens))


# --------------------------------------------------------------------------- everything
@dataclass
class Comparison:
    pair: Pair
    base_resolved: str
    tuned_resolved: str
    samples_base: Samples
    samples_tuned: Samples
    diff: DistributionDiff
    losses_base: Any | None  # perplexity.TokenLosses
    losses_tuned: Any | None
    eval_source: str  # "pasted" | "checkpoint:<name>" | "none"
    settings: SamplingSettings
    seed: int
    notes: list[str] = field(default_factory=list)
    eval_split: str = "lines"  # how pasted text was split into texts


def compare(
    prompt: str,
    tuned: str | None = None,
    base: str | None = None,
    settings: SamplingSettings | None = None,
    n_samples: int = DEFAULT_SAMPLES,
    max_new_tokens: int = DEFAULT_NEW_TOKENS,
    seed: int = DEFAULT_SEED,
    eval_text: str | None = None,
    eval_max_tokens: int | None = None,
    eval_split: str = "lines",
) -> Comparison:
    """Run the whole before/after comparison for one prompt (see the module docstring).

    Held-out texts: ``eval_text`` split by ``eval_split`` ("lines" or
    "blocks") when given, else the tuned checkpoint's saved eval split, else
    the base's; with none, perplexity is skipped and a note says how to get it.
    """
    from lm_demo.locales import t
    from lm_demo.perplexity import split_texts
    from lm_demo.tokens import encode_prompt

    if prompt is None or not str(prompt).strip():
        raise UserError("err.empty_prompt")  # before loading any model
    pasted = split_texts(eval_text, eval_split) if eval_text and eval_text.strip() else []  # bad split: fail fast
    pair = resolve_pair(tuned, base)
    lb = load_for_compare(pair.base)
    lt = load_for_compare(pair.tuned)
    encode_prompt(lb.tokenizer, prompt, lb.max_positions)  # validates the prompt once, up front
    settings = settings or SamplingSettings()
    seed = int(_int(seed, DEFAULT_SEED))
    notes: list[str] = []
    if pair.base_from_metadata:
        notes.append(t("cmp.note.base_from_metadata", tuned=pair.tuned, base=pair.base))
    if lb.resolved == lt.resolved:
        notes.append(t("cmp.note.same_model"))
    sb = generate_samples(lb, prompt, settings, n_samples, max_new_tokens, seed)
    st = generate_samples(lt, prompt, settings, n_samples, max_new_tokens, seed)
    diff = distribution_diff(lb, lt, prompt)

    texts: list[str] = []
    source = "none"
    if pasted:
        texts, source = pasted, "pasted"
    else:
        for name in (pair.tuned, pair.base):
            texts = eval_texts_of(name)
            if texts:
                source = f"checkpoint:{name}"
                break
    losses_b = losses_t = None
    if texts:
        cap = eval_token_cap(lb, lt) if eval_max_tokens is None else eval_max_tokens
        losses_b = held_out_losses(lb, texts, cap)
        losses_t = held_out_losses(lt, texts, cap)
    else:
        notes.append(t("cmp.note.no_eval_text"))
    for extra in (sb.notes, st.notes, diff.notes, losses_b.notes if losses_b else [], losses_t.notes if losses_t else []):
        for n in extra:
            if n not in notes:
                notes.append(n)
    return Comparison(pair, lb.resolved, lt.resolved, sb, st, diff, losses_b, losses_t, source,
                      settings.clamped(min(lb.vocab_size, lt.vocab_size)), seed, notes,
                      (eval_split or "lines").strip().lower())
