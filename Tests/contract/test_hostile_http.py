"""Hostile HTTP through real sockets: requests assembled from mangled pieces (methods, targets
with odd percent-encoding and dot segments, duplicated and malformed headers, bodies whose
length disagrees with Content-Length, bare LFs, NULs) and sent raw. For each one the server
must answer with a well-formed status line or close the connection, never crash or hang;
every answer of the mock's own (it carries x-request-id) that is an error is in the API's
envelope; and another client is served promptly right after. Generation is derandomized, so a
run is the same run every time (schemathesis covers well-formed requests; this covers what
no schema describes)."""

from __future__ import annotations

import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.mockserver import SEED_CHILD, SEED_SESSION, MockServer

PATHS = [
    "/v1/sessions", f"/v1/sessions/{SEED_SESSION}/threads", f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}",
    f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events", f"/v1/sessions/{SEED_SESSION}/events",
    f"/api/v1/cloud/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/archive", "/v1/agents", "/_mock/journal",
    "/_mock/state", "/_mock/faults", "/_mock/sessions", "/", "*",
]
ODD = ["%", "%0", "%zz", "%00", "%2F", "%252F", "..", "/./", "//", "\u00e9", "%c3%28", "?", "#", ";", " ", "\t", "~"]

pieces = st.sampled_from(ODD) | st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FF), max_size=8)
targets = st.builds(lambda p, extra, q: p + "".join(extra) + q, st.sampled_from(PATHS), st.lists(pieces, max_size=4),
                    st.sampled_from(["", "?limit=1", "?limit=-1", "?limit=abc&limit=2", "?statuses[]=x&order=up",
                                     "?after_id=evt_x&before_id=evt_y", "?page=%%%", "?timeout_ms=1&path=*"]))
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "get", "G ET", "",
                           "QUERY", "X" * 40])
header_names = st.sampled_from(["Authorization", "Content-Type", "Accept", "Last-Event-ID", "X-Request-Id",
                                "Transfer-Encoding", "Connection", "Expect", "X-Mock-Admin-Token", "Bad Name", ""])
header_values = st.sampled_from(["Bearer t", "Bearer", "", "application/json", "text/event-stream", "chunked",
                                 "close", "100-continue", "evt_\r\nX: y", "\u00e9\u00e9", "x" * 300, "\x00"])
bodies = st.sampled_from([b"", b"{}", b"{", b'{"events": [', b"[]", b"null", b'{"a":' * 50, b"\xff\xfe",
                          b'{"events":[{"type":"user.message","content":"hi"}]}'])


@st.composite
def raw_requests(draw) -> bytes:
    method = draw(methods)
    target = draw(targets)
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/9.9", "", "http/1.1"]))
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    headers = [(n, v) for n, v in draw(st.lists(st.tuples(header_names, header_values), max_size=6))]
    body = draw(bodies)
    length = draw(st.sampled_from([None, len(body), len(body) + 5, max(0, len(body) - 1), -1, "x"]))
    lines = [f"{method} {target} {version}".strip(), "Host: mock"]
    lines += [f"{n}: {v}" for n, v in headers]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    head = eol.join(lines) + eol + eol
    return head.encode("utf-8", errors="surrogatepass") + body


def exchange(server: MockServer, raw: bytes) -> bytes:
    """Sends raw bytes, half-closes, and reads until the server closes (or answers a whole response)."""
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(raw)
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        chunks = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            except socket.timeout:
                pytest.fail(f"no answer and no close within 5 s for {raw[:200]!r}")
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


@pytest.fixture(scope="module")
def server():
    with MockServer("--request-timeout", "5") as s:
        yield s


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=raw_requests())
def test_hostile_requests_get_a_status_line_or_a_close(server, raw):
    answer = exchange(server, raw)
    assert server.proc.poll() is None, f"the server died on {raw[:300]!r}: {server.stderr_text()[-2000:]}"
    if answer:
        status_line, _, rest = answer.partition(b"\r\n")
        parts = status_line.split(b" ", 2)
        assert len(parts) >= 2 and parts[0] in (b"HTTP/1.1", b"HTTP/1.0") and parts[1].isdigit(), answer[:300]
        head, _, body = rest.partition(b"\r\n\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))}
        status = int(parts[1])
        if b"x-request-id" in headers and status >= 400 and body and b"chunked" not in headers.get(b"transfer-encoding", b""):
            envelope = json.loads(body)
            assert envelope["type"] == "error" and envelope["error"]["type"], body[:300]
    # Another client is served promptly afterwards: nothing above held the loop.
    started = time.monotonic()
    assert server.get("/_mock/health", token=None, timeout=5).status == 200
    assert time.monotonic() - started < 1.0
