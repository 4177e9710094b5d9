"""``visitapp-server platform ...``: the officer's commands for the city platform.

Registered into the server's CLI by one call, :func:`register`. Commands raise the server's
``ServerError`` with one Chinese sentence on failure (the server's ``main`` prints it and exits
non-zero); ``--json`` prints exactly one JSON document.

Scheduling: ``platform schedule --every 6h`` runs pull (applying the roster) and push in a
loop in its own process (stop it with Ctrl-C or SIGTERM); cron works as well, e.g.
``0 */6 * * * visitapp-server platform pull --yes && visitapp-server platform push``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import re
import signal
import sys
import time
import uuid
from pathlib import Path

from sync_server.platform.errors import PlatformError


def _server_error(message: str) -> Exception:
    from sync_server.config import ServerError
    return ServerError(message)


def _emit(args, doc, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(doc, ensure_ascii=False, default=str))
    else:
        print(text)


class _Ctx:
    """The server core, the port and (when a URL is known) the connector, for one command."""

    def __init__(self, args, need_url: bool = False):
        from sync_server.config import ServerPaths
        from sync_server.core import ServerCore
        from sync_server.platform.assembly import connector, platform_setup

        self.core = ServerCore.open(ServerPaths.resolve(args.data_dir), args.db)
        try:
            setup = platform_setup(self.core, url=getattr(args, "url", None))
            self.connector = connector(self.core, setup, actor=getattr(args, "actor", None) or "officer-cli",
                                       need_platform=need_url, attempts=getattr(args, "retries", 5) + 1)
        except PlatformError as exc:
            self.close()
            raise _server_error(str(exc)) from None
        self.data = self.connector.data
        self.term = getattr(args, "term", None) or self.connector.default_term()

    def close(self) -> None:
        self.core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _guard(func):
    def run(args):
        try:
            return func(args)
        except PlatformError as exc:
            raise _server_error(str(exc)) from None
    return run


def _preview_doc(p) -> dict:
    def change(c):
        return {"student_id": c.student_id, "platform_ref": c.platform_ref, "name": c.name, "class_name": c.class_name,
                "changes": [{"field": f.field, "old": _plain(f.old), "new": _plain(f.new)} for f in c.changes]}
    return {"term": p.term, "new": [change(c) for c in p.new], "changed": [change(c) for c in p.changed],
            "gone": [change(c) for c in p.gone], "unchanged": p.unchanged}


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return getattr(v, "value", v)


def _preview_text(p, limit: int = 30) -> str:
    lines = [p.summary_zh()]
    for title, group in (("新增", p.new), ("变更", p.changed), ("不在名册", p.gone)):
        for c in group[:limit]:
            detail = "；".join(f"{f.field}: {_plain(f.old)} → {_plain(f.new)}" for f in c.changes)
            lines.append(f"  [{title}] {c.platform_ref} {c.name} {c.class_name} {detail}".rstrip())
        if len(group) > limit:
            lines.append(f"  ……另有 {len(group) - limit} 名{title}")
    return "\n".join(lines)


# -- commands ------------------------------------------------------------------------------------
@_guard
def cmd_configure(args) -> None:
    from sync_server.config import ServerPaths
    from sync_server.platform.server_port import save_platform_settings
    key = None
    if args.key_file:
        try:
            text = Path(args.key_file).read_text().strip()
            key = bytes.fromhex(text)
        except (OSError, ValueError):
            raise _server_error(f"密钥文件 {args.key_file} 无法读取或不是十六进制密钥。") from None
    if key is not None and len(key) < 16:
        raise _server_error("平台密钥太短（至少 16 字节）。")
    if args.school_code and not re.fullmatch(r"[A-Za-z0-9_\-]{1,40}", args.school_code):
        raise _server_error("学校代码只能包含字母、数字、- 和 _。")
    paths = ServerPaths.resolve(args.data_dir)
    save_platform_settings(paths, url=args.url, school_code=args.school_code, district=args.district, key=key)
    _emit(args, {"ok": True}, "已保存平台设置。")


@_guard
def cmd_pull(args) -> None:
    with _Ctx(args, need_url=True) as ctx:
        rows = ctx.connector.fetch_roster(ctx.term)
        preview = ctx.connector.preview(rows, ctx.term)
        apply = args.yes
        if not args.yes and not args.preview and not preview.is_noop and sys.stdin.isatty() and not args.json:
            print(_preview_text(preview))
            apply = input("应用以上名册变更吗？[y/N] ").strip().lower() in ("y", "yes", "是")
        aid = None
        if apply or preview.is_noop:
            ctx.connector.apply(preview, force=args.force)
            aid = ctx.connector.store_aid(ctx.connector.fetch_aid(ctx.term))
        doc = {"applied": bool(apply or preview.is_noop), "preview": _preview_doc(preview),
               "aid": dataclasses.asdict(aid) if aid else None}
        text = _preview_text(preview)
        if aid:
            text += f"\n资助记录：收到 {aid.received} 条，新增 {aid.added} 条，已有 {aid.already} 条"
            text += f"，名册外 {len(aid.orphans)} 名学生。" if aid.orphans else "。"
        elif not preview.is_noop:
            text += "\n未应用（只是预览）。确认无误后用 platform pull --yes 应用。"
        _emit(args, doc, text)


@_guard
def cmd_push(args) -> None:
    with _Ctx(args, need_url=True) as ctx:
        result = ctx.connector.push(None if args.all_terms else ctx.term)
        cells = 0
        if not args.no_statistics and not result.error:
            cells = ctx.connector.push_statistics(ctx.term)
        doc = {**dataclasses.asdict(result), "statistics_cells": cells, "ok": result.ok}
        _emit(args, doc, result.summary_zh() + (f"\n统计：已上报 {cells} 个单元格。" if cells else ""))
        if not result.ok:
            raise _server_error(result.error or f"有 {len(result.rejected) + result.pending} 条未能上报，"
                                               "详见 platform reconcile。")


@_guard
def cmd_reconcile(args) -> None:
    from sync_server.platform.reconcile import table_zh, write_xlsx
    with _Ctx(args) as ctx:
        report = ctx.connector.reconcile(ctx.term)
        if args.xlsx:
            write_xlsx(report, Path(args.xlsx))
        _emit(args, report.to_json(), table_zh(report) + (f"\n已写出 {args.xlsx}" if args.xlsx else ""))


@_guard
def cmd_export_file(args) -> None:
    with _Ctx(args) as ctx:
        n = ctx.connector.export_file(Path(args.file), None if args.all_terms else ctx.term, only_pending=not args.all)
        _emit(args, {"file": args.file, "items": n}, f"已写出 {n} 条上报记录和统计表到 {args.file}；请登录平台手工上传。")


@_guard
def cmd_import_file(args) -> None:
    from sync_server.platform.inbound import RosterPreview
    with _Ctx(args) as ctx:
        result = ctx.connector.import_file(Path(args.file), apply=not args.preview, term=ctx.term, force=args.force)
        if isinstance(result, RosterPreview):
            _emit(args, {"template": "roster", "applied": not args.preview, "preview": _preview_doc(result)},
                  _preview_text(result) + ("" if not args.preview else "\n未应用（只是预览）。"))
        else:
            _emit(args, {"template": "aid", "applied": not args.preview, **dataclasses.asdict(result)},
                  f"资助记录：{result.received} 条，新增 {result.added} 条，已有 {result.already} 条，"
                  f"名册外 {len(result.orphans)} 名学生。" + ("（只是预览，未导入）" if args.preview else ""))


@_guard
def cmd_quality(args) -> None:
    from sync_server.platform.quality import MENTOR_NOTE_DAYS_RANGE, quality_table_zh, school_quality
    low, high = MENTOR_NOTE_DAYS_RANGE
    if not low <= args.mentor_note_days <= high:
        raise _server_error(f"导师记录的间隔应为 {low}–{high} 天。")
    with _Ctx(args) as ctx:
        today = dt.date.fromisoformat(args.today) if args.today else dt.date.today()
        report = school_quality(ctx.data, ctx.term, today, args.mentor_note_days)
        _emit(args, report.to_json(), quality_table_zh(report))


@_guard
def cmd_coverage(args) -> None:
    from sync_server.platform.quality import VISITS_RULE_ZH, coverage, coverage_svg
    from visitapp.domain import term_label
    with _Ctx(args) as ctx:
        d = ctx.data
        report = coverage(ctx.term, d.students(), d.visits(), d.determinations(), d.growth_entries(),
                          d.profile_fields(), d.assignments(), d.mentor_notes())
        if args.svg:
            Path(args.svg).write_text(coverage_svg(report), encoding="utf-8")

        def row(r):
            return {"class_name": r.class_name, "coverages": [
                {"code": c.code, "title": c.title, "covered": c.covered, "total": c.total, "percent": c.percent,
                 "measured": c.measured} for c in r.coverages]}
        doc = {"term": report.term, "school": row(report.school), "classes": [row(r) for r in report.classes]}
        lines = [f"六个全覆盖（{term_label(report.term)}）"]
        for c in report.school.coverages:
            lines.append(f"  {c.title}：" + (f"{c.percent}%（{c.covered}/{c.total}）" if c.percent is not None
                                             else "未统计（由学校自报）" if not c.measured else "无对象"))
        lines.append(f"  注：{VISITS_RULE_ZH}")
        _emit(args, doc, "\n".join(lines) + (f"\n图表：{args.svg}" if args.svg else ""))


@_guard
def cmd_exchanges(args) -> None:
    with _Ctx(args) as ctx:
        events = ctx.data.exchanges()[-args.last:]
        _emit(args, {"exchanges": [dataclasses.asdict(e) for e in events]},
              "\n".join(f"{e.at:%Y-%m-%d %H:%M}  {e.actor}  {'下行' if e.direction == 'down' else '上行'}  {e.channel}  "
                        f"{e.operation}  {e.count} 条  {e.result}  字段：{','.join(e.fields)}" for e in events)
              or "（还没有与平台交换过数据）")


# -- the public notice ---------------------------------------------------------------------------
def _find(items, ref: str, what: str):
    for x in items:
        if x.id == ref:
            return x
    raise _server_error(f"找不到{what} {ref}。")


def _day(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if text else dt.date.today()
    except ValueError:
        raise _server_error(f"“{text}”不是日期（应如 2026-11-20）。") from None


@_guard
def cmd_notice(args) -> None:
    from visitapp.domain import DomainError

    from sync_server.platform import notice as nt
    with _Ctx(args) as ctx:
        d = ctx.data
        now = dt.datetime.now(dt.timezone.utc)
        try:
            if args.notice_cmd == "open":
                meeting = _find(d.meetings(), args.meeting, "评议会")
                n = nt.open_notice(str(uuid.uuid4()), meeting, d.determinations(), _day(args.start), _day(args.end),
                                   created_by="officer-cli", now=now)
                d.save_records([n], "officer-cli")
                target = n
            elif args.notice_cmd == "objection":
                n = _find(d.notices(), args.notice, "公示")
                o = nt.record_objection(n, str(uuid.uuid4()), _day(args.received), args.content, now, args.student or "")
                d.save_records([o], "officer-cli")
                target = n
            elif args.notice_cmd == "handle":
                o = _find(d.objections(), args.objection, "异议")
                d.save_records([nt.handle_objection(o, args.handling, _day(args.on))], "officer-cli")
                target = _find(d.notices(), o.notice_id, "公示")
            elif args.notice_cmd == "close":
                n = _find(d.notices(), args.notice, "公示")
                closed, finals = nt.close_notice(n, d.determinations(), d.objections(), _day(args.today))
                d.save_records([closed, *finals], "officer-cli")
                target = closed
            else:
                target = _find(d.notices(), args.notice, "公示")
        except DomainError as exc:
            raise _server_error(str(exc)) from None
        view = nt.notice_view(target, d.determinations(), d.students(), d.objections(), _day(getattr(args, "today", None)))
        _emit(args, dataclasses.asdict(view), f"公示编号：{view.notice_id}\n" + nt.table_zh(view))


# -- schedule ------------------------------------------------------------------------------------
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_interval(text: str) -> float:
    m = _INTERVAL.match(text.strip())
    if not m or float(m.group(1)) <= 0:
        raise _server_error(f"“{text}”不是时间间隔（如 30m、6h、1d）。")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@_guard
def cmd_schedule(args) -> None:
    every = parse_interval(args.every)
    stop = {"now": False}

    def _stop(*_):
        stop["now"] = True
    signal.signal(signal.SIGTERM, _stop)
    runs = 0
    while not stop["now"]:
        started = time.monotonic()
        with _Ctx(args, need_url=True) as ctx:
            try:
                preview, aid = ctx.connector.pull(ctx.term, apply=True)
                result = ctx.connector.push(ctx.term)
                if not result.error:
                    ctx.connector.push_statistics(ctx.term)
                print(f"{dt.datetime.now():%Y-%m-%d %H:%M} {preview.summary_zh()} {result.summary_zh()}", flush=True)
            except PlatformError as exc:  # a bad night must not end the schedule
                print(f"{dt.datetime.now():%Y-%m-%d %H:%M} 本轮失败：{exc}", file=sys.stderr, flush=True)
        runs += 1
        if args.once or (args.runs and runs >= args.runs):
            break
        while not stop["now"] and time.monotonic() - started < every:
            time.sleep(min(1.0, every))


# -- registration ---------------------------------------------------------------------------------
def register(sub, parser_class=argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``platform ...`` to the server's sub-commands (one call from ``sync_server.cli``)."""
    from visitapp.domain.reports import MENTOR_NOTE_DAYS
    p = sub.add_parser("platform", help="与市阳光资助平台交换数据、对账、公示与数据质量")
    p.add_argument("--url", help="平台地址（也可用 VISITAPP_PLATFORM_URL 或 platform configure --url）")
    p.add_argument("--term", help="学期，如 2026-2027-1（默认当前学期）")
    p.add_argument("--retries", type=int, default=5, help="网络失败时的重试次数（默认 5，间隔指数增长并加随机抖动）")
    cmds = p.add_subparsers(dest="platform_cmd", required=True, parser_class=parser_class)

    def add(name, func, help_text, json_flag=True, parent=cmds):
        sp = parent.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
        return sp

    sp = add("configure", cmd_configure, "保存平台地址、学校代码和密钥")
    sp.add_argument("--school-code")
    sp.add_argument("--key-file", help="平台发给学校的密钥（十六进制文本文件）")
    sp.add_argument("--district", help="学校所在区（统计用）")
    sp = add("pull", cmd_pull, "下载名册（先预览）和资助记录")
    sp.add_argument("--yes", action="store_true", help="不询问，直接应用名册变更")
    sp.add_argument("--preview", action="store_true", help="只预览，不应用")
    sp.add_argument("--force", action="store_true", help="即使过半学生将不在名册中也应用")
    sp = add("push", cmd_push, "上报家访完成、认定、成长奖励、导师配备和统计")
    sp.add_argument("--no-statistics", action="store_true")
    sp.add_argument("--all-terms", action="store_true", help="上报所有学期待上报的记录")
    sp = add("reconcile", cmd_reconcile, "对账报告")
    sp.add_argument("--xlsx", help="同时写出 xlsx 文件")
    sp = add("export-file", cmd_export_file, "把待上报记录写成模板文件（手工上传）")
    sp.add_argument("file")
    sp.add_argument("--all", action="store_true", help="包括已上报的记录")
    sp.add_argument("--all-terms", action="store_true")
    sp = add("import-file", cmd_import_file, "导入平台下载的名册或资助记录文件")
    sp.add_argument("file")
    sp.add_argument("--preview", action="store_true", help="只预览名册变更，不应用")
    sp.add_argument("--force", action="store_true", help="即使过半学生将不在名册中也应用")
    sp = add("quality", cmd_quality, "数据质量报告")
    sp.add_argument("--today", help="按哪一天计算逾期（默认今天）")
    sp.add_argument("--mentor-note-days", type=int, default=MENTOR_NOTE_DAYS,
                    help=f"重点帮扶学生的导师记录应每隔多少天至少一次（默认 {MENTOR_NOTE_DAYS}，与学校设置 mentor_note_days 一致）")
    sp = add("coverage", cmd_coverage, "六个全覆盖（可输出 SVG 图表）")
    sp.add_argument("--svg")
    sp = add("exchanges", cmd_exchanges, "与平台交换的审计记录")
    sp.add_argument("--last", type=int, default=50)
    sp = add("schedule", cmd_schedule, "定时下载并上报（在本进程中循环运行）", json_flag=False)
    sp.add_argument("--every", default="6h", help="间隔，如 30m、6h、1d")
    sp.add_argument("--once", action="store_true", help="只运行一轮")
    sp.add_argument("--runs", type=int, default=0, help=argparse.SUPPRESS)

    notice = cmds.add_parser("notice", help="公示：发布、登记异议、处理异议、结束").add_subparsers(
        dest="notice_cmd", required=True, parser_class=parser_class)
    sp = add("open", cmd_notice, "为评议会的认定结果发布公示", parent=notice)
    sp.add_argument("meeting")
    sp.add_argument("--start", required=True)
    sp.add_argument("--end", required=True)
    sp = add("show", cmd_notice, "查看公示", parent=notice)
    sp.add_argument("notice")
    sp.add_argument("--today")
    sp = add("objection", cmd_notice, "登记异议", parent=notice)
    sp.add_argument("notice")
    sp.add_argument("--received", required=True)
    sp.add_argument("--content", required=True)
    sp.add_argument("--student")
    sp = add("handle", cmd_notice, "记录异议处理情况", parent=notice)
    sp.add_argument("objection")
    sp.add_argument("--handling", required=True)
    sp.add_argument("--on")
    sp = add("close", cmd_notice, "公示期满且异议处理完毕后结束公示，认定生效", parent=notice)
    sp.add_argument("notice")
    sp.add_argument("--today")
    return p
