"""``python -m gzmorph``: the same as the ``gzmorph`` command."""
from gzmorph.cli import main

main()
