"""Every section of the config file checked when a command starts, not when its part runs.

The sections' readers belong to their components; this is the one place that knows them all, so
it sits at the top (the CLI) and the components keep importing downward only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sapbridge.config import Settings

__all__ = ["SECTION_CHECKS", "SectionCheck", "check_sections"]


def _audit(settings: Settings) -> object:
    from sapbridge.audit.auditlog import AuditLog

    return AuditLog.from_settings(settings)


def _cash(settings: Settings) -> object:
    from sapbridge.reconcile.cash.config import load_config

    return load_config(settings.section("cash"))


def _recoveries(settings: Settings) -> object:
    from sapbridge.reconcile.recoveries.config import RecoveriesConfig

    return RecoveriesConfig.from_section(settings.section("recoveries"))


def _kpi(settings: Settings) -> object:
    from sapbridge.kpi.config import parse_kpi_config

    return parse_kpi_config(settings.section("kpi"))


def _push(settings: Settings) -> object:
    from sapbridge.push.authority import load_push_config

    return load_push_config(settings)


def _airflow(settings: Settings) -> object:
    from sapbridge.airflow.adapter import airflow_options

    return airflow_options(settings)


@dataclass(frozen=True, slots=True)
class SectionCheck:
    """A component's reader, run when the file has any of its sections."""

    sections: tuple[str, ...]
    read: Callable[[Settings], object]


SECTION_CHECKS: tuple[SectionCheck, ...] = (
    SectionCheck(("audit",), _audit),
    SectionCheck(("cash",), _cash),
    SectionCheck(("recoveries",), _recoveries),
    SectionCheck(("kpi",), _kpi),
    SectionCheck(("push", "users", "authority"), _push),
    SectionCheck(("airflow",), _airflow),
)
"""The component sections of ``sapbridge.toml`` and who reads them (``[jobs]`` holds only a path)."""


def check_sections(settings: Settings) -> None:
    """Read every component section the file has; the first problem is raised as a ConfigError."""
    for check in SECTION_CHECKS:
        if any(name in settings.sections for name in check.sections):
            check.read(settings)
