"""The one place the platform connector is put together on the school server, for the officer's
commands (``visitapp-server platform ...``) and for the officer's endpoints (``/v1/platform``).

The server's settings say where the platform is (``platform_url``, or ``VISITAPP_PLATFORM_URL``),
the school's code there and its district; the key is ``platform.key`` in the data directory.
:func:`platform_setup` reads them and names what is missing in one sentence; :func:`connector`
builds the connector over the server's records, with an HTTP transport only when asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_server.core import ServerCore
from sync_server.platform.connector import PlatformConnector
from sync_server.platform.errors import PlatformError
from sync_server.platform.http import HttpTransport
from sync_server.platform.server_port import ServerSchoolData, load_platform_key


class PlatformNotConfigured(PlatformError):
    """The server lacks the platform's address, or the school's code and key there."""


@dataclass(frozen=True)
class PlatformSetup:
    url: str
    school_code: str
    district: str
    key: bytes | None

    @property
    def problem(self) -> str:
        """What is missing before the server can talk to the platform ("" when nothing is)."""
        if not self.url:
            return ("服务器尚未配置市平台地址：请在学校服务器上运行 visitapp-server platform configure --url URL"
                    "（或设置环境变量 VISITAPP_PLATFORM_URL）；手工交换请用 export-file / import-file。")
        if not self.school_code or self.key is None:
            return ("服务器尚未配置平台学校代码和密钥：请在学校服务器上运行 "
                    "visitapp-server platform configure --school-code CODE --key-file FILE。")
        return ""


def platform_setup(core: ServerCore, url: str | None = None) -> PlatformSetup:
    """The platform settings of this server; ``url`` (a command's ``--url``) overrides the saved one."""
    settings = core.paths.settings()
    return PlatformSetup(url=url or settings.platform_url, school_code=settings.platform_school_code,
                         district=settings.platform_district, key=load_platform_key(core.paths))


def connector(core: ServerCore, setup: PlatformSetup, *, actor: str, need_platform: bool,
              attempts: int | None = None, timeout: tuple[float, float] | None = None) -> PlatformConnector:
    """The connector over this server's records. With ``need_platform`` it gets an HTTP transport
    (``attempts`` tries, ``timeout`` connect/read seconds), or :class:`PlatformNotConfigured` is
    raised naming what is missing; without, it exchanges files and reports only."""
    transport = None
    if need_platform:
        if setup.problem:
            raise PlatformNotConfigured(setup.problem)
        options: dict = {}
        if attempts is not None:
            options["attempts"] = attempts
        if timeout is not None:
            options["timeout"] = timeout
        transport = HttpTransport(setup.url, setup.school_code, setup.key, **options)  # type: ignore[arg-type]
    return PlatformConnector(ServerSchoolData(core, district=setup.district), transport, actor=actor)
