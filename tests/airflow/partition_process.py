"""One partition sync in its own process, through the Airflow adapter (not collected by pytest).

The sync's row source waits at a gate: the process writes ``<marks>/<label>.ready`` once it holds
the partition's lease and is inside its sync transaction, then reads no row until the file
``<marks>/go`` exists (at most 10 minutes). Prints the partition's counts as JSON.

Usage: python partition_process.py STORE_URL JOB_FILE OBJECT COMPANY_CODE MARKS_DIR
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sapbridge.airflow.adapter import open_job_store, sync_partition
from sapbridge.config import load_settings
from sapbridge.errors import SapBridgeError
from sapbridge.jobs.definition import load_job
from sapbridge.sync import service
from sapbridge.sync.partitions import Partition


class GatedSource:
    """A row source that first announces itself, then waits for the gate to open."""

    def __init__(self, inner, ready: Path, gate: Path) -> None:
        self.inner, self.ready, self.gate = inner, ready, gate

    def batches(self, partition, since, progress=None):
        self.ready.write_text("ready", encoding="utf-8")
        deadline = time.monotonic() + 600
        while not self.gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield from self.inner.batches(partition, since, progress)


def main(store_url: str, job_file: str, object_name: str, company_code: str, marks: Path) -> int:
    partition = Partition("demo", object_name, company_code)
    ready = marks / f"{partition.label.replace('/', '_')}.ready"
    original = service.Clients.source

    def gated(self, mapping, route_name, conn):
        return GatedSource(original(self, mapping, route_name, conn), ready, marks / "go")

    service.Clients.source = gated
    settings = load_settings(None, store_url=store_url)
    job = load_job(job_file, settings)
    store = open_job_store(settings)
    try:
        counts = sync_partition(settings, store, job, 1, partition, run_id="partition-test",
                                run_date=datetime.now(UTC).date(), actor="airflow:test")
    except SapBridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4 if getattr(exc, "exit_code", 1) == 4 else 1
    finally:
        store.dispose()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5], Path(sys.argv[5])))
