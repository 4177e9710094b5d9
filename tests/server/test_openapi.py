"""The OpenAPI document is complete (every request and response has a schema and examples)
and fuzzing it with schemathesis finds no 500."""

from __future__ import annotations

import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_server.app import create_app
from tests.server.conftest import visit


def _resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = doc["components"]["schemas"][name]
    return node


def test_document_is_complete(server):
    doc = server.client.get("/openapi.json").json()
    ops = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert {p for p, _, _ in ops} >= {"/v1/enroll", "/v1/sync/meta", "/v1/sync/push", "/v1/sync/pull",
                                        "/v1/conflicts", "/v1/conflicts/{conflict_id}/resolve"}
    for path, method, op in ops:
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert _resolve(doc, schema).get("examples"), f"{method} {path}: request without example"
        for status, response in op["responses"].items():
            content = response.get("content", {}).get("application/json")
            assert content and content.get("schema") is not None, f"{method} {path} {status}: no schema"
            resolved = _resolve(doc, content["schema"])
            has_example = bool(content.get("example") or content.get("examples") or resolved.get("examples"))
            assert has_example, f"{method} {path} {status}: no example"
        for param in op.get("parameters", []):
            assert param.get("schema") is not None
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_fuzz_no_server_errors(server):
    teacher = server.staff("王芳")
    sid = server.student()
    server.assign("visitor", teacher, sid)
    dev = server.device(teacher)
    server.push(dev, [visit(dev, sid)])
    officer = server.officer_device()
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(server.core))
    deadline = time.monotonic() + 25  # keep the whole fuzz bounded on a busy machine
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), who=st.sampled_from(["officer", "teacher", "none"]))
        def run(case, who):
            nonlocal checked
            if time.monotonic() > deadline:
                return
            headers = {"officer": officer.auth, "teacher": dev.auth, "none": {}}[who]
            if case.path.endswith("/push") and isinstance(case.body, dict) and who != "none" and \
                    isinstance(case.body.get("device_id"), str):
                case.body["device_id"] = (officer if who == "officer" else dev).id
            response = case.call(headers=headers)
            checked += 1
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
            if response.status_code >= 400:
                body = response.json()
                assert set(body) == {"error", "detail"} and body["detail"], body

        run()
    assert checked > 30
