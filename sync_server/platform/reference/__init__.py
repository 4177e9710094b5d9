"""A reference city aid platform: FastAPI + its own SQLite, a deterministic demo roster for a
few schools, signature and idempotent-batch checks. For demos, end-to-end tests, and as an
executable specification of the interface for a city's integrator.

Run: ``python -m sync_server.platform.reference [--port 8600] [--db FILE]``.
"""
