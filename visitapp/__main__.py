"""``python -m visitapp``: the same as the ``visitapp`` command."""

import sys

from visitapp.cli import main

sys.exit(main())
