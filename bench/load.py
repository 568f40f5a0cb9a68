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

Prints per-endpoint latencies and ``errors=<n> p95_ms=<x>`` where
p95 is the 95th percentile of ``next_token`` latency under load.
Target on a 2-core machine: errors=0 and p95_ms <= 1000.

Then memory (the training job stopped first): ``--bursts`` bursts of
``--burst-clients`` new clients (new sessions, each one ``next_token`` and
one ``decode_steps``), the app's RSS after the first and the last burst and
after ``--idle-s`` seconds without requests (default 5 minutes; shorter for
a quick run); and what a new session costs: RSS per 100 sessions opened one
after another, beside the same measure on a minimal Gradio app (one
textbox) as the baseline.  Last line: ``memory: first_burst=<MiB>
after_bursts=<MiB> idle=<MiB> idle_vs_first=<+MiB> per_100_sessions=<MiB>``.
Target: idle_vs_first <= +150 MiB; per_100_sessions near the minimal app's.
``--memory-only`` skips the latency part.
"""

from __future__ import annotations

import argparse
import os
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

from tests import app_process  # noqa: E402

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


# The smallest Gradio app that answers through the queue: the per-session baseline.
MINIMAL_APP = """
import os, gradio as gr
with gr.Blocks() as demo:
    t, o = gr.Textbox(), gr.Textbox()
    gr.Button().click(lambda s: s[::-1], t, o, api_name="echo")
demo.queue().launch(server_port=int(os.environ["GRADIO_SERVER_PORT"]), prevent_thread_lock=True)
demo.block_thread()
"""


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux ``/proc``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def new_client(url: str) -> object:
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, ssl_verify=TLS)  # type: ignore[arg-type]


def burst(url: str, n: int, errors: list[str]) -> None:
    """``n`` new clients at once, each a new session calling ``next_token`` then ``decode_steps``."""
    def one(i: int) -> None:
        try:
            c = new_client(url)
            c.predict(PROMPTS[i % len(PROMPTS)], api_name="/next_token")
            c.predict(PROMPTS[(i + 1) % len(PROMPTS)], api_name="/decode_steps")
        except Exception as e:  # noqa: BLE001
            errors.append(f"burst: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=900)


def session_cost(url: str, pid: int, n: int, api: str, args: tuple, groups: int = 5) -> float:
    """MiB of RSS per 100 new sessions, each one client making one ``api`` call, one after another.

    The median over ``groups`` groups of sessions: the app hands freed memory
    back every few minutes, which would show as one group's drop.
    """
    for _ in range(10):  # warm: first calls allocate caches that stay
        new_client(url).predict(*args, api_name=api)
    time.sleep(1)
    size = max(1, n // groups)
    steps = []
    for _ in range(groups):
        before = rss_mib(pid)
        for _ in range(size):
            new_client(url).predict(*args, api_name=api)
        steps.append((rss_mib(pid) - before) / size * 100)
    return statistics.median(steps)


def minimal_app_session_cost(n: int) -> float:
    """``session_cost`` of ``MINIMAL_APP`` (a separate process, like the app)."""
    port = app_process.free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen([sys.executable, "-c", MINIMAL_APP], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        app_process.wait_http(url, timeout=120, proc=proc, poll_s=0.3)
        return session_cost(url, proc.pid, n, "/echo", ("hola",))
    finally:
        app_process.stop_app(proc)


def memory_run(url: str, pid: int, args: argparse.Namespace) -> None:
    errors: list[str] = []
    # First what one new session costs (before the bursts: their freed memory, handed back to the OS every
    # few minutes, would blur a figure this small).
    per100 = session_cost(url, pid, args.sessions, "/next_token", (PROMPTS[0],))
    print(f"RSS per 100 new sessions: {per100:.1f} MiB ({args.sessions} sessions, one next_token call each)")
    if not args.no_reference:
        ref = minimal_app_session_cost(args.sessions)
        print(f"  minimal Gradio app: {ref:.1f} MiB per 100 sessions")
    rss = [rss_mib(pid)]
    print(f"memory: RSS before the bursts {rss[0]:.0f} MiB")
    for b in range(args.bursts):
        t0 = time.perf_counter()
        burst(url, args.burst_clients, errors)
        rss.append(rss_mib(pid))
        print(f"  burst {b + 1}/{args.bursts} ({args.burst_clients} new clients, {time.perf_counter() - t0:.0f} s): "
              f"RSS {rss[-1]:.0f} MiB")
    print(f"  idle for {args.idle_s:.0f} s ...", flush=True)
    time.sleep(args.idle_s)
    idle = rss_mib(pid)
    for e in errors[:5]:
        print("error:", e)
    print(f"memory: first_burst={rss[1]:.0f} after_bursts={rss[-1]:.0f} idle={idle:.0f} "
          f"idle_vs_first={idle - rss[1]:+.0f} per_100_sessions={per100:.1f} errors={len(errors)}")


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))] if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--bursts", type=int, default=10, help="memory: bursts of new clients")
    ap.add_argument("--burst-clients", type=int, default=30, help="memory: new clients per burst")
    ap.add_argument("--idle-s", type=float, default=300, help="memory: idle wait before the last reading")
    ap.add_argument("--sessions", type=int, default=200, help="memory: sessions for the per-100 figure")
    ap.add_argument("--no-reference", action="store_true", help="memory: skip the minimal Gradio app baseline")
    ap.add_argument("--memory-only", action="store_true", help="skip the latency part")
    args = ap.parse_args()

    from gradio_client import Client

    with tempfile.TemporaryDirectory() as ckpts:
        proc, url = start_app(ckpts)
        try:
            warm = Client(url, verbose=False, download_files=False, ssl_verify=TLS)  # type: ignore[arg-type]
            if args.memory_only:
                warm.predict(PROMPTS[0], api_name="/next_token")  # loads the model
                warm.predict(PROMPTS[0], api_name="/decode_steps")
                memory_run(url, proc.pid, args)
                return
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
            time.sleep(3)  # the stopped job ends at its next step
            memory_run(url, proc.pid, args)
        finally:
            app_process.stop_app(proc)


if __name__ == "__main__":
    main()
