"""Errors as sentences a teacher understands; technical detail goes to the log file.

The log lives in the profile folder (``visitapp.log``) and records tracebacks and record ids,
never tier B or C values (DESIGN.md §3): service errors carry ids and field names only.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from visitapp.ui.i18n import tr

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


def user_message(exc: BaseException) -> str:
    """What the teacher reads about ``exc``: a sentence, never a traceback."""
    from visitapp.domain import DomainError, ValidationError

    name = type(exc).__name__
    if isinstance(exc, ValidationError):
        return "\n".join(v for v in exc.problems.values())
    if isinstance(exc, DomainError):
        return str(exc) or tr("This change is not allowed.")
    if name in {"WrongPassphrase", "RecoveryKeyError", "WeakPassphrase"}:
        return str(exc)
    if name == "ProfileDamagedError":  # one sentence with the way out (backup, or the server's copy)
        return str(exc)
    if name in {"ProfileLockedError"}:
        return tr("This profile is already open in another window of the application.")
    if name in {"ProfileTooNewError"}:
        return tr("This profile was written by a newer version of the application. "
                  "Please update the application before opening it.")
    if name == "KeyFileError":
        return tr("The profile's key file is missing or damaged. Use your recovery key or "
                  "ask the school's aid officer for help.")
    if name == "TamperedData":
        return tr("Some stored data failed its integrity check and may have been tampered "
                  "with. Nothing was changed. Please tell the school's aid officer.")
    if isinstance(exc, (ConnectionError, TimeoutError)) or name in {
            "ConnectionError", "Timeout", "ConnectTimeout", "ReadTimeout", "OfflineError"}:
        return tr("The school server cannot be reached right now. Your work is kept on this "
                  "computer and will be sent at the next sync.")
    if isinstance(exc, ValueError) and _looks_chinese(str(exc)):
        return str(exc)
    if _looks_chinese(str(exc)):
        return str(exc)
    return tr("Something went wrong and the action was not completed. The details were "
              "written to the log file.")


def _looks_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
