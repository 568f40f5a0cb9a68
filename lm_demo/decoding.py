"""Step-by-step decoding: greedy, sampling and epsilon-greedy side by side.

Why this shape:

- **One batch, one KV cache.** The decoders share the prompt, so the prompt is
  run once, its cache is copied for each decoder (``batch_repeat_interleave``)
  and every step is one forward of shape (decoders, 1).  On a CPU, decoding is
  bound by reading the weights; a batch of three reads them once.  A decoder
  that stops is dropped from the batch and from the cache.
- **Same distribution as the "Siguiente token" tab.** The sampling
  distribution is ``lm_demo.sampling.warp_logits`` (transformers'
  LogitsProcessors); clamps are documented there.
- **Reproducible per decoder.** Decoder ``i`` owns a ``torch.Generator``
  seeded with ``seeds[i]`` (default ``seed + i``) and draws exactly two
  uniforms per step, whatever its kind: ``coin`` (epsilon-greedy's choice)
  and ``u`` (the inverse-CDF sample).  So a decoder's tokens don't depend on
  which decoders run beside it, and with the same seed stream epsilon=0
  reproduces the sampling decoder and epsilon=1 the greedy one (the
  decoding tab gives all its decoders ``seed``).
- **Which distribution each number is in** (the tables label them):
  "modelo (T=1)": ``StepRow.prob``/``rank``/``candidates`` and
  ``cum_logprob``, the model's own softmax at temperature 1 with no
  top-k/top-p/penalty: how likely the model found the text.  "muestreada":
  ``StepRow.warped_prob`` and ``warped_cum_logprob``, the distribution the
  step actually drew from (after temperature, top-k, top-p and repetition
  penalty); a greedy choice (greedy, or epsilon-greedy's greedy steps) drew
  from the one-hot argmax, so 1 and 0.
- **Epsilon-greedy** (the seeds' definition): with probability ``epsilon``
  take the argmax, otherwise sample from the sampling distribution.

Stops (``DecoderRun.stop_reason``): ``"eos"`` (end-of-text token, shown as a
row but not in the text), ``"sentences"`` (``max_sentences`` sentence ends
``. ! ? …`` in the generated text; a run of them counts once), ``"context"``
(prompt plus text fill the model's context window: with a long prompt this
is where the last step lands) and ``"max_steps"``.  The text never grows
beyond the context, so no position embedding is ever out of range.

Clamps (each reported in ``DecodeProgress.notes``): ``max_steps`` to
[1, ``MAX_STEPS``] and below the context size; ``top_n`` to [1, ``MAX_TOP_N``];
``max_sentences`` <= 0 or None means no limit, at most ``MAX_SENTENCES``;
``epsilon`` to [0, 1]; the prompt keeps its last ``context - max_steps`` tokens.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from lm_demo.errors import UserError
from lm_demo.sampling import SamplingSettings, warp_logits
from lm_demo.tokens import encode_prompt, token_label

KINDS = ("greedy", "sampling", "epsilon")
MAX_STEPS = 200
MAX_TOP_N = 20
MAX_SENTENCES = 50
MAX_DECODERS = 8
SENTENCE_END = re.compile(r"[.!?…]+")


def _field(name: str) -> str:
    from lm_demo.locales import t

    return t(f"dec.field.{name}")


def _to_number(value: Any, name: str, default: float) -> float:
    """``value`` as a float; None/"" give ``default``; text or NaN is a UserError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise UserError("err.bad_number", field=_field(name)) from None
    if math.isnan(x):
        raise UserError("err.bad_number", field=_field(name))
    return x


def _clamp_int(value: Any, name: str, default: int, lo: int, hi: int, notes: list[str]) -> int:
    """An int in [lo, hi]; a clamp adds a note (``inf`` clamps too)."""
    from lm_demo.locales import t

    x = _to_number(value, name, default)
    n = hi if x > hi else lo if x < lo else int(x)
    if n != x:
        notes.append(t("note.clamped", field=_field(name), value=n, lo=lo, hi=hi))
    return n


@dataclass(frozen=True)
class DecoderSpec:
    """How one decoder picks tokens (see the module docstring for ``epsilon``)."""

    kind: str  # "greedy" | "sampling" | "epsilon"
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    epsilon: float = 0.1

    def settings(self) -> SamplingSettings:
        """The distribution this decoder draws from (greedy: temperature 0)."""
        temp = 0.0 if self.kind == "greedy" else self.temperature
        return SamplingSettings(temp, self.top_k, self.top_p, self.repetition_penalty)

    def clamped(self, vocab_size: int) -> "DecoderSpec":
        """Settings inside their documented ranges; an unknown kind is a UserError."""
        kind = str(self.kind).strip().lower()
        if kind not in KINDS:
            raise UserError("dec.err.kind", kind=self.kind, kinds=", ".join(KINDS))
        s = SamplingSettings(self.temperature, self.top_k, self.top_p, self.repetition_penalty).clamped(vocab_size)
        eps = self.epsilon
        try:
            eps = float(eps)
        except (TypeError, ValueError):
            eps = 0.1
        eps = 0.1 if math.isnan(eps) else min(max(eps, 0.0), 1.0)
        return DecoderSpec(kind, s.temperature, s.top_k, s.top_p, s.repetition_penalty, eps)


@dataclass
class StepRow:
    """One chosen token of one decoder (probabilities: see the module docstring)."""

    step: int  # 1-based
    candidates: list[tuple[str, float]]  # top-N (label, model probability), most likely first
    chosen_id: int
    chosen_token: str  # label with visible whitespace (tokens.token_label)
    rank: int  # 1 = the model's most likely token
    prob: float  # model probability (temperature 1)
    mode: str  # "greedy" | "sampled"
    cum_logprob: float  # sum of ln(prob) of the tokens chosen so far (model, T=1)
    warped_prob: float = 1.0  # probability in the distribution the step drew from (1 for a greedy choice)
    warped_cum_logprob: float = 0.0  # sum of ln(warped_prob) so far


@dataclass
class DecoderRun:
    """The state and output of one decoder."""

    index: int
    spec: DecoderSpec  # clamped
    seed: int
    rows: list[StepRow] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    text: str = ""  # generated text so far, special tokens left out
    sentences: int = 0
    finished: bool = False
    stop_reason: str | None = None  # "eos" | "sentences" | "max_steps" | "context"


@dataclass
class DecodeProgress:
    """What ``decode_steps`` yields after each step; the last one has ``done``.

    ``runs`` are live: later steps append to them, so keep ``new_rows`` (or
    copies) if you need a snapshot of one step.
    """

    step: int
    runs: list[DecoderRun]
    new_rows: list[list[StepRow]]  # per decoder, rows added by this step (0 or 1)
    done: bool
    prompt_ids: list[int]
    prompt_text: str  # the prompt as the model saw it (after any truncation)
    max_steps: int
    top_n: int
    notes: list[str]

    @property
    def finished(self) -> list[bool]:
        return [r.finished for r in self.runs]

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.runs]

    @property
    def rows(self) -> list[list[StepRow]]:
        return [r.rows for r in self.runs]


DecodeResult = DecodeProgress  # the final progress, as returned by ``decode``


def _inverse_cdf(probs: Any, u: float) -> int:
    """The token whose CDF interval holds ``u`` (one uniform → one sample).

    Why not ``torch.multinomial``: one documented draw per step keeps the
    random streams of different decoder kinds aligned (see module docstring).
    Never returns a zero-probability token.
    """
    import torch

    cdf = torch.cumsum(probs.double(), dim=-1)
    x = torch.tensor([u], dtype=cdf.dtype, device=cdf.device) * cdf[-1]
    idx = int(torch.searchsorted(cdf, x, right=True).clamp(max=probs.shape[-1] - 1))
    if float(probs[idx]) <= 0.0:  # rounding at the very top of the CDF
        idx = int(torch.nonzero(probs[: idx + 1] > 0)[-1])
    return idx


def _prepare(
    loaded: Any,
    prompt: str,
    decoders: list[DecoderSpec],
    max_steps: Any,
    seed: Any,
    top_n: Any,
    max_sentences: Any,
    seeds: Sequence[Any] | None = None,
) -> tuple[list[int], list[DecoderRun], int, int, int | None, list[str]]:
    """Validate and clamp every input (before any model work)."""
    from lm_demo.locales import t

    notes: list[str] = []
    decoders = list(decoders or [])
    if not decoders:
        raise UserError("dec.err.no_decoders")
    if len(decoders) > MAX_DECODERS:
        raise UserError("dec.err.too_many", n=len(decoders), max=MAX_DECODERS)
    vocab = loaded.vocab_size
    ctx = loaded.max_positions
    hi = max(1, min(MAX_STEPS, ctx - 1))
    steps = _clamp_int(max_steps, "steps", 30, 1, hi, notes)
    n = _clamp_int(top_n, "top_n", 5, 1, min(MAX_TOP_N, vocab), notes)
    sent_x = _to_number(max_sentences, "sentences", 0)
    sentences = None if sent_x <= 0 else _clamp_int(sent_x, "sentences", 1, 1, MAX_SENTENCES, notes)
    seed_x = _to_number(seed, "seed", 0)
    if math.isinf(seed_x):
        raise UserError("err.bad_number", field=_field("seed"))
    base_seed = int(seed_x)
    if seeds is None:
        run_seeds = [base_seed + i for i in range(len(decoders))]
    else:
        if len(seeds) != len(decoders):
            raise ValueError(f"{len(seeds)} seeds for {len(decoders)} decoders")
        run_seeds = []
        for x in seeds:
            v = _to_number(x, "seed", base_seed)
            if math.isinf(v):
                raise UserError("err.bad_number", field=_field("seed"))
            run_seeds.append(int(v))

    specs = []
    for d in decoders:
        if not isinstance(d, DecoderSpec):
            raise UserError("dec.err.kind", kind=str(d), kinds=", ".join(KINDS))
        c = d.clamped(vocab)
        specs.append(c)
        for name in ("temperature", "top_k", "top_p", "repetition_penalty", "epsilon"):
            given, got = getattr(d, name), getattr(c, name)
            try:
                same = float(given) == float(got)
            except (TypeError, ValueError):
                same = False
            if not same:
                if name == "top_k" and got == 0:
                    msg = t("dec.note.top_k_off", vocab=vocab)
                else:
                    lo, hi_ = _RANGES[name]
                    msg = t("note.clamped", field=_field(name), value=got, lo=lo, hi=hi_ or vocab)
                if msg not in notes:
                    notes.append(msg)

    steps = _fit_steps(loaded.tokenizer, prompt, ctx, steps, notes)
    enc = encode_prompt(loaded.tokenizer, prompt, ctx - steps)
    notes.extend(enc.notes)
    runs = [DecoderRun(i, s, run_seeds[i] % 2**63) for i, s in enumerate(specs)]
    return enc.ids, runs, steps, n, sentences, notes


def _fit_steps(tokenizer: Any, prompt: str, ctx: int, steps: int, notes: list[str]) -> int:
    """Fewer steps rather than a cut prompt when both don't fit the context (a small model's 128 tokens).

    The prompt is still cut (its end kept) when it would leave fewer than
    half the context to the steps asked for: the rule of ``training.samples.fit_prompt``.
    """
    from lm_demo.locales import t

    n_prompt = len(encode_prompt(tokenizer, prompt, ctx).ids)
    fit = min(steps, max(ctx - n_prompt, min(steps, ctx // 2), 1))
    if fit < steps:
        notes.append(t("dec.note.steps_fit", steps=fit, ctx=ctx, n=n_prompt))
    return fit


_RANGES = {
    "temperature": (0, 5),
    "top_k": (0, None),  # None: the vocabulary size
    "top_p": (0, 1),
    "repetition_penalty": (1, 5),
    "epsilon": (0, 1),
}


def prefill(model: Any, ids: list[int]) -> tuple[Any, Any]:
    """Run ``ids`` once into a fresh KV cache: (cache, float32 logits (1, vocab) of the next position).

    Only the last position goes through the vocabulary projection (``logits_to_keep=1``).
    Shared by ``decode_steps`` and the manual stepping of ``lm_demo.stepping``, so both
    compute the very same numbers.  Call it under ``torch.inference_mode()``.
    """
    import torch
    from transformers import DynamicCache

    out = model(input_ids=torch.tensor([ids], device=model.device), past_key_values=DynamicCache(config=model.config),
                use_cache=True, logits_to_keep=1)
    return out.past_key_values, out.logits[:, -1, :].float()


def advance(model: Any, cache: Any, next_ids: list[int]) -> tuple[Any, Any]:
    """One cached step, one new token per batch row: (cache, float32 logits (rows, vocab))."""
    import torch

    out = model(input_ids=torch.tensor(next_ids, device=model.device)[:, None], past_key_values=cache,
                use_cache=True)
    return out.past_key_values, out.logits[:, -1, :].float()


def decode_steps(
    loaded: Any,
    prompt: str,
    decoders: list[DecoderSpec],
    max_steps: int = 30,
    seed: int = 0,
    top_n: int = 5,
    max_sentences: int | None = None,
    eos_token_id: int | None = None,
    seeds: Sequence[int] | None = None,
) -> Iterator[DecodeProgress]:
    """Run ``decoders`` on ``prompt`` together, yielding after every step.

    ``loaded`` is a ``models.LoadedModel``.  Each yield carries every
    decoder's rows so far and this step's new rows; the last yield has
    ``done=True`` and the final texts.  ``eos_token_id`` defaults to the
    tokenizer's end-of-text token.  ``seeds`` (one per decoder) replaces the
    default ``seed + i``: the same seed for all gives every decoder the same
    random stream.  Inputs are validated and clamped first
    (``UserError`` for what can't be clamped), so a bad input costs no model
    time.  The generator is lazy: stop iterating and no more steps run.
    """
    import torch

    prompt_ids, runs, steps, top_n, max_sentences, notes = _prepare(
        loaded, prompt, decoders, max_steps, seed, top_n, max_sentences, seeds
    )
    model, tok = loaded.model, loaded.tokenizer
    device = model.device
    eos = tok.eos_token_id if eos_token_id is None else int(eos_token_id)
    ctx = loaded.max_positions
    settings = [r.spec.settings() for r in runs]
    gens = [torch.Generator(device="cpu").manual_seed(r.seed) for r in runs]
    labels: dict[int, str] = {}
    no_context = torch.empty((1, 0), dtype=torch.long, device=device)  # processors without a penalty ignore it

    def label(i: int) -> str:
        if i not in labels:
            labels[i] = token_label(tok, i)
        return labels[i]

    prompt_text = tok.decode(prompt_ids, clean_up_tokenization_spaces=False)
    active = list(range(len(runs)))  # batch row -> run index
    with torch.inference_mode():
        cache, logits = prefill(model, prompt_ids)
        if len(active) > 1:
            cache.batch_repeat_interleave(len(active))
        logits = logits.expand(len(active), -1)

        step = 0
        while True:
            step += 1
            new_rows: list[list[StepRow]] = [[] for _ in runs]
            logp = torch.log_softmax(logits, dim=-1)
            probs = logp.exp()
            top = torch.topk(probs, top_n, dim=-1)
            top_vals, top_ids = top.values.tolist(), top.indices.tolist()
            next_ids: list[int] = []
            for row, ri in enumerate(active):
                run, s = runs[ri], settings[ri]
                coin, u = torch.rand(2, generator=gens[ri], dtype=torch.float64).tolist()
                greedy = s.greedy or (run.spec.kind == "epsilon" and coin < run.spec.epsilon)
                if s.greedy and s.repetition_penalty == 1.0:
                    # the argmax of the raw distribution: topk already has it
                    chosen, wp = top_ids[row][0], 1.0
                else:
                    context = torch.tensor([prompt_ids + run.token_ids], device=device) \
                        if s.repetition_penalty != 1.0 else no_context
                    warped = warp_logits(logits[row: row + 1], context, s)[0]
                    if greedy:  # drawn from the one-hot argmax, as the greedy decoder's
                        chosen, wp = int(warped.argmax()), 1.0
                    else:
                        wprobs = torch.softmax(warped, dim=-1)
                        chosen = _inverse_cdf(wprobs, u)
                        wp = float(wprobs[chosen])
                if chosen in top_ids[row]:  # rank from the top-N; count only when outside it
                    rank = top_ids[row].index(chosen) + 1
                else:
                    rank = int((probs[row] > probs[row, chosen]).sum()) + 1
                lp = float(logp[row, chosen])
                prev = run.rows[-1].cum_logprob if run.rows else 0.0
                prev_w = run.rows[-1].warped_cum_logprob if run.rows else 0.0
                r = StepRow(
                    step=step,
                    candidates=[(label(i), v) for i, v in zip(top_ids[row], top_vals[row])],
                    chosen_id=chosen,
                    chosen_token=label(chosen),
                    rank=rank,
                    prob=math.exp(lp),
                    mode="greedy" if greedy else "sampled",
                    cum_logprob=prev + lp,
                    warped_prob=wp,
                    warped_cum_logprob=prev_w + math.log(wp),
                )
                run.rows.append(r)
                new_rows[ri].append(r)
                run.token_ids.append(chosen)
                run.text = tok.decode(run.token_ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
                run.sentences = len(SENTENCE_END.findall(run.text))
                if chosen == eos:
                    run.stop_reason = "eos"
                elif max_sentences is not None and run.sentences >= max_sentences:
                    run.stop_reason = "sentences"
                elif len(prompt_ids) + step >= ctx:
                    run.stop_reason = "context"
                elif step >= steps:
                    run.stop_reason = "max_steps"
                run.finished = run.stop_reason is not None
                next_ids.append(chosen)

            keep = [row for row, ri in enumerate(active) if not runs[ri].finished]
            done = not keep
            yield DecodeProgress(step, runs, new_rows, done, prompt_ids, prompt_text, steps, top_n, notes)
            if done:
                return
            if len(keep) < len(active):
                cache.batch_select_indices(torch.tensor(keep, device=device))
                active = [active[row] for row in keep]
                next_ids = [next_ids[row] for row in keep]
            cache, logits = advance(model, cache, next_ids)


def decode(
    loaded: Any,
    prompt: str,
    decoders: list[DecoderSpec],
    max_steps: int = 30,
    seed: int = 0,
    top_n: int = 5,
    max_sentences: int | None = None,
    eos_token_id: int | None = None,
    seeds: Sequence[int] | None = None,
) -> DecodeResult:
    """``decode_steps`` run to the end; returns its last (``done``) progress."""
    last = None
    for last in decode_steps(loaded, prompt, decoders, max_steps, seed, top_n, max_sentences, eos_token_id, seeds):
        pass
    assert last is not None and last.done
    return last


# --------------------------------------------------------------------------- presentation helpers
def text_pieces(tokenizer: Any, rows: list[StepRow], skip_ids: set[int] | None = None) -> list[tuple[str, float]]:
    """The generated text as (piece, model probability) pairs, for highlighting.

    A token that is only part of a UTF-8 character (``á`` is two bytes) is
    merged with the following ones until the text is whole; the piece's
    probability is the product of its tokens' (the probability of that text).
    ``skip_ids`` (default: the special tokens) are left out.
    """
    skip = set(tokenizer.all_special_ids) if skip_ids is None else skip_ids
    pieces: list[tuple[str, float]] = []
    pending: list[int] = []
    prob = 1.0
    for r in rows:
        if r.chosen_id in skip:
            continue
        pending.append(r.chosen_id)
        prob *= r.prob
        text = tokenizer.decode(pending, clean_up_tokenization_spaces=False)
        if "\ufffd" in text and len(pending) < 4:
            continue
        pieces.append((text, prob))
        pending, prob = [], 1.0
    if pending:
        pieces.append((tokenizer.decode(pending, clean_up_tokenization_spaces=False), prob))
    return pieces


TABLE_COLUMNS = ["paso", "candidatos · modelo (T=1)", "elegido", "rango · modelo (T=1)", "prob. · modelo (T=1)",
                 "prob. · muestreada (tras T/top-k/top-p/penalización)", "modo", "log-prob acum. · modelo (T=1)",
                 "log-prob acum. · muestreada"]


def format_candidates(candidates: list[tuple[str, float]]) -> str:
    """``de 31,2% · la 12,0%``: the top-N in one readable cell (numbers in the current language)."""
    from lm_demo.locales.numbers import number

    return " · ".join(f"{lab} {number(p * 100, '.1f')}%" for lab, p in candidates)


def steps_frame(rows: list[StepRow], columns: list[str] | None = None,
                mode_names: dict[str, str] | None = None) -> Any:
    """A decoder's rows as a pandas DataFrame (columns ``TABLE_COLUMNS`` by default)."""
    import pandas as pd

    modes = mode_names or {"greedy": "voraz", "sampled": "muestreado"}
    data = [[r.step, format_candidates(r.candidates), r.chosen_token, r.rank, round(r.prob, 5),
             round(r.warped_prob, 5), modes.get(r.mode, r.mode), round(r.cum_logprob, 4),
             round(r.warped_cum_logprob, 4)] for r in rows]
    return pd.DataFrame(data, columns=columns or TABLE_COLUMNS)


CSV_COLUMNS = ("step", "chosen_id", "chosen_token", "rank_model_T1", "prob_model_T1", "prob_sampled", "mode",
               "cum_logprob_model_T1", "cum_logprob_sampled")


def csv_frame(rows: list[StepRow], top_n: int | None = None) -> Any:
    """A decoder's rows for a spreadsheet: full precision, one column pair per candidate.

    The column names say the distribution: ``_model_T1`` is the model's own
    (temperature 1, no top-k/top-p/penalty), ``_sampled`` the one the step
    drew from.  Columns ``CSV_COLUMNS``, then ``cand_i, p_model_T1_i`` for
    i = 1..``top_n`` (default: the most candidates any row has); a row with
    fewer candidates leaves the rest empty.  The token labels keep their
    visible spaces (␣).
    """
    import pandas as pd

    n = top_n if top_n is not None else max((len(r.candidates) for r in rows), default=0)
    header = list(CSV_COLUMNS)
    for i in range(1, n + 1):
        header += [f"cand_{i}", f"p_model_T1_{i}"]
    data = []
    for r in rows:
        line: list[Any] = [r.step, r.chosen_id, r.chosen_token, r.rank, r.prob, r.warped_prob, r.mode, r.cum_logprob,
                           r.warped_cum_logprob]
        for lab, p in r.candidates[:n]:
            line += [lab, p]
        data.append(line + [None] * (len(header) - len(line)))
    return pd.DataFrame(data, columns=header)


def write_csv(rows: list[StepRow], path: str | Path, top_n: int | None = None) -> Path:
    """Write ``csv_frame(rows, top_n)`` as UTF-8 CSV; returns the path."""
    path = Path(path)
    csv_frame(rows, top_n).to_csv(path, index=False, lineterminator="\r\n")  # as csv.writer wrote it
    return path
