"""Build the DAGs of a jobs folder and print their shape as JSON (not collected by pytest).

Registers a ``push_apply`` step kind first (no real one exists yet) so the tests can show that a
DAG refuses it unless the config allows the job to apply.

Usage: python dag_shape.py JOBS_DIR
"""

from __future__ import annotations

import json
import sys

from sapbridge.errors import SapBridgeError
from sapbridge.jobs.steps import StepOutcome, register_step

register_step("push_apply", lambda ctx, options: StepOutcome({"applied": 0}))


def _task(task) -> dict:
    expand = getattr(task, "op_kwargs_expand_input", None)
    return {"pool": task.pool, "upstream": sorted(task.upstream_task_ids), "retries": task.retries,
            "partitions": list(expand.value["partition"]) if expand is not None else None}


def main(jobs: str) -> int:
    from sapbridge.airflow import dags_from_jobs

    try:
        dags = dags_from_jobs(jobs)
    except SapBridgeError as exc:
        print(json.dumps({"error": str(exc)}))
        return 0
    print(json.dumps({dag_id: {
        "schedule": getattr(dag.timetable, "expression", None), "catchup": dag.catchup,
        "tags": sorted(dag.tags), "tasks": {t.task_id: _task(t) for t in dag.tasks},
    } for dag_id, dag in dags.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
