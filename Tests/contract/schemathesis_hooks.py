"""Schemathesis hooks for Tests/contract/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

Before every generated request the mock is reset to its fixture, so each case sees the same world
and nothing a fuzzed control call does (a new token, an armed fault, a frozen clock, a replaced
state) leaks into the next case. That keeps a run reproducible for a given seed.
Three adjustments keep the run bounded, and are the only changes made to generated cases:
  * thread streams: the seed threads are moved to a final status first, so an SSE answer replays
    the history and ends instead of staying open (the stream routes are fuzzed, not excluded);
  * session streams, which end only when their session is deleted: the seed session is deleted
    through the API shortly after the request went out (the stream replays its history, gets
    `session.deleted` and ends); a request answered before that cancels the deletion;
  * the long-poll `GET /_mock/journal/wait`: a valid `timeout_ms` above 200 is lowered to 200.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request

import schemathesis

BASE = os.environ["CLOUD_AGENTS_MOCK_FUZZ_BASE"]
TOKEN = os.environ.get("CLOUD_AGENTS_MOCK_FUZZ_TOKEN", "test-token")
SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_THREADS = ["sthr_019f00000000000000000000000002bb", "sthr_019f00000000000000000000000001aa"]
MAX_WAIT_MS = 200
SESSION_STREAM_END_S = 0.15
_pending_delete: threading.Timer | None = None


def control(method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + "/_mock" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
        return resp.status


def delete_seed_session() -> None:
    req = urllib.request.Request(f"{BASE}/v1/sessions/{SEED_SESSION}", method="DELETE")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()
    except urllib.error.HTTPError:
        pass  # already gone (the case itself deleted it)


def streams(case) -> bool:
    path = case.operation.path
    return case.method.upper() == "GET" and (path.endswith("/stream") or path.endswith("/events"))


def session_stream(case) -> bool:
    return streams(case) and "/threads/" not in case.operation.path


@schemathesis.hook
def before_call(context, case, kwargs):
    global _pending_delete
    control("POST", "/reset")
    if streams(case):
        for tid in SEED_THREADS:
            control("POST", f"/sessions/{SEED_SESSION}/threads/{tid}/status", {"status": "terminated"})
    if session_stream(case):
        _pending_delete = threading.Timer(SESSION_STREAM_END_S, delete_seed_session)
        _pending_delete.start()
    if case.operation.path == "/_mock/journal/wait" and isinstance(case.query, dict):
        raw = case.query.get("timeout_ms")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return
        if value > MAX_WAIT_MS and str(raw).strip().lstrip("+").isdigit():
            case.query["timeout_ms"] = MAX_WAIT_MS


@schemathesis.hook
def after_call(context, case, response):
    global _pending_delete
    if _pending_delete is not None:
        _pending_delete.cancel()
        _pending_delete.join()
        _pending_delete = None
