"""Shared pieces of the benchmark parts under bench/: starting a server binary on port 0,
reading its memory and CPU from /proc, running wrk, and writing result rows.

Every part (throughput.py, fanout.py, scale.py, memory.py) is a script that takes
`--bin PATH` (the release binary) and `--out FILE`, and writes a JSON list of rows made by
`row(...)`; bench/report.py turns the rows of every part into bench/RESULTS.md.
Standard library only.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests"))
from support.mockserver import READY_PREFIX, read_ready_line  # noqa: E402,F401

SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_COORDINATOR = "sthr_019f00000000000000000000000001aa"
SEED_CHILD = "sthr_019f00000000000000000000000002bb"
LIST_THREADS = f"/api/v1/cloud/sessions/{SEED_SESSION}/threads"
AUTH = {"Authorization": "Bearer bench"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def row(section: str, measure: str, value: float | None, unit: str, *, target: str = "",
        met: bool | None = None, reference: str = "") -> dict[str, Any]:
    """One line of the results table. `target` is the goal as text ("< 2 s"), `met` whether
    the value meets it (None where the line has no target), `reference` what the value is
    compared with in the same run ("C evhttp 81,000 req/s")."""
    return {"section": section, "measure": measure, "value": value, "unit": unit,
            "target": target, "met": met, "reference": reference}


def write_rows(path: str | None, rows: list[dict[str, Any]]) -> None:
    text = json.dumps(rows, indent=1)
    if path:
        Path(path).write_text(text)
    for r in rows:
        print(f"  {r['section']:<12} {r['measure']:<55} {fmt(r['value'])} {r['unit']:<8} "
              f"{r['target']:<14} {'' if r['met'] is None else ('met' if r['met'] else 'MISSED')} {r['reference']}",
              flush=True)


def fmt(value: float | None) -> str:
    if value is None:
        return "n/a".rjust(12)
    if abs(value) >= 100:
        return f"{value:12,.0f}"
    return f"{value:12.3g}"


def median(values: list[float]) -> float:
    return statistics.median(values)


class Server:
    """A server binary started on port 0 (`--port 0` is added), ready when it prints its
    ready line; stopped by pid. `ready_ms` is the time from exec to the ready line."""

    def __init__(self, binary: str, *args: str, timeout: float = 120.0, env: dict[str, str] | None = None):
        t0 = time.perf_counter()
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([binary, "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=full_env)
        try:
            line = read_ready_line(self.proc, timeout)
        except (TimeoutError, EOFError):
            self.stop()
            raise
        self.ready_ms = (time.perf_counter() - t0) * 1000
        self.base = line[len(READY_PREFIX):].strip()
        self.port = int(self.base.rsplit(":", 1)[1])
        self.pid = self.proc.pid

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 300.0) -> tuple[int, bytes]:
        return request(self.port, method, path, body, headers, timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            timeout: float = 300.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    hdrs = dict(AUTH)
    hdrs.update(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    out = r.read()
    conn.close()
    return r.status, out


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, seconds: int = 5, connections: int = 50, threads: int = 1,
        headers: dict[str, str] | None = None, script: str | None = None) -> dict[str, float]:
    """Runs Debian's wrk with --latency; returns rps, p50_ms, p99_ms, the requests answered and
    the non-2xx count."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (scripts/bench.sh installs it)")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers if headers is not None else AUTH).items():
        argv += ["-H", f"{k}: {v}"]
    if script:
        argv += ["-s", script]
    argv.append(url)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if rps is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    result = {"rps": float(rps.group(1)), "non2xx": 0.0}
    count = re.search(r"^\s*(\d+) requests in", out, re.M)
    result["requests"] = float(count.group(1)) if count else float("nan")
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s*{pct}%\s+([0-9.]+)(us|ms|s)\s*$", out, re.M)
        result[key] = float(m.group(1)) * _WRK_UNITS[m.group(2)] if m else float("nan")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if bad:
        result["non2xx"] = float(bad.group(1))
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        result["socket_errors"] = errors.group(0)
    return result


def machine_description() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    cores = os.cpu_count()
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    kernel = os.uname().release
    return f"{cpu}, {cores} cores, {mem_kib / 1048576:.1f} GiB, Linux {kernel}"
