"""A real ``sapbridge job run`` in its own process, for the crash tests (not collected by pytest).

Registers two step kinds, then runs the CLI with the arguments given:

- ``mark``: writes ``<marks>/<label>`` and succeeds;
- ``wait``: writes ``<marks>/waiting`` and sleeps until killed (at most 60 s).

Usage: python job_process.py MARKS_DIR -- sapbridge-args...
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sapbridge.cli import main
from sapbridge.jobs.steps import Option, StepOutcome, register_step, text

MARKS = Path(sys.argv[1])


def mark(ctx, options):
    (MARKS / options["label"]).write_text(ctx.run_id, encoding="utf-8")
    return StepOutcome({"marked": 1})


def wait(ctx, options):
    ready = MARKS / "waiting.tmp"
    ready.write_text(ctx.run_id, encoding="utf-8")
    ready.rename(MARKS / "waiting")  # the test sees the file only with the run id in it
    time.sleep(60)
    return StepOutcome({"waited": 1})


register_step("mark", mark, options={"label": Option(text, required=True)})
register_step("wait", wait)

if __name__ == "__main__":
    main(sys.argv[3:])
