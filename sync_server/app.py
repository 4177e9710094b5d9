"""Where ``visitapp-server serve`` and the tests find the application: :mod:`sync_server.api`;
and the application of one worker process of ``serve --workers N`` (:func:`worker_app`)."""

from __future__ import annotations

import gc
import os

from sync_server.api import DEFAULT_MAX_BODY, create_app

__all__ = ["DEFAULT_MAX_BODY", "create_app", "tune_gc", "worker_app", "WORKER_ENV"]

# what the parent ``serve`` hands its worker processes (they are spawned, not forked)
WORKER_ENV = ("VISITAPP_SERVE_DATA_DIR", "VISITAPP_SERVE_DB", "VISITAPP_SERVE_MAX_BODY")


def tune_gc() -> None:
    """A push or a pull page makes tens of thousands of short-lived objects: collect the young
    generation less often (about 15% of a push went to the collector) and never rescan what
    start-up loaded."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def worker_app():
    """The application of one worker process (uvicorn's factory, in a spawned process).

    The parent ran the migrations before starting any worker, so a worker only opens the
    database (:meth:`ServerCore.open` with ``run_migrations=False``: N processes never migrate
    at once, and a schema not at the code's head is refused). Each worker has its own pull
    cache; an entry is the JSON of one committed ``server_seq``, and a seq names one version of
    one record for good (every write takes a new one), so a worker's cache cannot hold a stale
    version of what another worker wrote: a pull reads the page's seqs from the database and
    only their text from the cache."""
    from sync_server.config import ServerPaths
    from sync_server.core import ServerCore
    from sync_server.logs import setup_logging

    setup_logging()
    data_dir, db, max_body = (os.environ.get(name) for name in WORKER_ENV)
    core = ServerCore.open(ServerPaths.resolve(data_dir), db or None, run_migrations=False)
    core.school()
    app = create_app(core, max_body=int(max_body or DEFAULT_MAX_BODY))
    tune_gc()
    return app
