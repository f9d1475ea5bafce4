"""``python -m sapbridge.airflow pools JOBS_DIR``: the jobs' pools as JSON for ``airflow pools import``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sapbridge.airflow.adapter import pool_table
from sapbridge.config import load_settings
from sapbridge.errors import SapBridgeError
from sapbridge.jobs.definition import load_jobs

USAGE = "usage: python -m sapbridge.airflow pools JOBS_DIR"


def main(argv: list[str]) -> int:
    """Print the pool table; one line on stderr and exit 1 on a bad jobs folder or config."""
    if len(argv) != 2 or argv[0] != "pools":
        print(USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings()
        table = pool_table(settings, load_jobs(Path(argv[1]), settings))
    except SapBridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(table, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
