"""``wfconv upgrade``: rewrite Airflow 2 DAG files for Airflow 3 in place
(docs/upgrade.md; codes in wfconv/upgrade/codes.py)."""

from __future__ import annotations

import datetime as _dt
import sys

import click

from wfconv.cli.common import handle_errors
from wfconv.errors import InputError, UsageError


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    from wfconv.upgrade.codes import CODES

    out: list[str] = []
    for v in values:
        for c in (x.strip().upper() for x in v.split(",")):
            if not c:
                continue
            if not any(code.startswith(c) for code in CODES):
                raise UsageError(f"unknown code or prefix {c!r} (the codes are in docs/upgrade.md)")
            out.append(c)
    return tuple(out)


def _today(value: str | None) -> _dt.date | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--today expects a date (YYYY-MM-DD), got {value!r}") from None


@click.command("upgrade")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--write",
    is_flag=True,
    help="Rewrite the files in place (default: print a diff, write nothing).",
)
@click.option(
    "--select",
    multiple=True,
    help="Only these codes (comma-separated, prefixes allowed: UG4, UG501).",
)
@click.option(
    "--ignore", multiple=True, help="Not these codes (comma-separated, prefixes allowed)."
)
@click.option(
    "--timetable",
    type=click.Choice(["interval", "trigger"]),
    default="interval",
    show_default=True,
    help="Cron/timedelta schedules: keep Airflow 2's data-interval timetables, or move to "
    "Airflow 3's trigger timetables with templates rewritten to the same dates.",
)
@click.option(
    "--today",
    default=None,
    help="The day `days_ago(n)` start dates count from (default: today, UTC).",
)
@handle_errors
def upgrade_cmd(paths, write, select, ignore, timetable, today):
    """Upgrade Airflow 2 DAG files to Airflow 3, changing only what Airflow 3 requires.

    Prints a unified diff of every file that would change on stdout and one
    line per change or problem on stderr (`path:line: CODE message`). Exit
    code 1 when something needs a person (a change that drops behaviour, or
    one that could not be made), 2 when an input cannot be read.

    \b
    Examples:
      wfconv upgrade dags/                    # what would change
      wfconv upgrade dags/ --write            # change it
      wfconv upgrade dags/etl.py --ignore UG5 # everything but the time model
    """
    from wfconv.upgrade import Options, diff, upgrade_text
    from wfconv.upgrade.files import Source, collect, write_atomic

    opts = Options(_codes(select), _codes(ignore), timetable, _today(today))
    errors = 0
    person = 0
    changed = 0
    changes = 0
    for item in collect(paths):
        if isinstance(item, InputError):
            click.echo(str(item), err=True)
            errors += 1
            continue
        if not isinstance(item, Source):
            click.echo(f"{item[0]}: {item[1]}", err=True)
            continue
        try:
            result = upgrade_text(item.path, item.text, opts)
        except InputError as exc:
            click.echo(str(exc), err=True)
            errors += 1
            continue
        for f in result.findings:
            tag = (
                ""
                if f.kind == "fix"
                else f" [{'needs a person' if f.kind == 'manual' else 'behaviour dropped'}]"
            )
            click.echo(f"{result.path}:{f.line}: {f.code} {f.message}{tag}", err=True)
        person += len(result.needs_person())
        changes += sum(1 for f in result.findings if f.kind != "manual")
        if not result.changed:
            continue
        changed += 1
        if write:
            try:
                write_atomic(result.path, result.old, result.new)
            except InputError as exc:
                click.echo(str(exc), err=True)
                errors += 1
        else:
            sys.stdout.write(diff(result))
    verb = "changed" if write else "would change"
    click.echo(
        f"{changed} file(s) {verb}, {changes} change(s); {person} finding(s) need a person",
        err=True,
    )
    sys.exit(2 if errors else 1 if person else 0)
