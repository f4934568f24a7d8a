"""Builds Sources/MockApp/Resources/openapi.json, the OpenAPI 3.1 document of the emulated API
(API.md sections 1-8, 11 and 12, under both `/v1` and `/api/v1/cloud`) and of the control API (`/_mock`).

The document is the artifact; this script is how it is written, so the two API prefixes stay
identical. `python scripts/openapi_build.py` rewrites the file;
`python scripts/openapi_build.py --check` fails when the file is not what this script
builds (Tests/contract/test_openapi.py runs the same comparison).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "Sources" / "MockApp" / "Resources" / "openapi.json"

SEED_SESSION = "sess_019f00000000000000000000000000aa"
SEED_COORDINATOR = "sthr_019f00000000000000000000000001aa"
SEED_CHILD = "sthr_019f00000000000000000000000002bb"
SEED_EVENT = "evt_019f0000000000000000000000000101"
SEED_AGENT = "agent_019f000000000000000000000000001a"



# A request body with a stream fault field set (for FaultRequest's anyOf and its exclusion of `status`).
STREAM_FAULT_PRESENT = [
    {"required": [key], "properties": {key: {"type": ["integer", "string"]}}}
    for key in ("drop_after_frames", "drop_in_frame", "split_frames", "frame_delay_ms")
] + [{"required": ["heartbeat_between_frames"], "properties": {"heartbeat_between_frames": {"const": True}}}]

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


TIMESTAMP = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339 UTC with milliseconds, e.g. `2026-06-15T08:00:00.000Z`.",
}
THREAD_STATUSES = ["idle", "running", "blocked", "archived", "terminated"]

# ---------------------------------------------------------------------------
# Schemas (API.md section 5, the list and error envelopes, the control API's objects)
# ---------------------------------------------------------------------------

SCHEMAS: dict = {
    "ErrorEnvelope": {
        "type": "object",
        "description": "Every error of every route (API.md section 3).",
        "required": ["type", "request_id", "error"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "error"},
            "request_id": {
                "type": "string",
                "description": "The request's `X-Request-Id` when one was sent, else generated (`req_…`). "
                "Also in the `x-request-id` and `request-id` response headers.",
            },
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "additionalProperties": False,
                "properties": {
                    "type": {
                        "type": "string",
                        "description": "`invalid_request_error` (400, 405, 413, and the 409 of a refused thread "
                        "archive), `conflict_error` (the other 409s: sessions and agents), `authentication_error` (401), "
                        "`not_found_error` (404), `api_error` (500). Injected faults may use any type.",
                        "examples": [
                            "invalid_request_error",
                            "conflict_error",
                            "authentication_error",
                            "not_found_error",
                            "api_error",
                        ],
                    },
                    "message": {"type": "string"},
                    "param": {"type": "string", "description": "The offending parameter, on some 400s."},
                },
            },
        },
        "examples": [
            {
                "type": "error",
                "request_id": "req_019f00000000000000000000000000ff",
                "error": {"type": "not_found_error", "message": "Session 'sess_x' was not found."},
            }
        ],
    },
    "AgentSnapshot": {
        "type": "object",
        "description": "The agent version a session or thread runs (a session pins the version it was created "
        "with; a thread keeps the one it started with).",
        "required": ["id", "type", "name", "model", "version"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^agent_"},
            "type": {"const": "agent"},
            "name": {"type": "string"},
            "model": ref("AgentModel"),
            "version": {"type": "integer"},
        },
    },
    "AgentModel": {
        "description": "A model name such as `\"ultimate\"`, or an object with its `id` (other fields kept as given).",
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
        ],
        "examples": ["ultimate", {"id": "ultimate"}],
    },
    "Agent": {
        "type": "object",
        "description": "One version of an agent (API.md section 11). Fields given at creation or update are kept as given.",
        "required": [
            "id",
            "type",
            "name",
            "description",
            "model",
            "system",
            "tools",
            "mcp_servers",
            "skills",
            "multiagent",
            "metadata",
            "version",
            "archived_at",
            "created_at",
            "updated_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^agent_"},
            "type": {"const": "agent"},
            "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "model": ref("AgentModel"),
            "system": {"type": ["string", "null"]},
            "tools": {"type": "array"},
            "mcp_servers": {"type": "array"},
            "skills": {"type": "array"},
            "multiagent": {"type": ["object", "null"], "description": "The roster a coordinator may start children from."},
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
            "version": {"type": "integer", "minimum": 1, "description": "1 at creation; each update that changes something adds one."},
            "archived_at": {**nullable(TIMESTAMP), "description": "null until archived (every version shows it)."},
            "created_at": {**TIMESTAMP, "description": "When this version was made."},
            "updated_at": TIMESTAMP,
        },
    },
    "AgentList": None,  # filled below by list_of()
    "CreateAgentRequest": {
        "type": "object",
        "description": "Unknown fields are refused. A null list is the same as absent.",
        "required": ["name", "model"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "[^ \\t]", "description": "Not empty, nor only spaces and tabs."},
            "model": ref("AgentModel"),
            "description": {"type": ["string", "null"]},
            "system": {"type": ["string", "null"]},
            "tools": {"type": ["array", "null"]},
            "mcp_servers": {"type": ["array", "null"]},
            "skills": {"type": ["array", "null"]},
            "multiagent": {"type": ["object", "null"]},
            "metadata": {
                "type": ["object", "null"],
                "additionalProperties": {"type": "string"},
                "description": "String values only.",
            },
        },
        "examples": [{"name": "Researcher", "model": "ultimate", "system": "You research.", "metadata": {"team": "a"}}],
    },
    "UpdateAgentRequest": {
        "type": "object",
        "description": "The fields to change; the others stay. A change makes a new version (nothing changed: the "
        "current version, unchanged). Unknown fields are refused.",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "[^ \\t]"},
            "model": ref("AgentModel"),
            "description": {"type": ["string", "null"]},
            "system": {"type": ["string", "null"]},
            "tools": {"type": ["array", "null"]},
            "mcp_servers": {"type": ["array", "null"]},
            "skills": {"type": ["array", "null"]},
            "multiagent": {"type": ["object", "null"]},
            "metadata": {
                "type": ["object", "null"],
                "additionalProperties": {"type": ["string", "null"]},
                "description": "Merged into the current metadata; a key set to null is removed.",
            },
            "version": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 2147483647,
                "description": "The version this update is based on; when it is not the latest, 409 `conflict_error`.",
            },
        },
        "examples": [{"description": "Finds sources.", "version": 1}],
    },
    "StopReason": {
        "type": "object",
        "description": "`{}` while running; `{\"type\": \"end_turn\"}` after a finished turn; "
        "`{\"type\": \"requires_action\", \"event_ids\": [...]}` while a scripted turn waits for the client (a "
        "confirmation or a custom tool result); `{\"type\": \"archive\"}` once archived. Kept as given when a test "
        "sets one through the control API (any object).",
        "additionalProperties": True,
        "properties": {
            "type": {"description": "A string in what the server writes."},
            "event_ids": {"description": "With `requires_action`: the events the client must answer (a list of ids)."},
        },
    },
    "SessionThread": {
        "type": "object",
        "description": "A session thread (API.md section 5): exactly the seed's fields.",
        "required": [
            "id",
            "type",
            "session_id",
            "parent_thread_id",
            "agent",
            "agent_id",
            "agent_version",
            "name",
            "role",
            "status",
            "stop_reason",
            "created_by_tool_use_id",
            "archived_at",
            "created_at",
            "updated_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^sthr_[A-Za-z0-9_-]+$", "description": "`sthr_` + 32 lowercase hex."},
            "type": {"const": "session_thread"},
            "session_id": {"type": "string", "pattern": "^sess_"},
            "parent_thread_id": {
                "type": ["string", "null"],
                "description": "null for the coordinator.",
            },
            "agent": ref("AgentSnapshot"),
            "agent_id": {"type": "string"},
            "agent_version": {"type": "integer"},
            "name": {"type": "string", "description": "`\"\"` for the coordinator, the roster name for a child."},
            "role": {"enum": ["coordinator", "child"]},
            "status": {"enum": THREAD_STATUSES},
            "stop_reason": ref("StopReason"),
            "created_by_tool_use_id": {"type": ["string", "null"], "description": "null for the coordinator."},
            "archived_at": {**nullable(TIMESTAMP), "description": "null until archived."},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "Session": {
        "type": "object",
        "description": "A session (API.md sections 5 and 12). `status` is derived: `running` while any thread runs "
        "or is blocked.",
        "required": [
            "id",
            "type",
            "agent",
            "environment_id",
            "title",
            "metadata",
            "status",
            "resources",
            "vault_ids",
            "usage",
            "archived_at",
            "created_at",
            "updated_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^sess_[A-Za-z0-9_-]+$"},
            "type": {"const": "session"},
            "agent": ref("AgentSnapshot"),
            "environment_id": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]},
            "metadata": {"type": "object"},
            "status": {"enum": ["idle", "running"]},
            "resources": {"type": "array", "description": "Kept as given at creation (the mock mounts nothing)."},
            "vault_ids": {"type": "array", "items": {"type": "string"}},
            "usage": ref("Usage"),
            "archived_at": {**nullable(TIMESTAMP), "description": "null until archived."},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "Usage": {
        "type": "object",
        "description": "Token counts: the sums of the `model_usage` of the session's `span.model_request_end` "
        "events (zeros when there are none).",
        "required": ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"],
        "additionalProperties": False,
        "properties": {
            k: {"type": "integer"}
            for k in ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
        },
    },
    "TextBlock": {
        "type": "object",
        "required": ["type", "text"],
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
    },
    "Content": {
        "description": "Kept as given: the seed uses a plain string, newer clients a list of text blocks.",
        "oneOf": [{"type": "string"}, {"type": "array", "items": ref("TextBlock")}],
    },
    "Event": {
        "type": "object",
        "description": "An event (API.md sections 5 and 12). Every event has the base fields and belongs to one "
        "thread; events about the session as a whole belong to the coordinator. The fields of its type follow (see "
        "the `*Event` schemas). Unknown types and fields are stored and returned untouched.",
        "required": ["id", "type", "schema_version", "session_id", "session_thread_id", "created_at", "processed_at"],
        "additionalProperties": True,
        "properties": {
            "id": {"type": "string", "pattern": "^evt_"},
            "type": {"type": "string", "minLength": 1},
            "schema_version": {"description": "`\"1.0\"` for events the server writes; kept as given otherwise."},
            "session_id": {"type": "string", "pattern": "^sess_"},
            "session_thread_id": {"type": "string", "pattern": "^sthr_"},
            "turn_id": {
                "description": "The turn (`turn_…`) a `user.message` started: carried by the message and by every "
                "event written during that turn, on every thread. Absent outside a turn; kept as given on supplied events."
            },
            "created_at": TIMESTAMP,
            "processed_at": TIMESTAMP,
        },
    },
    "SessionThreadCreatedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "The first event of the new thread's history (`session_thread_id` is the new thread).",
        "required": ["type", "parent_thread_id", "agent_id", "agent_version", "agent_name", "role", "created_by_tool_use_id"],
        "properties": {
            "type": {"const": "session.thread_created"},
            "parent_thread_id": {"type": ["string", "null"]},
            "agent_id": {"type": "string"},
            "agent_version": {"type": "integer"},
            "agent_name": {"type": "string"},
            "role": {"enum": ["coordinator", "child"]},
            "created_by_tool_use_id": {"type": ["string", "null"]},
        },
    },
    "SessionThreadStatusRunningEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "agent_name", "status"],
        "properties": {
            "type": {"const": "session.thread_status_running"},
            "agent_name": {"type": "string"},
            "status": {"const": "running"},
        },
    },
    "SessionThreadStatusIdleEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "agent_name", "status", "stop_reason"],
        "properties": {
            "type": {"const": "session.thread_status_idle"},
            "agent_name": {"type": "string"},
            "status": {"const": "idle"},
            "stop_reason": ref("StopReason"),
        },
    },
    "SessionThreadStatusTerminatedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "agent_name", "status", "stop_reason"],
        "properties": {
            "type": {"const": "session.thread_status_terminated"},
            "agent_name": {"type": "string"},
            "status": {"enum": ["archived", "terminated"]},
            "stop_reason": ref("StopReason"),
        },
    },
    "SessionThreadStatusBlockedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "agent_name", "status", "waiting_on"],
        "properties": {
            "type": {"const": "session.thread_status_blocked"},
            "agent_name": {"type": "string"},
            "status": {"const": "blocked"},
            "waiting_on": {
                "type": "object",
                "required": ["session_thread_id", "tool_use_id"],
                "properties": {"session_thread_id": {"type": "string"}, "tool_use_id": {"type": "string"}},
            },
        },
    },
    "SessionStatusRunningEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "The session went from idle to running (on the coordinator).",
        "required": ["type"],
        "properties": {"type": {"const": "session.status_running"}},
    },
    "SessionStatusIdleEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "The session went back to idle (on the coordinator); ends the turn.",
        "required": ["type", "stop_reason"],
        "properties": {
            "type": {"const": "session.status_idle"},
            "stop_reason": {
                "type": "object",
                "description": "`{\"type\": \"end_turn\"}`, or `{\"type\": \"requires_action\", \"event_ids\": [...]}` "
                "while the turn waits for the client.",
                "required": ["type"],
                "properties": {"type": {"type": "string"}, "event_ids": {"type": "array", "items": {"type": "string"}}},
            },
        },
    },
    "SessionUpdatedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "`POST /sessions/{session_id}` changed something: the changed fields with their new values "
        "(`title`, `metadata`, `agent`, `vault_ids`).",
        "required": ["type"],
        "properties": {
            "type": {"const": "session.updated"},
            "title": {"type": ["string", "null"]},
            "metadata": {"type": "object"},
            "agent": ref("AgentSnapshot"),
            "vault_ids": {"type": "array", "items": {"type": "string"}},
        },
    },
    "SessionDeletedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "The session was deleted; its streams end after it.",
        "required": ["type"],
        "properties": {"type": {"const": "session.deleted"}},
    },
    "AgentMessageEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "content"],
        "properties": {"type": {"const": "agent.message"}, "content": {"type": "array", "items": ref("TextBlock")}},
    },
    "UserMessageEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "A `user.message` as sent (other `user.*` and `system.message` events too: the client's "
        "fields are kept), with the server's fields added.",
        "required": ["type", "turn_id", "content"],
        "properties": {
            "type": {"const": "user.message"},
            "turn_id": {"type": "string", "pattern": "^turn_"},
            "content": ref("MessageContent"),
        },
    },
    "AgentThreadMessageSentEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "On the sender: a child's task or a follow-up (`coordinator_to_child`), or a child's report "
        "(`child_to_coordinator`).",
        "required": ["type", "turn_id", "direction", "content", "from_session_thread_id", "to_session_thread_id"],
        "properties": {
            "type": {"const": "agent.thread_message_sent"},
            "turn_id": {"type": "string"},
            "direction": {"enum": ["coordinator_to_child", "child_to_coordinator"]},
            "content": ref("Content"),
            "from_session_thread_id": {"type": "string"},
            "to_session_thread_id": {"type": "string"},
        },
    },
    "AgentThreadMessageReceivedEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "On the receiver: a report reaching the coordinator, or a follow-up taken from a child's mailbox.",
        "required": [
            "type",
            "turn_id",
            "direction",
            "content",
            "from_session_thread_id",
            "to_session_thread_id",
            "is_error",
        ],
        "properties": {
            "type": {"const": "agent.thread_message_received"},
            "turn_id": {"type": "string"},
            "direction": {"enum": ["coordinator_to_child", "child_to_coordinator"]},
            "content": ref("Content"),
            "from_session_thread_id": {"type": "string"},
            "to_session_thread_id": {"type": "string"},
            "is_error": {"type": "boolean"},
        },
    },
    "AgentToolResultEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "tool_use_id", "content", "is_error"],
        "properties": {
            "type": {"const": "agent.tool_result"},
            "tool_use_id": {"type": "string"},
            "content": {
                "description": "Text blocks or a string (`Agent cancelled.`); a scripted tool's non-string `result` "
                "as given."
            },
            "is_error": {"type": "boolean"},
        },
    },
    "AgentToolUseEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "A tool call: the `Agent` tool when a child is started (`input`: `agent_id`, `name`, "
        "`prompt`), or a scripted `tool` or `confirm` step (`evaluated_permission: \"ask\"` when the client must "
        "confirm it).",
        "required": ["type", "tool_use_id", "name", "input"],
        "properties": {
            "type": {"const": "agent.tool_use"},
            "tool_use_id": {"type": "string", "description": "`toolu_…` (or the id a test gave a control-API child)."},
            "name": {"type": "string"},
            "input": {"description": "As given."},
            "evaluated_permission": {"const": "ask"},
        },
    },
    "AgentThinkingEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "Written by a script's `thinking` step.",
        "required": ["type", "content"],
        "properties": {
            "type": {"const": "agent.thinking"},
            "content": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "thinking"],
                    "properties": {"type": {"const": "thinking"}, "thinking": {"type": "string"}},
                },
            },
        },
    },
    "AgentMcpToolUseEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "Written by a script's `tool` step with `mcp_server`.",
        "required": ["type", "mcp_server_name", "name", "input"],
        "properties": {
            "type": {"const": "agent.mcp_tool_use"},
            "mcp_server_name": {"type": "string"},
            "name": {"type": "string"},
            "input": {"description": "As given."},
        },
    },
    "AgentMcpToolResultEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "required": ["type", "mcp_tool_use_id", "content", "is_error"],
        "properties": {
            "type": {"const": "agent.mcp_tool_result"},
            "mcp_tool_use_id": {"type": "string", "description": "The `agent.mcp_tool_use` event's id."},
            "content": {"description": "Text blocks, or the script's non-string `result` as given."},
            "is_error": {"type": "boolean"},
        },
    },
    "AgentCustomToolUseEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "Written by a script's `custom_tool` step; answered with a `user.custom_tool_result` naming this "
        "event's id.",
        "required": ["type", "name", "input"],
        "properties": {
            "type": {"const": "agent.custom_tool_use"},
            "name": {"type": "string"},
            "input": {"description": "As given."},
        },
    },
    "SpanModelRequestStartEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "A model request began (a script's `usage` step).",
        "required": ["type"],
        "properties": {"type": {"const": "span.model_request_start"}},
    },
    "SpanModelRequestEndEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "A model request ended; its `model_usage` is added to the session's `usage`.",
        "required": ["type", "model_request_start_id", "model_usage"],
        "properties": {
            "type": {"const": "span.model_request_end"},
            "model_request_start_id": {"type": "string", "description": "The `span.model_request_start` event's id."},
            "model_usage": ref("Usage"),
        },
    },
    "SessionErrorEvent": {
        "allOf": [ref("Event")],
        "type": "object",
        "description": "An error reported on the coordinator (a script's `error` step: the object as given).",
        "required": ["type", "error"],
        "properties": {
            "type": {"const": "session.error"},
            "error": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "SessionList": None,  # filled below by list_of()
    "SessionThreadList": None,
    "EventList": None,
    "AgentReference": {
        "description": "An agent id, or `{\"type\": \"agent\", \"id\", \"version\"?}` (newest version when omitted).",
        "oneOf": [
            {"type": "string", "examples": [SEED_AGENT]},
            {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "type": {"description": "`\"agent\"` (not checked)."},
                    "id": {"type": "string"},
                    "version": {"type": ["integer", "null"]},
                },
            },
        ],
    },
    "CreateSessionRequest": {
        "type": "object",
        "description": "The agent must exist (else 404) and not be archived (else 409 `conflict_error`). Nothing is "
        "created when any part is refused, `initial_events` included.",
        "required": ["agent"],
        "properties": {
            "agent": ref("AgentReference"),
            "environment_id": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]},
            "metadata": {
                "oneOf": [{"type": "object", "additionalProperties": {"type": "string"}}, {"type": "null"}],
                "description": "String values only.",
            },
            "initial_events": {
                "type": ["array", "null"],
                "maxItems": 100,
                "items": ref("SendEvent"),
                "description": "Sent right after creation, exactly as `POST /sessions/{session_id}/events` would "
                "(a `user.message` starts the first turn); errors name `initial_events[i]…`.",
            },
            "resources": {"type": ["array", "null"], "description": "Kept as given (the mock mounts nothing)."},
            "vault_ids": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        "examples": [
            {"agent": SEED_AGENT, "environment_id": "env_1", "title": "t"},
            {"agent": SEED_AGENT, "initial_events": [{"type": "user.message", "content": "Hello"}]},
        ],
    },
    "UpdateSessionRequest": {
        "type": "object",
        "description": "The fields to change. A change adds a `session.updated` event naming the changed fields.",
        "properties": {
            "title": {"type": ["string", "null"]},
            "metadata": {
                "type": ["object", "null"],
                "additionalProperties": {"type": ["string", "null"]},
                "description": "Merged into the current metadata; a key set to null is removed.",
            },
            "agent": {
                "oneOf": [ref("AgentReference"), {"type": "null"}],
                "description": "The session's own agent at the same or a later version, used from the next turn; "
                "another agent or an older version is 400.",
            },
            "vault_ids": {"type": ["array", "null"], "items": {"type": "string"}, "description": "Replaces the list."},
        },
        "examples": [{"title": "Renamed", "metadata": {"team": "a", "old": None}}],
    },
    "SessionDeleted": {
        "type": "object",
        "required": ["id", "type"],
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "type": {"const": "session_deleted"}},
    },
    "SessionCanceling": {
        "type": "object",
        "required": ["id", "type", "status"],
        "additionalProperties": False,
        "properties": {"id": {"type": "string"}, "type": {"const": "session"}, "status": {"const": "canceling"}},
    },
    "ContentBlock": {
        "type": "object",
        "description": "A content block. A `text` block needs its `text`; other block types are kept as given.",
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
        "if": {"properties": {"type": {"const": "text"}}},
        "then": {"required": ["text"], "properties": {"text": {"type": "string"}}},
    },
    "MessageContent": {
        "description": "A non-empty string, or a non-empty list of content blocks (kept as given).",
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "minItems": 1, "items": ref("ContentBlock")},
        ],
    },
    "SendEvent": {
        "description": "An event a client sends. The server adds `id`, `schema_version`, `session_id`, "
        "`session_thread_id`, `turn_id`, `created_at` and `processed_at` (a client's values for them are ignored, "
        "except `session_thread_id` on `user.interrupt`) and keeps the other fields. Any other type is 400.",
        "oneOf": [
            {
                "title": "user.message",
                "type": "object",
                "description": "Starts a turn (a new `turn_id`). While the session runs a turn, or when it is "
                "archived, 409 `conflict_error`.",
                "required": ["type", "content"],
                "properties": {"type": {"const": "user.message"}, "content": ref("MessageContent")},
            },
            {
                "title": "user.interrupt",
                "type": "object",
                "description": "Stops that thread, or every thread that is not final: each running or blocked one "
                "goes idle (`end_turn`) and its pending steps are dropped.",
                "required": ["type"],
                "properties": {
                    "type": {"const": "user.interrupt"},
                    "session_thread_id": {"type": ["string", "null"], "description": "A thread of this session."},
                },
            },
            {
                "title": "user.tool_confirmation",
                "type": "object",
                "description": "Answers a tool use waiting for confirmation; one that waits for none is 400.",
                "required": ["type", "tool_use_id", "result"],
                "properties": {
                    "type": {"const": "user.tool_confirmation"},
                    "tool_use_id": {"type": "string", "description": "The `toolu_…` id, or its `agent.tool_use` event's `evt_…` id."},
                    "result": {"enum": ["allow", "deny"]},
                    "deny_message": {"type": ["string", "null"]},
                },
            },
            {
                "title": "user.custom_tool_result",
                "type": "object",
                "description": "Answers a pending `agent.custom_tool_use`; otherwise 400.",
                "required": ["type", "custom_tool_use_id"],
                "properties": {
                    "type": {"const": "user.custom_tool_result"},
                    "custom_tool_use_id": {"type": "string"},
                    "content": {"description": "Kept as given."},
                    "is_error": {"type": ["boolean", "null"]},
                },
            },
            {
                "title": "user.tool_result",
                "type": "object",
                "description": "Answers a tool use waiting for its result; otherwise 400.",
                "required": ["type", "tool_use_id"],
                "properties": {
                    "type": {"const": "user.tool_result"},
                    "tool_use_id": {"type": "string"},
                    "content": {"description": "Kept as given."},
                    "is_error": {"type": ["boolean", "null"]},
                },
            },
            {
                "title": "user.define_outcome",
                "type": "object",
                "description": "Stored and echoed.",
                "required": ["type"],
                "properties": {"type": {"const": "user.define_outcome"}},
            },
            {
                "title": "system.message",
                "type": "object",
                "description": "Stored and echoed.",
                "required": ["type"],
                "properties": {"type": {"const": "system.message"}},
            },
        ],
    },
    "SendEventsRequest": {
        "type": "object",
        "description": "Every event is checked before any is stored: one bad event is a 400 naming `events[i]…` "
        "and nothing is written.",
        "required": ["events"],
        "properties": {"events": {"type": "array", "minItems": 1, "maxItems": 100, "items": ref("SendEvent")}},
        "examples": [{"events": [{"type": "user.message", "content": [{"type": "text", "text": "Hello"}]}]}],
    },
    "ArchiveRequest": {
        "type": "object",
        "description": "No body, an empty body, or a JSON object (clients send `{}`); its content is ignored.",
        "examples": [{}],
    },
    "EmptyRequest": {
        "type": "object",
        "description": "No body, an empty body, or a JSON object (clients send `{}`); its content is ignored.",
        "examples": [{}],
    },
    # -- control API -------------------------------------------------------
    "Status": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string"}},
        "additionalProperties": True,
    },
    "Version": {
        "type": "object",
        "required": ["name", "version", "api_version"],
        "additionalProperties": False,
        "properties": {"name": {"type": "string"}, "version": {"type": "string"}, "api_version": {"type": "string"}},
    },
    "RouteTable": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["method", "path"],
                    "additionalProperties": False,
                    "properties": {"method": {"type": "string"}, "path": {"type": "string"}},
                },
            }
        },
    },
    "Stats": {
        "type": "object",
        "required": [
            "open_streams",
            "frames_written",
            "sessions",
            "threads",
            "events",
            "journal_entries",
            "journal_bytes",
            "journal_waiters",
            "faults",
            "sessions_being_freed",
        ],
        "additionalProperties": False,
        "properties": {
            k: {"type": "integer", "minimum": 0}
            for k in [
                "open_streams",
                "frames_written",
                "sessions",
                "threads",
                "events",
                "journal_entries",
                "journal_bytes",
                "journal_waiters",
                "faults",
                "sessions_being_freed",
            ]
        },
    },
    "WorldSummary": {
        "type": "object",
        "required": ["status", "sessions"],
        "additionalProperties": False,
        "properties": {"status": {"enum": ["reset", "replaced"]}, "sessions": {"type": "integer", "minimum": 0}},
    },
    "Clock": {
        "type": "object",
        "required": ["now", "mode", "offset_ms"],
        "additionalProperties": False,
        "properties": {
            "now": TIMESTAMP,
            "mode": {"enum": ["real", "frozen", "offset"]},
            "offset_ms": {"type": "integer"},
        },
    },
    "ClockSteps": {
        "type": "object",
        "description": "The clock, and the scripted steps played by this call and still pending (all sessions).",
        "required": ["now", "mode", "offset_ms", "steps_played", "steps_pending"],
        "additionalProperties": False,
        "properties": {
            "now": TIMESTAMP,
            "mode": {"enum": ["real", "frozen", "offset"]},
            "offset_ms": {"type": "integer"},
            "steps_played": {"type": "integer", "minimum": 0},
            "steps_pending": {"type": "integer", "minimum": 0},
        },
    },
    "AgendaStep": None,  # filled below (scripts)
    "Agenda": None,
    "ClockFreezeRequest": {
        "type": "object",
        "properties": {"at": {**nullable(TIMESTAMP), "description": "Freeze here; now when absent."}},
        "examples": [{"at": "2026-06-15T08:10:00.000Z"}, {}],
    },
    "ClockAdvanceRequest": {
        "type": "object",
        "description": "`ms` (non-negative integer) or `by` (a duration: `250ms`, `30s`, `5m`, `2h`, `1d`).",
        "anyOf": [
            {"required": ["ms"], "properties": {"ms": {"type": "integer", "minimum": 0}}},
            {
                "required": ["by"],
                "not": {"required": ["ms"]},
                "properties": {"by": {"type": "string", "pattern": "^\\+?[0-9]+(ms|s|m|h|d)$"}},
            },
        ],
        "properties": {
            "ms": {"type": "integer", "minimum": 0, "description": "Wins when both are given."},
            "by": {"description": "A duration string; ignored when `ms` is given."},
        },
        "examples": [{"ms": 1000}, {"by": "5m"}],
    },
    "MailboxMessage": {
        "type": "object",
        "required": ["id", "type", "from_thread_id", "to_thread_id", "content", "status", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^msg_"},
            "type": {"const": "mailbox_message"},
            "from_thread_id": {"type": "string"},
            "to_thread_id": {"type": "string"},
            "content": {"description": "Kept as given."},
            "status": {"enum": ["pending", "delivered", "cancelled"]},
            "created_at": TIMESTAMP,
        },
    },
    "MailboxList": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": ref("MailboxMessage")}},
    },
    "MailboxPutRequest": {
        "type": "object",
        "required": ["content"],
        "properties": {
            "content": {"description": "Any JSON value."},
            "from_thread_id": {
                "type": ["string", "null"],
                "description": "A thread of the same session; the parent (or the thread itself) when absent.",
            },
            "status": {"enum": ["pending", "delivered", "cancelled", None]},
        },
        "examples": [{"content": "hello", "status": "pending"}],
    },
    "ChildThreadSpec": {
        "type": "object",
        "description": "A child thread to create. `status` defaults to `running`; a final status is refused. "
        "Unknown fields are refused.",
        "additionalProperties": False,
        "properties": {
            "agent": {"oneOf": [ref("AgentReference"), {"type": "null"}]},
            "status": {"enum": ["idle", "running", "blocked", None]},
            "name": {"type": ["string", "null"]},
            "created_by_tool_use_id": {"type": ["string", "null"]},
        },
    },
    "CreateChildRequest": None,  # ChildThreadSpec plus parent_thread_id, filled below
    "ControlCreateSessionRequest": {
        "type": "object",
        "description": "Unknown fields are refused. `children` need the coordinator.",
        "additionalProperties": False,
        "properties": {
            "agent": {"oneOf": [ref("AgentReference"), {"type": "null"}]},
            "environment_id": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]},
            "metadata": {"type": ["object", "null"]},
            "coordinator": {"type": ["boolean", "null"], "description": "Create the coordinator now (default true)."},
            "children": {"type": ["array", "null"], "items": ref("ChildThreadSpec")},
            "initial_events": {
                "type": ["array", "null"],
                "maxItems": 100,
                "items": ref("SendEvent"),
                "description": "Sent once the session exists, as `POST /sessions/{session_id}/events` would (a session "
                "caught mid-turn).",
            },
        },
        "examples": [{"children": [{"status": "running"}]}],
    },
    "SessionWithThreads": None,  # the Session schema plus `threads`, filled below
    "SuppliedEvent": {
        "type": "object",
        "description": "An event to append. The server fills `id`, `schema_version`, `session_id`, "
        "`session_thread_id`, `created_at` and `processed_at` when absent and keeps every other field.",
        "required": ["type"],
        "additionalProperties": True,
        "properties": {
            "type": {
                "type": "string",
                "pattern": "^[A-Za-z0-9._:/-]{1,128}$",
                "description": "Letters, digits, `.`, `_`, `-`, `:` and `/`: it goes on an SSE `event:` line.",
            },
            "id": {"type": "string", "pattern": "^evt_[A-Za-z0-9_-]+$"},
            "session_id": {"type": "string"},
            "session_thread_id": {"type": "string"},
            "created_at": TIMESTAMP,
            "processed_at": TIMESTAMP,
        },
    },
    "AppendEventsRequest": {
        "description": "One event, an array of them, or `{\"events\": [...]}`; validated as a whole first.",
        "oneOf": [
            {
                "type": "object",
                "required": ["events"],
                "properties": {"events": {"type": "array", "minItems": 1, "items": ref("SuppliedEvent")}},
            },
            {"type": "array", "minItems": 1, "items": ref("SuppliedEvent")},
            ref("SuppliedEvent"),
        ],
        "examples": [{"events": [{"type": "agent.tool_result", "tool_use_id": "toolu_1", "content": "ok", "is_error": False}]}],
    },
    "EventData": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": ref("Event")}},
    },
    "SetStatusRequest": {
        "type": "object",
        "required": ["status"],
        "description": "Changes a thread's status as the service would, with the matching `session.thread_status_*` "
        "event. `archived` goes through the archive route only.",
        "properties": {
            "status": {"enum": ["idle", "running", "blocked", "terminated"]},
            "stop_reason": {"oneOf": [ref("StopReason"), {"type": "null"}]},
            "waiting_on": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["thread_id"],
                        "properties": {"thread_id": {"type": "string"}, "tool_use_id": {"type": ["string", "null"]}},
                    },
                    {"type": "null"},
                ],
                "description": "Required with `blocked` (and only allowed with it): another thread of the session "
                "and the tool call (the target's `created_by_tool_use_id` when absent).",
            },
        },
        "examples": [{"status": "idle"}],
    },
    "Tokens": {
        "type": "object",
        "required": ["tokens", "required"],
        "additionalProperties": False,
        "properties": {"tokens": {"type": "array", "items": {"type": "string"}}, "required": {"type": "boolean"}},
    },
    "AddTokenRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {"type": "string", "minLength": 1}},
        "examples": [{"token": "extra-token"}],
    },
    "JournalEntry": {
        "type": "object",
        "required": [
            "seq",
            "request_id",
            "method",
            "path",
            "query_string",
            "query",
            "headers",
            "body",
            "body_bytes",
            "body_truncated",
            "status",
            "received_at",
        ],
        "additionalProperties": False,
        "properties": {
            "seq": {"type": "integer", "minimum": 1},
            "request_id": {"type": "string"},
            "method": {"type": "string"},
            "path": {"type": "string"},
            "query_string": {"type": "string"},
            "query": {
                "type": "array",
                "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2},
            },
            "headers": {
                "type": "array",
                "items": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}], "minItems": 2, "maxItems": 2},
            },
            "body": {
                "description": "The body as JSON when it parses, else as a string; null when empty. A body longer than --journal-body-bytes is a string of its first bytes (see body_truncated)."
            },
            "body_bytes": {"type": "integer", "minimum": 0, "description": "The body's size as received."},
            "body_truncated": {"type": "boolean", "description": "Whether `body` is cut to --journal-body-bytes."},
            "status": {
                "type": ["integer", "null"],
                "description": "The answer's status; 499 when the client hung up before a deferred answer (a long-poll, a delay fault).",
            },
            "received_at": TIMESTAMP,
        },
    },
    "Journal": {
        "type": "object",
        "required": ["data", "last_seq"],
        "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": ref("JournalEntry")}, "last_seq": {"type": "integer"}},
    },
    "JournalCleared": {
        "type": "object",
        "required": ["status", "last_seq"],
        "additionalProperties": False,
        "properties": {"status": {"const": "cleared"}, "last_seq": {"type": "integer"}},
    },
    "JournalWait": {
        "type": "object",
        "required": ["matched", "entry"],
        "additionalProperties": False,
        "properties": {"matched": {"type": "boolean"}, "entry": {"oneOf": [ref("JournalEntry"), {"type": "null"}]}},
    },
    "Fault": {
        "type": "object",
        "required": [
            "id",
            "type",
            "method",
            "path",
            "remaining",
            "status",
            "error_type",
            "message",
            "retry_after",
            "delay_ms",
            "drop_after_frames",
            "drop_in_frame",
            "split_frames",
            "heartbeat_between_frames",
            "frame_delay_ms",
            "hits",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^fault_"},
            "type": {"const": "fault"},
            "method": {"type": ["string", "null"]},
            "path": {"type": "string"},
            "remaining": {"type": ["integer", "null"]},
            "status": {"type": ["integer", "null"]},
            "error_type": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]},
            "retry_after": {"type": ["integer", "null"]},
            "delay_ms": {"type": ["integer", "null"]},
            "drop_after_frames": {"type": ["integer", "null"]},
            "drop_in_frame": {"type": ["integer", "null"]},
            "split_frames": {"oneOf": [{"type": "integer"}, {"const": "random"}, {"type": "null"}]},
            "heartbeat_between_frames": {"type": "boolean"},
            "frame_delay_ms": {"type": ["integer", "null"]},
            "hits": {"type": "integer", "minimum": 0},
        },
    },
    "FaultList": {
        "type": "object",
        "required": ["data"],
        "additionalProperties": False,
        "properties": {"data": {"type": "array", "items": ref("Fault")}},
    },
    "FaultRequest": {
        "type": "object",
        "description": "For the next `times` requests (default 1; null = until removed) matching `method` and the "
        "path pattern (`*` matches a run of characters; matched against the `/v1/...` form): answer `status` with "
        "the error envelope, and/or wait `delay_ms` first, and/or mistreat a stream: cut it after "
        "`drop_after_frames` frames or in the middle of frame `drop_in_frame`, send each frame in pieces of "
        "`split_frames` bytes (or random pieces of 1 to 8 bytes, seeded by the fault's id), each its own chunk "
        "written after the previous one left, put a heartbeat comment before every frame, hold every frame back "
        "`frame_delay_ms`. A stream fault is used only by requests that stream.",
        "required": ["path"],
        "additionalProperties": False,
        "anyOf": [
            {"required": ["status"], "properties": {"status": {"type": "integer"}}},
            {"required": ["delay_ms"], "properties": {"delay_ms": {"type": "integer"}}},
        ]
        + STREAM_FAULT_PRESENT,
        "allOf": [
            {
                "description": "`status` excludes the stream fields: an error reply has no stream.",
                "not": {
                    "required": ["status"],
                    "properties": {"status": {"type": "integer"}},
                    "anyOf": STREAM_FAULT_PRESENT,
                },
            },
            {
                "description": "`drop_after_frames` and `drop_in_frame` exclude each other.",
                "not": {
                    "required": ["drop_after_frames", "drop_in_frame"],
                    "properties": {"drop_after_frames": {"type": "integer"}, "drop_in_frame": {"type": "integer"}},
                },
            },
            {
                "description": "`error_type`, `message` and `retry_after` need `status`.",
                "if": {"not": {"required": ["status"], "properties": {"status": {"type": "integer"}}}},
                "then": {
                    "properties": {"error_type": {"type": "null"}, "message": {"type": "null"}, "retry_after": {"type": "null"}}
                },
            },
        ],
        "properties": {
            "path": {"type": "string", "pattern": "^/"},
            "method": {"type": ["string", "null"], "pattern": "^([A-Za-z]+|\\*)$", "description": "Any method when absent or `*`."},
            "status": {"type": ["integer", "null"], "minimum": 400, "maximum": 599},
            "delay_ms": {"type": ["integer", "null"], "minimum": 0, "maximum": 600000},
            "drop_after_frames": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
            "drop_in_frame": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
            "split_frames": {
                "oneOf": [{"type": "integer", "minimum": 1, "maximum": 65536}, {"const": "random"}, {"type": "null"}]
            },
            "heartbeat_between_frames": {"type": ["boolean", "null"]},
            "frame_delay_ms": {"type": ["integer", "null"], "minimum": 1, "maximum": 60000},
            "times": {"type": ["integer", "null"], "minimum": 1},
            "error_type": {"type": ["string", "null"]},
            "message": {"type": ["string", "null"]},
            "retry_after": {"type": ["integer", "null"], "minimum": 0, "maximum": 86400},
        },
        "examples": [{"method": "GET", "path": "/v1/sessions/*/threads", "status": 503, "times": 1}],
    },
    "FixtureAgent": {
        "type": "object",
        "description": "One version of an agent: the `Agent` object's fields; only `id` and `name` are required "
        "(`model` defaults to `ultimate`, `version` to 1), plus the mock's `script`. Unknown fields are refused.",
        "required": ["id", "name"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^agent_[A-Za-z0-9_-]+$"},
            "type": {"enum": ["agent"]},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "model": {
                "description": "A model name, or an object with its `id`.",
                "oneOf": [{"type": "string"}, {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}],
            },
            "system": {"type": "string"},
            "tools": {"type": "array"},
            "mcp_servers": {"type": "array"},
            "skills": {"type": "array"},
            "multiagent": {"type": "object"},
            "metadata": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
            "version": {"type": "integer", "minimum": 1, "maximum": 2147483647},
            "archived_at": TIMESTAMP,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "script": {
                "description": "What its threads do with a message (`start` may name any agent of the fixture).",
                "oneOf": [ref("Script"), {"type": "null"}],
            },
        },
    },
    "FixtureMailboxMessage": {
        "type": "object",
        "required": ["id", "from_thread_id", "content"],
        "properties": {
            "id": {"type": "string", "pattern": "^msg_[A-Za-z0-9_-]+$"},
            "from_thread_id": {"type": "string"},
            "to_thread_id": {"type": "string"},
            "content": {},
            "status": {"enum": ["pending", "delivered", "cancelled"]},
            "created_at": TIMESTAMP,
        },
    },
    "FixtureEvent": {
        "type": "object",
        "required": ["id", "type"],
        "additionalProperties": True,
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[A-Za-z0-9_-]+$"},
            "type": {"type": "string", "minLength": 1},
            "session_id": {"type": "string"},
            "session_thread_id": {"type": "string"},
            "created_at": TIMESTAMP,
            "processed_at": TIMESTAMP,
        },
    },
    "FixtureThread": {
        "type": "object",
        "description": "A thread in the fixture format: the API object's fields (most optional), plus `waiting_on` "
        "(when blocked), `events` and `mailbox`.",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "pattern": "^sthr_[A-Za-z0-9_-]+$"},
            "session_id": {"type": "string"},
            "parent_thread_id": {"type": ["string", "null"]},
            "agent": {"oneOf": [{"type": "string"}, {"type": "object"}]},
            "agent_id": {"type": "string"},
            "agent_version": {"type": "integer"},
            "name": {"type": "string"},
            "role": {"enum": ["coordinator", "child"]},
            "status": {"enum": THREAD_STATUSES},
            "stop_reason": {"type": ["object", "null"]},
            "created_by_tool_use_id": {"type": ["string", "null"]},
            "archived_at": nullable(TIMESTAMP),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "waiting_on": {
                "type": ["object", "null"],
                "properties": {"thread_id": {"type": "string"}, "tool_use_id": {"type": "string"}},
            },
            "events": {"type": ["array", "null"], "items": ref("FixtureEvent")},
            "mailbox": {"type": ["array", "null"], "items": ref("FixtureMailboxMessage")},
        },
    },
    "FixtureSession": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "pattern": "^sess_[A-Za-z0-9_-]+$"},
            "agent": {"oneOf": [{"type": "string"}, {"type": "object"}]},
            "agent_id": {"type": "string"},
            "agent_version": {"type": "integer"},
            "environment_id": {"type": ["string", "null"]},
            "title": {"type": ["string", "null"]},
            "metadata": {"type": "object"},
            "resources": {"type": "array"},
            "vault_ids": {"type": "array"},
            "archived_at": nullable(TIMESTAMP),
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "threads": {"type": ["array", "null"], "items": ref("FixtureThread")},
        },
    },
    "Fixture": {
        "type": "object",
        "description": "The fixture format (API.md section 10); `GET /_mock/state` writes it and `PUT /_mock/state` "
        "loads it through the same rules as the API.",
        "additionalProperties": False,
        "properties": {
            "$schema": {"description": "Ignored."},
            "description": {"description": "Ignored."},
            "tokens": {"type": ["array", "null"], "items": {"type": "string", "minLength": 1}},
            "tokens_required": {"description": "`true` requires a listed token even when `tokens` is empty; other values are ignored."},
            "agents": {"type": ["array", "null"], "items": ref("FixtureAgent")},
            "sessions": {"type": ["array", "null"], "items": ref("FixtureSession")},
        },
        "examples": [{"agents": [{"id": "agent_1", "name": "a"}], "sessions": []}],
    },
}


def list_of(item: str, description: str) -> dict:
    return {
        "type": "object",
        "description": description + " `first_id`/`last_id` are the ids of this page's first and last items "
        "(null when `data` is empty); `next_page` is null exactly when `has_more` is false.",
        "required": ["data", "first_id", "last_id", "has_more", "next_page"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "first_id": {"type": ["string", "null"]},
            "last_id": {"type": ["string", "null"]},
            "has_more": {"type": "boolean"},
            "next_page": {"type": ["string", "null"], "description": "Opaque; send it back as `page`."},
        },
    }


SCHEMAS["SessionWithThreads"] = copy.deepcopy(SCHEMAS["Session"])
SCHEMAS["SessionWithThreads"]["description"] = "A session with its threads (the control API's answer)."
SCHEMAS["SessionWithThreads"]["required"].append("threads")
SCHEMAS["SessionWithThreads"]["properties"]["threads"] = {"type": "array", "items": ref("SessionThread")}
SCHEMAS["CreateChildRequest"] = copy.deepcopy(SCHEMAS["ChildThreadSpec"])
SCHEMAS["CreateChildRequest"]["properties"]["parent_thread_id"] = {
    "type": ["string", "null"],
    "description": "A thread of this session; the coordinator (created when missing) by default.",
}
SCHEMAS["CreateChildRequest"]["examples"] = [{"status": "idle", "name": "Worker"}]
SCHEMAS["SSEFrame"] = {
    "type": "object",
    "description": "One Server-Sent Events frame: `id:` and `event:` lines, then `data:` with the event JSON "
    "on one line (which also carries `id` and `type`). A stream that asked for previews (`event_deltas[]`) also "
    "gets `event_start` and `event_delta` frames, whose `id:` is the id of the event they preview.",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^evt_"},
        "event": {"type": "string", "minLength": 1, "description": "The event's type, or `event_start` / `event_delta`."},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"anyOf": [ref("Event"), ref("EventStart"), ref("EventDelta")]},
        },
    },
}
SCHEMAS["EventStart"] = {
    "type": "object",
    "description": "Preview: an event is about to be written (never stored, listed or replayed).",
    "required": ["type", "event"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "event_start"},
        "event": {
            "type": "object",
            "required": ["id", "type"],
            "additionalProperties": False,
            "properties": {"id": {"type": "string", "pattern": "^evt_"}, "type": {"type": "string"}},
        },
    },
}
SCHEMAS["EventDelta"] = {
    "type": "object",
    "description": "Preview: a piece of the previewed message's text; the pieces, in `index` order, join into it.",
    "required": ["type", "event_id", "delta"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "event_delta"},
        "event_id": {"type": "string", "pattern": "^evt_"},
        "delta": {
            "type": "object",
            "required": ["type", "index", "content"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "content_delta"},
                "index": {"type": "integer", "minimum": 0},
                "content": ref("TextBlock"),
            },
        },
    },
}
# ---------------------------------------------------------------------------
# Scripts (fixtures/README.md, "Scripts"): an agent's rules and steps, the
# agenda that shows them playing. The schemas say no less than the reader
# accepts (null is "absent" for every optional field); what JSON Schema cannot
# say (a `start` of a roster agent, a `wait` for a child started earlier, nothing
# after `end_turn` or `report`, a regex that compiles, a preview no longer than
# its delay, no rule after an "any" rule) is a 400 naming the JSON path.
# ---------------------------------------------------------------------------

AFTER_MS = {
    "type": ["integer", "null"],
    "minimum": 0,
    "maximum": 86400000,
    "description": "Milliseconds after the previous step, on the mock's clock (default 0).",
}
STEPS = {"type": ["array", "null"], "items": ref("ScriptStep")}


def step_kind(kind: str, value: dict, description: str, **extra: dict) -> dict:
    return {
        "title": kind,
        "type": "object",
        "description": description,
        "required": [kind],
        "additionalProperties": False,
        "properties": {kind: value, "after_ms": AFTER_MS, **extra},
    }


def strict_object(required: list[str], properties: dict, description: str | None = None) -> dict:
    out = {"type": "object", "required": required, "additionalProperties": False, "properties": properties}
    if description:
        out = {"description": description, **out}
    return out


STEP_KINDS = [
    step_kind(
        "message",
        {"type": "string", "description": "The text; `{{message}}` and `{{report:label}}` are filled in."},
        "An `agent.message` (one text block).",
        preview={
            "description": "Previews for streams that asked for `agent.message` deltas: `true` is 3 deltas over the "
            "last 300 ms of `after_ms` (less when `after_ms` is shorter); `over_ms` may not exceed `after_ms` (400).",
            "oneOf": [
                {"type": ["boolean", "null"]},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "deltas": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000, "description": "Default 3."},
                        "over_ms": {
                            "type": ["integer", "null"],
                            "minimum": 0,
                            "maximum": 86400000,
                            "description": "Default: 300, or `after_ms` when shorter.",
                        },
                    },
                },
            ],
        },
    ),
    step_kind(
        "thinking",
        {"type": "string"},
        "An `agent.thinking`. With `after_ms` above 0, streams that asked for `agent.thinking` previews get its "
        "`event_start` 100 ms (or `after_ms`, when shorter) before it.",
        preview={"description": "Accepted and ignored (any value): a thinking step's preview is always the one above."},
    ),
    step_kind(
        "tool",
        strict_object(
            ["name"],
            {
                "name": {"type": "string"},
                "input": {"description": "Any JSON value (default `{}`)."},
                "result": {"description": "A string (written as one text block) or any JSON value kept as given; default `\"\"`."},
                "is_error": {"type": ["boolean", "null"]},
                "mcp_server": {"type": ["string", "null"], "description": "Makes it an MCP tool call."},
            },
        ),
        "`agent.tool_use` and its `agent.tool_result`; with `mcp_server`, `agent.mcp_tool_use` and "
        "`agent.mcp_tool_result`.",
    ),
    step_kind(
        "confirm",
        strict_object(
            ["name"],
            {
                "name": {"type": "string"},
                "input": {"description": "Any JSON value (default `{}`)."},
                "result": {"description": "The tool's result when allowed (as for `tool`)."},
            },
        ),
        "An `agent.tool_use` with `evaluated_permission: \"ask\"`; the thread and the session go idle with "
        "`stop_reason: {\"type\": \"requires_action\", \"event_ids\": [...]}` until a `user.tool_confirmation` "
        "names it; then the tool's result, the matching branch, and the steps after this one.",
        allow={**STEPS, "description": "Steps played when allowed."},
        deny={**STEPS, "description": "Steps played when denied."},
    ),
    step_kind(
        "custom_tool",
        strict_object(["name"], {"name": {"type": "string"}, "input": {"description": "Any JSON value (default `{}`)."}}),
        "An `agent.custom_tool_use`; idle with `requires_action` until a `user.custom_tool_result` names it.",
    ),
    step_kind(
        "usage",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: {"type": ["integer", "null"], "minimum": 0, "maximum": 2147483647}
                for k in ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
            },
        },
        "`span.model_request_start` and `span.model_request_end` with these counts as `model_usage` (absent: 0), "
        "summed into the session's `usage`.",
    ),
    step_kind(
        "error",
        {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
            "description": "Other fields are kept.",
        },
        "A `session.error` on the coordinator with this object as `error`; the timeline goes on.",
    ),
    step_kind(
        "end_turn",
        {"oneOf": [{"const": True}, {"type": "object", "maxProperties": 0}], "description": "`true` (or `{}`)."},
        "The turn ends here (the thread goes idle); no step may follow.",
    ),
    step_kind(
        "start",
        strict_object(
            ["agent", "task"],
            {
                "agent": {
                    "description": "A roster agent's id or name, or `{id, version?}`.",
                    "oneOf": [
                        {"type": "string", "minLength": 1},
                        {
                            "type": "object",
                            "required": ["id"],
                            "properties": {
                                "id": {"type": "string"},
                                "version": {"type": ["integer", "null"], "minimum": 1, "maximum": 2147483647},
                            },
                        },
                    ],
                },
                "as": {"type": ["string", "null"], "description": "The child's label for later steps (default: `agent`)."},
                "task": {"type": "string", "description": "Sent to the child; `{{message}}` is filled in."},
                "steps": {**STEPS, "description": "The child's own steps (else its agent's script, else the default child turn)."},
            },
        ),
        "Coordinator only. The `Agent` tool's `agent.tool_use`, then the child (`session.thread_created`, the task "
        "as `agent.thread_message_sent`, `session.thread_status_running`); the coordinator goes on at once.",
    ),
    step_kind(
        "wait",
        {
            "oneOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}],
            "description": "Labels of children an earlier step started.",
        },
        "Coordinator only. Takes each child's report as the `Agent` tool's `agent.tool_result`, `blocked` until it comes.",
    ),
    step_kind(
        "report",
        {"type": "string"},
        "A child's report to its coordinator (`agent.thread_message_sent` / `_received`); the child goes idle; no "
        "step may follow. On a coordinator: an `agent.message` that ends the turn.",
    ),
    step_kind(
        "send",
        strict_object(["to", "message"], {"to": {"type": "string", "description": "A child's label."}, "message": {"type": "string"}}),
        "Coordinator only. A follow-up in the child's mailbox (`agent.thread_message_sent`), delivered when its turn ends.",
    ),
    step_kind(
        "archive",
        {"type": "string", "description": "A child's label."},
        "Coordinator only. Archives the child by the archive rules (an idle child; otherwise nothing happens).",
    ),
]
SCRIPT_STEP_NAMES = [s["title"] for s in STEP_KINDS]

SCHEMAS["ScriptStep"] = {
    "description": "One step: an object with exactly one kind and an optional `after_ms`. Unknown fields, two kinds "
    "in one step, and a step that can never be reached are 400. Coordinator steps (`start`, `wait`, `send`, "
    "`archive`) are refused in a child's inline steps and skipped when a child plays its agent's script.",
    "oneOf": STEP_KINDS,
}
SCHEMAS["ScriptMatch"] = {
    "description": "Which messages a rule answers: `\"any\"` (also when absent), or exactly one of `equals`, "
    "`contains`, `matches` (a Swift regular expression; `(?i)` for case-insensitive) or `any`.",
    "oneOf": [
        {"type": "null"},
        {"const": "any"},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                "equals": {"type": "string"},
                "contains": {"type": "string"},
                "matches": {"type": "string"},
                "any": {"description": "Any value."},
            },
        },
    ],
}
SCHEMAS["ScriptRule"] = {
    "type": "object",
    "description": "Tried in order against the text of each `user.message` (or a child's task or follow-up); the "
    "first that matches plays its steps. A rule after one that matches any message is 400.",
    "required": ["steps"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": ["string", "null"], "description": "Shown in the agenda's `turns`."},
        "when": ref("ScriptMatch"),
        "steps": {"type": "array", "items": ref("ScriptStep")},
    },
}
SCHEMAS["Script"] = {
    "type": "array",
    "description": "An agent's script (the mock's own addition): rules tried in order; a message no rule matches "
    "gets the default turn. Checked when loaded: errors name the JSON path (`script[0].steps[1].start.agent`).",
    "items": ref("ScriptRule"),
    "examples": [
        [
            {
                "name": "research",
                "when": {"contains": "research"},
                "steps": [
                    {"thinking": "I will ask the researcher.", "after_ms": 100},
                    {"start": {"agent": "Research Agent", "as": "r", "task": "Research: {{message}}"}},
                    {"wait": "r"},
                    {"message": "Found: {{report:r}}", "after_ms": 300, "preview": True},
                ],
            },
            {"steps": [{"usage": {"input_tokens": 10, "output_tokens": 5}}, {"message": "Hello.", "after_ms": 100}]},
        ]
    ],
}
SCHEMAS["ScriptRequest"] = {
    "type": "object",
    "description": "`script` is required (null removes the script); unknown fields are refused.",
    "required": ["script"],
    "additionalProperties": False,
    "properties": {"script": {"oneOf": [ref("Script"), {"type": "null"}]}},
    "examples": [{"script": SCHEMAS["Script"]["examples"][0]}, {"script": None}],
}
SCHEMAS["AgentWithScript"] = copy.deepcopy(SCHEMAS["Agent"])
SCHEMAS["AgentWithScript"]["description"] = "The agent in the fixture form: the `Agent` object, plus `script` when it has one."
SCHEMAS["AgentWithScript"]["properties"]["script"] = ref("Script")

# The agenda: what `GET /_mock/sessions/{session_id}/agenda` answers.
AGENDA_BASE = {
    "seq": {"type": "integer", "minimum": 1, "description": "Scheduling order; steps due together play in it."},
    "session_thread_id": {"type": "string"},
    "due_at": TIMESTAMP,
}


def agenda_kind(kind: str, description: str, **fields: dict) -> dict:
    return strict_object(
        ["seq", "session_thread_id", "due_at", "kind", *fields],
        {**AGENDA_BASE, "kind": {"const": kind}, **fields},
        description,
    ) | {"title": kind}


SCHEMAS["AgendaStep"] = {
    "description": "A pending step of a running turn, due at `due_at` on the mock's clock.",
    "oneOf": [
        agenda_kind(
            "preview_start",
            "An `event_start` frame for streams that asked for previews.",
            event_id={"type": "string", "pattern": "^evt_", "description": "The event it announces."},
            event_type={"enum": ["agent.message", "agent.thinking"]},
        ),
        agenda_kind(
            "preview_delta",
            "An `event_delta` frame of a previewed message.",
            event_id={"type": "string", "pattern": "^evt_"},
            index={"type": "integer", "minimum": 0},
            text={"type": "string"},
        ),
        agenda_kind(
            "step",
            "The thread's timeline plays its next step.",
            step={"enum": SCRIPT_STEP_NAMES, "description": "The step's kind."},
        ),
    ],
}
SCHEMAS["AgendaTimeline"] = strict_object(
    ["session_thread_id", "next_step", "waiting"],
    {
        "session_thread_id": {"type": "string"},
        "next_step": {"enum": [*SCRIPT_STEP_NAMES, None], "description": "The kind of the step it plays next."},
        "waiting": {
            "description": "null, or what the timeline waits for: a child's report, or the client's answer.",
            "oneOf": [
                {"type": "null"},
                strict_object(["kind", "session_thread_id"], {"kind": {"const": "child"}, "session_thread_id": {"type": "string"}}),
                strict_object(["kind", "tool_use_id"], {"kind": {"const": "confirmation"}, "tool_use_id": {"type": "string"}}),
                strict_object(
                    ["kind", "custom_tool_use_id"],
                    {"kind": {"const": "custom_tool_result"}, "custom_tool_use_id": {"type": "string"}},
                ),
            ],
        },
    },
    "A thread's timeline in progress.",
)
SCHEMAS["AgendaTurn"] = strict_object(
    ["turn_id", "session_thread_id", "rule", "rule_name", "default"],
    {
        "turn_id": {"type": "string"},
        "session_thread_id": {"type": "string"},
        "rule": {"type": ["integer", "null"], "minimum": 0, "description": "The index of the rule played; null for the default turn."},
        "rule_name": {"type": ["string", "null"]},
        "default": {"type": "boolean", "description": "No rule matched (or no script): the default turn."},
    },
    "A turn a `user.message` started on the coordinator, and the rule it played.",
)
SCHEMAS["Agenda"] = strict_object(
    ["data", "timelines", "turns"],
    {
        "data": {"type": "array", "items": ref("AgendaStep"), "description": "Pending steps, in the order they will play."},
        "timelines": {"type": "array", "items": ref("AgendaTimeline")},
        "turns": {"type": "array", "items": ref("AgendaTurn"), "description": "Oldest first."},
    },
)

# The fixture reader takes null for an optional field as "absent" (except `metadata`), and it
# ignores an `agent` it cannot use when `agent_id` (or, for a thread, the session's agent) serves.
for _name in ("FixtureAgent", "FixtureMailboxMessage", "FixtureEvent", "FixtureThread", "FixtureSession"):
    _schema = SCHEMAS[_name] = json.loads(json.dumps(SCHEMAS[_name]))  # unshare TIMESTAMP and friends
    for _key, _prop in _schema["properties"].items():
        if _key in _schema["required"] or _key in ("metadata", "content"):
            continue
        if _key == "agent":
            _schema["properties"][_key] = {"description": "A snapshot `{id, name, model, version}` or an agent id."}
        elif "enum" in _prop:
            _prop["enum"] = _prop["enum"] + [None]
        elif isinstance(_prop.get("type"), str):
            _prop["type"] = [_prop["type"], "null"]
        elif isinstance(_prop.get("type"), list) and "null" not in _prop["type"]:
            _prop["type"] = _prop["type"] + ["null"]
        elif "oneOf" in _prop and {"type": "null"} not in _prop["oneOf"]:
            _prop["oneOf"] = _prop["oneOf"] + [{"type": "null"}]
        elif "$ref" in _prop or "format" in _prop:
            _schema["properties"][_key] = {"oneOf": [_prop, {"type": "null"}]}
SCHEMAS["SessionList"] = list_of("Session", "A page of sessions (newest first by default).")
SCHEMAS["SessionThreadList"] = list_of("SessionThread", "A page of threads: the coordinator first, then by creation.")
SCHEMAS["EventList"] = list_of("Event", "A page of events, oldest first by default.")
SCHEMAS["AgentList"] = list_of(
    "Agent", "A page of agents (newest first by default), or of one agent's versions (ids are version numbers)."
)

# ---------------------------------------------------------------------------
# Parameters, headers, responses
# ---------------------------------------------------------------------------

PARAMETERS = {
    "SessionId": {
        "name": "session_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "example": SEED_SESSION,
    },
    "ThreadId": {
        "name": "thread_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "example": SEED_CHILD,
    },
    "AgentId": {
        "name": "agent_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "example": SEED_AGENT,
    },
    "Limit": {
        "name": "limit",
        "in": "query",
        "description": "Page size, default 20; above 100 is capped at 100; 0, negative or not an integer is 400.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Order": {
        "name": "order",
        "in": "query",
        "description": "`asc` or `desc`.",
        "schema": {"enum": ["asc", "desc"]},
    },
    "AfterId": {
        "name": "after_id",
        "in": "query",
        "description": "The items after this id in the requested order. An id not in the collection is 400. "
        "At most one of `after_id`, `before_id`, `page`.",
        "schema": {"type": "string", "minLength": 1},
    },
    "BeforeId": {
        "name": "before_id",
        "in": "query",
        "description": "The `limit` items immediately before this id, still in the requested order.",
        "schema": {"type": "string", "minLength": 1},
    },
    "Page": {
        "name": "page",
        "in": "query",
        "description": "A `next_page` cursor from an earlier answer (sent back with the same query).",
        "schema": {"type": "string"},
    },
    "Statuses": {
        "name": "statuses[]",
        "in": "query",
        "description": "Only threads with these statuses (repeatable). Any other value is 400.",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"enum": THREAD_STATUSES}},
    },
    "SessionStatuses": {
        "name": "statuses[]",
        "in": "query",
        "description": "Only sessions with these statuses (repeatable). Any other value is 400.",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"enum": ["idle", "running"]}},
    },
    "IncludeArchived": {
        "name": "include_archived",
        "in": "query",
        "description": "Also list archived ones (default false). Anything but `true` or `false` is 400.",
        "schema": {"type": "boolean"},
    },
    "AgentIdFilter": {
        "name": "agent_id",
        "in": "query",
        "description": "Only sessions of this agent (empty: no filter).",
        "schema": {"type": "string"},
    },
    "AgentVersionFilter": {
        "name": "agent_version",
        "in": "query",
        "description": "Only sessions pinned to this version of their agent.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "AgentVersion": {
        "name": "version",
        "in": "query",
        "description": "That version instead of the latest (unknown: 404).",
        "schema": {"type": "integer", "minimum": 1},
    },
    **{
        f"CreatedAt{op.capitalize()}": {
            "name": f"created_at[{op}]",
            "in": "query",
            "description": f"Only items created {words} this instant (RFC 3339; anything else is 400).",
            "schema": {"type": "string", "format": "date-time"},
        }
        for op, words in [("gt", "after"), ("gte", "at or after"), ("lt", "before"), ("lte", "at or before")]
    },
    "EventDeltas": {
        "name": "event_deltas[]",
        "in": "query",
        "description": "Previews to receive (repeatable): `agent.message` and/or `agent.thinking`. Before each such "
        "event a turn writes while the stream is connected and caught up, `event_start` and (for messages) "
        "`event_delta` frames. Other values are ignored.",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    "ResumeAfterId": {
        "name": "after_id",
        "in": "query",
        "description": "Resume cursor, the same as `Last-Event-ID` (both given and different is 400).",
        "schema": {"type": "string"},
    },
    "Type": {
        "name": "type",
        "in": "query",
        "description": "Event types, comma-separated. With `types[]`, their union.",
        "schema": {"type": "string"},
    },
    "Types": {
        "name": "types[]",
        "in": "query",
        "description": "Event types (repeatable).",
        "style": "form",
        "explode": True,
        "schema": {"type": "array", "items": {"type": "string"}},
    },
    "LastEventId": {
        "name": "Last-Event-ID",
        "in": "header",
        "description": "Resume after this event of the thread (or from one being previewed on it); any other id "
        "is 400 before streaming.",
        "schema": {"type": "string"},
    },
    "SessionLastEventId": {
        "name": "Last-Event-ID",
        "in": "header",
        "description": "Resume after this event of the session (or from one being previewed); any other id is 400 "
        "before streaming.",
        "schema": {"type": "string"},
    },
    "XRequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "description": "Echoed as the response's request id when it is 1 to 200 visible ASCII characters.",
        "schema": {"type": "string"},
    },
}

HEADERS = {
    "XRequestId": {
        "description": "The request id, also in `request-id` and in error bodies.",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
    },
    "RequestId": {"description": "Same value as `x-request-id`.", "required": True, "schema": {"type": "string", "minLength": 1}},
}
STD_HEADERS = {
    "x-request-id": {"$ref": "#/components/headers/XRequestId"},
    "request-id": {"$ref": "#/components/headers/RequestId"},
}


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "headers": STD_HEADERS, "content": {"application/json": {"schema": schema}}}


ERROR_TEXT = {
    "400": "Invalid request (bad query value, malformed body, bad cursor).",
    "401": "Missing or rejected bearer token (`authentication_error`).",
    "404": "Unknown session, thread or agent (`not_found_error`).",
    "409": "Refused by the current state (`invalid_request_error`; `conflict_error` for a turn in progress).",
    "409Conflict": "Refused by the current state (`conflict_error`).",
    "413": "Body over the size limit.",
    "429": "A budget of the mock is used up (open streams, fault rules, journal waits, scheduled turn steps, or sessions, threads or events made at run time; see the server's --max-* options), or an injected fault (`POST /_mock/faults`).",
    "503": "Not ready (control API) or an injected fault.",
    "5XX": "A bug in the mock (`api_error`, generic message) or an injected fault.",
}
RESPONSES = {
    f"Error{code}": json_response(text, ref("ErrorEnvelope")) for code, text in ERROR_TEXT.items()
}


def errors(*codes: str) -> dict:
    return {code: {"$ref": f"#/components/responses/Error{code}"} for code in codes}


def p(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


LIST_PARAMS = [p("Limit"), p("Order"), p("AfterId"), p("BeforeId"), p("Page")]
CREATED_AT = [p("CreatedAtGt"), p("CreatedAtGte"), p("CreatedAtLt"), p("CreatedAtLte")]
SSE_RESPONSE = {
    "description": "`text/event-stream`: the thread's history (after the resume cursor), then live events, each as "
    "`id:`, `event:` and `data:` (the event JSON on one line) and a blank line; `: heartbeat` comments when "
    "quiet. Ends after the thread's final status event (or the session's deletion).",
    "headers": {
        **STD_HEADERS,
        "Cache-Control": {"schema": {"const": "no-cache"}},
    },
    "content": {"text/event-stream": {"schema": ref("SSEFrame")}},
}
SESSION_SSE_RESPONSE = {
    **SSE_RESPONSE,
    "description": "`text/event-stream`: the session's events across all of its threads in session order (after "
    "the resume cursor), then live events, framed as on the thread streams; `: heartbeat` comments when quiet. "
    "A turn ending does not end it; it ends after `session.deleted`.",
}


def conflict() -> dict:
    return {"409": {"$ref": "#/components/responses/Error409Conflict"}}

API_ERRORS = ("400", "401", "429", "5XX")

# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------

API_OPERATIONS = [
    # (method, path, operationId, summary, details)
    (
        "get",
        "/sessions",
        "listSessions",
        "List sessions",
        {
            "description": "Newest first by default (`order` defaults to `desc`); archived sessions only with "
            "`include_archived=true`. Unknown query parameters are ignored.",
            "parameters": [
                *LIST_PARAMS,
                p("IncludeArchived"),
                p("AgentIdFilter"),
                p("AgentVersionFilter"),
                p("SessionStatuses"),
                *CREATED_AT,
            ],
            "responses": {"200": json_response("A page of sessions.", ref("SessionList")), **errors(*API_ERRORS)},
        },
    ),
    (
        "post",
        "/sessions",
        "createSession",
        "Create a session",
        {
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CreateSessionRequest")}}},
            "responses": {
                "200": json_response("The new session.", ref("Session")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}",
        "retrieveSession",
        "Retrieve a session",
        {
            "parameters": [p("SessionId")],
            "responses": {"200": json_response("The session.", ref("Session")), **errors("401", "404", "429", "5XX")},
        },
    ),
    (
        "post",
        "/sessions/{session_id}",
        "updateSession",
        "Update a session",
        {
            "description": "Changes `title`, `metadata` (merged) and `agent` (a later version of the same agent). "
            "A change adds a `session.updated` event.",
            "parameters": [p("SessionId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("UpdateSessionRequest")}}},
            "responses": {
                "200": json_response("The session.", ref("Session")),
                **errors("400", "401", "404", "413", "429", "5XX"),
            },
        },
    ),
    (
        "delete",
        "/sessions/{session_id}",
        "deleteSession",
        "Delete a session",
        {
            "description": "Writes `session.deleted` (on the coordinator), ends every stream of the session (session "
            "and thread streams) once it has sent what it has, and removes the session: afterwards every route of it "
            "is 404.",
            "parameters": [p("SessionId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("EmptyRequest")}}},
            "responses": {
                "200": json_response("Deleted.", ref("SessionDeleted")),
                **errors("400", "401", "404", "413", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/sessions/{session_id}/archive",
        "archiveSession",
        "Archive a session",
        {
            "description": "Sets `archived_at` (the status is unchanged). The session stays readable and its streams "
            "open, but a `user.message` is refused (409). Archiving twice is 409.",
            "parameters": [p("SessionId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("EmptyRequest")}}},
            "responses": {
                "200": json_response("The archived session.", ref("Session")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/sessions/{session_id}/cancel",
        "cancelSession",
        "Cancel the current turn",
        {
            "description": "Every running or blocked thread goes idle (`end_turn`, with its status event), pending "
            "scripted steps are dropped and pending mailbox messages cancelled. An archived session is 409.",
            "parameters": [p("SessionId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("EmptyRequest")}}},
            "responses": {
                "200": json_response("The session was already idle.", ref("SessionCanceling")),
                "202": json_response("A turn was running and has been stopped.", ref("SessionCanceling")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/sessions/{session_id}/events",
        "sendSessionEvents",
        "Send events",
        {
            "description": "1 to 100 events, all checked before any is stored. A `user.message` starts a turn. While "
            "a turn runs, a `user.message` is 409 `conflict_error` with the message `Session is currently processing "
            "a turn. Cancel the current turn or wait for completion.` (so are two of them in one request); on an "
            "archived session it is 409 too.",
            "parameters": [p("SessionId")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SendEventsRequest")}}},
            "responses": {
                "200": json_response("The stored events, in order.", ref("EventData")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/events",
        "listSessionEvents",
        "List session events (or stream them)",
        {
            "description": "Every event of the session, across its threads, in the order written. With `Accept: "
            "text/event-stream` this route streams instead, exactly like `/events/stream` (then `after_id` is the "
            "resume cursor and the other list parameters and `created_at[…]` are not used).",
            "parameters": [
                p("SessionId"),
                *LIST_PARAMS,
                p("Type"),
                p("Types"),
                *CREATED_AT,
                p("EventDeltas"),
                p("SessionLastEventId"),
            ],
            "responses": {
                "200": {
                    "description": "A page of events (JSON), or the stream (with `Accept: text/event-stream`).",
                    "headers": STD_HEADERS,
                    "content": {
                        "application/json": {"schema": ref("EventList")},
                        "text/event-stream": {"schema": ref("SSEFrame")},
                    },
                },
                **errors("400", "401", "404", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/events/stream",
        "streamSessionEvents",
        "Stream session events (SSE)",
        {
            "description": "Server-Sent Events whatever the `Accept` header says (API.md sections 7 and 12): history, "
            "then live events of every thread of the session.",
            "parameters": [
                p("SessionId"),
                p("Type"),
                p("Types"),
                p("ResumeAfterId"),
                p("EventDeltas"),
                p("SessionLastEventId"),
            ],
            "responses": {"200": SESSION_SSE_RESPONSE, **errors("400", "401", "404", "429", "5XX")},
        },
    ),
    (
        "get",
        "/sessions/{session_id}/threads",
        "listSessionThreads",
        "List session threads",
        {
            "description": "The coordinator first, then by creation. A session with no thread gets its coordinator on "
            "this call (idle, `stop_reason: {}`); asking twice never makes two.",
            "parameters": [p("SessionId"), *LIST_PARAMS, p("Statuses")],
            "responses": {
                "200": json_response("A page of threads.", ref("SessionThreadList")),
                **errors("400", "401", "404", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/threads/{thread_id}",
        "retrieveSessionThread",
        "Retrieve a session thread",
        {
            "description": "A thread of another session is not found here.",
            "parameters": [p("SessionId"), p("ThreadId")],
            "responses": {
                "200": json_response("The thread.", ref("SessionThread")),
                **errors("401", "404", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/threads/{thread_id}/events",
        "listSessionThreadEvents",
        "List thread events (or stream them)",
        {
            "description": "This thread's events only, oldest first. With `Accept: text/event-stream` this route "
            "streams instead, exactly like `/stream` (then `after_id` is the resume cursor and the other list "
            "parameters are not used).",
            "parameters": [
                p("SessionId"),
                p("ThreadId"),
                *LIST_PARAMS,
                p("Type"),
                p("Types"),
                p("EventDeltas"),
                p("LastEventId"),
            ],
            "responses": {
                "200": {
                    "description": "A page of events (JSON), or the stream (with `Accept: text/event-stream`).",
                    "headers": STD_HEADERS,
                    "content": {
                        "application/json": {"schema": ref("EventList")},
                        "text/event-stream": {"schema": ref("SSEFrame")},
                    },
                },
                **errors("400", "401", "404", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/threads/{thread_id}/stream",
        "streamSessionThreadEvents",
        "Stream thread events (SSE)",
        {
            "description": "Server-Sent Events whatever the `Accept` header says (API.md section 7).",
            "parameters": [
                p("SessionId"),
                p("ThreadId"),
                p("Type"),
                p("Types"),
                p("ResumeAfterId"),
                p("EventDeltas"),
                p("LastEventId"),
            ],
            "responses": {"200": SSE_RESPONSE, **errors("400", "401", "404", "429", "5XX")},
        },
    ),
    (
        "post",
        "/sessions/{session_id}/threads/{thread_id}/archive",
        "archiveSessionThread",
        "Archive a child thread",
        {
            "description": "Unknown session or thread: 404. The coordinator, or a child that is not idle: 409. "
            "Otherwise, in one step: the thread becomes `archived` (`stop_reason: {\"type\": \"archive\"}`, "
            "`archived_at` = `updated_at`), its pending mailbox messages are cancelled, a coordinator blocked on it "
            "gets an `agent.tool_result` (`Agent cancelled.`, `is_error: true`) and runs again, and a "
            "`session.thread_status_terminated` event is added.",
            "parameters": [p("SessionId"), p("ThreadId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("ArchiveRequest")}}},
            "responses": {
                "200": json_response("The archived thread.", ref("SessionThread")),
                **errors("400", "401", "404", "409", "413", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/agents",
        "createAgent",
        "Create an agent",
        {
            "description": "Version 1 of a new agent.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CreateAgentRequest")}}},
            "responses": {
                "200": json_response("The new agent.", ref("Agent")),
                **errors("400", "401", "413", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/agents",
        "listAgents",
        "List agents",
        {
            "description": "The latest version of each agent, newest first by default (`order` defaults to `desc`); "
            "archived agents only with `include_archived=true`.",
            "parameters": [*LIST_PARAMS, p("IncludeArchived"), *CREATED_AT],
            "responses": {"200": json_response("A page of agents.", ref("AgentList")), **errors(*API_ERRORS)},
        },
    ),
    (
        "get",
        "/agents/{agent_id}",
        "retrieveAgent",
        "Retrieve an agent",
        {
            "description": "The latest version, or the one `version` names.",
            "parameters": [p("AgentId"), p("AgentVersion")],
            "responses": {
                "200": json_response("The agent.", ref("Agent")),
                **errors("400", "401", "404", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/agents/{agent_id}",
        "updateAgent",
        "Update an agent",
        {
            "description": "The given fields make a new version. When `version` is given and is not the latest, or "
            "the agent is archived: 409 `conflict_error`, so two writers never overwrite each other silently.",
            "parameters": [p("AgentId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("UpdateAgentRequest")}}},
            "responses": {
                "200": json_response("The new (or unchanged) latest version.", ref("Agent")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "post",
        "/agents/{agent_id}/archive",
        "archiveAgent",
        "Archive an agent",
        {
            "description": "Sets `archived_at`: new sessions on it are 409; running sessions go on. Archiving twice "
            "is 409.",
            "parameters": [p("AgentId")],
            "requestBody": {"required": False, "content": {"application/json": {"schema": ref("EmptyRequest")}}},
            "responses": {
                "200": json_response("The archived agent (latest version).", ref("Agent")),
                **errors("400", "401", "404"),
                **conflict(),
                **errors("413", "429", "5XX"),
            },
        },
    ),
    (
        "get",
        "/agents/{agent_id}/versions",
        "listAgentVersions",
        "List an agent's versions",
        {
            "description": "Every version, newest first by default. `first_id`, `last_id` and the cursors are "
            "version numbers (as strings).",
            "parameters": [p("AgentId"), *LIST_PARAMS],
            "responses": {
                "200": json_response("A page of versions.", ref("AgentList")),
                **errors("400", "401", "404", "429", "5XX"),
            },
        },
    ),
]

CTRL_THREAD = "/sessions/{session_id}/threads/{thread_id}"
CTRL_ERRORS = ("401", "5XX")


def body(schema_name: str, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": ref(schema_name)}}}


CONTROL_OPERATIONS = [
    ("get", "/health", "mockHealth", "Liveness", {"responses": {"200": json_response("Alive.", ref("Status"))}}),
    (
        "get",
        "/ready",
        "mockReady",
        "Readiness (fixtures loaded)",
        {"responses": {"200": json_response("Ready.", ref("Status")), **errors("503")}},
    ),
    ("get", "/version", "mockVersion", "Version", {"responses": {"200": json_response("Version.", ref("Version"))}}),
    (
        "get",
        "/routes",
        "mockRoutes",
        "Every route the server knows",
        {"responses": {"200": json_response("`/v1/...` and `/_mock/...` paths.", ref("RouteTable"))}},
    ),
    (
        "get",
        "/openapi.json",
        "mockOpenAPI",
        "This document",
        {"responses": {"200": json_response("OpenAPI 3.1.", {"type": "object"}), **errors("5XX")}},
    ),
    ("get", "/stats", "mockStats", "Counters", {"responses": {"200": json_response("Counters.", ref("Stats"))}}),
    (
        "post",
        "/reset",
        "mockReset",
        "Reset to the loaded fixtures",
        {
            "description": "World, tokens, journal, faults, clock and id seed back to the start; open streams end.",
            "responses": {"200": json_response("Reset.", ref("WorldSummary")), **errors("5XX")},
        },
    ),
    (
        "get",
        "/state",
        "mockGetState",
        "Export the state in the fixture format",
        {
            "parameters": [
                {"name": "pretty", "in": "query", "schema": {"type": "string"}, "description": "Indent unless `false` or `0`."}
            ],
            "responses": {
                "200": json_response(
                    "The state at the moment of the request, whatever changes while it is sent. The compact"
                    " form has a Content-Length and is written as the client reads it.",
                    ref("Fixture"),
                )
            },
        },
    ),
    (
        "put",
        "/state",
        "mockPutState",
        "Replace the state",
        {
            "description": "Validated first; nothing changes when it is invalid (400 naming the JSON path).",
            "requestBody": body("Fixture"),
            "responses": {"200": json_response("Replaced.", ref("WorldSummary")), **errors("400", "413")},
        },
    ),
    ("get", "/clock", "mockGetClock", "The clock", {"responses": {"200": json_response("The clock.", ref("Clock"))}}),
    (
        "post",
        "/clock/freeze",
        "mockFreezeClock",
        "Freeze the clock",
        {
            "requestBody": body("ClockFreezeRequest", required=False),
            "responses": {"200": json_response("The clock.", ref("Clock")), **errors("400", "413")},
        },
    ),
    (
        "post",
        "/clock/advance",
        "mockAdvanceClock",
        "Advance the clock",
        {
            "description": "Plays the scripted steps due by the new time, each at its own due time, before it answers "
            "(at most 10,000 per call; the rest play on the next move). Past `9999-12-31T23:59:59.999Z` is 400.",
            "requestBody": body("ClockAdvanceRequest"),
            "responses": {"200": json_response("The clock and the steps.", ref("ClockSteps")), **errors("400", "413")},
        },
    ),
    (
        "post",
        "/clock/resume",
        "mockResumeClock",
        "Back to the real clock",
        {"responses": {"200": json_response("The clock.", ref("Clock"))}},
    ),
    (
        "post",
        "/clock/run-until-idle",
        "mockRunUntilIdle",
        "Run the clock until no scripted step is pending",
        {
            "description": "Advances the clock step by step until every turn has ended or waits for the client (at "
            "most 100,000 steps; `steps_pending` tells what is left).",
            "requestBody": body("EmptyRequest", required=False),
            "responses": {"200": json_response("The clock and the steps.", ref("ClockSteps")), **errors("400", "413")},
        },
    ),
    (
        "post",
        "/sessions",
        "mockCreateSession",
        "Create a session (with its coordinator and children)",
        {
            "requestBody": body("ControlCreateSessionRequest", required=False),
            "responses": {
                "201": json_response("The session with its threads.", ref("SessionWithThreads")),
                **errors("400", "404", "409", "413", "429"),
            },
        },
    ),
    (
        "get",
        "/sessions/{session_id}/agenda",
        "mockSessionAgenda",
        "A session's pending scripted steps",
        {
            "parameters": [p("SessionId")],
            "description": "`data`: the pending steps (previews and timeline steps) in the order they will play; "
            "`timelines`: each thread's next step and what it waits for; `turns`: which script rule each turn played.",
            "responses": {"200": json_response("The agenda.", ref("Agenda")), **errors("404")},
        },
    ),
    (
        "put",
        "/agents/{agent_id}/script",
        "mockSetScript",
        "Set or remove an agent's script",
        {
            "description": "Replaces the script of every version of the agent (null removes it); its threads follow "
            "the new script from their next turn. Checked as a fixture's script: a bad one is 400 naming its JSON path "
            "(`param`: `script[0].steps[1].start.agent`) and nothing changes.",
            "parameters": [p("AgentId")],
            "requestBody": body("ScriptRequest"),
            "responses": {
                "200": json_response("The agent's latest version in the fixture form.", ref("AgentWithScript")),
                **errors("400", "404", "413"),
            },
        },
    ),
    (
        "post",
        "/sessions/{session_id}/threads",
        "mockCreateChild",
        "Create a child thread",
        {
            "parameters": [p("SessionId")],
            "requestBody": body("CreateChildRequest", required=False),
            "responses": {
                "201": json_response("The new thread.", ref("SessionThread")),
                **errors("400", "404", "409", "413", "429"),
            },
        },
    ),
    (
        "post",
        CTRL_THREAD + "/events",
        "mockAppendEvents",
        "Append events (they reach open streams at once; a final thread is 409)",
        {
            "parameters": [p("SessionId"), p("ThreadId")],
            "requestBody": body("AppendEventsRequest"),
            "responses": {
                "201": json_response("The stored events.", ref("EventData")),
                **errors("400", "404", "409", "413", "429"),
            },
        },
    ),
    (
        "post",
        CTRL_THREAD + "/status",
        "mockSetStatus",
        "Change a thread's status",
        {
            "parameters": [p("SessionId"), p("ThreadId")],
            "requestBody": body("SetStatusRequest"),
            "responses": {
                "200": json_response("The thread.", ref("SessionThread")),
                **errors("400", "404", "409", "413"),
            },
        },
    ),
    (
        "get",
        CTRL_THREAD + "/mailbox",
        "mockGetMailbox",
        "Read a thread's mailbox",
        {
            "parameters": [p("SessionId"), p("ThreadId")],
            "responses": {"200": json_response("The mailbox.", ref("MailboxList")), **errors("404")},
        },
    ),
    (
        "post",
        CTRL_THREAD + "/mailbox",
        "mockPutMessage",
        "Put a message in a thread's mailbox (a final thread is 409)",
        {
            "parameters": [p("SessionId"), p("ThreadId")],
            "requestBody": body("MailboxPutRequest"),
            "responses": {
                "201": json_response("The message.", ref("MailboxMessage")),
                **errors("400", "404", "409", "413"),
            },
        },
    ),
    ("get", "/tokens", "mockListTokens", "Accepted tokens", {"responses": {"200": json_response("Tokens.", ref("Tokens"))}}),
    (
        "post",
        "/tokens",
        "mockAddToken",
        "Add a bearer token (from then on only listed tokens are accepted)",
        {
            "requestBody": body("AddTokenRequest"),
            "responses": {"201": json_response("Tokens.", ref("Tokens")), **errors("400", "413")},
        },
    ),
    (
        "delete",
        "/tokens/{token}",
        "mockRevokeToken",
        "Revoke a bearer token",
        {
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
            "responses": {"200": json_response("Tokens.", ref("Tokens")), **errors("404")},
        },
    ),
    (
        "get",
        "/journal",
        "mockJournal",
        "Read the request journal",
        {
            "parameters": [
                {"name": "method", "in": "query", "schema": {"type": "string"}},
                {"name": "path", "in": "query", "schema": {"type": "string"}, "description": "`*` matches any run of characters."},
                {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Entries after this `seq`; above `last_seq` is 400."},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "The newest N."},
            ],
            "responses": {"200": json_response("Entries, oldest first.", ref("Journal")), **errors("400")},
        },
    ),
    (
        "delete",
        "/journal",
        "mockClearJournal",
        "Clear the journal",
        {"responses": {"200": json_response("Cleared.", ref("JournalCleared"))}},
    ),
    (
        "get",
        "/journal/wait",
        "mockWaitJournal",
        "Wait for a matching request (long-poll)",
        {
            "parameters": [
                {"name": "method", "in": "query", "schema": {"type": "string"}},
                {"name": "path", "in": "query", "schema": {"type": "string"}},
                {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "Entries after this `seq`; above `last_seq` is 400."},
                {
                    "name": "timeout_ms",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 600000},
                    "description": "Default 5000.",
                },
            ],
            "responses": {"200": json_response("`matched` false on timeout.", ref("JournalWait")), **errors("400", "429", "5XX")},
        },
    ),
    ("get", "/faults", "mockListFaults", "Armed faults", {"responses": {"200": json_response("Faults.", ref("FaultList"))}}),
    (
        "post",
        "/faults",
        "mockAddFault",
        "Inject a fault",
        {"requestBody": body("FaultRequest"), "responses": {"201": json_response("The fault.", ref("Fault")), **errors("400", "413", "429")}},
    ),
    (
        "delete",
        "/faults",
        "mockClearFaults",
        "Remove every fault",
        {"responses": {"200": json_response("No faults.", ref("FaultList"))}},
    ),
    (
        "delete",
        "/faults/{fault_id}",
        "mockRemoveFault",
        "Remove one fault",
        {
            "parameters": [{"name": "fault_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
            "responses": {"200": json_response("The remaining faults.", ref("FaultList")), **errors("404")},
        },
    ),
]

PREFIXES = [("/v1", "", "API (/v1)"), ("/api/v1/cloud", "Cloud", "API (/api/v1/cloud)")]


def build() -> dict:
    paths: dict = {}
    for prefix, suffix, tag in PREFIXES:
        for method, path, op_id, summary, details in API_OPERATIONS:
            op = copy.deepcopy(details)
            op = {
                "operationId": op_id + suffix,
                "summary": summary,
                "tags": [tag],
                **op,
                "security": [{"bearerAuth": []}],
            }
            op.setdefault("parameters", [])
            op["parameters"] = op["parameters"] + [p("XRequestId")]
            paths.setdefault(prefix + path, {})[method] = op
    for method, path, op_id, summary, details in CONTROL_OPERATIONS:
        op = {"operationId": op_id, "summary": summary, "tags": ["Control (/_mock)"], **copy.deepcopy(details)}
        op["responses"].update(errors(*CTRL_ERRORS))
        # Liveness and readiness never need the admin token (container probes).
        op["security"] = [{}] if (method, path) in (("get", "/health"), ("get", "/ready")) else [{}, {"adminToken": []}]
        paths.setdefault("/_mock" + path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cloud-agents-mock",
            "version": "0.1.0",
            "summary": "A local mock of the Qoder Cloud Agents Managed Agents API, and its control API.",
            "description": "The emulated API is served under both `/api/v1/cloud` (the base URL of the official "
            "qca-sdk) and `/v1` (the notation of the documentation pages); both prefixes are the same handlers and "
            "are both listed here. `/_mock/...` is the control API for test suites (not part of the real service). "
            "Every response carries `x-request-id` and `request-id`; every error has the envelope "
            "`ErrorEnvelope`. A trailing slash is tolerated, query keys and values are percent-decoded, repeated "
            "keys are lists, and unknown query parameters are ignored. Any API route can also answer a fault "
            "injected through `POST /_mock/faults`, with the status and error type given there.",
        },
        "servers": [{"url": "http://127.0.0.1:8787", "description": "Default local address"}],
        "tags": [
            {"name": "API (/v1)", "description": "The emulated API, as the documentation pages write its paths."},
            {"name": "API (/api/v1/cloud)", "description": "The same API under the real service's base path."},
            {"name": "Control (/_mock)", "description": "For test suites: world building, journal, faults, clock."},
        ],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
            "headers": HEADERS,
            "responses": RESPONSES,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Any non-empty token unless tokens are configured (`--token`, fixture, "
                    "`POST /_mock/tokens`); then only those.",
                },
                "adminToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Mock-Admin-Token",
                    "description": "Only when the server runs with `--admin-token` (also accepted as "
                    "`Authorization: Bearer <admin token>`).",
                },
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv[1:]:
        if OUTPUT.read_text() != text:
            sys.exit(f"{OUTPUT} is out of date; run python {Path(__file__).relative_to(REPO)}")
    else:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT} ({len(text)} bytes)")
        # The binary carries the document compiled in: refresh that copy too.
        subprocess.run([sys.executable, str(REPO / "scripts" / "embed_resources.py")], check=True)
