"""谁审核谁负责 (plan §8): the review of finalized visits and growth entries, as pure rules.

A record's review state is read from its reviews (append-only ``RecordReview`` records): the
latest one decides. A returned growth entry that its author edited afterwards is waiting for
review again (``resubmitted``); a returned visit is corrected by an amendment, which is a new
record with its own review. Reviewers are the officer (every grade) and the grade leaders the
officer names (their grade). Nobody reviews their own record: independence is what makes the
reviewer answerable for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from visitapp.domain.entities import GrowthEntry, RecordReview, ReviewerAppointment, Visit
from visitapp.domain.enums import ReviewVerdict, VisitStatus
from visitapp.domain.errors import Problem

__all__ = ["ReviewState", "review_state", "latest_reviews", "review_refusal", "appointment_covers", "grade_covers",
           "UNREVIEWED", "RESUBMITTED"]

UNREVIEWED = "unreviewed"
RESUBMITTED = "resubmitted"


@dataclass(frozen=True)
class ReviewState:
    """``status``: unreviewed | approved | returned | resubmitted; the rest from the deciding review."""

    status: str
    review: RecordReview | None = None

    @property
    def reviewed(self) -> bool:
        return self.status == ReviewVerdict.APPROVED


def _moment(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def latest_reviews(reviews: Iterable[RecordReview]) -> dict[str, RecordReview]:
    """The deciding (latest) review of each record id."""
    out: dict[str, RecordReview] = {}
    for r in reviews:
        best = out.get(r.record_id)
        if best is None or (_moment(r.created_at), r.id) > (_moment(best.created_at), best.id):
            out[r.record_id] = r
    return out


def review_state(record: Visit | GrowthEntry, latest: RecordReview | None) -> ReviewState:
    if latest is None:
        return ReviewState(UNREVIEWED)
    if latest.verdict == ReviewVerdict.RETURNED and isinstance(record, GrowthEntry) \
            and record.updated_at is not None and _moment(record.updated_at) > _moment(latest.created_at):
        return ReviewState(RESUBMITTED, latest)
    return ReviewState(latest.verdict.value, latest)


def grade_covers(grade: str, class_name: str) -> bool:
    """A grade (the start of class names, e.g. ``七年级``) covers the classes whose names begin with it."""
    grade = grade.strip()
    return bool(grade) and class_name.startswith(grade)


def appointment_covers(appointment: ReviewerAppointment, class_name: str) -> bool:
    return appointment.active and grade_covers(appointment.grade, class_name)


def review_refusal(reviewer_id: str, reviewer_is_officer: bool, appointments: Iterable[ReviewerAppointment],
                   record: Visit | GrowthEntry | None, class_name: str) -> str | None:
    """Why ``reviewer_id`` may not review ``record`` (a sentence with its message id), or ``None``.
    The school server asks the same questions of a pushed review (``sync_server.sync.review``)."""
    if record is None:
        return Problem("record_review.record_missing")
    if isinstance(record, Visit):
        if record.status != VisitStatus.FINAL:
            return Problem("record_review.visit_not_final")
        author = record.author_id
    else:
        if record.source != "school":
            return Problem("record_review.platform_record")
        author = record.author_id
    if author and author == reviewer_id:
        return Problem("record_review.own_record")
    if reviewer_is_officer:
        return None
    if any(a.staff_id == reviewer_id and appointment_covers(a, class_name) for a in appointments):
        return None
    return Problem("record_review.not_a_reviewer")
