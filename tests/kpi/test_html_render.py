"""The KPI page as a credit manager sees it: rendered by headless Chromium, checked for content.

The page is checked as text (legend colours survive the CSS, labels fit, units, glossary, the
trend reaching the report date) and, where Chromium is installed, rendered to PNG and printed to
PDF with one section per page. Without Chromium the rendering tests are skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sapbridge.kpi.svg import SERIES_COLOURS, compact

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import screenshots


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> dict[str, Path]:
    """The demo run end to end, as ``make screenshots`` runs it."""
    return screenshots.demo_outputs(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def page(demo_files) -> Path:
    return demo_files["kpis.html"]


def test_legend_colours_are_not_overridden_by_the_page_css(page):
    html = page.read_text(encoding="utf-8")
    assert "svg text{" not in html  # the old rule painted every legend grey
    for colour in SERIES_COLOURS[:2]:
        assert f"fill:{colour}" in html


def test_the_subtitle_is_words_and_every_figure_has_its_unit_or_name_spelled_out(page):
    html = page.read_text(encoding="utf-8")
    assert "['0.01'" not in html
    assert "reserve_rates =" not in html
    assert "DSO (days)" in html
    assert "average days delinquent (ADD)" in html
    assert "CEI (collection effectiveness index)" in html
    assert 'id="glossary"' in html


def test_bars_carry_their_values_and_the_trend_reaches_the_report_date(page):
    html = page.read_text(encoding="utf-8")
    assert ">days past due<" in html
    assert re.search(r">\d+(\.\d)?M<", html)  # values on the aging bars
    assert ">20 Nov<" in html  # the as-of point of the DSO trend
    assert ">31 Oct<" in html


def test_tiles_show_the_change_since_the_previous_month_end(page):
    html = page.read_text(encoding="utf-8")
    assert html.count('class="tile"') == 15  # 5 tiles for each of 3 company codes
    assert "vs 31 Oct" in html


def test_no_microseconds_and_sections_print_on_their_own_pages(page):
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d{6}", html)
    assert "section{break-after:page}" in html
    assert html.count("<section") == 12


def test_compact_labels():
    from decimal import Decimal

    assert compact(Decimal("3235332.03")) == "3.2M"
    assert compact(Decimal("950")) == "950"
    assert compact(Decimal("-12345")) == "-12.3k"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_chromium_renders_the_page_and_prints_one_section_per_page(page, tmp_path):
    png = screenshots.screenshot_html(page, tmp_path / "kpis.png", height=2000)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = screenshots.print_html(page, tmp_path / "kpis.pdf")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert pages >= 8  # every section starts on a new page


@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("soffice") is None
                    or shutil.which("pdftotext") is None,
                    reason="libreoffice (soffice) or poppler-utils (pdftoppm, pdftotext) is not installed")
@pytest.mark.parametrize(("workbook", "expected"), [("kpis.xlsx", "AR total"), ("cash.xlsx", "Auto-match rate"),
                                                    ("recoveries.xlsx", "Claim amount")])
def test_libreoffice_shows_no_hash_marks_in_any_workbook(demo_files, tmp_path, workbook, expected):
    pages = screenshots.render_workbook(demo_files[workbook], tmp_path)
    assert pages
    pdf = tmp_path / f"{Path(workbook).stem}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert expected in text
    assert "###" not in text
