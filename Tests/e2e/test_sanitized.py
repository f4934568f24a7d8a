"""The end-to-end and SDK suites again, against an AddressSanitizer build of the server: the
adapter's C interop (libevent callbacks, socket watches, the listener wrap, the probe) and the
parser's raw buffers are checked for out-of-bounds and use-after-free on every path those
suites drive. A sanitizer report aborts the server, which fails the test that drove it.

Tests that assert resident memory are skipped in that run (the sanitizer's quarantine holds
freed memory); they run in the main pass. The Swift unit tests run under the sanitizer in
scripts/test.sh.
"""

from __future__ import annotations

import os
import subprocess
import sys

from support.mockserver import REPO
from support.progress import run_with_progress, terminal_printer

SCRATCH = REPO / ".build-asan"
BINARY = SCRATCH / "debug" / "cloud-agents-mock"


def test_the_suites_pass_against_a_sanitized_server(capsys, tmp_path):
    say = terminal_printer(capsys)
    say("")
    # Incremental: scripts/test.sh has built this scratch folder for the sanitized unit tests.
    code, log = run_with_progress(
        "asan build",
        ["swift", "build", "--product", "cloud-agents-mock", "--sanitize=address", "--scratch-path", str(SCRATCH)],
        cwd=REPO, deadline=1200, say=say,
    )
    assert code == 0, log[-4000:]
    env = dict(os.environ)
    env.update(
        CLOUD_AGENTS_MOCK_BIN=str(BINARY),
        CLOUD_AGENTS_MOCK_SANITIZED="1",
        # Leaks at exit are the runtime's one-time allocations, not the server's.
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1",
    )
    code, log = run_with_progress(
        "asan suites",
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            str(REPO / "Tests" / "e2e"), str(REPO / "Tests" / "sdk"),
            "--deselect", "Tests/e2e/test_docker.py::test_dockerfile_build_and_runtime_layout",
            "--deselect", "Tests/e2e/test_sanitized.py::test_the_suites_pass_against_a_sanitized_server",
        ],
        env=env, cwd=REPO, deadline=1500, say=say,
    )
    assert code == 0, log[-6000:]
    assert "AddressSanitizer" not in log
