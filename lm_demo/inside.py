"""Inside the model: attention weights and the logit lens of a prompt, from one forward.

Why one forward: both views read the same run (the attention weights of every
layer and head, the residual stream after every layer), so ``capture`` runs the
model once per prompt and keeps the result in a small per-model cache; moving
the layer/head sliders or switching views costs no model time.

Why the lens's last layer is the model's own next-token distribution, exactly:
the capture is the very forward that ``next_token.last_logits`` runs (same ids,
``logits_to_keep=1``, the same attention arithmetic: see
``lm_demo.attention_capture``), and the lens's last row at the last position is
taken from that forward's logits, not recomputed.

The logit lens (nostalgebraist, 2020): apply the final layer norm and the
output head to the residual stream after each layer, as if the model stopped
there.  Row 0 is the embeddings, row ``i`` the stream after ``i`` blocks, the
last row the output.  Computing it means a vocabulary projection for every
layer and position: done in vocabulary chunks with a running max/sum (an
online softmax), so the (rows × vocabulary) logits never sit in memory whole.

Layers and heads are numbered from 0, as in transformers' ``outputs.attentions``
(attention layer ``l`` is inside block ``l``; its output is lens row ``l + 1``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from lm_demo.errors import UserError
from lm_demo.model_memo import PerModelLRU
from lm_demo.tokens import encode_prompt, token_label

MAX_TOKENS = 64  # longer prompts keep their last MAX_TOKENS tokens (a readable heatmap; bounded memory)
LENS_TOP = 5  # candidates kept per layer at the last position
CAPTURE_CACHE_SIZE = 8
FINAL_NORM_NAMES = ("ln_f", "norm", "final_layer_norm", "final_layernorm", "final_norm")


# --------------------------------------------------------------------------- one forward, kept
@dataclass
class Capture:
    """What one forward of a prompt leaves for the views (tensors on the CPU, float32)."""

    ids: list[int]
    labels: list[str]  # token labels as in the next-token table (visible whitespace)
    hidden: list[Any]  # n_layers + 1 tensors (tokens, width): embeddings, after each block (the last after the final norm)
    final_logits: Any  # (vocab,): the model's own logits for the next token
    attentions: Any | None  # (layers, heads, tokens, tokens), None when the model gives none
    lens: "Lens | None" = None  # computed on first use, then kept with the capture

    @property
    def n_layers(self) -> int:
        return len(self.hidden) - 1


_CACHE: PerModelLRU[Capture] = PerModelLRU(CAPTURE_CACHE_SIZE)


def encode(loaded: Any, prompt: str) -> tuple[list[int], list[str]]:
    """The prompt's ids for these views (its last ``MAX_TOKENS`` tokens) and the notes to show."""
    from lm_demo.locales import t

    enc = encode_prompt(loaded.tokenizer, prompt, min(loaded.max_positions, MAX_TOKENS))
    notes = [t("ins.note.truncated", n=len(enc.ids))] if enc.truncated_from else []
    return enc.ids, notes


def capture(loaded: Any, prompt: str, use_cache: bool = True) -> tuple[Capture, list[str]]:
    """Run the model once on ``prompt`` keeping attentions and hidden states (cached per model and ids).

    Returns the capture (shared: don't modify it) and the notes for the user (truncation).
    """
    ids, notes = encode(loaded, prompt)
    return _CACHE.get_or_compute(loaded.model, tuple(ids), lambda: _forward(loaded, ids), use_cache), notes


def _forward(loaded: Any, ids: list[int]) -> Capture:
    import torch

    from lm_demo import attention_capture

    model = loaded.model
    attention_capture.prepare(model)
    x = torch.tensor([ids], device=model.device)
    with torch.inference_mode(), attention_capture.recording():
        out = model(input_ids=x, use_cache=False, logits_to_keep=1, output_hidden_states=True,
                    output_attentions=True)
    hidden = [h[0].float().cpu() for h in out.hidden_states]
    attentions = None
    atts = [a for a in (out.attentions or ()) if a is not None]
    if atts and len(atts) == len(hidden) - 1:
        attentions = torch.stack([a[0].float().cpu() for a in atts])
    labels = [token_label(loaded.tokenizer, i) for i in ids]
    return Capture(ids, labels, hidden, out.logits[0, -1, :].float().cpu(), attentions)


# --------------------------------------------------------------------------- attention
@dataclass
class AttentionView:
    """One layer/head's weights plus what the overview grid needs."""

    labels: list[str]
    layer: int  # 0-based
    head: int  # 0-based
    weights: list[list[float]]  # [query][key]; row i sums to 1, zero right of i
    all_weights: Any  # (layers, heads, tokens, tokens) tensor
    patterns: list["HeadPattern"]
    notes: list[str]

    @property
    def n_layers(self) -> int:
        return int(self.all_weights.shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.all_weights.shape[1])

    def to_dict(self) -> dict[str, Any]:
        """The API's value: ``{"tokens", "weights", "layer", "head"}`` plus the model's layer and head counts."""
        return {"tokens": list(self.labels), "weights": [list(r) for r in self.weights], "layer": self.layer,
                "head": self.head, "n_layers": self.n_layers, "n_heads": self.n_heads,
                "patterns": [p.to_dict() for p in self.patterns]}


@dataclass
class HeadPattern:
    """The head that most follows one reading habit (mean attention, 0-1)."""

    kind: str  # "previous" | "first" | "self" | "repeat"
    layer: int
    head: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "layer": self.layer, "head": self.head, "score": round(self.score, 4)}


def _clamp_index(value: Any, n: int, field_key: str, notes: list[str]) -> int:
    from lm_demo.locales import t

    try:
        x = float(value)
    except (TypeError, ValueError):
        x = 0.0
    if math.isnan(x):
        x = 0.0
    i = int(min(max(x, 0), n - 1))
    if i != x:
        notes.append(t("note.clamped", field=t(field_key), value=i, lo=0, hi=n - 1))
    return i


def head_patterns(weights: Any, ids: list[int]) -> list[HeadPattern]:
    """For each habit, the head that shows it most: look at the previous token, the first token,
    the token itself, or an earlier copy of the same token (only when the prompt repeats one)."""
    import torch

    n_layers, n_heads, n, _ = weights.shape
    if n < 2:
        return []
    rows = torch.arange(1, n)
    scores = {
        "previous": weights[:, :, rows, rows - 1].mean(-1),
        "first": weights[:, :, rows, 0].mean(-1),
        "self": weights[:, :, rows, rows].mean(-1),
    }
    ids_t = torch.tensor(ids)
    same = (ids_t[:, None] == ids_t[None, :]).tril(-1)  # earlier copies of the same token
    has = same.any(-1)
    if bool(has.any()):
        scores["repeat"] = (weights * same).sum(-1)[:, :, has].mean(-1)
    out = []
    for kind, s in scores.items():
        best = int(torch.argmax(s))
        out.append(HeadPattern(kind, best // n_heads, best % n_heads, float(s.flatten()[best])))
    return out


def attention(loaded: Any, prompt: str, layer: Any = 0, head: Any = 0) -> AttentionView:
    """The attention weights of ``layer``/``head`` (0-based, clamped with a note) over the prompt's tokens.

    Raises ``UserError`` when the model does not expose its attention weights.
    """
    cap, notes = capture(loaded, prompt)
    if cap.attentions is None:
        raise UserError("ins.err.no_attention", arch=type(loaded.model).__name__)
    n_layers, n_heads = int(cap.attentions.shape[0]), int(cap.attentions.shape[1])
    li = _clamp_index(layer, n_layers, "ins.field.layer", notes)
    hi = _clamp_index(head, n_heads, "ins.field.head", notes)
    w = cap.attentions[li, hi]
    return AttentionView(cap.labels, li, hi, w.tolist(), cap.attentions, head_patterns(cap.attentions, cap.ids),
                         notes)


# --------------------------------------------------------------------------- logit lens
@dataclass
class Lens:
    """Top token per layer and position; layer 0 = embeddings, the last = the model's output."""

    labels: list[str]  # the prompt's tokens
    top_ids: list[list[int]]  # [layer][position]
    top_labels: list[list[str]]
    top_probs: list[list[float]]
    final_probs: list[list[float]]  # [layer][position]: probability of the output layer's top token there
    last_top: list[list[tuple[int, str, float]]]  # [layer]: the LENS_TOP best (id, label, prob) at the last position
    prompt_text: str = ""  # the prompt as analysed (its last MAX_TOKENS tokens)
    notes: list[str] = field(default_factory=list)

    @property
    def n_layers(self) -> int:
        return len(self.top_ids) - 1

    def to_dict(self) -> dict[str, Any]:
        """The API's value: the prediction after the prompt per layer (the last is the output), per-position too."""
        last = len(self.labels) - 1
        layers = []
        for i in range(len(self.top_ids)):
            layers.append({
                "layer": i,
                "name": "embeddings" if i == 0 else ("output" if i == self.n_layers else f"after block {i - 1}"),
                "top_token": self.top_labels[i][last],
                "top_id": self.top_ids[i][last],
                "top_prob": self.top_probs[i][last],
                "final_token_prob": self.final_probs[i][last],
                "top": [{"token": lab, "id": tid, "prob": p} for tid, lab, p in self.last_top[i]],
                "positions": [{"top_token": lab, "top_id": tid, "top_prob": p}
                              for lab, tid, p in zip(self.top_labels[i], self.top_ids[i], self.top_probs[i])],
            })
        return {"tokens": list(self.labels), "layers": layers, "n_layers": self.n_layers}

    def settled_at(self) -> int:
        """The first layer from which the prediction after the prompt stays the output's."""
        last = len(self.labels) - 1
        final = self.top_ids[-1][last]
        first = len(self.top_ids) - 1
        for i in range(len(self.top_ids) - 1, -1, -1):
            if self.top_ids[i][last] != final:
                break
            first = i
        return first


def final_norm(model: Any) -> Any:
    """The final layer norm of a causal LM (GPT-2/GPT-Neo ``ln_f``, Llama ``norm``...), or None."""
    base = getattr(model, "base_model", model)
    for name in FINAL_NORM_NAMES:
        mod = getattr(base, name, None)
        if mod is not None and callable(mod):
            return mod
    return None


def _lens_rows(model: Any, cap: Capture) -> Any:
    """The residual stream of every layer and position as the output head sees it: (layers + 1, tokens, width),
    float32 on the model's device (the last layer as transformers returns it: already normalised)."""
    import torch

    norm = final_norm(model)
    if norm is None:
        raise UserError("ins.err.no_lens", arch=type(model).__name__)
    param = next(model.parameters())
    n = cap.n_layers
    inner = norm(torch.stack(cap.hidden[:n]).to(param.device, param.dtype)).float()
    return torch.cat([inner, cap.hidden[n].to(param.device).float()[None]]), norm


def logit_lens(loaded: Any, prompt: str) -> Lens:
    """The logit lens of ``prompt`` (see the module docstring); computed once per capture."""
    cap, notes = capture(loaded, prompt)
    if cap.lens is None:
        cap.lens = _compute_lens(loaded, cap)  # two threads may both compute it: same result
    lens = cap.lens
    return dataclasses.replace(lens, notes=notes)


def _compute_lens(loaded: Any, cap: Capture) -> Lens:
    import torch

    from lm_demo.vocab_projection import project, token_logits

    model, tok = loaded.model, loaded.tokenizer
    with torch.inference_mode():
        rows, norm = _lens_rows(model, cap)  # (L+1, T, d)
        n_rows, n_tok, width = rows.shape
        head = model.get_output_embeddings()
        weight, bias = head.weight, getattr(head, "bias", None)
        proj = project(rows.reshape(-1, width), weight, bias, LENS_TOP)
        top_ids, top_probs = proj.top_ids.view(n_rows, n_tok, -1), proj.top_probs.view(n_rows, n_tok, -1)
        own = torch.softmax(cap.final_logits[None], dim=-1)[0]
        # transformers hands the last hidden state over already normalised; if a model did not, its row is
        # normalised here (seen on its logits: the row's best logit must be the model's own)
        best = float(torch.log(top_probs[-1, -1, 0]) + proj.lse.view(n_rows, n_tok)[-1, -1])
        if abs(best - float(cap.final_logits.max())) > 1e-3 * max(1.0, abs(best)):
            rows[-1] = norm(rows[-1].to(next(model.parameters()).dtype)).float()
            fixed = project(rows[-1], weight, bias, LENS_TOP)
            top_ids[-1], top_probs[-1] = fixed.top_ids, fixed.top_probs
            proj.lse.view(n_rows, n_tok)[-1] = fixed.lse
        # At the last position the output row is the model's own distribution, bit for bit (what
        # "Siguiente token" shows), not a recomputation.
        own_top = torch.topk(own, LENS_TOP)
        final_ids = top_ids[-1, :, 0].clone()  # the output's top token at each position...
        final_ids[-1] = own_top.indices[0].to(final_ids.device)
        # ... and its probability at every layer (row r = layer * tokens + position)
        t_logit = token_logits(rows.reshape(-1, width), weight, bias, final_ids.repeat(n_rows))
        final_prob = torch.exp(t_logit - proj.lse).view(n_rows, n_tok)
        ids_l, probs_l, final_l = top_ids.tolist(), top_probs.tolist(), final_prob.tolist()
    ids_l[-1][-1], probs_l[-1][-1] = own_top.indices.tolist(), own_top.values.tolist()
    final_l[-1][-1] = float(own_top.values[0])
    labels: dict[int, str] = {}

    def label(i: int) -> str:
        if i not in labels:
            labels[i] = token_label(tok, i)
        return labels[i]

    return Lens(
        labels=list(cap.labels),
        top_ids=[[cell[0] for cell in row] for row in ids_l],
        top_labels=[[label(cell[0]) for cell in row] for row in ids_l],
        top_probs=[[cell[0] for cell in row] for row in probs_l],
        final_probs=final_l,
        last_top=[[(i, label(i), p) for i, p in zip(ids_l[r][-1], probs_l[r][-1])] for r in range(n_rows)],
        prompt_text=tok.decode(cap.ids, clean_up_tokenization_spaces=False),
    )


# --------------------------------------------------------------------------- before / after
@dataclass
class LayerChange:
    """One lens row at the last position, in both models."""

    layer: int
    base_token: str | None
    base_prob: float | None
    tuned_token: str | None
    tuned_prob: float | None

    @property
    def changed(self) -> bool:
        return self.base_token is not None and self.tuned_token is not None and self.base_token != self.tuned_token


@dataclass
class InsideComparison:
    """The lens (and attention) of the same prompt in a base model and its fine-tune."""

    pair: Any  # compare.Pair
    lens_base: Lens
    lens_tuned: Lens
    attention_base: AttentionView | None
    attention_tuned: AttentionView | None
    rows: list[LayerChange]
    notes: list[str]

    @property
    def changed_layers(self) -> list[int]:
        return [r.layer for r in self.rows if r.changed]

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.pair.base, "tuned": self.pair.tuned, "changed_layers": self.changed_layers,
                "layers": [{"layer": r.layer, "base_token": r.base_token, "base_prob": r.base_prob,
                            "tuned_token": r.tuned_token, "tuned_prob": r.tuned_prob, "changed": r.changed}
                           for r in self.rows]}


def compare_inside(prompt: str, tuned: str | None = None, base: str | None = None, layer: Any = 0,
                   head: Any = 0) -> InsideComparison:
    """The lens of both models of ``compare.resolve_pair(tuned, base)``, layer by layer, plus one attention map each.

    Tokens are compared by their text, so two tokenizers may differ; models of
    different depth are aligned from the embeddings (rows the shallower model
    lacks stay empty).  Attention is left out (None) for a model that has none.
    """
    from lm_demo.compare import load_for_compare, resolve_pair

    pair = resolve_pair(tuned, base)
    loaded_base, loaded_tuned = load_for_compare(pair.base), load_for_compare(pair.tuned)
    lens_b, lens_t = logit_lens(loaded_base, prompt), logit_lens(loaded_tuned, prompt)
    views = []
    for loaded in (loaded_base, loaded_tuned):
        try:
            views.append(attention(loaded, prompt, layer, head))
        except UserError:
            views.append(None)
    rows = []
    for i in range(max(len(lens_b.top_ids), len(lens_t.top_ids))):
        b = (lens_b.top_labels[i][-1], lens_b.top_probs[i][-1]) if i < len(lens_b.top_ids) else (None, None)
        t_ = (lens_t.top_labels[i][-1], lens_t.top_probs[i][-1]) if i < len(lens_t.top_ids) else (None, None)
        rows.append(LayerChange(i, b[0], b[1], t_[0], t_[1]))
    notes = list(dict.fromkeys(lens_b.notes + lens_t.notes + [n for v in views if v for n in v.notes]))
    return InsideComparison(pair, lens_b, lens_t, views[0], views[1], rows, notes)
