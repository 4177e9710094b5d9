"""The school sync server (DESIGN.md §4): FastAPI over SQLAlchemy, with an admin CLI.

It reads tier A (routing) and tier B (facts, encrypted at rest with the server key) and keeps
tier C (``sealed``) as opaque bytes it never parses.
"""
