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
from visitapp.messages import MESSAGES
from visitapp.protocol.platform import XLSX_MEDIA_TYPE


def _resolve(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = doc["components"]["schemas"][name]
    return node


def test_document_is_complete(server):
    doc = server.client.get("/openapi.json").json()
    ops = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert {p for p, _, _ in ops} >= {"/v1/enroll", "/v1/sync/meta", "/v1/sync/push", "/v1/sync/pull",
                                        "/v1/conflicts", "/v1/conflicts/{conflict_id}/resolve",
                                        "/v1/platform/status", "/v1/platform/roster/preview",
                                        "/v1/platform/roster/apply", "/v1/platform/aid/pull", "/v1/platform/push",
                                        "/v1/platform/reconciliation", "/v1/platform/reconciliation.xlsx",
                                        "/v1/platform/exchanges"}
    for path, method, op in ops:
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert _resolve(doc, schema).get("examples"), f"{method} {path}: request without example"
        for status, response in op["responses"].items():
            if path.endswith(".xlsx") and status == "200":  # a file download: a binary schema
                schema = response["content"][XLSX_MEDIA_TYPE]["schema"]
                assert schema == {"type": "string", "format": "binary"}, f"{method} {path}: no file schema"
                continue
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
    operations = [result.ok() for result in schema.get_all_operations()]
    share = 36 / len(operations)  # keep the whole fuzz bounded on a busy machine; every operation gets its turn
    checked = 0
    covered = set()
    for operation in operations:
        deadline = time.monotonic() + share

        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), who=st.sampled_from(["officer", "teacher", "none"]))
        def run(case, who):
            nonlocal checked
            if time.monotonic() > deadline and (case.method, operation.path) in covered:
                return  # past its share, once it was called at least once (a busy machine)
            headers = {"officer": officer.auth, "teacher": dev.auth, "none": {}}[who]
            if case.path.endswith("/push") and isinstance(case.body, dict) and who != "none" and \
                    isinstance(case.body.get("device_id"), str):
                case.body["device_id"] = (officer if who == "officer" else dev).id
            response = case.call(headers=headers)
            checked += 1
            covered.add((case.method, operation.path))
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
            if response.status_code >= 400:
                body = response.json()
                assert set(body) in ({"error", "detail"}, {"error", "detail", "message_id", "params"}), body
                assert body["detail"] and ("message_id" not in body or body["message_id"] in MESSAGES), body

        run()
    assert checked > 30
    assert len(covered) == len(operations), sorted({(o.method.upper(), o.path) for o in operations} - covered)
