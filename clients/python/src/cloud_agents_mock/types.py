"""The shapes the control API answers with, as TypedDicts: plain dicts at run time, typed for editors
and type checkers. Field names are the server's (see `GET /_mock/openapi.json`)."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union


class Status(TypedDict):
    status: str


class Version(TypedDict):
    name: str
    version: str
    api_version: str


class Stats(TypedDict):
    open_streams: int
    frames_written: int
    sessions: int
    threads: int
    events: int
    journal_entries: int
    journal_bytes: int
    journal_waiters: int
    faults: int
    sessions_being_freed: int


class WorldSummary(TypedDict):
    status: Literal["reset", "replaced"]
    sessions: int


class Clock(TypedDict):
    now: str
    mode: Literal["real", "frozen", "offset"]
    offset_ms: int


class ClockSteps(Clock):
    steps_played: int
    steps_pending: int


class Tokens(TypedDict):
    tokens: List[str]
    required: bool


class JournalEntry(TypedDict):
    seq: int
    request_id: str
    method: str
    path: str
    query_string: str
    query: List[List[str]]
    headers: List[List[str]]
    body: Any
    body_bytes: int
    body_truncated: bool
    status: Optional[int]
    received_at: str


class Journal(TypedDict):
    data: List[JournalEntry]
    last_seq: int


class JournalCleared(TypedDict):
    status: str
    last_seq: int


class JournalWait(TypedDict):
    matched: bool
    entry: Optional[JournalEntry]


class Fault(TypedDict):
    id: str
    type: str
    method: Optional[str]
    path: str
    remaining: Optional[int]
    status: Optional[int]
    error_type: Optional[str]
    message: Optional[str]
    retry_after: Optional[int]
    delay_ms: Optional[int]
    drop_after_frames: Optional[int]
    drop_in_frame: Optional[int]
    split_frames: Union[int, Literal["random"], None]
    heartbeat_between_frames: bool
    frame_delay_ms: Optional[int]
    hits: int


class MailboxMessage(TypedDict):
    id: str
    type: str
    from_thread_id: str
    to_thread_id: str
    content: Any
    status: Literal["pending", "delivered", "cancelled"]
    created_at: str


class Agenda(TypedDict):
    data: List[Dict[str, Any]]
    timelines: List[Dict[str, Any]]
    turns: List[Dict[str, Any]]


# Sessions, threads, events and agents are the API's own objects (API.md); they are returned as dicts.
Session = Dict[str, Any]
Thread = Dict[str, Any]
Event = Dict[str, Any]
Agent = Dict[str, Any]
Fixture = Dict[str, Any]
