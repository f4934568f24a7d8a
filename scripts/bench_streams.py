#!/usr/bin/env python3
"""Fan-out latency of live SSE streams: how long from an append (the control API's
POST returning) until every one of N open streams has received the event.

Stdlib only. Starts the given server binary itself on port 0, opens N streams on the
seed child thread (through the test harness in Tests/support), then appends events one
at a time from a second thread while the main thread reads every stream through one
selector, and prints per-append numbers and their median and max.

    scripts/bench_streams.py --bin .build/release/cloud-agents-mock
    scripts/bench_streams.py --bin .build/debug/cloud-agents-mock --streams 1000 --appends 15

The reader is one Python thread on the same machine as the server, so the numbers
include the time Python takes to read N sockets; `--streams 1` shows that floor's
single-stream counterpart.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests"))

from support.mockserver import SEED_CHILD, SEED_SESSION, MockServer  # noqa: E402
from support.sse import StreamGroup  # noqa: E402


def server_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="path to the cloud-agents-mock binary")
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--appends", type=int, default=10, help="measured appends (after 2 warm-up ones)")
    ap.add_argument("--payload", type=int, default=200, help="bytes of text in each event")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.streams + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else min(need, hard), hard))
    os.environ["CLOUD_AGENTS_MOCK_BIN"] = str(Path(args.bin).resolve())

    with MockServer() as server:
        path = f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream"
        t = time.monotonic()
        group = StreamGroup(server.host, server.port, path, args.streams, timeout=120)
        group.wait_events(2, timeout=60)
        opened = time.monotonic() - t
        print(f"binary: {args.bin}")
        print(f"opened {args.streams} streams in {opened * 1000:.0f} ms; server RSS {server.rss_kib() / 1024:.1f} MiB, "
              f"{server.open_fds()} fds; open_streams={server.stats()['open_streams']}")
        from_return: list[float] = []
        from_send: list[float] = []
        cpu_start = server_cpu_seconds(server.pid)
        try:
            for n in range(args.appends + 2):
                stamps: dict[str, float] = {}

                def post() -> None:
                    stamps["sent"] = time.monotonic()
                    server.append_events(SEED_SESSION, SEED_CHILD,
                                         [{"type": "agent.message", "content": "b" * args.payload, "n": n}])
                    stamps["returned"] = time.monotonic()

                poster = threading.Thread(target=post)
                poster.start()
                group.wait_events(3 + n, timeout=60)
                poster.join(timeout=30)
                last = max(group.frames[i][-1][0] for i in range(args.streams))
                first = min(group.frames[i][-1][0] for i in range(args.streams))
                if n < 2:
                    continue  # warm-up
                from_return.append((last - stamps["returned"]) * 1000)
                from_send.append((last - stamps["sent"]) * 1000)
                print(f"append {n - 1:2d}: POST took {(stamps['returned'] - stamps['sent']) * 1000:6.2f} ms; "
                      f"first stream got it {(first - stamps['sent']) * 1000:6.2f} ms after sending; "
                      f"all {args.streams} {from_return[-1]:6.2f} ms after the POST returned")
            cpu_ms = (server_cpu_seconds(server.pid) - cpu_start) * 1000 / (args.appends + 2)
        finally:
            group.close()
        print(f"server CPU per append (fan-out to {args.streams} streams plus the POST): {cpu_ms:.1f} ms")
        print(f"all {args.streams} streams received an append, ms after the POST returned: "
              f"median {statistics.median(from_return):.2f}, max {max(from_return):.2f}")
        print(f"                                       ms after the POST was sent:     "
              f"median {statistics.median(from_send):.2f}, max {max(from_send):.2f}")
        code = server.stop()
        print(f"server exit code {code}")
        return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
