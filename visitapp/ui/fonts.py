"""Register the bundled CJK font so Chinese renders on machines that have none installed."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from visitapp.ui.i18n import resources_dir

_log = logging.getLogger(__name__)


def font_files(folder: Path | None = None) -> list[Path]:
    """The TrueType/OpenType files under ``resources/fonts`` (the printing helper ships them)."""
    folder = folder or resources_dir() / "fonts"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".ttf", ".otf", ".ttc"})


def register_fonts(app: QApplication, folder: Path | None = None) -> list[str]:
    """Add the bundled fonts and make the first CJK family the application font.

    Returns the registered family names; with none bundled, Qt's own fallback is kept, which
    renders Chinese wherever the system has a CJK font.
    """
    families: list[str] = []
    for path in font_files(folder):
        font_id = QFontDatabase.addApplicationFont(str(path))
        if font_id < 0:
            _log.warning("could not load font %s", path.name)
            continue
        families.extend(QFontDatabase.applicationFontFamilies(font_id))
    cjk = [f for f in families
           if QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(f)]
    if cjk:
        font = QFont(cjk[0])
        font.setPointSize(max(app.font().pointSize(), 10))
        app.setFont(font)
    return families
