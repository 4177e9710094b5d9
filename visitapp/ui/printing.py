"""Print buttons: build the PDF off the GUI thread into the profile's ``prints`` folder, then
open it in the system's PDF viewer (from where the teacher prints it or saves it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visitapp.ui.i18n import tr


def print_document(ctx: Any, stem: str, make: Callable[[Any, Path], Any],
                   on_done: Callable[[Path], None] | None = None) -> Any:
    """Run ``make(ws, path)`` (a documents-service call) on the worker, then open the file."""
    folder = ctx.profile_dir / "prints"
    path = folder / f"{stem}-{dt.datetime.now():%Y%m%d-%H%M%S}.pdf"

    def work(ws):
        folder.mkdir(parents=True, exist_ok=True)
        return make(ws, path)

    def done(report) -> None:
        missing = "".join(sorted(getattr(report, "missing_glyphs", ()) or ()))
        text = tr("Saved {path} ({pages} pages).").format(path=path, pages=report.pages)
        if missing:
            text += " " + tr("The font lacks these characters; write them by hand: {chars}").format(chars=missing)
        ctx.info(text)
        ctx.open_file(path)
        if on_done:
            on_done(path)

    return ctx.run(work, on_done=done)
