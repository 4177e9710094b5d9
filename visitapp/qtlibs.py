"""The system libraries Qt needs on Linux, checked before Qt loads (docs/install.md).

A minimal Linux (a server image, a fresh Debian) lacks some of them, and Qt then aborts with an
English message about the "xcb" platform plugin. :func:`missing_packages` names the Debian
packages to install instead, so the command can say it in one Chinese sentence.
Qt-free: the check only tries to open each library by its soname.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

# soname → Debian/Ubuntu package. Qt's widgets need these on every platform plugin …
CORE_LIBRARIES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11.so.6": "libx11-6",
}
# … and the window on an X11 (or XWayland) desktop, Qt's "xcb" plugin, these.
XCB_LIBRARIES = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def platform_plugin(environ: dict | None = None) -> str:
    """The platform plugin Qt will choose: ``QT_QPA_PLATFORM`` (its first entry), else
    ``wayland`` in a Wayland session that has no X display, else ``xcb``."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    if env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY"):
        return "wayland"
    return "xcb"


def missing_packages(environ: dict | None = None, loads: Callable[[str], bool] | None = None) -> list[str]:
    """The Debian packages of the libraries Qt will need here and cannot find (Linux only)."""
    if not sys.platform.startswith("linux"):
        return []
    loads = loads or _loads
    wanted = dict(CORE_LIBRARIES)
    if platform_plugin(environ) == "xcb":
        wanted.update(XCB_LIBRARIES)
    return sorted({package for soname, package in wanted.items() if not loads(soname)})


def missing_message(packages: list[str]) -> str:
    """One Chinese sentence: what is missing and the command that installs it."""
    return (f"无法打开窗口：缺少图形界面所需的系统库 {'、'.join(packages)}；"
            f"请先安装（Debian/Ubuntu：sudo apt-get install {' '.join(packages)}，详见 docs/install.md）。")
