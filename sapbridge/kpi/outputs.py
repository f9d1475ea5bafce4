"""Writing the report's files into ``--out`` all at once.

Files are written into a temporary directory beside ``--out`` and renamed into place only when
all of them are complete, so a failed run never leaves a directory that looks like a report.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

from sapbridge.errors import InputError
from sapbridge.kpi.html import render_html
from sapbridge.kpi.report import KpiReport
from sapbridge.kpi.xlsx import write_workbook

__all__ = ["OUTPUT_FILES", "check_out_dir", "publish_report"]

OUTPUT_FILES = ("kpis.xlsx", "kpis.html")
"""What a report directory holds."""


def check_out_dir(out: Path) -> None:
    """Refuse an ``--out`` that is a file or holds files a report would destroy."""
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError("--out must be a directory, and this is a file", path=str(out))
    others = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
    if others:
        raise InputError(f"--out holds other files ({', '.join(others[:3])}); use an empty or new directory",
                         path=str(out))


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _write_all(report: KpiReport, folder: Path) -> None:
    write_workbook(report, folder / "kpis.xlsx")
    (folder / "kpis.html").write_text(render_html(report), encoding="utf-8")
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for name in OUTPUT_FILES:
        (folder / name).chmod(0o666 & ~mask)


def _swap_in(temp: Path, out: Path) -> None:
    if not out.exists():
        temp.rename(out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    out.rename(old)
    temp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def publish_report(report: KpiReport, out: Path) -> list[Path]:
    """Write every output file of ``report`` into ``out`` atomically; returns their paths."""
    check_out_dir(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_all(report, temp)
        _swap_in(temp, out)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return [out / name for name in OUTPUT_FILES]
