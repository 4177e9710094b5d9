"""Where ``visitapp-server serve`` and the tests find the application: :mod:`sync_server.api`."""

from sync_server.api import DEFAULT_MAX_BODY, create_app

__all__ = ["DEFAULT_MAX_BODY", "create_app"]
