"""Credit and collections KPIs from the store: aging, DSO, CEI, blocked orders, disputes, recoveries.

``run_kpi_report(store, settings, system=..., out=...)`` is the entry point the CLI and the jobs
runner call; :mod:`sapbridge.kpi.formulas` holds the formulas as pure functions.
"""

from __future__ import annotations

from sapbridge.kpi.report import KpiReport
from sapbridge.kpi.run import KpiResult, run_kpi_report

__all__ = ["KpiReport", "KpiResult", "run_kpi_report"]
