"""Errors the domain raises when a rule is broken. Messages are sentences a teacher can read."""

from __future__ import annotations

__all__ = [
    "UserError",
    "Problem",
    "DomainError",
    "ValidationError",
    "ImmutableRecordError",
    "InvalidTransitionError",
    "VisitFirstError",
    "ReviewerIndependenceError",
]


class UserError(Exception):
    """An error a person reads about. ``str()`` is the Chinese sentence (the CLI, the log);
    ``message_id`` names the sentence so a window shows it in its own language (the catalogue
    is ``visitapp.ui.errors.MESSAGES``), filled with ``params``. Without an id the window shows
    ``str()``."""

    message_id: str = ""

    def __init__(self, text: str = "", message_id: str = "", **params: object):
        super().__init__(text)
        if message_id:
            self.message_id = message_id
        self.params = params


class Problem(str):
    """One field's problem: the Chinese sentence itself (it is a ``str``), with the
    ``message_id`` and ``params`` a window translates it by (see :class:`UserError`)."""

    message_id: str
    params: dict

    def __new__(cls, text: str, message_id: str = "", **params: object) -> Problem:
        problem = super().__new__(cls, text)
        problem.message_id, problem.params = message_id, params
        return problem


class DomainError(UserError):
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
