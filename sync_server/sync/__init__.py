"""The sync protocol's server side (DESIGN.md §4), one module per job, as pure functions over
:class:`~sync_server.core.ServerCore` (``sync_server.api`` maps them to HTTP):

- :mod:`.enroll` — a one-time code becomes a device token; every call is authenticated;
- :mod:`.push` — the door, the server's authority on routing and times, one policy per kind;
- :mod:`.conflicts` — made, listed and resolved;
- :mod:`.pull` — what a device may see, paged, from the cache of committed changes; meta;
- :mod:`.compaction` — old deleted drafts forgotten, the tombstone horizon raised;
- :mod:`.context` — what the jobs of a push share.
"""

from sync_server.sync.compaction import compact
from sync_server.sync.conflicts import list_conflicts, resolve
from sync_server.sync.context import DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, ApiError
from sync_server.sync.enroll import authenticate, enroll, token_hash_of
from sync_server.sync.pull import meta, pull, pull_authenticated
from sync_server.sync.push import push

__all__ = ["DEFAULT_PULL_LIMIT", "MAX_PULL_LIMIT", "ApiError", "authenticate", "compact", "enroll", "list_conflicts",
           "meta", "pull", "pull_authenticated", "push", "resolve", "token_hash_of"]
