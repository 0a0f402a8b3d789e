"""Helpers shared by the CLI modules: error reporting and output."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import traceback

import click

from wfconv.errors import InputError, UsageError

ENGINE_CHOICE = click.Choice(["airflow", "prefect", "luigi", "oozie", "dagfactory", "ir"])


def handle_errors(fn):
    """Turn InputError/UsageError into ``path:line: message`` + exit 2; never a
    traceback for bad input. An unexpected exception is reported in one line too
    (WFCONV_DEBUG=1 shows the traceback)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        REPORTED_INPUT_ERRORS.clear()
        try:
            result = fn(*args, **kwargs)
        except SystemExit as exc:
            # A command that found problems (exit 1) still exits 2 when some
            # input could not be read.
            if REPORTED_INPUT_ERRORS and (exc.code in (0, 1, None)):
                sys.exit(2)
            raise
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
        if REPORTED_INPUT_ERRORS:
            sys.exit(2)
        return result

    return wrapper


# Input errors of files inside walked folders, reported by report_input_errors
# during the current command (the command goes on with the other files).
REPORTED_INPUT_ERRORS: list[str] = []


def report_input_errors(bundle) -> None:
    """Print ``path:line: message`` for every file of a walked folder that could
    not be read, and make the command exit 2 when it is done."""
    from wfconv.frontends import input_errors

    for d in input_errors(bundle):
        line = f"{d.path}:{d.line}: {d.message}" if d.line else f"{d.path}: {d.message}"
        click.echo(line, err=True)
        REPORTED_INPUT_ERRORS.append(line)


def write_output(text: str, output: str | None) -> None:
    with output_stream(output) as write:
        write(text)


@contextlib.contextmanager
def output_stream(output: str | None):
    """A ``write(text)`` to ``output`` (a file) or stdout (None or "-"), for
    commands that print as they go."""
    if output and output != "-":
        # Into a temporary file beside it, renamed when the command is done:
        # a command that fails half-way leaves no truncated document behind.
        folder = os.path.dirname(os.path.abspath(output))
        try:
            fd, part = tempfile.mkstemp(prefix=".wfconv-", suffix=".part", dir=folder)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
        try:
            with open(fd, "w", encoding="utf-8") as fh:
                yield fh.write
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(part, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
            os.replace(part, output)
        finally:
            if os.path.exists(part):
                os.unlink(part)
    else:
        yield functools.partial(click.echo, nl=False)
