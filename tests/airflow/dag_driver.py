"""Run one DAG of a DAG file with ``dag.test()`` in this process and print what Airflow recorded.

Not collected by pytest; the tests run it in a subprocess whose environment holds AIRFLOW_HOME,
so Airflow's configuration and logging never touch the test runner.

Usage: python dag_driver.py DAG_FILE DAG_ID (inline|executor) OUT_JSON
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path


def _load(dag_file: Path):
    spec = importlib.util.spec_from_file_location(dag_file.stem, dag_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(dag_id: str, run_id: str) -> dict:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id).all()
        history = session.query(TaskInstanceHistory).filter_by(dag_id=dag_id, run_id=run_id).all()
        xcoms = session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key="return_value")).all()
        return {
            "tasks": [{"task_id": ti.task_id, "map_index": ti.map_index, "state": str(ti.state),
                       "try_number": ti.try_number, "pool": ti.pool,
                       "label": ti.rendered_map_index} for ti in tis],
            "history": [{"task_id": h.task_id, "map_index": h.map_index, "state": str(h.state),
                         "try_number": h.try_number} for h in history],
            "xcom": [{"task_id": x.task_id, "map_index": x.map_index,
                      "value": XComModel.deserialize_value(x)} for x in xcoms],
        }


def main(dag_file: str, dag_id: str, mode: str, out: str) -> int:
    module = _load(Path(dag_file))
    dag = getattr(module, dag_id)
    started = time.monotonic()
    run = dag.test(use_executor=mode == "executor")
    result = {"state": str(run.state), "seconds": round(time.monotonic() - started, 2),
              **_record(dag_id, run.run_id)}
    Path(out).write_text(json.dumps(result, default=str, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
