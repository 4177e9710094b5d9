"""Translations: English source strings, a zh_CN translation compiled at first start.

Every visible string goes through :func:`tr` (one translation context, ``visitapp``), so a test
can find them all in the sources and check that ``visitapp_zh_CN.ts`` translates each one.
The ``.qm`` is built from the ``.ts`` with ``pyside6-lrelease`` (it ships in
PySide6-Essentials) into a cache folder, because generated files are never committed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from visitapp.assets import resource_path

CONTEXT = "visitapp"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"

_log = logging.getLogger(__name__)
_installed: list[QTranslator] = []
_current = "en"


def resources_dir() -> Path:
    """The package data folder (``visitapp.resources``: the repository's ``resources``)."""
    return resource_path()


def ts_path(language: str = "zh_CN") -> Path:
    return resource_path("translations", f"visitapp_{language}.ts")


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """Translate an English source string in the application's single context."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation, n)


def N_(text: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a string for translation where it is defined; translate it with :func:`tr` later."""
    return text


def _lrelease() -> str | None:
    import PySide6

    base = Path(PySide6.__file__).parent
    for name in ("lrelease", "lrelease.exe", "pyside6-lrelease"):
        if (base / name).exists():
            return str(base / name)
    found = shutil.which("pyside6-lrelease") or shutil.which("lrelease")
    return found


def compile_qm(language: str, cache_dir: Path) -> Path | None:
    """Compile the ``.ts`` for ``language`` to ``cache_dir`` unless an up-to-date one is there."""
    src = ts_path(language)
    if not src.exists():
        return None
    cache_dir.mkdir(parents=True, exist_ok=True)
    out = cache_dir / f"visitapp_{language}.qm"
    if out.exists() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    tool = _lrelease()
    if tool is None:
        _log.warning("lrelease not found; the interface stays in English")
        return None
    try:
        subprocess.run([tool, "-silent", str(src), "-qm", str(out)], check=True,
                       capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        _log.exception("could not compile %s", src)
        return None
    return out if out.exists() else None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "visitapp" / "translations"


def install(language: str, cache_dir: Path | None = None) -> bool:
    """Switch the running application to ``language`` (``zh_CN`` or ``en``)."""
    global _current
    app = QCoreApplication.instance()
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    _current = "en"
    if language == "en":
        return True
    qm = compile_qm(language, cache_dir or default_cache_dir())
    if qm is None:
        return False
    translator = QTranslator(app)
    if not translator.load(str(qm)):
        return False
    app.installTranslator(translator)
    _installed.append(translator)
    # Qt's own dialogs (buttons of QMessageBox and the like) in the same language.
    qt_translator = QTranslator(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_translator.load(QLocale(language), "qtbase", "_", qt_dir):
        app.installTranslator(qt_translator)
        _installed.append(qt_translator)
    _current = language
    return True


def language() -> str:
    """The language the application is showing (``zh_CN`` or ``en``): ``en`` until a
    translation is installed, so an error reads in the same language as the window around it."""
    return _current


def label(code: object) -> str:
    """The label of a domain code (stage, level, indicator ...) in the current language."""
    from visitapp.domain import label_zh

    if code is None:
        return ""
    text = str(code)
    if _current == "zh_CN":
        return label_zh(text)
    return _EN_LABELS.get(text, text.replace("_", " ").capitalize())


_EN_LABELS = {"1": "Especially difficult", "2": "Relatively difficult", "3": "Generally difficult",
              "none": "Not determined", "on_site": "On site", "final": "Finalized"}


# -- keeping the .ts complete ------------------------------------------------------------------
def source_files() -> list[Path]:
    pkg = Path(__file__).resolve().parent
    return sorted(pkg.rglob("*.py")) + [pkg.parent / "app.py"]


def extract_strings(files: list[Path] | None = None) -> list[str]:
    """Every literal passed to ``tr(...)`` or ``N_(...)`` in the UI sources, in order."""
    import ast

    seen: dict[str, None] = {}
    for path in files or source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("tr", "N_") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                seen.setdefault(node.args[0].value, None)
    return list(seen)


def read_ts(path: Path | None = None) -> dict[str, str | None]:
    """source -> translation (None when missing or marked unfinished)."""
    import xml.etree.ElementTree as ET

    path = path or ts_path()
    if not path.exists():
        return {}
    out: dict[str, str | None] = {}
    for ctx in ET.parse(path).getroot().iter("context"):
        if ctx.findtext("name") != CONTEXT:
            continue
        for msg in ctx.iter("message"):
            tr_el = msg.find("translation")
            done = tr_el is not None and tr_el.get("type") not in ("unfinished", "obsolete") and (tr_el.text or "")
            out[msg.findtext("source") or ""] = (tr_el.text if done else None)
    return out


def write_ts(translations: dict[str, str | None], path: Path | None = None,
             language: str = "zh_CN") -> None:
    """Write a Qt Linguist file; untranslated entries are marked unfinished."""
    import xml.etree.ElementTree as ET

    root = ET.Element("TS", version="2.1", language=language)
    ctx = ET.SubElement(root, "context")
    ET.SubElement(ctx, "name").text = CONTEXT
    for source, target in translations.items():
        msg = ET.SubElement(ctx, "message")
        ET.SubElement(msg, "source").text = source
        t = ET.SubElement(msg, "translation")
        if target:
            t.text = target
        else:
            t.set("type", "unfinished")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    (path or ts_path(language)).write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")


def update_ts(path: Path | None = None) -> list[str]:
    """Add new source strings to the .ts (unfinished), keep existing translations, drop strings
    no longer used. Returns the sources still lacking a translation."""
    existing = read_ts(path)
    merged = {s: existing.get(s) for s in extract_strings()}
    write_ts(merged, path)
    return [s for s, t in merged.items() if not t]


if __name__ == "__main__":  # pragma: no cover - developer tools
    # python -m visitapp.ui.i18n update   -> refresh the .ts from the sources
    # python -m visitapp.ui.i18n compile DIR -> build the .qm (a build step for packagers)
    if sys.argv[1:2] == ["update"]:
        missing = update_ts()
        print(f"{len(missing)} strings need a translation")
    else:
        target = Path(sys.argv[2]) if len(sys.argv) > 2 else default_cache_dir()
        print(compile_qm("zh_CN", target))
