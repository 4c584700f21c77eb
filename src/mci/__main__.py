"""``python -m mci``: the same as the ``mci`` command."""

from mci.cli import main

main()
