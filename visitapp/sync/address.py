"""Where the school server is and how long to wait for it: the settings that sync and the
Settings screen share (one key each), with nothing heavy to import."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlparse

# the one key of the server address: written at enrollment, edited in the Settings screen,
# read by every sync (``server_url_v1`` is where versions before it kept the address)
SERVER_URL_KEY = "server_url"
LEGACY_SERVER_URL_KEY = "server_url_v1"

# a school LAN answers in milliseconds: a connection not made in 5 s is not coming, and a
# push or pull page the server has not answered in 20 s is stuck (profile settings of those names)
CONNECT_TIMEOUT_KEY, CONNECT_TIMEOUT = "sync_connect_timeout", 5.0
READ_TIMEOUT_KEY, READ_TIMEOUT = "sync_read_timeout", 20.0


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine (the only place plain HTTP is allowed)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
