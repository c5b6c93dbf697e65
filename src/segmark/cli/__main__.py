"""``python -m segmark.cli``: the same as the ``segmark`` command."""

from segmark.cli import run

run()
