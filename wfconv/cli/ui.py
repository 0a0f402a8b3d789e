"""``wfconv ui``: the web pages of the run store and of a migration."""

from __future__ import annotations

import click

from wfconv.cli.common import handle_errors
from wfconv.cli.core import parse_params, source_options
from wfconv.errors import UsageError

TARGETS = ("airflow", "prefect", "luigi", "oozie")


@click.command("ui")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--db",
    default=None,
    type=click.Path(dir_okay=False),
    help="The run store of `wfconv run` (default ./.wfconv/runs.sqlite).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but a loopback address lets other machines "
    "read your runs and files.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="0 picks a free port.",
)
@click.option(
    "--targets",
    default=",".join(TARGETS),
    show_default=True,
    help="Migration: comma-separated targets to convert and verify PATHS to.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=".wfconv/ui-cache",
    show_default=True,
    help="Where audit results and verify verdicts are kept between runs.",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@source_options
@handle_errors
def ui_cmd(paths, db, host, port, targets, cache_dir, no_cache, engine, roots, params, static):
    """Serve web pages over the runs of the store and over a migration of PATHS.

    \b
    Runs: each workflow's grid of tasks x runs, a run's Gantt chart and graph,
    every attempt with its log, exit code, reason and rendered command.
    Migration (PATHS): every file and workflow, its audit findings, and per
    target the conversion, its ledger, the code beside the source and verify's
    verdict (computed in the background, cached); Compare: the roll-up.

    \b
      wfconv run dags/etl.py --backfill 2024-01-01 2024-01-07
      wfconv ui                       # http://127.0.0.1:8765/
      wfconv ui dags/ --port 0        # the migration of a folder, any free port
    """
    from pathlib import Path

    from wfconv.audit.run import collect_paths
    from wfconv.runtime.store import DEFAULT_DB

    try:
        from wfconv.ui import server
        from wfconv.ui.app import create_app
        from wfconv.ui.migration import Migration
    except ImportError as exc:
        raise UsageError(
            f"wfconv ui needs the 'ui' extra (pip install 'wfconv[ui]'): {exc}"
        ) from None
    chosen = tuple(t.strip() for t in targets.split(",") if t.strip())
    bad = [t for t in chosen if t not in TARGETS]
    if bad or not chosen:
        raise UsageError(f"unknown target(s) {', '.join(bad)}; known: {', '.join(TARGETS)}")
    store = Path(db) if db else DEFAULT_DB
    if db and not store.is_file():
        raise UsageError(f"{db}: no run store here (wfconv run --db {db} writes one)")
    migration = None
    if paths:
        collect_paths(paths)  # a missing path is an input error now, not on a page
        options = {}
        if roots:
            options["roots"] = list(roots)
        if params:
            options["params"] = parse_params(params)
        if static:
            options["static"] = True
        migration = Migration(list(paths), chosen, engine, options, None if no_cache else cache_dir)
    try:
        sock = server.bind(host, port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    app = create_app(store, migration, host)
    if migration is not None:
        migration.start()
    click.echo(f"wfconv ui: {server.url(sock)}/  (Ctrl-C stops)", err=True)
    try:
        server.serve(app, sock)
    finally:
        if migration is not None:
            migration.stop()
        sock.close()
