"""Errors as sentences a teacher understands; technical detail goes to the log file.

The log lives in the profile folder (``visitapp.log``) and records tracebacks and record ids,
never tier B or C values (DESIGN.md §3): service errors carry ids and field names only.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from visitapp.ui.i18n import N_, tr

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


# The sentences a window shows for an error's ``message_id`` (visitapp.domain.errors.UserError),
# in English source text translated by tr(); the Chinese is the .ts translation. An error
# without an id here shows its own (Chinese) sentence.
MESSAGES: dict[str, str] = {
    "sync.offline": N_("The school server cannot be reached right now. Your work is kept on this "
                       "computer and will be sent at the next sync."),
    "sync.certificate_mismatch": N_("The school server showed a certificate other than the one recorded at "
                                    "enrollment, so the connection was refused. Please tell the school's aid "
                                    "officer."),
    "sync.not_enrolled": N_("This computer is not enrolled with a school server yet, so it cannot sync."),
    "sync.no_fingerprint": N_("The server's certificate fingerprint is missing, so no safe connection can be "
                              "made. Please use the enrollment code the school gave you."),
    "sync.plain_http_refused": N_("Unencrypted http is allowed only on this computer; the school server must "
                                  "use https."),
    "sync.device_revoked": N_("The school has stopped this computer's sync access; the student data on it "
                              "has been deleted."),
    "sync.device_revoked_uploaded": N_("The school has revoked this computer's sync access and the student data "
                                       "on it has been deleted; changes not yet synced (if any) were uploaded "
                                       "first, for the aid officer to check. Nothing is lost."),
    "sync.device_revoked_unsent": N_("The school has stopped this computer's sync access and the student data "
                                     "on it has been deleted; {unsent} changes could not be uploaded yet. They "
                                     "stay on this computer and are uploaded at the next connection."),
    "sync.device_retired": N_("This computer has been retired as planned: every unsynced change was uploaded "
                              "to the school server and the student data on it has been deleted."),
    "sync.enroll_refused": N_("Enrollment failed: {detail}"),
    "sync.refused": N_("The school server refused the request: {detail}"),
    "sync.push_refused": N_("The school server refused the upload: {detail}"),
    "sync.pull_refused": N_("The school server refused the download: {detail}"),
    "enroll.not_a_code": N_("This is not a valid enrollment code (it should start with VA1.)."),
    "enroll.damaged_code": N_("The enrollment code is damaged. Please copy the whole code again."),
    "server.officer_only": N_("Only the school's aid officer can do this."),
    "server.platform_not_configured": N_("The school server has no city platform configured yet: run "
                                         "visitapp-server platform configure on the school server."),
    "server.preview_stale": N_("The roster or the school's students changed since this preview. Pull the "
                               "roster again and check the new preview."),
    "server.unauthorized": N_("The school server does not recognise this computer's token; it may not be "
                              "enrolled with this school."),
    "profile.locked": N_("This profile is already open in another window of the application."),
    "profile.too_new": N_("This profile was written by a newer version of the application. "
                          "Please update the application before opening it."),
    "crypto.wrong_passphrase": N_("Wrong passphrase. Please try again."),
    "crypto.wrong_passphrase_wait": N_("Wrong passphrase ({failures} times in a row). Please try again; to "
                                       "slow down guessing, the next try waits {seconds} seconds."),
    "crypto.key_file": N_("The profile's key file is missing or damaged. Use your recovery key or "
                          "ask the school's aid officer for help."),
    "crypto.tampered": N_("Some stored data failed its integrity check and may have been tampered "
                          "with. Nothing was changed. Please tell the school's aid officer."),
    "visit.date_missing": N_("Please enter the date of the visit."),
    "visit.mode_missing": N_("Please choose how the visit was made."),
    "visit.visitors_missing": N_("Please enter at least one visiting teacher."),
    "visit.consent_missing": N_("Please say whether the guardian agreed."),
    "visit.narrative_missing": N_("Please write down what the visit found."),
    "visit.amendment_reason_missing": N_("A correction must give its reason."),
    "unexpected": N_("Something went wrong and the action was not completed. The details were "
                     "written to the log file."),
}


def problem_text(problem: str) -> str:
    """One field's problem in the window's language where it carries a message id
    (:class:`visitapp.domain.errors.Problem`), else as written."""
    message_id = getattr(problem, "message_id", "")
    if message_id in MESSAGES:
        return tr(MESSAGES[message_id]).format(**problem.params)
    return str(problem)


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
    """What the teacher reads about ``exc``: a sentence in the window's language where the
    error has a message id in :data:`MESSAGES`, its own sentence where it is a user-facing
    error without one, never a traceback."""
    import requests

    from visitapp.crypto import CryptoError
    from visitapp.domain import DomainError, ValidationError
    from visitapp.domain.errors import UserError

    if isinstance(exc, ValidationError):
        return problems_text(exc.problems)
    message_id, params = getattr(exc, "message_id", ""), dict(getattr(exc, "params", {}) or {})
    if isinstance(exc, CryptoError):
        message_id, params = _crypto_message(exc)
    elif isinstance(exc, (ConnectionError, TimeoutError, requests.ConnectionError, requests.Timeout)):
        message_id = "sync.offline"
    if message_id in MESSAGES:
        return tr(MESSAGES[message_id]).format(**params)
    if isinstance(exc, DomainError):
        return str(exc) or tr("This change is not allowed.")
    if isinstance(exc, (UserError, CryptoError)):
        return str(exc) or tr(MESSAGES["unexpected"])
    return tr(MESSAGES["unexpected"])
