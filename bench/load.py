"""A classroom hitting the app at once, while a training job runs.

Starts ``app.py`` offline on a free port (with a private checkpoints folder),
starts a training job through the ``train_start`` API, connects 20
``gradio_client`` clients, then lets them all call at the same moment, 10
calls each, alternating ``next_token`` and ``decode_steps`` on the bundled
model.  As a baseline it first times
``next_token`` alone (one client, no training) in the same run.

The clients run on the app's own 2 cores, so they are set up not to steal
its CPU where a browser wouldn't: one shared TLS context (gradio_client
otherwise builds one per request, 80 % of its CPU), no eager download of the
CSV each answer links to.  The latency measured is still each call's, end to
end, through gradio_client.

Prints per-endpoint latencies and, last, ``errors=<n> p95_ms=<x>`` where
p95 is the 95th percentile of ``next_token`` latency under load.
Target on a 2-core machine: errors=0 and p95_ms <= 1000.
"""

from __future__ import annotations

import argparse
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lm_demo import app_process  # noqa: E402

TLS = ssl.create_default_context()  # shared by every client (see below)
PROMPTS = ["Había una vez", "En el silencio de la noche", "Había una vez un poeta que soñaba", "El caballero"]


def start_app(checkpoints: str) -> tuple[subprocess.Popen, str]:
    """The app on the bundled model, with a private checkpoints folder, serving."""
    proc, url = app_process.start_app(["--model", "gpt2-es-tiny"], env={"LM_DEMO_CHECKPOINTS": checkpoints})
    try:
        app_process.wait_http(url, timeout=180, proc=proc, poll_s=0.3)
    except Exception:
        app_process.stop_app(proc)
        raise
    return proc, url


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--calls", type=int, default=10)
    args = ap.parse_args()

    from gradio_client import Client

    with tempfile.TemporaryDirectory() as ckpts:
        proc, url = start_app(ckpts)
        try:
            warm = Client(url, verbose=False, download_files=False, ssl_verify=TLS)  # type: ignore[arg-type]
            warm.predict(PROMPTS[0], api_name="/next_token")  # loads the model
            warm.predict(PROMPTS[0], api_name="/decode_steps")
            base = []
            for i in range(20):
                t0 = time.perf_counter()
                warm.predict(PROMPTS[i % len(PROMPTS)], api_name="/next_token")
                base.append((time.perf_counter() - t0) * 1000)
            print(f"baseline next_token (1 client, no training): median {statistics.median(base):.0f} ms")

            job_id = warm.predict(api_name="/train_start")[0]  # (job id, status, timer)
            print(f"training job started: {job_id}")
            time.sleep(3)

            lat: dict[str, list[float]] = {"next_token": [], "decode_steps": []}
            when: list[tuple[float, float]] = []  # (seconds into the run, ms) of each next_token call
            errors: list[str] = []
            lock = threading.Lock()

            # gradio_client opens a new httpx client per request, and each builds a TLS context (loading the
            # CA bundle) even for plain http: measured, 80 % of the clients' CPU, on the same 2 cores as the
            # app.  One shared context (the app is plain http on localhost) leaves the CPU to the app.
            # Clients don't download the CSV each answer links to (gradio_client does by default, one more
            # request per call); a student's browser fetches it only when its button is clicked.
            # Every client connects first (gradio_client fetches and parses the app's config, ~0.3 MB), then
            # all start calling at the same moment: the latency measured is the calls', not the connections'
            # (20 threads parsing configs in this process would otherwise be timed as server latency).
            clients: list = [None] * args.clients
            start = threading.Barrier(args.clients + 1)

            def connect(idx: int) -> None:
                try:
                    clients[idx] = Client(url, verbose=False, download_files=False, ssl_verify=TLS)  # type: ignore[arg-type]
                except Exception as e:  # noqa: BLE001
                    with lock:
                        errors.append(f"connect: {e}")

            def client_loop(idx: int) -> None:
                start.wait()
                c = clients[idx]
                if c is None:
                    return
                for j in range(args.calls):
                    api = "next_token" if (idx + j) % 2 == 0 else "decode_steps"
                    t0 = time.perf_counter()
                    try:
                        c.predict(PROMPTS[(idx + j) % len(PROMPTS)], api_name=f"/{api}")
                        with lock:
                            lat[api].append((time.perf_counter() - t0) * 1000)
                            if api == "next_token":
                                when.append((t0 - run_t0, lat[api][-1]))
                    except Exception as e:  # noqa: BLE001
                        with lock:
                            errors.append(f"{api}: {type(e).__name__}: {e}")

            connecting = [threading.Thread(target=connect, args=(i,)) for i in range(args.clients)]
            for th in connecting:
                th.start()
            for th in connecting:
                th.join(timeout=300)
            threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
            for th in threads:
                th.start()
            t0 = run_t0 = time.perf_counter()
            start.wait()
            for th in threads:
                th.join(timeout=600)
            wall = time.perf_counter() - t0
            training_running = str(warm.predict(job_id, False, api_name="/train_status")[0])
            try:
                warm.predict(job_id, api_name="/train_stop")
            except Exception as e:  # noqa: BLE001 - the job may have ended on its own
                print("stop:", e)
            for api, xs in lat.items():
                print(f"{api}: n={len(xs)} median {statistics.median(xs) if xs else float('nan'):.0f} ms "
                      f"p95 {percentile(xs, 0.95):.0f} ms")
            print(f"{args.clients} clients x {args.calls} calls in {wall:.1f} s; status at the end: "
                  f"{training_running[:100]!r}")
            slow = sorted(when, key=lambda x: -x[1])[:5]
            print("slowest next_token calls (s into the run: ms): "
                  + ", ".join(f"{at:.1f}: {ms:.0f}" for at, ms in slow))
            for e in errors[:5]:
                print("error:", e)
            p95 = percentile(lat["next_token"], 0.95)
            print(f"p95 / baseline median: {p95 / statistics.median(base):.1f}x")
            print(f"errors={len(errors)} p95_ms={p95:.0f}")
        finally:
            app_process.stop_app(proc)


if __name__ == "__main__":
    main()
