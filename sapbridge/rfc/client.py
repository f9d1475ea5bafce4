"""The RFC client: retries communication failures, checks BAPI RETURN, reads tables in pages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import tenacity

from sapbridge.errors import ProtocolError, RetriableError, SapUnavailableError
from sapbridge.logs import get_logger
from sapbridge.rfc.bapi import raise_for_return
from sapbridge.transport.base import RfcConnection

__all__ = ["RfcClient", "split_where"]

log = get_logger(__name__)


def split_where(clauses: Sequence[str], width: int = 72) -> list[dict[str, str]]:
    """RFC_READ_TABLE OPTIONS: the WHERE text in lines of at most ``width`` characters."""
    lines: list[str] = []
    for word in " ".join(clauses).split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return [{"TEXT": line} for line in lines if line]


class RfcClient:
    """Calls function modules over one connection (BAPI + COMMIT must share it)."""

    def __init__(self, connection: RfcConnection, *, max_attempts: int = 3,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.connection = connection
        self.max_attempts = max_attempts
        self.sleep = sleep

    def call_unchecked(self, function: str, **params: Any) -> dict[str, Any]:
        """Call a function; retry communication failures; leave RETURN to the caller."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(RetriableError),
            stop=tenacity.stop_after_attempt(max(1, self.max_attempts)),
            wait=tenacity.wait_exponential(multiplier=0.5, max=30) + tenacity.wait_random(0, 0.5),
            sleep=self.sleep, reraise=True,
            before_sleep=lambda s: log.warning("rfc_retry", function=function, attempt=s.attempt_number),
        )
        try:
            return retrying(self.connection.call, function, **params)
        except SapUnavailableError:
            raise
        except RetriableError as exc:
            msg = f"SAP unavailable over RFC after {self.max_attempts} attempts: {exc}"
            raise SapUnavailableError(msg) from exc

    def call(self, function: str, **params: Any) -> dict[str, Any]:
        """Call a function and raise SapBusinessError when its RETURN holds an E or A row."""
        result = self.call_unchecked(function, **params)
        raise_for_return(function, result)
        return result

    def ping(self) -> None:
        """RFC_PING: proves logon and reachability."""
        self.call_unchecked("RFC_PING")

    def read_table(self, table: str, fields: Sequence[str], where: Sequence[str] = (), *,
                   function: str = "RFC_READ_TABLE", batch: int = 10000) -> Iterator[dict[str, str]]:
        """Rows of a table read in pages of ``batch`` through a read function (or its Z copy)."""
        skip = 0
        while True:
            result = self.call(function, QUERY_TABLE=table, DELIMITER="|",
                               FIELDS=[{"FIELDNAME": f} for f in fields],
                               OPTIONS=split_where(where), ROWSKIPS=skip, ROWCOUNT=batch)
            data = result.get("DATA") or []
            layout = result.get("FIELDS") or [{"FIELDNAME": f} for f in fields]
            for row in data:
                yield _parse_row(str(row.get("WA", "")), layout, table)
            if len(data) < batch:
                return
            skip += batch

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def _parse_row(text: str, layout: Sequence[dict[str, Any]], table: str) -> dict[str, str]:
    names = [str(f["FIELDNAME"]) for f in layout]
    values = text.split("|")
    if len(values) != len(names):
        if all("OFFSET" in f and "LENGTH" in f for f in layout):
            values = [text[int(f["OFFSET"]): int(f["OFFSET"]) + int(f["LENGTH"])] for f in layout]
        else:
            msg = f"{table}: a row has {len(values)} values for {len(names)} fields (delimiter in data?)"
            raise ProtocolError(msg)
    return {name: value.strip() for name, value in zip(names, values, strict=True)}
