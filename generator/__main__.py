"""``python -m generator``: the same as the ``microsite`` command."""

from .cli import run

run()
