"""Errors as sentences a teacher understands; technical detail goes to the log file.

The log lives in the profile folder (``visitapp.log``) and records tracebacks and record ids,
never tier B or C values (DESIGN.md §3): service errors carry ids and field names only.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from visitapp import messages
from visitapp.messages import MESSAGES
from visitapp.ui import i18n

LOG_NAME = "visitapp.log"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log sits in the profile folder: owner-only (0600) like everything there, rotated
    files included."""

    def _open(self):  # noqa: ANN202
        from visitapp.crypto.private import open_private
        return open_private(self.baseFilename, "a")


def setup_logging(profile_dir: Path) -> Path:
    """Send the application's log to a rotating file in the profile folder."""
    profile_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = profile_dir / LOG_NAME
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_visitapp", False):
            root.removeHandler(h)
    handler = _PrivateRotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler._visitapp = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    # INFO goes to the file; a terminal the app was started from keeps showing warnings only.
    for other in root.handlers:
        if other is not handler and isinstance(other, logging.StreamHandler) \
                and not isinstance(other, logging.FileHandler) and other.level == logging.NOTSET:
            other.setLevel(logging.WARNING)
    root.setLevel(logging.INFO)
    return path


def problem_text(problem: str) -> str:
    """One field's problem in the window's language where it carries a message id
    (:class:`visitapp.domain.errors.Problem`), its parameters too (a server's reason inside the
    laptop's sentence), else as written."""
    message_id = getattr(problem, "message_id", "")
    if message_id in MESSAGES:
        return messages.text(message_id, i18n.language(), **_params_in_language(problem.params))
    return str(problem)


def refusal_text(code: str, sentence: str) -> str:
    """A refusal the server stored as its code and Chinese sentence (an orphaned upload's
    reason): the sentence in a Chinese window; elsewhere the code's own sentence in the window's
    language (``server.<code>``, which needs no parameters), else the sentence as written."""
    language = i18n.language()
    message_id = f"server.{code}"
    if language == messages.ZH or message_id not in MESSAGES or messages.placeholders(MESSAGES[message_id][0]):
        return sentence
    return messages.text(message_id, language)


def _params_in_language(params: dict) -> dict:
    """An error's parameters with the sentences among them (reasons a domain function gave, one
    or a list) in the window's language too."""
    def said(value: object) -> object:
        if isinstance(value, (list, tuple)):
            return [problem_text(v) if isinstance(v, str) else v for v in value]
        return problem_text(value) if isinstance(value, str) else value
    return {name: said(value) for name, value in params.items()}


def problems_text(problems: dict[str, str], separator: str = "\n") -> str:
    """Every problem of a ValidationError, each as :func:`problem_text` says it."""
    return separator.join(problem_text(p) for p in problems.values())


def _crypto_message(exc: BaseException) -> tuple[str, dict]:
    """The crypto errors' ids, by type (the crypto package keeps its own classes)."""
    from visitapp.crypto import KeyFileError, RecoveryKeyError, TamperedData, WeakPassphrase, WrongPassphrase

    if isinstance(exc, WrongPassphrase):
        if exc.delay_seconds >= 1:
            return "crypto.wrong_passphrase_wait", {"failures": exc.failures, "seconds": f"{exc.delay_seconds:.0f}"}
        return "crypto.wrong_passphrase", {}
    if isinstance(exc, (RecoveryKeyError, WeakPassphrase)):
        return "", {}  # their own sentence says which rule (not yet in the catalogue)
    if isinstance(exc, KeyFileError):
        return "crypto.key_file", {}
    if isinstance(exc, TamperedData):
        return "crypto.tampered", {}
    return "", {}


def user_message(exc: BaseException) -> str:
    """What the teacher reads about ``exc``: a sentence of :data:`visitapp.messages.MESSAGES` in
    the window's language where the error has a message id (chosen by the error's type, never
    its class name or text), its own sentence where it is a user-facing error without one yet,
    never a traceback."""
    import requests

    from visitapp.crypto import CryptoError
    from visitapp.domain import DomainError, ValidationError
    from visitapp.domain.errors import UserError

    if isinstance(exc, ValidationError):
        return problems_text(exc.problems)
    message_id, params = getattr(exc, "message_id", ""), dict(getattr(exc, "params", {}) or {})
    if isinstance(exc, CryptoError) and message_id not in MESSAGES:
        # a crypto error that is also a UserError (the key service's) names its own id
        message_id, params = _crypto_message(exc)
    elif isinstance(exc, (ConnectionError, TimeoutError, requests.ConnectionError, requests.Timeout)):
        message_id = "sync.offline"
    language = i18n.language()
    if message_id in MESSAGES:
        return messages.text(message_id, language, **_params_in_language(params))
    if isinstance(exc, DomainError):
        return str(exc) or messages.text("domain.not_allowed", language)
    if isinstance(exc, (UserError, CryptoError)):
        return str(exc) or messages.text("unexpected", language)
    return messages.text("unexpected", language)
