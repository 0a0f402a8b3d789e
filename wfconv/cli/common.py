"""Helpers shared by the CLI modules: error reporting and output."""

from __future__ import annotations

import contextlib
import functools
import os
import sys

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
        except BrokenPipeError:
            # The reader of stdout went away (`wfconv run ... | head`): stop
            # quietly, as Unix tools do; stdout now leads nowhere, so that the
            # final flush at exit cannot fail again.
            with contextlib.suppress(OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            sys.exit(141)  # 128 + SIGPIPE, what a shell reports for such a writer
        except RecursionError:
            click.echo("wfconv: input is nested too deeply to read", err=True)
            sys.exit(2)
        except Exception as exc:  # pragma: no cover - defensive
            if os.environ.get("WFCONV_DEBUG"):
                import traceback  # here: every command's start-up would pay for it

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
        report_input_error(d.path, d.line, d.message)


def report_input_error(path: str | None, line: int | None, message: str) -> None:
    """Print one ``path:line: message`` for a piece of the input the command
    could not use, go on, and exit 2 when the command is done."""
    loc = path or "<input>"
    if line:
        loc = f"{loc}:{line}"
    text = f"{loc}: {message}"
    click.echo(text, err=True)
    REPORTED_INPUT_ERRORS.append(text)


def require_workflows(bundle, paths) -> None:
    """A command about workflows given none is an input error (exit 2), not
    "0/0 verified": the files named hold no workflow wfconv can read."""
    if bundle.workflows:
        return
    if REPORTED_INPUT_ERRORS:  # already said why, file by file
        sys.exit(2)
    where = paths[0] if len(paths) == 1 else ", ".join(map(str, paths))
    raise InputError(str(where), None, "no workflow found")


def force_option(fn):
    """``--force``: let ``-o`` overwrite files wfconv did not write (docs/outputs.md)."""
    return click.option(
        "--force",
        is_flag=True,
        default=False,
        help="Overwrite files at the -o destination that wfconv did not write "
        "(or that were changed since). Links are never written through.",
    )(fn)


def write_output(text: str, output: str | None, force: bool = False, inputs=()) -> None:
    with output_stream(output, force, inputs) as write:
        write(text)


@contextlib.contextmanager
def output_stream(output: str | None, force: bool = False, inputs=()):
    """A ``write(text)`` to ``output`` (a file) or stdout (None or "-"), for
    commands that print as they go. A file goes through wfconv.outputs: never
    over a user's file or an input (``force`` lifts that), written beside it
    and renamed into place when the command is done, so a command that fails
    half-way leaves no truncated document behind (docs/outputs.md)."""
    if output and output != "-":
        from wfconv.outputs import stream_file

        with stream_file(output, force=force, inputs=inputs) as write:
            yield write
    else:
        yield functools.partial(click.echo, nl=False)
