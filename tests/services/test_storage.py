"""Storage against real SQLite files: migrations, refusal of newer profiles and second
processes, the plaintext scan, crash safety and backups."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import textwrap
import time

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE, PYTHON, add_student, subprocess_env
from visitapp.crypto import FAST_TEST_KDF, TamperedData, WrongPassphrase
from visitapp.domain import FamilyMember, GrowthKind, VisitMode
from visitapp.services import ProfileLockedError, ProfileTooNewError, create_profile, open_profile
from visitapp.services.backup import BackupError, export_backup, restore_backup
from visitapp.storage.models import Base, StudentRow, VisitRow
from visitapp.storage.profile import DATABASE, make_engine, migrate


def test_migrations_from_empty_to_head_create_every_table(tmp_path):
    engine = make_engine(tmp_path / "x.db")
    migrate(engine)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("select name from sqlite_master where type='table'")}
        version = conn.exec_driver_sql("select version_num from alembic_version").scalar()
        mode = conn.exec_driver_sql("pragma journal_mode").scalar()
        synced = conn.exec_driver_sql("pragma synchronous").scalar()
    assert set(Base.metadata.tables) <= tables
    assert synced == 2, "FULL: a saved visit survives a power cut (NORMAL may roll back the last commits)"
    from alembic.script import ScriptDirectory
    from visitapp.storage.profile import alembic_config
    from visitapp.storage.profile import HEAD_REVISION
    assert version == ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD_REVISION
    assert mode == "wal"
    migrate(engine)  # idempotent


def test_a_profile_at_an_older_revision_is_upgraded_at_open(workspace, profile_dir):
    from alembic import command
    from visitapp.storage.profile import alembic_config
    student = add_student(workspace)
    engine = workspace.profile.engine
    workspace.close()
    command.downgrade(alembic_config(engine), "0001")
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        assert ws.students.get(student.id).name == "张晓明"
        assert ws.conflicts.list_open() == []  # the table of the newer revision works
    finally:
        ws.close()


def test_the_upgrade_to_the_epoch_list_makes_the_next_sync_do_its_key_work(workspace, profile_dir):
    """Client migration 0009: the kept keys marker is forgotten, so the first sync after the
    upgrade does its key work (the officer's laptop publishes the signed epoch list) even when
    nothing else changed; the other settings stay."""
    from alembic import command
    from visitapp.services import settings
    from visitapp.services.settings import KEYS_MARKER_KEY, LAST_SYNC_AT_KEY
    from visitapp.storage.profile import alembic_config
    with workspace.profile.session() as s, s.begin():
        settings.write(s, KEYS_MARKER_KEY, 40)
        settings.write_plain(s, LAST_SYNC_AT_KEY, "2026-12-03T08:00:00+00:00")
    engine = workspace.profile.engine
    workspace.close()
    command.downgrade(alembic_config(engine), "0008")
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        with ws.profile.session() as s:
            kept = settings.read_many(s, KEYS_MARKER_KEY, LAST_SYNC_AT_KEY)
        assert kept[KEYS_MARKER_KEY] in (None, 0) and kept[LAST_SYNC_AT_KEY]
    finally:
        ws.close()


def test_profile_from_a_newer_version_is_refused_untouched(workspace, profile_dir):
    workspace.close()
    with sqlite3.connect(profile_dir / DATABASE) as conn:
        conn.execute("update alembic_version set version_num='9999_future'")
    before = (profile_dir / DATABASE).read_bytes()
    with pytest.raises(ProfileTooNewError, match="更新版本"):
        open_profile(profile_dir, PASSPHRASE)
    assert (profile_dir / DATABASE).read_bytes() == before


def test_second_process_is_refused_cleanly(workspace, profile_dir):
    script = textwrap.dedent(f"""
        from visitapp.services import open_profile, ProfileLockedError
        try:
            open_profile({str(profile_dir)!r}, {PASSPHRASE!r})
        except ProfileLockedError as exc:
            print("REFUSED", exc)
    """)
    out = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert "REFUSED" in out.stdout and "另一个" in out.stdout, out.stderr
    with pytest.raises(ProfileLockedError):
        open_profile(profile_dir, PASSPHRASE)


def test_wrong_passphrase_leaves_the_profile_closed_and_reopenable(workspace, profile_dir):
    workspace.close()
    with pytest.raises(WrongPassphrase):
        open_profile(profile_dir, "not the passphrase")
    ws = open_profile(profile_dir, PASSPHRASE)  # the failed attempt released the lock
    ws.close()


SECRETS = ["张晓明", "母亲在医院做透析，家里欠了很多钱", "13812345678"]


def _assert_no_plaintext(path):
    data = path.read_bytes()
    for secret in SECRETS:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            assert secret.encode(encoding) not in data, f"{secret!r} ({encoding}) found in {path.name}"


def test_plaintext_scan_of_database_wal_and_backup(workspace, profile_dir, tmp_path):
    student = add_student(workspace, "张晓明", phone="13812345678", guardian_name="张建国")
    visit = workspace.visits.create_draft(student.id)
    workspace.visits.save_draft(visit.id, narrative=SECRETS[1], mode=VisitMode.ON_SITE,
                                family_members=(FamilyMember("母亲", "张晓明的母亲", 40),))
    workspace.growth.set_profile_field(student.id, "strengths", "张晓明擅长画画")
    backup = export_backup(workspace, tmp_path / "b.vbk")
    files = [profile_dir / DATABASE, backup]
    wal = profile_dir / (DATABASE + "-wal")
    if wal.exists():
        files.append(wal)
    for path in files:
        _assert_no_plaintext(path)
    workspace.close()
    for path in profile_dir.iterdir():
        if path.is_file():
            _assert_no_plaintext(path)


def test_tampered_row_is_reported_as_tampering_naming_the_record(workspace, profile_dir):
    student = add_student(workspace)
    workspace.close()
    with sqlite3.connect(profile_dir / DATABASE) as conn:
        blob = bytearray(conn.execute("select facts from students where id=?", (student.id,)).fetchone()[0])
        blob[-3] ^= 0xFF
        conn.execute("update students set facts=? where id=?", (bytes(blob), student.id))
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        with pytest.raises(TamperedData) as err:
            ws.students.get(student.id)
        assert student.id in str(err.value) and "students" in str(err.value)
    finally:
        ws.close()


def test_ciphertext_moved_to_another_row_is_refused(workspace, profile_dir):
    a = add_student(workspace, "张三")
    b = add_student(workspace, "李四")
    workspace.close()
    with sqlite3.connect(profile_dir / DATABASE) as conn:
        blob = conn.execute("select facts from students where id=?", (a.id,)).fetchone()[0]
        conn.execute("update students set facts=? where id=?", (blob, b.id))
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        assert ws.students.get(a.id).name == "张三"
        with pytest.raises(TamperedData):
            ws.students.get(b.id)
    finally:
        ws.close()


def test_plaintext_never_reaches_an_encrypted_column(workspace):
    with workspace.profile.session() as s:
        with pytest.raises(Exception, match="plaintext"):
            s.connection().execute(StudentRow.__table__.insert().values(
                id="x", school_id="s", class_name="c", stage="junior", facts={"name": "张晓明"}, hlc=""))


CRASH_CHILD = textwrap.dedent("""
    import sys, datetime as dt
    from visitapp.services import open_profile
    from visitapp.domain import GrowthEntry, GrowthKind, RewardKind
    from visitapp.services.base import new_id
    ws = open_profile(sys.argv[1], sys.argv[2])
    student_id = sys.argv[3]
    batch = 0
    while True:
        with ws.profile.session() as s, s.begin():
            for i in range(20):
                ws.ctx.write(s, GrowthEntry(id=new_id(), student_id=student_id, kind=GrowthKind.REWARD,
                             reward_kind=RewardKind.COMMENDATION, entry_date=dt.date(2026, 11, 1),
                             title=f"batch-{batch}"), "growth_entry.add")
        batch += 1
        print(batch, flush=True)
""")


def test_killed_mid_batch_the_profile_holds_whole_transactions_only(workspace, profile_dir):
    student = add_student(workspace)
    workspace.close()
    child = subprocess.Popen([PYTHON, "-c", CRASH_CHILD, str(profile_dir), PASSPHRASE, student.id],
                             stdout=subprocess.PIPE, text=True, env=subprocess_env())
    assert child.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if line and int(line) >= 15:
            break
    time.sleep(0.05)  # land the kill in the middle of a later batch
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    ws = open_profile(profile_dir, PASSPHRASE)
    try:
        with ws.profile.engine.connect() as conn:
            assert conn.exec_driver_sql("pragma integrity_check").scalar() == "ok"
        entries = ws.growth.entries(student.id)
        per_batch: dict[str, int] = {}
        for entry in entries:
            per_batch[entry.title] = per_batch.get(entry.title, 0) + 1
        assert len(per_batch) >= 15
        assert set(per_batch.values()) == {20}, per_batch
        # every record has its outbox row and its audit event: the chain is whole
        assert ws.pending_count() == len(entries)
        assert ws.verify_audit_chain() == len(entries)
    finally:
        ws.close()


def test_backup_restores_on_a_fresh_profile(workspace, tmp_path):
    student = add_student(workspace)
    visit = workspace.visits.create_draft(student.id)
    workspace.visits.save_draft(visit.id, narrative="恢复后还在")
    workspace.growth.add_entry(student.id, GrowthKind.REWARD, reward_kind="scholarship", title="励志奖学金",
                               entry_date=workspace.ctx.now().date())
    backup = export_backup(workspace, tmp_path / "b.vbk")
    restored = restore_backup(backup, tmp_path / "elsewhere", PASSPHRASE)
    try:
        assert restored.visits.get(visit.id).narrative == "恢复后还在"
        assert [r.name for r in restored.students.list_mine()] == ["张晓明"]
        assert restored.identity == workspace.identity
        assert restored.verify_audit_chain() == workspace.verify_audit_chain()
    finally:
        restored.close()
    with pytest.raises(WrongPassphrase):
        restore_backup(backup, tmp_path / "third", "wrong passphrase")
    (tmp_path / "junk.vbk").write_bytes(b"hello")
    with pytest.raises(BackupError):
        restore_backup(tmp_path / "junk.vbk", tmp_path / "fourth", PASSPHRASE)
    damaged = bytearray(backup.read_bytes())
    damaged[-5] ^= 1
    (tmp_path / "damaged.vbk").write_bytes(bytes(damaged))
    with pytest.raises(TamperedData):
        restore_backup(tmp_path / "damaged.vbk", tmp_path / "fifth", PASSPHRASE)


def test_lock_drops_the_keys(workspace):
    student = add_student(workspace)
    workspace.lock()
    with pytest.raises(Exception, match="锁定"):
        workspace.students.get(student.id)
    workspace.unlock(PASSPHRASE)
    assert workspace.students.get(student.id).name == "张晓明"


def test_passphrase_change_keeps_the_data(workspace, profile_dir):
    student = add_student(workspace)
    workspace.change_passphrase("a new passphrase")
    workspace.close()
    with pytest.raises(WrongPassphrase):
        open_profile(profile_dir, PASSPHRASE)
    ws = open_profile(profile_dir, "a new passphrase")
    try:
        assert ws.students.get(student.id).name == "张晓明"
    finally:
        ws.close()


def test_new_profile_in_existing_folder_is_refused(workspace, profile_dir):
    from visitapp.services import ProfileError
    with pytest.raises(ProfileError):
        create_profile(profile_dir, PASSPHRASE, kdf=FAST_TEST_KDF)


def test_rows_store_tier_a_in_plain_columns(workspace):
    student = add_student(workspace)
    visit = workspace.visits.create_draft(student.id)
    with workspace.profile.session() as s:
        row = s.scalars(select(VisitRow)).one()
        assert row.student_id == student.id and row.status == "draft"
        assert dataclasses.is_dataclass(workspace.visits.get(visit.id))


def test_new_rows_of_a_pull_are_stored_as_the_orm_stores_them_whichever_way_they_go(workspace):
    """``insert_new_rows`` hands plain rows to the SQLite driver directly and keeps SQLAlchemy's
    insert where it must convert (a JSON column) or fill in a left-out column's default: each
    way, the rows read back as the ORM would have written them."""
    from visitapp.storage import records
    from visitapp.storage.models import AuditEventRow

    routing = {"student_id": "s-1", "author_id": "a-1", "term": "2026-1", "status": "final", "device_id": "d-1",
               "amends_id": None, "created_at": "2026-12-01T08:00:00", "updated_at": None, "finalized_at": None}
    left_out = {k: v for k, v in routing.items() if k != "term"}  # term has a default: ""
    audit = {"seq": 1, "at": "2026-12-01T08:00:00", "actor_id": "a-1", "device_id": "d-1", "action": "create",
             "record_kind": "visit", "record_id": "v-1", "prev_hash": "0" * 64, "hash": "1" * 64,
             "detail": {"fields": ["narrative"]}, "signature": ""}
    with workspace.profile.session() as s, s.begin():
        records.insert_new_rows(s, VisitRow, [("v-1", routing, {"mode": "on_site"}, {"narrative": "家访"}, 7, "h1"),
                                              ("v-2", left_out, None, None, None, "")])
        records.insert_new_rows(s, AuditEventRow, [("e-1", audit, None, None, 3, "h2")])
    assert records._driver_insert(workspace.profile.engine.dialect, VisitRow.__table__,
                                  tuple(routing) + ("id", "facts", "sealed", "server_seq", "hlc"))[0]
    with workspace.profile.session() as s:
        one, two, event = s.get(VisitRow, "v-1"), s.get(VisitRow, "v-2"), s.get(AuditEventRow, "e-1")
        assert (records.row_parts(one), one.server_seq, one.hlc) == (
            ({**routing, "id": "v-1"}, {"mode": "on_site"}, {"narrative": "家访"}), 7, "h1")
        assert two.term == "" and two.facts is None and two.sealed is None and two.server_seq is None
        assert event.detail == {"fields": ["narrative"]} and event.server_seq == 3
