"""Benchmark: what running work as a job costs on top of calling it directly.

Both measured in one run, against a baseline:

1. the demo sync (``objects = "all"``) as a one-step job versus ``sync_system`` called directly,
   each into a fresh SQLite store, ``--repeat`` times, median wall time and the ratio;
2. the bookkeeping of a run alone (lease, run and step records, two audit entries, heartbeat
   thread), from a job whose one step does nothing, ``--runs`` times: milliseconds per run.

Usage::

    python bench/bench_jobs.py --repeat 5 --runs 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sapbridge.config import Settings, load_settings  # noqa: E402
from sapbridge.jobs.definition import JobDefinition, load_job  # noqa: E402
from sapbridge.jobs.runner import run_job  # noqa: E402
from sapbridge.jobs.steps import StepOutcome, register_step  # noqa: E402
from sapbridge.logs import configure_logging  # noqa: E402
from sapbridge.store import open_store  # noqa: E402
from sapbridge.sync.service import sync_system  # noqa: E402

SYNC_JOB = 'name = "bench-sync"\nsystem = "demo"\n[[steps]]\nkind = "sync"\nobjects = "all"\nmode = "full"\n'
NOOP_JOB = 'name = "bench-noop"\nsystem = "demo"\n[[steps]]\nkind = "noop"\n'


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare_sync(settings: Settings, job: JobDefinition, tmp: str, repeat: int) -> tuple[float, float]:
    """Median seconds of the demo sync called directly and run as a job, fresh stores each."""
    direct, as_job = [], []
    for i in range(repeat):
        store = open_store(f"sqlite:///{tmp}/direct-{i}.db")
        direct.append(timed(lambda s=store: sync_system(
            settings, s, system="demo", objects=["all"], full=True, run_id=str(uuid.uuid4()),
            actor="bench")))
        store.dispose()
        store = open_store(f"sqlite:///{tmp}/job-{i}.db")
        as_job.append(timed(lambda s=store: run_job(s, settings, job, actor="bench")))
        store.dispose()
    return statistics.median(direct), statistics.median(as_job)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    configure_logging(json_lines=True, level="WARNING")
    settings = load_settings(None)
    register_step("noop", lambda ctx, options: StepOutcome({"rows": 0}))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "jobs"
        folder.mkdir()
        (folder / "sync.toml").write_text(SYNC_JOB, encoding="utf-8")
        (folder / "noop.toml").write_text(NOOP_JOB, encoding="utf-8")
        direct, as_job = compare_sync(settings, load_job(folder / "sync.toml", settings), tmp,
                                      args.repeat)
        noop = load_job(folder / "noop.toml", settings)
        store = open_store(f"sqlite:///{tmp}/noop.db")
        total = timed(lambda: [run_job(store, settings, noop, actor="bench") for _ in range(args.runs)])
        store.dispose()
    print(f"demo sync, direct (baseline): {direct * 1000:8.1f} ms median of {args.repeat}")
    print(f"demo sync, as a job:          {as_job * 1000:8.1f} ms median of {args.repeat}"
          f"  ratio {as_job / direct:.2f}x")
    print(f"job bookkeeping alone:        {total / args.runs * 1000:8.2f} ms per run"
          f" ({args.runs} runs, SQLite)")


if __name__ == "__main__":
    main()
