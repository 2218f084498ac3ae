#!/usr/bin/env python3
"""A bounded load test of the HTTP service on loopback.

    python scripts/load.py [--url http://127.0.0.1:8080 | (starts its own server)] [--seconds 10]
                           [--concurrency 8] [--batch-size 100]

Two scenarios, each run for ``--seconds`` by ``--concurrency`` client threads (one keep-alive
httpx connection each), cycling over the shipped example cases (read from ``examples/``: the service
serves them with ID numbers masked, so they would not validate):

* ``evaluate``  — one case per ``POST /v1/evaluate``;
* ``batch``     — ``--batch-size`` cases per ``POST /v1/evaluate:batch`` (JSON array → NDJSON).

Prints requests/s, cases/s and p50/p99 latency per scenario.  Every request has a timeout and
every scenario a deadline, so the script always ends.  Without ``--url`` it starts
``python -m xueji_policy serve`` on a free port and stops it at the end.  The clients run in
this process: on a small machine they share the CPUs with the server, so the numbers are a
floor, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Result:
    name: str
    cases_per_request: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    first_error: str = ""

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, str, object]:
    port = free_port()
    log = tempfile.TemporaryFile()
    # One client IP drives all the load: the per-client rate limit is off for this measurement.
    proc = subprocess.Popen([sys.executable, "-m", "xueji_policy", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--rate-limit", "0"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read().decode(errors='replace')[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop_server(proc)
    raise SystemExit("the server did not become ready in 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def run(url: str, name: str, path: str, bodies: list[bytes], headers: dict, cases_per_request: int,
        seconds: float, concurrency: int, check) -> Result:
    result = Result(name, cases_per_request)
    lock = threading.Lock()
    deadline_box: list[float] = []
    start_barrier = threading.Barrier(concurrency + 1)

    def worker(k: int) -> None:
        lat: list[float] = []
        errors, first = 0, ""
        with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
            client.get("/healthz")  # connect before the clock starts
            start_barrier.wait()
            deadline = deadline_box[0]
            i = k
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline:
                    break
                try:
                    r = client.post(path, content=bodies[i % len(bodies)])
                    ok = r.status_code == 200 and check(r)
                    if not ok and not first:
                        first = f"{r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as e:
                    ok = False
                    if not first:
                        first = f"{type(e).__name__}: {e}"
                t1 = time.perf_counter()
                if ok:
                    lat.append(t1 - t0)
                else:
                    errors += 1
                i += concurrency
        with lock:
            result.latencies.extend(lat)
            result.errors += errors
            if first and not result.first_error:
                result.first_error = first

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(concurrency)]
    for t in threads:
        t.start()
    deadline_box.append(time.perf_counter() + seconds)
    started = time.perf_counter()
    start_barrier.wait()
    for t in threads:
        t.join(timeout=seconds + 60)
    result.elapsed = time.perf_counter() - started
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running server (default: start one on a free port)")
    ap.add_argument("--seconds", type=float, default=10.0, help="duration of each scenario (default 10)")
    ap.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    ap.add_argument("--batch-size", type=int, default=100, help="cases per batch request (default 100)")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.batch_size < 1:
        ap.error("--seconds, --concurrency and --batch-size must be positive")

    proc = log = None
    url = args.url
    if url is None:
        proc, url, log = start_server()
    try:
        folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")
        cases = [json.load(open(os.path.join(folder, n), encoding="utf-8"))
                 for n in sorted(os.listdir(folder)) if n.endswith(".json")]
        if not cases:
            raise SystemExit("no example cases in examples/")
        singles = [json.dumps(c, ensure_ascii=False).encode() for c in cases]
        batches = []
        for k in range(len(cases)):  # every batch starts at a different example
            batches.append(json.dumps([cases[(k + j) % len(cases)] for j in range(args.batch_size)],
                                      ensure_ascii=False).encode())
        json_h = {"content-type": "application/json"}

        def one_decision(r):
            return '"decision"' in r.text[:200]

        def all_decided(r):
            return r.text.count("\n") == args.batch_size and '"error"' not in r.text

        # warm up (imports, caches, connections)
        with httpx.Client(base_url=url, timeout=30) as c:
            for b in singles:
                c.post("/v1/evaluate", content=b, headers=json_h)
            c.post("/v1/evaluate:batch", content=batches[0], headers=json_h)

        results = [
            run(url, "evaluate", "/v1/evaluate", singles, json_h, 1, args.seconds, args.concurrency, one_decision),
            run(url, f"batch×{args.batch_size}", "/v1/evaluate:batch", batches, json_h, args.batch_size,
                args.seconds, args.concurrency, all_decided),
        ]
    finally:
        if proc is not None:
            stop_server(proc)
            log.close()

    print(f"server {url}{' (started by this script)' if proc is not None else ''} · "
          f"{args.concurrency} client threads · {args.seconds:g} s per scenario · {os.cpu_count()} CPUs")
    head = f"{'scenario':<12} {'requests':>9} {'errors':>7} {'req/s':>9} {'cases/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(head)
    print("-" * len(head))
    for r in results:
        n = len(r.latencies)
        rps = n / r.elapsed if r.elapsed else 0.0
        print(f"{r.name:<12} {n:>9} {r.errors:>7} {rps:>9.1f} {rps * r.cases_per_request:>9.0f} "
              f"{r.pct(0.50):>8.1f} {r.pct(0.99):>8.1f}")
    for r in results:
        if r.first_error:
            print(f"first error in {r.name}: {r.first_error}")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
