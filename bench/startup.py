"""Seconds from ``python app.py`` to the first HTTP 200, offline, median of 3; and what
measuring the CPU kernels (``lm_demo.cpu_kernels``) adds to loading a model.

Why a script: start-up is what a teacher waits for in front of the class;
importing gradio+torch+transformers+datasets+plotly alone takes ~6 s here,
so the app imports torch/transformers only when a tab first needs them, and
loads the default model in a background thread once the page is served
(``ui.app.warm_up``): the kernel measurement happens there, after the first
HTTP 200, so it adds to when the first answer can come, not to the page.

Model loads run in fresh processes (nothing cached), alternating autotune on
and off (``LM_DEMO_CPU_AUTOTUNE=0``): the bundled model, and a GPT-2-small-
shaped model (124M, random init, saved once to a temporary folder) loaded
the same way.

Lines: ``load_s=`` / ``load_no_autotune_s=`` / ``autotune_s=`` for the bundled
model, the same with ``gpt2_small_`` for the big one, and last
``startup_s=<median>``.  Targets: startup <= 8; autotune a small part of a load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests import app_process  # noqa: E402  (imports nothing heavy)

LOAD_CODE = """
import json, sys, time
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from lm_demo.models import load_model
from lm_demo.fast_linear import kernel_report
m = load_model({name!r}, allow_any_path=True)
r = kernel_report(m.model)
print(json.dumps({{"load_s": m.load_seconds, "tune_s": r.seconds if r else 0.0,
                  "with_imports_s": time.perf_counter() - t0}}))
"""


def one_start(timeout: float = 120.0) -> float:
    """Seconds from starting ``app.py`` to its first HTTP 200."""
    t0 = time.perf_counter()
    proc, url = app_process.start_app()
    try:
        app_process.wait_http(url, timeout=timeout, proc=proc)
        return time.perf_counter() - t0
    finally:
        app_process.stop_app(proc)


def bare_imports() -> float:
    """Baseline in the same run: importing the heavy stack, which a naive app does first."""
    code = "import gradio, torch, transformers, datasets, plotly"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    return time.perf_counter() - t0


def one_load(name: str, autotune: bool) -> dict:
    """Load ``name`` in a fresh process; its load seconds and the kernel measurement's share."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", LM_DEMO_CPU_AUTOTUNE="1" if autotune else "0")
    out = subprocess.run([sys.executable, "-c", LOAD_CODE.format(repo=str(REPO), name=name)], env=env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def load_costs(label: str, name: str, runs: int) -> None:
    on, off = [], []
    for _ in range(runs):  # alternated: load from other processes hits both alike
        on.append(one_load(name, True))
        off.append(one_load(name, False))
    load_on = statistics.median(r["load_s"] for r in on)
    load_off = statistics.median(r["load_s"] for r in off)
    tune = statistics.median(r["tune_s"] for r in on)
    print(f"{label}: load {load_on:.2f} s with autotune ({tune:.2f} s of it measuring kernels), "
          f"{load_off:.2f} s without (median of {runs})")
    prefix = "" if label == "bundled" else f"{label}_"
    print(f"{prefix}load_s={load_on:.2f}")
    print(f"{prefix}load_no_autotune_s={load_off:.2f}")
    print(f"{prefix}autotune_s={tune:.2f}")


def save_gpt2_small(folder: Path) -> None:
    """A GPT-2-small-shaped checkpoint (random init) with the bundled tokenizer, to load like a real one."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from lm_demo.models import bundled_model_path

    torch.manual_seed(0)
    GPT2LMHeadModel(GPT2Config(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)) \
        .save_pretrained(folder)
    AutoTokenizer.from_pretrained(bundled_model_path()).save_pretrained(folder)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-gpt2-small", action="store_true", help="only the bundled model's load")
    args = ap.parse_args()
    runs = args.runs
    print(f"load_avg_start={os.getloadavg()[0]:.2f}")
    load_costs("bundled", "gpt2-es-tiny", runs)
    if not args.skip_gpt2_small:
        with tempfile.TemporaryDirectory() as tmp:
            save_gpt2_small(Path(tmp))
            load_costs("gpt2_small", tmp, runs)
    base = statistics.median(bare_imports() for _ in range(runs))
    print(f"baseline: import gradio+torch+transformers+datasets+plotly = {base:.2f} s (median of {runs})")
    times = [one_start() for _ in range(runs)]
    for i, s in enumerate(times, 1):
        print(f"run {i}: first HTTP 200 after {s:.2f} s")
    med = statistics.median(times)
    print(f"ratio to bare heavy imports: {med / base:.2f}")
    print(f"load_avg_end={os.getloadavg()[0]:.2f}")
    print(f"startup_s={med:.2f}")


if __name__ == "__main__":
    main()
