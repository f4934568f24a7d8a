"""The end-to-end and SDK suites again, once against an AddressSanitizer build of the server and
once against a ThreadSanitizer build.

AddressSanitizer checks the adapter's C interop (libevent callbacks, socket watches, the listener
wrap, the probe) and the parser's raw buffers for out-of-bounds and use-after-free on every path
those suites drive. ThreadSanitizer checks for data races and for signal handlers that call what
a handler must not or spoil errno. The server is one thread (its loop); what arrives from outside
it is checked where it meets the loop: SIGTERM and SIGINT during load with streams open, and again
while streams end (the last test here), the command line's start-up (bad fixtures, the ready line),
`health` on its own libevent loop, and timers of the running and advanced clock. Its suppressions
are in Tests/sanitizers/tsan.supp.

A report aborts the process that made it, which fails the test that drove it. Every process also
writes its reports to a file of its own (the sanitizer's log_path), so a report where no test looks
(at shutdown, in a `health` run, in a server whose exit status nobody checks) fails this test too.

Tests that assert resident memory are skipped in these runs (the sanitizers' allocators hold freed
memory); they run in the main pass. The Swift unit tests run under both sanitizers in
scripts/test.sh.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest

from support.mockserver import REPO, SEED_CHILD, SEED_SESSION, binary_path, wait_until
from support.progress import run_with_progress, terminal_printer
from support.sse import SSEClient

TSAN_SUPPRESSIONS = REPO / "Tests" / "sanitizers" / "tsan.supp"

# name: (short label, scratch folder shared with the Swift tests of scripts/test.sh,
#        options variable, options, the name its reports carry)
SANITIZERS = {
    # Leaks at exit are the runtime's one-time allocations, not the server's.
    "address": ("asan", ".build-asan", "ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1:halt_on_error=1",
                "AddressSanitizer"),
    "thread": ("tsan", ".build-tsan", "TSAN_OPTIONS",
               f"halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions={TSAN_SUPPRESSIONS}",
               "ThreadSanitizer"),
}


@pytest.mark.parametrize("sanitizer", list(SANITIZERS))
def test_the_suites_pass_against_a_sanitized_server(sanitizer, capsys, tmp_path):
    label, scratch, options_variable, options, report_name = SANITIZERS[sanitizer]
    say = terminal_printer(capsys)
    say("")
    # Incremental: scripts/test.sh has built this scratch folder for the sanitized unit tests.
    code, log = run_with_progress(
        f"{label} build",
        ["swift", "build", "--product", "cloud-agents-mock", f"--sanitize={sanitizer}", "--scratch-path",
         str(REPO / scratch)],
        cwd=REPO, deadline=1200, say=say,
    )
    assert code == 0, log[-4000:]
    reports = tmp_path / "reports"
    reports.mkdir()
    env = dict(os.environ)
    env.update({
        "CLOUD_AGENTS_MOCK_BIN": str(REPO / scratch / "debug" / "cloud-agents-mock"),
        "CLOUD_AGENTS_MOCK_SANITIZED": "1",
        options_variable: f"{options}:log_path={reports / label}",
        # The report has the stacks; the Swift runtime's backtracer, catching the abort that
        # follows, would only hold the process up (under ThreadSanitizer it hangs).
        "SWIFT_BACKTRACE": "enable=no",
    })
    code, log = run_with_progress(
        f"{label} suites",
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(REPO / "Tests" / "e2e"), str(REPO / "Tests" / "sdk"),
            "--deselect", "Tests/e2e/test_docker.py::test_dockerfile_build_and_runtime_layout",
            "--deselect", "Tests/e2e/test_sanitized.py::test_the_suites_pass_against_a_sanitized_server",
        ],
        env=env, cwd=REPO, deadline=1500, say=say,
    )
    found = sorted(reports.iterdir())
    assert not found, f"{report_name} reports from {len(found)} process(es); the first:\n" + "\n".join(
        p.read_text(errors="replace")[:8000] for p in found[:2])
    assert code == 0, log[-6000:]
    assert report_name not in log


@pytest.mark.parametrize("signals", [["SIGTERM"], ["SIGINT"], ["SIGTERM", "SIGTERM"]], ids="+".join)
def test_a_signal_during_load_with_streams_open_stops_the_server_with_exit_0(start_server, signals):
    """Where the signal handler meets the loop, and what it stops: turns playing on the running clock,
    clock advances, appends read by open streams, `health` runs. Each stream gets its terminating
    chunk. In the sanitized runs above (which run this file) the sanitizers watch all of it."""
    server = start_server()
    streams = [
        SSEClient(server.host, server.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream", timeout=60)
        for _ in range(8)
    ]
    for s in streams:
        assert s.read_head() == 200
    signalled = threading.Event()
    problems: list[str] = []
    rounds = [0]

    def read(s: SSEClient) -> None:
        try:
            s.read_to_end()
        except Exception as e:  # noqa: BLE001 (reported below)
            problems.append(f"stream: {e!r}")
        if not s.ended:
            problems.append("a stream did not get its terminating chunk")

    def load(n: int) -> None:
        text = [{"type": "text", "text": f"load {n}"}]
        while not signalled.is_set():
            try:
                agent = server.post("/v1/agents", {"name": "Helper", "model": "ultimate"}, timeout=30)
                session = server.post("/v1/sessions", {"agent": agent.json()["id"]}, timeout=30)
                statuses = [
                    agent.status, session.status,
                    server.post(f"/v1/sessions/{session.json()['id']}/events",
                                {"events": [{"type": "user.message", "content": "Hello"}]}, timeout=30).status,
                    server.control("POST", "/clock/advance", {"ms": 250}, timeout=30).status,
                    server.control("POST", f"/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events",
                                   {"events": [{"type": "agent.message", "content": text}]}, timeout=30).status,
                ]
            except Exception as e:  # noqa: BLE001 (the server going away is expected once signalled)
                if not signalled.is_set():
                    problems.append(f"load: {e!r}")
                return
            if not signalled.is_set() and any(not 200 <= status < 300 for status in statuses):
                problems.append(f"load: statuses {statuses}")
            rounds[0] += 1

    threads = [threading.Thread(target=read, args=(s,)) for s in streams]
    threads += [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        health = subprocess.run([binary_path(), "health", "--url", server.base, "--timeout-ms", "30000"],
                                capture_output=True, text=True, timeout=60)
        assert health.returncode == 0, health.stderr
        # The signal lands in the middle of the load: after 20 rounds of it.
        wait_until(lambda: rounds[0] >= 20 or bool(problems), timeout=60, message="20 rounds of load")
    finally:
        signalled.set()
        os.kill(server.pid, getattr(signal, signals[0]))
        for name in signals[1:]:
            # The second lands while the first is ending the streams (sent at once, the two
            # would merge into one pending signal).
            wait_until(lambda: any(s.ended for s in streams), timeout=30, message="a stream ended")
            try:
                os.kill(server.pid, getattr(signal, name))
            except ProcessLookupError:
                pass  # already gone: the first one finished the job
        code = server.proc.wait(timeout=60)
        for t in threads:
            t.join(timeout=60)
    assert code == 0, server.stderr_text()[-3000:]
    assert problems == []
