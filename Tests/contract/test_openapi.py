"""The OpenAPI 3.1 document (Sources/MockApp/Resources/openapi.json): valid, in step with the
router both ways, served byte-for-byte equal (as JSON) at GET /_mock/openapi.json."""

from __future__ import annotations

import json
import re

import pytest

from support.mockserver import REPO

openapi_spec_validator = pytest.importorskip("openapi_spec_validator")

import openapi_build  # noqa: E402  (scripts/ is on sys.path: Tests/contract/conftest.py)

DOC_PATH = REPO / "Sources" / "MockApp" / "Resources" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
API_PREFIXES = ("/v1", "/api/v1/cloud")


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(DOC_PATH.read_text())


def documented(document: dict) -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in document["paths"].items() for m in item if m in METHODS}


def normalise(path: str) -> str:
    """Parameter names do not matter for matching: `/x/{a}` and `/x/{b}` are the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_document_is_valid_openapi_31(document):
    assert document["openapi"].startswith("3.1")
    openapi_spec_validator.validate(document)  # raises with the first problem


def test_document_is_what_the_builder_writes():
    assert DOC_PATH.read_text() == openapi_build.render(), "run: python scripts/openapi_build.py"


def test_served_document_equals_the_file(mock, document):
    r = mock.control("GET", "/openapi.json")
    assert r.status == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == document, "rebuild the server (swift build) to bundle the current document"


def test_no_drift_between_router_and_document(mock, document):
    routed = {(r["method"], normalise(r["path"])) for r in mock.control("GET", "/routes").json()["data"]}
    assert routed, "the router lists no routes"
    # The router lists API routes once, under /v1; the document lists them under both prefixes.
    expected = set(routed)
    for method, path in routed:
        if path.startswith("/v1/"):
            expected.add((method, "/api/v1/cloud" + path[len("/v1"):]))
    docs = {(m, normalise(p)) for m, p in documented(document)}
    assert sorted(expected - docs) == [], "routed but not documented"
    assert sorted(docs - expected) == [], "documented but not routed"


def test_both_prefixes_document_the_same_operations(document):
    paths = document["paths"]
    v1 = {p[len("/v1"):]: item for p, item in paths.items() if p.startswith("/v1/")}
    cloud = {p[len("/api/v1/cloud"):]: item for p, item in paths.items() if p.startswith("/api/v1/cloud/")}
    assert set(v1) == set(cloud) and v1
    strip = lambda item: {m: {k: v for k, v in op.items() if k not in ("operationId", "tags")} for m, op in item.items()}
    for sub in v1:
        assert strip(v1[sub]) == strip(cloud[sub]), sub


def test_every_operation_is_complete(document):
    ids = set()
    for path, item in document["paths"].items():
        placeholders = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in item.items():
            assert op["operationId"] not in ids
            ids.add(op["operationId"])
            params = [resolve(document, x) for x in op.get("parameters", [])]
            assert {x["name"] for x in params if x["in"] == "path"} == placeholders, (method, path)
            assert "security" in op, (method, path)
            codes = set(op["responses"])
            assert any(c.startswith("2") for c in codes), (method, path)
            for code, resp in op["responses"].items():
                resp = resolve(document, resp)
                assert "x-request-id" in resp.get("headers", {}), (method, path, code)
                if not code.startswith("2"):
                    assert resp["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
            if path.startswith(API_PREFIXES):
                assert "401" in codes and op["security"] == [{"bearerAuth": []}], (method, path)


def test_bracketed_array_parameters(document):
    params = document["components"]["parameters"]
    for name in ("Statuses", "Types"):
        prm = params[name]
        assert prm["name"].endswith("[]") and prm["schema"]["type"] == "array"
        assert prm["style"] == "form" and prm["explode"] is True
    threads = document["paths"]["/v1/sessions/{session_id}/threads"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/Statuses"} in threads
    events = document["paths"]["/api/v1/cloud/sessions/{session_id}/threads/{thread_id}/events"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/Types"} in events and {"$ref": "#/components/parameters/Type"} in events


def test_section_5_objects_validate_live_responses(mock, document):
    """The schemas describe what the server really sends (schemathesis does this at scale)."""
    from jsonschema import Draft202012Validator

    def check(schema_name, instance):
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
        errs = sorted(Draft202012Validator(schema).iter_errors(instance), key=str)
        assert errs == [], [e.message for e in errs]

    from support.mockserver import SEED_CHILD, SEED_SESSION

    check("SessionThreadList", mock.get(f"/v1/sessions/{SEED_SESSION}/threads").json())
    events = mock.get(f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}/events").json()
    check("EventList", events)
    check("AgentThreadMessageSentEvent", events["data"][0])
    check("SessionThreadStatusRunningEvent", events["data"][1])
    check("Session", mock.get(f"/v1/sessions/{SEED_SESSION}").json())
    check("ErrorEnvelope", mock.get("/v1/sessions/sess_nope").json())
    check("Fixture", mock.control("GET", "/state").json())
    check("SessionThread", mock.get(f"/v1/sessions/{SEED_SESSION}/threads/{SEED_CHILD}").json())



# The event schemas the document gives for what a scripted turn writes, by event type.
EVENT_SCHEMAS = {
    "user.message": "UserMessageEvent",
    "agent.message": "AgentMessageEvent",
    "agent.thinking": "AgentThinkingEvent",
    "agent.tool_use": "AgentToolUseEvent",
    "agent.tool_result": "AgentToolResultEvent",
    "agent.mcp_tool_use": "AgentMcpToolUseEvent",
    "agent.mcp_tool_result": "AgentMcpToolResultEvent",
    "agent.custom_tool_use": "AgentCustomToolUseEvent",
    "agent.thread_message_sent": "AgentThreadMessageSentEvent",
    "agent.thread_message_received": "AgentThreadMessageReceivedEvent",
    "span.model_request_start": "SpanModelRequestStartEvent",
    "span.model_request_end": "SpanModelRequestEndEvent",
    "session.error": "SessionErrorEvent",
    "session.thread_created": "SessionThreadCreatedEvent",
    "session.thread_status_running": "SessionThreadStatusRunningEvent",
    "session.thread_status_idle": "SessionThreadStatusIdleEvent",
    "session.thread_status_blocked": "SessionThreadStatusBlockedEvent",
    "session.status_running": "SessionStatusRunningEvent",
    "session.status_idle": "SessionStatusIdleEvent",
}


def test_script_objects_validate_live_responses(mock, document):
    """A script using every step kind, played on a frozen clock: the script route's answer, the
    agenda at every stop, the events of each type and the exported state match their schemas
    (schemathesis sets scripts but never plays one: each of its cases starts from a reset)."""
    from jsonschema import Draft202012Validator

    def errors(schema_name, instance):
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
        return [e.message for e in Draft202012Validator(schema).iter_errors(instance)]

    agent = "agent_019f000000000000000000000000001a"
    script = [
        {
            "name": "all",
            "when": {"contains": "go"},
            "steps": [
                {"thinking": "Planning.", "after_ms": 100},
                {"usage": {"input_tokens": 3}},
                {"tool": {"name": "lookup", "input": {"q": 1}, "result": {"rows": 2}, "mcp_server": "db"}},
                {"tool": {"name": "grep", "result": "3 hits"}},
                {"error": {"type": "overloaded_error", "message": "Later.", "retry": True}},
                {
                    "start": {
                        "agent": "Research Agent",
                        "as": "w",
                        "task": "About {{message}}",
                        "steps": [{"message": "Working.", "after_ms": 50}, {"report": "Found it.", "after_ms": 50}],
                    }
                },
                {"send": {"to": "w", "message": "One more thing."}},
                {"wait": ["w"]},
                {"custom_tool": {"name": "pick", "input": {}}},
                {
                    "confirm": {"name": "bash", "input": {"command": "ls"}, "result": "ok"},
                    "allow": [{"message": "{{report:w}}", "preview": {"deltas": 2, "over_ms": 100}, "after_ms": 300}],
                    "deny": [],
                },
                {"archive": "w"},
                {"end_turn": True},
            ],
        },
        {"when": "any", "steps": [{"message": "Hello.", "after_ms": 100, "preview": True}]},
    ]
    assert errors("ScriptRequest", {"script": script}) == []
    r = mock.control("PUT", f"/agents/{agent}/script", {"script": script})
    assert r.status == 200, r.text
    assert errors("AgentWithScript", r.json()) == []
    bad = mock.control("PUT", f"/agents/{agent}/script", {"script": [{"steps": [{"wait": "nobody"}]}]})
    assert bad.status == 400 and bad.json()["error"]["param"] == "script[0].steps[0].wait", bad.text
    assert mock.control("POST", "/clock/freeze").status == 200
    r = mock.post("/v1/sessions", {"agent": agent, "initial_events": [{"type": "user.message", "content": "go"}]})
    assert r.status == 200, r.text
    sid = r.json()["id"]
    kinds, waits = set(), set()
    for _ in range(100):
        agenda = mock.control("GET", f"/sessions/{sid}/agenda").json()
        assert errors("Agenda", agenda) == [], agenda
        kinds |= {step["kind"] for step in agenda["data"]}
        answers = []
        for timeline in agenda["timelines"]:
            waiting = timeline["waiting"] or {}
            waits.add(waiting.get("kind"))
            if waiting.get("kind") == "confirmation":
                answers.append({"type": "user.tool_confirmation", "tool_use_id": waiting["tool_use_id"], "result": "allow"})
            elif waiting.get("kind") == "custom_tool_result":
                answers.append({"type": "user.custom_tool_result", "custom_tool_use_id": waiting["custom_tool_use_id"]})
        if answers:
            r = mock.post(f"/v1/sessions/{sid}/events", {"events": answers})
            assert r.status == 200, r.text
        elif not agenda["data"]:
            break
        else:
            assert mock.control("POST", "/clock/advance", {"ms": 50}).status == 200
    assert kinds == {"preview_start", "preview_delta", "step"}
    assert {"child", "confirmation", "custom_tool_result"} <= waits
    events = mock.get(f"/v1/sessions/{sid}/events?limit=100").json()
    assert errors("EventList", events) == []
    seen = set()
    for event in events["data"]:
        if event["type"] in EVENT_SCHEMAS:
            seen.add(event["type"])
            assert errors(EVENT_SCHEMAS[event["type"]], event) == [], event
    assert seen == set(EVENT_SCHEMAS)
    idle = [e for e in events["data"] if e["type"] == "session.thread_status_idle"]
    assert {e["stop_reason"]["type"] for e in idle} == {"requires_action", "end_turn"}
    assert errors("Session", mock.get(f"/v1/sessions/{sid}").json()) == []
    # A session waiting for the client goes idle with `requires_action`.
    r = mock.control("PUT", f"/agents/{agent}/script", {"script": [{"steps": [{"custom_tool": {"name": "pick"}}]}]})
    assert r.status == 200, r.text
    r = mock.post("/v1/sessions", {"agent": agent, "initial_events": [{"type": "user.message", "content": "hi"}]})
    assert mock.control("POST", "/clock/advance", {"ms": 1}).status == 200
    idle = mock.get(f"/v1/sessions/{r.json()['id']}/events?types[]=session.status_idle").json()["data"]
    assert [e["stop_reason"]["type"] for e in idle] == ["requires_action"], idle
    assert errors("SessionStatusIdleEvent", idle[0]) == []
    state = mock.control("GET", "/state").json()
    assert errors("Fixture", state) == []
    assert mock.control("PUT", "/state", state).status == 200

def resolve(document: dict, obj: dict) -> dict:
    while "$ref" in obj:
        node = document
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj
