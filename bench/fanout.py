#!/usr/bin/env python3
"""Fan-out: how fast one appended event reaches every one of N open SSE streams, and what
the server spends per event per stream.

    python3 bench/fanout.py --bin .build/release/cloud-agents-mock --out /tmp/fanout.json
    python3 bench/fanout.py --bin BIN --out FILE --streams 1000 --events 1000

Starts the binary on its default fixture (port 0). For the seed child thread's stream
(`/v1/sessions/{sid}/threads/{tid}/stream`) and then for the seed session's stream
(`/v1/sessions/{sid}/events/stream`, after a reset), the C reader in bench/tools/sse_reader.c
holds N streams open; this script appends events to the seed child through the control API
(`POST /_mock/sessions/{sid}/threads/{tid}/events`), one per request, on one kept-alive
connection. Pacing: an append is sent only after the previous one has been answered AND the
reader has reported that every stream received it, so no append queues behind the fan-out of
the one before; each latency is one event's fan-out alone.

Latency of an event = the moment the last stream's reader saw the frame's last byte
(CLOCK_MONOTONIC in the reader) minus time.monotonic_ns() taken just before the append's
request was written (the same clock). Server CPU is the server process's on-CPU time over
the measured appends (/proc/PID/task/*/schedstat, nanoseconds), divided by events x streams;
it includes handling the append request itself, which is measured alone (no streams open)
and shown beside it.

Every stream must receive every event, in order, with the ids the appends answered with; any
loss, duplicate or reordering ends the script with an error instead of a number.
Standard library only; the reader is compiled with `cc -O2` into a temporary directory.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
from benchlib import SEED_CHILD, SEED_SESSION, Server, row, write_rows  # noqa: E402

READER_SOURCE = Path(__file__).resolve().parent / "tools" / "sse_reader.c"
THREAD_STREAM = f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream"
SESSION_STREAM = f"/v1/sessions/{SEED_SESSION}/events/stream"
APPEND_PATH = f"/_mock/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events"


class BenchFailure(Exception):
    """A check failed: the run has no valid number to report."""


def raise_open_file_limit(need: int) -> int:
    """Raises this process's soft RLIMIT_NOFILE towards `need` (capped by the hard limit);
    children started afterwards inherit it. Returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def compile_c(source: Path, workdir: str, *flags: str) -> str:
    """Compiles a C tool with cc -O2 into `workdir`; returns the binary's path."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise BenchFailure("no C compiler (cc) on PATH")
    out = os.path.join(workdir, source.stem)
    done = subprocess.run([cc, "-O2", *flags, "-o", out, str(source)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchFailure(f"compiling {source} failed:\n{done.stderr}")
    return out


def build_reader(workdir: str) -> str:
    """Compiles bench/tools/sse_reader.c into `workdir`; returns the binary's path."""
    return compile_c(Path(READER_SOURCE), workdir)


def send_floor(workdir: str, streams: int, events: int, frame_bytes: int) -> dict[str, float]:
    """What bench/tools/send_floor.c measures: the CPU per send() of one frame to each of
    `streams` loopback connections (the least any server spends per stream per event when each
    event is its own write; the kernel's loopback delivery is charged to the sender), and the
    delivery to the last connection, paced as the mock's events are (p50, p99, max in ms)."""
    out = compile_c(Path(__file__).resolve().parent / "tools" / "send_floor.c", workdir, "-pthread")
    done = subprocess.run([out, str(streams), str(events), str(frame_bytes)], capture_output=True, text=True,
                          timeout=300)
    found = dict(re.findall(r"(\w+)=([0-9.]+)", done.stdout))
    keys = ("send_floor_us_per_send", "last_p50_ms", "last_p99_ms", "last_max_ms")
    if done.returncode != 0 or any(k not in found for k in keys):
        raise BenchFailure(f"send_floor failed: {done.stdout}{done.stderr}")
    return {k: float(found[k]) for k in keys}


def user_system_ticks(pid: int) -> tuple[int, int]:
    """User and system CPU of `pid` so far, in clock ticks (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def server_cpu_ns(pid: int) -> int:
    """On-CPU time of every thread of `pid` so far, in nanoseconds (schedstat's first field).
    Falls back to /proc/PID/stat's clock ticks where schedstat is missing."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total
    except (OSError, ValueError, IndexError):
        return int(benchlib.cpu_seconds(pid) * 1e9)


class Reader:
    """One run of the C reader: N streams on `path`. Its stdout lines ("ready N", "got I",
    "done"/"incomplete") are read with deadlines; its results file is parsed at the end."""

    def __init__(self, binary: str, port: int, path: str, conns: int, history: int, events: int,
                 workdir: str, *, ack: bool, timeout_s: float):
        self.out = os.path.join(workdir, f"reader-{os.getpid()}-{time.monotonic_ns()}.txt")
        self.stderr = tempfile.TemporaryFile(dir=workdir)
        argv = [binary, "--port", str(port), "--path", path, "--conns", str(conns), "--history", str(history),
                "--events", str(events), "--timeout-ms", str(int(timeout_s * 1000)), "--out", self.out]
        if ack:
            argv.append("--ack")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.pid = self.proc.pid
        self._buf = b""

    def line(self, deadline: float) -> str:
        """The next stdout line, waiting until `deadline` (time.monotonic())."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchFailure(f"reader said nothing in time; stderr: {self.stderr_text()}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise BenchFailure(f"reader exited early; stderr: {self.stderr_text()}")
                self._buf += chunk
        text, self._buf = self._buf.split(b"\n", 1)
        return text.decode()

    def expect(self, want: str, timeout: float) -> None:
        got = self.line(time.monotonic() + timeout)
        if got != want:
            raise BenchFailure(f"reader said {got!r}, expected {want!r}; stderr: {self.stderr_text()}")

    def stderr_text(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-2000:]

    def release(self) -> None:
        """Closes the reader's stdin: a reader holding streams (--events 0) then finishes."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()

    def finish(self, timeout: float) -> dict:
        """Waits for the reader to exit; returns its parsed results file."""
        self.release()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchFailure("reader did not exit in time") from None
        results = parse_results(self.out)
        results["exit"] = code
        return results

    def stop(self) -> None:
        self.release()
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.stderr.close()


def parse_results(path: str) -> dict:
    results: dict = {"events_rows": []}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts[0] == "ev":
            results["events_rows"].append({"index": int(parts[1]), "id": parts[2], "min": int(parts[3]),
                                           "median": int(parts[4]), "max": int(parts[5]), "n": int(parts[6])})
        else:
            results[parts[0]] = int(parts[1])
    return results


class Appender:
    """Appends one event at a time through the control API on a kept-alive connection."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def append(self, n: int) -> tuple[int, str]:
        """Appends event number n; returns (monotonic ns just before sending, the event's id)."""
        body = json.dumps({"events": [{"type": "agent.message",
                                       "content": [{"type": "text", "text": f"fan-out benchmark event {n:06d}"}]}]})
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        start = time.monotonic_ns()
        self.conn.request("POST", APPEND_PATH, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status not in (200, 201):
            raise BenchFailure(f"append answered {resp.status}: {data[:300]!r}")
        return start, json.loads(data)["data"][0]["id"]

    def close(self) -> None:
        self.conn.close()


def count_events(server: Server, path: str) -> int:
    """How many events a list route holds, paging through it."""
    total, after = 0, None
    while True:
        query = "?limit=100" + (f"&after_id={after}" if after else "")
        status, body = server.request("GET", path + query, timeout=30)
        if status != 200:
            raise BenchFailure(f"GET {path} answered {status}")
        page = json.loads(body)
        total += len(page["data"])
        if not page.get("has_more"):
            return total
        after = page["last_id"]


def reset(server: Server) -> None:
    status, body = server.request("POST", "/_mock/reset", timeout=30)
    if status != 200:
        raise BenchFailure(f"reset answered {status}: {body[:200]!r}")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[k]


def append_only_cpu_us(server: Server, events: int) -> float:
    """Server CPU per append with no stream open (the append request alone), in µs."""
    reset(server)
    app = Appender(server.port)
    try:
        for n in range(20):
            app.append(n)
        before = server_cpu_ns(server.pid)
        for n in range(events):
            app.append(n)
        after = server_cpu_ns(server.pid)
    finally:
        app.close()
    return (after - before) / 1000 / events


def measure(server: Server, reader_bin: str, workdir: str, kind: str, stream_path: str, history_path: str,
            streams: int, events: int, warmup: int) -> dict:
    """One fan-out run on a freshly reset world. Returns latencies and CPU of the measured events."""
    reset(server)
    history = count_events(server, history_path)
    total = warmup + events
    reader = Reader(reader_bin, server.port, stream_path, streams, history, total, workdir, ack=True,
                    timeout_s=120 + total * 0.5)
    app = Appender(server.port)
    try:
        t_open = time.monotonic()
        reader.expect(f"ready {streams}", timeout=120)
        open_s = time.monotonic() - t_open
        status, body = server.request("GET", "/_mock/stats", timeout=30)
        open_streams = json.loads(body)["open_streams"]
        if open_streams != streams:
            raise BenchFailure(f"{kind}: the server counts {open_streams} open streams, expected {streams}")
        starts: list[int] = []
        ids: list[str] = []
        cpu_before = 0
        ticks_before = (0, 0)
        for n in range(total):
            if n == warmup:
                cpu_before = server_cpu_ns(server.pid)
                ticks_before = user_system_ticks(server.pid)
            start, eid = app.append(n)
            starts.append(start)
            ids.append(eid)
            reader.expect(f"got {n}", timeout=30)
        cpu_after = server_cpu_ns(server.pid)
        ticks_after = user_system_ticks(server.pid)
        reader.expect("done", timeout=60)
        results = reader.finish(timeout=60)
    finally:
        app.close()
        reader.stop()
    # every stream, every event, in order, with the ids the appends returned
    if results["exit"] != 0 or results["failed"] or results["errors"] or results["complete"] != streams:
        raise BenchFailure(f"{kind}: reader reports {results}")
    got_ids = [r["id"] for r in results["events_rows"]]
    if got_ids != ids:
        first = next(i for i, (a, b) in enumerate(zip(got_ids, ids)) if a != b) if len(got_ids) == len(ids) else -1
        raise BenchFailure(f"{kind}: streamed ids differ from the appended ones (first at index {first})")
    if any(r["n"] != streams for r in results["events_rows"]):
        raise BenchFailure(f"{kind}: some event did not reach every stream")
    rows = results["events_rows"][warmup:]
    last = [(r["max"] - s) / 1e6 for r, s in zip(rows, starts[warmup:])]
    first = [(r["min"] - s) / 1e6 for r, s in zip(rows, starts[warmup:])]
    mid = [(r["median"] - s) / 1e6 for r, s in zip(rows, starts[warmup:])]
    if min(first) < 0:
        raise BenchFailure(f"{kind}: an event was received before its append was sent (clock mismatch?)")
    return {
        "kind": kind, "streams": streams, "events": events, "history": history, "open_s": open_s,
        "last": last, "first": first, "median": mid,
        "cpu_us_per_event": (cpu_after - cpu_before) / 1000 / events,
        "checked": streams * total,
        "user_ticks": ticks_after[0] - ticks_before[0], "system_ticks": ticks_after[1] - ticks_before[1],
        "reader_us_per_event_stream": results.get("live_cpu_us", 0) / total / streams,
    }


def rows_for(m: dict, append_us: float, floor: dict[str, float]) -> list[dict]:
    kind, n = m["kind"], m["streams"]
    label = f"{kind} stream, {n:,} clients"
    last = m["last"]
    per_stream = m["cpu_us_per_event"] / n
    net = (m["cpu_us_per_event"] - append_us) / n
    ticks = m["user_ticks"] + m["system_ticks"]
    user_share = 100 * m["user_ticks"] / ticks if ticks else 0.0
    ref_first = (f"first client p50 {percentile(m['first'], 50):.3f} ms, median client p50 "
                 f"{percentile(m['median'], 50):.3f} ms")
    return [
        row("fanout", f"{label}: delivery to last client p50", percentile(last, 50), "ms", reference=ref_first),
        row("fanout", f"{label}: delivery to last client p99", percentile(last, 99), "ms", target="< 5 ms",
            met=percentile(last, 99) < 5,
            reference=f"the C floor's own, same run: p99 {floor['last_p99_ms']:.3g} ms"),
        row("fanout", f"{label}: delivery to last client max", max(last), "ms"),
        row("fanout", f"{label}: server CPU per event per stream", per_stream, "µs", target="< 3 µs",
            met=per_stream < 3,
            reference=f"C floor {floor['send_floor_us_per_send']:.3g} µs (mock / floor "
                      f"{per_stream / floor['send_floor_us_per_send']:.2f}); "
                      f"{m['cpu_us_per_event']:,.0f} µs per event; {user_share:.0f}% user, "
                      f"{100 - user_share:.0f}% kernel; less the append request itself {net:.2f} µs"),
        row("fanout", f"{label}: reader CPU per event per stream", m["reader_us_per_event_stream"], "µs",
            reference="the C reader's own cost (same machine), for comparison"),
        row("fanout", f"{label}: clients x events checked in order", m["checked"], "frames",
            target=f"= {m['checked']:,}", met=True,
            reference=f"{m['events']:,} measured events after warm-up; {m['history']} history frames each; "
                      f"streams opened in {m['open_s'] * 1000:.0f} ms"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the cloud-agents-mock release binary")
    ap.add_argument("--out", help="where to write the JSON rows")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--events", type=int, default=1000, help="measured appends per stream kind")
    ap.add_argument("--warmup", type=int, default=10, help="appends before measuring (checked, not timed)")
    args = ap.parse_args()

    limit = raise_open_file_limit(args.streams + 1024)
    if limit < args.streams + 64:
        print(f"open-file limit {limit} is too low for {args.streams} streams", file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="bench-fanout-")
    server = None
    try:
        reader_bin = build_reader(workdir)
        server = Server(str(Path(args.bin).resolve()))
        append_us = append_only_cpu_us(server, args.events)
        measured = [
            measure(server, reader_bin, workdir, "thread", THREAD_STREAM,
                    f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events", args.streams, args.events,
                    args.warmup),
            measure(server, reader_bin, workdir, "session", SESSION_STREAM, f"/v1/sessions/{SEED_SESSION}/events",
                    args.streams, args.events, args.warmup),
        ]
        floor = send_floor(workdir, args.streams, args.events, 520)
        what = f"one send() of a 520-byte frame to each of {args.streams:,} loopback connections"
        rows = [row("fanout", "append request alone (no stream open): server CPU", append_us, "µs",
                    reference="per POST of one event through the control API"),
                row("fanout", f"C floor: {what}, CPU per send", floor["send_floor_us_per_send"], "µs",
                    reference="bench/tools/send_floor.c, same run: the least a server spends per stream per event "
                    "with one write per event"),
                row("fanout", "C floor: delivery to last client p50", floor["last_p50_ms"], "ms",
                    reference=f"{what}, paced as the mock's events; max {floor['last_max_ms']:.3g} ms"),
                row("fanout", "C floor: delivery to last client p99", floor["last_p99_ms"], "ms",
                    reference="what this machine gives at this fan-out with nothing but the sends and a C "
                    "thread draining the other ends (no HTTP, no application)")]
        for m in measured:
            rows += rows_for(m, append_us, floor)
        write_rows(args.out, rows)
        return 0
    except BenchFailure as e:
        print(f"fanout: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
