"""Cron schedules: validation, translation to systemd OnCalendar=, and the generated entries."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sapbridge.jobs.schedule import (
    Invocation,
    cron_entry,
    next_runs,
    schedule_problem,
    systemd_units,
    to_on_calendar,
)


@pytest.mark.parametrize(("cron", "calendar"), [
    ("30 2 * * *", ["*-*-* 02:30:00"]),
    ("*/15 * * * 1-5", ["Mon..Fri *-*-* *:00/15:00"]),
    ("0 6,18 * * *", ["*-*-* 06,18:00:00"]),
    ("0 0 1 */3 *", ["*-01/3-01 00:00:00"]),
    ("0 7 * * 6,0", ["Sat,Sun *-*-* 07:00:00"]),
    ("0 7 * * 5-7", ["Fri..Sun *-*-* 07:00:00"]),
    ("0 9 1,15 * 1", ["*-*-01,15 09:00:00", "Mon *-*-* 09:00:00"]),  # cron ORs the two day fields
    ("5-20/5 1 * * *", ["*-*-* 01:05,10,15,20:00"]),
    ("@weekly", ["Sun *-*-* 00:00:00"]),
    ("@hourly", ["*-*-* *:00:00"]),
    ("0 8 * JUL-AUG WED", ["Wed *-07,08-* 08:00:00"]),
])
def test_cron_translates_to_on_calendar(cron, calendar):
    assert schedule_problem(cron) == ""
    assert to_on_calendar(cron) == calendar


@pytest.mark.parametrize(("cron", "problem"), [
    ("61 * * * *", "is not valid"),
    ("* * * *", "must have 5 fields"),
    ("0 0 0 * * *", "must have 5 fields"),
    ("@reboot", "unknown cron shorthand"),
    ("0 0 * * 1#2", "day-of-week uses an extension"),
    ("0 0 15W * *", "day-of-month uses an extension"),
    ("0 0 * * 5L", "is not valid"),
])
def test_bad_schedules_are_explained(cron, problem):
    assert problem in schedule_problem(cron)


def test_next_runs_follow_the_schedule():
    start = datetime(2026, 11, 23, 13, 7, tzinfo=UTC)
    assert next_runs("30 2 * * *", start, 2) == [datetime(2026, 11, 24, 2, 30, tzinfo=UTC),
                                                 datetime(2026, 11, 25, 2, 30, tzinfo=UTC)]
    assert next_runs("*/15 * * * 1-5", datetime(2026, 11, 27, 23, 50, tzinfo=UTC), 2) == [
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC), datetime(2026, 11, 30, 0, 15, tzinfo=UTC)]  # Fri -> Mon


def _local_minute() -> datetime:
    return datetime.now().astimezone().replace(second=0, microsecond=0)


def _systemd_times(calendar: str, count: int, tz) -> list[datetime]:
    out = subprocess.run(["systemd-analyze", "calendar", f"--iterations={count}", calendar],
                         capture_output=True, text=True, check=True).stdout
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", out)
    return [datetime.fromisoformat(s).replace(tzinfo=tz) for s in stamps]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("cron", ["30 2 * * *", "*/15 * * * 1-5", "0 0 1 */3 *", "0 7 * * 5-7",
                                  "5-20/5 1 * * *", "0 9 1,15 * 1", "17 */5 * * *"])
def test_systemd_fires_at_the_same_times_as_cron(cron):
    for _ in range(3):  # retry if the clock crossed a firing time between the two reads
        now = _local_minute()
        expected = next_runs(cron, now, 12)
        fired = sorted(t for line in to_on_calendar(cron) for t in _systemd_times(line, 12, now.tzinfo))[:12]
        if _local_minute() == now:
            break
    assert fired == expected


def _invocation(tmp_path: Path) -> Invocation:
    return Invocation(job="nightly", program=Path("/opt/sb/bin/sapbridge"), workdir=tmp_path / "work dir",
                      config=Path("/etc/sapbridge/sapbridge.toml"), jobs_dir=Path("/srv/otc/jobs"))


def test_cron_entry_runs_installed_sapbridge_with_absolute_paths_and_json_logs(tmp_path):
    entry = cron_entry("30 2 * * *", _invocation(tmp_path))
    comment, line = entry.splitlines()
    assert comment.startswith("# sapbridge job nightly; exit 0 ok, 1 failed, 3 exceptions to review")
    workdir = tmp_path / "work dir"
    assert line == (f"30 2 * * * cd '{workdir}' && /opt/sb/bin/sapbridge --config /etc/sapbridge/sapbridge.toml "
                    f"--log-json job --jobs-dir /srv/otc/jobs run nightly >> '{workdir}/sapbridge-job-nightly.log' 2>&1")


def test_cron_entry_escapes_percent_signs(tmp_path):
    invocation = Invocation(job="n", program=Path("/opt/sb/bin/sapbridge"), workdir=Path("/w/100%"),
                            config=None, jobs_dir=Path("/j"))
    assert "/w/100\\%" in cron_entry("0 1 * * *", invocation)
    assert "100%" not in cron_entry("0 1 * * *", invocation).replace("100\\%", "")


def test_systemd_units_hold_service_and_timer(tmp_path):
    units = systemd_units("0 9 1,15 * 1", _invocation(tmp_path))
    assert sorted(units) == ["sapbridge-job-nightly.service", "sapbridge-job-nightly.timer"]
    service, timer = units["sapbridge-job-nightly.service"], units["sapbridge-job-nightly.timer"]
    assert f'WorkingDirectory="{tmp_path}/work dir"' in service
    assert ("ExecStart=/opt/sb/bin/sapbridge --config /etc/sapbridge/sapbridge.toml --log-json job "
            "--jobs-dir /srv/otc/jobs run nightly") in service
    assert "Type=oneshot" in service
    assert "OnCalendar=*-*-01,15 09:00:00\nOnCalendar=Mon *-*-* 09:00:00\n" in timer
    assert "Persistent=true" in timer
    assert "Unit=sapbridge-job-nightly.service" in timer
    assert "WantedBy=timers.target" in timer


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_generated_units_pass_systemd_verify(tmp_path):
    program = tmp_path / "sapbridge"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    invocation = Invocation(job="nightly", program=program, workdir=tmp_path, config=None, jobs_dir=tmp_path)
    for name, content in systemd_units("*/15 * * * 1-5", invocation).items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "sapbridge-job-nightly.timer")],
                            capture_output=True, text=True, check=False)
    problems = [line for line in result.stderr.splitlines() if "sapbridge-job-nightly" in line]
    assert problems == []
