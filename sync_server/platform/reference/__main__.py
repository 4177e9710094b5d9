"""``python -m sync_server.platform.reference``: serve the reference platform."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sync_server.platform.reference",
                                description="参考市阳光资助平台（演示与测试用）")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8600)
    p.add_argument("--db", help="SQLite 文件（默认临时目录中的 reference-platform.db）")
    p.add_argument("--students", type=int, default=60, help="每所演示学校的学生数（首次创建数据库时）")
    p.add_argument("--item-delay", type=float, default=0.0, help="测试用：每条上报之间暂停的秒数")
    p.add_argument("--kill-after-commit", action="store_true",
                   help="测试用：提交第一批上报后立即以 SIGKILL 退出（应答丢失）")
    p.add_argument("--openapi", action="store_true", help="只打印接口的 OpenAPI 文档（JSON）后退出")
    p.add_argument("--mirror-demo-school", metavar="CODE",
                   help="演示用：再加一所与 visitapp-server demo-school 相同的学校（代码 CODE），名册略有变化")
    p.add_argument("--mirror-seed", type=int, default=2024)
    p.add_argument("--mirror-students", type=int, default=120)
    p.add_argument("--mirror-teachers", type=int, default=4)
    args = p.parse_args(argv)
    if args.openapi:
        import json

        from sync_server.platform.reference.app import create_app
        print(json.dumps(create_app(None).openapi(), ensure_ascii=False, indent=2))  # type: ignore[arg-type]
        return 0
    if not 1 <= args.students <= 100_000:
        print("错误：--students 应在 1–100000 之间。", file=sys.stderr)
        return 2

    import uvicorn

    from sync_server.platform.reference.app import create_app
    from sync_server.platform.reference.store import Store

    db = Path(args.db) if args.db else Path(tempfile.gettempdir()) / "reference-platform.db"
    store = Store(db, item_delay=args.item_delay, kill_after_commit=args.kill_after_commit)
    store.seed_demo(args.students)
    if args.mirror_demo_school:
        import datetime as dt
        store.mirror_demo_school(args.mirror_demo_school, args.mirror_seed, args.mirror_students,
                                 args.mirror_teachers, dt.date.today())
    print(f"reference platform ready on http://{args.host}:{args.port} (db {db})", flush=True)
    uvicorn.run(create_app(store), host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
