#!/usr/bin/env python3
"""Start-up, idle memory, reset, and memory per open stream and per stored event.

    python3 bench/memory.py --bin .build/release/cloud-agents-mock --out /tmp/memory.json

Everything runs on the default fixture, each server on port 0, stopped by pid.

- start: time from exec to the ready line (benchlib.Server.ready_ms), median of 5 starts;
  resident memory (VmRSS) read right after each ready line, median.
- reset: POST /_mock/reset, 50 times on one kept-alive connection after 5 unmeasured ones,
  timed client side from writing the request to reading the whole answer; median. If the
  answer carries the server's own duration (a `Server-Timing` header or a `*_ms`/`*_us` field)
  it is reported too.
- per open stream: VmRSS with 10,000 streams of the seed child thread held open by the C reader
  (bench/tools/sse_reader.c, every stream's head and history received, the server's
  `open_streams` counter checked) minus VmRSS before, divided by 10,000.
- per stored event: VmRSS after appending 100,000 events to the seed child through the control
  API (1,000 per request, no stream open) minus VmRSS before, divided by 100,000; shown beside
  the size of one such event as compact JSON.
Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import SEED_CHILD, SEED_SESSION, Server, median, row, write_rows  # noqa: E402
from fanout import (APPEND_PATH, THREAD_STREAM, BenchFailure, Reader, build_reader,  # noqa: E402
                    count_events, raise_open_file_limit, reset)

STARTS = 5
RESETS = 50
STREAMS = 10_000
STORED_EVENTS = 100_000
BATCH = 1_000


def rss_split_kib(pid: int) -> tuple[int, int]:
    """The anonymous (the process's own data) and file-backed (mapped binaries and libraries,
    shareable with other processes) parts of VmRSS, in KiB."""
    parts = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            parts[line.split(":")[0]] = int(line.split()[1])
    return parts.get("RssAnon", -1), parts.get("RssFile", -1)


def start_figures(binary: str) -> tuple[list[float], list[int], tuple[int, int]]:
    """ready_ms and VmRSS (KiB) right after the ready line, for each of STARTS starts, and the
    anonymous/file-backed split of the last start's VmRSS."""
    ready, rss = [], []
    split = (-1, -1)
    for _ in range(STARTS):
        server = Server(binary)
        try:
            rss.append(server.rss_kib())
            split = rss_split_kib(server.pid)
            ready.append(server.ready_ms)
        finally:
            server.stop()
    return ready, rss, split


def server_reported_ms(headers: http.client.HTTPMessage, body: bytes) -> float | None:
    """The server's own duration of the reset, if its answer carries one."""
    timing = headers.get("Server-Timing")
    if timing:
        for part in timing.split(","):
            for field in part.split(";"):
                field = field.strip()
                if field.startswith("dur="):
                    return float(field[4:])
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, dict):
        for key, value in doc.items():
            if isinstance(value, (int, float)) and key.endswith("_ms"):
                return float(value)
            if isinstance(value, (int, float)) and key.endswith("_us"):
                return float(value) / 1000
    return None


def reset_figures(server: Server) -> tuple[list[float], list[float]]:
    """Client-side ms of each measured reset, and the server's own figures where given."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    client, own = [], []
    try:
        for n in range(5 + RESETS):
            start = time.perf_counter_ns()
            conn.request("POST", "/_mock/reset", headers={"Content-Length": "0"})
            resp = conn.getresponse()
            body = resp.read()
            took = (time.perf_counter_ns() - start) / 1e6
            if resp.status != 200:
                raise BenchFailure(f"reset answered {resp.status}: {body[:200]!r}")
            if n >= 5:
                client.append(took)
                figure = server_reported_ms(resp.msg, body)
                if figure is not None:
                    own.append(figure)
    finally:
        conn.close()
    return client, own


def stream_figures(server: Server, reader_bin: str, workdir: str) -> tuple[int, int, int, float]:
    """RSS before, with STREAMS open, and after they closed (KiB), and the seconds they took to open."""
    reset(server)
    history = count_events(server, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events")
    # one stream opened and closed first, so one-time set-up is not counted per stream
    warm = Reader(reader_bin, server.port, THREAD_STREAM, 1, history, 0, workdir, ack=False, timeout_s=60)
    try:
        warm.expect("ready 1", timeout=30)
        warm.release()
        warm.expect("done", timeout=30)
        if warm.finish(timeout=30)["exit"] != 0:
            raise BenchFailure("the warm-up stream failed")
    finally:
        warm.stop()
    wait_open_streams(server, 0)
    before = server.rss_kib()
    reader = Reader(reader_bin, server.port, THREAD_STREAM, STREAMS, history, 0, workdir, ack=False,
                    timeout_s=600)
    try:
        t0 = time.monotonic()
        reader.expect(f"ready {STREAMS}", timeout=300)
        opened = time.monotonic() - t0
        held = server.rss_kib()
        wait_open_streams(server, STREAMS)
        reader.release()
        reader.expect("done", timeout=60)
        if reader.finish(timeout=60)["exit"] != 0:
            raise BenchFailure(f"the reader lost streams: {reader.stderr_text()}")
    finally:
        reader.stop()
    wait_open_streams(server, 0)
    after = server.rss_kib()
    return before, held, after, opened


def wait_open_streams(server: Server, want: int, timeout: float = 30.0) -> None:
    """Asks /_mock/stats until the server counts `want` open streams: a reader's closed sockets
    may be noticed a loop pass after the stats request, so each ask is one more pass, no sleep."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = server.request("GET", "/_mock/stats", timeout=30)
        got = json.loads(body)["open_streams"]
        if got == want:
            return
        if time.monotonic() > deadline:
            raise BenchFailure(f"the server counts {got} open streams, expected {want}")


def event_figures(server: Server) -> tuple[int, int, int, int]:
    """RSS before and after storing STORED_EVENTS more events (KiB), events stored, and the compact
    JSON size in bytes of one of them."""
    reset(server)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    sample = b""

    def batch(first: int, count: int) -> bytes:
        events = [{"type": "agent.message", "content": [{"type": "text", "text": f"stored benchmark event {first + k:06d}"}]}
                  for k in range(count)]
        body = json.dumps({"events": events})
        conn.request("POST", APPEND_PATH, body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        if resp.status not in (200, 201):
            raise BenchFailure(f"append answered {resp.status}: {data[:200]!r}")
        return data

    try:
        batch(0, 10)  # the route and the JSON paths warm once
        stats0 = json.loads(server.request("GET", "/_mock/stats")[1])["events"]
        before = server.rss_kib()
        for first in range(0, STORED_EVENTS, BATCH):
            data = batch(first, BATCH)
            if not sample:
                sample = json.dumps(json.loads(data)["data"][0], separators=(",", ":"), ensure_ascii=False).encode()
        after = server.rss_kib()
        stored = json.loads(server.request("GET", "/_mock/stats")[1])["events"] - stats0
    finally:
        conn.close()
    if stored != STORED_EVENTS:
        raise BenchFailure(f"the server counts {stored} new events, expected {STORED_EVENTS}")
    return before, after, stored, len(sample)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the cloud-agents-mock release binary")
    ap.add_argument("--out", help="where to write the JSON rows")
    args = ap.parse_args()
    binary = str(Path(args.bin).resolve())

    limit = raise_open_file_limit(STREAMS + 1024)
    if limit < STREAMS + 64:
        print(f"open-file limit {limit} is too low for {STREAMS} streams", file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="bench-memory-")
    server = None
    try:
        reader_bin = build_reader(workdir)
        ready, idle, (anon, filed) = start_figures(binary)
        # a fresh server for each part, so memory one part freed (and malloc kept) is not
        # reused by the next and taken off its figure
        server = Server(binary)
        client, own = reset_figures(server)
        server.stop()
        # all 10,000 on one thread: past the default per-session stream budget (4,000)
        server = Server(binary, "--max-streams", str(2 * STREAMS), "--max-streams-per-session", str(2 * STREAMS))
        s_before, s_held, s_after, s_open = stream_figures(server, reader_bin, workdir)
        server.stop()
        server = Server(binary)
        e_before, e_after, stored, event_json = event_figures(server)
        server.stop()
        server = None

        per_stream_kib = (s_held - s_before) / STREAMS
        per_event_bytes = (e_after - e_before) * 1024 / stored
        rows = [
            row("memory", f"time to ready line (median of {STARTS} starts)", median(ready), "ms", target="< 30 ms",
                met=median(ready) < 30, reference=f"min {min(ready):.1f}, max {max(ready):.1f} ms"),
            row("memory", "resident memory right after ready (median)", median(idle) / 1024, "MiB",
                target="< 20 MiB", met=median(idle) / 1024 < 20,
                reference=f"{min(idle):,}-{max(idle):,} KiB over {STARTS} starts; of the last: "
                          f"{anon / 1024:.1f} MiB own (anonymous), {filed / 1024:.1f} MiB mapped files "
                          f"(binary and shared libraries)"),
            row("memory", f"POST /_mock/reset, client side (median of {RESETS})", median(client), "ms",
                target="< 1 ms", met=median(client) < 1,
                reference=f"kept-alive connection; p90 {sorted(client)[int(0.9 * len(client))]:.3f}, "
                          f"max {max(client):.3f} ms"),
            row("memory", "POST /_mock/reset, server's own figure (median)", median(own) if own else None, "ms",
                reference="" if own else "the reset answer carries no duration"),
            row("memory", f"memory per open stream ({STREAMS:,} thread streams)", per_stream_kib, "KiB",
                target="< 8 KiB", met=per_stream_kib < 8,
                reference=f"RSS {s_before / 1024:.1f} -> {s_held / 1024:.1f} MiB; {s_after / 1024:.1f} MiB after "
                          f"they closed; opened in {s_open:.2f} s"),
            row("memory", f"memory per stored event ({stored:,} appended)", per_event_bytes, "bytes",
                reference=f"one such event is {event_json} bytes of compact JSON; RSS {e_before / 1024:.1f} -> "
                          f"{e_after / 1024:.1f} MiB"),
        ]
        write_rows(args.out, rows)
        return 0
    except BenchFailure as e:
        print(f"memory: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
