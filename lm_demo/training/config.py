"""What one training run needs: ``TrainConfig``, its clamps, and the one-click recipes.

Why most numbers may be ``None``: ``None`` means "automatic", filled in by
``lm_demo.training.defaults.resolve`` once the corpus is loaded and counted
(a 30-line upload and the whole Quijote need different steps, blocks and
evaluation splits).  The tab and the CLI both leave them ``None`` unless the
user sets them, so they share the same defaults.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from lm_demo.corpora import CorpusSpec
from lm_demo.errors import UserError
from lm_demo.locales import t

RECIPES = ("packed", "padded")
#: Which model a run saves: the last one (default) or the one with the lowest evaluation loss.
KEEP_CHOICES = ("final", "best")
DEFAULT_SAMPLE_PROMPT = "Había una vez"
DEFAULT_BASE_MODEL = "gpt2-es-tiny"

#: Fields ``defaults.resolve`` fills when they are None (the rest always has a value).
AUTO_FIELDS = ("block_size", "epochs", "learning_rate", "batch_size", "warmup_steps", "eval_steps", "max_steps",
               "eval_fraction", "save_every_steps")

# (name, lo, hi, cast) for every clamped number
_RANGES: tuple[tuple[str, float, float, type], ...] = (
    ("block_size", 8, 2048, int), ("epochs", 0.01, 100, float), ("learning_rate", 0.0, 1e-1, float),
    ("batch_size", 1, 512, int), ("grad_accum", 1, 256, int), ("weight_decay", 0.0, 1.0, float),
    ("warmup_steps", 0, 100_000, int), ("eval_steps", 1, 100_000, int), ("max_steps", 0, 1_000_000, int),
    ("seed", 0, 2**31 - 1, int), ("early_stopping_patience", 0, 100, int), ("eval_fraction", 0.01, 0.5, float),
    ("max_eval_blocks", 1, 10_000, int), ("logging_steps", 0, 100_000, int), ("sample_max_new_tokens", 1, 200, int),
    ("n_layer", 1, 24, int), ("n_head", 1, 32, int), ("n_embd", 8, 2048, int), ("num_threads", 0, 256, int),
    ("save_every_steps", 0, 1_000_000, int), ("save_every_minutes", 0.0, 24 * 60.0, float),
    ("n_positions", 16, 8192, int),
)


@dataclass
class TrainConfig:
    """Everything one training run needs; ``validated()`` applies the clamps.

    ``recipe="packed"`` joins texts with eos and cuts blocks of
    ``block_size`` (no padding, eos is learned); ``"padded"`` is the seeds'
    recipe: each text truncated/padded to ``block_size`` with pad == eos and
    every eos label masked, kept for the comparison in class.
    ``keep``: "final" saves the model as it is at the end; "best" the one
    with the lowest evaluation loss (which, on a tiny corpus, may be the
    untouched base model: hence not the default).
    ``save_every_steps`` / ``save_every_minutes``: how often a resumable
    checkpoint (model, optimiser, scheduler, RNG) is written; 0 = never.
    """

    corpus: CorpusSpec = field(default_factory=CorpusSpec)
    base_model: str = DEFAULT_BASE_MODEL
    from_scratch: bool = False
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    n_positions: int | None = None  # from scratch: the context (None: the block size, at least 64)
    recipe: str = "packed"
    block_size: int | None = None
    epochs: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    grad_accum: int = 1
    weight_decay: float = 0.01
    warmup_steps: int | None = None
    eval_steps: int | None = None
    max_steps: int | None = None  # 0 = run the epochs
    seed: int = 42
    early_stopping_patience: int = 0  # evaluations without improvement; 0 = off
    eval_fraction: float | None = None
    max_eval_blocks: int = 64
    logging_steps: int = 0  # 0 = automatic
    keep: str = "final"
    save_every_steps: int | None = None
    save_every_minutes: float = 5.0
    sample_prompt: str = DEFAULT_SAMPLE_PROMPT
    sample_max_new_tokens: int = 40
    samples: bool = True
    output_name: str = ""  # "" = automatic (corpus + date)
    save: bool = True
    num_threads: int = 0  # 0 = leave torch's default
    progress_bar: bool = False

    def validated(self) -> tuple["TrainConfig", list[str]]:
        """The config with numbers in range (None = automatic stays None); notes say what was clamped."""
        notes: list[str] = []
        c = replace(self)
        for name, lo, hi, cast in _RANGES:
            raw = getattr(c, name)
            if raw is None and (name in AUTO_FIELDS or name == "n_positions"):
                continue
            try:
                v = cast(float(raw)) if cast is int else cast(raw)
                if isinstance(v, float) and math.isnan(v):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise UserError("err.bad_number", field=t(f"train.hp.{name}")) from None
            nv = min(max(v, cast(lo)), cast(hi))
            if nv != v:
                notes.append(t("note.clamped", field=t(f"train.hp.{name}"), value=nv, lo=lo, hi=hi))
            setattr(c, name, nv)
        if c.recipe not in RECIPES:
            raise UserError("train.err.bad_recipe", recipe=c.recipe)
        if c.keep not in KEEP_CHOICES:
            raise UserError("train.err.bad_keep", keep=c.keep)
        if c.from_scratch and c.n_embd % c.n_head:
            nv = max(c.n_head, (c.n_embd // c.n_head) * c.n_head)
            notes.append(t("train.note.width_rounded", width=nv, heads=c.n_head))
            c.n_embd = nv
        c.base_model = (c.base_model or "").strip() or DEFAULT_BASE_MODEL
        c.sample_prompt = (c.sample_prompt or "").strip() or DEFAULT_SAMPLE_PROMPT
        return c, notes

    def automatic(self) -> list[str]:
        """The fields left to ``defaults.resolve``."""
        return [f for f in AUTO_FIELDS if getattr(self, f) is None]

    def hyperparameters(self) -> dict:
        """The config minus the corpus, JSON-friendly (for metadata)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "corpus"}
        d.pop("progress_bar", None)
        return d

    def to_json(self) -> dict:
        """Everything, the corpus spec included (for a run's ``run.json``)."""
        d = asdict(self)
        d["corpus"]["exclude_categories"] = list(self.corpus.exclude_categories)
        return d

    @classmethod
    def from_json(cls, data: dict) -> "TrainConfig":
        """The inverse of ``to_json`` (unknown keys are ignored: an older run.json still loads)."""
        known = {f.name for f in fields(cls)}
        spec_known = {f.name for f in fields(CorpusSpec)}
        raw = dict(data.get("corpus") or {})
        spec = CorpusSpec(**{k: v for k, v in raw.items() if k in spec_known})
        spec.exclude_categories = tuple(spec.exclude_categories or ())
        return cls(**{k: v for k, v in data.items() if k in known and k != "corpus"}, corpus=spec)


#: One-click hyperparameter recipes: the seeds' (values as in their scripts, plus our packing).
#: "auto" leaves every adaptive number to ``defaults.resolve`` (the tab's and the CLI's default).
HP_PRESETS: dict[str, dict[str, Any]] = {
    "auto": dict(epochs=None, learning_rate=None, batch_size=None, grad_accum=1, block_size=None,
                 weight_decay=0.01, warmup_steps=None, eval_steps=None, max_steps=None, early_stopping_patience=0),
    "seed000": dict(epochs=3.0, learning_rate=5e-5, batch_size=8, grad_accum=1, block_size=256,
                    weight_decay=0.01, warmup_steps=100, eval_steps=200, max_steps=0, early_stopping_patience=0),
    "seed001": dict(epochs=2.0, learning_rate=5e-5, batch_size=2, grad_accum=4, block_size=128,
                    weight_decay=0.0, warmup_steps=0, eval_steps=50, max_steps=0, early_stopping_patience=0),
    "seed002": dict(epochs=3.0, learning_rate=5e-5, batch_size=2, grad_accum=1, block_size=512,
                    weight_decay=0.01, warmup_steps=500, eval_steps=500, max_steps=0, early_stopping_patience=0),
    "seed003": dict(epochs=5.0, learning_rate=5e-4, batch_size=16, grad_accum=1, block_size=128,
                    weight_decay=0.1, warmup_steps=100, eval_steps=100, max_steps=0, early_stopping_patience=0),
    "seed004": dict(epochs=4.0, learning_rate=5e-5, batch_size=4, grad_accum=2, block_size=256,
                    weight_decay=0.01, warmup_steps=50, eval_steps=100, max_steps=0, early_stopping_patience=2),
}


__all__ = ["TrainConfig", "RECIPES", "KEEP_CHOICES", "AUTO_FIELDS", "HP_PRESETS", "DEFAULT_SAMPLE_PROMPT",
           "DEFAULT_BASE_MODEL"]
