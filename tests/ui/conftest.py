"""UI test fixtures: offscreen Qt, temp profiles on the real services (fast KDF), the window."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

PASS = "correct horse battery"


@pytest.fixture
def profile_dir(tmp_path):
    return tmp_path / "profile"


@pytest.fixture(scope="session")
def real_backend():
    import visitapp.services as services

    return services


def _template(tmp_path_factory, role: str, students: int):
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    from visitapp.services.demo import seed_demo

    path = tmp_path_factory.mktemp(f"template-{role}") / "profile"
    ws, _ = create_profile(path, PASS, kdf=FAST_TEST_KDF, role=role, staff_name="李老师")
    seed_demo(ws, students)
    ws.close()
    return path


@pytest.fixture(scope="session")
def teacher_template(tmp_path_factory):
    """A demo school seeded once; each test gets its own copy (seeding per test is slow)."""
    return _template(tmp_path_factory, "teacher", 120)


@pytest.fixture(scope="session")
def officer_template(tmp_path_factory):
    return _template(tmp_path_factory, "officer", 40)


@pytest.fixture
def make_window(qtbot, profile_dir):
    """Build the main window on a backend; answers dialogs with the values tests set."""
    from visitapp.app import build_window
    from visitapp.crypto import FAST_TEST_KDF

    made = []

    def make(backend, language="en", **kw):
        kw.setdefault("kdf", FAST_TEST_KDF)
        w = build_window(profile_dir, backend, language=language, **kw)
        qtbot.addWidget(w)
        w.ctx.confirm = lambda title, text: True
        w.ctx.ask_text = lambda title, label: "家长补充了收入信息"
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def unlocked(qtbot, make_window, real_backend, profile_dir, teacher_template):
    """A window unlocked by typing the passphrase, on a copy of the seeded teacher profile."""
    from PySide6.QtCore import Qt

    from tests.ui.helpers import idle

    def make(template=None):
        shutil.copytree(template or teacher_template, profile_dir)
        w = make_window(real_backend)
        assert w.pages.currentWidget() is w.unlock
        qtbot.keyClicks(w.unlock.passphrase, PASS)
        qtbot.keyClick(w.unlock.passphrase, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.shell, timeout=10000)
        idle(qtbot, w)
        return w, w.ctx.ws

    return make
