"""Helpers shared by the CLI modules: error reporting and output."""

from __future__ import annotations

import functools
import os
import sys
import traceback

import click

from wfconv.errors import InputError, UsageError

ENGINE_CHOICE = click.Choice(["airflow", "prefect", "luigi", "oozie", "ir"])


def handle_errors(fn):
    """Turn InputError/UsageError into ``path:line: message`` + exit 2; never a
    traceback for bad input. An unexpected exception is reported in one line too
    (WFCONV_DEBUG=1 shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, UsageError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except RecursionError:
            click.echo("wfconv: input is nested too deeply to read", err=True)
            sys.exit(2)
        except Exception as exc:  # pragma: no cover - defensive
            if os.environ.get("WFCONV_DEBUG"):
                traceback.print_exc()
            click.echo(f"wfconv: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(2)

    return wrapper


def write_output(text: str, output: str | None) -> None:
    if output and output != "-":
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
