"""Resetting a forgotten passphrase with the printed recovery key (services and storage)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE, add_student
from visitapp.crypto import FAST_TEST_KDF, RecoveryKeyError, WeakPassphrase, WrongPassphrase
from visitapp.services import create_profile, open_profile, open_profile_with_recovery
from visitapp.services.workspace import PASSPHRASE_RESET
from visitapp.storage.models import AuditEventRow

NEW = "a brand new passphrase"


@pytest.fixture
def closed_profile(profile_dir):
    """A profile with one student, closed; returns (recovery key, student id)."""
    ws, recovery = create_profile(profile_dir, PASSPHRASE, staff_name="王老师", kdf=FAST_TEST_KDF)
    student = add_student(ws)
    ws.close()
    return recovery, student.id


def _reset_events(ws) -> list[AuditEventRow]:
    with ws.profile.session() as s:
        return list(s.scalars(select(AuditEventRow).where(AuditEventRow.action == PASSPHRASE_RESET)))


def _key_file(profile_dir) -> bytes:
    return (profile_dir / "keyfile.json").read_bytes()


def test_recovery_key_sets_a_new_passphrase_and_keeps_the_data(closed_profile, profile_dir):
    recovery, student_id = closed_profile
    # typed as a person might: lower case, spaces for dashes
    ws = open_profile_with_recovery(profile_dir, recovery.lower().replace("-", " "), NEW)
    try:
        assert ws.students.get(student_id).name == "张晓明"
        events = _reset_events(ws)
        assert len(events) == 1 and events[0].record_id == ws.identity.staff_id
        assert ws.verify_audit_chain() == 1  # hash-chained like every other event
    finally:
        ws.close()
    with pytest.raises(WrongPassphrase):
        open_profile(profile_dir, PASSPHRASE)
    ws = open_profile(profile_dir, NEW)
    try:
        assert ws.students.get(student_id).name == "张晓明"
    finally:
        ws.close()


def test_recovery_after_an_idle_lock_keeps_the_workspace(closed_profile, profile_dir):
    recovery, student_id = closed_profile
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        ws.lock()
        with pytest.raises(RecoveryKeyError):
            ws.unlock_with_recovery("ABCD-" * 7 + "ABCD", NEW)
        assert ws.locked
        ws.unlock_with_recovery(recovery, NEW)
        assert not ws.locked and ws.students.get(student_id).name == "张晓明"
        assert len(_reset_events(ws)) == 1
        ws.lock()
        with pytest.raises(WrongPassphrase):
            ws.unlock(PASSPHRASE)
        ws.unlock(NEW)
        assert ws.students.get(student_id).name == "张晓明"
    finally:
        ws.close()


@pytest.mark.parametrize(("key", "new", "error", "says"), [
    ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-6789", NEW, RecoveryKeyError, "恢复密钥不正确"),
    ("ABCD-EFGH-JKLM", NEW, RecoveryKeyError, "长度不对"),
    ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345-678I", NEW, RecoveryKeyError, "无效字符"),
    (None, "short", WeakPassphrase, "至少需要 8 个字符"),
])
def test_a_wrong_key_or_weak_passphrase_changes_nothing(closed_profile, profile_dir, key, new, error, says):
    recovery, student_id = closed_profile
    before = _key_file(profile_dir)
    with pytest.raises(error, match=says):
        open_profile_with_recovery(profile_dir, key or recovery, new)
    assert _key_file(profile_dir) == before
    ws = open_profile(profile_dir, PASSPHRASE)  # the failure released the profile's lock
    try:
        assert ws.students.get(student_id).name == "张晓明"
        assert _reset_events(ws) == []
    finally:
        ws.close()


def test_recovery_clears_the_delay_left_by_forgotten_guesses(closed_profile, profile_dir):
    recovery, _ = closed_profile
    for _ in range(2):
        with pytest.raises(WrongPassphrase):
            open_profile(profile_dir, "a forgotten one")
    open_profile_with_recovery(profile_dir, recovery, NEW).close()
    open_profile(profile_dir, NEW).close()
    with pytest.raises(WrongPassphrase) as failed:
        open_profile(profile_dir, "still wrong")
    assert failed.value.failures == 1  # counting starts again
