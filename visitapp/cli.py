"""The ``visitapp`` command (DESIGN.md §11).

Without a command it opens the desktop window; ``--demo`` starts the embedded server, the demo
school and the window. Every command exits non-zero with a one-line reason on failure, and
``--json`` prints one JSON document for scripts.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
import unicodedata
from pathlib import Path
from typing import Any

from visitapp import __version__

log = logging.getLogger("visitapp")


class CliError(Exception):
    """A failure to report as one line, with exit status 1."""


def _first_line(path: str, what: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"无法读取{what}文件 {path}：{exc.strerror}") from None
    line = text.splitlines()[0] if text.strip() else ""
    if not line:
        raise CliError(f"{what}文件 {path} 是空的。")
    return line


def _read_passphrase(args: argparse.Namespace, confirm: bool = False, what: str = "口令") -> str:
    if args.passphrase_file:
        return _first_line(args.passphrase_file, "口令")
    if not sys.stdin.isatty():
        raise CliError(f"需要{what}：请在终端中运行，或用 --passphrase-file 指定口令文件。")
    passphrase = getpass.getpass(f"{what}：")
    if confirm and getpass.getpass(f"再输入一次{what}：") != passphrase:
        raise CliError(f"两次输入的{what}不一致。")
    return passphrase


def _profile_dir(args: argparse.Namespace) -> Path:
    from visitapp.storage.profile import default_profile_dir
    return Path(args.profile).expanduser() if args.profile else default_profile_dir()


def _open(args: argparse.Namespace):  # noqa: ANN202
    from visitapp.services import open_profile
    return open_profile(_profile_dir(args), _read_passphrase(args))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    print("  ".join(_pad(h, w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(_pad(c, w) for c, w in zip(row, widths)).rstrip())


# -- commands ------------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from visitapp.crypto import FAST_TEST_KDF
    from visitapp.services import create_profile, profile_exists
    path = _profile_dir(args)
    if profile_exists(path):
        raise CliError(f"这里已经有一个档案：{path}")
    passphrase = _read_passphrase(args, confirm=True)
    kdf = FAST_TEST_KDF if args.insecure_fast_kdf else None
    ws, recovery = create_profile(path, passphrase, staff_name=args.name, role=args.role,
                                  school_name=args.school, kdf=kdf)
    ws.close()
    if args.json:
        print(json.dumps({"profile": str(path), "recovery_key": recovery}, ensure_ascii=False))
    else:
        print(f"已创建档案：{path}")
        print("恢复密钥（只显示这一次，请抄写或打印后妥善保管；忘记口令时用它找回）：")
        print(f"    {recovery}")
    return 0


def cmd_reset_passphrase(args: argparse.Namespace) -> int:
    """A forgotten passphrase: the printed recovery key opens the profile and a new passphrase
    replaces the old one. The key from --recovery-key-file or a hidden prompt; the new
    passphrase from --passphrase-file or typed twice."""
    from visitapp.services import open_profile_with_recovery, profile_exists
    path = _profile_dir(args)
    if not profile_exists(path):
        raise CliError(f"这里没有档案：{path}")
    if args.recovery_key_file:
        key = _first_line(args.recovery_key_file, "恢复密钥")
    elif sys.stdin.isatty():
        key = getpass.getpass("恢复密钥（打印件上的 8 组字符）：")
    else:
        raise CliError("需要恢复密钥：请在终端中运行，或用 --recovery-key-file 指定文件。")
    new_passphrase = _read_passphrase(args, confirm=True, what="新口令")
    open_profile_with_recovery(path, key, new_passphrase).close()
    if args.json:
        print(json.dumps({"profile": str(path), "passphrase_changed": True}, ensure_ascii=False))
    else:
        print(f"口令已重设：{path}。今后请用新口令打开档案；恢复密钥仍然有效。")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from visitapp.services.demo import seed_demo
    if args.students < 1 or args.students > 100_000:
        raise CliError("--students 应在 1 到 100000 之间。")
    with _open(args) as ws:
        def progress(done: int, total: int) -> None:
            if not args.json:
                print(f"\r写入演示数据 {done}/{total}", end="", file=sys.stderr, flush=True)
        try:
            demo = seed_demo(ws, args.students, seed=args.seed, progress=progress)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        if not args.json:
            print(file=sys.stderr)
        summary = {"school": demo.school.name, "students": len(demo.students), "staff": len(demo.staff),
                   "visits": len(demo.visits), "growth_entries": len(demo.growth_entries),
                   "mentor_notes": len(demo.mentor_notes), "my_students": len(ws.students.list_mine())}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"已写入演示学校“{summary['school']}”：{summary['students']} 名学生，{summary['visits']} 条家访记录，"
              f"{summary['growth_entries']} 条成长记录，{summary['mentor_notes']} 条导师记录；"
              f"其中分配给我的学生 {summary['my_students']} 名。")
    return 0


def cmd_students(args: argparse.Namespace) -> int:
    from visitapp.domain import label_zh
    with _open(args) as ws:
        rows = ws.students.list_mine()
        coverage = ws.students.coverage()
    status_zh = {"not_visited": "未走访", "draft": "草稿", "visited": "已走访", "remote": "仅电话/视频，未实地走访"}
    if args.json:
        print(json.dumps({"term": coverage.term, "visited": coverage.visited, "total": coverage.total,
                          "students": [{**r.__dict__, "hardship_categories": list(r.hardship_categories),
                                        "mentor_names": list(r.mentor_names)} for r in rows]},
                         ensure_ascii=False))
        return 0
    print_table(["姓名", "班级", "学段", "困难类别", "重点帮扶", "免申即享", "本学期家访", "育人导师"],
                [[r.name, r.class_name, label_zh(r.stage), "、".join(label_zh(c) for c in r.hardship_categories),
                  "是" if r.key_support else "", "是" if r.auto_eligible else "", status_zh[r.visit_status],
                  "、".join(r.mentor_names)] for r in rows])
    print(f"\n{coverage.label}")
    return 0


def cmd_visits(args: argparse.Namespace) -> int:
    """My students' visit records with their ids (what ``print visit ID`` takes), newest first."""
    status_zh = {"draft": "草稿", "final": "已定稿", "amended": "已更正", "voided": "已作废"}
    with _open(args) as ws:
        students = ws.students.list_mine()
        if args.student:
            students = [r for r in students if r.id == _resolve_student(ws, args.student)]
        rows = []
        for st in students:
            if args.class_name and st.class_name != args.class_name:
                continue
            for v in ws.visits.for_student(st.id):
                if args.term and v.term != args.term:
                    continue
                rows.append({"id": v.id, "student_id": st.id, "student": st.name, "class_name": st.class_name,
                             "term": v.term, "visit_date": v.visit_date.isoformat() if v.visit_date else None,
                             "status": str(v.status)})
    if args.json:
        print(json.dumps({"visits": rows}, ensure_ascii=False))
        return 0
    print_table(["ID", "学生", "班级", "学期", "家访日期", "状态"],
                [[r["id"], r["student"], r["class_name"], r["term"], r["visit_date"] or "",
                  status_zh.get(r["status"], r["status"])] for r in rows])
    print(f"\n共 {len(rows)} 条家访记录。")
    return 0


def cmd_export_backup(args: argparse.Namespace) -> int:
    from visitapp.services.backup import export_backup
    with _open(args) as ws:
        path = export_backup(ws, Path(args.file))
    print(json.dumps({"backup": str(path)}) if args.json else f"已导出加密备份：{path}")
    return 0


def cmd_restore_backup(args: argparse.Namespace) -> int:
    from visitapp.services.backup import restore_backup
    ws = restore_backup(Path(args.file), _profile_dir(args), _read_passphrase(args))
    count = len(ws.students.list_mine())
    ws.close()
    print(json.dumps({"profile": str(_profile_dir(args)), "students": count}) if args.json
          else f"已从备份恢复档案到 {_profile_dir(args)}（{count} 名学生）。")
    return 0


def cmd_enroll(args: argparse.Namespace) -> int:
    from visitapp.protocol.sync import decode_enrollment_code, encode_enrollment_code
    code = args.code
    if args.server:
        try:
            _url, fingerprint, secret = decode_enrollment_code(code)
        except ValueError:
            fingerprint, secret = "", code  # a bare secret typed by hand, with the address given
        code = encode_enrollment_code(args.server, fingerprint, secret)
    with _open(args) as ws:
        enrolled = ws.sync.enroll(code, device_label=args.label)
    if args.json:
        print(json.dumps(enrolled.model_dump(exclude={"token"}), ensure_ascii=False))
    else:
        print(f"已注册到 {enrolled.school_name}：{enrolled.staff_name}（{enrolled.role}），设备 {enrolled.device_id}")
        print(_keys_line(enrolled))
    return 0


def _keys_line(enrolled: Any) -> str:
    """One line about this laptop's keys after enrollment, the fingerprint the officer compares."""
    if enrolled.fingerprint is None or enrolled.keys_state == "not_yet_published":
        return "本机密钥：尚未登记到学校服务器（服务器版本较旧或暂时连不上，下次同步时再登记）。"
    if enrolled.keys_certified:
        return f"本机密钥指纹：{enrolled.fingerprint}（已认证）"
    if enrolled.keys_state == "pinned":
        return f"本机密钥指纹：{enrolled.fingerprint}（资助专干下次同步后认证）"
    return f"本机密钥指纹：{enrolled.fingerprint}（密钥尚未认证：请资助专干核对此指纹）"


def cmd_sync(args: argparse.Namespace) -> int:
    for name in ("connect_timeout", "read_timeout"):
        value = getattr(args, name, None)
        if value is not None and not 1 <= value <= 600:
            raise CliError(f"--{name.replace('_', '-')} 应在 1 到 600 秒之间。")
    with _open(args) as ws:
        ws.sync.connect_timeout = args.connect_timeout or ws.sync.connect_timeout
        ws.sync.read_timeout = args.read_timeout or ws.sync.read_timeout
        def progress(done: int, total: int, phase: str) -> None:
            if not args.json:
                label = "上传" if phase == "push" else "下载"
                print(f"\r{label} {done}/{total}", end="", file=sys.stderr, flush=True)
        report = ws.sync.run(progress=progress)
        pending = ws.pending_count()
        quarantined = ws.sync.quarantined()
    if not args.json:
        print(file=sys.stderr)
    result = {"pushed": report.pushed, "pulled": report.pulled, "conflicts": report.conflicts,
              "purged_students": report.purged_students, "pending": pending,
              "errors": [{"record_id": r, "reason": why} for r, why in report.errors],
              "quarantined": [{"kind": k, "record_id": r, "reason": why} for k, r, why in quarantined],
              "orphaned": [{"record_id": r, "reason": why} for r, why in report.orphaned],
              "key_warnings": list(report.warnings), "certified_devices": list(report.certified_devices)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"同步完成：上传 {report.pushed} 条，下载 {report.pulled} 条，冲突 {report.conflicts} 条，待上传 {pending} 条。")
        orphaned = set(report.orphaned)
        for record_id, reason in report.orphaned:
            print(f"  已交资助专干处理 {record_id}：{reason}")
        for record_id, reason in report.errors:
            if (record_id, reason) not in orphaned:
                print(f"  未能同步 {record_id}：{reason}")
        if quarantined:
            print(f"有 {len(quarantined)} 条从服务器收到的记录本机无法读取，已隔离（未影响其余记录）：")
            for kind, record_id, reason in quarantined:
                print(f"  已隔离 {kind} {record_id}：{reason}")
        for device_id in report.certified_devices:
            print(f"  已认证设备 {device_id} 的密钥（注册码绑定核对无误）")
        for warning in report.warnings:
            print(f"  密钥：{warning}")
    return 0 if not report.errors else 2


# -- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visitapp", description="家访记录：离线加密的家访、资助成长档案和育人导师记录。")
    parser.add_argument("--version", action="version", version=f"visitapp {__version__}")
    parser.add_argument("--profile", metavar="DIR", help="档案文件夹（也可用环境变量 VISITAPP_PROFILE）")
    parser.add_argument("--passphrase-file", metavar="FILE", help="从文件第一行读取口令")
    parser.add_argument("--demo", action="store_true", help="启动内置服务器和演示学校，并打开窗口")
    parser.add_argument("--officer", action="store_true",
                        help="与 --demo 一起用：以资助专干身份打开（含分工、评议和市平台对接）")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, fn: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 文档，供脚本使用")
        return p

    p = add("init", cmd_init, "新建档案")
    p.add_argument("--name", default="本机用户", help="教师姓名")
    p.add_argument("--role", choices=["teacher", "officer"], default="teacher")
    p.add_argument("--school", default="", help="学校名称")
    p.add_argument("--insecure-fast-kdf", action="store_true", help=argparse.SUPPRESS)
    p = add("reset-passphrase", cmd_reset_passphrase,
            "忘记口令时：用恢复密钥设置新口令（新口令取自 --passphrase-file 或两次输入）")
    p.add_argument("--recovery-key-file", metavar="FILE", help="从文件第一行读取恢复密钥")
    p = add("demo-data", cmd_demo_data, "向档案写入一所确定性的演示学校")
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--seed", type=int, default=2024)
    add("students", cmd_students, "列出我的学生及本学期家访情况")
    p = add("visits", cmd_visits, "列出我的学生的家访记录及其 ID（供 print visit 使用）")
    p.add_argument("--student", help="只列这名学生的（ID、学号或姓名）")
    p.add_argument("--class", dest="class_name", help="只列这个班级的")
    p.add_argument("--term", help="只列这个学期的，如 2024-2025-1")
    p = add("export-backup", cmd_export_backup, "导出加密备份")
    p.add_argument("file")
    p = add("restore-backup", cmd_restore_backup, "从加密备份恢复到新档案")
    p.add_argument("file")
    p = add("enroll", cmd_enroll, "用注册码在学校服务器注册这台电脑")
    p.add_argument("--server", help="服务器地址（注册码里已含，可省略）")
    p.add_argument("--code", required=True)
    p.add_argument("--label", default="", help="设备名称")
    p = add("sync", cmd_sync, "同步：先上传，再下载")
    p.add_argument("--connect-timeout", type=float, metavar="秒",
                   help="连接学校服务器的超时（默认 5 秒，或档案设置 sync_connect_timeout）")
    p.add_argument("--read-timeout", type=float, metavar="秒",
                   help="等待服务器应答的超时（默认 20 秒，或档案设置 sync_read_timeout）")
    p = add("workload", cmd_workload, "教师本学期的学生资助工作量（实地家访、导师记录、常态化研讨、奖励登记、集体评议）")
    p.add_argument("--staff", help="教师姓名或 ID（默认本人；资助专干可查任一教师）")
    p.add_argument("--term", help="学期，如 2026-2027-1（默认本学期）")
    p.add_argument("--xlsx", metavar="FILE.xlsx", help="同时导出为 xlsx 表格")
    _add_print_commands(sub, add)
    _add_retention_commands(sub)
    _add_key_commands(sub)
    audit = sub.add_parser("audit", help="审计记录：核验哈希链，查看谁在何时录入或修改了什么")
    what = audit.add_subparsers(dest="audit_cmd", metavar="WHAT", required=True)
    p = what.add_parser("verify", help="核验本机保存的审计链及本机的签名；完整时退出码为 0，否则为 1 并指出第一条断开或伪造的记录",
                        description="核验本机保存的审计链及本机的签名；完整时退出码为 0，否则为 1 并指出第一条断开或伪造的记录")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_verify)
    p = what.add_parser("show", help="列出审计记录（谁、何时、在哪台设备上做了什么）",
                        description="列出审计记录（谁、何时、在哪台设备上做了什么）")
    p.add_argument("--student", help="只看关于这名学生的记录（姓名、学号或 ID）")
    p.add_argument("--staff", help="只看这位教职工的操作（姓名或 ID）")
    p.add_argument("--since", help="从这一天起，如 2026-09-01")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit_show)
    return parser


def _add_retention_commands(sub: Any) -> None:
    """``visitapp retention list | archive | erase`` (issue 15): on the officer's laptop, the
    only place that can read every record it archives."""
    retention = sub.add_parser("retention", help="保存期满的学生资料：列出、生成长期档案、从服务器和所有电脑删除")
    what = retention.add_subparsers(dest="retention_cmd", metavar="WHAT", required=True)

    def add(name: str, fn: Any, help_text: str) -> argparse.ArgumentParser:
        p = what.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 文档，供脚本使用")
        p.set_defaults(func=fn)
        return p

    add("list", cmd_retention_list, "列出不在名册的学生、保存期届满日和是否已归档")
    p = add("archive", cmd_retention_archive, "为保存期已满的学生生成长期档案 PDF（家访记录、成长档案、认定结果等）")
    p.add_argument("student", help="学生 ID、学号或姓名")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    p = add("erase", cmd_retention_erase, "归档后从学校服务器和所有电脑删除该学生的资料（留下不含内容的删除记录）")
    p.add_argument("student", help="学生 ID、学号或姓名")


def _add_key_commands(sub: Any) -> None:
    """``visitapp keys officer-sheet | restore-officer`` (issue 14): the officer recovery sheet,
    so that a school does not lose its families' records with its officer's laptop."""
    keys = sub.add_parser("keys", help="资助专干密钥恢复页：打印；在新电脑上从恢复页恢复")
    what = keys.add_subparsers(dest="keys_cmd", metavar="WHAT", required=True)
    text = "打印本机（资助专干电脑）的密钥恢复页 PDF：电脑丢失时，新电脑凭它重新读取全校的家庭情况"
    p = what.add_parser("officer-sheet", help=text, description=text)
    p.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="只有本人可读的 PDF；打印后请删除")
    p.add_argument("--json", action="store_true", help="输出一个 JSON 文档，供脚本使用")
    p.set_defaults(func=cmd_keys_officer_sheet)
    text = "在新的资助专干电脑上（已注册）输入丢失电脑的恢复页，恢复资助专干密钥；随后同步一次"
    p = what.add_parser("restore-officer", help=text, description=text)
    p.add_argument("--sheet-file", metavar="FILE", help="从文件第一行读取恢复页上的密钥（否则在终端输入）")
    p.add_argument("--json", action="store_true", help="输出一个 JSON 文档，供脚本使用")
    p.set_defaults(func=cmd_keys_restore_officer)


def cmd_keys_officer_sheet(args: argparse.Namespace) -> int:
    import datetime as dt

    from visitapp.crypto.private import open_private
    from visitapp.printing.recovery_key import officer_recovery_sheet, render_recovery_key
    from visitapp.services.keys import KeyServiceError
    out = Path(args.output)
    with _open(args) as ws:
        try:
            sheet = ws.officer_keys.recovery_sheet()
        except KeyServiceError as exc:
            raise CliError(str(exc)) from None
    with open_private(out, "wb") as fh:  # it opens every family's records: owner-only from the first byte
        render_recovery_key(officer_recovery_sheet(sheet.key, sheet.school, sheet.holder, sheet.device_id,
                                                   dt.datetime.now()), fh)
    if args.json:
        print(json.dumps({"file": str(out), "device_id": sheet.device_id}, ensure_ascii=False))
    else:
        print(f"已生成资助专干密钥恢复页：{out}。请打印后锁进保险柜，并删除这个文件。")
    return 0


def cmd_keys_restore_officer(args: argparse.Namespace) -> int:
    from visitapp.services.keys import KeyServiceError
    if args.sheet_file:
        typed = _first_line(args.sheet_file, "恢复页")
    elif sys.stdin.isatty():
        typed = input("恢复页上的密钥（28 组，每组 4 个字符）：")
    else:
        typed = sys.stdin.readline()
    with _open(args) as ws:
        try:
            restored = ws.officer_keys.restore_from_sheet(typed)
        except KeyServiceError as exc:
            raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps({"lost_device_id": restored.lost_device_id, "content_keys": restored.content_keys,
                          "certified": restored.certified}, ensure_ascii=False))
    else:
        print(f"已恢复资助专干密钥和丢失电脑（{restored.lost_device_id}）的 {restored.content_keys} 把学生密钥。"
              "请现在运行 visitapp sync，再在学校服务器上注销丢失的电脑。")
    return 0


def _left_student(ws: Any, key: str) -> str:
    rows = ws.retention.left_students()
    for match in ([r for r in rows if r.student_id == key], [r for r in rows if r.student_no == key],
                  [r for r in rows if r.name == key]):
        if len(match) == 1:
            return match[0].student_id
        if len(match) > 1:
            raise CliError(f"有 {len(match)} 名学生叫“{key}”，请改用 ID。")
    if key in ws.retention.erased():
        return key
    raise CliError(f"不在名册的学生中找不到“{key}”。")


def cmd_retention_list(args: argparse.Namespace) -> int:
    with _open(args) as ws:
        rows, years = ws.retention.left_students(), ws.retention.school_years()
    if args.json:
        print(json.dumps({"school_years": years, "students": [
            {"student_id": r.student_id, "name": r.name, "class_name": r.class_name, "student_no": r.student_no,
             "left_on": r.left_on.isoformat() if r.left_on else None,
             "retention_ends": r.retention_ends.isoformat() if r.retention_ends else None,
             "due": r.due, "records": r.records, "archived_sha256": r.archived_sha256} for r in rows]},
            ensure_ascii=False))
        return 0
    print(f"不在名册的学生 {len(rows)} 名（保存期 {years} 个学年）")
    print_table(["学生", "班级", "离开名册", "届满", "记录", "状态"], [
        [r.name, r.class_name, r.left_on.isoformat() if r.left_on else "—",
         r.retention_ends.isoformat() if r.retention_ends else "—", str(r.records),
         ("已归档，可删除" if r.archived_sha256 else "已届满，待归档") if r.due else "保存中"] for r in rows])
    return 0


def cmd_retention_archive(args: argparse.Namespace) -> int:
    with _open(args) as ws:
        digest = ws.retention.archive(_left_student(ws, args.student), Path(args.output))
    if args.json:
        print(json.dumps({"file": args.output, "sha256": digest}, ensure_ascii=False))
    else:
        print(f"已生成长期档案：{args.output}（SHA-256 {digest}）")
    return 0


def cmd_retention_erase(args: argparse.Namespace) -> int:
    from visitapp.services.transport import ServerRefused
    with _open(args) as ws:
        try:
            done = ws.retention.erase(_left_student(ws, args.student))
        except ServerRefused as exc:
            raise CliError(f"学校服务器拒绝删除：{exc}") from None
    if args.json:
        print(json.dumps({"student_id": done.student_id, "erased_at": done.erased_at, "erased_by": done.erased_by,
                          "counts": done.counts, "archive_sha256": done.archive_sha256}, ensure_ascii=False))
    else:
        what = "，".join(f"{k} {n} 条" for k, n in sorted(done.counts.items()))
        print(f"已从学校服务器删除（{what}）；其他电脑在下次同步时清除。删除记录已写入审计日志。")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with _open(args) as ws:
        report = ws.audit.verify()
    b = report.broken
    if args.json:
        print(json.dumps({"intact": report.intact, "events": report.events, "devices": report.devices,
                          "signed": report.signed, "unsigned": report.unsigned,
                          "broken": None if b is None else {"device_id": b.device_id, "seq": b.seq,
                                                            "event_id": b.event_id, "action": b.action,
                                                            "reason": b.reason}}, ensure_ascii=False))
    elif b is None:
        unsigned = f"，{report.unsigned} 条未签名（本机在启用签名之前注册）" if report.unsigned else ""
        print(f"审计链完整：{report.devices} 台设备，共 {report.events} 条记录；本机 {report.signed} 条签名有效{unsigned}。")
    else:
        print(f"审计链断开：设备 {b.device_id} 第 {b.seq} 条（{b.action}，记录 {b.event_id}）：{b.reason}。")
    return 0 if b is None else 1


def cmd_audit_show(args: argparse.Namespace) -> int:
    import datetime as dt
    with _open(args) as ws:
        try:
            since = dt.date.fromisoformat(args.since) if args.since else None
        except ValueError:
            raise CliError(f"日期格式应为 YYYY-MM-DD：{args.since}") from None
        student = _resolve_student(ws, args.student) if args.student else None
        staff = _resolve_staff(ws, args.staff) if args.staff else None
        lines = ws.audit.show(student, staff, since)
    if args.json:
        print(json.dumps([{"at": x.at.isoformat(), "actor": x.actor, "device_id": x.device_id, "action": x.action,
                           "record_kind": x.record_kind, "record_id": x.record_id, "seq": x.seq} for x in lines],
                         ensure_ascii=False))
    else:
        for x in lines:
            print(f"{x.at:%Y-%m-%d %H:%M}  {x.actor}  {x.action}  {x.record_kind} {x.record_id}  （设备 {x.device_id} 第 {x.seq} 条）")
        print(f"共 {len(lines)} 条。")
    return 0


def _add_print_commands(sub: Any, add: Any) -> None:
    """``print visit|visits|growth-file|notice`` and ``verify-sheet`` (DESIGN.md §6, §11)."""
    printer = sub.add_parser("print", help="打印家访记录表、成长档案或公示名单（PDF）")
    what = printer.add_subparsers(dest="what", metavar="WHAT", required=True)

    def doc(name: str, help_text: str) -> argparse.ArgumentParser:
        p = what.add_parser(name, help=help_text, description=help_text)
        p.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_print, what=name)
        return p

    doc("visit", "一条家访记录的记录表").add_argument("id")
    p = doc("visits", "一批家访记录表，合成一个 PDF")
    p.add_argument("--class", dest="class_name")
    p.add_argument("--term")
    doc("growth-file", "一名学生的资助成长档案").add_argument("student")
    doc("notice", "一次评议的公示名单").add_argument("meeting")
    doc("access-export", "一名学生的个人信息查阅副本：学校保存的关于该学生的全部信息，供监护人查阅（资助专干）").add_argument("student")
    p = doc("workload", "教师本学期的学生资助工作量统计表（资助专干可为任一教师出具）")
    p.add_argument("--staff", help="教师姓名或 ID（默认本人）")
    p.add_argument("--term", help="学期，如 2026-2027-1（默认本学期）")
    p = doc("chain", "一名学生本学期的资助工作全过程记录：申请 → 家访 → 审核 → 集体评议 → 公示 → 认定")  # issue 15
    p.add_argument("student")
    p.add_argument("--term", help="学期，如 2026-2027-1（默认本学期）")
    p = add("verify-sheet", cmd_verify_sheet, "核对纸质记录表（扫描件或照片）与当前记录是否一致")
    p.add_argument("file")


def cmd_print(args: argparse.Namespace) -> int:
    out = Path(args.output)
    with _open(args) as ws:
        docs = ws.documents
        if args.what == "visit":
            report = docs.print_visit(args.id, out)
        elif args.what == "visits":
            if not args.class_name and not args.term:
                raise CliError("请用 --class 或 --term 指定要打印哪些记录。")

            def progress(done: int, total: int) -> None:
                if not args.json:
                    print(f"\r排版 {done}/{total}", end="", file=sys.stderr, flush=True)
            report = docs.print_visits(out, class_name=args.class_name, term=args.term, progress=progress)
            if not args.json:
                print(file=sys.stderr)
            waiting = len(docs.visit_ids(args.class_name, args.term, unopened=True))
            if waiting:  # said, never skipped in silence: these print after the officer's sync
                print(f"另有 {waiting} 条记录的家庭情况内容待资助专干授权后可查看，本次未打印；"
                      "资助专干同步后，您再同步并重新打印。", file=sys.stderr)
        elif args.what == "growth-file":
            report = docs.print_growth_file(_resolve_student(ws, args.student), out)
        elif args.what == "access-export":
            report = docs.print_subject_access(_resolve_student(ws, args.student), out)
        elif args.what == "workload":
            report = ws.workload.print(out, _resolve_staff(ws, args.staff), args.term)
        elif args.what == "chain":
            report = docs.print_chain(_resolve_student(ws, args.student), out, args.term)
        else:
            report = docs.print_notice(args.meeting, out)
    if args.json:
        print(json.dumps({"file": str(out), "pages": report.pages, "records": report.record_ids,
                          "missing_glyphs": sorted(report.missing_glyphs)}, ensure_ascii=False))
    else:
        print(f"{report.summary_zh()} 文件：{out}")
    return 0


def _resolve_student(ws: Any, key: str) -> str:
    """A student id, student number or (unique) name."""
    rows = ws.students.list_mine()
    for match in ([r for r in rows if r.id == key], [r for r in rows if r.student_no == key],
                  [r for r in rows if r.name == key]):
        if len(match) == 1:
            return match[0].id
        if len(match) > 1:
            raise CliError(f"有 {len(match)} 名学生叫“{key}”，请改用学号或 ID。")
    raise CliError(f"在我的学生中找不到“{key}”。")


def _resolve_staff(ws: Any, key: str | None) -> str | None:
    """A staff id or (unique) name among the people whose statement this laptop can make."""
    if not key:
        return None
    people = ws.workload.teachers()
    for match in ([p for p in people if p[0] == key], [p for p in people if p[1] == key]):
        if len(match) == 1:
            return match[0][0]
        if len(match) > 1:
            raise CliError(f"有 {len(match)} 位教师叫“{key}”，请改用 ID。")
    raise CliError(f"本机没有教师“{key}”的记录（教师只能查看本人的统计）。")


def cmd_workload(args: argparse.Namespace) -> int:
    with _open(args) as ws:
        st = ws.workload.statement(_resolve_staff(ws, args.staff), args.term)
        if args.xlsx:
            ws.workload.export_xlsx(Path(args.xlsx), st.staff_id, st.term)
    if args.json:
        print(json.dumps({"staff_id": st.staff_id, "staff_name": st.staff_name, "term": st.term,
                          "counts": {code: n for code, _label, n in st.counts},
                          "items": [{"kind": it.kind, "date": it.day.isoformat() if it.day else None,
                                     "record_id": it.record_id, "about": it.about} for it in st.items]},
                         ensure_ascii=False))
    else:
        from visitapp.domain import term_label
        print(f"{st.staff_name} {term_label(st.term)} 学生资助工作量：")
        for _code, label, n in st.counts:
            print(f"  {label}：{n}")
        if args.xlsx:
            print(f"已导出：{args.xlsx}")
    return 0


def cmd_verify_sheet(args: argparse.Namespace) -> int:
    with _open(args) as ws:
        try:
            verdict = ws.documents.verify_sheet(Path(args.file))
        except Exception as exc:
            if type(exc).__name__ == "SheetReadError":
                raise CliError(str(exc)) from None
            raise
    if args.json:
        print(json.dumps({"status": verdict.status, "reason": verdict.reason, "kind": verdict.kind,
                          "record_id": verdict.record_id}, ensure_ascii=False))
    else:
        print(f"{verdict.status}: {verdict.reason}")
    return {"match": 0, "outdated": 3, "unknown": 4}.get(verdict.status, 1)


def main(argv: list[str] | None = None) -> int:
    """``visitapp``; output piped into ``head`` (which stops reading) ends it quietly."""
    return exit_quietly_on_broken_pipe(_main, argv)


def exit_quietly_on_broken_pipe(run: Any, argv: list[str] | None) -> int:
    """Run a command's ``main``; when stdout is a pipe closed by the reader (``| head``), stop
    without a traceback, as a command killed by SIGPIPE does (exit status 141)."""
    try:
        code = run(argv)
        sys.stdout.flush()  # a write still buffered fails here, not at interpreter exit
        return code
    except BrokenPipeError:
        # point stdout at /dev/null so the interpreter's final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


def _main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.demo or args.command is None:
            from visitapp.qtlibs import missing_message, missing_packages
            missing = missing_packages()
            if missing:  # before Qt loads: it would abort with an English message
                raise CliError(missing_message(missing))
        if args.demo:
            from visitapp.app import run_demo
            return run_demo(args)
        if args.command is None:
            from visitapp.app import run_gui
            return run_gui(args)
        return args.func(args)
    except KeyboardInterrupt:
        print("已取消。", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # the reader of our output went away: not an error to report
    except CliError as exc:
        print(f"visitapp: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the user; the detail goes to the log
        from visitapp.crypto import CryptoError
        from visitapp.domain.errors import UserError
        if isinstance(exc, (CryptoError, UserError)):  # its sentence is for people (profile, sync, backup, rules)
            print(f"visitapp: {exc}", file=sys.stderr)
            return 1
        log.debug("unexpected error", exc_info=True)
        print(f"visitapp: 出现意外错误：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
