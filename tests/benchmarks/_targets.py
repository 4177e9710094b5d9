"""The app's internals the issue-16 benchmarks reach, imported in this one place.

Everything else in ``realistic.py`` / ``issue16.py`` talks to the server over HTTP and to the
client through its public entry points (``create_profile`` → ``ws.sync``). When a module
moves (as when ``visitapp/sync/*`` became ``visitapp/protocol/`` and ``sync_server/sync.py``
became ``sync_server/sync/``), this file is the one to fix.
"""

from __future__ import annotations

from sync_server.config import ServerPaths  # noqa: F401 - re-exported
from sync_server.core import ServerCore  # noqa: F401 - seeding through the server's own write path
from sync_server.models import AssignmentRow, Record  # noqa: F401 - scope lookup, raw-insert copy
from visitapp.crypto import FAST_TEST_KDF  # noqa: F401 - laptop profiles without a slow KDF
from visitapp.domain import profile_field_id  # noqa: F401 - UUIDv5(student, field)
from visitapp.services import create_profile  # noqa: F401 - the client's public entry point
from visitapp.protocol.sync import Mutation  # noqa: F401 - validating seeded mutations
