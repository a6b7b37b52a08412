"""``python -m api`` runs the ``callscope`` command line."""

from api.cli import main

main()
