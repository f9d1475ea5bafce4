"""``sapbridge report``: reports people act on, from the store."""

from __future__ import annotations

import importlib

import click

__all__ = ["COMMANDS", "SUBCOMMAND_MODULES"]

SUBCOMMAND_MODULES: list[str] = [
    "sapbridge.cli.report_kpis",
    "sapbridge.cli.report_worklist",
]
"""Modules whose ``SUBCOMMANDS`` join the ``report`` group."""


@click.group()
def report() -> None:
    """Credit and collections reports (KPIs).

    \b
    Example:
      sapbridge report kpis --system demo --out out/kpis
    """


for _name in SUBCOMMAND_MODULES:
    for _command in importlib.import_module(_name).SUBCOMMANDS:
        report.add_command(_command)

COMMANDS = [report]
