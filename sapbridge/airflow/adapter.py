"""The one place the Airflow DAGs reach into sapbridge: plan a job's tasks, and run one of them.

Nothing here imports Airflow, so it runs (and is tested) without the extra, and it can be
rewired onto an application object later without touching the DAG code. A sync step becomes
waves of partitions (:mod:`sapbridge.sync.partitions`), each synced by today's sync step with
one object and company code; every other step runs as the job runner runs it, under the job's
lease so that two runs of it (two DAG runs, or a DAG run and ``sapbridge job run``) take turns.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from sapbridge.app import Bridge
from sapbridge.config import Settings, SystemConfig
from sapbridge.errors import JobError
from sapbridge.jobs.definition import JobDefinition, StepDefinition
from sapbridge.jobs.runner import JobLockedError
from sapbridge.jobs.steps import StepContext, StepOutcome, run_sync_step, step_kind
from sapbridge.leases.lock import Acquired, acquire, release
from sapbridge.mapping import mappings_for
from sapbridge.orchestration import AirflowOptions, airflow_options
from sapbridge.store import Store
from sapbridge.sync.partitions import ALL_CODES, Partition, partitions_of
from sapbridge.sync.service import enabled_objects

__all__ = [
    "APPLYING_KINDS",
    "MASTER_OBJECTS",
    "SAP_KINDS",
    "AirflowOptions",
    "PlannedStep",
    "airflow_options",
    "open_job_store",
    "plan_job",
    "pool_table",
    "run_step",
    "step_run_id",
    "supply_sap_password",
    "sync_partition",
]

MASTER_OBJECTS = ("customers",)
"""Synced in a first wave: RFC routes read the other objects customer by customer."""

SAP_KINDS = frozenset({"sync", "push_plan"})
"""Step kinds that open sessions against SAP, and so run in the system's pool."""

APPLYING_KINDS = frozenset({"push_apply"})
"""Step kinds that change SAP: a DAG runs them only where ``[airflow] allow_apply`` names the job."""


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of a job as tasks: a sync step's waves of partitions, run one wave after another."""

    step: StepDefinition
    waves: tuple[tuple[Partition, ...], ...] = ()

    @property
    def uses_sap(self) -> bool:
        """True when the step's tasks hold SAP sessions (and so take a pool slot)."""
        return self.step.kind in SAP_KINDS


def _company_codes(settings: Settings, job: JobDefinition) -> tuple[str, ...]:
    return job.company_codes or settings.system(job.system).company_codes


def _objects(step: StepDefinition) -> list[str]:
    objects = step.options.get("objects", "all")
    return [objects] if isinstance(objects, str) else list(objects)


def _waves(settings: Settings, job: JobDefinition, step: StepDefinition) -> tuple[tuple[Partition, ...], ...]:
    partitions = partitions_of(mappings_for(settings, job.system), system=job.system,
                               objects=enabled_objects(settings.system(job.system), _objects(step)),
                               company_codes=_company_codes(settings, job))
    first = tuple(p for p in partitions if p.object in MASTER_OBJECTS)
    rest = tuple(p for p in partitions if p.object not in MASTER_OBJECTS)
    return tuple(wave for wave in (first, rest) if wave)


def plan_job(settings: Settings, job: JobDefinition, options: AirflowOptions) -> list[PlannedStep]:
    """The job's steps as tasks; a step that changes SAP is refused unless the job may apply."""
    settings.system(job.system)
    planned: list[PlannedStep] = []
    for step in job.steps:
        if step.kind in APPLYING_KINDS and job.name not in options.allow_apply:
            msg = (f"{job.path}: step {step.label} changes SAP; a DAG only plans unless "
                   f"[airflow] allow_apply lists {job.name!r}")
            raise JobError(msg, path=str(job.path))
        waves = _waves(settings, job, step) if step.kind == "sync" else ()
        planned.append(PlannedStep(step, waves))
    return planned


def step_run_id(dag_id: str, dag_run_id: str, position: int) -> str:
    """The sapbridge run id of a step in a DAG run: the same on every retry of it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sapbridge-airflow:{dag_id}/{dag_run_id}/{position}"))


def _context(settings: Settings, store: Store, job: JobDefinition, step: StepDefinition, *,
             company_codes: tuple[str, ...], run_id: str, run_date: date, actor: str) -> StepContext:
    bridge = Bridge.over(store, settings, actor=actor, run_id=run_id)
    return StepContext(bridge=bridge, job=job.name, system=job.system,
                       company_codes=company_codes, run_id=run_id, run_date=run_date, actor=actor,
                       root=job.root, position=step.position)


def sync_partition(settings: Settings, store: Store, job: JobDefinition, position: int,
                   partition: Partition, *, run_id: str, run_date: date, actor: str) -> dict[str, Any]:
    """Sync one partition as the job's sync step would; refused while another run syncs it."""
    step = job.steps[position - 1]
    codes = _company_codes(settings, job) if partition.company_code == ALL_CODES \
        else (partition.company_code,)
    ctx = _context(settings, store, job, step, company_codes=codes, run_id=run_id,
                   run_date=run_date, actor=actor)
    outcome = run_sync_step(ctx, {**step.options, "objects": [partition.object]})
    return {"partition": partition.label, **outcome.counts}


@contextmanager
def _job_lease(store: Store, job: JobDefinition) -> Iterator[None]:
    holder_id = str(uuid.uuid4())
    taken = acquire(store.engine, job.name, holder_id)
    if not isinstance(taken, Acquired):
        raise JobLockedError(job.name, taken)
    try:
        yield
    finally:
        release(store.engine, job.name, holder_id)


def run_step(settings: Settings, store: Store, job: JobDefinition, position: int, *, run_id: str,
             run_date: date, actor: str) -> StepOutcome:
    """Run one step that is not split into partitions, holding the job's lease while it runs."""
    step = job.steps[position - 1]
    ctx = _context(settings, store, job, step, company_codes=_company_codes(settings, job),
                   run_id=run_id, run_date=run_date, actor=actor)
    with _job_lease(store, job):
        outcome = step_kind(step.kind).run(ctx, step.options)
    if not isinstance(outcome, StepOutcome):
        msg = f"step kind {step.kind} returned {type(outcome).__name__}, not StepOutcome"
        raise JobError(msg)
    return outcome


def supply_sap_password(system: SystemConfig, lookup: Callable[[str], str | None]) -> bool:
    """Fill the system's ``password_env`` in this process from ``lookup(system)`` when it is unset.

    ``lookup`` is where the deployment keeps secrets (an Airflow connection or variable); the
    environment variable, when set, wins. True when a password was supplied.
    """
    if system.is_replay or not system.password_env or os.environ.get(system.password_env):
        return False
    secret = lookup(system.name)
    if not secret:
        return False
    os.environ[system.password_env] = secret
    return True


def open_job_store(settings: Settings) -> Store:
    """The store of the settings (the team's PostgreSQL in a deployment), with its audit log."""
    return Bridge.open(settings, actor="airflow").store


def pool_table(settings: Settings, jobs: Sequence[JobDefinition]) -> dict[str, dict[str, Any]]:
    """The pools the jobs' DAGs use, in the file format of ``airflow pools import``."""
    options = airflow_options(settings)
    found: dict[str, dict[str, Any]] = {}
    for job in jobs:
        name, slots = options.pool(job.system)
        found[name] = {"slots": slots, "description": f"SAP sessions against system {job.system}",
                       "include_deferred": False}
    return found
