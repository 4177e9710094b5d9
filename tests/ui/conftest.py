"""UI test fixtures: offscreen Qt, a temp profile folder, and the window on a backend."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture
def profile_dir(tmp_path):
    return tmp_path / "profile"


@pytest.fixture
def fake_backend():
    from tests.ui import fakes

    return fakes.Backend


@pytest.fixture
def make_window(qtbot, profile_dir):
    """Build the main window on a backend; answers dialogs with the values tests set."""
    from visitapp.app import build_window

    made = []

    def make(backend, language="en", **kw):
        w = build_window(profile_dir, backend, language=language, **kw)
        qtbot.addWidget(w)
        w.ctx.confirm = lambda title, text: True
        w.ctx.ask_text = lambda title, label: "家长补充了收入信息"
        w.show()
        made.append(w)
        return w

    yield make
    for w in made:
        w.ctx.tasks.wait(10000)
