"""The typed configuration of every component, read from the settings once when the Bridge opens.

Each section has its own reader in its component; this is the one place that knows them all, so
a misspelt key in any section fails every command at start, in one line naming section and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sapbridge.audit.auditlog import AuditLog
from sapbridge.config import Settings
from sapbridge.kpi.config import KpiConfig, parse_kpi_config
from sapbridge.orchestration import AirflowOptions, JobsConfig, airflow_options, jobs_config
from sapbridge.push.authority import PushConfig, load_push_config

if TYPE_CHECKING:
    from sapbridge.reconcile.cash.config import CashConfig
    from sapbridge.reconcile.recoveries.config import RecoveriesConfig

__all__ = ["Components", "read_components"]


@dataclass(frozen=True, slots=True)
class Components:
    """``[audit]``, ``[cash]``, ``[recoveries]``, ``[kpi]``, ``[users]``/``[authority]``/``[push]``,
    ``[jobs]`` and ``[airflow]``, each validated into its component's typed object."""

    audit: AuditLog
    cash: CashConfig
    recoveries: RecoveriesConfig
    kpi: KpiConfig
    push: PushConfig
    jobs: JobsConfig
    airflow: AirflowOptions


def read_components(settings: Settings) -> Components:
    """Every component section of ``settings``; the first problem is raised as a ConfigError."""
    from sapbridge.reconcile.cash.config import load_config  # the matcher loads with its package
    from sapbridge.reconcile.recoveries.config import RecoveriesConfig

    return Components(
        audit=AuditLog.from_settings(settings),
        cash=load_config(settings.section("cash")),
        recoveries=RecoveriesConfig.from_section(settings.section("recoveries")),
        kpi=parse_kpi_config(settings.section("kpi")),
        push=load_push_config(settings),
        jobs=jobs_config(settings),
        airflow=airflow_options(settings),
    )
