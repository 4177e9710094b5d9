"""Alembic revisions of the profile database (a package, so the wheel carries them)."""
