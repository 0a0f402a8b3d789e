"""``wfconv parse``, ``wfconv graph``, ``wfconv schema``."""

from __future__ import annotations

import json

import click

from wfconv.cli.common import (
    ENGINE_CHOICE,
    force_option,
    handle_errors,
    output_stream,
    report_input_errors,
    write_output,
)
from wfconv.errors import UsageError


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        if "=" not in v:
            raise UsageError(f"--param expects NAME=VALUE, got {v!r}")
        k, _, val = v.partition("=")
        out[k.strip()] = val
    return out


def source_options(fn):
    """Options every command that reads sources shares."""
    fn = click.option(
        "--from",
        "engine",
        type=ENGINE_CHOICE,
        default=None,
        help="Source engine (default: detected from imports / XML namespace).",
    )(fn)
    fn = click.option(
        "--root",
        "roots",
        multiple=True,
        help="Luigi: root task class to start from (repeatable).",
    )(fn)
    fn = click.option(
        "--param",
        "params",
        multiple=True,
        help="Luigi: NAME=VALUE parameter for the root task (repeatable).",
    )(fn)
    fn = click.option(
        "--airflow-source-version",
        type=click.Choice(["2", "3"]),
        default=None,
        expose_value=False,
        callback=_remember_airflow_version,
        help="Airflow: the version a DAG file that does not show its own (no airflow.sdk "
        "import, no schedule_interval, ...) is read as; it decides what a bare cron or "
        "timedelta means (default: 2, with a warning).",
    )(fn)
    fn = click.option(
        "--path",
        "repo_paths",
        multiple=True,
        type=click.Path(file_okay=False),
        expose_value=False,
        callback=_remember_paths,
        help="Airflow/Prefect: another folder the files import their modules from, as on "
        "Airflow's sys.path (repeatable; the DAGs folder, the repository root, plugins/ and "
        "src/ are searched anyway). Never imported: read statically.",
    )(fn)
    fn = click.option(
        "--static",
        is_flag=True,
        default=False,
        help="Luigi: never import the module (by default Luigi modules are imported "
        "in a child process with a timeout to ask requires(): that executes the module).",
    )(fn)
    return fn


_AIRFLOW_VERSION_KEY = "wfconv.airflow_source_version"


def _remember_airflow_version(ctx, _param, value):
    """Kept in the click context, so every command that reads sources takes
    the option without one more parameter each."""
    ctx.meta[_AIRFLOW_VERSION_KEY] = value
    return value


def _remember_paths(ctx: click.Context, param, value) -> None:
    # Kept on the context so every command's load_sources sees it without
    # a parameter of its own.
    ctx.meta["wfconv.repo_paths"] = list(value or ())


def load_sources(paths, engine, roots=(), params=(), static=False):
    from wfconv.ir.model import Bundle

    bundle = Bundle()
    for b in iter_sources(paths, engine, roots, params, static):
        bundle.workflows.extend(b.workflows)
        bundle.diagnostics.extend(b.diagnostics)
    return bundle


def iter_sources(paths, engine, roots=(), params=(), static=False, report=True):
    """The sources one file at a time (a Bundle each); unreadable files are
    reported on stderr as they are met (the command exits 2 at the end),
    unless ``report`` is off (the same sources read a second time)."""
    from wfconv.frontends import iter_load

    options = {}
    ctx = click.get_current_context(silent=True)
    version = ctx.meta.get(_AIRFLOW_VERSION_KEY) if ctx is not None else None
    if version:
        options["airflow_source_version"] = version
    repo_paths = ctx.meta.get("wfconv.repo_paths") if ctx is not None else None
    if repo_paths:
        options["repo_paths"] = repo_paths
    if roots:
        options["roots"] = list(roots)
    if params:
        options["params"] = parse_params(params)
    if static:
        options["static"] = True
    for bundle in iter_load(list(paths), engine, **options):
        if report:
            report_input_errors(bundle)
        yield bundle


@click.command("parse")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@source_options
@click.option(
    "-o", "--output", type=click.Path(), default=None, help="Write the IR here (default stdout)."
)
@click.option(
    "--indent/--compact",
    default=None,
    help="Indented JSON for reading, or one compact line for programs "
    "(default: indented on a terminal, compact otherwise).",
)
@force_option
@handle_errors
def parse_cmd(paths, engine, roots, params, static, output, indent, force):
    """Read workflow files (or folders) and print their IR as JSON.

    Airflow and Prefect files are read statically and never imported. Validation
    problems (cycles, unknown tasks) are listed in each workflow's diagnostics;
    the IR is printed anyway so it can be inspected.
    """
    from wfconv.ir.jsonio import dump_stream

    if indent is None:
        indent = not output and click.get_text_stream("stdout").isatty()
    # Written workflow by workflow as files are read: memory does not grow
    # with the number of files (the document is the same as one dumps()).
    with output_stream(output, force, paths) as write:
        dump_stream(iter_sources(paths, engine, roots, params, static), write, indent=indent)


@click.command("graph")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@source_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
@click.option(
    "--markdown",
    is_flag=True,
    help="Mermaid in a fenced ```mermaid block, ready to paste into a README or a pull request.",
)
@click.option("-o", "--output", type=click.Path(), default=None)
@force_option
@handle_errors
def graph_cmd(paths, engine, roots, params, static, fmt, markdown, output, force):
    """Print a picture (Mermaid or Graphviz DOT) of each workflow."""
    from wfconv.backends import render_graph

    if markdown and fmt != "mermaid":
        raise UsageError("--markdown fences Mermaid only (drop --format dot)")
    bundle = load_sources(paths, engine, roots, params, static)
    parts = [render_graph(w, fmt) for w in bundle.workflows]
    if markdown:
        parts = [f"```mermaid\n{p.rstrip(chr(10))}\n```\n" for p in parts]
    write_output("\n".join(parts), output, force, paths)


@click.command("schema")
@click.option(
    "--for",
    "name",
    type=click.Choice(["ir", "ledger", "audit", "run", "verify", "compare"]),
    default="ir",
    show_default=True,
    help="Which JSON document: the IR (parse), the convert ledger, or a command's --format json.",
)
@handle_errors
def schema_cmd(name):
    """Print the JSON Schema of a JSON document wfconv writes (the IR by default)."""
    from wfconv import schemas

    click.echo(json.dumps(schemas.load(name), indent=2, ensure_ascii=False))
