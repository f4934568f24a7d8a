"""A typed client of the mock's control API (`/_mock/...`).

Each method is one route. A 2xx answer comes back as the parsed JSON (TypedDicts from `types`, or
the API's own objects as dicts); any other answer raises `MockAPIError` carrying the envelope
(`status`, `type`, `message`, `param`, `request_id`). The client object is also callable for a raw
request: `control("POST", "/reset")` returns the `Response` whatever its status.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Literal, Mapping, Optional, cast
from urllib.parse import quote, urlencode

from .types import (
    Agenda,
    Agent,
    Clock,
    ClockSteps,
    Event,
    Fault,
    Fixture,
    Journal,
    JournalCleared,
    JournalEntry,
    JournalWait,
    MailboxMessage,
    Session,
    Stats,
    Status,
    Thread,
    Tokens,
    Version,
    WorldSummary,
)

if TYPE_CHECKING:
    from .server import MockServer, Response

CONTROL_PREFIX = "/_mock"


class MockAPIError(Exception):
    """A control (or API) call that did not succeed, with the server's error envelope."""

    def __init__(self, method: str, path: str, status: int, body: bytes, headers: Mapping[str, str]):
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        self.request_id: Optional[str] = headers.get("x-request-id")
        self.envelope: Optional[Dict[str, Any]] = None
        self.type: Optional[str] = None
        self.message: str = body.decode("utf-8", errors="replace")[:500]
        self.param: Optional[str] = None
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            self.envelope = parsed
            error = parsed["error"]
            self.type = error.get("type")
            self.message = error.get("message", self.message)
            self.param = error.get("param")
            self.request_id = parsed.get("request_id", self.request_id)
        super().__init__(f"{method} {path} -> {status} {self.type or ''}: {self.message}".replace("  ", " "))


class RequestNotSeen(AssertionError):
    """`wait_for_request` reached its deadline; the message lists the requests the journal did see."""


def _path(*parts: str) -> str:
    return "".join("/" + quote(p, safe="") for p in parts)


def _given(**fields: Any) -> Dict[str, Any]:
    """The body fields that were given (None means "leave it to the server")."""
    return {k: v for k, v in fields.items() if v is not None}


class ControlClient:
    """The control API of one server. Get it as `server.control` (see `MockServer`)."""

    def __init__(self, server: "MockServer"):
        self._server = server

    # -- raw ------------------------------------------------------------------------

    def __call__(self, method: str, path: str, body: Any = None, **kw: Any) -> "Response":
        """A raw control request to `/_mock<path>`; no bearer token unless `token=` is given. The
        server's admin token (if any) goes in `X-Mock-Admin-Token` unless headers carry their own."""
        kw.setdefault("token", None)
        admin = self._server.admin_token
        if admin:
            headers = dict(kw.get("headers") or {})
            if not any(k.lower() in ("x-mock-admin-token", "authorization") for k in headers):
                headers["X-Mock-Admin-Token"] = admin
            kw["headers"] = headers
        return self._server.request(method, CONTROL_PREFIX + path, body=body, **kw)

    def _call(self, method: str, path: str, body: Any = None, *, query: Mapping[str, Any] | None = None, timeout: float = 10.0) -> Any:
        if query:
            pairs = [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in query.items() if v is not None]
            if pairs:
                path = f"{path}?{urlencode(pairs)}"
        r = self(method, path, body, timeout=timeout)
        if not 200 <= r.status < 300:
            raise MockAPIError(method, CONTROL_PREFIX + path, r.status, r.body, r.headers)
        return r.json()

    # -- the server -------------------------------------------------------------------

    def health(self) -> Status:
        """Liveness: `{"status": "ok"}` while the process serves."""
        return cast(Status, self._call("GET", "/health"))

    def ready(self) -> Status:
        """Readiness: 200 once the fixtures are loaded (MockAPIError with 503 before)."""
        return cast(Status, self._call("GET", "/ready"))

    def version(self) -> Version:
        return cast(Version, self._call("GET", "/version"))

    def routes(self) -> List[Dict[str, Any]]:
        """Every route the server answers: `{"method", "path"}` items."""
        return cast(List[Dict[str, Any]], self._call("GET", "/routes")["data"])

    def openapi(self) -> Dict[str, Any]:
        """The OpenAPI document of everything the server answers."""
        return cast(Dict[str, Any], self._call("GET", "/openapi.json"))

    def stats(self) -> Stats:
        return cast(Stats, self._call("GET", "/stats"))

    # -- the world ----------------------------------------------------------------------

    def reset(self) -> WorldSummary:
        """Back to the loaded fixtures: world, tokens, journal, faults, clock and id seed; open streams end."""
        return cast(WorldSummary, self._call("POST", "/reset"))

    def get_state(self) -> Fixture:
        """The whole world in the fixture format (it loads again with `put_state` or `--fixtures`)."""
        return cast(Fixture, self._call("GET", "/state"))

    def put_state(self, fixture: Fixture) -> WorldSummary:
        """Replaces the world with a fixture document; a refused one changes nothing (400 naming its JSON path)."""
        return cast(WorldSummary, self._call("PUT", "/state", fixture, timeout=120.0))

    def create_session(
        self,
        agent: str | Mapping[str, Any] | None = None,
        *,
        title: str | None = None,
        environment_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        coordinator: bool | None = None,
        children: Iterable[Mapping[str, Any]] | None = None,
        initial_events: Iterable[Mapping[str, Any]] | None = None,
    ) -> Session:
        """A session with its coordinator (and `children` threads); `initial_events` are sent as
        `POST /v1/sessions/{id}/events` would. The session, with a `threads` list."""
        body = _given(
            agent=agent,
            title=title,
            environment_id=environment_id,
            metadata=metadata,
            coordinator=coordinator,
            children=list(children) if children is not None else None,
            initial_events=list(initial_events) if initial_events is not None else None,
        )
        return cast(Session, self._call("POST", "/sessions", body))

    def create_thread(
        self,
        session_id: str,
        *,
        agent: str | Mapping[str, Any] | None = None,
        status: str | None = None,
        name: str | None = None,
        parent_thread_id: str | None = None,
        created_by_tool_use_id: str | None = None,
    ) -> Thread:
        """A child thread under `parent_thread_id` (the coordinator by default)."""
        body = _given(
            agent=agent,
            status=status,
            name=name,
            parent_thread_id=parent_thread_id,
            created_by_tool_use_id=created_by_tool_use_id,
        )
        return cast(Thread, self._call("POST", _path("sessions", session_id, "threads"), body))

    def append_events(self, session_id: str, thread_id: str, events: Iterable[Mapping[str, Any]]) -> List[Event]:
        """Appends events to a thread (they reach open streams at once); the stored events."""
        return cast(List[Event], self._call("POST", _path("sessions", session_id, "threads", thread_id, "events"), {"events": list(events)})["data"])

    def set_status(
        self,
        session_id: str,
        thread_id: str,
        status: str,
        *,
        stop_reason: Mapping[str, Any] | None = None,
        waiting_on: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Thread:
        """Moves a thread to `running`, `idle`, `blocked` or `terminated`, with its status event."""
        body = _given(status=status, stop_reason=stop_reason, waiting_on=waiting_on, **extra)
        return cast(Thread, self._call("POST", _path("sessions", session_id, "threads", thread_id, "status"), body))

    def mailbox(self, session_id: str, thread_id: str) -> List[MailboxMessage]:
        return cast(List[MailboxMessage], self._call("GET", _path("sessions", session_id, "threads", thread_id, "mailbox"))["data"])

    def put_mailbox(
        self,
        session_id: str,
        thread_id: str,
        content: Any,
        *,
        from_thread_id: str | None = None,
        status: str | None = None,
    ) -> MailboxMessage:
        body = _given(content=content, from_thread_id=from_thread_id, status=status)
        return cast(MailboxMessage, self._call("POST", _path("sessions", session_id, "threads", thread_id, "mailbox"), body))

    def agenda(self, session_id: str) -> Agenda:
        """A session's pending turn steps, each thread's timeline, and the script rule each turn played."""
        return cast(Agenda, self._call("GET", _path("sessions", session_id, "agenda")))

    def set_script(self, agent_id: str, script: List[Mapping[str, Any]] | None) -> Agent:
        """Gives an agent a script (its rules, API.md section 13) for its next turns; None removes it."""
        return cast(Agent, self._call("PUT", _path("agents", agent_id, "script"), {"script": script}))

    # -- tokens ---------------------------------------------------------------------------

    def tokens(self) -> Tokens:
        return cast(Tokens, self._call("GET", "/tokens"))

    def add_token(self, token: str) -> Tokens:
        """Adds an accepted bearer token; from then on only configured tokens are accepted."""
        return cast(Tokens, self._call("POST", "/tokens", {"token": token}))

    def revoke_token(self, token: str) -> Tokens:
        return cast(Tokens, self._call("DELETE", _path("tokens", token)))

    # -- the journal ----------------------------------------------------------------------

    def journal(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> Journal:
        """The API requests received (control calls are not journaled), oldest first; `path` takes `*`."""
        return cast(Journal, self._call("GET", "/journal", query={"method": method, "path": path, "since": since, "limit": limit}))

    def clear_journal(self) -> JournalCleared:
        return cast(JournalCleared, self._call("DELETE", "/journal"))

    def journal_wait(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int | None = None,
        timeout_ms: int = 5000,
    ) -> JournalWait:
        """Long-polls until a matching request has arrived (`matched: true`) or `timeout_ms` passes."""
        query = {"method": method, "path": path, "since": since, "timeout_ms": timeout_ms}
        return cast(JournalWait, self._call("GET", "/journal/wait", query=query, timeout=timeout_ms / 1000 + 10))

    def wait_for_request(
        self, method: str | None, path: str, *, since: int | None = None, timeout: float = 5.0
    ) -> JournalEntry:
        """The journal entry of the first API request matching `method` (None: any) and `path`
        after `since` (a `seq`); `RequestNotSeen` at the deadline, listing what did arrive."""
        answer = self.journal_wait(method=method, path=path, since=since, timeout_ms=max(0, int(timeout * 1000)))
        entry = answer["entry"]
        if answer["matched"] and entry is not None:
            return entry
        seen = self.journal(since=since)["data"][-20:]
        listing = "\n".join(f"  #{e['seq']} {e['method']} {e['path']} -> {e['status']}" for e in seen) or "  (none)"
        raise RequestNotSeen(f"no {method or 'request'} matching {path} within {timeout}s; the journal's last requests:\n{listing}")

    # -- faults -----------------------------------------------------------------------------

    def faults(self) -> List[Fault]:
        return cast(List[Fault], self._call("GET", "/faults")["data"])

    def add_fault(
        self,
        path: str,
        *,
        method: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: int | None = None,
        delay_ms: int | None = None,
        drop_after_frames: int | None = None,
        drop_in_frame: int | None = None,
        split_frames: int | Literal["random"] | None = None,
        heartbeat_between_frames: bool | None = None,
        frame_delay_ms: int | None = None,
        times: int | None = 1,
    ) -> Fault:
        """A fault for the next `times` matching API requests (None: until removed): an error
        (`status`, ...), a `delay_ms`, or a stream mistreated: cut after `drop_after_frames`
        frames or inside frame `drop_in_frame`, frames sent in pieces of `split_frames` bytes
        (or "random" pieces), a heartbeat before every frame, every frame held back
        `frame_delay_ms`."""
        body = _given(
            path=path,
            method=method,
            status=status,
            error_type=error_type,
            message=message,
            retry_after=retry_after,
            delay_ms=delay_ms,
            drop_after_frames=drop_after_frames,
            drop_in_frame=drop_in_frame,
            split_frames=split_frames,
            heartbeat_between_frames=heartbeat_between_frames,
            frame_delay_ms=frame_delay_ms,
        )
        body["times"] = times
        return cast(Fault, self._call("POST", "/faults", body))

    def remove_fault(self, fault_id: str) -> List[Fault]:
        return cast(List[Fault], self._call("DELETE", _path("faults", fault_id))["data"])

    def clear_faults(self) -> List[Fault]:
        return cast(List[Fault], self._call("DELETE", "/faults")["data"])

    # -- the clock ----------------------------------------------------------------------------

    def clock(self) -> Clock:
        return cast(Clock, self._call("GET", "/clock"))

    def freeze_clock(self, at: str | None = None) -> Clock:
        """Freezes the clock now, or at an RFC 3339 instant (`2026-06-15T08:10:00.000Z`)."""
        return cast(Clock, self._call("POST", "/clock/freeze", _given(at=at)))

    def advance_clock(self, by: str | None = None, *, ms: int | None = None) -> ClockSteps:
        """Moves a frozen clock forward (`by="90s"` or `ms=90000`), playing every turn step due on the way."""
        if (by is None) == (ms is None):
            raise ValueError("give exactly one of by= (a duration like '30s') or ms=")
        return cast(ClockSteps, self._call("POST", "/clock/advance", _given(by=by, ms=ms)))

    def run_until_idle(self) -> ClockSteps:
        """Plays every pending turn step, moving the frozen clock to each one's due time."""
        return cast(ClockSteps, self._call("POST", "/clock/run-until-idle", {}))

    def resume_clock(self) -> Clock:
        """Back to real time."""
        return cast(Clock, self._call("POST", "/clock/resume"))
