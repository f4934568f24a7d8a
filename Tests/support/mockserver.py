"""What this repository's own tests share beyond the `cloud_agents_mock` package (clients/python,
installed in editable mode into .venv): the seed fixture's ids, the binary of this checkout, and the
error-envelope assertion. Servers are started and driven by the package; its pytest plugin gives the
fixtures (Tests/conftest.py names them for these suites).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from cloud_agents_mock import READY_PREFIX, Response, read_ready_line  # noqa: F401 (re-exported)
from cloud_agents_mock import MockServer as _PackageServer

REPO = Path(__file__).resolve().parents[2]
SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_COORDINATOR = "sthr_019f00000000000000000000000001aa"
SEED_CHILD = "sthr_019f00000000000000000000000002bb"
SEED_EVENTS = ["evt_019f0000000000000000000000000101", "evt_019f0000000000000000000000000102"]


def binary_path() -> str:
    """The binary under test: $CLOUD_AGENTS_MOCK_BIN, else this checkout's debug build."""
    explicit = os.environ.get("CLOUD_AGENTS_MOCK_BIN")
    if explicit:
        return explicit
    return str(REPO / ".build" / "debug" / "cloud-agents-mock")


class MockServer(_PackageServer):
    """The package's MockServer, started from this checkout's binary unless told otherwise."""

    def __init__(self, *args: str, **kw: Any):
        kw.setdefault("binary", binary_path())
        super().__init__(*args, **kw)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01, message: str = "condition"):
    """Polls predicate until it is truthy or the deadline passes (for server-side state, not readiness)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not met within {timeout}s")
        time.sleep(interval)


def error_of(r: "Response", status: int, etype: str) -> dict:
    """Asserts the API's error envelope (API.md section 3) and returns its `error` object."""
    assert r.status == status, r.text
    body = r.json()
    assert body["type"] == "error", body
    assert body["request_id"] == r.headers["x-request-id"] == r.headers["request-id"]
    assert body["error"]["type"] == etype, body
    assert r.headers["content-type"] == "application/json"
    assert "x-mock-version" in r.headers
    return body["error"]
