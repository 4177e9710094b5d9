"""Errors the domain raises when a rule is broken. Messages are sentences a teacher can read."""

from __future__ import annotations

__all__ = [
    "DomainError",
    "ValidationError",
    "ImmutableRecordError",
    "InvalidTransitionError",
    "VisitFirstError",
    "ReviewerIndependenceError",
]


class DomainError(Exception):
    """Base class of every broken business rule."""


class ValidationError(DomainError):
    """One or more fields hold bad values. ``problems`` maps field name -> message."""

    def __init__(self, problems: dict[str, str] | str, field: str | None = None):
        if isinstance(problems, str):
            problems = {field or "_": problems}
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" if k != "_" else v for k, v in self.problems.items()))


class ImmutableRecordError(DomainError):
    """A finalized record was about to change in place."""


class InvalidTransitionError(DomainError):
    """A status change the life cycle does not allow (e.g. finalizing a voided visit)."""


class VisitFirstError(DomainError):
    """先家访后认定: a determination without a finalized on-site visit of the same term."""


class ReviewerIndependenceError(DomainError):
    """A visitor may not be the only reviewer of the student they visited."""
