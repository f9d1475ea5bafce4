"""The ``sapbridge`` command: a thin click layer over the library.

Each command module exposes ``COMMANDS``; this module wires them into one group and turns every
:class:`~sapbridge.errors.SapBridgeError` into one line on stderr (a traceback only with
``--debug``).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from sapbridge.cli.context import AppContext
from sapbridge.errors import ControlError, SapBridgeError

__all__ = ["EXIT_ERROR", "EXIT_REFUSED", "EXIT_USAGE", "cli", "exit_code_of", "main"]

COMMAND_MODULES: list[str] = [
    "sapbridge.cli.systems",
    "sapbridge.cli.sync",
    "sapbridge.cli.push",
    "sapbridge.cli.audit",
    "sapbridge.cli.reconcile",
    "sapbridge.cli.report",
    "sapbridge.cli.job",
]
"""Modules whose ``COMMANDS`` join the top-level group, in help order."""

EXIT_ERROR = 1
"""A command failed; stderr has one line saying what and where."""

EXIT_USAGE = 2
"""Bad command line (click's usage error): unknown option, missing argument, bad value."""

EXIT_REFUSED = 5
"""A control refused the action (identity, authority matrix, four eyes); nothing was changed."""


def exit_code_of(exc: SapBridgeError) -> int:
    """The process exit code for a library error: refusals have their own."""
    if isinstance(exc, ControlError):
        return EXIT_REFUSED
    code = getattr(exc, "exit_code", EXIT_ERROR)
    return code if isinstance(code, int) and code not in (0, EXIT_USAGE) else EXIT_ERROR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="SAPBRIDGE_CONFIG", type=click.Path(),
              help="Config file (default: ./sapbridge.toml if present, else built-ins only).")
@click.option("--db", "db_url", envvar="SAPBRIDGE_DB",
              help="Store URL, e.g. sqlite:///sapbridge.db or postgresql+psycopg://host/db.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option("--log-json", is_flag=True, help="Structured JSON logs on stderr, even on a terminal.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append every log line (JSON) to this file instead of stderr.")
@click.option("-v", "--verbose", is_flag=True, help="On a terminal, show info logs too (default: warnings).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars and only error logs.")
@click.option("--as", "actor", metavar="USER", help="Act as this configured user (default: OS user).")
@click.version_option(package_name="sapbridge")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_url: str | None, debug: bool,
        log_json: bool, log_file: Path | None, verbose: bool, quiet: bool, actor: str | None) -> None:
    """Pull SAP S/4HANA FSCM data, reconcile it, and push approved changes back under control.

    \b
    Example:
      sapbridge sync all --system demo
      sapbridge systems list
    """
    app = AppContext(config_path=config_path, db_url=db_url, debug=debug, log_json=log_json,
                     verbose=verbose, quiet=quiet, log_file=log_file, actor_override=actor)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI, translating library errors into one line and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return cli.main(args=argv, prog_name="sapbridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SapBridgeError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exit_code_of(exc))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(f"error: unexpected {type(exc).__name__}: {first_line} (--debug shows where)", err=True)
        sys.exit(EXIT_ERROR)
