#!/usr/bin/env python3
"""Benchmarks of cloud-agents-mock, printed beside a reference measured in the same run.

Throughput is also measured with wrk when it is installed (apt-get install wrk); the Python
client threads saturate before either server does.

The reference is what a test author would otherwise write: a Python standard-library
HTTP server (ThreadingHTTPServer) answering the same thread list with the same bytes.
Numbers, not pass/fail: run it on a quiet machine and compare the columns.

  scripts/bench.py [--bin .build/release/cloud-agents-mock] [--requests 3000] [--baseline-bin OTHER]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests"))
from support.mockserver import read_ready_line  # noqa: E402

LIST = "/api/v1/cloud/sessions/sess_019f00000000000000000000000000aa/threads"

REFERENCE_SERVER = r"""
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
body = open(sys.argv[1], "rb").read()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"reference listening on http://127.0.0.1:{s.server_address[1]}", flush=True)
s.serve_forever()
"""


class Proc:
    def __init__(self, argv: list[str], timeout: float = 20.0):
        t0 = time.perf_counter()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            line = read_ready_line(self.p, timeout)
        except (TimeoutError, EOFError):
            self.stop()
            raise
        self.startup_ms = (time.perf_counter() - t0) * 1000
        url = line.rsplit(" ", 1)[1]
        self.port = int(url.rsplit(":", 1)[1])

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.p.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return -1

    def stop(self) -> None:
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait(timeout=10)


def sequential(port: int, n: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", LIST, headers={"Authorization": "Bearer bench"})
        r = conn.getresponse()
        r.read()
        out.append((time.perf_counter() - t) * 1e6)
        assert r.status == 200
    conn.close()
    return out


def concurrent(port: int, clients: int, per_client: int) -> float:
    """Requests per second with `clients` keep-alive connections (client threads)."""
    def work():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(per_client):
            conn.request("GET", LIST, headers={"Authorization": "Bearer bench"})
            r = conn.getresponse()
            r.read()
        conn.close()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return clients * per_client / (time.perf_counter() - t)


def wrk_rps(port: int, seconds: int) -> float | None:
    """Requests per second under wrk (Debian's `wrk`), which is not the bottleneck the
    Python client threads are; None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", "Authorization: Bearer bench", f"http://127.0.0.1:{port}{LIST}"],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(m.group(1)) if m else None


def control(port: int, method: str, path: str, body=None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=json.dumps(body).encode() if body is not None else None,
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    assert r.status < 300, data
    return json.loads(data)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(REPO / ".build" / "release" / "cloud-agents-mock"))
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--starts", type=int, default=15)
    ap.add_argument("--wrk-seconds", type=int, default=5, help="duration of the wrk run, when wrk is installed")
    ap.add_argument("--baseline-bin", help="another build of the mock (e.g. of main before a change), measured in the same run")
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        print(f"no binary at {args.bin}; build it with: swift build -c release", file=sys.stderr)
        return 2

    mock_argv = [args.bin, "--port", "0", "--log-level", "error"]
    body_file = Path("/tmp") / f"bench-body-{os.getpid()}.json"
    probe = Proc(mock_argv)
    conn = http.client.HTTPConnection("127.0.0.1", probe.port)
    conn.request("GET", LIST, headers={"Authorization": "Bearer x"})
    body_file.write_bytes(conn.getresponse().read())
    conn.close()
    probe.stop()
    ref_argv = [sys.executable, "-c", REFERENCE_SERVER, str(body_file)]
    servers = [("mock", mock_argv), ("reference", ref_argv)]
    if args.baseline_bin:
        servers.insert(1, ("baseline", [args.baseline_bin] + mock_argv[1:]))

    rows = []
    starts = {}
    for name, argv in servers:
        times = []
        for _ in range(args.starts):
            p = Proc(argv)
            times.append(p.startup_ms)
            p.stop()
        starts[name] = statistics.median(times)
    rows.append(("start to ready line, median (ms)", *[starts[n] for n, _ in servers]))

    results = {}
    for name, argv in servers:
        p = Proc(argv)
        try:
            sequential(p.port, 200)  # warm up
            lat = sequential(p.port, args.requests)
            rps = concurrent(p.port, 8, args.requests // 8)
            wrk = wrk_rps(p.port, args.wrk_seconds)
            results[name] = (statistics.median(lat), pct(lat, 0.99), rps, p.rss_kib(), wrk)
        finally:
            p.stop()
    res = [results[n] for n, _ in servers]
    rows.append(("GET thread list, keep-alive, p50 (us)", *[x[0] for x in res]))
    rows.append(("GET thread list, keep-alive, p99 (us)", *[x[1] for x in res]))
    rows.append(("GET thread list, 8 connections (req/s)", *[x[2] for x in res]))
    if all(x[4] is not None for x in res):
        rows.append(("GET thread list, wrk 16 connections (req/s)", *[x[4] for x in res]))
    rows.append(("RSS after the load (MiB)", *[x[3] / 1024 for x in res]))

    # Mock-only numbers (the reference has no such feature).
    p = Proc(mock_argv)
    try:
        before = p.rss_kib()
        sid, tid = "sess_019f00000000000000000000000000aa", "sthr_019f00000000000000000000000002bb"
        batch = [{"type": "agent.message", "content": [{"type": "text", "text": "x" * 200}]} for _ in range(500)]
        t = time.perf_counter()
        for _ in range(20):
            control(p.port, "POST", f"/_mock/sessions/{sid}/threads/{tid}/events", {"events": batch})
        append_rate = 10_000 / (time.perf_counter() - t)
        after = p.rss_kib()
        lat = []
        for _ in range(50):
            t = time.perf_counter()
            control(p.port, "POST", "/_mock/reset")
            lat.append((time.perf_counter() - t) * 1000)
    finally:
        p.stop()
    body_file.unlink(missing_ok=True)

    dash = f"{'-':>14}" * (len(servers) - 1)
    print(f"{'measure':<44}" + "".join(f"{n:>14}" for n, _ in servers))
    for label, *values in rows:
        print(f"{label:<44}" + "".join(f"{v:>14.1f}" for v in values))
    print(f"{'events appended per second (batches of 500)':<44}{append_rate:>14.0f}{dash}")
    print(f"{'RSS growth for 10,000 events (MiB)':<44}{(after - before) / 1024:>14.1f}{dash}")
    print(f"{'POST /_mock/reset, default fixture (ms)':<44}{statistics.median(lat):>14.2f}{dash}")
    if args.baseline_bin:
        print(f"(baseline: {args.baseline_bin})")
    print(f"(mock: {args.bin}; reference: Python {sys.version.split()[0]} ThreadingHTTPServer with the same body)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
