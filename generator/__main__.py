"""``python -m generator``: the same as the ``microsite`` command."""

import sys

from .cli import main

sys.exit(main())
