"""``visitapp-server audit verify|show``: the server's own chain and the laptops' chains that
reached it, checked; an edited server event and a laptop event forged after it arrived are
named; the trail shown per student and per staff member. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select, update

from sync_server import audit
from sync_server.models import AuditRow, Record
from tests.server.conftest import mut
from tests.server.test_cli import cli  # noqa: F401 - the fixture
from visitapp.domain import AuditEvent
from visitapp.domain.audit import GENESIS_HASH, audit_hash
from visitapp.domain.tiers import to_jsonable
from visitapp.services.base import new_id


def _laptop_chain(dev, n: int, record_id: str) -> list[AuditEvent]:
    import datetime as dt
    events, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        e = AuditEvent(id=new_id(), seq=seq, at=dt.datetime(2026, 11, 20, 9, seq, tzinfo=dt.timezone.utc),
                       actor_id=dev.staff_id, device_id=dev.id, action="visit.edit", record_kind="visit",
                       record_id=record_id, prev_hash=prev, hash="")
        e = dataclasses.replace(e, hash=audit_hash(e))
        events.append(e)
        prev = e.hash
    return events


def _push_events(server, dev, events):
    muts = [mut(dev, "audit_event", e.id, routing={k: v for k, v in to_jsonable(dataclasses.asdict(e)).items()})
            for e in events]
    answer = server.push(dev, muts)
    assert {r["status"] for r in answer["results"]} == {"applied"}, answer


def test_server_and_laptop_chains_verify_and_a_server_edit_is_named(server):
    teacher = server.staff("王老师")
    dev = server.device(teacher)
    sid = server.student()
    server.assign("visitor", teacher, sid)
    _push_events(server, dev, _laptop_chain(dev, 4, sid))
    report = audit.verify(server.core)
    assert report.intact and report.server_events >= 3 and report.device_events == 4 and report.devices == 1
    with server.core.db.write() as tx:
        tx.session.execute(update(AuditRow).where(AuditRow.seq == 2).values(action="forged"))
    broken = audit.verify(server.core).broken
    assert broken is not None and (broken.device_id, broken.seq) == (audit.SERVER_CHAIN, 2)


def test_a_laptop_event_changed_on_the_server_is_named(server):
    teacher = server.staff("王老师")
    dev = server.device(teacher)
    sid = server.student()
    server.assign("visitor", teacher, sid)
    events = _laptop_chain(dev, 3, sid)
    _push_events(server, dev, events)
    with server.core.db.write() as tx:
        row = tx.session.get(Record, events[1].id)
        routing = json.loads(row.routing)
        routing["action"] = "determination.final"
        tx.session.execute(update(Record).where(Record.id == row.id).values(routing=json.dumps(routing)))
    broken = audit.verify(server.core).broken
    assert broken is not None and (broken.device_id, broken.seq) == (dev.id, 2)


def test_show_filters_by_student_and_staff(server):
    teacher = server.staff("王老师")
    dev = server.device(teacher)
    a, b = server.student("甲"), server.student("乙")
    server.assign("visitor", teacher, a)
    server.assign("visitor", teacher, b)
    _push_events(server, dev, _laptop_chain(dev, 2, a))
    about_a = audit.show(server.core, student_id=a)
    assert {x.record_id for x in about_a} <= {a} | {r for r in _ids_about(server, a)}
    assert any(x.chain == dev.id for x in about_a)
    assert not any(x.chain == dev.id for x in audit.show(server.core, student_id=b))
    by_teacher = audit.show(server.core, staff_id=teacher.id)
    assert by_teacher and all(x.actor == teacher.id for x in by_teacher)


def _ids_about(server, student_id):
    with server.core.db.read() as s:
        return set(s.scalars(select(Record.id).where(Record.student_id == student_id)))


def test_the_audit_commands(cli):  # noqa: F811 - the CLI fixture of tests/server/test_cli.py
    out, _ = cli("audit", "verify", "--json")
    assert json.loads(out)["intact"]
    out, _ = cli("audit", "show")
    assert "init" in out or "共" in out
    import sqlite3
    if cli.url.startswith("sqlite"):
        db = cli.url.removeprefix("sqlite:///")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE audit SET actor = 'someone' WHERE seq = 1")
        from sync_server.cli import main
        assert main(["--data-dir", str(cli.data), "--db", cli.url, "audit", "verify"]) == 1
    cli("audit", "show", "--since", "not-a-day", ok=False)
