"""Job definitions: ``jobs/*.toml`` files, loaded and validated whole.

Example (``jobs/nightly.toml``)::

    name = "nightly"
    system = "demo"
    company_codes = ["1000", "2000"]
    schedule = "30 2 * * *"

    [[steps]]
    kind = "sync"
    objects = "all"

    [[steps]]
    kind = "kpis"
    out = "out/{date}/kpis"

Every problem (unknown key, unknown step kind or option, missing system, bad schedule) is a
:class:`~sapbridge.errors.JobError` of one line naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sapbridge.config import Settings
from sapbridge.errors import JobError
from sapbridge.jobs.schedule import schedule_problem
from sapbridge.jobs.steps import STEP_KINDS
from sapbridge.orchestration import jobs_config

__all__ = ["JobDefinition", "StepDefinition", "find_job", "jobs_dir", "load_job", "load_jobs"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_JOB_KEYS = {"name", "description", "system", "company_codes", "schedule", "steps"}


@dataclass(frozen=True, slots=True)
class StepDefinition:
    """One step of a job: its position (from 1), kind and options."""

    position: int
    kind: str
    options: dict[str, Any]

    @property
    def label(self) -> str:
        """``2:reconcile_cash``: the step as logs and tables name it."""
        return f"{self.position}:{self.kind}"


@dataclass(frozen=True, slots=True)
class JobDefinition:
    """A validated job file."""

    name: str
    system: str
    company_codes: tuple[str, ...]
    steps: tuple[StepDefinition, ...]
    schedule: str | None
    description: str
    path: Path

    @property
    def root(self) -> Path:
        """Where relative paths of the job resolve: the parent of the job file's folder."""
        return self.path.resolve().parent.parent

    def definition_hash(self) -> str:
        """SHA-256 over system, company codes and steps: a resumed run must see the same."""
        body = json.dumps({
            "system": self.system, "company_codes": list(self.company_codes),
            "steps": [{"kind": s.kind, "options": s.options} for s in self.steps],
        }, sort_keys=True, default=str)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _fail(path: Path, problem: str) -> JobError:
    return JobError(f"{path}: {problem}", path=str(path))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(path, "job file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _fail(path, f"not valid TOML: {exc}") from exc


def _parse_step(path: Path, position: int, raw: Any) -> StepDefinition:
    where = f"step {position}"
    if not isinstance(raw, dict):
        raise _fail(path, f"{where} must be a table ([[steps]])")
    kind = raw.get("kind")
    if not isinstance(kind, str) or not kind:
        raise _fail(path, f"{where} needs a kind (one of {', '.join(sorted(STEP_KINDS))})")
    spec = STEP_KINDS.get(kind)
    if spec is None:
        raise _fail(path, f"{where}: unknown step kind {kind!r} (known: {', '.join(sorted(STEP_KINDS))})")
    options = {k: v for k, v in raw.items() if k != "kind"}
    problems = spec.problems(options)
    if problems:
        raise _fail(path, f"{where} ({kind}): {problems[0]}")
    return StepDefinition(position, kind, options)


def _text_field(path: Path, raw: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise _fail(path, f"missing {key}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{key} must be a non-empty string")
    return value.strip()


def _company_codes(path: Path, raw: dict[str, Any]) -> tuple[str, ...]:
    codes = raw.get("company_codes", [])
    if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
        raise _fail(path, 'company_codes must be a list of strings, e.g. ["1000", "2000"]')
    return tuple(codes)


def load_job(path: str | Path, settings: Settings | None = None) -> JobDefinition:
    """Read and validate one job file (with ``settings``, its system must be configured)."""
    path = Path(path)
    raw = _read(path)
    unknown = sorted(set(raw) - _JOB_KEYS)
    if unknown:
        raise _fail(path, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_JOB_KEYS))})")
    name = _text_field(path, raw, "name", required=True) or ""
    if not _NAME_RE.match(name):
        raise _fail(path, f"name {name!r} must be letters, digits, '.', '_' or '-' (at most 80)")
    system = _text_field(path, raw, "system", required=True) or ""
    if settings is not None and system not in settings.systems:
        known = ", ".join(sorted(settings.systems))
        raise _fail(path, f"system {system!r} is not configured (known: {known})")
    schedule = _text_field(path, raw, "schedule", required=False)
    why = schedule_problem(schedule) if schedule else ""
    if why:
        raise _fail(path, why)
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise _fail(path, "needs at least one [[steps]] table")
    steps = tuple(_parse_step(path, i, s) for i, s in enumerate(steps_raw, start=1))
    return JobDefinition(name=name, system=system, company_codes=_company_codes(path, raw),
                         steps=steps, schedule=schedule,
                         description=_text_field(path, raw, "description", required=False) or "",
                         path=path)


def jobs_dir(settings: Settings, override: str | Path | None = None) -> Path:
    """The folder of job files: ``override``, else ``[jobs] dir`` of the config, else ``jobs/``."""
    return Path(override) if override else jobs_config(settings).dir


def load_jobs(directory: Path, settings: Settings | None = None) -> list[JobDefinition]:
    """Every job in ``directory`` (``*.toml``), by name; names must be unique."""
    if not directory.is_dir():
        msg = f"jobs folder not found: {directory}"
        raise JobError(msg, path=str(directory))
    jobs: dict[str, JobDefinition] = {}
    for path in sorted(directory.glob("*.toml")):
        job = load_job(path, settings)
        if job.name in jobs:
            raise _fail(path, f"job name {job.name!r} is already used by {jobs[job.name].path}")
        jobs[job.name] = job
    return [jobs[name] for name in sorted(jobs)]


def find_job(directory: Path, name: str, settings: Settings | None = None) -> JobDefinition:
    """The job called ``name``; another job file being broken does not stop this one."""
    if not directory.is_dir():
        msg = f"jobs folder not found: {directory}"
        raise JobError(msg, path=str(directory))
    found: list[JobDefinition] = []
    broken: list[JobError] = []
    names: list[str] = []
    for path in sorted(directory.glob("*.toml")):
        try:
            job = load_job(path, settings)
        except JobError as exc:
            broken.append(exc)
            continue
        names.append(job.name)
        if job.name == name:
            found.append(job)
    if len(found) > 1:
        raise _fail(found[1].path, f"job name {name!r} is already used by {found[0].path}")
    if found:
        return found[0]
    if broken:
        named = [e for e in broken if Path(str(e.attrs.get("path"))).stem == name]
        raise (named or broken)[0]
    msg = f"no job named {name!r} in {directory} (known: {', '.join(names) or 'none'})"
    raise JobError(msg)
