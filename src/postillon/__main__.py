"""``python -m postillon``: the same as the ``postillon`` command."""

from postillon.cli import main

main()
