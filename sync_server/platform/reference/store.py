"""The reference platform's own SQLite database: schools (with their keys), rosters, aid
history, and everything schools uploaded.

Uploads are idempotent twice over: a batch id seen before gets its first answer back
(nothing applied again), and an item is stored once per ``(school, item_id, version)``, so the
same fact in another batch is a ``duplicate``. A batch is applied in one transaction: a
platform killed mid-batch has applied none of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

from visitapp.domain import AidKind, GrowthKind, HardshipCategory, Level

from sync_server.platform.model import ALLOW_LIST, SMALL_CELL, AidRecord, RosterRow, closed_problem
from sync_server.platform.wire import AidItem, RosterStudent

SCHEMA = """
CREATE TABLE IF NOT EXISTS schools (code TEXT PRIMARY KEY, name TEXT, district TEXT, key_hex TEXT);
CREATE TABLE IF NOT EXISTS students (school TEXT, ref TEXT, doc TEXT, on_roster INTEGER DEFAULT 1,
    PRIMARY KEY (school, ref));
CREATE TABLE IF NOT EXISTS aid (school TEXT, aid_id TEXT, ref TEXT, doc TEXT, PRIMARY KEY (school, aid_id));
CREATE TABLE IF NOT EXISTS batches (school TEXT, batch_id TEXT, kind TEXT, received_at TEXT, response TEXT,
    PRIMARY KEY (school, batch_id));
CREATE TABLE IF NOT EXISTS items (school TEXT, item_id TEXT, version TEXT, kind TEXT, student_ref TEXT,
    payload TEXT, batch_id TEXT, received_at TEXT, PRIMARY KEY (school, item_id, version));
CREATE TABLE IF NOT EXISTS stats (school TEXT, batch_id TEXT, term TEXT, cells TEXT, received_at TEXT,
    PRIMARY KEY (school, batch_id));
"""

DEMO_SCHOOLS = (  # code, name, district, seed
    ("WX-LX-001", "无锡市梁溪区阳光实验学校", "梁溪区", 11),
    ("WX-XS-002", "无锡市锡山区第二中学", "锡山区", 22),
    ("WX-BH-003", "无锡市滨湖区职业学校", "滨湖区", 33),
)
DEMO_TODAY = dt.date(2026, 10, 15)


def demo_key(code: str) -> bytes:
    """The demo key of a reference school. Demo only: a real platform issues random keys."""
    return hashlib.sha256(f"visitapp-reference-platform|demo|{code}".encode()).digest()


class Store:
    def __init__(self, path: Path, item_delay: float = 0.0, kill_after_commit: bool = False):
        self.path = str(path)
        self.item_delay, self.kill_after_commit = item_delay, kill_after_commit
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(SCHEMA)

    # -- demo data ---------------------------------------------------------------------------------
    def seed_demo(self, students: int) -> None:
        if self.conn.execute("SELECT count(*) FROM schools").fetchone()[0]:
            return
        from visitapp.domain.demo import generate_school
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            for code, name, district, seed in DEMO_SCHOOLS:
                demo = generate_school(seed, students=students, teachers=2, today=DEMO_TODAY, school_name=name)
                self._insert_school(code, name, district, demo)
            self.conn.execute("COMMIT")

    def mirror_demo_school(self, code: str, seed: int, students: int, teachers: int, today: dt.date,
                           name: str = "无锡市梁溪区示范学校", district: str = "梁溪区") -> None:
        """The platform's copy of ``visitapp-server demo-school`` (same seed, size and day, so
        the same students and references), as a platform would have it a little later: three
        students joined, two left, one moved class. So the demo's first roster preview shows
        every kind of change."""
        if self.school_key(code) is not None:
            return
        from visitapp.domain.demo import generate_school
        demo = generate_school(seed, students=students + 3, teachers=teachers, today=today)
        off = {s.platform_ref for s in demo.students[students - 2:students]}
        moved = {demo.students[0].platform_ref: "一年级(2)班"} if demo.students else {}
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            self._insert_school(code, name, district, demo, off_roster=off, moved=moved)
            self.conn.execute("COMMIT")

    def _insert_school(self, code: str, name: str, district: str, demo, off_roster: set[str] = frozenset(),
                       moved: dict[str, str] | None = None) -> None:
        self.conn.execute("INSERT INTO schools VALUES (?,?,?,?)", (code, name, district, demo_key(code).hex()))
        ref_of = {}
        for s in demo.students:
            ref_of[s.id] = s.platform_ref
            cats = set(s.hardship_categories)
            level = (Level.ESPECIALLY if cats & {HardshipCategory.EXTREME_POVERTY, HardshipCategory.ORPHAN,
                                                 HardshipCategory.NO_CARER}
                     else Level.RELATIVELY if HardshipCategory.MIN_LIVING in cats
                     else Level.GENERALLY if s.auto_eligible else None)
            row = RosterRow(platform_ref=s.platform_ref, name=s.name,
                            class_name=(moved or {}).get(s.platform_ref, s.class_name), stage=s.stage,
                            masked_id=s.masked_id, school_code=code, school_name=name, district=district,
                            hardship_categories=s.hardship_categories, auto_eligible=s.auto_eligible,
                            level=level)
            self.conn.execute("INSERT INTO students VALUES (?,?,?,?)",
                              (code, s.platform_ref, json.dumps(RosterStudent.from_row(row).model_dump(), ensure_ascii=False),
                               0 if s.platform_ref in off_roster else 1))
        for k, e in enumerate(x for x in demo.growth_entries if x.kind == GrowthKind.AID):
            rec = AidRecord(aid_id=f"AID-{code}-{k:06d}", platform_ref=ref_of[e.student_id],
                            aid_kind=(e.aid_kind or AidKind.GRANT).value, title=e.title,
                            date=e.entry_date or DEMO_TODAY, programme=e.programme, amount_yuan=e.amount_yuan)
            self.conn.execute("INSERT INTO aid VALUES (?,?,?,?)", (code, rec.aid_id, rec.platform_ref,
                                                                 json.dumps(AidItem.from_record(rec).model_dump(), ensure_ascii=False)))

    # -- reads -------------------------------------------------------------------------------------
    def school_key(self, code: str) -> bytes | None:
        row = self.conn.execute("SELECT key_hex FROM schools WHERE code=?", (code,)).fetchone()
        return bytes.fromhex(row[0]) if row else None

    def schools(self) -> list[dict]:
        return [{"code": c, "name": n, "district": d}
                for c, n, d in self.conn.execute("SELECT code, name, district FROM schools ORDER BY code")]

    def roster(self, code: str) -> list[dict]:
        return [json.loads(d) for (d,) in self.conn.execute(
            "SELECT doc FROM students WHERE school=? AND on_roster=1 ORDER BY ref", (code,))]

    def roster_refs(self, code: str) -> set[str]:
        return {r for (r,) in self.conn.execute("SELECT ref FROM students WHERE school=? AND on_roster=1", (code,))}

    def aid(self, code: str) -> list[dict]:
        return [json.loads(d) for (d,) in self.conn.execute("SELECT doc FROM aid WHERE school=? ORDER BY aid_id", (code,))]

    def received(self, code: str) -> dict:
        items = [json.loads(p) for (p,) in self.conn.execute(
            "SELECT payload FROM items WHERE school=? ORDER BY received_at, item_id", (code,))]
        batches = self.conn.execute("SELECT count(*) FROM batches WHERE school=?", (code,)).fetchone()[0]
        stats = [{"term": t, "cells": json.loads(c)} for t, c in self.conn.execute(
            "SELECT term, cells FROM stats WHERE school=? ORDER BY received_at", (code,))]
        return {"school": code, "batches": batches, "items": items, "statistics": stats}

    # -- demo admin --------------------------------------------------------------------------------
    def patch_student(self, code: str, ref: str, changes: dict) -> bool:
        with self._lock:
            row = self.conn.execute("SELECT doc FROM students WHERE school=? AND ref=?", (code, ref)).fetchone()
            if row is None:
                return False
            doc = json.loads(row[0])
            on_roster = changes.pop("on_roster", None)
            doc.update({k: v for k, v in changes.items() if k in doc and k != "platform_ref"})
            RosterStudent.model_validate(doc).to_row()  # still a valid row
            self.conn.execute("UPDATE students SET doc=?, on_roster=COALESCE(?, on_roster) WHERE school=? AND ref=?",
                              (json.dumps(doc, ensure_ascii=False), None if on_roster is None else int(bool(on_roster)),
                               code, ref))
            return True

    # -- uploads -----------------------------------------------------------------------------------
    def upload(self, code: str, batch_id: str, items: list[dict]) -> dict:
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        refs = self.roster_refs(code)
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                prior = self.conn.execute("SELECT response FROM batches WHERE school=? AND batch_id=?",
                                          (code, batch_id)).fetchone()
                if prior is not None:
                    self.conn.execute("ROLLBACK")
                    return {**json.loads(prior[0]), "duplicate_batch": True}
                results = []
                for item in items:
                    status, reason = self._apply_item(code, batch_id, item, refs, now)
                    results.append({"item_id": str(item.get("item_id", "")), "status": status, "reason": reason})
                    if self.item_delay:
                        time.sleep(self.item_delay)  # lets a test kill the platform mid-batch
                response = {"batch_id": batch_id, "duplicate_batch": False, "results": results}
                self.conn.execute("INSERT INTO batches VALUES (?,?,?,?,?)",
                                  (code, batch_id, "upload", now, json.dumps(response, ensure_ascii=False)))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        if self.kill_after_commit:
            os.kill(os.getpid(), signal.SIGKILL)  # the answer is lost; the batch is not
        return response

    def _apply_item(self, code: str, batch_id: str, item: dict, refs: set[str], now: str) -> tuple[str, str]:
        kind = item.get("kind")
        allowed = ALLOW_LIST.get(str(kind))
        if allowed is None:
            return "rejected", f"未知的上报类型 {kind!r}"
        extra = sorted(set(item) - set(allowed))
        if extra:
            return "rejected", f"含有接口未约定的字段：{', '.join(extra)}"
        for key in ("item_id", "version", "student_ref"):
            if not isinstance(item.get(key), str) or not item[key]:
                return "rejected", f"缺少字段 {key}"
        if item["student_ref"] not in refs:
            return "rejected", "平台名册中没有这名学生"
        if closed_problem(str(kind), item):  # free text is refused, whatever key it comes under
            return "rejected", f"字段值不在接口约定的取值范围内：{closed_problem(str(kind), item)}"
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO items VALUES (?,?,?,?,?,?,?,?)",
            (code, item["item_id"], item["version"], kind, item["student_ref"],
             json.dumps(item, ensure_ascii=False, sort_keys=True), batch_id, now))
        return ("accepted", "") if cur.rowcount == 1 else ("duplicate", "")

    def statistics(self, code: str, batch_id: str, term: str, cells: list[dict]) -> dict:
        for c in cells:
            if not c.get("suppressed") and (c.get("students") or 0) < SMALL_CELL:
                raise ValueError(f"单元格（{c.get('district')}，{c.get('stage')}）不足 {SMALL_CELL} 人却未抑制。")
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        with self._lock:
            cur = self.conn.execute("INSERT OR IGNORE INTO stats VALUES (?,?,?,?,?)",
                                    (code, batch_id, term, json.dumps(cells, ensure_ascii=False), now))
        return {"batch_id": batch_id, "duplicate_batch": cur.rowcount == 0, "results": []}
