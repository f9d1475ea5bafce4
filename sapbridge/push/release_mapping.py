"""Where the credit-block release and rejection calls go: ``mappings/push/credit_block_release.toml``.

SAP's parameter names for sales documents are unconfirmed (SAP_REFERENCE 2.3), so every name the
release apply sends or reads is taken from this file, not from the code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sapbridge.errors import ConfigError

__all__ = ["RELEASE_MAPPING", "ReleaseMapping", "load_release_mapping"]

RELEASE_MAPPING = Path("push") / "credit_block_release.toml"
"""The mapping's place under the mappings directory."""


@dataclass(frozen=True, slots=True)
class ReleaseMapping:
    """Function imports, RFC wrappers and the order fields read back."""

    service: str = "API_SLS_DOC_WITH_CREDIT_BLOCK"
    release_function: str = "ReleaseCreditBlock"
    reject_function: str = "RejectCreditBlock"
    document_parameter: str = "SalesDocument"
    category_parameter: str = "SDDocumentCategory"
    category: str = "C"
    rejection_parameter: str = "SalesDocumentRjcnReason"
    order_service: str = "API_SALES_ORDER_SRV"
    order_set: str = "A_SalesOrder"
    order_key: str = "SalesOrder"
    credit_status: str = "TotalCreditCheckStatus"
    rejection_status: str = "OverallSDDocumentRejectionSts"
    net_amount: str = "TotalNetAmount"
    currency: str = "TransactionCurrency"
    changed_at: str = "LastChangeDateTime"
    rfc_release_function: str = "Z_SD_ORDER_CREDIT_RELEASE"
    rfc_reject_function: str = "Z_SD_ORDER_CREDIT_CANCEL"
    rfc_document_parameter: str = "VBELN"
    rfc_rejection_parameter: str = "ABGRU"


_SECTIONS = {
    "odata": {"service", "release_function", "reject_function", "document_parameter",
              "category_parameter", "category", "rejection_parameter"},
    "readback": {"service", "entity_set", "key", "credit_status", "rejection_status",
                 "net_amount", "currency", "changed_at"},
    "rfc": {"release_function", "reject_function", "document_parameter", "rejection_parameter"},
}
_RENAMED = {("readback", "service"): "order_service", ("readback", "entity_set"): "order_set",
            ("readback", "key"): "order_key"}


def _field(section: str, key: str) -> str:
    if section == "rfc":
        return f"rfc_{key}"
    return _RENAMED.get((section, key), key)


def _values(raw: dict[str, Any], where: str) -> dict[str, str]:
    unknown = set(raw) - set(_SECTIONS)
    if unknown:
        msg = f"{where}: unknown sections: {', '.join(sorted(unknown))}"
        raise ConfigError(msg)
    values: dict[str, str] = {}
    for section, body in raw.items():
        if not isinstance(body, dict) or set(body) - _SECTIONS[section]:
            extra = sorted(set(body) - _SECTIONS[section]) if isinstance(body, dict) else []
            msg = f"{where}: [{section}] must be a table of known keys (unknown: {extra})"
            raise ConfigError(msg)
        for key, value in body.items():
            if not isinstance(value, str) or not value:
                msg = f"{where}: [{section}] {key} must be a non-empty string"
                raise ConfigError(msg)
            values[_field(section, key)] = value
    return values


def load_release_mapping(mappings_dir: Path) -> ReleaseMapping:
    """The release mapping of a mappings directory (SAP's documented names when it has none)."""
    path = Path(mappings_dir) / RELEASE_MAPPING
    if not path.is_file():
        return ReleaseMapping()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise ConfigError(msg) from None
    values = _values(raw, str(path))
    known = {f.name for f in fields(ReleaseMapping)}
    return ReleaseMapping(**{k: v for k, v in values.items() if k in known})
