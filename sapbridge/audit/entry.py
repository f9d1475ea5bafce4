"""One audit log entry as read back: the value the log returns and the export writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sapbridge.audit.chain import utc_iso

__all__ = ["AuditEntry"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry as read back, with its JSON fields parsed."""

    seq: int
    at: datetime
    action: str
    actor: str
    run_id: str
    batch_id: str | None
    row_no: int | None
    customer: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    sap_document: str | None
    message: str | None
    detail: dict[str, Any] | None
    alg: str
    prev_hash: str
    hash: str
    os_login: str | None = None
    host: str | None = None
    form: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEntry:
        """Build from a row checked by :func:`~sapbridge.audit.rows.row_problem`."""

        def parsed(text: str | None) -> dict[str, Any] | None:
            return None if text is None else dict(json.loads(text))

        return cls(
            seq=int(row["seq"]), at=row["at"], action=row["action"], actor=row["actor"],
            run_id=row["run_id"], batch_id=row["batch_id"], row_no=row["row_no"],
            customer=row["customer"], before=parsed(row["before_json"]),
            after=parsed(row["after_json"]), sap_document=row["sap_document"],
            message=row["message"], detail=parsed(row["detail_json"]), alg=row["alg"],
            prev_hash=row["prev_hash"], hash=row["hash"], os_login=row["os_login"],
            host=row["host"], form=row["form"],
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (time as UTC ISO text)."""
        return {
            "seq": self.seq, "at": utc_iso(self.at), "action": self.action, "actor": self.actor,
            "run_id": self.run_id, "batch_id": self.batch_id, "row_no": self.row_no,
            "customer": self.customer, "before": self.before, "after": self.after,
            "sap_document": self.sap_document, "message": self.message, "detail": self.detail,
            "alg": self.alg, "prev_hash": self.prev_hash, "hash": self.hash,
            "os_login": self.os_login, "host": self.host, "form": self.form,
        }
