"""The school sync server (FastAPI): enrollment, push/pull sync, conflicts, admin CLI."""
