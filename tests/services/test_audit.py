"""The audit trail can be checked and read (责任追溯): `audit verify` passes an untouched chain
and names the first event that was edited, removed or slipped in; `audit show` tells who did
what about whom."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess

from tests import forkserver

from sqlalchemy import select, update

from tests.conftest import PASSPHRASE, PYTHON, add_student, subprocess_env
from tests.services.test_documents import finalized_visit
from visitapp.domain.audit import audit_hash
from visitapp.services.base import new_id
from visitapp.storage.models import AuditEventRow
from visitapp.storage.records import entity_from_row, upsert_entity


def _some_work(ws):
    a, b = add_student(ws, "张晓明"), add_student(ws, "李小红")
    finalized_visit(ws, a)
    ws.mentor.write_note(b.id, "regular", finalized_visit(ws, b).visit_date, "谈心")
    return a, b


def test_an_untouched_chain_verifies(workspace):
    _some_work(workspace)
    report = workspace.audit.verify()
    assert report.intact and report.devices == 1 and report.events >= 6


def test_an_edited_event_is_named(workspace):
    _some_work(workspace)
    with workspace.profile.session() as s, s.begin():
        s.execute(update(AuditEventRow).where(AuditEventRow.seq == 3).values(action="visit.void"))
    report = workspace.audit.verify()
    assert not report.intact and report.broken.seq == 3 and "改动" in report.broken.reason


def test_a_removed_event_is_named(workspace):
    _some_work(workspace)
    with workspace.profile.session() as s, s.begin():
        s.delete(s.scalars(select(AuditEventRow).where(AuditEventRow.seq == 2)).one())
    broken = workspace.audit.verify().broken
    assert broken is not None and broken.seq == 3 and "缺少第 2 条" in broken.reason


def test_a_forged_event_with_a_good_hash_but_no_link_is_named(workspace):
    """Someone rewrites event 4 to say something else and recomputes its hash: it no longer
    links to event 5, so the chain breaks there — the forgery cannot be hidden without
    rewriting every later event."""
    _some_work(workspace)
    with workspace.profile.session() as s, s.begin():
        row = s.scalars(select(AuditEventRow).where(AuditEventRow.seq == 4)).one()
        forged = dataclasses.replace(entity_from_row("audit_event", row), action="determination.final")
        forged = dataclasses.replace(forged, hash=audit_hash(forged))
        upsert_entity(s, forged)
    broken = workspace.audit.verify().broken
    assert broken is not None and broken.seq == 5 and "没有接在上一条之后" in broken.reason


def test_another_devices_partial_chain_is_checked_by_its_links(workspace):
    """An officer's laptop holds other devices' events, perhaps not all of them: a gap there is
    not a break, but an event that does not hash is."""
    _some_work(workspace)
    with workspace.profile.session() as s, s.begin():
        mine = [entity_from_row("audit_event", r) for r in s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq))]
        prev = "f" * 64  # events 3-5 of "another laptop": a partial chain, properly linked
        for e in mine[2:5]:
            e = dataclasses.replace(e, id=new_id(), device_id="laptop-2", prev_hash=prev)
            e = dataclasses.replace(e, hash=audit_hash(e))
            upsert_entity(s, e)
            prev = e.hash
    assert workspace.audit.verify().intact
    with workspace.profile.session() as s, s.begin():
        s.execute(update(AuditEventRow).where(AuditEventRow.device_id == "laptop-2", AuditEventRow.seq == 4)
                  .values(record_id="someone-else"))
    broken = workspace.audit.verify().broken
    assert broken is not None and (broken.device_id, broken.seq) == ("laptop-2", 4)


def test_show_filters_by_student_staff_and_day(workspace):
    a, b = _some_work(workspace)
    about_a = workspace.audit.show(student_id=a.id)
    about_b = workspace.audit.show(student_id=b.id)
    assert about_a and about_b
    assert {x.action for x in about_b} >= {"visit.create", "visit.finalize", "mentor_note.write"}
    assert "mentor_note.write" not in {x.action for x in about_a}
    assert not {x.record_id for x in about_a} & {x.record_id for x in about_b}
    assert {x.actor for x in workspace.audit.show(staff_id=workspace.identity.staff_id)} == {workspace.identity.staff_name}
    assert workspace.audit.show(staff_id="nobody") == []
    import datetime as dt
    assert workspace.audit.show(since=dt.date.today() + dt.timedelta(days=1)) == []


def test_the_audit_commands(tmp_path):
    profile, passfile = tmp_path / "p", tmp_path / "pass.txt"
    passfile.write_text(PASSPHRASE + "\n", encoding="utf-8")

    def run(*a):
        return forkserver.run([PYTHON, "-m", "visitapp", "--profile", str(profile), "--passphrase-file", str(passfile), *a],
                              capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert run("init", "--insecure-fast-kdf").returncode == 0
    assert run("demo-data", "--students", "5").returncode == 0
    ok = run("audit", "verify", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["intact"], ok.stderr
    with sqlite3.connect(profile / "profile.db") as db:
        db.execute("UPDATE audit_events SET action = 'visit.void' WHERE seq = 1")
    bad = run("audit", "verify")
    assert bad.returncode == 1 and "第 1 条" in bad.stdout
    shown = run("audit", "show", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)[0]["action"] == "visit.void"
    assert run("audit", "show", "--since", "yesterday").returncode == 1
