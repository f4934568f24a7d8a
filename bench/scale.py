#!/usr/bin/env python3
"""Scale: how start-up, memory, reset, export, listing and streaming grow with the fixture.

Usage: bench/scale.py --bin BIN --out FILE [--sizes 10000,100000,1000000] [--rounds 3]
                      [--requests 300] [--keep DIR]

For each size N a fixture is generated (bench/gen_fixture.py) into a temporary folder: N/1000
sessions, each a coordinator and 9 children with 100 events per thread, except that the first
child of the first session (the "largest thread") has N/100 events: 100, 1,000 and 10,000 for the
default sizes (at 10k it is as long as every other thread). The total is therefore N plus
N/100 - 100 events (1,009,900 for 1M); the rows give the exact count.

Measured per size, on servers started with `--fixtures FILE --log-level warning`:
- the fixture's JSON size;
- time from exec to the ready line, median of --rounds starts (target at 1M: < 2 s);
- resident memory right after the ready line, median of the same starts (target at 1M: under
  2x the JSON size), and again after the resets;
- `POST /_mock/reset` (after creating one session, so there is something to undo), client side;
- `GET /_mock/state`: time to the last byte and size (target at 1M: < 1 s);
- `GET /_mock/state` is read over a raw socket into a preallocated buffer, since http.client
  is slower than the server on a body of hundreds of MiB;
- on the largest thread: `GET .../events?limit=100`, the first page and a page from the middle
  (reached by walking next_page cursors), p50 and p99 of --requests sequential requests, once
  on one keep-alive connection and once with a new connection per request (they differ when
  the server's writes wait on the client's delayed ACK: Nagle without TCP_NODELAY);
- the thread's SSE stream: time to the first byte of the response, to the first event, and to
  the end of the last history event, median of max(--rounds, 3) streams;
and between consecutive sizes the growth ratio of ready time and of resident memory (target:
at most 12x for a 10x step, i.e. 1.2 times the step).

Every check of the loaded world (stats counts equal to the generated ones) is asserted. Servers
are stopped by pid in finally blocks; every wait has a deadline. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
import gen_fixture  # noqa: E402

SECTION = "scale"
THREADS = 10
EVENTS = 100
START_TIMEOUT = 900.0  # seconds; early builds needed 20 s and 2 GiB for 1M events
REQUEST_TIMEOUT = 600.0
ONE_MILLION = 1_000_000


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def mib(n_bytes: float) -> float:
    return n_bytes / 1048576


class KeepAlive:
    """Sequential requests on one persistent connection (reopened if the server closes it)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            try:
                self.conn.request("GET", path, headers=bl.AUTH)
                r = self.conn.getresponse()
                body = r.read()
                if r.will_close:
                    self.close()
                return r.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(sorted_values: list[float], p: float) -> float:
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def timed_gets(client: KeepAlive, path: str, n: int) -> tuple[float, float, float, float]:
    """p50 and p99 in ms of `n` sequential GETs of `path` on one keep-alive connection, then
    p50 and p99 of `n` GETs each on a new connection (after two warm-ups)."""
    for _ in range(2):
        status, body = client.get(path)
        assert status == 200, (path, status, body[:300])
    kept, fresh = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = client.get(path)
        kept.append((time.perf_counter() - t0) * 1000)
        assert status == 200, (path, status)
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = bl.request(client.port, "GET", path, timeout=REQUEST_TIMEOUT)
        fresh.append((time.perf_counter() - t0) * 1000)
        assert status == 200, (path, status)
    kept.sort()
    fresh.sort()
    return percentile(kept, 50), percentile(kept, 99), percentile(fresh, 50), percentile(fresh, 99)


class ChunkedReader:
    """Decodes an HTTP/1.1 chunked body as bytes arrive (a read position instead of slicing,
    so a large receive full of small chunks costs linear time)."""

    def __init__(self) -> None:
        self.raw = b""
        self.pos = 0  # read position in raw
        self.body = bytearray()
        self.need = -1  # bytes left in the current chunk (+2 for its CRLF); -1: at a size line
        self.done = False

    def feed(self, data: bytes) -> None:
        if self.done:  # the trailer after the last chunk is of no interest
            return
        self.raw = self.raw[self.pos:] + data if self.pos < len(self.raw) else data
        self.pos = 0
        raw = self.raw
        while True:
            if self.need < 0:
                nl = raw.find(b"\r\n", self.pos)
                if nl < 0:
                    return
                size = int(raw[self.pos:nl].split(b";", 1)[0], 16)
                self.pos = nl + 2
                if size == 0:
                    self.done = True
                    return
                self.need = size + 2
            else:
                data_left = self.need - 2  # data bytes of this chunk still to come
                if data_left > 0:
                    take = min(data_left, len(raw) - self.pos)
                    self.body += raw[self.pos:self.pos + take]
                    self.pos += take
                    self.need -= take
                    if self.need > 2:
                        return
                if len(raw) - self.pos < 2:  # the CRLF that ends the chunk
                    return
                self.pos += 2
                self.need = -1


def timed_get(port: int, path: str, timeout: float) -> tuple[int, float, float, int]:
    """One GET on a new connection. A body of known length is counted as it arrives, with
    large receives into one reused 4 MiB buffer, as curl writing to /dev/null takes it: the
    reader must not be what is measured (the stdlib client is slower than the server on
    bodies of hundreds of MiB, and filling one fresh 465 MB buffer made the page faults of
    the reader's own memory 0.3-1 s of a 1M export, from run to run). Returns the status,
    ms to the first response byte, ms to the last body byte, and the body size."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def recv(n: int) -> bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"GET {path}: no complete answer within {timeout}s")
        sock.settimeout(left)
        data = sock.recv(n)
        if not data:
            raise EOFError(f"GET {path}: connection closed early")
        return data

    try:
        t0 = time.perf_counter()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: {bl.AUTH['Authorization']}\r\nConnection: close\r\n\r\n").encode())
        head = recv(1 << 16)
        first = (time.perf_counter() - t0) * 1000
        while b"\r\n\r\n" not in head:
            head += recv(1 << 16)
        end = head.index(b"\r\n\r\n")
        lines = head[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
        rest = head[end + 4:]
        if "content-length" in headers:
            size = int(headers["content-length"])
            view = memoryview(bytearray(1 << 22))
            got = min(len(rest), size)
            last = rest[got - 1] if got else None
            while got < size:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"GET {path}: body not complete within {timeout}s")
                sock.settimeout(left)
                n = sock.recv_into(view, min(size - got, len(view)))
                if n == 0:
                    raise EOFError(f"GET {path}: connection closed after {got} of {size} bytes")
                got += n
                last = view[n - 1]
            # A JSON document's last byte, so a body cut short and padded would show.
            assert last in (ord("}"), ord("]")), f"GET {path}: the body ends with {last!r}"
        else:
            assert "chunked" in headers.get("transfer-encoding", ""), headers
            reader = ChunkedReader()
            reader.feed(rest)
            while not reader.done:
                reader.feed(recv(1 << 22))
            size = len(reader.body)
        return status, first, (time.perf_counter() - t0) * 1000, size
    finally:
        sock.close()


def stream_history(port: int, path: str, last_id: str, timeout: float) -> tuple[float, float, float, int]:
    """Opens the SSE stream at `path` and reads until the frame of `last_id` is complete.
    Returns ms to the first response byte, to the first event frame, to the end of the last
    history frame, and the body bytes read."""
    marker = f"id: {last_id}\n".encode()
    deadline = time.monotonic() + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {bl.AUTH['Authorization']}\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()
        t0 = time.perf_counter()
        sock.sendall(request)
        first_byte = first_event = None
        head = b""
        reader: ChunkedReader | None = None
        found_at = -1
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"stream history not complete within {timeout}s")
            sock.settimeout(left)
            data = sock.recv(1 << 20)
            if not data:
                raise EOFError("stream closed before the last history event")
            now = time.perf_counter()
            if first_byte is None:
                first_byte = (now - t0) * 1000
            if reader is None:
                head += data
                end = head.find(b"\r\n\r\n")
                if end < 0:
                    continue
                status_line = head.split(b"\r\n", 1)[0]
                assert b" 200 " in status_line, head[:500]
                assert b"chunked" in head[:end].lower(), head[:end]
                reader = ChunkedReader()
                data = head[end + 4:]
            before = len(reader.body)
            reader.feed(data)
            if first_event is None and b"\n\n" in reader.body:
                first_event = (now - t0) * 1000
            if found_at < 0:
                found_at = reader.body.find(marker, max(0, before - len(marker)))
            if found_at >= 0 and reader.body.find(b"\n\n", found_at) >= 0:
                return first_byte, first_event if first_event is not None else (now - t0) * 1000, \
                    (now - t0) * 1000, len(reader.body)
            if reader.done:
                raise EOFError("stream ended before the last history event")
    finally:
        sock.close()


def measure_size(binary: str, n: int, workdir: Path, rounds: int, requests: int, keep: str | None) -> dict:
    """All measurements of one fixture size; returns a dict of raw numbers."""
    sessions = max(1, n // (THREADS * EVENTS))
    big = n // 100 if n // 100 > EVENTS else None
    path = workdir / f"scale-{label(n)}.json"
    summary = gen_fixture.write_fixture(str(path), sessions, THREADS, EVENTS, big_thread_events=big)
    if keep:
        shutil.copy(path, Path(keep) / path.name)
    print(f"# {label(n)}: generated {summary['events']:,} events, {mib(summary['bytes']):.1f} MiB "
          f"in {summary['seconds']:.1f} s", flush=True)
    res: dict = {"n": n, "summary": summary}
    expected = {"sessions": summary["sessions"], "threads": summary["threads"], "events": summary["events"]}
    args = ("--fixtures", str(path), "--log-level", "warning")

    def check_counts(srv: bl.Server, when: str) -> None:
        status, body = srv.request("GET", "/_mock/stats", timeout=REQUEST_TIMEOUT)
        assert status == 200, body
        stats = json.loads(body)
        got = {k: stats[k] for k in expected}
        assert got == expected, f"{when}: /_mock/stats {got} != generated {expected}"

    ready, rss = [], []
    for r in range(rounds):
        srv = bl.Server(binary, *args, timeout=START_TIMEOUT)
        try:
            ready.append(srv.ready_ms)
            rss.append(srv.rss_kib())
            print(f"#   start {r + 1}/{rounds}: ready {srv.ready_ms:,.0f} ms, RSS {rss[-1] / 1024:,.0f} MiB",
                  flush=True)
            if r < rounds - 1:
                check_counts(srv, "after start")
                continue
            # The last server also does everything else.
            check_counts(srv, "after start")
            sid, tid = summary["largest_session"], summary["largest_thread"]
            tpath = f"/api/v1/cloud/sessions/{sid}/threads/{tid}"
            status, body = srv.request("GET", f"{tpath}/events?limit=1&order=desc", timeout=REQUEST_TIMEOUT)
            assert status == 200, body
            last_id = json.loads(body)["data"][0]["id"]

            client = KeepAlive(srv.port)
            try:
                # A cursor to the middle of the thread, reached by walking next_page.
                middle = summary["largest_thread_events"] // 2
                pos, cursor = 0, None
                while pos < middle:
                    step = min(100, middle - pos)
                    q = f"{tpath}/events?limit={step}" + (f"&page={cursor}" if cursor else "")
                    status, body = client.get(q)
                    assert status == 200, body[:300]
                    page = json.loads(body)
                    assert len(page["data"]) == step, (q, len(page["data"]))
                    cursor = page["next_page"]
                    pos += step
                assert cursor, "the largest thread has no middle page"
                res["list_first"] = timed_gets(client, f"{tpath}/events?limit=100", requests)
                res["list_middle"] = timed_gets(client, f"{tpath}/events?limit=100&page={cursor}", requests)
            finally:
                client.close()

            streams = [stream_history(srv.port, f"{tpath}/stream", last_id, REQUEST_TIMEOUT)
                       for _ in range(max(rounds, 3))]
            res["stream"] = [bl.median([s[i] for s in streams]) for i in range(3)]
            res["stream_bytes"] = streams[0][3]

            resets = []
            for _ in range(max(rounds, 3)):
                status, body = srv.request("POST", "/_mock/sessions", {"children": [{}, {}]}, timeout=REQUEST_TIMEOUT)
                assert status == 201, body[:300]
                t0 = time.perf_counter()
                status, body = srv.request("POST", "/_mock/reset", timeout=REQUEST_TIMEOUT)
                resets.append((time.perf_counter() - t0) * 1000)
                assert status == 200, body[:300]
            check_counts(srv, "after reset")
            res["reset_ms"] = bl.median(resets)
            res["rss_after_reset"] = srv.rss_kib()

            exports, firsts, size = [], [], 0
            for _ in range(rounds):
                status, first, total, size = timed_get(srv.port, "/_mock/state", REQUEST_TIMEOUT)
                assert status == 200, status
                exports.append(total)
                firsts.append(first)
            res["export_ms"] = bl.median(exports)
            res["export_first_ms"] = bl.median(firsts)
            res["export_bytes"] = size
            res["rss_after_export"] = srv.rss_kib()
        finally:
            srv.stop()
    res["ready_ms"] = bl.median(ready)
    res["ready_all"] = ready
    res["rss_kib"] = bl.median(rss)
    path.unlink()
    return res


def rows_for(res: dict, rounds: int, requests: int) -> list[dict]:
    n, s = res["n"], res["summary"]
    at_target = n == ONE_MILLION
    L = label(n)
    json_bytes = s["bytes"]
    rss_bytes = res["rss_kib"] * 1024
    out = [
        bl.row(SECTION, f"{L}: events loaded", s["events"], "events",
               reference=f"{s['sessions']:,} sessions x {THREADS} threads; "
                         f"largest thread {s['largest_thread_events']:,}"),
        bl.row(SECTION, f"{L}: fixture JSON size", mib(json_bytes), "MiB",
               reference=f"generated in {s['seconds']:.1f} s"),
        bl.row(SECTION, f"{L}: time to ready line (median of {rounds})", res["ready_ms"], "ms",
               target="< 2 s" if at_target else "", met=(res["ready_ms"] < 2000) if at_target else None,
               reference="runs " + ", ".join(f"{v:,.0f}" for v in res["ready_all"]) + " ms"),
        bl.row(SECTION, f"{L}: RSS after ready (median of {rounds})", mib(rss_bytes), "MiB",
               target=f"< {mib(2 * json_bytes):,.0f} MiB" if at_target else "",
               met=(rss_bytes < 2 * json_bytes) if at_target else None,
               reference=f"{rss_bytes / json_bytes:.2f}x the JSON size"),
        bl.row(SECTION, f"{L}: RSS after resets and exports", mib(res["rss_after_export"] * 1024), "MiB",
               reference=f"after resets {mib(res['rss_after_reset'] * 1024):,.0f} MiB"),
        bl.row(SECTION, f"{L}: POST /_mock/reset (median of {max(rounds, 3)})", res["reset_ms"], "ms"),
        bl.row(SECTION, f"{L}: GET /_mock/state (median of {rounds})", res["export_ms"], "ms",
               target="< 1 s" if at_target else "", met=(res["export_ms"] < 1000) if at_target else None,
               reference=f"first byte after {res['export_first_ms']:,.0f} ms; time to the last byte"),
        bl.row(SECTION, f"{L}: GET /_mock/state size", mib(res["export_bytes"]), "MiB",
               reference=f"{res['export_bytes'] / json_bytes:.2f}x the fixture"),
    ]
    for key, what in (("list_first", "first page"), ("list_middle", "middle page")):
        ka50, ka99, new50, new99 = res[key]
        out += [
            bl.row(SECTION, f"{L}: list {what}, new connection (p50)", new50, "ms",
                   reference=f"p99 {new99:.3g} ms; largest thread, limit 100, {requests} sequential"),
            bl.row(SECTION, f"{L}: list {what}, keep-alive (p50)", ka50, "ms",
                   reference=f"p99 {ka99:.3g} ms; one connection, {requests} sequential"),
        ]
    out += [
        bl.row(SECTION, f"{L}: stream: first byte (median of {max(rounds, 3)})", res["stream"][0], "ms",
               reference="largest thread"),
        bl.row(SECTION, f"{L}: stream: first event (median of {max(rounds, 3)})", res["stream"][1], "ms"),
        bl.row(SECTION, f"{L}: stream: whole history (median of {max(rounds, 3)})", res["stream"][2], "ms",
               reference=f"{s['largest_thread_events']:,} events, {mib(res['stream_bytes']):.1f} MiB"),
    ]
    return out


def growth_rows(prev: dict, cur: dict) -> list[dict]:
    step = cur["summary"]["events"] / prev["summary"]["events"]
    limit = 1.2 * step
    name = f"{label(prev['n'])} -> {label(cur['n'])}"
    rows = []
    for key, what in (("ready_ms", "time to ready"), ("rss_kib", "resident memory")):
        ratio = cur[key] / prev[key]
        rows.append(bl.row(SECTION, f"growth {name}: {what}", ratio, "x", target=f"<= {limit:.3g}x",
                           met=ratio <= limit, reference=f"events grew {step:.2f}x"))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the release binary")
    ap.add_argument("--out", help="JSON file for the rows")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated event counts")
    ap.add_argument("--rounds", type=int, default=3, help="starts (and streams, exports) per size")
    ap.add_argument("--requests", type=int, default=300, help="sequential list requests per page")
    ap.add_argument("--keep", help="also copy each generated fixture into this folder")
    opts = ap.parse_args()
    sizes = [int(x.replace("_", "")) for x in opts.sizes.split(",") if x.strip()]
    results: list[dict] = []
    rows: list[dict] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        for n in sizes:
            res = measure_size(opts.bin, n, workdir, opts.rounds, opts.requests, opts.keep)
            rows += rows_for(res, opts.rounds, opts.requests)
            results.append(res)
        for prev, cur in zip(results, results[1:]):
            rows += growth_rows(prev, cur)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bl.write_rows(opts.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
