"""Where the package data is: ``visitapp.resources`` (the repository's ``resources/`` folder),
found through :mod:`importlib.resources`, so an installed wheel finds its fonts and
translations exactly as a checkout does (docs/decisions/packaging-resources.md)."""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from pathlib import Path

PACKAGE = "visitapp.resources"
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def resource_path(*parts: str) -> Path:
    """A file of the package data as a real path (reportlab, Qt and lrelease need one).

    Installed as plain files (the normal case) this is the file itself; from a zip it is
    extracted once to a temporary file that lives as long as the process."""
    ref = files(PACKAGE).joinpath(*parts)
    if isinstance(ref, Path):
        return ref
    return _extracted.enter_context(as_file(ref))
