#!/usr/bin/env python3
"""Writes a large fixture for the scale benchmark: S sessions, each with a coordinator and
T-1 children, E events on every thread.

Usage: bench/gen_fixture.py --sessions S --threads T --events E --out PATH
       [--big-thread-events N] [--full]

The events follow the shape of a real multi-agent turn (as the seed's scripted research turn
writes them): a `user.message` (on a child, the coordinator's `agent.thread_message_sent`),
`agent.thinking`, an `agent.tool_use` and its `agent.tool_result`, a model request
(`span.model_request_start` and `span.model_request_end` with `model_usage`), an
`agent.message`, and the thread going idle; every turn has its own `turn_id`. Texts vary in
length, so events are about 150 to 450 bytes.

Events leave out the fields the server fills in on load (`schema_version`, `session_id`,
`session_thread_id`, `processed_at`), as a hand-written fixture does; `--full` writes them too,
as `GET /_mock/state` does. `--big-thread-events N` gives the first child of the first session N
events instead of E, so that one thread is clearly the largest (its id is printed).

Ids are unique (`prefix_` + 32 hex digits in the UUIDv7 layout), every thread's `created_at`
increases, and threads reference the two agents of the fixture by id. The output is built
from string templates (no json.dumps per event), so a million events take a few seconds.
Standard library only. Prints one JSON line: counts, the largest thread and the byte size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

COORD_AGENT = "agent_019f000000000000000000000000001a"
CHILD_AGENT = "agent_019f000000000000000000000000002b"
BASE_MS = 1781510400000  # 2026-06-15T08:00:00.000Z
SESSION_SPACING_MS = 60_000
EVENT_STEP_MS = 1000  # event k of a thread is k seconds after its session starts ...
THREAD_OFFSET_MS = 7  # ... plus 7 ms per thread index, so threads interleave in the session order

# Kinds keep the id spaces apart: same counter, different kind, different id.
KIND_SESSION, KIND_THREAD, KIND_EVENT, KIND_TURN, KIND_TOOL = 1, 2, 3, 4, 5


def ident(prefix: str, kind: int, n: int) -> str:
    return f"{prefix}_019f6a00{kind:04x}7000{n:016x}"


_DAY_CACHE: dict[int, str] = {}


def iso(ms: int) -> str:
    """RFC 3339 with milliseconds, UTC; the date part is cached per day."""
    sec, milli = divmod(ms, 1000)
    day, rest = divmod(sec, 86400)
    date = _DAY_CACHE.get(day)
    if date is None:
        date = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        _DAY_CACHE[day] = date
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{date}{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


def _q(text: str) -> str:
    """A JSON string literal (escaped once, at import)."""
    return json.dumps(text, ensure_ascii=False)


USER_TEXTS = [_q(t) for t in [
    "Please research our competitors",
    "Summarise yesterday's failed builds and propose fixes for the flaky ones.",
    "请调研 Cloud Agents API 的最新竞品动态。",
    "Check whether the pricing page matches the numbers in the contract draft we got last week.",
    "Refactor the retry helper so that it backs off exponentially with jitter.",
]]
THINKING_TEXTS = [_q(t) for t in [
    "This needs research: I will ask the Research Agent.",
    "Searching recent announcements and pricing pages.",
    "The build logs point at a timeout in the integration stage; I should compare the last three runs.",
    "Two sources disagree, so I will look for a primary one before answering.",
]]
TOOL_INPUTS = [
    ('"web_search"', '{"query":"Cloud Agents API competitors"}'),
    ('"bash"', '{"command":"grep -rn timeout ci/logs | tail -n 20"}'),
    ('"read_file"', '{"path":"src/retry/backoff.py"}'),
]
TOOL_RESULTS = [_q(t) for t in [
    "3 relevant results",
    "ci/logs/run-1841.txt:212: step integration timed out after 600s\n"
    "ci/logs/run-1843.txt:198: step integration timed out after 600s",
    "def backoff(attempt):\n    return min(30, 2 ** attempt)",
]]
ANSWER_TEXTS = [_q(t) for t in [
    "Done.",
    "Two competitors shipped multi-agent APIs this quarter; both price per session hour.",
    "The integration stage times out on runs that share the database container; giving each run its own"
    " container fixes the three flaky builds I looked at.",
    "Here is what the Research Agent found: the pricing page and the contract draft agree except for the"
    " storage add-on, which the draft lists at half the price.",
]]

# One turn: the kinds of its events, in order. A thread's events cycle through it.
TURN = ("ask", "thinking", "tool_use", "tool_result", "model_start", "model_end", "message", "idle")


def thread_events(out: list[str], *, sid: str, tid: str, coord: str, is_child: bool, agent_name: str,
                  count: int, t0: int, ev: int, turn_no: int, full: bool) -> tuple[int, int]:
    """Appends `count` event objects (as JSON text) to `out`; returns the next event and
    turn counters."""
    extra = f'"schema_version":"1.0","session_id":"{sid}","session_thread_id":"{tid}",' if full else ""
    turn = ""
    tool = ""
    start_id = ""
    for k in range(count):
        phase = k % len(TURN)
        kind = TURN[phase]
        if phase == 0:
            turn = ident("turn", KIND_TURN, turn_no)
            tool = ident("toolu", KIND_TOOL, turn_no)
            turn_no += 1
        eid = ident("evt", KIND_EVENT, ev)
        ev += 1
        at = iso(t0 + k * EVENT_STEP_MS)
        v = k // len(TURN)
        if kind == "ask":
            if is_child:
                body = (f'"direction":"coordinator_to_child","content":[{{"type":"text","text":{USER_TEXTS[v % 5]}}}],'
                        f'"from_session_thread_id":"{coord}","to_session_thread_id":"{tid}"')
                etype = "agent.thread_message_sent"
            else:
                body = f'"content":[{{"type":"text","text":{USER_TEXTS[v % 5]}}}]'
                etype = "user.message"
        elif kind == "thinking":
            etype = "agent.thinking"
            body = f'"content":[{{"type":"thinking","thinking":{THINKING_TEXTS[v % 4]}}}]'
        elif kind == "tool_use":
            etype = "agent.tool_use"
            name, inp = TOOL_INPUTS[v % 3]
            body = f'"tool_use_id":"{tool}","name":{name},"input":{inp}'
        elif kind == "tool_result":
            etype = "agent.tool_result"
            body = f'"tool_use_id":"{tool}","content":[{{"type":"text","text":{TOOL_RESULTS[v % 3]}}}],"is_error":false'
        elif kind == "model_start":
            etype = "span.model_request_start"
            body = ""
            start_id = eid
        elif kind == "model_end":
            etype = "span.model_request_end"
            body = (f'"model_request_start_id":"{start_id}","model_usage":{{"input_tokens":{800 + 37 * (v % 11)},'
                    f'"output_tokens":{120 + 13 * (v % 7)},"cache_creation_input_tokens":0,'
                    f'"cache_read_input_tokens":{(v % 3) * 512}}}')
        elif kind == "message":
            etype = "agent.message"
            body = f'"content":[{{"type":"text","text":{ANSWER_TEXTS[v % 4]}}}]'
        else:
            etype = "session.thread_status_idle"
            body = f'"agent_name":"{agent_name}","status":"idle","stop_reason":{{"type":"end_turn"}}'
        sep = "," if body else ""
        tail = f',"processed_at":"{at}"' if full else ""
        out.append(f'{{"id":"{eid}","type":"{etype}",{extra}"turn_id":"{turn}"{sep}{body},"created_at":"{at}"{tail}}}')
    return ev, turn_no


def generate(sessions: int, threads: int, events: int, *, big_thread_events: int | None = None,
             full: bool = False):
    """Yields the fixture as chunks of text; the last yielded value is a summary dict."""
    if threads < 1 or sessions < 1 or events < 0:
        raise ValueError("need at least one session and one thread, and a non-negative event count")
    yield ('{"tokens":[],"agents":['
           f'{{"id":"{COORD_AGENT}","name":"task-coordinator","model":"ultimate","version":1,'
           '"created_at":"2026-06-01T00:00:00.000Z","updated_at":"2026-06-01T00:00:00.000Z"},'
           f'{{"id":"{CHILD_AGENT}","name":"Research Agent","model":"ultimate","version":2,'
           '"created_at":"2026-06-01T00:00:00.000Z","updated_at":"2026-06-01T00:00:00.000Z"}'
           '],"sessions":[')
    ev = 0
    turn_no = 0
    thread_no = 0
    total_threads = 0
    largest = ("", "", -1)
    for s in range(sessions):
        sid = ident("sess", KIND_SESSION, s)
        t0 = BASE_MS + s * SESSION_SPACING_MS
        coord = ident("sthr", KIND_THREAD, thread_no)
        parts: list[str] = []
        last_at = t0
        for t in range(threads):
            tid = coord if t == 0 else ident("sthr", KIND_THREAD, thread_no + t)
            n = big_thread_events if (s == 0 and t == min(1, threads - 1) and big_thread_events is not None) else events
            start = t0 + t * THREAD_OFFSET_MS
            evs: list[str] = []
            ev, turn_no = thread_events(evs, sid=sid, tid=tid, coord=coord, is_child=t > 0,
                                        agent_name="Research Agent" if t else "task-coordinator",
                                        count=n, t0=start, ev=ev, turn_no=turn_no, full=full)
            end = start + max(n - 1, 0) * EVENT_STEP_MS
            last_at = max(last_at, end)
            if n > largest[2]:
                largest = (sid, tid, n)
            created = iso(start)
            updated = iso(end)
            if t == 0:
                head = (f'{{"id":"{tid}","parent_thread_id":null,"agent_id":"{COORD_AGENT}","agent_version":1,'
                        f'"name":"","role":"coordinator","status":"idle","stop_reason":{{"type":"end_turn"}},'
                        f'"created_by_tool_use_id":null,"archived_at":null,"created_at":"{created}",'
                        f'"updated_at":"{updated}","events":[')
            else:
                head = (f'{{"id":"{tid}","parent_thread_id":"{coord}","agent_id":"{CHILD_AGENT}","agent_version":2,'
                        f'"name":"Research Agent","role":"child","status":"idle","stop_reason":{{"type":"end_turn"}},'
                        f'"created_by_tool_use_id":"{ident("toolu", KIND_TOOL + 1, thread_no + t)}",'
                        f'"archived_at":null,"created_at":"{created}","updated_at":"{updated}","events":[')
            parts.append(head + ",".join(evs) + '],"mailbox":[]}')
        thread_no += threads
        total_threads += threads
        yield (("," if s else "")
               + f'{{"id":"{sid}","agent":"{COORD_AGENT}","environment_id":"env_bench","title":"Bench session {s}",'
               f'"metadata":{{"bench":"scale"}},"created_at":"{iso(t0)}","updated_at":"{iso(last_at)}","threads":['
               + ",".join(parts) + "]}")
    yield "]}\n"
    yield {"sessions": sessions, "threads": total_threads, "events": ev, "largest_session": largest[0],
           "largest_thread": largest[1], "largest_thread_events": largest[2]}


def write_fixture(path: str, sessions: int, threads: int, events: int, *, big_thread_events: int | None = None,
                  full: bool = False) -> dict:
    """Writes the fixture to `path`; returns the summary with `bytes` and `seconds` added."""
    t0 = time.perf_counter()
    summary: dict = {}
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as f:
        for chunk in generate(sessions, threads, events, big_thread_events=big_thread_events, full=full):
            if isinstance(chunk, dict):
                summary = chunk
            else:
                f.write(chunk)
    summary["bytes"] = os.path.getsize(path)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    summary["path"] = path
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True, help="threads per session (a coordinator and T-1 children)")
    ap.add_argument("--events", type=int, required=True, help="events per thread")
    ap.add_argument("--out", required=True, help="fixture file to write")
    ap.add_argument("--big-thread-events", type=int, help="events of the first child of the first session")
    ap.add_argument("--full", action="store_true", help="write every event field, as GET /_mock/state does")
    opts = ap.parse_args()
    summary = write_fixture(opts.out, opts.sessions, opts.threads, opts.events,
                            big_thread_events=opts.big_thread_events, full=opts.full)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
