"""Load test of the dashboard on loopback, bounded in count and time.

Starts ``reawaken serve`` on a free 127.0.0.1 port (a subprocess, as a user would), then 20 concurrent
clients send 200 scenario requests (mouse/human x influenza/SARS-CoV-2, with and without anti-IL-6) while
5 small cohort jobs run; every request and job must succeed. Prints p50/p95 latency and a Markdown line for
docs/benchmarks.md. Stops by itself: every request has a timeout and the whole run a deadline.

    python benchmarks/bench_dashboard.py [--clients 20] [--requests 200] [--jobs 5] [--cohort-n 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

DEADLINE_S = 900.0  # the whole run; a stuck server ends the benchmark, never the machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, path: str, body: dict | None = None, timeout: float = 120.0) -> tuple[int, dict, float]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            out = json.loads(r.read() or b"{}")
            status = r.status
    except urllib.error.HTTPError as e:
        status, out = e.code, json.loads(e.read() or b"{}")
    return status, out, time.perf_counter() - t0


def _scenario(i: int) -> dict:
    host = ("mouse", "human")[i % 2]
    virus = ("influenza", "sars-cov-2")[(i // 2) % 2]
    ivs = [{"name": "anti-il6", "settings": {"dose": 8, "day": 1 + i % 5}}] if i % 3 == 0 else []
    return {"host": host, "virus": virus, "days": 60, "interventions": ivs}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--jobs", type=int, default=5)
    p.add_argument("--cohort-n", type=int, default=2000)
    a = p.parse_args(argv)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir = tempfile.mkdtemp(prefix="reawaken-bench-dashboard-")
    server = subprocess.Popen([sys.executable, "-m", "reawaken.cli.main", "serve", "--port", str(port),
                               "--data-dir", data_dir, "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    started = time.monotonic()
    try:
        while True:
            try:
                if _call(base, "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 60 or server.poll() is not None:
                raise SystemExit("the server did not start: " + (server.stderr.read().decode() if server.stderr else ""))
            time.sleep(0.2)
        _call(base, "/api/simulate", _scenario(0))  # warm-up: compile once, as after any server start
        t0 = time.perf_counter()
        jobs = [_call(base, "/api/jobs", {"n": a.cohort_n, "years": 3, "seed": k, "chunks": 4,
                                          "arms": ["baseline", "no-infection"]})[1]["id"] for k in range(a.jobs)]
        with ThreadPoolExecutor(a.clients) as pool:
            results = list(pool.map(lambda i: _call(base, "/api/simulate", _scenario(i)), range(a.requests)))
        scen_wall = time.perf_counter() - t0
        states = {}
        while len(states) < len(jobs):
            if time.monotonic() - started > DEADLINE_S:
                raise SystemExit(f"jobs not finished within {DEADLINE_S:.0f} s: {states}")
            for j in jobs:
                s = _call(base, f"/api/jobs/{j}")[1]
                if s["state"] in ("finished", "failed", "cancelled"):
                    states[j] = s
            time.sleep(0.5)
        jobs_wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    bad = [r for r in results if r[0] != 200]
    failed_jobs = [s for s in states.values() if s["state"] != "finished"]
    lat = sorted(r[2] for r in results)
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)]
    summary = {"clients": a.clients, "requests": a.requests, "ok": len(results) - len(bad), "p50_s": round(p50, 3),
               "p95_s": round(p95, 3), "max_s": round(lat[-1], 3), "scenario_wall_s": round(scen_wall, 1),
               "jobs": a.jobs, "jobs_finished": len(states) - len(failed_jobs), "cohort_n": a.cohort_n,
               "jobs_wall_s": round(jobs_wall, 1), "cpus": os.cpu_count(), "python": platform.python_version()}
    print(json.dumps(summary))
    print(f"| {a.clients} clients, {a.requests} scenario requests + {a.jobs} cohort jobs ({a.cohort_n:,} people, "
          f"2 arms, 3 y) | {summary['ok']}/{a.requests} ok, {summary['jobs_finished']}/{a.jobs} jobs finished | "
          f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {lat[-1]:.2f} s | scenarios {scen_wall:.1f} s, all jobs "
          f"{jobs_wall:.1f} s |")
    return 0 if not bad and not failed_jobs else 1


if __name__ == "__main__":
    sys.exit(main())
