"""Screenshots of what users look at, for a reviewer: the KPI page and every workbook, rendered.

Runs the demo end to end into a fresh store under the output folder (sync, cash application,
recoveries, KPI report), then:

- ``html-kpis.png``: the KPI page in headless Chromium (full page), and ``html-kpis.pdf`` printed
  the way a browser prints it (one section per page);
- ``<workbook>-<n>.png``: each workbook (``kpis.xlsx``, ``cash.xlsx``, ``recoveries.xlsx``)
  converted by LibreOffice to PDF and each page to PNG with ``pdftoppm``.

    python scripts/screenshots.py out/screenshots      # or: make screenshots

Needs ``chromium``, ``soffice`` (libreoffice-calc) and ``pdftoppm`` (poppler-utils); says which
one is missing otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

TOOLS = {"chromium": "chromium", "soffice": "libreoffice-calc-nogui", "pdftoppm": "poppler-utils"}


def missing_tools() -> list[str]:
    """The Debian packages to install for the tools not on PATH."""
    return [package for tool, package in TOOLS.items() if shutil.which(tool) is None]


def demo_outputs(folder: Path) -> dict[str, Path]:
    """Run the demo into ``folder``; returns the produced files by name."""
    from sapbridge.config import load_settings, project_root
    from sapbridge.kpi import run_kpi_report
    from sapbridge.reconcile.cash import run_cash
    from sapbridge.reconcile.recoveries import run_recoveries
    from sapbridge.store import open_store
    from sapbridge.sync.service import sync_system

    samples = project_root() / "fixtures" / "samples"
    settings = load_settings(None, store_url=f"sqlite:///{folder / 'demo.db'}")
    store = open_store(settings.store_url)
    try:
        sync_system(settings, store, system="demo", objects=["all"], run_id=str(uuid.uuid4()),
                    actor="screenshots")
        run_cash(store, settings, system="demo", payments=samples / "bank-demo.camt053.xml",
                 out=folder / "cash")
        run_recoveries(store, settings, system="demo", claims=samples / "claims-demo.csv",
                       out=folder / "recoveries")
        run_kpi_report(store, settings, system="demo", out=folder / "kpis")
    finally:
        store.dispose()
    return {"kpis.html": folder / "kpis" / "kpis.html", "kpis.xlsx": folder / "kpis" / "kpis.xlsx",
            "cash.xlsx": folder / "cash" / "cash.xlsx",
            "recoveries.xlsx": folder / "recoveries" / "recoveries.xlsx"}


def chromium(*args: str) -> None:
    """Run headless Chromium (no sandbox when root, as in CI containers)."""
    flags = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
        flags.append("--no-sandbox")
    subprocess.run(["chromium", *flags, *args], check=True, capture_output=True, timeout=180)


def screenshot_html(page: Path, target: Path, *, width: int = 1280, height: int = 5200) -> Path:
    """A full-length PNG of an HTML file as Chromium renders it."""
    chromium(f"--window-size={width},{height}", f"--screenshot={target}", page.resolve().as_uri())
    return target


def print_html(page: Path, target: Path) -> Path:
    """The HTML file printed to PDF by Chromium (print CSS applies)."""
    chromium("--no-pdf-header-footer", f"--print-to-pdf={target}", page.resolve().as_uri())
    return target


def render_workbook(workbook: Path, folder: Path) -> list[Path]:
    """Each page of a workbook as LibreOffice prints it, as PNG files ``<stem>-<n>.png``."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{scratch}/lo",
                        "--convert-to", "pdf", "--outdir", scratch, str(workbook)],
                       check=True, capture_output=True, timeout=300)
        pdf = Path(scratch) / f"{workbook.stem}.pdf"
        shutil.copy(pdf, folder / f"{workbook.stem}.pdf")
        subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(folder / workbook.stem)],
                       check=True, capture_output=True, timeout=300)
    return sorted(folder.glob(f"{workbook.stem}-*.png"))


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "out/screenshots")
    missing = missing_tools()
    if missing:
        sys.stderr.write(f"screenshots need: apt-get install -y {' '.join(missing)}\n")
        return 1
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / "demo").mkdir()
    files = demo_outputs(target / "demo")
    made = [screenshot_html(files["kpis.html"], target / "html-kpis.png"),
            print_html(files["kpis.html"], target / "html-kpis.pdf")]
    for name in ("kpis.xlsx", "cash.xlsx", "recoveries.xlsx"):
        made += render_workbook(files[name], target)
    for path in made:
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
