"""``wfconv convert`` and the pair aliases (``wfconv airflow-to-prefect`` ...).

Reads sources with the frontends, refuses invalid graphs (exit 2), emits each
workflow with ``wfconv.backends.backend(target).emit`` and keeps the fidelity
ledger: every diagnostic of the parse and of the emit, with code, severity,
source location and the target construct. The ledger goes to stderr (table or
JSON) and, with ``-o``, to ``OUTDIR/wfconv-ledger.json``. ``--strict`` exits 1
when any entry is a warning or an error (something was approximated or
dropped); info entries are faithful notes.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

import click

from wfconv.cli.common import (
    ENGINE_CHOICE,
    force_option,
    handle_errors,
    report_input_error,
    require_workflows,
    source_paths,
)
from wfconv.errors import UsageError

TARGET_CHOICE = click.Choice(["airflow", "prefect", "luigi", "oozie"])
LEDGER_FILE = "wfconv-ledger.json"
LEDGER_VERSION = 1
LOSS_SEVERITIES = ("error", "warning")


def _entry(d, workflow: str | None, stage: str, output: str | None = None) -> dict[str, Any]:
    return {
        "workflow": workflow,
        "stage": stage,
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "path": d.path,
        "line": d.line,
        "target": getattr(d, "target", None),
        "output": output,
    }


def is_loss(entry: dict[str, Any]) -> bool:
    """What ``--strict`` fails on: a warning or error about something the
    conversion approximated or dropped (not, say, an Airflow 3 removal in the
    source, which every writer replaces: ``strict`` is False in the table)."""
    from wfconv import codes

    c = codes.get(entry["code"])
    return entry["severity"] in LOSS_SEVERITIES and (c is None or c.strict)


def _unique_path(path: str, taken: set[str]) -> str:
    """Another workflow already wrote ``path``: suffix its first component."""
    if path not in taken:
        return path
    head, sep, rest = path.partition("/")
    stem, dot, ext = head.rpartition(".") if not sep else (head, "", "")
    if not stem:
        stem, dot, ext = head, "", ""
    n = 2
    while True:
        first = f"{stem}_{n}{dot}{ext}" if not sep else f"{head}_{n}"
        cand = first + (sep + rest if sep else "")
        if cand not in taken:
            return cand
        n += 1


def _safe_relative(path: str) -> str:
    norm = posixpath.normpath(path)
    if norm.startswith(("/", "../")) or norm == ".." or not norm or norm == ".":
        raise UsageError(f"backend produced an unsafe output path {path!r}")
    return norm


def _where(w) -> tuple[str | None, int | None]:
    return (w.source.path, w.source.line) if w.source else (None, None)


def convert(bundle, target: str, **options) -> tuple[dict[str, str], dict[str, Any]]:
    """Emit every workflow of a bundle: (files, ledger document).

    A workflow whose graph is invalid, or whose id an earlier workflow of the
    bundle already has (two DAG files with one ``dag_id``: the engine would
    reject one), is not emitted: it becomes an ``error`` entry of the ledger
    (stage ``parse``, ``output`` null), so the ledger accounts for every input.
    ``skipped(ledger)`` lists them."""
    from wfconv.frontends import paused_gc

    # Emitting allocates much and makes no cycles worth collecting; with the
    # collector on, each full collection walks the whole parsed bundle (a
    # third of a 50,000-task conversion). Paused as while reading.
    with paused_gc():
        return _convert(bundle, target, **options)


def _convert(bundle, target: str, **options) -> tuple[dict[str, str], dict[str, Any]]:
    from wfconv.backends import backend
    from wfconv.ir.validate import DUPLICATE_WORKFLOW, graph_errors

    module = backend(target)
    files: dict[str, str] = {}
    shared: set[str] = set()
    entries: list[dict[str, Any]] = []
    outputs: dict[str, list[str]] = {}
    for d in bundle.diagnostics:
        entries.append(_entry(d, None, "parse"))
    workflows: dict[str, Any] = {}
    emit: list[Any] = []
    for w in bundle.workflows:
        path, line = _where(w)
        if w.id in workflows:
            fpath, fline = _where(workflows[w.id])
            where = f"{fpath}:{fline}" if fline else str(fpath)
            entries.append(
                _error(
                    w.id,
                    DUPLICATE_WORKFLOW,
                    f"workflow id {w.id!r} is already defined at {where}; not converted "
                    "(the engine would reject one of the two)",
                    path,
                    line,
                )
            )
            continue
        workflows[w.id] = w
        errs = graph_errors(w)
        if errs:
            d = errs[0]
            entries.append(
                _error(
                    w.id, d.code, f"workflow {w.id!r}: {d.message}; not converted", d.path, d.line
                )
            )
            continue
        emit.append(w)
    for w in emit:
        emitted = module.emit(w, workflows=workflows, **options)
        names = []
        for rel, text in emitted.files.items():
            rel = _safe_relative(rel)
            if rel in emitted.shared:
                # a helper module shared by the folder's workflows: written once
                files.setdefault(rel, text)
                shared.add(rel)
                continue
            rel = _unique_path(rel, set(files))
            files[rel] = text
            names.append(rel)
        outputs[w.id] = names
        first = names[0] if names else None
        for d in w.diagnostics:
            entries.append(_entry(d, w.id, "parse"))
        for d in emitted.diagnostics:
            entries.append(_entry(d, w.id, "emit", first))
    summary = {
        s: sum(1 for e in entries if e["severity"] == s) for s in ("error", "warning", "info")
    }
    ledger = {
        "wfconv_ledger": LEDGER_VERSION,
        "target": target,
        "options": {k: v for k, v in sorted(options.items()) if v is not None and k != "workflows"},
        "files": outputs,
        "shared_files": sorted(shared),
        "summary": summary,
        "entries": entries,
    }
    return files, ledger


def _error(workflow, code, message, path, line) -> dict[str, Any]:
    return {
        "workflow": workflow,
        "stage": "parse",
        "severity": "error",
        "code": code,
        "message": message,
        "path": path,
        "line": line,
        "target": None,
        "output": None,
        "skipped": True,
    }


def skipped(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    """The ledger entries of workflows that were not converted."""
    return [e for e in ledger["entries"] if e.get("skipped")]


# Past this many entries the terminal gets one row per code (with a count and
# the first message); every entry is in the JSON ledger.
TABLE_ROWS = 300


def _grouped_table(ledger: dict[str, Any], stream=None) -> str:
    from wfconv.cli.term import table_text

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in ledger["entries"]:
        groups.setdefault((e["severity"], e["code"]), []).append(e)
    order = {"error": 0, "warning": 1, "info": 2}
    rows = []
    for (severity, code), group in sorted(
        groups.items(), key=lambda kv: (order.get(kv[0][0], 3), kv[0][1])
    ):
        first = group[0]
        rows.append((severity, code, len(group), _source(first), first["message"]))
    text = table_text(
        ("SEVERITY", "CODE", "COUNT", "FIRST AT", "FIRST MESSAGE"),
        rows,
        stream=stream,
        styled=(0,),
        right=(2,),
    )
    return (
        text
        + _summary(ledger)
        + f" ({len(ledger['entries'])} entries, one row per code here; every entry is in the "
        + "JSON ledger: --ledger-format json, or wfconv-ledger.json beside the output)\n"
    )


def _source(entry: dict[str, Any]) -> str:
    if entry["path"] and entry["line"]:
        return f"{entry['path']}:{entry['line']}"
    return entry["path"] or "-"


def _summary(ledger: dict[str, Any]) -> str:
    s = ledger["summary"]
    return f"ledger: {s['error']} error(s), {s['warning']} warning(s), {s['info']} info"


def format_table(ledger: dict[str, Any], stream=None) -> str:
    """The ledger as a table for ``stream`` (stderr): one row per entry, the
    message wrapped to the width available."""
    from wfconv.cli.term import table_text

    entries = ledger["entries"]
    if not entries:
        return "ledger: nothing approximated or dropped\n"
    if len(entries) > TABLE_ROWS:
        return _grouped_table(ledger, stream)
    rows = [
        (e["severity"], e["code"], _source(e), e["target"] or "-", e["message"]) for e in entries
    ]
    text = table_text(
        ("SEVERITY", "CODE", "SOURCE", "TARGET", "MESSAGE"),
        rows,
        stream=stream,
        styled=(0,),
        wrap=(3,),
    )
    return text + _summary(ledger) + "\n"


def _run(
    paths,
    engine,
    target,
    output,
    strict,
    ledger_format,
    airflow_version,
    subworkflow,
    roots,
    params,
    static,
    force=False,
):
    from wfconv.cli.core import load_sources
    from wfconv.outputs import write_folder

    bundle = load_sources(paths, engine, roots, params, static)
    require_workflows(bundle, paths)
    incomplete = [w for w in bundle.workflows if not w.complete]
    if strict and incomplete:
        # Converting part of a workflow as if it were all of it is the one
        # loss --strict must never let through: nothing is written.
        for w in incomplete:
            click.echo(f"--strict: workflow {w.id!r} is incomplete; not converted:", err=True)
            for reason in w.incomplete_reasons:
                click.echo(f"  {reason}", err=True)
        raise SystemExit(1)
    options: dict[str, Any] = {}
    if airflow_version is not None:
        options["airflow_version"] = int(airflow_version)
    if subworkflow is not None:
        options["subworkflow"] = subworkflow
    files, ledger = convert(bundle, target, **options)
    # One policy for every engine: every valid workflow is converted, every
    # invalid one is reported (path:line: message) and the command exits 2.
    for e in skipped(ledger):
        report_input_error(e["path"], e["line"], e["message"])
    ledger_json = json.dumps(ledger, indent=2, ensure_ascii=False) + "\n"

    if output:
        done = write_folder(
            output,
            {**files, LEDGER_FILE: ledger_json},
            force=force,
            inputs=[*paths, *source_paths(bundle)],
        )
        if ledger_format != "json":  # keep stderr one JSON document in json mode
            for note in done.notes():
                click.echo(note, err=True)
            click.echo(f"wrote {len(files)} file(s) and {LEDGER_FILE} to {output}", err=True)
    elif files:
        shared = set(ledger["shared_files"])
        own = [rel for rel in files if rel not in shared]
        if len(own) != 1:
            raise UsageError(
                f"{len(files)} files to write ({', '.join(sorted(files))}): give an output folder with -o"
            )
        click.echo(files[own[0]], nl=False)
        if shared:
            click.echo(
                f"note: the code above imports {', '.join(sorted(shared))}, wfconv's helper "
                "module for it; give an output folder with -o to write it too",
                err=True,
            )

    if ledger_format == "json":
        click.echo(ledger_json, err=True, nl=False)
    else:
        click.echo(format_table(ledger), err=True, nl=False)

    losses = sum(1 for e in ledger["entries"] if is_loss(e))
    if strict and losses:
        click.echo(f"--strict: {losses} construct(s) approximated or dropped", err=True)
        raise SystemExit(1)


def _common_options(fn):
    fn = click.option(
        "-o",
        "--output",
        type=click.Path(file_okay=False),
        default=None,
        help="Output folder (files + wfconv-ledger.json). Without it, a single file goes to "
        "stdout. wfconv overwrites only files it wrote there itself (docs/outputs.md).",
    )(fn)
    fn = click.option(
        "--strict",
        is_flag=True,
        default=False,
        help="Exit 1 if any construct was approximated or dropped (ledger warnings/errors).",
    )(fn)
    fn = click.option(
        "--ledger",
        "ledger_format",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="How the fidelity ledger is printed on stderr.",
    )(fn)
    fn = click.option(
        "--subworkflow",
        type=click.Choice(["trigger", "taskgroup"]),
        default=None,
        help="Airflow: a called workflow of the same input runs as its own DAG "
        "(trigger, default: TriggerDagRunOperator) or is inlined as a TaskGroup.",
    )(fn)
    fn = click.option(
        "--airflow-version",
        type=click.Choice(["2", "3"]),
        default=None,
        help="Airflow target: 3 (default; airflow.sdk imports) or 2 (2.4+ idioms).",
    )(fn)
    return force_option(fn)


def _build(name: str, fixed_from: str | None, fixed_to: str | None) -> click.Command:
    from wfconv.cli.core import source_options

    def callback(paths, output, strict, ledger_format, **kw):
        _run(
            paths,
            fixed_from or kw.get("engine"),
            fixed_to or kw.get("target"),
            output,
            strict,
            ledger_format,
            kw.get("airflow_version"),
            kw.get("subworkflow"),
            kw.get("roots", ()),
            kw.get("params", ()),
            kw.get("static", False),
            kw.get("force", False),
        )

    callback = handle_errors(callback)
    if fixed_to:
        help_text = (
            f"Convert {fixed_from or 'workflow'} files to {fixed_to} "
            f"(same as `wfconv convert --from {fixed_from} --to {fixed_to}`)."
        )
    else:
        help_text = (
            "Convert workflow files (or folders) to another engine and print the fidelity ledger.\n\n"
            "Every construct the target cannot express exactly is listed with its code, severity, "
            "source line and the target construct used instead."
        )
    params: list[click.Parameter] = [
        click.Argument(["paths"], nargs=-1, required=True, type=click.Path())
    ]
    cmd = click.Command(name, callback=callback, params=params, help=help_text)
    cmd = _common_options(cmd)
    if not fixed_to:
        cmd = click.option(
            "--to", "target", type=TARGET_CHOICE, required=True, help="Target engine."
        )(cmd)
    cmd = source_options(cmd)
    if fixed_from:
        # A pair alias shows only the options that apply to its pair: --from
        # and --to are fixed, Luigi options need a Luigi source, Airflow
        # options an Airflow target.
        drop = {"engine"}
        if fixed_from != "luigi":
            drop |= {"roots", "params", "static"}
        if fixed_from != "airflow":
            drop |= {"airflow_source_version"}
        if fixed_to != "airflow":
            drop |= {"airflow_version", "subworkflow"}
        cmd.params = [p for p in cmd.params if p.name not in drop]
    return cmd


def make_alias(src: str, dst: str) -> click.Command:
    """``wfconv <src>-to-<dst>``: convert with --from and --to fixed."""
    if src not in ENGINE_CHOICE.choices or dst not in TARGET_CHOICE.choices:
        raise UsageError(f"unknown conversion {src}-to-{dst}")
    return _build(f"{src}-to-{dst}", src, dst)


convert_cmd = _build("convert", None, None)
