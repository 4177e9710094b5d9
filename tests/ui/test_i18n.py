"""Every UI string has a Chinese translation; the Chinese window shows no English."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QAbstractButton, QGroupBox, QLabel, QLineEdit, QListWidget, QPlainTextEdit,
)

from visitapp.ui import i18n


def test_every_source_string_is_translated_in_the_ts():
    strings = i18n.extract_strings()
    assert len(strings) > 150
    ts = i18n.read_ts()
    missing = [s for s in strings if not ts.get(s)]
    assert not missing, f"untranslated UI strings: {missing[:10]}"
    # placeholders survive translation
    for s in strings:
        assert set(re.findall(r"\{\w+\}", s)) == set(re.findall(r"\{\w+\}", ts[s])), s


def test_no_visible_string_bypasses_tr():
    """A literal passed straight to a widget would stay English in the Chinese interface."""
    pattern = re.compile(r"""(setText|setPlaceholderText|addItem|QLabel|QPushButton|QCheckBox|QGroupBox|setWindowTitle)\(\s*["'][A-Za-z]""")
    offenders = []
    for path in i18n.source_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and "# notr" not in line:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert not offenders, offenders


def test_ts_compiles_with_lrelease(tmp_path):
    qm = i18n.compile_qm("zh_CN", tmp_path)
    assert qm is not None and qm.stat().st_size > 1000


def _visible_texts(widget):
    for w in [widget, *widget.findChildren(object)]:
        if isinstance(w, (QLabel, QAbstractButton)):
            yield w.text()
        elif isinstance(w, QGroupBox):
            yield w.title()
        elif isinstance(w, QLineEdit):
            yield w.placeholderText()
        elif isinstance(w, QListWidget):
            for i in range(w.count()):
                yield w.item(i).text()


def test_the_chinese_window_has_no_english_words(qtbot, make_window, real_backend, profile_dir,
                                                 teacher_template):
    import shutil

    from tests.ui.conftest import PASS
    from tests.ui.helpers import idle

    shutil.copytree(teacher_template, profile_dir)
    w = make_window(real_backend, language="zh_CN")
    assert w.unlock.button.text() == "解锁"
    qtbot.keyClicks(w.unlock.passphrase, PASS)
    w.unlock.submit()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
    idle(qtbot, w)
    assert w.students.coverage_label.text().startswith("本学期已走访")
    english = re.compile(r"\b[A-Za-z]{3,}\b")
    allowed = {"https", "VA1"}
    leftovers = set()
    for text in _visible_texts(w):
        for word in english.findall(text or ""):
            if word not in allowed and not text.startswith("http"):
                leftovers.add(text)
    assert not leftovers, leftovers


def test_bundled_font_registers_and_covers_every_chinese_character_of_the_ui(qapp):
    from PySide6.QtGui import QFontDatabase, QRawFont

    from visitapp.domain import LABELS_ZH
    from visitapp.ui.fonts import font_files, register_fonts

    files = font_files()
    assert files, "resources/fonts has no font"
    families = register_fonts(qapp)
    assert any(QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(f)
               for f in families)
    assert qapp.font().family() in families
    raw = QRawFont(str(files[0]), 12)
    text = "".join(t for t in i18n.read_ts().values() if t) + "".join(LABELS_ZH.values())
    # glyph index 0 is .notdef (QRawFont.supportsCharacter misreports some CJK code points)
    missing = sorted({ch for ch in text if ord(ch) > 0x2E7F and raw.glyphIndexesForString(ch)[0] == 0})
    assert not missing, missing
