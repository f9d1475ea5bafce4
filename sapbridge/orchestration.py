"""The sections of the scheduled runs: ``[jobs]`` (where job files live) and ``[airflow]``.

Read when the Bridge opens (so a typo fails every command, not only the DAG file), and below
the jobs and Airflow adapters that use them. Example::

    [jobs]
    dir = "jobs"                     # relative to the config file

    [airflow]
    pool_slots = 4                   # concurrent SAP sessions per system (default pool)
    pools = { PRD = { name = "sap_prd", slots = 8 } }
    retries = 2
    retry_delay_seconds = 300
    allow_apply = ["nightly-apply"]  # jobs whose DAG may run push_apply steps
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sapbridge.config import Settings, project_root, refuse_unknown
from sapbridge.errors import ConfigError

__all__ = ["AirflowOptions", "JobsConfig", "airflow_options", "jobs_config"]

_AIRFLOW_KEYS = {"pool_slots", "pools", "retries", "retry_delay_seconds", "allow_apply"}


@dataclass(frozen=True, slots=True)
class JobsConfig:
    """The ``[jobs]`` section: the folder of job files."""

    dir: Path


def jobs_config(settings: Settings) -> JobsConfig:
    """Read ``[jobs]``: ``dir`` relative to the config file, else the project's ``jobs/``."""
    raw = settings.section("jobs")
    refuse_unknown(raw, {"dir"}, "[jobs]")
    configured = raw.get("dir")
    if configured is not None and (not isinstance(configured, str) or not configured):
        msg = "[jobs] dir must be a folder"
        raise ConfigError(msg)
    return JobsConfig(settings.resolve(configured) if configured else project_root() / "jobs")


@dataclass(frozen=True, slots=True)
class AirflowOptions:
    """The ``[airflow]`` section of the config: pools, retries, and which jobs may apply."""

    pool_slots: int = 4
    pools: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    retries: int = 2
    retry_delay: timedelta = timedelta(minutes=5)
    allow_apply: frozenset[str] = frozenset()

    def pool(self, system: str) -> tuple[str, int]:
        """The pool (name, slots) capping concurrent SAP sessions against ``system``."""
        return self.pools.get(system, (f"sapbridge_{system}", self.pool_slots))


def _positive(raw: Mapping[str, Any], key: str, default: int) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        msg = f"[airflow] {key} must be a whole number >= 0, not {value!r}"
        raise ConfigError(msg)
    return value


def _pools(raw: Any, slots: int) -> dict[str, tuple[str, int]]:
    if not isinstance(raw, dict):
        msg = '[airflow.pools] must map systems to tables, e.g. PRD = { name = "sap_prd", slots = 8 }'
        raise ConfigError(msg)
    found: dict[str, tuple[str, int]] = {}
    for system, spec in raw.items():
        if not isinstance(spec, dict):
            msg = f"[airflow.pools] {system} must be a table with name and slots"
            raise ConfigError(msg)
        refuse_unknown(spec, {"name", "slots"}, f"[airflow.pools] {system}")
        name = spec.get("name", f"sapbridge_{system}")
        if not isinstance(name, str) or not name:
            msg = f"[airflow.pools] {system}: name must be a non-empty string"
            raise ConfigError(msg)
        found[system] = (name, _positive(spec, "slots", slots) or 1)
    return found


def airflow_options(settings: Settings) -> AirflowOptions:
    """Read ``[airflow]`` (every key optional); an unknown key is refused with a did-you-mean."""
    raw = settings.section("airflow")
    refuse_unknown(raw, _AIRFLOW_KEYS, "[airflow]")
    slots = _positive(raw, "pool_slots", 4) or 1
    allow = raw.get("allow_apply", [])
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        msg = "[airflow] allow_apply must be a list of job names"
        raise ConfigError(msg)
    return AirflowOptions(pool_slots=slots, pools=_pools(raw.get("pools", {}), slots),
                          retries=_positive(raw, "retries", 2),
                          retry_delay=timedelta(seconds=_positive(raw, "retry_delay_seconds", 300)),
                          allow_apply=frozenset(allow))
