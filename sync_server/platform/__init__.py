"""The connector to the city aid platform (市阳光资助平台), docs/architecture.md.

Layers, from the inside out:

- :mod:`.model`: the platform's records (roster rows, aid records, upload items, statistics
  cells) as frozen dataclasses, and the **allow-list** of what may ever leave the school.
- :mod:`.wire`: the messages exchanged with the platform, as pydantic models (one definition
  each, served by the reference platform and read by the HTTP transport).
- :mod:`.port`: the ``SchoolData`` port the school server implements (and an in-memory one).
- :mod:`.inbound`, :mod:`.outbound`: pure functions from plain data to plain data (the roster
  and aid history down, with the one identity rule of every roster import; the upload up).
- :mod:`.signing`, :mod:`.http`, :mod:`.files`: the two transports (signed HTTP JSON, and
  xlsx/csv files in documented templates); :mod:`.spreadsheet` reads and writes every
  spreadsheet the server handles.
- :mod:`.connector`: pull, push, reconcile, with every exchange audited.
- :mod:`.reconcile`, :mod:`.notice`, :mod:`.quality`: the officer's reports.
- :mod:`.server_port`, :mod:`.assembly`: the port over the school server's records, and the
  one place the connector is put together for the commands (:mod:`.cli`) and endpoints (:mod:`.api`).
- :mod:`.reference`: a reference platform (FastAPI + SQLite) for demos, tests and integrators.
"""

from sync_server.platform.errors import PlatformError  # noqa: F401
