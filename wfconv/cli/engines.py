"""``wfconv engines``: list and install the real engines used by ``verify``."""

from __future__ import annotations

import sys

import click

from wfconv.cli.common import handle_errors
from wfconv.engines import provision


@click.group("engines")
def engines_cmd():
    """The real engines wfconv checks its output in.

    \b
    Airflow 3 and Airflow 2 each live in a virtualenv of their own under
    the user's cache folder; Prefect and Luigi run in wfconv's interpreter.
    """


@engines_cmd.command("list")
@handle_errors
def list_cmd():
    """Show which engines are installed and where."""
    from wfconv import extras
    from wfconv.cli.term import table_text

    rows = []
    for major in provision.AIRFLOW_RELEASES:
        st = provision.status(major)
        state = str(st.python) if st.python else f"not installed ({st.where})"
        rows.append((st.name, st.version, state))
    for name in ("prefect", "luigi"):
        if extras.installed(name):
            version = getattr(__import__(name), "__version__", "?")
            rows.append((name, version, sys.executable))
        else:
            rows.append((name, "-", f"not installed (pip install 'wfconv[{name}]')"))
    click.echo(table_text(("ENGINE", "VERSION", "WHERE"), rows, stream=sys.stdout), nl=False)


@engines_cmd.command("install")
@click.argument("names", nargs=-1, type=click.Choice(["airflow3", "airflow2"]))
@handle_errors
def install_cmd(names):
    """Install Airflow 3 and/or 2 into their own virtualenvs (default: both).

    Needs network access to a package index; about 35 s per release.
    Installed releases are left as they are.
    """
    majors = [n.removeprefix("airflow") for n in names] or list(provision.AIRFLOW_RELEASES)
    failed = False
    for major in majors:
        try:
            py = provision.install_airflow(major, log=lambda m: click.echo(m, err=True))
        except (RuntimeError, OSError) as exc:
            click.echo(f"wfconv: airflow{major}: {exc}", err=True)
            failed = True
            continue
        click.echo(f"airflow{major}: {py}", err=True)
    if failed:
        sys.exit(2)
