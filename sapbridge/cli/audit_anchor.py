"""Anchoring the audit head when a command ends: never fails the command it follows."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from sapbridge.app import Bridge
from sapbridge.errors import SapBridgeError

__all__ = ["anchor_after_command"]


def anchor_after_command(bridge: Bridge) -> None:
    """Write an anchor if the head moved since the last one; say so in one line if that fails."""
    try:
        outcome = bridge.audit_anchor(only_if_moved=True)
    except (SapBridgeError, SQLAlchemyError) as exc:
        click.echo(f"warning: audit anchor not written: {str(exc).splitlines()[0]}", err=True)
        return
    if outcome is not None and outcome.tsa_error:
        click.echo(f"warning: audit anchor written but not timestamped: {outcome.tsa_error}",
                   err=True)
