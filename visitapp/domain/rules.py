"""The life-cycle rules of DESIGN.md §2, as pure functions over entities.

Services call these and never change a record's status by hand, so the rules hold whichever
screen, command or sync path asks; the server calls the same functions again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from visitapp.domain.entities import Visit
from visitapp.domain.enums import VisitMode, VisitStatus
from visitapp.domain.errors import (
    ImmutableRecordError, InvalidTransitionError, ReviewerIndependenceError, ValidationError,
    VisitFirstError,
)
from visitapp.domain.terms import term_of

__all__ = [
    "edit_visit", "finalize_visit", "amend_visit", "void_visit", "ensure_deletable",
    "effective_status", "current_version", "check_visit_first", "check_reviewer_independence",
    "require_reason",
]

# Fields a person edits; routing fields are the services' business.
_ROUTING = {"id", "student_id", "author_id", "status", "device_id", "amends_id", "created_at",
            "updated_at", "finalized_at", "term", "void_reason"}


def require_reason(reason: str, missing: str) -> str:
    """The reason, stripped; refuses an empty one with the message id ``missing``."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": missing})
    return reason


def edit_visit(visit: Visit, now: dt.datetime, **changes: object) -> Visit:
    """Apply a person's edits to a draft. Finalized, voided records never change in place."""
    if visit.status != VisitStatus.DRAFT:
        raise ImmutableRecordError("visit.finalized_immutable")
    illegal = set(changes) & _ROUTING
    if illegal:
        raise ValidationError({k: "field.not_editable" for k in sorted(illegal)})
    edited = dataclasses.replace(visit, **changes, updated_at=now)  # type: ignore[arg-type]
    problems = edited.problems(now.date())
    if problems:
        raise ValidationError(problems)
    if edited.visit_date is not None:
        edited = dataclasses.replace(edited, term=term_of(edited.visit_date))
    return edited


def finalize_visit(visit: Visit, now: dt.datetime) -> Visit:
    if visit.status != VisitStatus.DRAFT:
        raise InvalidTransitionError("visit.only_drafts_finalize")
    problems = visit.finalize_problems(now.date())
    if problems:
        raise ValidationError(problems)
    assert visit.visit_date is not None
    return dataclasses.replace(visit, status=VisitStatus.FINAL, finalized_at=now, updated_at=now,
                               term=term_of(visit.visit_date))


def amend_visit(original: Visit, reason: str, new_id: str, author_id: str, device_id: str,
                now: dt.datetime) -> Visit:
    """A correction: a new draft that points at the final record and carries its content."""
    if original.status != VisitStatus.FINAL:
        raise InvalidTransitionError("visit.only_final_amend")
    reason = require_reason(reason, "visit.amendment_reason_missing")
    return dataclasses.replace(
        original, id=new_id, status=VisitStatus.DRAFT, amends_id=original.id,
        amendment_reason=reason, author_id=author_id, device_id=device_id, created_at=now,
        updated_at=now, finalized_at=None,
    )


def void_visit(visit: Visit, reason: str, now: dt.datetime) -> Visit:
    if visit.status == VisitStatus.VOIDED:
        raise InvalidTransitionError("visit.already_void")
    if visit.status != VisitStatus.FINAL:
        raise InvalidTransitionError("visit.draft_not_voided")
    reason = require_reason(reason, "reason.void_missing")
    return dataclasses.replace(visit, status=VisitStatus.VOIDED, void_reason=reason, updated_at=now)


def ensure_deletable(visit: Visit) -> None:
    if visit.status != VisitStatus.DRAFT:
        raise ImmutableRecordError("visit.final_not_deleted")


def effective_status(visit: Visit, visits: Iterable[Visit]) -> VisitStatus:
    """``amended`` when a final amendment supersedes this final visit."""
    if visit.status == VisitStatus.FINAL:
        for other in visits:
            if other.amends_id == visit.id and other.status in (VisitStatus.FINAL, VisitStatus.VOIDED):
                return VisitStatus.AMENDED
    return visit.status


def current_version(visits: Iterable[Visit]) -> list[Visit]:
    """The visits that count: final, not voided, not superseded by a final amendment."""
    visits = list(visits)
    superseded = {v.amends_id for v in visits if v.amends_id and v.status == VisitStatus.FINAL}
    return [v for v in visits if v.status == VisitStatus.FINAL and v.id not in superseded]


_REMOTE_ZH = {VisitMode.PHONE: "电话家访", VisitMode.VIDEO: "视频家访"}


def counts_as_visit(visit: Visit) -> bool:
    """The one definition of 家访 for coverage, 本学期已走访, the reconciliation, the data
    quality checks and 先家访后认定: a finalized, current, on-site visit. A phone or video
    call is recorded and shown, but it is not 实地走访 and covers nobody."""
    return visit.status == VisitStatus.FINAL and visit.mode == VisitMode.ON_SITE


def on_site_visits(visits: Iterable[Visit]) -> list[Visit]:
    """The current versions (:func:`current_version`) that count as 家访."""
    return [v for v in current_version(visits) if counts_as_visit(v)]


def visited_on_site(term: str, visits: Iterable[Visit]) -> set[str]:
    """The students with a finalized on-site visit in ``term``."""
    return {v.student_id for v in on_site_visits(visits) if v.term == term}


def remote_only(term: str, visits: Iterable[Visit]) -> dict[str, str]:
    """Students whose finalized visits of ``term`` were all by phone or video, with what to
    show for them: {student_id: "电话家访 1 次，未实地走访"}."""
    current = [v for v in current_version(visits) if v.term == term]
    on_site = {v.student_id for v in current if counts_as_visit(v)}
    counts: dict[str, dict[VisitMode, int]] = {}
    for v in current:
        if v.student_id not in on_site and v.mode in _REMOTE_ZH:
            by_mode = counts.setdefault(v.student_id, {})
            by_mode[v.mode] = by_mode.get(v.mode, 0) + 1
    return {sid: remote_note(by_mode) for sid, by_mode in counts.items()}


def remote_note(by_mode: dict) -> str:
    """{phone: 1} -> "电话家访 1 次，未实地走访" (modes as VisitMode or their values)."""
    parts = [f"{_REMOTE_ZH[VisitMode(m)]} {n} 次" for m, n in sorted(by_mode.items(), key=lambda kv: str(kv[0]))
             if n and VisitMode(m) in _REMOTE_ZH]
    return "、".join(parts) + "，未实地走访"


def check_visit_first(student_id: str, term: str, visits: Iterable[Visit]) -> Visit:
    """先家访后认定: return the finalized on-site visit a determination rests on, or refuse."""
    for visit in on_site_visits(visits):
        if visit.student_id == student_id and visit.term == term:
            return visit
    raise VisitFirstError("review.visit_first")


def check_reviewer_independence(reviewers: Iterable[str], visitor_ids: Iterable[str]) -> None:
    reviewers = {r for r in reviewers if r}
    visitors = {v for v in visitor_ids if v}
    if reviewers and reviewers <= visitors:
        raise ReviewerIndependenceError("review.visitor_sole_reviewer")
