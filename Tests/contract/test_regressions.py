"""Regression tests for what the contract checks (schemathesis, the OpenAPI document, the SDK
suite) found. Each test names the failure it pins; plain requests through the harness."""

from __future__ import annotations

import json
import re
import socket

import pytest

from support.mockserver import SEED_CHILD, SEED_SESSION, MockServer



def raw_exchange(server: MockServer, payload: bytes, responses: int, timeout: float = 5.0) -> tuple[list[bytes], bytes]:
    """Sends raw bytes on one connection and returns the status lines of the answers read
    before the server closes the connection or `responses` arrived (with a deadline)."""
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    data = b""
    try:
        sock.sendall(payload)
        while data.count(b"HTTP/1.1 ") < responses or not data.endswith((b"}", b">\n")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    finally:
        sock.close()
    return re.findall(rb"HTTP/1\.1 \d{3} [A-Za-z ]+", data), data


# -- schemathesis ST101/ST204: a body on HEAD/TRACE desynchronised the kept-alive connection ------


@pytest.mark.parametrize("method", ["TRACE", "HEAD"])
def test_body_on_a_bodiless_method_does_not_poison_the_next_request(mock, method):
    """evhttp 2.1 reads no body for HEAD/TRACE; the unread body used to be parsed as the next
    request on the same connection, which then got evhttp's own HTML 501/400 (found by the
    coverage phase's undeclared-method cases: TRACE with a JSON body, then PUT on the same
    connection). Fixed in Sources/MockServer/LibeventServer.swift: such a connection closes after
    the reply. The next request must never be answered from the leftover bytes."""
    body = b'{"ms": 1000}'
    payload = (
        f"{method} /_mock/clock/advance HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
        + b"GET /_mock/clock HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    statuses, data = raw_exchange(mock, payload, responses=2)
    assert statuses[0] == b"HTTP/1.1 405 Method Not Allowed", data
    assert b"Not Implemented" not in data and b"<HTML>" not in data, data
    assert b"connection: close" in data.lower(), data
    # The client retries on a new connection, as HTTP clients do after Connection: close.
    assert mock.control("GET", "/clock").status == 200


def test_body_on_get_keeps_the_connection_usable(mock):
    body = b"{}"
    payload = (
        b"GET /_mock/clock HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n" + body + b"GET /_mock/health HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    statuses, data = raw_exchange(mock, payload, responses=2)
    assert statuses == [b"HTTP/1.1 200 OK", b"HTTP/1.1 200 OK"], data


@pytest.mark.xfail(strict=True, reason="libevent 2.1 answers methods it does not know (QUERY) with its own 501 page")
def test_unknown_method_gets_the_envelope(mock):
    r = mock.request("QUERY", "/v1/sessions")
    assert r.status == 405 and r.json()["type"] == "error"


# -- schemathesis ST108: the clock could be advanced past year 9999 (and overflow Int64) ---------


@pytest.mark.parametrize(
    "body, param",
    [
        ({"by": "954545324h"}, "by"),  # the case schemathesis found: "110920-11-28T02:33:20.702Z"
        ({"ms": 300_000_000_000_000}, "ms"),
        ({"ms": 9_223_372_036_854_775_807}, "ms"),  # Int64 overflow: used to stop the server (SIGILL)
        ({"by": "9999999999999999d"}, "by"),  # overflow in the duration parser
    ],
)
def test_clock_cannot_leave_rfc3339(mock, body, param):
    before = mock.control("GET", "/clock").json()
    r = mock.control("POST", "/clock/advance", body)
    assert r.status == 400, r.text
    assert r.json()["error"]["param"] == param
    assert mock.control("GET", "/clock").json()["mode"] == before["mode"]
    assert mock.proc.poll() is None
    ok = mock.control("POST", "/clock/advance", {"by": "1d"})
    assert ok.status == 200 and ok.json()["now"][:4].isdigit() and len(ok.json()["now"]) == 24


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59.999-01:00", "0000-01-01T00:00:00.000+01:00"])
def test_timestamps_outside_four_digit_years_are_refused(mock, at):
    """An offset pushed a 9999/0000 date outside what RFC 3339 can write; Timestamp.parse now refuses it."""
    r = mock.control("POST", "/clock/freeze", {"at": at})
    assert r.status == 400 and r.json()["error"]["param"] == "at", r.text
    edge = mock.control("POST", "/clock/freeze", {"at": "9999-12-31T23:59:59.999Z"})
    assert edge.status == 200 and edge.json()["now"] == "9999-12-31T23:59:59.999Z"


# -- found while writing the document: a fixture event with null times was served with null times --


def test_fixture_event_null_times_are_filled(mock):
    state = mock.control("GET", "/state").json()
    child = next(t for t in state["sessions"][0]["threads"] if t["id"] == SEED_CHILD)
    child["events"].append({"id": "evt_nulltimes", "type": "custom.x", "created_at": None, "processed_at": None})
    r = mock.control("PUT", "/state", state)
    assert r.status == 200, r.text
    events = mock.get(f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events").json()["data"]
    last = events[-1]
    assert last["id"] == "evt_nulltimes"
    assert isinstance(last["created_at"], str) and last["processed_at"] == last["created_at"]


# -- document bugs schemathesis found (ST108): pinned against live answers ----------------------


def validator(schema_name: str):
    from jsonschema import Draft202012Validator

    from support.mockserver import REPO

    doc = json.loads((REPO / "Sources" / "MockApp" / "Resources" / "openapi.json").read_text())
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]})


def test_control_session_answer_matches_its_schema(mock):
    """POST /_mock/sessions answers a session plus `threads`; the document first said `Session`
    (additionalProperties: false), which refused `threads`."""
    r = mock.control("POST", "/sessions", {"children": [{"status": "running"}]})
    assert r.status == 201
    errors = [e.message for e in validator("SessionWithThreads").iter_errors(r.json())]
    assert errors == []


def test_sse_frames_match_their_schema(mock):
    """Schemathesis validates each SSE frame ({id, event, data}) against the stream's schema; the
    document first said `type: string`. Now SSEFrame, whose `data` is the Event JSON."""
    from support.sse import SSEClient

    mock.set_status(SEED_SESSION, SEED_CHILD, "terminated")
    frame_check = validator("SSEFrame")
    event_check = validator("Event")
    with SSEClient(mock.host, mock.port, f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/stream") as s:
        frames = s.events(3)
    for f in frames:
        frame = {"id": f.id, "event": f.event, "data": f.get("data")}
        assert [e.message for e in frame_check.iter_errors(frame)] == []
        assert [e.message for e in event_check.iter_errors(json.loads(frame["data"]))] == []
        assert f.data["id"] == f.id and f.data["type"] == f.event
