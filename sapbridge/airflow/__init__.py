"""Run sapbridge jobs on Apache Airflow (the ``airflow`` extra): ``dags_from_jobs("jobs/")``.

Airflow is imported only when a DAG is built, so :mod:`sapbridge.airflow.adapter` (what the
tasks run) works without the extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sapbridge.config import Settings

__all__ = ["dags_from_jobs"]


def dags_from_jobs(directory: str | Path, *, settings: Settings | None = None,
                   **options: Any) -> dict[str, Any]:
    """A DAG per job file in ``directory`` (see :func:`sapbridge.airflow.dags.dags_from_jobs`)."""
    from sapbridge.airflow.dags import dags_from_jobs as build

    return build(directory, settings=settings, **options)
