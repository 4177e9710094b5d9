"""Shared fixtures: every test gets its own profile folder and a cheap KDF."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

import pytest



def _laptop_screen() -> None:
    """Offscreen, the tests' screen is a school laptop's 1366×768 (the offscreen default is
    800×800); the window sizes itself to the screen it opens on (visitapp.ui.fit)."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    config = os.path.join(tempfile.gettempdir(), "visitapp-test-screen-1366x768.json")
    partial = f"{config}.{os.getpid()}"  # written whole, then renamed: xdist workers share it
    with open(partial, "w", encoding="utf-8") as f:
        json.dump({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}, f)
    os.replace(partial, config)
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


_laptop_screen()
REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "correct horse battery"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes: the repo importable, whether installed or not."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


PYTHON = sys.executable


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    return tmp_path / "profile"


@pytest.fixture
def workspace(profile_dir: Path):
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    ws, _recovery = create_profile(profile_dir, PASSPHRASE, staff_name="王老师", kdf=FAST_TEST_KDF)
    yield ws
    ws.close()


@pytest.fixture
def officer_workspace(tmp_path: Path):
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile
    ws, _recovery = create_profile(tmp_path / "officer", PASSPHRASE, staff_name="赵专干", role="officer",
                                   kdf=FAST_TEST_KDF)
    yield ws
    ws.close()


def add_student(ws, name: str = "张晓明", assign: bool = True, **fields):  # noqa: ANN001, ANN201
    """Put a roster student (as if pulled from the server) into a workspace, assigned to its teacher."""
    from visitapp.domain import Assignment, AssignmentRole, Stage, Student, term_of
    from visitapp.services.base import new_id
    from visitapp.storage.records import upsert_entity
    student = Student(id=new_id(), school_id="school-1", class_name=fields.pop("class_name", "七(1)班"),
                      stage=fields.pop("stage", Stage.JUNIOR), name=name,
                      masked_id=fields.pop("masked_id", "3202**********1234"), **fields)
    with ws.profile.session() as s, s.begin():
        upsert_entity(s, student)
        if assign:  # the teacher visits and mentors the student
            for role in (AssignmentRole.VISITOR, AssignmentRole.MENTOR):
                upsert_entity(s, Assignment(id=new_id(), student_id=student.id, staff_id=ws.identity.staff_id,
                                            role=role, term=term_of(dt.date.today())))
    return student


def set_aside_story(ws, visit_id: str) -> None:
    """Leave a visit on the laptop as a pull leaves one it cannot open yet (issue 14): the
    record without its tier C, and its ``unopened`` row."""
    from visitapp.storage.models import UnopenedRow, VisitRow
    with ws.profile.session() as s, s.begin():
        s.get(VisitRow, visit_id).sealed = {}
        s.add(UnopenedRow(id=UnopenedRow.key("visit", visit_id), record_kind="visit", record_id=visit_id,
                          change={}, at="2026-12-02T10:00:00+00:00"))


# The modules holding the suite's longest tests (see docs/development.md, "The suite's time"),
# longest first. They are collected first, whole (a module's fixtures are set up once), so
# that under ``-n 2`` a worker starts them early and the other steals the short tests left
# at the end, instead of one long test running alone while the other worker idles.
LONG_FIRST = (
    "tests/ui/test_sync.py",
    "tests/test_wheel_smoke.py",
    "tests/e2e/test_orphaned_work.py",
    "tests/e2e/test_plaintext_hunt.py",
    "tests/e2e/test_sync_property.py",
    "tests/security/test_signed_trail.py",
    "tests/ui/test_orphans_window.py",
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items) -> None:  # noqa: ANN001
    rank = {path: i for i, path in enumerate(LONG_FIRST)}
    order = {id(item): n for n, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.nodeid.split("::", 1)[0], len(rank)), order[id(item)]))
