"""Cron schedules of jobs: validation, the next runs, and ready-to-use cron and systemd entries.

A job's ``schedule`` is a standard five-field cron expression (``minute hour day-of-month month
day-of-week``) or one of ``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``. It is
parsed by croniter; the systemd timer gets the same times as ``OnCalendar=`` lines. As in cron,
when both day-of-month and day-of-week are restricted a run happens on either, so the timer gets
one ``OnCalendar=`` line for each. Both cron and systemd read the times in the machine's local
time zone.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from croniter import croniter

__all__ = [
    "MACROS",
    "Invocation",
    "cron_entry",
    "next_runs",
    "schedule_problem",
    "systemd_units",
    "to_on_calendar",
    "unit_name",
]

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
"""The cron shorthands accepted, and the five fields each stands for."""

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_EXTENSION = re.compile(r"[#?]|(^|[,-])(\d*L|\d+W|LW)($|[,-])", re.IGNORECASE)
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")


def _five_fields(expression: str) -> str:
    text = " ".join(expression.split())
    return MACROS.get(text.lower(), text)


def schedule_problem(expression: str) -> str:
    """Why ``expression`` is not a usable cron schedule, or '' when it is."""
    text = _five_fields(expression)
    if text.startswith("@"):
        return f"unknown cron shorthand {text!r} (use one of {', '.join(MACROS)})"
    if len(text.split()) != 5:
        return f"cron schedule {expression!r} must have 5 fields (minute hour day month weekday)"
    if not croniter.is_valid(text):
        return f"cron schedule {expression!r} is not valid"
    for name, field in zip(_FIELD_NAMES, text.split(), strict=True):
        if _EXTENSION.search(field):
            return (f"cron schedule {expression!r}: {name} uses an extension (L, W, #, ?); "
                    "only standard cron syntax is supported")
    return ""


def _fields(expression: str) -> list[list[int] | None]:
    """Each field's values, or None for every value (``*``)."""
    expanded = croniter(_five_fields(expression)).expanded
    result: list[list[int] | None] = []
    for (low, high), values in zip(_RANGES, expanded, strict=True):
        numbers = sorted({int(v) % 7 if high == 6 else int(v) for v in values if v != "*"})
        result.append(None if "*" in values or numbers == list(range(low, high + 1)) else numbers)
    return result


def next_runs(expression: str, start: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` times the schedule fires after ``start``."""
    itr = croniter(_five_fields(expression), start)
    return [itr.get_next(datetime) for _ in range(count)]


def _numbers(values: list[int] | None, low: int, high: int) -> str:
    if values is None:
        return "*"
    if len(values) > 2:
        step = values[1] - values[0]
        regular = all(b - a == step for a, b in itertools.pairwise(values))
        if regular and values[-1] + step > high and step > 1:
            return f"{values[0]:02d}/{step}"
    return ",".join(f"{v:02d}" for v in values)


def _weekdays(values: list[int]) -> str:
    """Day names in systemd's Monday-first order, runs of three or more as ``Mon..Fri``."""
    order = sorted(values, key=lambda d: (d + 6) % 7)
    groups: list[list[int]] = []
    for day in order:
        if groups and (groups[-1][-1] + 1) % 7 == day and groups[-1][-1] != 0:
            groups[-1].append(day)
        else:
            groups.append([day])
    parts = [f"{_DAY_NAMES[g[0]]}..{_DAY_NAMES[g[-1]]}" if len(g) > 2
             else ",".join(_DAY_NAMES[d] for d in g) for g in groups]
    return ",".join(parts)


def to_on_calendar(expression: str) -> list[str]:
    """The schedule as systemd ``OnCalendar=`` values (two when cron ORs both day fields)."""
    minute, hour, dom, month, dow = _fields(expression)
    clock = f"{_numbers(hour, 0, 23)}:{_numbers(minute, 0, 59)}:00"
    month_text = _numbers(month, 1, 12)

    def line(days: list[int] | None, weekdays: list[int] | None) -> str:
        date = f"*-{month_text}-{_numbers(days, 1, 31)}"
        return f"{_weekdays(weekdays)} {date} {clock}" if weekdays else f"{date} {clock}"

    if dom is not None and dow is not None:
        return [line(dom, None), line(None, dow)]
    return [line(dom, dow)]


@dataclass(frozen=True, slots=True)
class Invocation:
    """How the scheduler starts a job: program, config, working directory, jobs folder."""

    job: str
    program: Path
    workdir: Path
    config: Path | None
    jobs_dir: Path
    db_url: str | None = None

    def argv(self) -> list[str]:
        """The command line, with ``--log-json`` so every line is a JSON record."""
        args = [str(self.program)]
        if self.config is not None:
            args += ["--config", str(self.config)]
        if self.db_url is not None:
            args += ["--db", self.db_url]
        return [*args, "--log-json", "job", "--jobs-dir", str(self.jobs_dir), "run", self.job]


def unit_name(job: str) -> str:
    """The systemd unit name (without suffix) for a job."""
    return f"sapbridge-job-{job}"


def _quoted(argv: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def cron_entry(expression: str, invocation: Invocation) -> str:
    """A crontab line (with a comment above) that runs the job from its working directory."""
    log_file = invocation.workdir / f"{unit_name(invocation.job)}.log"
    command = (f"cd {shlex.quote(str(invocation.workdir))} && {_quoted(invocation.argv())}"
               f" >> {shlex.quote(str(log_file))} 2>&1")
    return (f"# sapbridge job {invocation.job}; exit 0 ok, 1 failed, 3 exceptions to review, "
            "4 already running\n"
            f"{' '.join(_five_fields(expression).split())} {command.replace('%', chr(92) + '%')}\n")


def _systemd_arg(arg: str) -> str:
    """One ExecStart= argument, quoted for systemd when it holds spaces or quotes."""
    escaped = arg.replace("%", "%%")
    if any(c in escaped for c in " \t\"'\\;$"):
        return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"').replace("$", "$$") + '"'
    return escaped


def systemd_units(expression: str, invocation: Invocation) -> dict[str, str]:
    """``{file name: content}`` of the service and timer units for the job."""
    name = unit_name(invocation.job)
    exec_start = " ".join(_systemd_arg(a) for a in invocation.argv())
    service = (
        "[Unit]\n"
        f"Description=sapbridge job {invocation.job}\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={_systemd_arg(str(invocation.workdir))}\n"
        "# Passwords come from the variables the config's password_env names, e.g.:\n"
        "# EnvironmentFile=/etc/sapbridge/secrets.env\n"
        f"ExecStart={exec_start}\n"
        "# Exit 3 (finished, exceptions to review) and 4 (already running) mark the unit failed\n"
        "# so OnFailure= alerting sees them; uncomment to count a review run as success:\n"
        "# SuccessExitStatus=3\n"
    )
    calendar = "".join(f"OnCalendar={value}\n" for value in to_on_calendar(expression))
    timer = (
        "[Unit]\n"
        f"Description=Schedule of sapbridge job {invocation.job} ({_five_fields(expression)})\n\n"
        "[Timer]\n"
        f"{calendar}"
        "Persistent=true\n"
        f"Unit={name}.service\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{name}.service": service, f"{name}.timer": timer}
