"""A migration of PATHS as the UI shows it: every file found, its workflows,
their audit findings, and per target the conversion and verify's verdict.

Verifying a whole folder takes a while (about a tenth of a second per
workflow and target; a minute for a few hundred workflows), so nothing waits
for it: one background thread works through the phases below and the pages
show what is known and how far it got. A page that asks for one workflow
moves its pairs to the front of the queue. Verdicts are cached on disk by
the workflow's IR, the target and a fingerprint of the code that computes
them, so a second ``wfconv ui`` over the same folder has them at once.

Phases: ``audit`` (the static audit of every file: findings, engine, which
files are workflows), ``read`` (the workflows' IR, by the same frontends as
``wfconv verify``), ``verify`` (each workflow against each target: the
verify report, and compare's reading of it).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.audit.model import FileResult, Finding
from wfconv.audit.run import Reporter

TARGETS = ("airflow", "prefect", "luigi", "oozie")
# What a cached verdict depends on besides the IR and the target.
_CODE = ("backends", "verify", "runtime", "frontends", "ir", "compare.py", "ui/migration.py")
CACHE_FORMAT = "1"


@dataclass
class WorkflowEntry:
    key: str  # "path::id", stable across restarts (used in URLs)
    path: str
    workflow: Any  # ir.model.Workflow
    findings: list[Finding] = field(default_factory=list)
    results: dict[str, dict] = field(default_factory=dict)  # target -> view (see _view)
    problem: str | None = None  # why it cannot be verified (a cycle...)

    @property
    def id(self) -> str:
        return self.workflow.id

    @property
    def engine(self) -> str:
        src = self.workflow.source
        return (src.engine if src and src.engine else None) or "ir"


@dataclass
class FileEntry:
    path: str
    status: str = "pending"  # pending | audited | skipped | failed
    engine: str | None = None
    note: str | None = None  # why skipped, or why it could not be read
    findings: list[Finding] = field(default_factory=list)
    workflows: list[WorkflowEntry] = field(default_factory=list)


class _Collect(Reporter):
    def __init__(self, migration: Migration):
        self.m = migration

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        f = self.m.file_of(result.path)
        f.status, f.engine, f.findings = result.status, result.engine, findings
        f.note = result.skip_reason
        if result.status == "failed" and findings:
            f.note = findings[0].message
        self.m.progress["audit"][0] += 1

    def cross_file(self, findings: list[Finding]) -> None:
        for x in findings:
            self.m.file_of(x.path).findings.append(x)


class Migration:
    def __init__(
        self,
        paths: list[str],
        targets: tuple[str, ...] = TARGETS,
        engine: str | None = None,
        load_options: dict[str, Any] | None = None,
        cache_dir: str | None = None,
    ):
        from wfconv.audit.run import collect_paths

        self.paths = list(paths)
        self.targets = tuple(targets)
        self.engine = engine
        self.load_options = load_options or {}
        self.cache_dir = cache_dir
        self.files = [FileEntry(p) for p in collect_paths(paths)]
        self._by_path = {f.path: f for f in self.files}
        self.workflows: dict[str, WorkflowEntry] = {}
        self.phase = "audit"
        self.progress = {"audit": [0, len(self.files)], "read": [0, 0], "verify": [0, 0]}
        self.errors: list[str] = []
        self._urgent: deque[str] = deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lookups -----------------------------------------------------------
    def file_of(self, path: str) -> FileEntry:
        f = self._by_path.get(path)
        if f is None:  # a finding about a file inside an Oozie folder
            for entry in self.files:
                if path.startswith(entry.path.rstrip("/") + "/"):
                    return entry
            f = self._by_path[path] = FileEntry(path)
            self.files.append(f)
        return f

    @property
    def done(self) -> bool:
        return self.phase == "done"

    def want(self, key: str) -> None:
        """Verify this workflow next (a page is waiting for it)."""
        with self._wake:
            self._urgent.appendleft(key)
            self._wake.notify()

    # -- the worker ----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="wfconv-migration", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_all(self) -> None:
        """Do every phase in this thread (benchmarks, tests)."""
        self._work()

    def _work(self) -> None:
        try:
            self._audit()
            self._read()
            self._verify()
        except Exception as exc:  # the pages say so; the server goes on
            self.errors.append(f"{type(exc).__name__}: {exc}")
            self.errors.append(traceback.format_exc(limit=5))
        finally:
            self.phase = "done"

    def _audit(self) -> None:
        from wfconv.audit.run import Options, audit

        # In this process (jobs=0): worker processes forked from a threaded
        # server are a risk, and the audit is static (no user code runs).
        audit(self.paths, Options(jobs=0, cache_dir=self.cache_dir), _Collect(self))

    def _read(self) -> None:
        from wfconv.errors import InputError
        from wfconv.frontends import load_path
        from wfconv.ir.validate import graph_errors

        self.phase = "read"
        todo = [f for f in self.files if f.status == "audited"]
        self.progress["read"] = [0, len(todo)]
        for f in todo:
            if self._stop.is_set():
                return
            try:
                bundle = load_path(f.path, self.engine, **self.load_options)
            except InputError as exc:
                f.status, f.note = "failed", str(exc)
                bundle = None
            except Exception as exc:  # a reader bug must not hide the other files
                f.status, f.note = "failed", f"{type(exc).__name__}: {exc}"
                bundle = None
            for w in bundle.workflows if bundle is not None else ():
                key = f"{f.path}::{w.id}"
                n = 2
                while key in self.workflows:
                    key, n = f"{f.path}::{w.id}#{n}", n + 1
                errs = graph_errors(w)
                entry = WorkflowEntry(
                    key,
                    f.path,
                    w,
                    [x for x in f.findings if x.workflow in (None, w.id)],
                    problem=errs[0].message if errs else None,
                )
                f.workflows.append(entry)
                self.workflows[key] = entry
            self.progress["read"][0] += 1
        self.progress["verify"] = [0, len(self.workflows) * len(self.targets)]

    def _next(self, order: list[str]) -> str | None:
        with self._wake:
            while self._urgent:
                key = self._urgent.popleft()
                entry = self.workflows.get(key)
                if entry is not None and len(entry.results) < len(self.targets):
                    return key
        for key in order:
            if len(self.workflows[key].results) < len(self.targets):
                return key
        return None

    def _verify(self) -> None:
        from wfconv.audit.cache import Cache

        self.phase = "verify"
        cache = Cache(self.cache_dir, "verify-cache.sqlite") if self.cache_dir else None
        order = list(self.workflows)
        try:
            while not self._stop.is_set():
                key = self._next(order)
                if key is None:
                    return
                self._verify_one(self.workflows[key], cache)
        finally:
            if cache is not None:
                cache.close()

    def _verify_one(self, entry: WorkflowEntry, cache) -> None:
        from wfconv.ir.jsonio import workflow_to_dict

        ir = json.dumps(workflow_to_dict(entry.workflow), sort_keys=True, ensure_ascii=False)
        runs = None
        for target in self.targets:
            if target in entry.results or self._stop.is_set():
                continue
            key = _cache_key(ir, target)
            view = cache.get(key) if cache is not None else None
            if view is None:
                if entry.problem is None and runs is None:
                    from wfconv.verify.behaviour import source_runs

                    runs = source_runs(entry.workflow)
                view = compute_view(entry, target, runs)
                if cache is not None and view.get("cacheable"):
                    cache.put(key, view)
                    cache.flush()
            entry.results[target] = view
            self.progress["verify"][0] += 1


def _cache_key(ir: str, target: str) -> str:
    from wfconv.audit.cache import code_fingerprint

    h = hashlib.blake2b(digest_size=20)
    h.update(f"{CACHE_FORMAT}\0{code_fingerprint(_CODE)}\0{target}\0".encode())
    h.update(ir.encode())
    return h.hexdigest()


BLANK_VIEW: dict[str, Any] = {
    "summary": None,
    "error": None,
    "problems": [],
    "structure": [],
    "behaviour": [],
    "run_list": None,
    "files": {},
    "back": None,
    "seconds": None,
}


def compute_view(entry: WorkflowEntry, target: str, runs=None) -> dict[str, Any]:
    """What the pages show of one (workflow, target): compare's row
    (``compare.target_dict``), verify's findings, the emitted files, the IR
    read back. JSON-able, for the cache."""
    from wfconv.compare import failed_target, target_dict, target_result
    from wfconv.ir.jsonio import workflow_to_dict
    from wfconv.verify import verify_workflow

    w = entry.workflow
    if entry.problem is not None:
        row = {**target_dict(failed_target(target, ValueError())), "verdict": "not verified"}
        row["error"] = entry.problem
        return {
            **BLANK_VIEW,
            "row": row,
            "verdict": "not verified",
            "error": entry.problem,
            "cacheable": True,
        }
    started = time.perf_counter()
    try:
        report = verify_workflow(w, target, source_runs=runs)
    except Exception as exc:  # one target failing must not hide the others
        row = target_dict(failed_target(target, exc))
        return {
            **BLANK_VIEW,
            "row": row,
            "verdict": "error",
            "error": row["error"],
            "cacheable": False,
        }
    row = target_dict(target_result(w, target, report))
    return {
        **BLANK_VIEW,
        "row": row,
        "verdict": "equivalent" if report.equivalent else "differs",
        "summary": report.summary(),
        "problems": list(report.problems),
        "structure": [(d.describe(), d.explained) for d in report.structure],
        "behaviour": [(v.name, v.equivalent, v.describe()) for v in report.behaviour],
        "run_list": None
        if report.run_list is None
        else (report.run_list.equivalent, report.run_list.first_difference),
        "files": dict(report.files),
        "back": workflow_to_dict(report.back) if report.back is not None else None,
        "seconds": round(time.perf_counter() - started, 3),
        "cacheable": True,
    }


def back_workflow(view: dict[str, Any]):
    from wfconv.ir.jsonio import workflow_from_dict

    return workflow_from_dict(view["back"]) if view.get("back") else None


def source_text(entry: WorkflowEntry) -> tuple[str, str]:
    """(name, text) of the file the workflow was read from (an Oozie
    application folder: its workflow.xml)."""
    src = entry.workflow.source
    path = Path(src.path if src and src.path else entry.path)
    if path.is_dir():
        path = path / "workflow.xml"
    try:
        return str(path), path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return str(path), f"(cannot read: {exc.strerror or exc})"


def diff(a_name: str, a: str, b_name: str, b: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs: kind is add, del, hunk or same."""
    out = []
    for line in difflib.unified_diff(
        a.splitlines(), b.splitlines(), a_name, b_name, lineterm="", n=3
    ):
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out
