"""The reconciliation report: where the school and the platform disagree, and what is unsent.

Four sections: students on the roster with no finalized on-site visit this term (a phone or
video call is named in the line, it does not count, as for 先家访后认定); records about
students no longer on the roster; levels that differ between the platform and the school;
exports pending or failed, with the reason. As data (frozen dataclasses, ``to_json``), as an
xlsx (:func:`write_xlsx`) and as a table for the terminal (:func:`table_zh`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from visitapp.domain import (
    Assignment, Determination, GrowthEntry, Student, Visit, label_zh, rules,
)
from visitapp.domain.reports import VISITS_RULE_ZH

from sync_server.platform.model import ReconLine, UploadItem
from sync_server.platform.port import ExportState

KIND_ZH = {"visit": "家访", "determination": "认定", "reward": "成长奖励", "mentor": "育人导师",
           "growth_entry": "成长档案记录", "assignment": "分工"}


@dataclass(frozen=True)
class ReconciliationReport:
    term: str
    generated_at: dt.datetime
    not_visited: tuple[ReconLine, ...]
    off_roster: tuple[ReconLine, ...]
    level_mismatch: tuple[ReconLine, ...]
    exports: tuple[ReconLine, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {"not_visited": len(self.not_visited), "off_roster": len(self.off_roster),
                "level_mismatch": len(self.level_mismatch), "exports": len(self.exports)}

    def to_json(self) -> dict:
        return {"term": self.term, "generated_at": self.generated_at.isoformat(), "counts": self.counts,
                **{k: [x._asdict() for x in getattr(self, k)] for k in self.counts}}


def reconcile(term: str, students: Iterable[Student], visits: Iterable[Visit], determinations: Iterable[Determination],
              entries: Iterable[GrowthEntry], assignments: Iterable[Assignment], items: Iterable[UploadItem],
              ledger: Mapping[str, ExportState], now: dt.datetime | None = None) -> ReconciliationReport:
    """Build the report from plain data (one pass over each list: 50,000 students in well under 5 s)."""
    students = list(students)
    by_id = {s.id: s for s in students}
    visits = list(visits)
    visited = rules.visited_on_site(term, visits)  # 家访 = finalized and on site, as the gate says
    remote = rules.remote_only(term, visits)

    def line(section: str, sid: str, detail: str, platform_level: str = "", school_level: str = "",
             status: str = "") -> ReconLine:
        s = by_id.get(sid)
        if s is None:
            return ReconLine(section, sid, "", "（未知学生）", "", detail, platform_level, school_level, status)
        return ReconLine(section, sid, s.platform_ref, s.name, s.class_name, detail, platform_level, school_level,
                         status)

    not_visited = tuple(line("not_visited", s.id, "本学期尚无已定稿的实地家访记录"
                             + (f"（{remote[s.id]}）" if s.id in remote else ""))
                        for s in sorted(students, key=lambda s: (s.class_name, s.platform_ref, s.id))
                        if s.on_roster and s.id not in visited)

    current = {s.id for s in students if s.on_roster}
    about: dict[str, Counter] = defaultdict(Counter)
    for v in visits:
        if v.student_id not in current:
            about[v.student_id]["visit"] += 1
    dets = list(determinations)
    for d in dets:
        if d.student_id not in current:
            about[d.student_id]["determination"] += 1
    for e in entries:
        if e.source != "platform" and e.student_id not in current:  # the platform's aid is its own business
            about[e.student_id]["growth_entry"] += 1
    for a in assignments:
        if a.active and a.student_id not in current:
            about[a.student_id]["assignment"] += 1
    off = []
    for sid, counter in sorted(about.items()):
        s = by_id.get(sid)
        if s is not None and s.on_roster:
            continue
        detail = "、".join(f"{KIND_ZH.get(k, k)} {n} 条" for k, n in sorted(counter.items()))
        off.append(line("off_roster", sid, ("已不在平台名册：" if s else "学生不在本校名册：") + detail))

    latest: dict[str, Determination] = {}
    for d in dets:
        if d.term != term:
            continue
        cur = latest.get(d.student_id)
        key = (d.final, d.review_date or dt.date.min, d.created_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc))
        if cur is None or key > (cur.final, cur.review_date or dt.date.min,
                                 cur.created_at or dt.datetime.min.replace(tzinfo=dt.timezone.utc)):
            latest[d.student_id] = d
    mismatch = []
    for s in students:
        d = latest.get(s.id)
        if s.on_roster and s.platform_level is not None and d is not None and d.level != s.platform_level:
            mismatch.append(line("level_mismatch", s.id,
                                 f"平台：{label_zh(s.platform_level.value)}；学校：{label_zh(d.level.value)}"
                                 + ("" if d.final else "（学校认定尚未公示完毕）"),
                                 platform_level=s.platform_level.value, school_level=d.level.value))

    exports = []
    for item in items:
        state = ledger.get(item.item_id)
        if state is not None and state.status == "sent" and state.version == item.version:
            continue
        if state is None:
            status, reason = "pending", "尚未上报"
        elif state.status == "sent":
            status, reason = "pending", "上报后内容有变化，待重新上报"
        else:
            status, reason = state.status, state.reason or ("上报中断，待重试" if state.status == "pending" else "")
        exports.append(line("export", item.student_id, f"{KIND_ZH.get(item.kind, item.kind)}：{reason}", status=status))
    exports.sort(key=lambda x: (x.status != "failed", x.class_name, x.platform_ref))
    return ReconciliationReport(term, now or dt.datetime.now(dt.timezone.utc), not_visited, tuple(off),
                                tuple(mismatch), tuple(exports))


SECTION_ZH = {"not_visited": "名册中尚未实地家访的学生（电话、视频家访不计）", "off_roster": "已不在名册的学生的记录",
              "level_mismatch": "平台与学校认定等级不一致", "exports": "待上报或上报失败"}


def table_zh(report: ReconciliationReport, limit: int = 50) -> str:
    """A plain-text table for the terminal (each section capped at ``limit`` lines)."""
    out = [f"对账报告（{report.term}，生成于 {report.generated_at:%Y-%m-%d %H:%M} UTC）",
           f"注：{VISITS_RULE_ZH}"]
    for key, title in SECTION_ZH.items():
        lines = getattr(report, key)
        out.append(f"\n== {title}：{len(lines)} ==")
        if lines:
            out.append(f"{'平台编号':<14}{'姓名':<8}{'班级':<12}说明")
        for x in lines[:limit]:
            out.append(f"{x.platform_ref or '-':<16}{x.name:<8}{x.class_name:<12}{x.detail}")
        if len(lines) > limit:
            out.append(f"……另有 {len(lines) - limit} 条（用 --json 或导出 xlsx 查看全部）")
    return "\n".join(out)


def write_xlsx(report: ReconciliationReport, path: Path) -> None:
    """One sheet per section, plus a summary sheet."""
    from sync_server.platform.spreadsheet import write_sheets

    summary = [["学期", report.term]] + [[title, len(getattr(report, key))] for key, title in SECTION_ZH.items()]
    sheets = [("汇总", ["项目", "数量"], summary)]
    for key, title in SECTION_ZH.items():
        sheets.append((title[:31], ["平台编号", "姓名", "班级", "说明", "平台等级", "学校等级", "状态"],
                       [[x.platform_ref, x.name, x.class_name, x.detail,
                         label_zh(x.platform_level) if x.platform_level else "",
                         label_zh(x.school_level) if x.school_level else "", x.status]
                        for x in getattr(report, key)]))
    write_sheets(path, sheets)  # escapes any cell a spreadsheet would take for a formula
