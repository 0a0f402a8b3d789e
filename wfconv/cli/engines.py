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
    for major in provision.AIRFLOW_RELEASES:
        st = provision.status(major)
        state = str(st.python) if st.python else f"not installed ({st.where})"
        click.echo(f"{st.name:<9} {st.version:<7} {state}")
    for name in ("prefect", "luigi"):
        try:
            mod = __import__(name)
            click.echo(f"{name:<9} {getattr(mod, '__version__', '?'):<7} {sys.executable}")
        except ImportError:
            click.echo(f"{name:<9} {'-':<7} not installed (pip install 'wfconv[{name}]')")


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
