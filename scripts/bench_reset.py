#!/usr/bin/env python3
"""Measures POST /_mock/reset on the built-in fixture and on a generated big one.

Usage: scripts/bench_reset.py --bin .build/release/cloud-agents-mock [--sessions 1000] [--runs 30]

Standard library only. The big fixture (N sessions, each with a coordinator, two
children, events on every thread and a mailbox message) is generated into a
temporary file here, so no giant JSON is committed; `--write-fixture PATH` keeps a
copy. Each server is started on port 0, its ready line read, and stopped by pid.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests"))
from support.mockserver import READY_PREFIX, read_ready_line  # noqa: E402
COORD_AGENT = "agent_019f000000000000000000000000001a"
CHILD_AGENT = "agent_019f000000000000000000000000002b"


def ident(prefix: str, n: int, kind: int) -> str:
    """`prefix_` + 32 hex digits in the UUIDv7 layout, unique per (kind, n)."""
    return f"{prefix}_019f0000{kind:04x}7000{n:016x}"


def iso(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{ms % 1000:03d}Z"


def event(eid: str, etype: str, sid: str, tid: str, at: int, **fields) -> dict:
    return {"id": eid, "type": etype, "schema_version": "1.0", "session_id": sid, "session_thread_id": tid,
            **fields, "created_at": iso(at), "processed_at": iso(at)}


def generate_fixture(sessions: int, children: int = 2, events_per_child: int = 3) -> dict:
    base = 1781510400000  # 2026-06-15T08:00:00.000Z
    agents = [
        {"id": COORD_AGENT, "name": "task-coordinator", "model": "ultimate", "version": 1},
        {"id": CHILD_AGENT, "name": "Research Agent", "model": "ultimate", "version": 2},
    ]
    out = []
    ev = 0
    for s in range(sessions):
        at = base + s * 1000
        sid = ident("sess", s, 1)
        coord = ident("sthr", s * (children + 1), 2)
        threads = [{
            "id": coord, "parent_thread_id": None, "agent_id": COORD_AGENT, "agent_version": 1, "name": "",
            "role": "coordinator", "status": "idle", "stop_reason": {"type": "end_turn"},
            "created_by_tool_use_id": None, "archived_at": None, "created_at": iso(at), "updated_at": iso(at),
            "events": [], "mailbox": [],
        }]
        for c in range(children):
            tid = ident("sthr", s * (children + 1) + c + 1, 2)
            tool = f"toolu_bench_{s}_{c}"
            ev += 1
            threads[0]["events"].append(event(
                ident("evt", ev, 3), "session.thread_created", sid, coord, at + 10 + c,
                parent_thread_id=coord, agent_id=CHILD_AGENT, agent_version=2, agent_name="Research Agent",
                role="child", created_by_tool_use_id=tool))
            child_events = []
            for k in range(events_per_child):
                ev += 1
                child_events.append(event(
                    ident("evt", ev, 3), "agent.thread_message_sent", sid, tid, at + 100 + k,
                    turn_id=f"turn_{s}_{c}_{k}", direction="coordinator_to_child",
                    content=f"Task {k} for child {c} of session {s}.", from_session_thread_id=coord,
                    to_session_thread_id=tid))
            threads.append({
                "id": tid, "parent_thread_id": coord, "agent_id": CHILD_AGENT, "agent_version": 2,
                "name": "Research Agent", "role": "child", "status": "running" if c == 0 else "idle",
                "stop_reason": {} if c == 0 else {"type": "end_turn"}, "created_by_tool_use_id": tool,
                "archived_at": None, "created_at": iso(at + 10 + c), "updated_at": iso(at + 200),
                "events": child_events,
                "mailbox": [{"id": ident("msg", s * children + c, 4), "from_thread_id": coord, "to_thread_id": tid,
                             "content": "queued", "status": "pending", "created_at": iso(at + 150)}],
            })
        out.append({"id": sid, "agent": COORD_AGENT, "environment_id": "env_bench", "title": f"Bench {s}",
                    "metadata": {}, "created_at": iso(at), "updated_at": iso(at + 200), "threads": threads})
    return {"tokens": [], "agents": agents, "sessions": out}


class Server:
    def __init__(self, binary: str, *args: str, timeout: float = 120.0):
        self.proc = subprocess.Popen([binary, "--port", "0", "--log-level", "warning", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = time.monotonic()
        try:
            line = read_ready_line(self.proc, timeout)
        except EOFError:
            err = self.proc.stderr.read().decode(errors="replace")
            raise RuntimeError(f"server exited before its ready line: {err}") from None
        except TimeoutError:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        assert line.startswith(READY_PREFIX), line
        hostport = line[len(READY_PREFIX):].split("://", 1)[1]
        host, port = hostport.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.read()

    def stop(self) -> int:
        self.conn.close() if hasattr(self, "conn") else None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout=10)


def measure(binary: str, label: str, args: list[str], runs: int, mutate: bool) -> dict:
    srv = Server(binary, *args)
    try:
        status, body = srv.call("GET", "/_mock/stats")
        stats = json.loads(body)
        times = []
        for i in range(runs):
            if mutate:
                # Change the world a little so reset has something to undo.
                st, b = srv.call("POST", "/_mock/sessions", json.dumps({"children": [{}, {}]}).encode())
                assert st == 201, b
            t0 = time.perf_counter()
            st, b = srv.call("POST", "/_mock/reset")
            times.append((time.perf_counter() - t0) * 1000)
            assert st == 200, b
        t0 = time.perf_counter()
        st, state = srv.call("GET", "/_mock/state")
        export_ms = (time.perf_counter() - t0) * 1000
        assert st == 200
    finally:
        code = srv.stop()
    times.sort()
    return {
        "label": label, "sessions": stats["sessions"], "threads": stats["threads"], "events": stats["events"],
        "startup_ms": srv.startup_s * 1000, "runs": runs, "min_ms": times[0], "median_ms": statistics.median(times),
        "p90_ms": times[min(len(times) - 1, int(len(times) * 0.9))], "max_ms": times[-1],
        "state_bytes": len(state), "export_ms": export_ms, "exit": code,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="path to the cloud-agents-mock binary")
    ap.add_argument("--sessions", type=int, default=1000, help="sessions in the generated fixture")
    ap.add_argument("--runs", type=int, default=30, help="resets per fixture")
    ap.add_argument("--write-fixture", help="also save the generated fixture here")
    ap.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    opts = ap.parse_args()

    doc = generate_fixture(opts.sessions)
    data = json.dumps(doc, separators=(",", ":")).encode()
    if opts.write_fixture:
        with open(opts.write_fixture, "wb") as f:
            f.write(data)
    with tempfile.NamedTemporaryFile(prefix="bench-fixture-", suffix=".json", delete=False) as f:
        f.write(data)
        path = f.name
    try:
        results = [
            measure(opts.bin, "default fixture", [], opts.runs, mutate=True),
            measure(opts.bin, f"{opts.sessions} sessions ({len(data) / 1e6:.1f} MB)", ["--fixtures", path],
                    opts.runs, mutate=True),
        ]
    finally:
        os.unlink(path)

    if opts.json:
        for r in results:
            print(json.dumps(r))
        return 0
    print(f"binary: {opts.bin}")
    print(f"{'fixture':<28} {'sessions':>8} {'threads':>8} {'events':>8} {'start':>8} "
          f"{'min':>8} {'median':>8} {'p90':>8} {'max':>8} {'export':>8}  (ms; {opts.runs} resets each)")
    for r in results:
        print(f"{r['label']:<28} {r['sessions']:>8} {r['threads']:>8} {r['events']:>8} {r['startup_ms']:>8.1f} "
              f"{r['min_ms']:>8.2f} {r['median_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['max_ms']:>8.2f} "
              f"{r['export_ms']:>8.1f}")
    bad = [r for r in results if r["exit"] != 0]
    if bad:
        print(f"warning: server exit status {[r['exit'] for r in bad]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
