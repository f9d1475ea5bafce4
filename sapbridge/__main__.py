"""``python -m sapbridge`` runs the CLI."""

from sapbridge.cli import main

main()
