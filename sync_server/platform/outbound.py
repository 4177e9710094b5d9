"""Up: the minimized facts the school reports to the platform, and the city's statistics.

Every builder reads named, tier-B fields of a domain entity and passes the result through
:func:`~sync_server.platform.model.minimize`, so only allow-listed keys can leave. Records
about students who are not on the platform's roster (no ``platform_ref``, or
``on_roster=False``) are not sent: the platform could not place them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from visitapp.domain import (
    Assignment, AssignmentRole, Determination, GrowthEntry, GrowthKind, Student, Visit, rules, term_of,
)

from sync_server.platform.model import (
    SMALL_CELL, StatCell, UploadItem, content_version, derive_id, minimize,
)


@dataclass(frozen=True)
class Snapshot:
    """The school's records the upload is built from (plain domain entities)."""

    students: tuple[Student, ...]
    visits: tuple[Visit, ...]
    determinations: tuple[Determination, ...]
    entries: tuple[GrowthEntry, ...]
    assignments: tuple[Assignment, ...]


def _item(kind: str, record_id: str, student_id: str, school_id: str, fields: dict) -> UploadItem | None:
    """The upload item, or None when a value is not from its closed set (a term or date that
    is not one, say): such a record stays at school rather than carry text out."""
    try:
        payload = minimize(kind, {**fields, "kind": kind, "item_id": derive_id("item", school_id, kind, record_id)})
    except ValueError:
        return None
    payload["version"] = content_version(payload)  # "version" is allow-listed: no second filter needed
    return UploadItem(kind, record_id, student_id, payload)


def build_items(school_id: str, snap: Snapshot, term: str | None = None) -> list[UploadItem]:
    """All upload items the school's records call for now (``term`` restricts to one term)."""
    refs = {s.id: s.platform_ref for s in snap.students if s.platform_ref and s.on_roster}
    items: list[UploadItem] = []
    for v in rules.current_version(snap.visits):
        ref = refs.get(v.student_id)
        if ref is None or (term and v.term != term) or v.visit_date is None:
            continue
        items.append(_item("visit", v.id, v.student_id, school_id, {
            "student_ref": ref, "term": v.term, "visit_date": v.visit_date.isoformat(),
            "mode": v.mode.value if v.mode else None, "visitor_count": len([x for x in v.visitors if x.strip()])}))
    for d in snap.determinations:
        ref = refs.get(d.student_id)
        if ref is None or not d.final or (term and d.term != term):
            continue  # only final determinations (after the public notice) are reported
        items.append(_item("determination", d.id, d.student_id, school_id, {
            "student_ref": ref, "term": d.term, "level": d.level.value,
            "review_date": d.review_date.isoformat() if d.review_date else None}))
    for e in snap.entries:
        ref = refs.get(e.student_id)
        if ref is None or e.kind != GrowthKind.REWARD or e.source != "school" or e.entry_date is None:
            continue
        e_term = term_of(e.entry_date)
        if term and e_term != term:
            continue
        items.append(_item("reward", e.id, e.student_id, school_id, {
            "student_ref": ref, "term": e_term, "reward_kind": e.reward_kind.value if e.reward_kind else None,
            "entry_date": e.entry_date.isoformat()}))  # the kind, never the typed title (free text)
    for a in snap.assignments:
        ref = refs.get(a.student_id)
        if ref is None or a.role != AssignmentRole.MENTOR or (term and a.term and a.term != term):
            continue
        items.append(_item("mentor", a.id, a.student_id, school_id, {
            "student_ref": ref, "term": a.term or term or "",
            "mentor_ref": derive_id("staff", school_id, a.staff_id), "active": bool(a.active)}))
    return [i for i in items if i is not None]


def statistics(students: Iterable[Student], visits: Iterable[Visit], determinations: Iterable[Determination],
               entries: Iterable[GrowthEntry], assignments: Iterable[Assignment], term: str,
               small_cell: int = SMALL_CELL) -> list[StatCell]:
    """Counts by (district, stage) for the city's charts; a cell under ``small_cell``
    students is suppressed whole (every count ``None``), so no small group can be singled out."""
    on_roster = [s for s in students if s.on_roster]
    visited = rules.visited_on_site(term, visits)  # 家访: finalized and on site (phone/video do not count)
    determined = {d.student_id for d in determinations if d.term == term and d.final}
    rewarded = {e.student_id for e in entries if e.kind == GrowthKind.REWARD}
    mentored = {a.student_id for a in assignments
                if a.role == AssignmentRole.MENTOR and a.active and (not a.term or a.term == term)}
    cells: dict[tuple[str, str], list[Student]] = {}
    for s in on_roster:
        cells.setdefault((s.district or "", s.stage.value), []).append(s)
    out = []
    for (district, stage), group in sorted(cells.items()):
        ids = {s.id for s in group}
        if len(group) < small_cell:
            out.append(StatCell(district, stage, True, None, None, None, None, None, None))
            continue
        out.append(StatCell(district, stage, False, len(group), len(ids & visited), len(ids & determined),
                            len(ids & rewarded), sum(1 for s in group if s.key_support),
                            len(ids & mentored)))
    return out
