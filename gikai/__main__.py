"""``python -m gikai``: the same as the ``gikai`` command."""

import sys

from gikai.signaling.cli.main import main

sys.exit(main())
