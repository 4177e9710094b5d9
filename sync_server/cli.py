"""``visitapp-server`` (DESIGN.md §11): init, serve and the admin commands.

Every command exits 0 on success and non-zero with one line ``错误：…`` on stderr on failure;
``--json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import signal
import socket
import sys
from pathlib import Path

from sync_server.config import ServerError, ServerPaths

EXIT_FAIL = 1


def _lan_ip() -> str | None:
    """The address other machines on the school's network most likely reach us at (no packet
    is sent: connecting a UDP socket only picks a route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
            return None if ip.startswith("127.") else ip
    except OSError:
        return None


def _emit(args, doc: dict, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(text)


def _open(args):
    from sync_server.core import ServerCore
    return ServerCore.open(ServerPaths.resolve(args.data_dir), args.db)


# -- commands --------------------------------------------------------------------------------
def cmd_init(args) -> None:
    paths = ServerPaths.resolve(args.data_dir)
    if paths.key_file.exists():
        raise ServerError(f"{paths.data_dir} 中已有服务器（密钥文件已存在），不能重复初始化。")
    lan = _lan_ip()
    public = args.url or f"https://{lan or '127.0.0.1'}:8443"
    changes = {"public_url": public.rstrip("/"), **({"db_url": args.db} if args.db else {})}
    paths.check_settings(**changes)  # a bad --url or settings.json stops init before anything is created

    def write_cert() -> None:
        paths.write_cert(*self_signed_cert(args, lan, f"visitapp {args.school}"[:60]))

    school_id, officer, settings = create_school(paths, args.db or paths.db_url(), changes, args.school, args.officer,
                                                 before_settings=write_cert)
    fingerprint = paths.fingerprint()
    _emit(args, {"school_id": school_id, "officer": {"id": officer.id, "name": officer.name},
                 "data_dir": str(paths.data_dir), "public_url": settings.public_url, "fingerprint": fingerprint},
          f"已创建学校“{args.school}”（{school_id}），资助专干：{officer.name}。\n"
          f"数据目录：{paths.data_dir}\n证书指纹（SHA-256）：{fingerprint}\n"
          f"注册码中的服务器地址：{settings.public_url}（可用 init --url 或 enroll-code --url 指定）")


def self_signed_cert(args, lan: str | None, common_name: str) -> tuple[bytes, bytes]:  # noqa: ANN001
    """The server's certificate and key (``init``, ``district init``): this machine's names
    and addresses, with ``--hostname`` and ``--ip`` added."""
    from visitapp.crypto.tls import make_self_signed_cert

    hostnames = ["localhost", socket.gethostname()] + list(args.hostname or [])
    ips = ["127.0.0.1", "::1"] + ([lan] if lan else []) + list(args.ip or [])
    return make_self_signed_cert(hostnames, ips, common_name=common_name)


def create_school(paths: ServerPaths, url: str, changes: dict, school: str, officer: str,
                  before_settings=lambda: None):  # noqa: ANN001 - returns (school_id, StaffInfo, Settings)
    """One school's server in ``paths``: the database at ``url`` migrated, the at-rest key, the
    settings (``changes``), the school and its first officer (``init`` and ``district add``)."""
    from sync_server.core import ServerCore
    from sync_server.db import Database

    db = Database.open(url)
    try:
        cipher = paths.create_key()
        before_settings()
        settings = paths.save_settings(**changes)
        school_id, first_officer = ServerCore(paths, db, cipher).init_school(school, officer)
    finally:
        db.dispose()
    _owner_only(paths, url)
    return school_id, first_officer, settings


def _owner_only(paths: ServerPaths, url: str) -> None:
    """The data directory and an SQLite database file hold the school's data: owner only."""
    import os

    from sqlalchemy.engine import make_url
    os.chmod(paths.data_dir, 0o700)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and Path(parsed.database).exists():
        os.chmod(parsed.database, 0o600)


def _check_listen(host: str, tls: bool) -> None:
    loopback = host == "localhost"
    try:
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not tls and not loopback:
        raise ServerError(f"不加密的 HTTP 只允许监听本机回环地址，而 {host} 不是；请去掉 --no-tls。")


def cmd_serve(args) -> None:
    from sync_server.app import WORKER_ENV, create_app
    from sync_server.logs import setup_logging

    _check_listen(args.host, args.tls)
    if args.workers < 1:
        raise ServerError("--workers 至少为 1。")
    setup_logging()
    core = _open(args)
    paths = core.paths
    if args.tls:
        paths.fingerprint()  # a clear message if the certificate is missing
    if args.workers > 1:
        # several processes on one port: uvicorn's supervisor binds the socket once and starts
        # each worker afresh (spawned), which opens the database that was migrated just now
        # (by ``_open`` above, once) and serves from its own pull cache (sync_server.app)
        core.close()
        worker_env = dict(zip(WORKER_ENV, (str(paths.data_dir), args.db or "", str(args.max_body_mb * 1024 * 1024))))
        serve_uvicorn(args, "sync_server.app:worker_app", worker_env, paths, [paths], close=lambda: None)
    else:
        serve_uvicorn(args, create_app(core, max_body=args.max_body_mb * 1024 * 1024), {}, paths, [paths],
                      close=core.close)


def serve_uvicorn(args, app, worker_env: dict[str, str], tls_paths: ServerPaths, data_dirs: list[ServerPaths],
                  close) -> None:  # noqa: ANN001 - app: an ASGI app, or the import string of the workers' factory
    """Run ``app`` on ``args.host``:``args.port`` until SIGTERM or SIGINT (``serve`` and
    ``district serve``): one process, or ``args.workers`` spawned processes on one port whose
    factory reads ``worker_env``. Every data directory in ``data_dirs`` is held as served
    (restore refuses meanwhile); ``close`` runs after the last request."""
    import contextlib
    import os

    import uvicorn

    from sync_server.app import tune_gc

    ssl = {"ssl_certfile": str(tls_paths.cert_file), "ssl_keyfile": str(tls_paths.cert_key_file)} if args.tls else {}
    workers = args.workers
    common = {"host": args.host, "port": args.port, "log_config": None, "access_log": False,
              "timeout_graceful_shutdown": 10, **ssl}
    if workers > 1:
        os.environ.update(worker_env)
        config = uvicorn.Config(app, factory=True, workers=workers, **common)
    else:
        config = uvicorn.Config(app, **common)
    logging.getLogger("sync_server").info("serving", extra={
        "url": f"{'https' if args.tls else 'http'}://{args.host}:{args.port}",
        "fingerprint": tls_paths.fingerprint() if args.tls else "", "workers": workers})

    class _Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            super().handle_exit(sig, frame)
            # SIGTERM is the normal way to stop a service: finish requests, then exit 0
            # (uvicorn would re-raise the signal after the graceful shutdown)
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and captured and captured[-1] == sig:
                captured.pop()

    tune_gc()
    try:
        with contextlib.ExitStack() as held:
            for paths in data_dirs:  # restore refuses while this is held (by the parent, for all workers)
                held.enter_context(paths.serving())
            if workers > 1:
                from uvicorn.supervisors import Multiprocess
                # SIGTERM/SIGINT: each worker finishes its requests, then the parent exits
                Multiprocess(config, sockets=[config.bind_socket()]).run()
            else:
                _Server(config).run()  # stop accepting, finish in-flight requests, close the database
    finally:
        close()
        logging.getLogger("sync_server").info("stopped")


def cmd_staff_add(args) -> None:
    core = _open(args)
    try:
        info = core.add_staff(args.name, args.role)
    finally:
        core.close()
    _emit(args, {"id": info.id, "name": info.name, "role": info.role},
          f"已添加{'资助专干' if info.role == 'officer' else '教师'}：{info.name}（{info.id}）")


def cmd_staff_list(args) -> None:
    core = _open(args)
    try:
        staff = core.list_staff()
    finally:
        core.close()
    _emit(args, {"staff": [s.__dict__ for s in staff]},
          "\n".join(f"{s.id}  {s.role:8}  {'在职' if s.active else '停用'}  {s.name}" for s in staff) or "（无）")


def cmd_enroll_code(args) -> None:
    core = _open(args)
    try:
        staff, code, expires = core.make_enroll_code(args.staff, url=args.url, hours=args.hours)
    finally:
        core.close()
    _emit(args, {"staff_id": staff.id, "staff_name": staff.name, "code": code, "expires_at": expires.isoformat()},
          f"{staff.name} 的一次性注册码（{expires:%Y-%m-%d %H:%M} UTC 前有效，只能使用一次）：\n{code}")


def cmd_devices_list(args) -> None:
    core = _open(args)
    try:
        devices = core.list_devices()
    finally:
        core.close()
    lines = [f"{d['id']}  {d['staff_name']}  {d['label'] or '-'}  注册于 {d['enrolled_at'][:16]}  "
             f"最近同步 {(d['last_seen_at'] or '-')[:16]}  {_DEVICE_STATE.get(d['state'], d['state'])}"
             + (f"（{d['wiped_at'][:16]}）" if d.get("wiped_at") else "") for d in devices]
    _emit(args, {"devices": devices}, "\n".join(lines) or "（还没有注册的设备）")


def cmd_devices_revoke(args) -> None:
    core = _open(args)
    try:
        core.revoke_device(args.device)
    finally:
        core.close()
    _emit(args, {"revoked": args.device}, f"已注销设备 {args.device}；它下次连接时会清除本机数据。")


_DEVICE_STATE = {"active": "正常", "retiring": "退役中（等待本机上传并清除）", "retired": "已退役，已上传并清除",
                 "revoked": "已注销（等待本机清除）", "revoked_wiped": "已注销，已清除"}


def cmd_devices_retire(args) -> None:
    core = _open(args)
    try:
        core.retire_device(args.device)
    finally:
        core.close()
    _emit(args, {"retired": args.device},
          f"已将设备 {args.device} 设为退役；它下次同步时会先上传全部未同步的记录，然后清除本机数据。")


_ORPHAN_STATUS = {"open": "待处理", "accepted": "已接受", "handed_over": "已转交", "discarded": "已丢弃"}


def cmd_orphans_list(args) -> None:
    from sync_server.orphans import list_orphans
    core = _open(args)
    try:
        items = list_orphans(core, None if args.all else "open")
    finally:
        core.close()
    lines = []
    for o in items:
        facts = o.facts or {}
        what = o.kind + ("（草稿）" if o.routing.get("status") == "draft" else "")
        if facts.get("visit_date"):
            what += f" {facts['visit_date']}"
        when = ""
        if o.made_while_assigned is not None:
            when = "  分工期间所做" if o.made_while_assigned else "  分工结束后所做"
        lines.append(f"{o.id}  {_ORPHAN_STATUS.get(o.status, o.status)}  {what}  学生 {o.student_id or '-'}  "
                     f"{o.author_name or o.author_staff}  {o.code}：{o.reason}{when}")
    _emit(args, {"orphans": [o.model_dump(mode="json") for o in items]}, "\n".join(lines) or "（没有待处理的孤立记录）")


def cmd_orphans_resolve(args) -> None:
    from sync_server.orphans import resolve
    from sync_server.sync import ApiError
    core = _open(args)
    try:
        result = resolve(core, args.orphan, args.action, getattr(args, "reason", "") or "",
                         getattr(args, "to", None), actor="cli")
    except ApiError as exc:
        raise ServerError(exc.detail) from None
    finally:
        core.close()
    text = {"accept": "已接受为正式记录", "handover": f"已转交给 {result['handed_to']}",
            "discard": "已丢弃（内容仍保留，可查审计）"}[args.action]
    _emit(args, result, f"孤立记录 {result['id']}：{text}。")


def cmd_assign(args) -> None:
    core = _open(args)
    try:
        a = core.assign(args.role, args.staff, args.student, term=args.term or "", end=args.end)
    finally:
        core.close()
    _emit(args, a, f"{'已结束' if args.end else '已分配'}：{args.role} {args.staff} → 学生 {a['student_id']}")


def cmd_audit_verify(args) -> int:
    from sync_server import audit
    core = _open(args)
    try:
        report = audit.verify(core)
    finally:
        core.close()
    b = report.broken
    doc = {"intact": report.intact, "server_events": report.server_events, "device_events": report.device_events,
           "devices": report.devices, "signed": report.signed, "unsigned": report.unsigned,
           "pending": report.pending, "flagged": report.flagged, "broken": None if b is None else {
               "chain": b.device_id, "seq": b.seq, "event": b.event_id, "action": b.action, "reason": b.reason}}
    where = "服务器审计链" if b is not None and b.device_id == audit.SERVER_CHAIN else f"设备 {b.device_id if b else ''} 的审计链"
    signatures = (f"签名有效 {report.signed} 条，未签名（设备在启用签名之前注册）{report.unsigned} 条，"
                  f"设备密钥待认证 {report.pending} 条")
    _emit(args, doc, f"审计链完整：服务器 {report.server_events} 条，{report.devices} 台设备共 {report.device_events} 条；{signatures}。"
          if b is None else f"{where}在第 {b.seq} 条（{b.action}）处断开：{b.reason}。")
    return 0 if b is None else 1


def cmd_audit_show(args) -> None:
    import datetime as dt

    from sync_server import audit
    try:
        since = dt.date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise ServerError(f"日期格式应为 YYYY-MM-DD：{args.since}") from None
    core = _open(args)
    try:
        staff = core.find_staff(args.staff).id if args.staff else None
        student = None
        if args.student:
            with core.db.write() as tx:
                student = core.find_student(tx, args.student).id
        lines = audit.show(core, student, staff, since)
        names = {s.id: s.name for s in core.list_staff()}
    finally:
        core.close()
    _emit(args, {"events": [{"at": x.at.isoformat(), "chain": x.chain, "actor": x.actor, "action": x.action,
                             "record_kind": x.record_kind, "record_id": x.record_id, "seq": x.seq,
                             "signature": x.status} for x in lines]},
          "\n".join(f"{x.at:%Y-%m-%d %H:%M}  {names.get(x.actor, x.actor) or '-'}  {x.action}  {x.record_kind} {x.record_id}"
                    f"  （{'服务器' if x.chain == audit.SERVER_CHAIN else '设备 ' + x.chain} 第 {x.seq} 条"
                    f"{'' if not x.status else '，' + audit.STATUS_LABEL.get(x.status, x.status)}）" for x in lines)
          + f"\n共 {len(lines)} 条。")


def cmd_roster_import(args) -> None:
    from sync_server.roster import import_roster
    core = _open(args)
    try:
        result = import_roster(core, Path(args.file), force=args.force)
    finally:
        core.close()
    _emit(args, result, f"名册导入完成：新增 {result['added']} 名，更新 {result['updated']} 名，"
                        f"不在名册 {result['left']} 名（保留其记录，保存期从本学期开始计算）。")


def cmd_backup(args) -> None:
    from sync_server.backup import backup
    core = _open(args)
    try:
        result = backup(core, Path(args.file))
    finally:
        core.close()
    _emit(args, {**result, "key_file": str(core.paths.key_file)},
          f"已备份 {result['rows']} 行到 {result['file']}。请另行妥善保管密钥文件 {core.paths.key_file}，"
          f"没有它备份无法解密。")


def cmd_restore(args) -> None:
    from sync_server.backup import restore
    from sync_server.db import Database, head_revision

    paths = ServerPaths.resolve(args.data_dir)
    cipher = paths.load_cipher()  # the key that wrote the backup must be in the data directory
    url = paths.db_url(args.db)
    with paths.not_serving():  # a running server would keep serving what the restore replaced
        db = Database.open(url)
        try:
            result = restore(db, cipher, Path(args.file), head_revision(), force=args.force)
        finally:
            db.dispose()
    _owner_only(paths, url)
    _emit(args, result, f"已从 {result['file']}（{result['created_at']}）恢复 {result['rows']} 行。"
                        "各笔记本下次同步时会从头完整同步一次。")


def cmd_demo_school(args) -> None:
    from sync_server.demo import demo_school
    core = _open(args)
    try:
        result = demo_school(core, args.students, args.teachers, seed=args.seed, url=args.url)
    finally:
        core.close()
    lines = [f"演示学校：{result['students']} 名学生，{result['teachers']} 名教师。注册码："]
    lines += [f"  {s['name']}（{s['role']}）：{s['enroll_code']}" for s in result["staff"]]
    _emit(args, result, "\n".join(lines))


def cmd_compact(args) -> None:
    from sync_server.sync import compact
    core = _open(args)
    try:
        result = compact(core, args.older_than_days)
    finally:
        core.close()
    _emit(args, result, f"已清理 {result['removed']} 条删除标记；同步水位线为 {result['horizon']}。")


# -- parser ------------------------------------------------------------------------------------
def serve_arguments(sp: argparse.ArgumentParser, workers_help: str) -> None:
    """Where and how a server listens (``serve`` and ``district serve``)."""
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8443)
    sp.add_argument("--tls", action=argparse.BooleanOptionalAction, default=True,
                    help="HTTPS（默认）；--no-tls 只允许本机回环地址")
    sp.add_argument("--max-body-mb", type=int, default=32)
    sp.add_argument("--workers", type=int, default=1, help=workers_help)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, non-zero, like every other failure
        print(f"错误：命令行参数不正确：{message}（用 --help 查看用法）", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="visitapp-server", description="家访记录 学校同步服务器")
    p.add_argument("--db", help="SQLAlchemy 数据库地址（也可用 VISITAPP_SERVER_DB；默认数据目录中的 SQLite）")
    p.add_argument("--data-dir", help="数据目录（也可用 VISITAPP_SERVER_DIR）")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name, func, help_text, json_flag=True, parent=sub):
        sp = parent.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
        return sp

    sp = add("init", cmd_init, "新建服务器：数据库、密钥、证书、第一位资助专干")
    sp.add_argument("--school", required=True)
    sp.add_argument("--officer", required=True)
    sp.add_argument("--url", help="注册码里给笔记本的服务器地址，如 https://192.168.1.10:8443")
    sp.add_argument("--hostname", action="append", help="证书中额外的主机名（可重复）")
    sp.add_argument("--ip", action="append", help="证书中额外的 IP 地址（可重复）")

    serve_arguments(add("serve", cmd_serve, "启动同步服务", json_flag=False),
                    "进程数（默认 1）：多个进程共用一个端口，适合 PostgreSQL 上的大量设备")

    staff = sub.add_parser("staff", help="教职工").add_subparsers(dest="staff_cmd", required=True, parser_class=_Parser)
    sp = add("add", cmd_staff_add, "添加教职工", parent=staff)
    sp.add_argument("name")
    sp.add_argument("--role", choices=["teacher", "officer"], required=True)
    add("list", cmd_staff_list, "列出教职工", parent=staff)

    sp = add("enroll-code", cmd_enroll_code, "为教职工生成一次性注册码")
    sp.add_argument("staff", help="教职工 ID 或姓名")
    sp.add_argument("--url", help="覆盖注册码中的服务器地址")
    sp.add_argument("--hours", type=float, default=72, help="有效小时数（默认 72）")

    devices = sub.add_parser("devices", help="设备").add_subparsers(dest="devices_cmd", required=True,
                                                                  parser_class=_Parser)
    add("list", cmd_devices_list, "列出设备", parent=devices)
    sp = add("revoke", cmd_devices_revoke, "注销设备（丢失或被盗：本机下次连接时清除数据，上传的内容隔离待核实）",
             parent=devices)
    sp.add_argument("device")
    sp = add("retire", cmd_devices_retire, "退役设备（换新电脑：本机先上传全部记录，再清除数据）", parent=devices)
    sp.add_argument("device")

    orphans = sub.add_parser("orphans", help="孤立记录（服务器未能作为教师记录写入的上传内容）").add_subparsers(
        dest="orphans_cmd", required=True, parser_class=_Parser)
    sp = add("list", cmd_orphans_list, "列出待处理的孤立记录", parent=orphans)
    sp.add_argument("--all", action="store_true", help="也列出已处理的")
    sp = add("accept", cmd_orphans_resolve, "接受为作者的正式记录（如分工期间完成的家访）", parent=orphans)
    sp.add_argument("orphan", help="孤立记录 ID（或至少 8 位的前缀）")
    sp.add_argument("--reason", default="")
    sp.set_defaults(action="accept")
    sp = add("handover", cmd_orphans_resolve, "转交给现任老师（如未完成的草稿）", parent=orphans)
    sp.add_argument("orphan", help="孤立记录 ID（或至少 8 位的前缀）")
    sp.add_argument("--to", help="接收的教职工 ID 或姓名（默认：该学生现在唯一的负责老师）")
    sp.add_argument("--reason", default="")
    sp.set_defaults(action="handover")
    sp = add("discard", cmd_orphans_resolve, "丢弃（必须说明原因；内容仍保留）", parent=orphans)
    sp.add_argument("orphan", help="孤立记录 ID（或至少 8 位的前缀）")
    sp.add_argument("--reason", required=True)
    sp.set_defaults(action="discard")

    sp = add("assign", cmd_assign, "分配家访教师或育人导师")
    sp.add_argument("role", choices=["visitor", "mentor"])
    sp.add_argument("staff", help="教职工 ID 或姓名")
    sp.add_argument("student", help="学生 ID 或学号")
    sp.add_argument("--term", default="", help="学期，如 2026-2027-1")
    sp.add_argument("--end", action="store_true", help="结束这项分工（下次同步时教师的笔记本会清除该学生的数据）")

    roster = sub.add_parser("roster", help="名册").add_subparsers(dest="roster_cmd", required=True,
                                                                parser_class=_Parser)
    sp = add("import", cmd_roster_import, "从 xlsx 或 csv 导入全校名册（文件中没有的学生标为不在名册）", parent=roster)
    sp.add_argument("file")
    sp.add_argument("--force", action="store_true", help="超过一半的学生将不在名册时也导入")

    sp = add("backup", cmd_backup, "备份数据库到文件")
    sp.add_argument("file")

    sp = add("restore", cmd_restore, "从备份文件恢复数据库（先停止 serve）")
    sp.add_argument("file")
    sp.add_argument("--force", action="store_true", help="目标数据库中已有数据时也覆盖")

    sp = add("demo-school", cmd_demo_school, "生成确定性的演示学校")
    sp.add_argument("--students", type=int, required=True)
    sp.add_argument("--teachers", type=int, required=True)
    sp.add_argument("--seed", type=int, default=2024)
    sp.add_argument("--url", help="覆盖注册码中的服务器地址")

    audit = sub.add_parser("audit", help="审计：核验哈希链、查看操作记录").add_subparsers(
        dest="audit_cmd", required=True, parser_class=_Parser)
    add("verify", cmd_audit_verify, "核验服务器和各设备的审计链及设备签名；完整且无伪造时退出码 0，否则 1 并指出第一条断开、伪造或到达时被标记的记录", parent=audit)
    sp = add("show", cmd_audit_show, "列出审计记录", parent=audit)
    sp.add_argument("--student", help="只看关于这名学生的记录（学生 ID 或学号）")
    sp.add_argument("--staff", help="只看这位教职工的操作（ID 或姓名）")
    sp.add_argument("--since", help="从这一天起，如 2026-09-01")

    sp = add("compact", cmd_compact, "清理旧的删除标记并提高同步水位线")
    sp.add_argument("--older-than-days", type=float, default=90)

    from sync_server.platform.cli import register as register_platform
    register_platform(sub, _Parser)  # visitapp-server platform ...
    from sync_server.retention import register as register_retention
    register_retention(sub, _Parser)  # visitapp-server retention ...
    from sync_server.resealing import register as register_sealing
    register_sealing(sub, _Parser)  # visitapp-server sealing status
    from sync_server.district import register as register_district
    register_district(sub, _Parser)  # visitapp-server district ...
    return p


def main(argv: list[str] | None = None) -> int:
    """``visitapp-server``; output piped into ``head`` (which stops reading) ends it quietly,
    as a command killed by SIGPIPE does (exit status 141), without a traceback."""
    import os
    try:
        code = _main(argv)
        sys.stdout.flush()  # a write still buffered fails here, not at interpreter exit
        return code
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # so the interpreter's last flush cannot fail
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141


def _main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed as one line)
        return int(exc.code or 0)
    try:
        rc = args.func(args)  # a command that answers a question (audit verify) returns its exit code
        return rc if isinstance(rc, int) else 0
    except ServerError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("错误：已中断。", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:
        raise  # the reader of our output went away: not an error to report
    except Exception as exc:  # noqa: BLE001 - a reason, never a traceback
        from sqlalchemy.exc import SQLAlchemyError
        if isinstance(exc, SQLAlchemyError):
            first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
            print(f"错误：数据库操作失败：{first}", file=sys.stderr)
        else:
            print(f"错误：{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else '未知错误'}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
