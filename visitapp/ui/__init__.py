"""The desktop client's screens: the only package that imports PySide6 (DESIGN.md §7).

Widgets never touch storage: they call the services through :mod:`visitapp.ui.tasks` (one
worker thread, so SQLite writes are serialized) and receive plain frozen data.
"""
