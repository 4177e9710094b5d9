"""The wire: every message the laptop and the school server exchange, defined once and
imported by both sides (the server generates its OpenAPI document from these models).

- :mod:`~visitapp.protocol.sync` — enrollment, meta, push, pull, conflicts (``/v1/...``)
- :mod:`~visitapp.protocol.records` — one record's three parts read against its kind's typed
  schema, and the encoding of its tier C part
- :mod:`~visitapp.protocol.platform` — the officer's platform exchange (``/v1/platform/...``)
- :mod:`~visitapp.protocol.orphans` — orphaned work and device retirement
- :mod:`~visitapp.protocol.keys` — the officer's signed epoch list (``/v1/keys/epochs``)
- :mod:`~visitapp.protocol.hlc` — the hybrid logical clock both sides order changes by

Every request and response is a frozen pydantic model: a message once read is not edited.

"sealed" on the wire is only the name of a record's tier C part (``Mutation.sealed``,
``Change.sealed``): base64 of a JSON object, opaque to the server. It is encoded by
:func:`~visitapp.protocol.records.encode_tier_c` and read by
:func:`~visitapp.protocol.records.decode_tier_c`; nothing here encrypts. Encryption at rest
is :mod:`visitapp.crypto`'s job (its "seal" is an AES-GCM envelope).

Nothing here does I/O: no HTTP client, no database. The client's transport is
:mod:`visitapp.services.transport`.
"""
