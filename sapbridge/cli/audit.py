"""``sapbridge audit``: verify, review and export the tamper-evident audit log."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from sapbridge.audit.chain import canonical_json
from sapbridge.audit.export import FORMATS, format_for
from sapbridge.audit.verify import VerifyResult
from sapbridge.cli.context import AppContext
from sapbridge.errors import ConfigError, InputError

__all__ = ["COMMANDS"]

EXIT_BROKEN = 1
"""``audit verify`` found a broken chain."""


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        msg = f"--{name} must be a date or ISO timestamp, not {value!r}"
        raise InputError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filters(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--since", help="From this UTC date/time (inclusive), e.g. 2026-01-01."),
        click.option("--until", help="Before this UTC date/time (exclusive)."),
        click.option("--actor", help="Only entries by this user."),
        click.option("--action", help="Only this action (approved, applied, refused, ...)."),
        click.option("--batch", "batch_id", help="Only this batch."),
        click.option("--customer", help="Only this customer."),
    ]):
        func = option(func)
    return func


@click.group("audit")
def audit_group() -> None:
    """Verify, review and export the audit log.

    \b
    Example:
      sapbridge audit verify
      sapbridge audit anchor
      sapbridge audit list --batch L-20261122-1a2b3c4d
      sapbridge audit export --output evidence.xlsx --since 2026-01-01
    """


@audit_group.command("verify")
@click.option("--require-key", is_flag=True,
              help="Fail when no audit key is configured (the chain must be HMAC-keyed).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def audit_verify(app: AppContext, require_key: bool, as_json: bool) -> None:
    """Check the hash chain and the anchors; name the first edited, deleted or cut-off entry.

    With a key configured every entry must be keyed. With [audit] anchors configured, every
    anchor must still name an entry of the chain with the same hash (else the log was
    truncated or rewritten), and its timestamp token must match. Exit code 1 when broken.

    \b
    Example:
      SAPBRIDGE_AUDIT_KEY=... sapbridge audit verify --require-key
    """
    result = app.bridge.audit_verify(require_key=require_key)
    bad_signatures = app.bridge.approval_signature_problems()
    if as_json:
        click.echo(json.dumps({"ok": result.ok, "checked": result.checked,
                               "first_broken_id": result.first_broken_id,
                               "reason": result.reason, "head_hash": result.head_hash,
                               "anchors_checked": result.anchors_checked,
                               "notes": list(result.notes),
                               "bad_signatures": [p.seq for p in bad_signatures]}))
    else:
        _print_verify(result)
        for p in bad_signatures:
            click.echo(f"approval at entry {p.seq} (batch {p.batch_id}, {p.approver}): {p.reason}",
                       err=True)
    if not result.ok or bad_signatures:
        sys.exit(EXIT_BROKEN)


def _print_verify(result: VerifyResult) -> None:
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    anchors = f", {result.anchors_checked} anchors hold" if result.anchors_checked else ""
    if result.ok:
        click.echo(f"audit log intact: {result.checked} entries{anchors}, "
                   f"head {result.head_hash}")
    elif result.first_broken_id is None:
        click.echo(f"audit log BROKEN: {result.reason}", err=True)
    else:
        click.echo(f"audit log BROKEN at entry {result.first_broken_id}: {result.reason} "
                   f"({result.checked} entries verified before it)", err=True)


@audit_group.command("anchor")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def audit_anchor(app: AppContext, as_json: bool) -> None:
    """Copy the head of the log (entry id and hash) to the anchor directory, for a cron job.

    Needs [audit] anchors = "DIR" in the config; with [audit] tsa_url the anchor is also
    timestamped by that TSA (a TSA that is down is reported, the anchor is still written).

    \b
    Example:
      sapbridge audit anchor

    \b
    From cron, hourly:
      0 * * * *  sapbridge audit anchor
    """
    outcome = app.bridge.audit_anchor()
    if outcome is None:
        msg = "no anchor directory configured: set [audit] anchors = \"DIR\" in the config"
        raise ConfigError(msg)
    anchor = outcome.anchor
    if as_json:
        click.echo(json.dumps({"seq": anchor.seq if anchor else None,
                               "hash": anchor.hash if anchor else None,
                               "token": str(outcome.token) if outcome.token else None,
                               "tsa_error": outcome.tsa_error or None}))
    elif anchor is None:
        click.echo("audit log is empty: nothing to anchor")
    else:
        stamped = f", timestamp token {outcome.token}" if outcome.token else ""
        click.echo(f"anchored entry {anchor.seq} (hash {anchor.hash}){stamped}")
    if outcome.tsa_error:
        click.echo(f"warning: anchor written but not timestamped: {outcome.tsa_error}", err=True)


@audit_group.command("list")
@_filters
@click.option("--limit", type=int, default=None, help="At most this many entries.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@click.pass_obj
def audit_list(app: AppContext, since: str | None, until: str | None, actor: str | None,
               action: str | None, batch_id: str | None, customer: str | None,
               limit: int | None, as_json: bool) -> None:
    """List entries, oldest first, filtered by date range, actor, action, batch, customer.

    \b
    Example:
      sapbridge audit list --action refused --since 2026-11-01
    """
    for entry in app.bridge.audit_entries(since=_when(since, "since"), until=_when(until, "until"),
                                          actor=actor, action=action, batch_id=batch_id,
                                          customer=customer, limit=limit):
        if as_json:
            click.echo(canonical_json(entry.as_dict()))
            continue
        where = " ".join(x for x in (entry.batch_id, f"row {entry.row_no}"
                                     if entry.row_no is not None else None,
                                     entry.customer) if x)
        text = entry.message or entry.sap_document or ""
        click.echo(f"{entry.seq:>7}  {entry.at:%Y-%m-%d %H:%M:%S}Z  {entry.action:<13} "
                   f"{entry.actor:<12} {where:<36} {text}")


@audit_group.command("show")
@click.argument("entry_id", type=int)
@click.pass_obj
def audit_show(app: AppContext, entry_id: int) -> None:
    """Show one entry in full (JSON), including its hashes.

    \b
    Example:
      sapbridge audit show 42
    """
    click.echo(json.dumps(app.bridge.audit_entry(entry_id).as_dict(), indent=2,
                          sort_keys=True, ensure_ascii=False))


@audit_group.command("export")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default=None,
              help="csv, xlsx or jsonl (default: from the --output suffix).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True, metavar="FILE",
              help="File to write (its folder must exist), e.g. evidence.xlsx.")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@click.pass_obj
def audit_export(app: AppContext, fmt: str | None, output: str, since: str | None,
                 until: str | None, actor: str | None, action: str | None,
                 batch_id: str | None, customer: str | None, as_json: bool) -> None:
    """Export entries as evidence for auditors (amounts stay exact, as text).

    \b
    Example:
      sapbridge audit export -o audit-2026-q4.csv --since 2026-10-01
    """
    chosen = fmt or format_for(Path(output))
    count = app.bridge.audit_export(output, fmt=chosen, since=_when(since, "since"),
                                    until=_when(until, "until"), actor=actor, action=action,
                                    batch_id=batch_id, customer=customer)
    if as_json:
        click.echo(json.dumps({"written": count, "path": output, "format": chosen}))
    else:
        click.echo(f"wrote {count} entries to {output}")


COMMANDS: list[click.Command] = [audit_group]
