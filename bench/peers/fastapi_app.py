"""A peer for the throughput benchmark: GET /api/v1/cloud/sessions/{id}/threads written as a
Python team would write it, on FastAPI with pydantic models and an async handler.

The fixture named by THREADS_PEER_FIXTURE (the mock's fixture format) is read once at import;
each request builds the page model, which FastAPI validates and serializes. bench/throughput.py
runs it with uvicorn, one worker, no access log:

    THREADS_PEER_FIXTURE=fixtures/default.json \
        python -m uvicorn fastapi_app:app --app-dir bench/peers --port 8000 --workers 1 --no-access-log
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel


class AgentReference(BaseModel):
    id: str
    type: str = "agent"
    name: str
    model: str
    version: int


class SessionThread(BaseModel):
    id: str
    type: str = "session_thread"
    session_id: str
    parent_thread_id: str | None
    agent: AgentReference
    agent_id: str
    agent_version: int
    name: str
    role: str
    status: str
    stop_reason: dict[str, Any]
    created_by_tool_use_id: str | None
    archived_at: str | None
    created_at: str
    updated_at: str


class ThreadPage(BaseModel):
    data: list[SessionThread]
    first_id: str | None
    last_id: str | None
    has_more: bool
    next_page: str | None


def load_threads(path: str) -> dict[str, list[SessionThread]]:
    """Threads by session id, coordinator first, then in creation order."""
    with open(path, encoding="utf-8") as f:
        fixture = json.load(f)
    agents = {a["id"]: a for a in fixture.get("agents", [])}
    by_session: dict[str, list[SessionThread]] = {}
    for session in fixture.get("sessions", []):
        threads = []
        for t in session.get("threads", []):
            agent = agents.get(t["agent_id"], {})
            threads.append(SessionThread(
                id=t["id"], session_id=session["id"], parent_thread_id=t.get("parent_thread_id"),
                agent=AgentReference(id=t["agent_id"], name=agent.get("name", ""),
                                     model=agent.get("model", ""), version=t["agent_version"]),
                agent_id=t["agent_id"], agent_version=t["agent_version"], name=t.get("name", ""),
                role=t["role"], status=t["status"], stop_reason=t.get("stop_reason", {}),
                created_by_tool_use_id=t.get("created_by_tool_use_id"),
                archived_at=t.get("archived_at"), created_at=t["created_at"], updated_at=t["updated_at"]))
        threads.sort(key=lambda th: (th.role != "coordinator", th.created_at))
        by_session[session["id"]] = threads
    return by_session


THREADS = load_threads(os.environ["THREADS_PEER_FIXTURE"])
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


async def list_threads(session_id: str, authorization: str | None = Header(default=None)) -> ThreadPage:
    if authorization is None or not authorization.startswith("Bearer ") or len(authorization) <= 7:
        raise HTTPException(status_code=401, detail="missing bearer token")
    threads = THREADS.get(session_id)
    if threads is None:
        raise HTTPException(status_code=404, detail=f"Session '{session_id}' was not found.")
    # The fixture's sessions hold far fewer threads than a page, so one page is all of them.
    return ThreadPage(data=threads, first_id=threads[0].id if threads else None,
                      last_id=threads[-1].id if threads else None, has_more=False, next_page=None)


app.get("/api/v1/cloud/sessions/{session_id}/threads", response_model=ThreadPage)(list_threads)
app.get("/v1/sessions/{session_id}/threads", response_model=ThreadPage)(list_threads)
