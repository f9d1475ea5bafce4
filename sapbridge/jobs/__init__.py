"""Scheduled integration jobs: ``jobs/*.toml`` definitions run step by step under a lease.

Public API::

    from sapbridge.jobs import load_job, run_job, register_step, StepOutcome
"""

from __future__ import annotations

from sapbridge.jobs.definition import JobDefinition, StepDefinition, find_job, jobs_dir, load_job, load_jobs
from sapbridge.jobs.runner import EXIT_CODES, EXIT_LOCKED, JobLockedError, RunResult, run_job
from sapbridge.jobs.steps import STEP_KINDS, Option, StepContext, StepOutcome, register_step

__all__ = [
    "EXIT_CODES",
    "EXIT_LOCKED",
    "STEP_KINDS",
    "JobDefinition",
    "JobLockedError",
    "Option",
    "RunResult",
    "StepContext",
    "StepDefinition",
    "StepOutcome",
    "find_job",
    "jobs_dir",
    "load_job",
    "load_jobs",
    "register_step",
    "run_job",
]
