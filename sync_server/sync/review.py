"""Who may write the records of issue 15 on the school server: applications (申请), reviews of
records (谁审核谁负责) and the officer's appointments of grade-leader reviewers.

Self-contained: functions over the server's session and records, answering ``None`` (allowed)
or ``(code, message id)``; the push handlers at the end of this module call them, and :mod:`sync_server.sync.push` routes the three kinds here. The rules
about a review are the domain's (:func:`visitapp.domain.record_review.review_refusal`), the
same ones the laptop applies before it writes one, read here from the server's own copy of the
reviewed record — never from what the pushing device says about it.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from sync_server.core import Principal
from sync_server.sync.context import _Ctx, _no_delete, _put, _refused, _res, _same
from sync_server.models import AssignmentRow, Record, StaffRow
from visitapp.domain import GrowthEntry, RecordReview, ReviewerAppointment, Visit, join_tiers
from visitapp.domain.enums import REVIEWABLE_KINDS, ReviewVerdict
from visitapp.domain.record_review import latest_reviews, review_refusal
from visitapp.protocol.sync import Mutation, Op

__all__ = ["application_refusal", "review_refusal_of", "appointment_refusal", "returned_entry_editable"]

Refusal = tuple[str, str] | None  # (wire code, message id) or allowed
# the wire code of each reason the domain's review_refusal gives (by its message id)
_REVIEW_REFUSAL_CODES = {
    "record_review.record_missing": "not_reviewable",
    "record_review.visit_not_final": "not_reviewable",
    "record_review.platform_record": "not_reviewable",
    "record_review.own_record": "own_record",
    "record_review.not_a_reviewer": "not_reviewer",
}
_ENTITY = {"visit": Visit, "growth_entry": GrowthEntry}


def _routing(rec: Record) -> dict:
    try:
        value = json.loads(rec.routing or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def application_refusal(session, who: Principal, rec: Record | None, student_id: str | None) -> Refusal:  # noqa: ANN001
    """The officer, or the student's class teacher (the visitor assigned to the student); an
    existing application is changed by its author or the officer."""
    if who.is_officer:
        return None
    class_teacher = session.execute(select(AssignmentRow.id).where(
        AssignmentRow.staff_id == who.staff_id, AssignmentRow.student_id == student_id,
        AssignmentRow.role == "visitor", AssignmentRow.active.is_(True)).limit(1)).first()
    if class_teacher is None:
        return "not_class_teacher", "application.record_not_allowed"
    if rec is not None and rec.author_staff and rec.author_staff != who.staff_id:
        return "not_author", "application.edit_not_allowed"
    return None


def _entity(rec: Record):  # noqa: ANN202
    cls = _ENTITY.get(rec.kind)
    if cls is None:
        return None
    routing = {**_routing(rec), "id": rec.id, "student_id": rec.student_id or "",
               "author_id": rec.author_staff or ""}
    try:
        return join_tiers(cls, routing)
    except (TypeError, ValueError, KeyError):
        return None


def _appointments(session) -> list[ReviewerAppointment]:  # noqa: ANN001
    found = []
    for rec in session.execute(select(Record).where(Record.kind == "reviewer_appointment",
                                                    Record.deleted.is_(False))).scalars():
        try:
            found.append(join_tiers(ReviewerAppointment, {**_routing(rec), "id": rec.id}))
        except (TypeError, ValueError, KeyError):
            continue
    return found


def review_refusal_of(session, who: Principal, routing: dict, student_id: str | None) -> Refusal:  # noqa: ANN001
    """A review names a finalized visit or school growth entry of the same student, written by
    somebody else, and comes from the officer or a grade leader named for the student's grade."""
    kind, record_id = routing.get("record_kind"), routing.get("record_id")
    if kind not in REVIEWABLE_KINDS or not isinstance(record_id, str):
        return "bad_reference", "server.bad_reference.review_kind"
    target = session.get(Record, record_id)
    if target is None or target.deleted or target.kind != kind or target.student_id != student_id:
        return "bad_reference", "server.bad_reference.review_target"
    record = _entity(target)
    student = session.get(Record, student_id) if student_id else None
    class_name = str(_routing(student).get("class_name", "")) if student is not None else ""
    why = review_refusal(who.staff_id, who.is_officer, _appointments(session), record, class_name)
    if why is None:
        return None
    return _REVIEW_REFUSAL_CODES[why.message_id], why


def appointment_refusal(session, routing: dict) -> Refusal:  # noqa: ANN001
    staff_id = routing.get("staff_id")
    if not isinstance(staff_id, str) or session.get(StaffRow, staff_id) is None:
        return "invalid_fields", "server.invalid_fields.reviewer_staff"
    if not str(routing.get("grade") or "").strip():
        return "invalid_fields", "server.invalid_fields.reviewer_grade"
    return None


def returned_entry_editable(session, who: Principal, rec: Record) -> bool:  # noqa: ANN001
    """A growth entry is append-only, except that its author edits it after a reviewer
    returned it (退回) and before anybody reviews it again."""
    if rec.kind != "growth_entry" or rec.author_staff != who.staff_id or rec.deleted:
        return False
    reviews = []
    for r in session.execute(select(Record).where(Record.kind == "record_review", Record.student_id == rec.student_id,
                                                  Record.deleted.is_(False))).scalars():
        routing = _routing(r)
        if routing.get("record_id") != rec.id:
            continue
        try:
            reviews.append(join_tiers(RecordReview, {**routing, "id": r.id, "student_id": r.student_id}))
        except (TypeError, ValueError, KeyError):
            continue
    latest = latest_reviews(reviews).get(rec.id)
    return latest is not None and latest.verdict == ReviewVerdict.RETURNED


# -- the push handlers of the three kinds --------------------------------------------------------------
def push_application(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None and _same(rec, m, ctx):
        return _res(m, "duplicate", seq=rec.server_seq)
    refused = application_refusal(ctx.tx.session, ctx.who, rec, student_id)
    if refused is not None:
        return _res(m, "rejected", *refused)
    new = _put(ctx, m, rec, student_id, hlc, "student")
    return _res(m, "applied", seq=new.server_seq)


def push_record_review(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None:
        if _same(rec, m, ctx):
            return _res(m, "duplicate", seq=rec.server_seq)
        return _res(m, "rejected", "append_only", "server.append_only.review")
    refused = review_refusal_of(ctx.tx.session, ctx.who, m.routing, student_id)
    if refused is not None:
        _refused(ctx, m, _res(m, "rejected", *refused), audit=True)
        return _res(m, "rejected", *refused)
    new = _put(ctx, m, rec, student_id, hlc, "student")
    return _res(m, "applied", seq=new.server_seq)


def push_reviewer_appointment(ctx: _Ctx, m: Mutation, rec: Record | None, student_id: str | None, hlc: str) -> dict:
    if m.op == Op.DELETE:
        return _no_delete(m)
    if rec is not None and _same(rec, m, ctx):
        return _res(m, "duplicate", seq=rec.server_seq)
    refused = appointment_refusal(ctx.tx.session, m.routing)
    if refused is not None:
        return _res(m, "rejected", *refused)
    new = _put(ctx, m, rec, None, hlc, "school")  # every laptop knows who reviews which grade
    return _res(m, "applied", seq=new.server_seq)
