"""Bank files in: camt.053/054, MT940, BAI2 and CSV/XLSX, each read into :class:`Payment` records.

:func:`read_payments` picks the format from ``fmt`` or from the file's content.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sapbridge.bankfiles.bai2file import parse_bai2
from sapbridge.bankfiles.camt import parse_camt
from sapbridge.bankfiles.csvfile import parse_csv
from sapbridge.bankfiles.mt940file import parse_mt940
from sapbridge.bankfiles.payment import Payment
from sapbridge.errors import InputError

__all__ = ["FORMATS", "Payment", "detect_format", "read_payments"]

def _xml(path: Path, _encoding: str | None) -> list[Payment]:
    return parse_camt(path)  # XML declares its own encoding


FORMATS: dict[str, Callable[[Path, str | None], list[Payment]]] = {
    "camt053": _xml,
    "camt054": _xml,
    "mt940": parse_mt940,
    "bai2": parse_bai2,
    "csv": parse_csv,
}
"""Format name -> parser(path, text encoding or None). camt.053 and camt.054 share one parser."""


def detect_format(path: Path) -> str:
    """The bank file format, from the first bytes of the file (the extension is not trusted)."""
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    head = path.read_bytes()[:4096]
    if not head.strip():
        raise InputError("empty file", path=str(path))
    if head.startswith(b"PK"):
        return "csv"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")
    if text.startswith("<"):
        return "camt054" if "BkToCstmrDbtCdtNtfctn" in text or "camt.054" in text else "camt053"
    if text.startswith("01,"):
        return "bai2"
    if ":20:" in text and (":61:" in text or ":60F:" in text or ":25:" in text):
        return "mt940"
    first_line = text.splitlines()[0].lower() if text else ""
    if "payment_id" in first_line:
        return "csv"
    raise InputError("unknown bank file format (expected camt.053/054, MT940, BAI2 or CSV; "
                     "use --format)", path=str(path))


def read_payments(path: Path, fmt: str | None = None, *, encoding: str | None = None) -> list[Payment]:
    """Payments of a bank file; ``fmt`` forces the format, else it is detected.

    ``encoding`` forces the text encoding of MT940, BAI2 and CSV files (default: UTF-8, else
    Windows-1252 with a warning; see :func:`sapbridge.tabular.text_encoding`).
    """
    name = (fmt or detect_format(path)).lower().replace(".", "").replace("-", "")
    if name not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})", path=str(path))
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    if path.stat().st_size == 0:
        raise InputError("empty file", path=str(path))
    payments = FORMATS[name](path, encoding)
    if not payments:
        raise InputError("no incoming payments in the file", path=str(path))
    return payments
