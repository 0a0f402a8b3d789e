"""``wfconv audit``: check files and folders of workflows statically (no user
code is imported) and report findings (codes in docs/audit.md)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import click

from wfconv.cli.common import force_option, handle_errors, output_stream
from wfconv.errors import UsageError

FORMATS = ("table", "json", "sarif", "html", "github", "gitlab")


def _codes(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    """Comma-separated codes or code prefixes; one that names no code is a
    usage error (a typo would otherwise silently select nothing)."""
    out: list[str] = []
    for v in values:
        out += [c.strip() for c in v.split(",") if c.strip()]
    if out:
        known = _known_codes()
        bad = [c for c in out if not any(k.startswith(c.upper()) for k in known)]
        if bad:
            raise UsageError(
                f"{option}: unknown code(s) {', '.join(map(repr, bad))} "
                "(the codes are listed in docs/audit.md and docs/codes/)"
            )
    return tuple(out)


def _known_codes() -> set[str]:
    """Every code a finding can carry: the audit's own, and the frontends'
    diagnostic codes (module constants of the frontend packages)."""
    import importlib
    import re

    from wfconv.audit.codes import CODES, DIAGNOSTIC_MAP
    from wfconv.frontends import ENGINES, FRONTENDS

    for engine in ENGINES:
        importlib.import_module(FRONTENDS[engine])
    importlib.import_module("wfconv.ir.validate")
    shape = re.compile(r"[A-Z]{2}\d{3}")
    known = {*CODES, *DIAGNOSTIC_MAP}
    for name, module in list(sys.modules.items()):
        if name.startswith(("wfconv.frontends", "wfconv.ir")):
            known.update(
                v for v in vars(module).values() if isinstance(v, str) and shape.fullmatch(v)
            )
    return known


def _summary_line(s) -> str:
    found = ", ".join(f"{s.findings.get(k, 0)} {k}" for k in ("error", "warning", "info"))
    return f"{s.files} file(s), {s.workflows} workflow(s), {s.failed} unreadable: findings {found}"


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now expects an ISO date or date-time, got {value!r}") from None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _reporter(fmt: str, out, metrics: bool, stats: bool = False):
    if stats:
        if fmt not in ("table", "json"):
            raise UsageError("--statistics prints a table or JSON (--format table|json)")
        from wfconv.audit.annotations import StatisticsReporter

        return StatisticsReporter(out, fmt)
    if fmt in ("github", "gitlab"):
        from wfconv.audit.annotations import GithubReporter, GitlabReporter

        return (GithubReporter if fmt == "github" else GitlabReporter)(out)
    if fmt == "json":
        from wfconv.audit.report import JsonReporter

        return JsonReporter(out)
    if fmt == "sarif":
        from wfconv.audit.sarif import SarifReporter

        return SarifReporter(out)
    if fmt == "html":
        from wfconv.audit.html import HtmlReporter

        return HtmlReporter(out)
    from wfconv.audit.report import TableReporter

    return TableReporter(out, metrics)


@click.command("audit")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    default=None,
    help="Write the report here (default stdout).",
)
@click.option(
    "--select",
    multiple=True,
    help="Only these codes (comma-separated, prefixes allowed: AU4, AF2).",
)
@click.option(
    "--ignore", multiple=True, help="Not these codes (comma-separated, prefixes allowed)."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=None,
    help="Worker processes (default: number of cores; 0 = in this process, without timeout).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds one file may take before it is stopped and reported (AU903).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when a reported finding has this severity or worse.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    default=None,
    help="A previous `--format json` report: only findings not in it are reported.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=".wfconv/audit-cache",
    show_default=True,
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option(
    "--now",
    "now",
    default=None,
    help="Reference date for run counts (default: today 00:00 UTC), for reproducible reports.",
)
@click.option(
    "--metrics", is_flag=True, help="Table format: also print tasks/edges/depth/width per workflow."
)
@click.option(
    "--statistics",
    "stats",
    is_flag=True,
    help="Print how many findings of each code instead of the findings (table or json).",
)
@force_option
@handle_errors
def audit_cmd(
    paths,
    fmt,
    output,
    select,
    ignore,
    jobs,
    timeout,
    fail_on,
    baseline,
    cache_dir,
    no_cache,
    now,
    metrics,
    stats,
    force,
):
    """Audit workflow files and folders of any engine, statically and in parallel.

    Files are auto-detected (Airflow, Prefect, Luigi, Oozie, IR JSON); other
    files are skipped and counted. Exit code 1 when a finding at or above
    --fail-on is reported, 2 on usage errors.

    \b
    Examples:
      wfconv audit dags/
      wfconv audit dags/ --format sarif -o audit.sarif --fail-on never
      wfconv audit dags/ --format github          # annotations in a GitHub Actions job
      wfconv audit dags/ --statistics             # findings per code
      wfconv audit dags/ --format json -o base.json && wfconv audit dags/ --baseline base.json
    """
    from wfconv.audit.baseline import load_baseline
    from wfconv.audit.run import Options, audit, default_jobs, exit_code

    reporter = lambda out: _reporter(fmt, out, metrics, stats)  # noqa: E731
    reporter(None)  # usage errors before any work
    opts = Options(
        jobs=default_jobs() if jobs is None else jobs,
        timeout=timeout,
        now=_now(now),
        cache_dir=None if no_cache else cache_dir,
        select=_codes(select, "--select"),
        ignore=_codes(ignore, "--ignore"),
        baseline=load_baseline(baseline) if baseline else None,
        progress=True,
    )
    if output and output != "-":
        # Through wfconv.outputs: refused at once over a file wfconv did not
        # write, renamed into place when the audit is done.
        with output_stream(output, force, paths) as write:
            summary = audit(paths, opts, reporter(SimpleNamespace(write=write)))
        click.echo(f"{_summary_line(summary)}; report written to {output}", err=True)
    else:
        # `wfconv audit dags/ | head`: a reader that has seen enough is
        # handle_errors' BrokenPipeError.
        summary = audit(paths, opts, reporter(sys.stdout))
        sys.stdout.flush()
    sys.exit(exit_code(summary, fail_on))
