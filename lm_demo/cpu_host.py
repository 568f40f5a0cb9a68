"""This machine's CPU as the kernel choice and the model panel see it, and what the panel reports.

Why a module of its own: ``cpu_kernels`` measures kernels, ``fast_linear``
installs them, and both, with the model panel, need the same facts about the
host: its name and vector extensions (shown, never decided on), whether
oneDNN runs bfloat16 here (``bf16_support``), and the last-level cache that
sets how many weights a measurement streams (``sample_bytes``).
``KernelReport`` is what a model's load tells the panel and the logs.
"""

from __future__ import annotations

import functools
import platform
from dataclasses import dataclass, field
from typing import Any

import torch

#: Weights timed per shape, at least: twice the 32 MB L3 of the CPUs we met (see ``sample_bytes``).
MIN_SAMPLE_BYTES = 64 * 2**20


@functools.lru_cache(maxsize=1)
def cpu_name() -> str:
    """The CPU's model name as the OS reports it (``/proc/cpuinfo``), for the panel and logs."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            info = f.read()
    except OSError:
        info = ""
    fields = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in info.splitlines()) if v
    )
    name = fields.get("model name") or platform.processor() or "CPU"
    if fields.get("cpu family") and fields.get("model"):
        name += f" (family {fields['cpu family']} model {fields['model']})"
    return name


@functools.lru_cache(maxsize=1)
def cpu_features() -> tuple[str, ...]:
    """The vector/matrix extensions that matter here, as the OS reports them (shown, never decided on)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    names = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "AVX512-BF16", "amx_bf16": "AMX-BF16",
             "amx_int8": "AMX-INT8", "avx512_vnni": "AVX512-VNNI"}
    return tuple(label for flag, label in names.items() if flag in flags)


@functools.lru_cache(maxsize=1)
def bf16_support() -> tuple[bool, str]:
    """Whether oneDNN runs bfloat16 matrix products on this CPU; else why not (``no_onednn``/``no_bf16``).

    oneDNN's own answer (``torch.ops.mkldnn._is_mkldnn_bf16_supported``), not a flag list:
    it knows which instruction sets it has kernels for (AVX-512 or AMX).  Whether bf16 is
    *faster* is then measured like every other kernel.
    """
    if not torch.backends.mkldnn.is_available():
        return False, "no_onednn"
    try:
        ok = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001 - an old or unusual build
        ok = False
    return (True, "") if ok else (False, "no_bf16")


@functools.lru_cache(maxsize=1)
def sample_bytes() -> int:
    """Weight bytes timed per shape: twice the last-level cache (Linux sysfs), at least ``MIN_SAMPLE_BYTES``.

    So a sample streams from memory wherever the model's weights do (a Xeon's L3 can hold 100 MB+).
    """
    best = 0
    for index in ("index3", "index2"):
        try:
            text = open(f"/sys/devices/system/cpu/cpu0/cache/{index}/size", encoding="ascii").read().strip()
        except OSError:
            continue
        mult = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:].upper(), 1)
        try:
            best = max(best, int(text.rstrip("KMGkmg")) * mult)
        except ValueError:
            continue
    return max(MIN_SAMPLE_BYTES, 2 * best)


@dataclass
class KernelReport:
    """What the model panel and the logs say about a model's CPU kernels."""

    cpu: str
    features: tuple[str, ...]
    capability: str  # PyTorch's own: the ATen vector kernels it dispatches to
    threads: int
    autotuned: bool
    bf16_requested: bool
    bf16_available: bool
    bf16_reason: str  # why bf16 is unavailable: "no_onednn" | "no_bf16" ("" when it is available)
    shapes: list[tuple[Any, int]] = field(default_factory=list)  # (cpu_kernels.ShapePlan, layers of that shape)
    seconds: float = 0.0  # tuning time at this load (0 when every shape came from the cache)
    bf16_layers: int = 0  # layers that use a bf16 kernel for some row case
    unmeasured_layers: int = 0  # layers left on the fixed rule because the time budget ran out
    copy_bytes: int = 0  # weight copies the chosen kernels hold beside the parameters
    model_bytes: int = 0  # the parameters themselves
    max_prob_diff: float | None = None  # bf16 vs fp32, largest |p| difference on a fixed prompt
    top1_agree: bool | None = None
    prob_diff_prompt: str = ""

    @property
    def bf16_active(self) -> bool:
        return self.bf16_layers > 0

    def lines(self) -> list[str]:
        """Plain-text summary (benchmarks, logs): the host, then one line per weight shape."""
        out = [f"cpu={self.cpu} features={','.join(self.features) or '-'} torch_capability={self.capability} "
               f"threads={self.threads} autotune={'on' if self.autotuned else 'off'} tune_s={self.seconds:.2f} "
               f"bf16={'on' if self.bf16_active else 'requested-unused' if self.bf16_requested else 'off'} "
               f"weight_copies_mb={self.copy_bytes / 2**20:.0f} model_mb={self.model_bytes / 2**20:.0f}"]
        out += [plan.describe(count) for plan, count in self.shapes]
        if self.max_prob_diff is not None:
            out.append(f"bf16_max_prob_diff={self.max_prob_diff:.2e} top1_agree={self.top1_agree}")
        return out


def host_report(autotuned: bool, bf16: bool) -> KernelReport:
    ok, reason = bf16_support()
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        capability = "?"
    return KernelReport(cpu_name(), cpu_features(), capability, torch.get_num_threads(), autotuned, bf16, ok, reason)


__all__ = ["cpu_name", "cpu_features", "bf16_support", "sample_bytes", "MIN_SAMPLE_BYTES", "KernelReport",
           "host_report"]
