""""Tú eliges": the student picks every next token; undo and branches.

Why the state is only ids: a step's state is a pure function of the model,
the prompt's ids and the ids chosen so far, so a client (the page, a notebook,
``gradio_client``) holds nothing but those ids and every view is rebuilt from
them; what is shown never depends on what the server happened to keep.

Why it is still one cached step per click: the server keeps recent *traces*
(per model, a few): the KV cache of the prompt plus the chosen tokens, and the
next-token distribution after every prefix.  A trace holds all its prefixes, so
"Deshacer" (one id fewer) and a branch are found in a trace without running
the model, and a click extends a trace by one cached forward
(``decoding.prefill``/``decoding.advance``: the same calls, so the same
numbers, as the decoding tab's engine).  A state found in no trace is rebuilt
along the same path (prompt once, then token by token), which gives it the
very same numbers: choosing the argmax at every step reproduces greedy
decoding exactly, and undo restores a state exactly.

Rows are ``decoding.StepRow`` in the model's own distribution (temperature
1): rank 1 is the model's favourite; ``mode`` is ``"click"`` (a candidate) or
``"typed"`` (text the student typed, appended token by token).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from lm_demo.decoding import StepRow, advance, prefill
from lm_demo.errors import UserError
from lm_demo.tokens import encode_prompt, token_label

MAX_STEPS = 100  # chosen tokens per text
MAX_TOP_N = 10  # candidates shown (and kept per row)
MAX_TYPED_TOKENS = 20  # tokens one typed text may add at once
MAX_TRACES = 6  # per model
MODES = ("click", "typed")


@dataclass
class Candidate:
    rank: int
    id: int
    label: str
    prob: float


@dataclass
class Branch:
    """A text built token by token: its chosen ids and their rows."""

    ids: list[int]
    rows: list[StepRow]
    text: str  # the generated part (special tokens left out)

    @property
    def cum_logprob(self) -> float:
        return self.rows[-1].cum_logprob if self.rows else 0.0

    @property
    def mean_logprob(self) -> float | None:
        return self.cum_logprob / len(self.rows) if self.rows else None


@dataclass
class StepState:
    """What the student sees: the text so far, the steps, the next candidates, a saved branch."""

    prompt_ids: list[int]
    prompt_text: str
    current: Branch
    candidates: list[Candidate]
    saved: Branch | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.prompt_text + self.current.text

    def diverge_step(self) -> int | None:
        """The first step where the saved branch and the current one differ (None without a saved branch)."""
        if self.saved is None:
            return None
        n = 0
        for a, b in zip(self.saved.ids, self.current.ids):
            if a != b:
                break
            n += 1
        return n + 1

    def to_dict(self, model_name: str = "") -> dict[str, Any]:
        """The API's state: send it back (only ``ids`` and ``saved.ids`` are read) to continue."""

        def branch(b: Branch) -> dict[str, Any]:
            return {"ids": list(b.ids), "text": self.prompt_text + b.text, "generated": b.text,
                    "cum_logprob": b.cum_logprob,
                    "steps": [{"step": r.step, "token": r.chosen_token, "id": r.chosen_id, "rank": r.rank,
                               "prob": r.prob, "cum_logprob": r.cum_logprob, "mode": r.mode} for r in b.rows]}

        out = {"model": model_name, "prompt": self.prompt_text, **branch(self.current),
               "candidates": [{"rank": c.rank, "token": c.label, "id": c.id, "prob": c.prob} for c in self.candidates],
               "saved": branch(self.saved) if self.saved is not None else None}
        return out


# --------------------------------------------------------------------------- traces
@dataclass(frozen=True)
class _Dist:
    """The model's next-token distribution at one state, computed once (as ``decoding.decode_steps`` does)."""

    logp: Any  # (1, vocab) log-probabilities
    top_ids: list[int]  # the MAX_TOP_N most likely, most likely first
    top_probs: list[float]


def _dist(logits: Any) -> _Dist:
    import torch

    logp = torch.log_softmax(logits, dim=-1)
    top = torch.topk(logp.exp(), MAX_TOP_N, dim=-1)
    return _Dist(logp, top.indices.tolist()[0], top.values.tolist()[0])


@dataclass
class _Trace:
    prompt: tuple[int, ...]
    chosen: list[int]
    cache: Any  # KV cache of prompt + chosen
    dists: list[_Dist]  # dists[i]: after prompt + chosen[:i]
    rows: list[StepRow]


_TRACES: "weakref.WeakKeyDictionary[Any, OrderedDict[int, _Trace]]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _take(model: Any, prompt: tuple[int, ...], chosen: list[int]) -> tuple[_Trace | None, int]:
    """The stored trace sharing most of ``chosen`` (removed from the store when it will be extended in place,
    a cropped copy otherwise) and how many chosen ids it already has."""
    with _LOCK:
        store = _TRACES.get(model)
        if not store:
            return None, 0
        best_key, best_n = None, -1
        for key, tr in store.items():
            if tr.prompt != prompt:
                continue
            n = _common(tr.chosen, chosen)
            if n > best_n or (n == best_n and len(tr.chosen) == n):  # prefer a trace that ends there
                best_key, best_n = key, n
        if best_key is None:
            return None, 0
        tr = store[best_key]
        if len(tr.chosen) == best_n:  # all of it is wanted: extend it in place
            del store[best_key]
            return tr, best_n
        # Only a prefix is wanted (undo, a branch): leave the longer trace for others, copy the prefix.
        if any(getattr(layer, "is_sliding", False) for layer in getattr(tr.cache, "layers", [])):
            return None, 0  # a sliding window forgets: rebuild from the prompt
        try:
            cache = copy.deepcopy(tr.cache)
            cache.crop(-(len(tr.chosen) - best_n))
        except Exception:  # noqa: BLE001 - a cache that can't be cropped: rebuild from the prompt
            return None, 0
        return _Trace(prompt, tr.chosen[:best_n], cache, tr.dists[:best_n + 1], tr.rows[:best_n]), best_n


def _put(model: Any, tr: _Trace) -> None:
    with _LOCK:
        store = _TRACES.setdefault(model, OrderedDict())
        for key in [k for k, v in store.items() if v.prompt == tr.prompt and v.chosen == tr.chosen]:
            del store[key]  # the same state twice: keep the newest
        store[id(tr)] = tr
        while len(store) > MAX_TRACES:
            store.popitem(last=False)


def _row(tok: Any, dist: _Dist, chosen: int, step: int, prev_cum: float, labels: dict[int, str]) -> StepRow:
    """The row of choosing ``chosen`` from ``dist`` (the numbers ``decoding.decode_steps`` writes)."""

    def label(i: int) -> str:
        if i not in labels:
            labels[i] = token_label(tok, i)
        return labels[i]

    if chosen in dist.top_ids:
        rank = dist.top_ids.index(chosen) + 1
    else:  # outside the top: count (the probabilities again, bit for bit those the top came from)
        probs = dist.logp.exp()
        rank = int((probs[0] > probs[0, chosen]).sum()) + 1
    lp = float(dist.logp[0, chosen])
    return StepRow(step=step, candidates=[(label(i), v) for i, v in zip(dist.top_ids, dist.top_probs)],
                   chosen_id=chosen, chosen_token=label(chosen), rank=rank, prob=math.exp(lp), mode="click",
                   cum_logprob=prev_cum + lp)


def _trace(loaded: Any, prompt_ids: list[int], chosen: list[int]) -> _Trace:
    """The trace of ``prompt_ids + chosen``, from the store when possible, else built step by step."""
    import torch

    model, tok = loaded.model, loaded.tokenizer
    prompt = tuple(prompt_ids)
    tr, done = _take(model, prompt, chosen)
    labels: dict[int, str] = {}
    with torch.inference_mode():
        if tr is None:
            cache, logits = prefill(model, prompt_ids)
            tr, done = _Trace(prompt, [], cache, [_dist(logits)], []), 0
        for i in range(done, len(chosen)):
            c = chosen[i]
            prev = tr.rows[-1].cum_logprob if tr.rows else 0.0
            tr.rows.append(_row(tok, tr.dists[-1], c, i + 1, prev, labels))
            tr.cache, logits = advance(model, tr.cache, [c])
            tr.chosen.append(c)
            tr.dists.append(_dist(logits))
    _put(model, tr)
    return tr


# --------------------------------------------------------------------------- the public functions
def _encode(loaded: Any, prompt: str) -> tuple[list[int], list[str]]:
    enc = encode_prompt(loaded.tokenizer, prompt, max(1, loaded.max_positions - MAX_STEPS))
    return enc.ids, enc.notes


def prompt_text(loaded: Any, prompt: str) -> str:
    """The prompt as the model sees it here (its last tokens when long): what ``StepState.prompt_text`` holds."""
    ids, _ = _encode(loaded, prompt)
    return loaded.tokenizer.decode(ids, clean_up_tokenization_spaces=False)


def _check_ids(loaded: Any, ids: Any) -> list[int]:
    """Chosen ids from a client: a list of valid token ids, at most ``MAX_STEPS``."""
    if ids is None:
        return []
    if not isinstance(ids, (list, tuple)):
        raise UserError("ins.err.bad_state")
    out = []
    for x in ids:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not float(x).is_integer():
            raise UserError("ins.err.bad_state")
        if not 0 <= int(x) < loaded.vocab_size:
            raise UserError("ins.err.bad_token_id", id=int(x), vocab=loaded.vocab_size)
        out.append(int(x))
    if len(out) > MAX_STEPS:
        raise UserError("ins.err.too_many_steps", max=MAX_STEPS)
    return out


def _branch(loaded: Any, tr: _Trace, n: int, modes: list[str] | None = None) -> Branch:
    """The first ``n`` steps of ``tr``; ``modes`` says how each token was chosen ("click" where not given)."""
    ids = tr.chosen[:n]
    text = loaded.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
    modes = [m if m in MODES else "click" for m in (modes or [])][:n]
    modes += ["click"] * (n - len(modes))
    return Branch(ids, [dataclasses.replace(r, mode=m) for r, m in zip(tr.rows[:n], modes)], text)


def state(loaded: Any, prompt: str, chosen: Any = None, saved: Any = None, top_n: Any = 5,
          modes: list[str] | None = None, saved_modes: list[str] | None = None) -> StepState:
    """The state after ``prompt`` and the ``chosen`` ids (``saved``: the ids of a kept branch, or None).

    ``modes``/``saved_modes``: how each token was chosen ("click" or "typed"; only shown).
    """
    from lm_demo.locales import t

    notes: list[str] = []
    try:
        n = int(float(top_n))
    except (TypeError, ValueError):
        n = 5
    if n != min(max(n, 1), MAX_TOP_N):
        notes.append(t("note.clamped", field=t("ins.field.top_n"), value=min(max(n, 1), MAX_TOP_N), lo=1,
                       hi=MAX_TOP_N))
    n = min(max(n, 1), MAX_TOP_N)
    prompt_ids, enc_notes = _encode(loaded, prompt)
    notes += enc_notes
    chosen = _check_ids(loaded, chosen)
    saved_ids = _check_ids(loaded, saved) if saved is not None else None
    if len(prompt_ids) + len(chosen) > loaded.max_positions:
        raise UserError("ins.err.context_full", n=loaded.max_positions)
    tr = _trace(loaded, prompt_ids, chosen)
    dist = tr.dists[len(chosen)]
    tok = loaded.tokenizer
    cands = [Candidate(r, i, token_label(tok, i), p)
             for r, (i, p) in enumerate(zip(dist.top_ids[:n], dist.top_probs[:n]), start=1)]
    current = _branch(loaded, tr, len(chosen), modes)
    saved_branch = None
    if saved_ids is not None:
        if len(prompt_ids) + len(saved_ids) > loaded.max_positions:
            raise UserError("ins.err.context_full", n=loaded.max_positions)
        saved_branch = _branch(loaded, _trace(loaded, prompt_ids, saved_ids), len(saved_ids), saved_modes)
    prompt_text = tok.decode(prompt_ids, clean_up_tokenization_spaces=False)
    return StepState(prompt_ids, prompt_text, current, cands, saved_branch, notes)


def typed_ids(loaded: Any, text: str | None) -> list[int]:
    """The tokens of a text the student typed (appended as they are: a new word starts with a space)."""
    if text is None or text == "":
        raise UserError("ins.err.empty_choice")
    ids = loaded.tokenizer(str(text), add_special_tokens=False)["input_ids"]
    if not ids:
        raise UserError("ins.err.empty_choice")
    if len(ids) > MAX_TYPED_TOKENS:
        raise UserError("ins.err.typed_too_long", n=len(ids), max=MAX_TYPED_TOKENS)
    return ids


def choose(loaded: Any, prompt: str, chosen: Any, new_ids: list[int], top_n: Any = 5, saved: Any = None,
           mode: str = "click", modes: list[str] | None = None, saved_modes: list[str] | None = None) -> StepState:
    """Append ``new_ids`` (a clicked candidate, or the tokens of a typed text) to the ``chosen`` ids.

    ``mode`` ("click" or "typed") is recorded for the new rows; ``modes`` are the earlier rows'.
    """
    chosen = _check_ids(loaded, chosen)
    new_ids = _check_ids(loaded, list(new_ids))
    if not new_ids:
        raise UserError("ins.err.empty_choice")
    if len(chosen) + len(new_ids) > MAX_STEPS:
        raise UserError("ins.err.too_many_steps", max=MAX_STEPS)
    modes = (list(modes or []) + ["click"] * len(chosen))[:len(chosen)] + [mode] * len(new_ids)
    return state(loaded, prompt, chosen + new_ids, saved, top_n, modes, saved_modes)


def undo(loaded: Any, prompt: str, chosen: Any, top_n: Any = 5, saved: Any = None,
         modes: list[str] | None = None, saved_modes: list[str] | None = None) -> StepState:
    """The state one chosen token earlier: exactly the one shown before that token was chosen."""
    chosen = _check_ids(loaded, chosen)
    if not chosen:
        raise UserError("ins.err.nothing_to_undo")
    return state(loaded, prompt, chosen[:-1], saved, top_n, list(modes or [])[:len(chosen) - 1], saved_modes)
