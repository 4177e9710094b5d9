"""``python -m sync_server`` is the same as the ``visitapp-server`` script."""

import sys

from sync_server.cli import main

sys.exit(main())
