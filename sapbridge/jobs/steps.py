"""The step registry: kind -> function(ctx, options) -> StepOutcome, with each kind's options.

Built-in kinds: ``sync``, ``push_plan``, ``reconcile_cash``, ``reconcile_recoveries``,
``kpis`` and ``worklist``. Another component (or a test) adds a kind with :func:`register_step`::

    register_step("archive", archive_outputs, options={"keep_days": Option(integer)})

Options are checked when a job file is loaded, so a typo fails ``job list`` instead of the
nightly run. Path options are resolved against the project root of the job file by
:meth:`StepContext.path`, which also fills ``{run_id}`` and ``{date}`` in output paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sapbridge.app import Bridge
from sapbridge.config import Settings
from sapbridge.errors import InputError, JobError
from sapbridge.store import Store
from sapbridge.sync.engine import ALL_OBJECTS

__all__ = [
    "STEP_KINDS",
    "Option",
    "StepContext",
    "StepFn",
    "StepKind",
    "StepOutcome",
    "choice",
    "iso_date",
    "out_path",
    "path_value",
    "register_step",
    "step_kind",
    "text",
    "text_list",
]


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What a step did: counts to show and keep (JSON-safe) and exceptions left to review."""

    counts: dict[str, Any] = field(default_factory=dict)
    needs_review: int = 0


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step function gets besides its options: the run's Bridge and where it stands."""

    bridge: Bridge
    job: str
    system: str
    company_codes: tuple[str, ...]
    run_id: str
    run_date: date
    actor: str
    root: Path
    position: int

    @property
    def store(self) -> Store:
        """The run's store."""
        return self.bridge.store

    @property
    def settings(self) -> Settings:
        """The run's settings."""
        return self.bridge.settings

    def path(self, value: str) -> Path:
        """An option's path: ``{run_id}`` and ``{date}`` filled in, relative to the project root."""
        filled = Path(value.format(run_id=self.run_id, date=self.run_date.isoformat()))
        return filled if filled.is_absolute() else self.root / filled

    def input_path(self, value: str, option: str) -> Path:
        """An input file that must exist now."""
        path = self.path(value)
        if not path.is_file():
            msg = f"{option} file not found"
            raise InputError(msg, path=str(path))
        return path


StepFn = Callable[[StepContext, Mapping[str, Any]], StepOutcome]
Check = Callable[[Any], str]
"""Why an option value is unusable, or '' when it is fine."""


@dataclass(frozen=True, slots=True)
class Option:
    """One option a step kind accepts."""

    check: Check
    required: bool = False


@dataclass(frozen=True, slots=True)
class StepKind:
    """A registered step kind."""

    name: str
    run: StepFn
    options: Mapping[str, Option]

    def problems(self, options: Mapping[str, Any]) -> list[str]:
        """Everything wrong with ``options`` for this kind (unknown, missing, bad values)."""
        found = [f"unknown option {k!r} (known: {', '.join(sorted(self.options)) or 'none'})"
                 for k in options if k not in self.options]
        found += [f"missing option {k!r}" for k, o in self.options.items()
                  if o.required and k not in options]
        for key, value in options.items():
            spec = self.options.get(key)
            why = spec.check(value) if spec else ""
            if why:
                found.append(f"option {key!r} {why}")
        return found


STEP_KINDS: dict[str, StepKind] = {}
"""Every registered step kind by name."""


def register_step(name: str, run: StepFn, *, options: Mapping[str, Option] | None = None) -> StepKind:
    """Add (or replace) a step kind."""
    kind = StepKind(name, run, dict(options or {}))
    STEP_KINDS[name] = kind
    return kind


def step_kind(name: str) -> StepKind:
    """A registered kind, or JobError naming the known ones."""
    try:
        return STEP_KINDS[name]
    except KeyError:
        msg = f"unknown step kind {name!r} (known: {', '.join(sorted(STEP_KINDS))})"
        raise JobError(msg) from None


# --- option checks -------------------------------------------------------------------------


def text(value: Any) -> str:
    """A non-empty string."""
    return "" if isinstance(value, str) and value.strip() else "must be a non-empty string"


def path_value(value: Any) -> str:
    """A path (absolute, or relative to the project root) that may use ``{run_id}``, ``{date}``."""
    return out_path(value)


def out_path(value: Any) -> str:
    """An output path that may use ``{run_id}`` and ``{date}``."""
    why = text(value)
    if why:
        return why
    try:
        value.format(run_id="x", date="2000-01-01")
    except (KeyError, IndexError, ValueError) as exc:
        return f"may only use {{run_id}} and {{date}} placeholders ({exc!s} in {value!r})"
    return ""


def iso_date(value: Any) -> str:
    """A date: TOML date or ``YYYY-MM-DD`` text."""
    if isinstance(value, date):
        return ""
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return f"must be a date YYYY-MM-DD, not {value!r}"
    return ""


def choice(*allowed: str) -> Check:
    """One of ``allowed``."""

    def check(value: Any) -> str:
        return "" if value in allowed else f"must be one of {', '.join(allowed)}, not {value!r}"

    return check


def text_list(value: Any) -> str:
    """A list of non-empty strings."""
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return ""
    return "must be a list of strings"


def _objects(value: Any) -> str:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return 'must be "all" or a list of object names'
    unknown = [n for n in names if n not in ("all", *ALL_OBJECTS)]
    if unknown:
        return f"names unknown object(s) {', '.join(unknown)} (known: all, {', '.join(ALL_OBJECTS)})"
    return ""


_PUSH_KINDS = ("limits", "write-offs", "releases")


def _kinds(value: list[str]) -> str:
    unknown = [v for v in value if v not in _PUSH_KINDS]
    known = ", ".join(_PUSH_KINDS)
    return f"names unknown batch kind(s) {', '.join(unknown)} ({known})" if unknown else ""


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


# --- built-in kinds ------------------------------------------------------------------------


def run_sync_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """Sync objects of the job's system into the store, as ``sapbridge sync`` does."""
    objects = options.get("objects", "all")
    names: Sequence[str] = [objects] if isinstance(objects, str) else objects
    sync_run = str(uuid.uuid4())
    summary = ctx.bridge.sync(names, system=ctx.system, company_codes=ctx.company_codes,
                              full=options.get("mode", "incremental") == "full",
                              route=options.get("route"), run_id=sync_run)
    totals = {name: sum(getattr(d, name) for d in summary.datasets)
              for name in ("read", "inserted", "updated", "unchanged", "cleared", "skipped")}
    return StepOutcome({**totals, "datasets": len(summary.datasets), "sync_run_id": sync_run})


def run_push_plan_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """Dry-run plan of every approved push batch of the system; stale rows need review."""
    planned = ctx.bridge.push_plan_approved(system=ctx.system, kinds=options.get("kinds"))
    verdicts = planned.verdicts
    counts = {"batches": len(planned.plans), "rows": sum(verdicts.values()),
              **dict(sorted(verdicts.items()))}
    return StepOutcome(counts, needs_review=verdicts["stale"])


def _summary_outcome(result: Any) -> StepOutcome:
    return StepOutcome(dict(result.summary), needs_review=int(getattr(result, "needs_review", 0)))


def run_cash_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """Cash application of a bank file against the store's open items."""
    payments = ctx.input_path(options["payments"], "payments")
    optional = {key: ctx.input_path(options[key], key) for key in ("open_items", "customers", "advices")
                if key in options}
    result = ctx.bridge.reconcile_cash(payments, ctx.path(options["out"]), system=ctx.system,
                                       fmt=options.get("format"), require_synced=False, **optional)
    return _summary_outcome(result)


def run_recoveries_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """Disputes versus post-audit recovery claims."""
    claims = ctx.input_path(options["claims"], "claims")
    disputes = ctx.input_path(options["disputes"], "disputes") if "disputes" in options else None
    result = ctx.bridge.reconcile_recoveries(claims, ctx.path(options["out"]), system=ctx.system,
                                             disputes=disputes, as_of=_as_date(options.get("as_of")))
    return _summary_outcome(result)


def run_kpis_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """The KPI report of the system (for the job's company codes unless the step names some)."""
    codes = options.get("company_codes") or list(ctx.company_codes) or None
    result = ctx.bridge.kpi_report(ctx.path(options["out"]), system=ctx.system,
                                   as_of=_as_date(options.get("as_of")), company_codes=codes)
    return StepOutcome(_kpi_counts(result.summary))


def run_worklist_step(ctx: StepContext, options: Mapping[str, Any]) -> StepOutcome:
    """The collections worklist on its own (one collector's when the step names one)."""
    codes = options.get("company_codes") or list(ctx.company_codes) or None
    result = ctx.bridge.worklist(ctx.path(options["out"]), system=ctx.system,
                                 collector=options.get("collector"),
                                 as_of=_as_date(options.get("as_of")), company_codes=codes)
    return StepOutcome({"customers": len(result.rows), "collector": result.collector,
                        "files": [str(path) for path in result.files]})


def _kpi_counts(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The headline of a KPI report as flat counts (the whole report is in its files)."""
    counts: dict[str, Any] = {"as_of": summary.get("as_of")}
    for row in summary.get("receivables", []):
        where = f"{row['company_code']}_{row['currency']}"
        counts[f"ar_{where}"] = row.get("ar_total")
        counts[f"past_due_pct_{where}"] = row.get("past_due_percent")
        counts[f"dso_{where}"] = row.get("dso_simple")
    counts["recovery_run_id"] = (summary.get("recoveries") or {}).get("run_id")
    counts["files"] = list(summary.get("files", []))
    return counts


register_step("sync", run_sync_step, options={
    "objects": Option(_objects),
    "mode": Option(choice("incremental", "full")),
    "route": Option(choice("odata", "rfc")),
})
register_step("push_plan", run_push_plan_step, options={
    "kinds": Option(lambda v: text_list(v) or _kinds(v)),
})
register_step("reconcile_cash", run_cash_step, options={
    "payments": Option(path_value, required=True),
    "out": Option(out_path, required=True),
    "format": Option(text),
    "open_items": Option(path_value),
    "customers": Option(path_value),
    "advices": Option(path_value),
})
register_step("reconcile_recoveries", run_recoveries_step, options={
    "claims": Option(path_value, required=True),
    "out": Option(out_path, required=True),
    "disputes": Option(path_value),
    "as_of": Option(iso_date),
})
register_step("kpis", run_kpis_step, options={
    "out": Option(out_path, required=True),
    "as_of": Option(iso_date),
    "company_codes": Option(text_list),
})
register_step("worklist", run_worklist_step, options={
    "out": Option(out_path, required=True),
    "collector": Option(text),
    "as_of": Option(iso_date),
    "company_codes": Option(text_list),
})
