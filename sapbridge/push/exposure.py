"""What an approver of a release batch sees per order: value, and the customer's exposure after
release against its credit limit (as the store showed them at request time)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from sapbridge.push.state import load_batch, load_rows

__all__ = ["ReleaseLine", "release_lines"]


@dataclass(frozen=True, slots=True)
class ReleaseLine:
    """One order of a release batch as the approver should weigh it."""

    row_no: int
    sales_order: str
    action: str
    customer: str
    order_value: str
    currency: str
    exposure_after: str
    credit_limit: str | None
    over_limit_by: str | None

    def text(self) -> str:
        """One line: order, action, value, exposure after release vs limit."""
        limit = (f"limit {self.credit_limit}" if self.credit_limit is not None
                 else "no credit limit synced")
        over = f", {self.over_limit_by} over" if self.over_limit_by else ""
        return (f"  row {self.row_no:>4}  order {self.sales_order} {self.action:<7} "
                f"{self.order_value} {self.currency}  customer {self.customer}: exposure if "
                f"released {self.exposure_after} vs {limit}{over}")


def release_lines(engine: Engine, batch_id: str) -> list[ReleaseLine]:
    """The orders of a release batch (empty for other kinds)."""
    with engine.connect() as conn:
        if load_batch(conn, batch_id).kind != "releases":
            return []
        rows = load_rows(conn, batch_id)
    return [ReleaseLine(r.row_no, r.target["sales_order"], r.target["action"], r.customer,
                        r.target["order_value"], r.target["currency"], r.seen["exposure_after"],
                        r.seen.get("credit_limit"), r.seen.get("over_limit_by"))
            for r in rows]
