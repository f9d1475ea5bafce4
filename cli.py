"""Run sapbridge from a checkout: ``python cli.py ...`` is the same as ``sapbridge ...``."""

from sapbridge.cli import main

if __name__ == "__main__":
    main()
