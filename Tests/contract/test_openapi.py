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


def resolve(document: dict, obj: dict) -> dict:
    while "$ref" in obj:
        node = document
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj
