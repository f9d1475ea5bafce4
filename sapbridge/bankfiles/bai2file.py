"""BAI2 files (US cash management and lockbox), parsed with ``bai2`` (ministryofjustice).

``bai2``'s README calls it "not production ready"; it is still the only maintained parser, its
record model is complete, and we run it with ``check_integrity=True`` so control totals and
record counts must agree. Amounts come in minor units and become Decimals here. Credit detail
records (type codes 100-399) are payments; the ``16`` record's text is the remittance, and a
lockbox text of the form ``NAME / ACCOUNT / remittance`` gives payer name and account.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bai2 import bai2
from bai2 import exceptions as bai2_errors

from sapbridge.bankfiles.payment import Payment, check_currency
from sapbridge.errors import InputError
from sapbridge.money import currency_decimals
from sapbridge.tabular import text_encoding

__all__ = ["parse_bai2"]


def _split_text(text: str) -> tuple[str, str, str]:
    parts = [p.strip() for p in text.split("/")]
    if len(parts) >= 3 and parts[0] and parts[1]:
        return parts[0], parts[1], "/".join(parts[2:])
    return "", "", text.strip()


def _is_credit(detail: Any) -> bool:
    code = getattr(detail.type_code, "code", "") or ""
    return code.isdigit() and 100 <= int(code) <= 399


def _payments_of_account(account: Any, currency: str, as_of: date | None, path: Path,
                         serial: str) -> list[Payment]:
    currency = check_currency(account.header.currency or currency, path=str(path))
    scale = Decimal(1).scaleb(-currency_decimals(currency))
    payments = []
    for index, detail in enumerate(account.children, start=1):
        if not _is_credit(detail) or not detail.amount:
            continue
        name, payer_account, remittance = _split_text(detail.text or "")
        payment_id = (detail.bank_reference or detail.customer_reference or f"{serial}-{index}").strip()
        payments.append(Payment(payment_id, as_of, Decimal(int(detail.amount)) * scale, currency,
                                name, payer_account, "", remittance))
    return payments


def parse_bai2(path: Path, encoding: str | None = None) -> list[Payment]:
    """Credit details of a BAI2 file as payments (control totals verified)."""
    text = path.read_text(encoding=text_encoding(path, encoding))
    try:
        parsed = bai2.parse_from_string(text, check_integrity=True)
    except (bai2_errors.ParsingException, bai2_errors.IntegrityException,
            bai2_errors.NotSupportedYetException, ValueError, IndexError, KeyError) as exc:
        raise InputError(f"malformed BAI2 ({type(exc).__name__}: {exc})", path=str(path)) from None
    payments: list[Payment] = []
    for group_no, group in enumerate(parsed.children, start=1):
        as_of = group.header.as_of_date
        for account_no, account in enumerate(group.children, start=1):
            payments += _payments_of_account(account, group.header.currency or "USD", as_of, path,
                                             f"BAI2-{group_no}-{account_no}")
    return payments
