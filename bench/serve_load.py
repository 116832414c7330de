"""Bounded load test of ``lpfiqa serve`` on 127.0.0.1: N requests, C concurrent, latency, errors, memory.

Starts the real CLI (one worker, the default model unless --model), warms it up, records the
server's resident memory, sends ``--requests`` POST /v1/score requests from ``--concurrency``
keep-alive clients in three rounds, records the server's memory after each, and stops it with SIGTERM. Every request
has a timeout and the whole run a deadline. Results -> bench/results/serve_load.json.

    .venv/bin/python -m bench.serve_load                       # 300 requests, 8 concurrent, 256x192 JPEGs
    .venv/bin/python -m bench.serve_load --quick               # 60 requests, 4 concurrent
"""

from __future__ import annotations

import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from ._common import Benchmark, CpuMeter, header, info_line, log, make_image, parse_size, parser, write_json


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(model: str | None, threads: int) -> tuple[subprocess.Popen, str]:
    argv = [sys.executable, "-m", "lpfiqa", "serve", "--port", "0", "--quiet", "--threads", str(threads)]
    proc = subprocess.Popen(argv + (["--model", model] if model else []), stdout=subprocess.PIPE, text=True)
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(180)
    if not line or not line[0].startswith("http://"):
        proc.kill()
        raise SystemExit("the server did not print its URL within 180 s")
    return proc, line[0].strip()


def main(argv: list[str] | None = None) -> None:
    ap = parser("serve_load", __doc__)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--size", default="256x192", help="image width x height")
    ap.add_argument("--model", default=None, help="default: lpfiqa.registry.DEFAULT_MODEL")
    ap.add_argument("--threads", type=int, default=0, help="torch threads in the server (0: default)")
    ap.add_argument("--deadline", type=float, default=1800, help="seconds for the whole run")
    ap.add_argument("--quick", action="store_true", help="60 requests, 4 concurrent")
    ap.add_argument("--out", default="serve_load.json", help="result file under bench/results (or an absolute path)")
    args = ap.parse_args(argv)
    if args.quick:
        args.requests, args.concurrency = 60, 4
    result = header("bench.serve_load", args)
    result["loadavg_before"] = os.getloadavg()
    width, height = parse_size(args.size)
    with tempfile.TemporaryDirectory() as folder:
        body = make_image(Path(folder) / "load.jpg", width, height).read_bytes()

    proc, url = start_server(args.model, args.threads)
    host, port = urlsplit(url).hostname, urlsplit(url).port
    deadline = time.monotonic() + args.deadline
    local = threading.local()

    def post() -> tuple[float, int]:
        if time.monotonic() > deadline:
            return 0.0, -1
        conn = getattr(local, "conn", None) or http.client.HTTPConnection(host, port, timeout=120)
        local.conn = conn
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/v1/score", body=body, headers={"Content-Type": "image/jpeg"})
            resp = conn.getresponse()
            resp.read()
            return time.perf_counter() - t0, resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            local.conn = None
            return time.perf_counter() - t0, -1

    try:
        log(f"server {url} (pid {proc.pid}); warm-up")
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(lambda _: post(), range(2 * args.concurrency)))
        rss_before = rss_mb(proc.pid)
        log(f"{args.requests} requests, {args.concurrency} concurrent, {width}x{height} JPEG ({len(body):,} bytes)")
        t0, server_cpu0 = time.perf_counter(), cpu_s(proc.pid)
        outcomes, rss_rounds = [], []  # three rounds: growth that continues round after round would be a leak
        with CpuMeter() as meter, ThreadPoolExecutor(args.concurrency) as pool:
            for part in range(3):
                n = args.requests // 3 + (1 if part < args.requests % 3 else 0)
                outcomes += list(pool.map(lambda _: post(), range(n)))
                rss_rounds.append(round(rss_mb(proc.pid), 1))
        wall = time.perf_counter() - t0
        server_cores = (cpu_s(proc.pid) - server_cpu0) / wall
        rss_after = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    ok = sorted(t for t, status in outcomes if status == 200)
    errors = sum(status != 200 for _, status in outcomes)
    q = statistics.quantiles(ok, n=100) if len(ok) >= 2 else [float("nan")] * 99
    result.update({
        "requests": args.requests, "concurrency": args.concurrency, "image": f"{width}x{height} JPEG",
        "errors": errors, "wall_s": round(wall, 2), "throughput_rps": round(len(ok) / wall, 2),
        "latency_ms": {"p50": round(q[49] * 1000, 1), "p95": round(q[94] * 1000, 1), "max": round(ok[-1] * 1000, 1)
                       if ok else None},
        "server_rss_mb": {"before": round(rss_before, 1), "after": round(rss_after, 1),
                          "growth": round(rss_after - rss_before, 1), "after_each_third": rss_rounds},
        "cpu": {**meter.record(), "server_cores": round(server_cores, 2),
                "other_procs_cores_less_server": round(max(0.0, meter.other_cores - server_cores), 2)},
        "loadavg_after": os.getloadavg(),
    })
    result["note"] = ("other processes used the CPU meanwhile (see loadavg_* and cpu.other_procs_cores_less_server): "
                      "latencies are upper bounds" if result["cpu"]["other_procs_cores_less_server"] > 0.25 else "")
    path = write_json(args.out, result)
    log(f"errors {errors}, p50 {result['latency_ms']['p50']} ms, p95 {result['latency_ms']['p95']} ms, "
        f"RSS {rss_before:.0f} -> {rss_after:.0f} MiB; wrote {path}")
    if errors:
        sys.exit(1)


def render(d: dict) -> str:
    lat, rss = d["latency_ms"], d["server_rss_mb"]
    return f"""{info_line(d)}

`lpfiqa serve` on 127.0.0.1, {d['requests']} requests of a {d['image']}, {d['concurrency']} at once:
**{d['errors']} errors**, {d['throughput_rps']} requests/s, latency p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms,
max {lat['max']:.0f} ms; server memory {rss['before']} -> {rss['after']} MiB (after each third:
{', '.join(str(v) for v in rss['after_each_third'])}). {d.get('note', '')}
"""


BENCHMARK = Benchmark("serve_load", "serve_load", "The HTTP service under load", render, ("serve_load.json",))

if __name__ == "__main__":
    main()
