"""``wfconv convert`` and the pair aliases (``wfconv airflow-to-prefect`` ...).

Reads sources with the frontends, refuses invalid graphs (exit 2), emits each
workflow with ``wfconv.backends.backend(target).emit`` and keeps the fidelity
ledger: every diagnostic of the parse and of the emit, with code, severity,
source location and the target construct. The ledger goes to stderr (table or
JSON) and, with ``-o``, to ``OUTDIR/wfconv-ledger.json``. ``--strict`` exits 1
when any entry is a warning or an error (something was approximated or
dropped); info entries are faithful notes.

A folder is converted as it is read (``Conversion``): one file at a time, each
generated file staged in the output folder at once, the ledger spooled; memory
does not grow with the number of files (docs/outputs.md).
"""

from __future__ import annotations

import contextlib
import heapq
import json
import pickle
import posixpath
import tempfile
from collections.abc import Callable, Container, Iterable, Iterator
from typing import Any

import click

from wfconv.cli.common import (
    ENGINE_CHOICE,
    force_option,
    handle_errors,
    report_input_error,
    require_workflows,
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


def _unique_path(path: str, taken: Container[str]) -> str:
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
    ``skipped(ledger)`` lists them. (``wfconv convert DIR -o OUT`` does the
    same through ``Conversion``, without holding the files or the ledger.)"""
    texts: list[str] = []

    def keep(text: str) -> int:
        texts.append(text)
        return len(texts) - 1

    with Conversion(target, keep, lambda: [bundle], **options) as conv:
        conv.feed(bundle)
        conv.finish()
        files = {rel: texts[key] for rel, key in conv.files.items()}
        return files, {**conv.head(), "entries": list(conv.entries())}


def _calls(w) -> set[str]:
    """Ids of the other workflows ``w`` calls (sub-workflow tasks)."""
    names = {t.action.get("workflow") for t in w.tasks if t.action.kind == "subworkflow"}
    return {n for n in names if n and n != w.id}


# One C-encoder pass per entry: JSON escapes newlines inside strings, so the
# only newlines are the item separator's (the entry's depth in the ledger).
_ENTRY = json.JSONEncoder(ensure_ascii=False, separators=(",\n      ", ": ")).encode


def _entry_json(entry: dict[str, Any]) -> str:
    """A ledger entry as ``json.dumps(ledger, indent=2)`` writes it in
    ``entries`` (that takes the pure-Python encoder: 4x slower)."""
    if any(isinstance(v, (dict, list, tuple)) for v in entry.values()):
        from wfconv.jsonstream import dumps_at

        return dumps_at(entry, True, 2)
    return "{\n      " + _ENTRY(entry)[1:-1] + "\n    }"


def _counted(entries: list[dict[str, Any]]) -> tuple[int, ...]:
    """How many entries are errors, warnings, info, in all, and losses
    (what --strict fails on): a tuple, kept per workflow until the end."""
    severities = [e["severity"] for e in entries]
    return (
        severities.count("error"),
        severities.count("warning"),
        severities.count("info"),
        len(entries),
        sum(map(is_loss, entries)),
    )


def _add(*counts: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(map(sum, zip(*counts, strict=True)))


class _Spool:
    """Records pickled, in order, to an anonymous temporary file (so that
    what grows with the number of files is on disk, not in memory)."""

    def __init__(self):
        self._fh = tempfile.TemporaryFile()
        self._count = 0

    def add(self, record: Any) -> None:
        pickle.dump(record, self._fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __iter__(self) -> Iterator[Any]:
        self._fh.flush()
        end = self._fh.tell()
        self._fh.seek(0)
        try:
            for _ in range(self._count):
                yield pickle.load(self._fh)
        finally:
            self._fh.seek(end)

    def close(self) -> None:
        self._fh.close()


class Conversion:
    """``convert`` over bundles fed one file at a time (``wfconv convert
    DIR``): memory does not grow with the number of files.

    Each generated file goes to ``stage(text) -> key`` as soon as it exists
    (a ``FolderSet`` of ``wfconv.outputs``, or a list); ledger entries are
    spooled to a temporary file. What is kept is small: each id's first
    definition, each emitted workflow's staged files, the names each caller
    calls, and the IR of the workflows a caller read earlier named (callees
    are few). A workflow is emitted as soon as it is read, with the callees
    held so far; one that called a workflow read before it (not held) or
    after it is emitted again at the end with every callee, read again from
    ``reread()`` (the same bundles, in the same order) when not held.
    ``finish()`` names the files and ``entries()`` gives the ledger, both
    in input order: the result is the one of converting the whole bundle
    at once."""

    def __init__(
        self,
        target: str,
        stage: Callable[[str], Any],
        reread: Callable[[], Iterable[Any]],
        strict: bool = False,
        **options,
    ):
        from wfconv.backends import backend

        self.target = target
        self.options = options
        self.strict = strict
        self._module = backend(target)
        self._stage = stage
        self._reread = reread
        self.workflows = 0
        self.sources: set[str] = set()  # files the workflows were read from
        self.incomplete: list[tuple[str, list[str]]] = []
        self.skipped: list[dict[str, Any]] = []
        self._first: dict[str, tuple[int, str | None, int | None]] = {}  # id -> seq, where
        self._calls: dict[str, set[str]] = {}  # caller id -> ids it calls
        self._wanted: set[str] = set()  # every id a caller read so far calls
        self._held: dict[str, Any] = {}  # callees named before they were read
        self._unsure: list[tuple[int, str, set[str]]] = []  # callers and what they missed
        self._diags = _Spool()  # entries of the bundles (files), first in the ledger
        self._emitted = _Spool()  # (seq, id, parse entries, emit entries) in input order
        self._late = _Spool()  # the same for the callers emitted again at the end
        self._again: set[int] = set()
        # seq -> (id, [(path, key, shared)], its entries' counts): what was emitted
        self._done: dict[int, tuple[str, list[tuple[str, Any, bool]], tuple[int, ...]]] = {}
        self._counts = _counted([])  # of the files' own entries
        self._shared: dict[tuple[str, str], Any] = {}  # (path, text) -> key: staged once
        self._seq = 0
        # after finish(): the ledger's counts, each final path's key, each workflow's files
        self.summary = {"error": 0, "warning": 0, "info": 0}
        self.total = 0
        self.losses = 0  # entries --strict fails on
        self.files: dict[str, Any] = {}
        self.outputs: dict[str, list[str]] = {}
        self.shared: set[str] = set()

    def __enter__(self) -> Conversion:
        return self

    def __exit__(self, *exc) -> None:
        for spool in (self._diags, self._emitted, self._late):
            spool.close()

    def feed(self, bundle) -> None:
        """Take one file's bundle: check and emit its workflows."""
        from wfconv.ir.validate import DUPLICATE_WORKFLOW, graph_errors

        if bundle.diagnostics:
            entries = [_entry(d, None, "parse") for d in bundle.diagnostics]
            self._counts = _add(self._counts, _counted(entries))
            for e in entries:
                self._diags.add(e)
        for w in bundle.workflows:
            seq, self._seq = self._seq, self._seq + 1
            self.workflows += 1
            if w.source and w.source.path:
                self.sources.add(w.source.path)
            if not w.complete:
                self.incomplete.append((w.id, list(w.incomplete_reasons)))
            path, line = _where(w)
            if w.id in self._first:
                _, fpath, fline = self._first[w.id]
                where = f"{fpath}:{fline}" if fline else str(fpath)
                self.skipped.append(
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
            self._first[w.id] = (seq, path, line)
            if w.id in self._wanted:
                self._held[w.id] = w
            calls = _calls(w)
            if calls:
                self._calls[w.id] = calls
                self._wanted |= calls
            errs = graph_errors(w)
            if errs:
                d = errs[0]
                self.skipped.append(
                    _error(
                        w.id,
                        d.code,
                        f"workflow {w.id!r}: {d.message}; not converted",
                        d.path,
                        d.line,
                    )
                )
                continue
            if self.strict and self.incomplete:
                continue  # nothing will be written: --strict refuses the input
            callees, missed = self._callees(w)
            if missed:
                self._unsure.append((seq, w.id, missed))
            self._emit(seq, w, callees, self._emitted)

    def _callees(self, w) -> tuple[dict[str, Any], set[str]]:
        """``w`` and the workflows it calls, directly or not, that are held;
        and the called ids that are not: read earlier (not held) or not yet."""
        found = {w.id: w}
        missed: set[str] = set()
        todo = [w.id]
        while todo:
            for name in sorted(self._calls.get(todo.pop(), ())):
                if name in found:
                    continue
                if name in self._held:
                    found[name] = self._held[name]
                    todo.append(name)
                else:
                    missed.add(name)
        return found, missed

    def _emit(self, seq: int, w, workflows: dict[str, Any], spool: _Spool) -> None:
        from wfconv.frontends import paused_gc

        # Emitting allocates much and makes no cycles worth collecting; with
        # the collector on, each full collection walks every live object (a
        # third of a 50,000-task conversion). Paused as while reading.
        with paused_gc():
            emitted = self._module.emit(w, workflows=workflows, **self.options)
        files = []
        for rel, text in emitted.files.items():
            rel = _safe_relative(rel)
            if rel in emitted.shared:
                # a helper module shared by the folder's workflows: written once
                key = self._shared.get((rel, text))
                if key is None:
                    key = self._shared[(rel, text)] = self._stage(text)
                files.append((rel, key, True))
            else:
                files.append((rel, self._stage(text), False))
        parse = [_entry(d, w.id, "parse") for d in w.diagnostics]
        emit = [_entry(d, w.id, "emit") for d in emitted.diagnostics]  # output: in entries()
        self._done[seq] = (w.id, files, _counted(parse + emit))
        spool.add((seq, w.id, parse, emit))

    def _read_again(self, ids: set[str]) -> None:
        """Hold the first definitions of ``ids``, read again from the input."""
        wanted = {self._first[i][0]: i for i in ids if i not in self._held}
        seq = 0
        for bundle in self._reread() if wanted else ():
            for w in bundle.workflows:
                if seq in wanted:
                    if w.id != wanted[seq]:
                        raise UsageError("the input changed while it was converted; run again")
                    self._held[w.id] = w
                seq += 1
        if len(wanted) > sum(1 for i in wanted.values() if i in self._held):
            raise UsageError("the input changed while it was converted; run again")

    def finish(self) -> None:
        """Emit again the callers that missed a callee that was read, then
        name every file in input order (a later workflow whose file name is
        taken gets ``_2``) and count the ledger."""
        again = [(seq, wid) for seq, wid, missed in self._unsure if missed & self._first.keys()]
        if again:
            ids = {wid for _, wid in again}
            todo = list(ids)
            while todo:  # every callee, however deep, that was read
                for name in self._calls.get(todo.pop(), ()):
                    if name in self._first and name not in ids:
                        ids.add(name)
                        todo.append(name)
            self._read_again(ids)
            for seq, wid in again:
                self._again.add(seq)
                self._emit(seq, self._held[wid], self._callees(self._held[wid])[0], self._late)
        self._held.clear()
        counts = _add(self._counts, _counted(self.skipped))
        for seq in sorted(self._done):
            wid, files, of_workflow = self._done[seq]
            counts = _add(counts, of_workflow)
            names = []
            for rel, key, shared in files:
                if shared:
                    self.files.setdefault(rel, key)
                    self.shared.add(rel)
                    continue
                rel = _unique_path(rel, self.files)
                self.files[rel] = key
                names.append(rel)
            self.outputs[wid] = names
        self.summary = dict(zip(("error", "warning", "info"), counts[:3], strict=True))
        self.total, self.losses = counts[3:]

    def head(self) -> dict[str, Any]:
        """The ledger document without its entries."""
        return {
            "wfconv_ledger": LEDGER_VERSION,
            "target": self.target,
            "options": {
                k: v for k, v in sorted(self.options.items()) if v is not None and k != "workflows"
            },
            "files": self.outputs,
            "shared_files": sorted(self.shared),
            "summary": dict(self.summary),
        }

    def entries(self) -> Iterator[dict[str, Any]]:
        """The ledger entries in order: the files' own, the workflows not
        converted, then each converted workflow's (parse, then emit)."""
        yield from self._diags
        yield from self.skipped
        first = (r for r in self._emitted if r[0] not in self._again)
        for _, wid, parse, emit in heapq.merge(first, self._late, key=lambda r: r[0]):
            yield from parse
            names = self.outputs[wid]
            for e in emit:
                e["output"] = names[0] if names else None
                yield e

    def ledger_text(self) -> Iterator[str]:
        """The ledger as ``json.dumps(ledger, indent=2)`` writes it, in pieces."""
        text = json.dumps({**self.head(), "entries": []}, indent=2, ensure_ascii=False)
        pieces = [text[: -len("]\n}")]]  # up to "entries": [
        sep = "\n    "
        for e in self.entries():
            pieces.append(sep + _entry_json(e))
            sep = ",\n    "
            if len(pieces) >= 256:
                yield "".join(pieces)
                pieces.clear()
        pieces.append("]\n}\n" if sep == "\n    " else "\n  ]\n}\n")
        yield "".join(pieces)

    def table(self, stream=None) -> str:
        """The ledger as ``format_table`` shows it."""
        return _table(self.entries(), self.total, self.summary, stream)


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


def _grouped_table(entries: Iterable[dict[str, Any]], total: int, summary, stream=None) -> str:
    from wfconv.cli.term import table_text

    groups: dict[tuple[str, str], list] = {}  # (severity, code) -> [count, first entry]
    for e in entries:
        group = groups.setdefault((e["severity"], e["code"]), [0, e])
        group[0] += 1
    order = {"error": 0, "warning": 1, "info": 2}
    rows = []
    for (severity, code), (count, first) in sorted(
        groups.items(), key=lambda kv: (order.get(kv[0][0], 3), kv[0][1])
    ):
        rows.append((severity, code, count, _source(first), first["message"]))
    text = table_text(
        ("SEVERITY", "CODE", "COUNT", "FIRST AT", "FIRST MESSAGE"),
        rows,
        stream=stream,
        styled=(0,),
        right=(2,),
    )
    return (
        text
        + _summary(summary)
        + f" ({total} entries, one row per code here; every entry is in the "
        + "JSON ledger: --ledger-format json, or wfconv-ledger.json beside the output)\n"
    )


def _source(entry: dict[str, Any]) -> str:
    if entry["path"] and entry["line"]:
        return f"{entry['path']}:{entry['line']}"
    return entry["path"] or "-"


def _summary(s: dict[str, int]) -> str:
    return f"ledger: {s['error']} error(s), {s['warning']} warning(s), {s['info']} info"


def format_table(ledger: dict[str, Any], stream=None) -> str:
    """The ledger as a table for ``stream`` (stderr): one row per entry, the
    message wrapped to the width available."""
    return _table(ledger["entries"], len(ledger["entries"]), ledger["summary"], stream)


def _table(entries: Iterable[dict[str, Any]], total: int, summary, stream=None) -> str:
    from wfconv.cli.term import table_text

    if not total:
        return "ledger: nothing approximated or dropped\n"
    if total > TABLE_ROWS:
        return _grouped_table(entries, total, summary, stream)
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
    return text + _summary(summary) + "\n"


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
    from wfconv.cli.core import iter_sources
    from wfconv.ir.model import Bundle
    from wfconv.outputs import FolderSet

    options: dict[str, Any] = {}
    if airflow_version is not None:
        options["airflow_version"] = int(airflow_version)
    if subworkflow is not None:
        options["subworkflow"] = subworkflow
    with contextlib.ExitStack() as stack:
        # Streamed: each file is read, converted and its outputs staged before
        # the next (docs/outputs.md); they are placed together at the end.
        out = stack.enter_context(FolderSet(output, force=force)) if output else _Texts()
        conv = stack.enter_context(
            Conversion(
                target,
                out.stage,
                lambda: iter_sources(paths, engine, roots, params, static, report=False),
                strict,
                **options,
            )
        )
        for b in iter_sources(paths, engine, roots, params, static):
            conv.feed(b)
        if not conv.workflows:
            require_workflows(Bundle(), paths)
        if strict and conv.incomplete:
            # Converting part of a workflow as if it were all of it is the one
            # loss --strict must never let through: nothing is written.
            for wid, reasons in conv.incomplete:
                click.echo(f"--strict: workflow {wid!r} is incomplete; not converted:", err=True)
                for reason in reasons:
                    click.echo(f"  {reason}", err=True)
            raise SystemExit(1)
        conv.finish()
        # One policy for every engine: every valid workflow is converted, every
        # invalid one is reported (path:line: message) and the command exits 2.
        for e in conv.skipped:
            report_input_error(e["path"], e["line"], e["message"])
        files = conv.files
        if output:
            done = out.commit(
                {**files, LEDGER_FILE: out.stage(conv.ledger_text())},
                inputs=[*paths, *sorted(conv.sources)],
            )
            if ledger_format != "json":  # keep stderr one JSON document in json mode
                for note in done.notes():
                    click.echo(note, err=True)
                click.echo(f"wrote {len(files)} file(s) and {LEDGER_FILE} to {output}", err=True)
        elif files:
            own = [rel for rel in files if rel not in conv.shared]
            if len(own) != 1:
                raise UsageError(
                    f"{len(files)} files to write ({', '.join(sorted(files))}): give an output folder with -o"
                )
            click.echo(out.texts[files[own[0]]], nl=False)
            if conv.shared:
                click.echo(
                    f"note: the code above imports {', '.join(sorted(conv.shared))}, wfconv's helper "
                    "module for it; give an output folder with -o to write it too",
                    err=True,
                )

        if ledger_format == "json":
            for piece in conv.ledger_text():
                click.echo(piece, err=True, nl=False)
        else:
            click.echo(conv.table(), err=True, nl=False)

        if strict and conv.losses:
            click.echo(f"--strict: {conv.losses} construct(s) approximated or dropped", err=True)
            raise SystemExit(1)


class _Texts:
    """Generated files kept in memory (no ``-o``: one file goes to stdout)."""

    def __init__(self):
        self.texts: list[str] = []

    def stage(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1


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
