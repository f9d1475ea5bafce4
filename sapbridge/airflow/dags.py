"""DAGs from job files: one DAG per job, one task per step, sync steps mapped per partition.

A DAG file in Airflow's dags folder needs two lines::

    from sapbridge.airflow import dags_from_jobs
    globals().update(dags_from_jobs("/srv/sapbridge/jobs"))

Each job ``J`` becomes the DAG ``sapbridge_J`` with the job's schedule. Its steps follow one
another in the job's order; a sync step is one mapped task per partition (``customers`` first,
then every other object and company code side by side), in the pool of the job's SAP system.
A step that leaves work to review succeeds: its counts (with ``needs_review``) go to XCom and
the log, and ``on_review`` is called. A sapbridge error fails the task with its one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Connection, Variable, get_current_context, task
from airflow.sdk.exceptions import AirflowException, AirflowNotFoundException
from airflow.sdk.log import mask_secret

from sapbridge.airflow.adapter import (
    AirflowOptions,
    PlannedStep,
    airflow_options,
    open_job_store,
    plan_job,
    run_step,
    step_run_id,
    supply_sap_password,
    sync_partition,
)
from sapbridge.config import Settings, load_settings
from sapbridge.errors import SapBridgeError
from sapbridge.jobs.definition import JobDefinition, load_jobs
from sapbridge.store import Store
from sapbridge.sync.partitions import Partition

__all__ = ["START_DATE", "ReviewCallback", "SapBridgeTaskError", "dag_id", "dags_from_jobs", "job_dag"]

log = logging.getLogger(__name__)

START_DATE = datetime(2024, 1, 1, tzinfo=UTC)
"""Every job DAG starts here, without catch-up: the first run is the next scheduled time."""

ReviewCallback = Callable[[Mapping[str, Any], Mapping[str, Any]], None]
"""``on_review(context, result)``: a step finished with ``result["needs_review"]`` items to review."""


class SapBridgeTaskError(AirflowException):
    """A sapbridge error, as the one line Airflow shows for the failed task."""


def dag_id(job: JobDefinition) -> str:
    """``sapbridge_<job>``: the DAG of a job."""
    return f"sapbridge_{job.name}"


def _airflow_secret(system: str) -> str | None:
    """The SAP password of ``system``: connection ``sapbridge_<system>``, else a variable.

    Whatever is found is registered with Airflow's secrets masker, so no task log shows it.
    """
    try:
        password = Connection.get(f"sapbridge_{system}").password
    except AirflowNotFoundException:
        password = None
    if not password:
        password = Variable.get(f"sapbridge_{system}_password", default=None)
    if not password:
        return None
    mask_secret(str(password))
    return str(password)


def _name_map_index(context: Any, label: str) -> None:
    """Show the mapped task instance as its partition (``map_index_template``) in the UI."""
    context["partition_label"] = label


@dataclass(frozen=True, slots=True)
class _Runtime:
    """What every task of a job's DAG needs when it runs on a worker."""

    settings: Settings
    job: JobDefinition
    on_review: ReviewCallback | None

    @contextmanager
    def _store(self) -> Iterator[Store]:
        supply_sap_password(self.settings.system(self.job.system), _airflow_secret)
        store = open_job_store(self.settings)
        try:
            yield store
        finally:
            store.dispose()

    def _where(self, context: Mapping[str, Any], position: int) -> dict[str, Any]:
        run = context["dag_run"]
        run_after: datetime = run.run_after or datetime.now(UTC)
        return {"run_id": step_run_id(run.dag_id, run.run_id, position),
                "run_date": run_after.astimezone(UTC).date(),
                "actor": f"airflow:{run.dag_id}"[:64]}

    def sync(self, position: int, partition: Partition) -> dict[str, Any]:
        context = get_current_context()
        _name_map_index(context, partition.label)
        where = self._where(context, position)
        try:
            with self._store() as store:
                counts = sync_partition(self.settings, store, self.job, position, partition, **where)
        except SapBridgeError as exc:
            raise SapBridgeTaskError(str(exc)) from None
        log.info("partition %s synced: %s", partition.label, counts)
        return counts

    def step(self, position: int) -> dict[str, Any]:
        context = get_current_context()
        label = self.job.steps[position - 1].label
        where = self._where(context, position)
        try:
            with self._store() as store:
                outcome = run_step(self.settings, store, self.job, position, **where)
        except SapBridgeError as exc:
            raise SapBridgeTaskError(str(exc)) from None
        result = {**outcome.counts, "needs_review": outcome.needs_review}
        log.info("step %s finished: %s", label, outcome.counts)
        if outcome.needs_review:
            log.warning("step %s left %d item(s) to review", label, outcome.needs_review)
            if self.on_review is not None:
                self.on_review(context, {"job": self.job.name, "step": label, **result})
        return result


def _sync_wave(runtime: _Runtime, planned: PlannedStep, wave: tuple[Partition, ...], number: int,
               pool: str) -> Any:
    position = planned.step.position
    suffix = "" if number == len(planned.waves) else f"_{'_'.join(sorted({p.object for p in wave}))}"

    @task(task_id=f"step{position}_sync{suffix}", pool=pool, multiple_outputs=False,
          map_index_template="{{ partition_label }}")
    def sync(partition: dict[str, str]) -> dict[str, Any]:
        return runtime.sync(position, Partition(**partition))

    return sync.expand(partition=[asdict(p) for p in wave])


def _step_task(runtime: _Runtime, planned: PlannedStep, pool: str | None) -> Any:
    position = planned.step.position

    @task(task_id=f"step{position}_{planned.step.kind}", pool=pool or "default_pool",
          multiple_outputs=False)
    def step() -> dict[str, Any]:
        return runtime.step(position)

    return step()


def _tasks(runtime: _Runtime, planned: PlannedStep, options: AirflowOptions) -> list[Any]:
    pool = options.pool(runtime.job.system)[0] if planned.uses_sap else None
    if planned.step.kind == "sync":
        return [_sync_wave(runtime, planned, wave, number, pool or "default_pool")
                for number, wave in enumerate(planned.waves, start=1)]
    return [_step_task(runtime, planned, pool)]


def job_dag(job: JobDefinition, settings: Settings, options: AirflowOptions, *,
            default_args: Mapping[str, Any] | None = None,
            on_review: ReviewCallback | None = None) -> DAG:
    """The DAG of one job: its steps as tasks in the job's order."""
    runtime = _Runtime(settings, job, on_review)
    args = {"retries": options.retries, "retry_delay": options.retry_delay, **(default_args or {})}
    with DAG(dag_id=dag_id(job), schedule=job.schedule, start_date=START_DATE, catchup=False,
             description=job.description or None, tags=["sapbridge", job.system],
             default_args=args) as dag:
        previous: Any = None
        for planned in plan_job(settings, job, options):
            for current in _tasks(runtime, planned, options):
                if previous is not None:
                    previous >> current
                previous = current
    return dag


def dags_from_jobs(directory: str | Path, *, settings: Settings | None = None,
                   default_args: Mapping[str, Any] | None = None,
                   on_review: ReviewCallback | None = None) -> dict[str, DAG]:
    """A DAG for every job file in ``directory``, by DAG id (for ``globals().update(...)``).

    ``settings`` default to :func:`~sapbridge.config.load_settings` (``SAPBRIDGE_CONFIG``,
    ``SAPBRIDGE_DB``); ``default_args`` go to every task over the ``[airflow]`` retries.
    """
    settings = settings or load_settings()
    options = airflow_options(settings)
    dags = [job_dag(job, settings, options, default_args=default_args, on_review=on_review)
            for job in load_jobs(Path(directory), settings)]
    return {dag.dag_id: dag for dag in dags}
