"""Errors the domain raises when a rule is broken. Messages are sentences a teacher can read."""

from __future__ import annotations

from visitapp import messages
from visitapp.messages import MESSAGES

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
    """An error a person reads about, named by a message id of :data:`visitapp.messages.MESSAGES`:
    ``UserError("student.not_found")`` or ``UserError("sync.refused", detail=...)``. ``str()``
    is the table's Chinese sentence (the CLI, the log); a window shows the same id in its own
    language. A subclass may name its id as a class attribute and be raised without arguments;
    a :class:`Problem` a domain function returned as its reason gives its id and params.

    Two older forms still work while raise sites move to ids: a sentence that is not an id is
    the error's Chinese text (a window then shows it as written, in either language); a sentence
    with an id as the second argument keeps the sentence for ``str()`` (it may carry detail the
    table's sentence leaves out) and the id for the window."""

    message_id: str = ""

    def __init__(self, message: str = "", message_id: str = "", **params: object):
        if isinstance(message, Problem) and message.message_id:  # a reason a domain function gave
            message_id, params, message = message.message_id, {**message.params, **params}, ""
        elif message in MESSAGES:
            message_id, message = message, ""
        if message_id:
            self.message_id = message_id
        self.params = params
        if not message and self.message_id in MESSAGES:
            message = messages.text(self.message_id, messages.ZH, **params)
        super().__init__(message)


class Problem(str):
    """One field's problem: the Chinese sentence itself (it is a ``str``), with the
    ``message_id`` and ``params`` a window translates it by: ``Problem("visit.date_missing")``.
    A sentence that is not an id is a problem without an id (see :class:`UserError`)."""

    message_id: str
    params: dict

    def __new__(cls, message: str, message_id: str = "", **params: object) -> Problem:
        if message in MESSAGES:
            message_id, message = message, messages.text(message, messages.ZH, **params)
        problem = super().__new__(cls, message)
        problem.message_id, problem.params = message_id, params
        return problem

    @classmethod
    def of_error(cls, exc: BaseException) -> str:
        """An error as a sentence inside another (a warning's ``{detail}``): a Problem with the
        error's id where it has one, so a window says it in its own language too, else its text."""
        message_id = getattr(exc, "message_id", "")
        if message_id in MESSAGES:
            return cls(message_id, **dict(getattr(exc, "params", {}) or {}))
        return str(exc)


class DomainError(UserError):
    """Base class of every broken business rule."""


class ValidationError(DomainError):
    """One or more fields hold bad values. ``problems`` maps field name -> problem: a message id
    or a :class:`Problem` (a plain sentence is a problem without an id)."""

    def __init__(self, problems: dict[str, str] | str, field: str | None = None):
        if isinstance(problems, str):
            problems = {field or "_": problems}
        self.problems = {name: p if isinstance(p, Problem) else Problem(p) for name, p in problems.items()}
        super().__init__("; ".join(f"{k}: {v}" if k != "_" else v for k, v in self.problems.items()))


class ImmutableRecordError(DomainError):
    """A finalized record was about to change in place."""


class InvalidTransitionError(DomainError):
    """A status change the life cycle does not allow (e.g. finalizing a voided visit)."""


class VisitFirstError(DomainError):
    """先家访后认定: a determination without a finalized on-site visit of the same term."""


class ReviewerIndependenceError(DomainError):
    """A visitor may not be the only reviewer of the student they visited."""
