"""What a class should know about a model: size, configuration, module tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ModelSummary:
    name: str
    architecture: str
    parameters: int
    trainable: int
    layers: int | None
    width: int | None
    heads: int | None
    context: int | None
    vocab: int
    config: dict[str, Any]
    module_tree: str  # ``print(model)``: the architecture, as the seeds show it
    named_modules: list[tuple[str, str, int]]  # (name, class, own parameters); the root's name is ""


def count_parameters(model: Any) -> int:
    """Unique parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def summarize(loaded: Any) -> ModelSummary:
    model = loaded.model
    cfg = model.config
    get = lambda *names: next((getattr(cfg, n) for n in names if getattr(cfg, n, None)), None)  # noqa: E731
    params = {id(p): p for p in model.parameters()}.values()
    named = [
        (name, mod._get_name(), sum(p.numel() for p in mod.parameters(recurse=False)))
        for name, mod in model.named_modules()
    ]
    return ModelSummary(
        name=loaded.name,
        architecture=type(model).__name__,
        parameters=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
        layers=get("n_layer", "num_hidden_layers", "num_layers"),
        width=get("n_embd", "hidden_size"),
        heads=get("n_head", "num_attention_heads", "num_heads"),
        context=get("n_positions", "max_position_embeddings"),
        vocab=loaded.vocab_size,
        config=cfg.to_diff_dict(),
        module_tree=str(model),
        named_modules=named,
    )


def human_count(n: int, lang: str | None = None) -> str:
    """1234567 -> '1,23 M' in Spanish, '1.23 M' in English (default: the current language)."""
    from lm_demo.locales.numbers import number

    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{number(n / div, '.2f', lang)} {unit}"
    return str(n)


def kernel_report(loaded: Any) -> Any:
    """The CPU kernels measured and chosen when ``loaded`` was loaded (``cpu_host.KernelReport``).

    None for a model that is not a CPU inference copy (on a GPU, cuBLAS serves every shape).
    """
    from lm_demo.fast_linear import kernel_report as report_of

    return report_of(loaded.model)


def kernel_rows(report: Any) -> list[list[Any]]:
    """One row per weight shape: [``in→out``, layers, then per row case (kernel, ms, speedup vs F.linear)].

    ``ms`` is the fastest timed pass over the sampled layers of that shape
    (``cpu_kernels.tune_shape``); speedup is ``F.linear``'s time over the chosen kernel's.
    Both are None for a shape left on the fixed rule (the time budget ran out first).
    """
    rows = []
    for plan, count in report.shapes:
        row: list[Any] = [f"{plan.in_features}→{plan.out_features}", count]
        for c in plan.cases:
            row.append((c.chosen, c.chosen_ms, c.speedup_vs_default))
        rows.append(row)
    return rows
