"""Schemathesis hooks for Tests/contract/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

Before every generated request the mock is reset to its fixture, so each case sees the same world
and nothing a fuzzed control call does (a new token, an armed fault, a frozen clock, a replaced
state) leaks into the next case. That keeps a run reproducible for a given seed.
Two adjustments keep the run bounded, and are the only changes made to generated cases:
  * streams: the seed threads are moved to a final status first, so an SSE answer replays the
    history and ends instead of staying open (the stream routes are fuzzed, not excluded);
  * the long-poll `GET /_mock/journal/wait`: a valid `timeout_ms` above 200 is lowered to 200.
"""

from __future__ import annotations

import json
import os
import urllib.request

import schemathesis

BASE = os.environ["CLOUD_AGENTS_MOCK_FUZZ_BASE"]
SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_THREADS = ["sthr_019f00000000000000000000000002bb", "sthr_019f00000000000000000000000001aa"]
MAX_WAIT_MS = 200


def control(method: str, path: str, body: object = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + "/_mock" + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as resp:
        resp.read()
        return resp.status


def streams(case) -> bool:
    path = case.operation.path
    return path.endswith("/stream") or path.endswith("/events")


@schemathesis.hook
def before_call(context, case, kwargs):
    control("POST", "/reset")
    if streams(case):
        for tid in SEED_THREADS:
            control("POST", f"/sessions/{SEED_SESSION}/threads/{tid}/status", {"status": "terminated"})
    if case.operation.path == "/_mock/journal/wait" and isinstance(case.query, dict):
        raw = case.query.get("timeout_ms")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return
        if value > MAX_WAIT_MS and str(raw).strip().lstrip("+").isdigit():
            case.query["timeout_ms"] = MAX_WAIT_MS
