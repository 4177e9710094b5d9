"""A district: several schools served by one deployment, on one PostgreSQL database.

Each school stays the server it has always been: its own data directory (its at-rest key, its
settings, its serve lock), its own staff, roster, devices, audit chain and ``server_seq``. What
the district adds is where they live and who serves them:

- ``DIR/district.json`` names the district's public address, its database and its schools;
  ``DIR/tls/`` holds the one certificate of the one port (every school's ``tls_dir`` setting
  names it, so each school's enrollment codes pin it).
- A school's data directory is ``DIR/schools/<slug>``. On PostgreSQL its tables live in a
  schema of their own, ``school_<slug>``, of the district's database (the school's ``db_url``
  sets ``search_path`` to it); on SQLite each school has its own ``server.db``.
- ``district serve`` mounts each school's application (:func:`sync_server.api.create_app`)
  under ``/schools/<slug>``: a school's laptops talk to ``https://host:port/schools/<slug>``,
  the address in their enrollment codes. ``--workers N`` runs N processes on the port, each
  serving every school.

Why a schema per school and not a school column on every table: the school's counter row, the
audit chain's end and the key tables are per school by construction, so pushes of different
schools never wait on each other's locks (one counter row per school, not per district), no
query can forget its school filter and show one school's families to another's laptop, and a
school can be backed up, restored or moved out as it is today. The cost: a migration runs once
per school (``district serve`` migrates each at start), and each school holds its own small
connection pool. See docs/decisions/district-a-schema-per-school.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sync_server.config import ServerError, ServerPaths

DISTRICT_FORMAT = "visitapp-district"
DISTRICT_VERSION = 1
SLUG = re.compile(r"[a-z][a-z0-9-]{0,29}")
MOUNT = "/schools/"
# a school's connections per process (2 for writes, 1 for reads, more only at a burst): a
# process serves every school, and its requests at once are few (create_app's ``workers``)
DISTRICT_POOL = 2
# what ``district serve --workers N`` hands its spawned worker processes
WORKER_ENV = ("VISITAPP_SERVE_DISTRICT", "VISITAPP_SERVE_MAX_BODY")


def check_slug(slug: str) -> str:
    if not SLUG.fullmatch(slug or ""):
        raise ServerError(f"学校代号“{slug}”无效：应以小写字母开头，只含小写字母、数字和连字符，最多 30 个字符"
                          "（它出现在网址 /schools/<代号> 中）。")
    return slug


def _refuse_environment_database() -> None:
    from sync_server.config import Settings

    name = Settings.env_name("db_url")
    if os.environ.get(name):  # it would win over every school's own database
        raise ServerError(f"学区的命令不能在设置了环境变量 {name} 时运行：它会让每所学校都用同一个数据库。")


def pg_schema(slug: str) -> str:
    """The PostgreSQL schema of one school (a slug's ``-`` is not an identifier character)."""
    return "school_" + check_slug(slug).replace("-", "_")


@dataclass(frozen=True)
class District:
    root: Path

    @classmethod
    def resolve(cls, directory: str) -> District:
        return cls(Path(directory).expanduser().resolve())

    @property
    def file(self) -> Path:
        return self.root / "district.json"

    @property
    def tls(self) -> ServerPaths:
        """The district's certificate (``DIR/tls``), through the same paths a school uses."""
        return ServerPaths(self.root)

    def school_paths(self, slug: str) -> ServerPaths:
        return ServerPaths(self.root / "schools" / check_slug(slug))

    # -- district.json ---------------------------------------------------------------------
    def read(self) -> dict:
        try:
            doc = json.loads(self.file.read_text())
        except FileNotFoundError:
            raise ServerError(f"{self.root} 不是学区目录（没有 district.json），请先运行 visitapp-server district init。") from None
        except (OSError, ValueError) as exc:
            raise ServerError(f"学区文件 {self.file} 无法读取：{exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != DISTRICT_FORMAT:
            raise ServerError(f"{self.file} 不是学区文件。")
        if doc.get("version", 0) > DISTRICT_VERSION:
            raise ServerError(f"学区文件 {self.file} 由更新版本的服务器写入，请升级服务器。")
        return doc

    def _write(self, doc: dict) -> None:
        from visitapp.crypto.private import private_dir, write_private

        private_dir(self.root)
        tmp = self.file.with_suffix(".tmp")
        write_private(tmp, json.dumps(doc, ensure_ascii=False, indent=2))  # may hold a database password
        os.replace(tmp, self.file)

    def schools(self) -> list[str]:
        return list(self.read()["schools"])

    # -- use cases -------------------------------------------------------------------------
    def create(self, public_url: str, db_url: str, cert_pem: bytes, key_pem: bytes) -> dict:
        """A new district: ``district.json`` and the certificate. No school yet."""
        from sync_server.config import Settings
        from sync_server.db import make_engine

        if self.file.exists():
            raise ServerError(f"{self.root} 已经是学区目录，不能重复初始化。")
        Settings.load({"public_url": public_url, "db_url": db_url}, self.file)  # a bad --url or --db stops here
        if db_url:
            make_engine(db_url).dispose()  # a database URL SQLAlchemy cannot read stops here too
        doc = {"format": DISTRICT_FORMAT, "version": DISTRICT_VERSION, "public_url": public_url.rstrip("/"),
               "db_url": db_url, "schools": []}
        self.tls.write_cert(cert_pem, key_pem)
        self._write(doc)
        os.chmod(self.root, 0o700)
        return doc

    def school_db_url(self, doc: dict, slug: str) -> str:
        """The school's database: its own schema of the district's PostgreSQL database, or its
        own SQLite file (empty: ``server.db`` in its data directory)."""
        from sqlalchemy.engine import make_url

        url = doc["db_url"]
        if not url or make_url(url).get_backend_name() == "sqlite":
            return ""
        parsed = make_url(url)
        if "options" in parsed.query:
            raise ServerError("学区的数据库地址不能自带 options 参数（每所学校的 search_path 由学区设置）。")
        return parsed.update_query_dict({"options": f"-csearch_path={pg_schema(slug)}"}).render_as_string(
            hide_password=False)

    def add_school(self, slug: str, school_name: str, officer_name: str):  # noqa: ANN201 - (id, StaffInfo, paths)
        """A new school of the district: its schema (PostgreSQL), its data directory, its key,
        its settings (address ``<district>/schools/<slug>``, the district's certificate) and
        its first officer, as ``init`` makes a lone school's."""
        from sqlalchemy import text

        from sync_server.cli import create_school
        from sync_server.db import make_engine

        doc = self.read()
        check_slug(slug)
        _refuse_environment_database()
        if slug in doc["schools"]:
            raise ServerError(f"学区中已有代号为“{slug}”的学校。")
        paths = self.school_paths(slug)
        if paths.key_file.exists():
            raise ServerError(f"{paths.data_dir} 中已有服务器（密钥文件已存在），不能重复初始化。")
        db_url = self.school_db_url(doc, slug)
        changes = {"public_url": f"{doc['public_url']}{MOUNT}{slug}", "tls_dir": str(self.tls.tls_dir),
                   "db_pool_size": DISTRICT_POOL,
                   **({"db_url": db_url} if db_url else {})}
        paths.check_settings(**changes)
        from visitapp.crypto.private import private_dir
        private_dir(paths.data_dir.parent)  # DIR/schools: owner only, as each school's own folder
        if db_url:
            admin = make_engine(doc["db_url"])
            try:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{pg_schema(slug)}"'))
            finally:
                admin.dispose()
        school_id, officer, _settings = create_school(paths, db_url or paths.db_url(), changes, school_name,
                                                      officer_name)
        doc["schools"].append(slug)
        self._write(doc)
        return school_id, officer, paths

    def servable(self) -> list[str]:
        """The schools to serve; a :class:`ServerError` if there is none, or if the environment
        would give all of them one database."""
        slugs = self.schools()
        _refuse_environment_database()
        if not slugs:
            raise ServerError(f"学区 {self.root} 还没有学校，请先运行 visitapp-server district add。")
        return slugs

    def open_cores(self, run_migrations: bool = True) -> dict:
        """Every school's :class:`ServerCore`, by slug (each migrated unless told not to)."""
        from sync_server.core import ServerCore

        slugs = self.servable()
        cores: dict = {}
        try:
            for slug in slugs:
                cores[slug] = ServerCore.open(self.school_paths(slug), run_migrations=run_migrations)
        except BaseException:
            for core in cores.values():
                core.close()
            raise
        return cores


def create_district_app(cores: dict, max_body: int, workers: int = 4):  # noqa: ANN201 - a Starlette app
    """Each school's application under ``/schools/<slug>``; any other path is the server's
    usual JSON 404. ``workers``: requests handled at once in this process, all schools
    together (as :func:`create_app`'s)."""
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Mount

    from sync_server.api import create_app
    from sync_server.api.errors import error_response

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        # the mounted schools' own lifespans do not run under a Mount: set their one setting here
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        yield

    async def not_found(_request: Request, _exc):  # noqa: ANN202
        return error_response(404, "not_found", "server.not_found.school")

    routes = [Mount(MOUNT + slug, app=create_app(core, max_body=max_body))
              for slug, core in cores.items()]
    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found})


def district_worker_app():  # noqa: ANN201
    """The application of one worker process of ``district serve --workers N`` (uvicorn's
    factory, in a spawned process): the parent migrated every school before starting it."""
    from sync_server.app import tune_gc
    from sync_server.logs import setup_logging

    setup_logging()
    directory, max_body = (os.environ.get(name) for name in WORKER_ENV)
    app = create_district_app(District.resolve(directory or ".").open_cores(run_migrations=False), int(max_body))
    tune_gc()
    return app


# -- the command line ----------------------------------------------------------------------
def cmd_init(args) -> None:
    from sync_server.cli import _emit, _lan_ip, self_signed_cert

    district = District.resolve(args.dir)
    lan = _lan_ip()
    doc = district.create(args.url or f"https://{lan or '127.0.0.1'}:8443", args.db or "",
                          *self_signed_cert(args, lan, "visitapp district"))
    fingerprint = district.tls.fingerprint()
    _emit(args, {"dir": str(district.root), "public_url": doc["public_url"], "fingerprint": fingerprint},
          f"已创建学区目录 {district.root}。\n证书指纹（SHA-256）：{fingerprint}\n"
          f"各校地址：{doc['public_url']}{MOUNT}<学校代号>；用 visitapp-server district add 添加学校。")


def cmd_add(args) -> None:
    from sync_server.cli import _emit

    district = District.resolve(args.dir)
    school_id, officer, paths = district.add_school(args.slug, args.school, args.officer)
    settings = paths.settings()
    _emit(args, {"slug": args.slug, "school_id": school_id, "officer": {"id": officer.id, "name": officer.name},
                 "data_dir": str(paths.data_dir), "public_url": settings.public_url,
                 "fingerprint": paths.fingerprint()},
          f"已添加学校“{args.school}”（代号 {args.slug}，{school_id}），资助专干：{officer.name}。\n"
          f"地址：{settings.public_url}\n"
          f"管理这所学校时用它的数据目录，如：visitapp-server --data-dir {paths.data_dir} enroll-code {officer.name}")


def cmd_list(args) -> None:
    from sync_server.cli import _emit

    district = District.resolve(args.dir)
    doc = district.read()
    schools = []
    for slug in doc["schools"]:
        paths = district.school_paths(slug)
        schools.append({"slug": slug, "data_dir": str(paths.data_dir), "public_url": paths.settings().public_url})
    _emit(args, {"dir": str(district.root), "public_url": doc["public_url"], "schools": schools},
          "\n".join(f"{s['slug']}  {s['public_url']}  {s['data_dir']}" for s in schools) or "（学区中还没有学校）")


def cmd_serve(args) -> None:
    from sync_server.cli import _check_listen, serve_uvicorn
    from sync_server.logs import setup_logging

    _check_listen(args.host, args.tls)
    if args.workers < 1:
        raise ServerError("--workers 至少为 1。")
    district = District.resolve(args.dir)
    district.servable()  # refusals first, before the log goes to stderr
    if args.tls:
        district.tls.fingerprint()  # a clear message if the certificate is missing
    setup_logging()
    cores = district.open_cores()  # migrates every school, once, before any worker starts
    max_body = args.max_body_mb * 1024 * 1024
    data_dirs = [core.paths for core in cores.values()]
    if args.workers > 1:
        for core in cores.values():
            core.close()
        serve_uvicorn(args, "sync_server.district:district_worker_app", dict(zip(WORKER_ENV, (str(district.root),
                      str(max_body)))), district.tls, data_dirs, close=lambda: None)
    else:
        def close() -> None:
            for core in cores.values():
                core.close()
        serve_uvicorn(args, create_district_app(cores, max_body), {}, district.tls, data_dirs, close=close)


def register(sub, parser_class) -> None:  # noqa: ANN001 - argparse's subparsers and our parser class
    """``visitapp-server district init | add | list | serve``."""
    from sync_server.cli import serve_arguments

    district = sub.add_parser("district", help="学区：一个部署服务多所学校（PostgreSQL 上每校一个 schema）")
    commands = district.add_subparsers(dest="district_cmd", required=True, parser_class=parser_class)

    def add(name, func, help_text, json_flag=True):
        sp = commands.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        sp.add_argument("dir", help="学区目录（district.json、证书和各校的数据目录）")
        if json_flag:
            sp.add_argument("--json", action="store_true", help="输出一个 JSON 文档")
        return sp

    sp = add("init", cmd_init, "新建学区目录：地址、数据库和证书")
    sp.add_argument("--url", help="学区的公开地址，如 https://edu-sync.example.cn:8443（各校在其下的 /schools/<代号>）")
    sp.add_argument("--db", help="学区的 PostgreSQL 数据库地址（每所学校一个 schema）；不给则每校一个 SQLite 文件")
    sp.add_argument("--hostname", action="append", help="证书中额外的主机名（可重复）")
    sp.add_argument("--ip", action="append", help="证书中额外的 IP 地址（可重复）")

    sp = add("add", cmd_add, "在学区中新建一所学校：它的 schema、数据目录、密钥和第一位资助专干")
    sp.add_argument("slug", help="学校代号（小写字母、数字、连字符），出现在地址 /schools/<代号> 中")
    sp.add_argument("--school", required=True, help="学校名称")
    sp.add_argument("--officer", required=True, help="第一位资助专干的姓名")

    add("list", cmd_list, "列出学区中的学校")

    serve_arguments(add("serve", cmd_serve, "在一个端口上为学区的所有学校启动同步服务", json_flag=False),
                    "进程数（默认 1）：多个进程共用一个端口，每个都服务所有学校")
