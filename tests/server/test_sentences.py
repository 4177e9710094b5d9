"""The server's sentences are the one table's (visitapp.messages, ``server.*``): every refusal
carries its message id and params next to the Chinese ``detail``, so a client says it in its
own language (issue 13)."""

from __future__ import annotations

import ast
import datetime as dt
import re

from tests.conftest import REPO
from tests.server.conftest import mut, visit
from visitapp import messages
from visitapp.messages import EN, MESSAGES, ZH, placeholders
from visitapp.protocol.sync import MutationResult, PushResponse, decode_enrollment_code, encode_enrollment_code
from visitapp.services.transport import ServerRefused, error_detail, said_reason

_ID = re.compile(r"^server\.[a-z_]+(\.[a-z_]+)*$")
_FILES = {"server.key", "server.db"}  # file names in the server's folder, not sentences
_CJK = re.compile(r"[\u4e00-\u9fff]")
# the callables that answer a person, and where their sentence argument is
_SENTENCE_ARG = {"ApiError": 2, "RetentionError": 2, "_api_error": 2, "error_response": 2, "_res": 3, "refuse": 1}


def _server_sources() -> list[tuple[str, ast.AST]]:
    return [(str(p.relative_to(REPO)), ast.parse(p.read_text(encoding="utf-8")))
            for p in sorted((REPO / "sync_server").rglob("*.py"))]


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_every_sentence_id_the_server_uses_is_in_the_table():
    used, missing = set(), []
    for path, tree in _server_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _ID.match(node.value) \
                    and node.value not in _FILES:
                used.add(node.value)
                if node.value not in MESSAGES:
                    missing.append(f"{path}:{node.lineno}: {node.value}")
    assert not missing, missing
    assert len(used) > 100  # the scan sees the raise sites (a broken scan would find none)


def test_no_refusal_writes_its_sentence_inline():
    """A refusal names its sentence by id: no Chinese literal, no f-string at a raise site, and
    the (code, sentence) refusals of review.py and orphans.py are (code, message id)."""
    inline = []
    for path, tree in _server_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in _SENTENCE_ARG:
                at = _SENTENCE_ARG[_name(node.func)]
                arg = node.args[at] if len(node.args) > at else None
                if isinstance(arg, ast.JoinedStr) or (
                        isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value
                        and arg.value not in MESSAGES):
                    inline.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Tuple) and len(node.elts) == 2 and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts) \
                    and path.endswith(("review.py", "orphans.py")) and _CJK.search(node.elts[1].value):
                inline.append(f"{path}:{node.lineno}")
    assert not inline, inline


def test_every_server_sentence_has_chinese_and_english_with_the_same_placeholders():
    server = {k: v for k, v in MESSAGES.items() if k.startswith("server.")}
    assert len(server) > 100
    for message_id, (zh, en) in server.items():
        assert zh.strip() and en.strip() and _CJK.search(zh) and not _CJK.search(en), message_id
        assert placeholders(zh) == placeholders(en), message_id
        filled = {name: "X" for name in placeholders(zh)}
        assert "{" not in messages.text(message_id, ZH, **filled).replace('{"', ""), message_id  # braces escaped


def test_a_refused_call_carries_its_sentence_id_and_an_english_client_says_it(server):
    teacher = server.device(server.staff("李老师"))
    r = server.client.get("/v1/orphans", headers=teacher.auth)
    assert r.status_code == 403
    body = r.json()
    assert body == {"error": "officer_only", "detail": "只有资助专干可以处理孤立记录和设备。",
                    "message_id": "server.officer_only.orphans", "params": {}}
    refused = ServerRefused.of(r)
    assert (refused.code, refused.status, str(refused)) == ("officer_only", 403, body["detail"])
    assert messages.text(refused.message_id, EN, **refused.params) == \
        "Only the aid officer can handle orphaned work and devices."
    # with params: the enrollment code's tries left (the wire code is unchanged)
    _, code, _ = server.core.make_enroll_code(server.staff("王老师").id)
    url, fingerprint, secret = decode_enrollment_code(code)
    wrong = encode_enrollment_code(url, fingerprint, secret.split(".")[0] + ".wrong-secret")
    r = server.client.post("/v1/enroll", json={"code": wrong})
    assert r.status_code == 401 and r.json()["error"] == "invalid_code", r.text
    said = error_detail(r)
    assert said.message_id == "server.invalid_code.tries_left" and isinstance(said.params["tries_left"], int)
    assert str(said) == r.json()["detail"] == f"注册码不正确（还可尝试 {said.params['tries_left']} 次）。"
    assert messages.text(said.message_id, EN, **said.params) == \
        f"The enrollment code is not correct ({said.params['tries_left']} tries left)."


def test_a_pushed_change_is_refused_with_its_sentence_id_and_params(server):
    dev = server.device(server.staff("赵老师"))
    sid = server.student()
    server.assign("visitor", server.core.find_staff(dev.staff_id), sid)
    answer = PushResponse.model_validate(server.push(dev, [mut(dev, "spaceship", None, sid), visit(dev, sid)]))
    refused, applied = answer.results
    assert refused.reason == "unknown_kind: 未知的记录类型“spaceship”。"  # what older clients read
    assert (refused.message_id, refused.params) == ("server.unknown_kind", {"kind": "spaceship"})
    assert messages.text(refused.message_id, EN, **refused.params) == "Unknown kind of record “spaceship”."
    said = said_reason(refused)
    assert str(said) == refused.reason and said.message_id == "server.unknown_kind"
    assert (applied.status, applied.message_id, applied.params) == ("applied", "", {})


def test_review_refusals_keep_their_codes_and_carry_the_domains_id(server):
    teacher = server.device(server.staff("钱老师"))
    officer = server.officer_device()
    sid = server.student()
    server.assign("visitor", server.core.find_staff(teacher.staff_id), sid)
    final, draft = visit(teacher, sid), visit(teacher, sid, status="draft")
    assert [r["status"] for r in server.push(teacher, [final, draft])["results"]] == ["applied", "applied"]

    def review(dev, target) -> MutationResult:
        m = mut(dev, "record_review", None, sid, routing={
            "record_kind": "visit", "record_id": target["record_id"], "reviewer_id": dev.staff_id,
            "verdict": "approved", "created_at": dt.datetime.now(dt.timezone.utc).isoformat()},
            facts={"reviewed_on": "2026-11-21"}, sealed={"comment": "核实无误"})
        return MutationResult.model_validate(server.push(dev, [m])["results"][0])

    own, not_final = review(teacher, final), review(officer, draft)
    assert (own.reason.split(":")[0], own.message_id) == ("own_record", "record_review.own_record")
    assert (not_final.reason.split(":")[0], not_final.message_id) == ("not_reviewable", "record_review.visit_not_final")
    assert not_final.reason == "not_reviewable: " + messages.text("record_review.visit_not_final", ZH)
