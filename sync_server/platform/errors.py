"""Errors of the platform connector. Messages are Chinese sentences an officer can act on."""

from __future__ import annotations


class PlatformError(Exception):
    """A failure the officer can act on (bad file, unreachable platform, refused batch)."""


class FileFormatError(PlatformError):
    """A bad exchange file. ``row``/``column`` name the first bad cell (1-based row)."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        self.row, self.column = row, column
        where = ""
        if row is not None:
            where = f"第 {row} 行"
            if column:
                where += f"，列“{column}”"
            where += "："
        super().__init__(where + message)


class TransportError(PlatformError):
    """The platform could not be reached, or answered with an error after all retries."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False):
        self.status, self.retryable = status, retryable
        super().__init__(message)
