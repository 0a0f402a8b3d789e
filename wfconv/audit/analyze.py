"""Audit one file: parse it with its engine's frontend (statically: user code
is never imported), turn diagnostics into findings, run every check, measure
every workflow. Whatever goes wrong becomes a finding, never an exception."""

from __future__ import annotations

import importlib
import time
import traceback
from datetime import datetime
from pathlib import Path

from wfconv.audit.checks import CHECKS, Context
from wfconv.audit.codes import CODES, SILENCED, audit_code, severity_of
from wfconv.audit.graph import TaskGraph, longest_path, width
from wfconv.audit.model import AUDITED, FAILED, SKIPPED, FileResult, Finding, WorkflowSummary
from wfconv.errors import InputError
from wfconv.extras import MissingExtra
from wfconv.frontends import FRONTENDS, paused_gc
from wfconv.ir.model import Bundle, Diagnostic, Workflow
from wfconv.ir.validate import finalize
from wfconv.upgrade.codes import fixes_audit_finding

# Graphs beyond this many tasks are summarised without the drawing data.
GRAPH_NODES_LIMIT = 300


def _finding(
    code: str,
    message: str,
    path: str,
    line=None,
    workflow=None,
    task=None,
    origin=None,
    severity=None,
    key=None,
) -> Finding:
    return Finding(
        code, severity or severity_of(code), message, path, line, workflow, task, origin, key
    )


def from_diagnostic(
    d: Diagnostic, path: str, workflow: str | None, line_to_task: dict[int, str]
) -> Finding:
    code = audit_code(d.code, d.message)
    origin = d.code if code != d.code else None
    severity = CODES[code].severity if code in CODES else d.severity
    task = d.task or (line_to_task.get(d.line) if d.line is not None else None)
    return Finding(
        code,
        severity,
        d.message,
        _location(d.path, path),
        d.line,
        workflow,
        task,
        origin,
        fixable=fixes_audit_finding(code, d.message) is not None,
    )


def _location(diag_path: str | None, path: str) -> str:
    """The audited file, or a file inside the audited Oozie folder. (IR JSON
    keeps the original source's path in its diagnostics: the report points at
    the file that was audited.)"""
    if diag_path and diag_path != path:
        try:
            if Path(diag_path).resolve().is_relative_to(Path(path).resolve()):
                return diag_path
        except (OSError, ValueError):
            pass
    return path


def _load_frontend(engine: str):
    """The frontend module, or None when that engine has no frontend installed."""
    name = FRONTENDS[engine]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def summarize(w: Workflow, g: TaskGraph, engine: str | None) -> WorkflowSummary:
    cp = longest_path(g)
    wd, exact = width(g)
    draw = len(g.ids) <= GRAPH_NODES_LIMIT
    index = {n: i for i, n in enumerate(g.ids)}
    return WorkflowSummary(
        id=w.id,
        engine=engine,
        line=w.source.line if w.source else None,
        tasks=len(w.tasks),
        edges=len(w.edges),
        depth=len(cp) if g.topo is not None else None,
        width=wd,
        width_exact=exact,
        critical_path=cp,
        nodes=list(g.ids) if draw else [],
        links=[[index[a], index[b]] for a in g.ids for b in g.succ[a]] if draw else [],
    )


def audit_workflow(
    w: Workflow, path: str, engine: str | None, now: datetime, validated: bool = False
) -> tuple[list[Finding], WorkflowSummary]:
    """Findings and metrics of one workflow. Frontends call finalize() (the IR0xx
    validation) on every workflow they return, so bundles from a frontend pass
    ``validated=True``; hand-built workflows are validated here."""
    if not validated:
        finalize(w)
    eng = (w.source.engine if w.source and w.source.engine else None) or engine
    line_to_task: dict[int, str] = {}
    for t in w.tasks:
        if t.source and t.source.line is not None:
            line_to_task.setdefault(t.source.line, t.id)
    findings = [
        from_diagnostic(d, path, w.id, line_to_task)
        for d in w.diagnostics
        if d.code not in SILENCED
    ]
    g = TaskGraph.of(w)
    ctx = Context(w, g, path, eng, now, {d.code for d in w.diagnostics})
    for code, fn in CHECKS.items():
        for hit in fn(ctx):
            findings.append(
                _finding(code, hit.message, path, hit.line, w.id, hit.task, key=hit.key)
            )
    return findings, summarize(w, g, eng)


def file_stamps(paths) -> list[list]:
    """[path, mtime_ns, size] of each file (None, None when it is gone)."""
    out = []
    for p in sorted(paths):
        try:
            st = Path(p).stat()
            out.append([p, st.st_mtime_ns, st.st_size])
        except OSError:
            out.append([p, None, None])
    return out


def audit_bundle(bundle: Bundle, path: str, engine: str, now: datetime) -> FileResult:
    res = FileResult(path=path, status=AUDITED, engine=engine)
    res.depends_on = file_stamps(
        {s for w in bundle.workflows for s in w.extra.get("airflow", {}).get("sources", [])}
    )
    res.findings = [
        from_diagnostic(d, path, None, {}) for d in bundle.diagnostics if d.code not in SILENCED
    ]
    for w in bundle.workflows:
        found, summary = audit_workflow(w, path, engine, now, validated=True)
        res.findings += found
        res.workflows.append(summary)
    if not bundle.workflows and not any(f.code == "AU905" for f in res.findings):
        res.findings.append(
            _finding("AU905", f"no {engine} workflow could be found statically in this file", path)
        )
    if engine == "oozie":
        from wfconv.audit import oozie  # lxml: only for Oozie applications

        wf_id = bundle.workflows[0].id if bundle.workflows else None
        for xml in oozie.workflow_xml_files(Path(path)):
            for u in oozie.unreachable_nodes(xml):
                res.findings.append(
                    _finding(
                        "AU005",
                        f"{u.tag} node {u.name!r} is not reachable from start",
                        str(xml),
                        u.line,
                        wf_id,
                        u.name,
                    )
                )
    res.findings = _dedupe(res.findings)
    return res


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen = set()
    out = []
    for f in findings:
        key = (f.code, f.path, f.line, f.workflow, f.task, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    out.sort(key=Finding.sort_key)
    return out


def audit_source(path: str, data: bytes | None, engine: str, now: datetime) -> FileResult:
    """Audit one file (``data`` = its bytes) or Oozie application folder (``data`` None)."""
    t0 = time.perf_counter()
    res = _audit_source(path, data, engine, now)
    res.seconds = round(time.perf_counter() - t0, 6)
    return res


def _audit_source(path: str, data: bytes | None, engine: str, now: datetime) -> FileResult:
    text = None
    if data is not None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            return FileResult(
                path,
                FAILED,
                engine,
                findings=[_finding("AU902", "file is not valid UTF-8 text", path, line)],
            )
    try:
        mod = _load_frontend(engine)
        if mod is None:
            return FileResult(path, SKIPPED, engine, skip_reason=f"no {engine} frontend installed")
        # The collector is paused per file (see paused_gc): most of what a
        # parse allocates dies by reference counting.
        with paused_gc():
            bundle = mod.parse(path, text, static=True)
            return audit_bundle(bundle, path, engine, now)
    except InputError as exc:
        where = exc.path or path
        return FileResult(
            path, FAILED, engine, findings=[_finding("AU901", exc.message, where, exc.line)]
        )
    except MissingExtra as exc:
        return FileResult(path, FAILED, engine, findings=[_finding("AU906", exc.reason, path)])
    except RecursionError:
        return FileResult(
            path,
            FAILED,
            engine,
            findings=[_finding("AU901", "input is nested too deeply to read", path)],
        )
    except MemoryError:
        return FileResult(
            path,
            FAILED,
            engine,
            findings=[_finding("AU904", "out of memory while reading the file", path)],
        )
    except Exception as exc:  # a wfconv bug: report it as a finding, keep auditing
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
        msg = f"internal error {type(exc).__name__}: {exc}{at}"
        return FileResult(path, FAILED, engine, findings=[_finding("AU904", msg, path)])
