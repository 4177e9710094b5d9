"""The connector to the city aid platform (市阳光资助平台), DESIGN.md §5.

Layers, from the inside out:

- :mod:`.model`: the platform's records (roster rows, aid records, upload items, statistics
  cells) as frozen dataclasses, and the **allow-list** of what may ever leave the school.
- :mod:`.port`: the ``SchoolData`` port the school server implements (and an in-memory one).
- :mod:`.roster`, :mod:`.aid`, :mod:`.outbound`: pure functions from plain data to plain data.
- :mod:`.signing`, :mod:`.http`, :mod:`.files`: the two transports (signed HTTP JSON, and
  xlsx/csv files in documented templates).
- :mod:`.connector`: pull, push, reconcile, with every exchange audited.
- :mod:`.reconcile`, :mod:`.notice`, :mod:`.quality`: the officer's reports.
- :mod:`.reference`: a reference platform (FastAPI + SQLite) for demos, tests and integrators.
"""

from sync_server.platform.errors import PlatformError  # noqa: F401
