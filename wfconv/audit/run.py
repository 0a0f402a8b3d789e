"""The audit driver: walk the paths, answer what the cache knows, audit the rest
in worker processes, and stream results (in input order) to a report.

Memory stays flat in the number of files: results flow through a bounded
window and are written out as they arrive; only the list of paths and one
(engine, workflow id, location) triple per workflow (for AU006 collisions) are
kept for the whole run.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from wfconv.audit.analyze import file_stamps
from wfconv.audit.codes import SEVERITY_RANK, severity_of
from wfconv.audit.model import AUDITED, FAILED, SKIPPED, FileResult, Finding
from wfconv.audit.pool import Job, run_jobs
from wfconv.errors import InputError
from wfconv.frontends import detect_engine, iter_workflow_files

if TYPE_CHECKING:
    from wfconv.audit.cache import Cache

# Engines whose workflow ids share one namespace per deployment (AU006).
# Oozie application names need not be unique; IR JSON files are not deployed.
COLLISION_ENGINES = ("airflow", "prefect", "luigi")

# Larger files are reported (AU902) rather than read: no workflow file is this big.
MAX_FILE_BYTES = 20_000_000


@dataclass
class Options:
    jobs: int = 0
    timeout: float = 30.0
    now: datetime | None = None
    cache_dir: str | None = None  # None: no cache
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    baseline: Counter | None = None
    progress: bool = False

    def reference_time(self) -> datetime:
        """Run counts depend on "now": the start of the current UTC day, so that
        results (and cache entries) are stable for a day."""
        if self.now is not None:
            return self.now
        d = datetime.now(UTC)
        return d.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Summary:
    files: int = 0
    audited: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)
    cached: int = 0
    workflows: int = 0
    tasks: int = 0
    findings: Counter = field(default_factory=Counter)  # by severity
    codes: Counter = field(default_factory=Counter)
    fixable: int = 0  # findings `wfconv upgrade` fixes
    suppressed_by_baseline: int = 0
    seconds: float = 0.0

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "files": self.files,
            "audited": self.audited,
            "failed": self.failed,
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "cached": self.cached,
            "workflows": self.workflows,
            "tasks": self.tasks,
            "findings": {s: self.findings.get(s, 0) for s in ("error", "warning", "info")},
            "findings_by_code": dict(sorted(self.codes.items())),
            "fixable": self.fixable,
            "suppressed_by_baseline": self.suppressed_by_baseline,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(self.files_per_s, 1),
        }


def collect_paths(paths: Iterable[str]) -> list[str]:
    """Files (and Oozie application folders) to audit, in stable order."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(raw, None, "no such file or directory")
        if p.is_dir():
            out += [str(f) for f in iter_workflow_files(p)]
        else:
            out.append(str(p))
    return list(dict.fromkeys(out))  # a path named twice is audited once


def _dir_bytes(d: Path) -> bytes:
    parts = []
    for f in sorted(d.iterdir()):
        if f.is_file() and f.suffix.lower() in (".xml", ".properties"):
            parts.append(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return b"".join(parts)


def _prepare(index: int, path: str, cache: Cache | None, config: str) -> Job:
    """Read, fingerprint and detect in the parent; the worker only parses."""
    p = Path(path)
    if p.is_dir():
        try:
            data = _dir_bytes(p)
        except OSError as exc:
            return Job(index, path, result=_unreadable(path, "oozie", exc))
        key = _key(path, data, config) if cache else None
        hit = cache.get(key) if cache and key else None
        if hit is not None:
            return Job(index, path, result=FileResult.from_dict(hit, cached=True))
        return Job(index, path, None, "oozie", key)
    try:
        st = os.stat(p)
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block the read
            return Job(
                index,
                path,
                result=FileResult(path, SKIPPED, None, skip_reason="not a regular file"),
            )
        if st.st_size > MAX_FILE_BYTES:
            msg = f"file is {st.st_size / 1e6:.0f} MB, more than the {MAX_FILE_BYTES // 10**6} MB a workflow file may have"
            return Job(
                index,
                path,
                result=FileResult(
                    path, FAILED, None, findings=[Finding("AU902", severity_of("AU902"), msg, path)]
                ),
            )
        with open(p, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        return Job(index, path, result=_unreadable(path, None, exc))
    key = _key(path, data, config) if cache else None
    if cache and key:
        hit = cache.get(key)
        # A result read from other files of the repository too is only as
        # fresh as they are.
        deps = hit.get("depends_on") if hit is not None else None
        if hit is not None and (not deps or file_stamps(d[0] for d in deps) == deps):
            return Job(index, path, result=FileResult.from_dict(hit, cached=True))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Job(
            index,
            path,
            result=FileResult(
                path,
                FAILED,
                None,
                findings=[
                    Finding(
                        "AU902", severity_of("AU902"), "file is not valid UTF-8 text", path, line
                    )
                ],
            ),
        )
    engine = detect_engine(path, text)
    if engine is None:
        return Job(
            index, path, result=FileResult(path, SKIPPED, None, skip_reason="not a workflow file")
        )
    return Job(index, path, data, engine, key)


def _unreadable(path: str, engine: str | None, exc: OSError) -> FileResult:
    msg = f"cannot read: {exc.strerror or exc}"
    return FileResult(
        path, FAILED, engine, findings=[Finding("AU902", severity_of("AU902"), msg, path)]
    )


def _matches(code: str | None, patterns: tuple[str, ...]) -> bool:
    return bool(code) and any(code.upper().startswith(p.upper()) for p in patterns)


class Filter:
    """--select / --ignore (code prefixes, matched against the finding's code
    and the frontend code it was renamed from) and --baseline."""

    def __init__(self, opts: Options, summary: Summary):
        self.select, self.ignore = opts.select, opts.ignore
        self.baseline = Counter(opts.baseline) if opts.baseline else None
        self.summary = summary

    def wanted(self, f: Finding) -> bool:
        if self.select and not (_matches(f.code, self.select) or _matches(f.origin, self.select)):
            return False
        if self.ignore and (_matches(f.code, self.ignore) or _matches(f.origin, self.ignore)):
            return False
        if self.baseline is not None:
            ident = f.identity()
            if self.baseline[ident] > 0:
                self.baseline[ident] -= 1
                self.summary.suppressed_by_baseline += 1
                return False
        return True

    def apply(self, findings: list[Finding]) -> list[Finding]:
        kept = [f for f in findings if self.wanted(f)]
        for f in kept:
            self.summary.findings[f.severity] += 1
            self.summary.codes[f.code] += 1
            self.summary.fixable += f.fixable
        return kept


def collision_findings(index: dict[tuple[str, str], list[tuple[str, int | None]]]) -> list[Finding]:
    out: list[Finding] = []
    for (engine, wid), places in index.items():
        if len(places) < 2:
            continue
        for i, (path, line) in enumerate(places):
            others = [f"{p}:{ln}" if ln else p for j, (p, ln) in enumerate(places) if j != i]
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            out.append(
                Finding(
                    "AU006",
                    severity_of("AU006"),
                    f"{engine} workflow id {wid!r} is also defined at {shown}",
                    path,
                    line,
                    wid,
                )
            )
    out.sort(key=lambda f: (f.path, f.line or 0, f.message))
    return out


class Reporter:
    """What renderers implement (see report.py, sarif.py, html.py)."""

    def start(self) -> None: ...
    def file(self, result: FileResult, findings: list[Finding]) -> None: ...
    def cross_file(self, findings: list[Finding]) -> None: ...
    def end(self, summary: Summary) -> None: ...


def audit(paths: Iterable[str], opts: Options, reporter: Reporter) -> Summary:
    """Audit everything under ``paths``; returns the summary (findings after
    select/ignore/baseline are counted in it)."""
    t0 = time.perf_counter()
    files = collect_paths(paths)
    now = opts.reference_time()
    config = f"now={now.isoformat()}"
    cache = _open_cache(opts.cache_dir) if opts.cache_dir else None
    summary = Summary()
    filt = Filter(opts, summary)
    ids: dict[tuple[str, str], list[tuple[str, int | None]]] = defaultdict(list)
    bar = _progress(len(files), opts.progress)
    jobs = (_prepare(i, p, cache, config) for i, p in enumerate(files))
    reporter.start()
    try:
        for job, result, payload in run_jobs(jobs, opts.jobs, opts.timeout, now):
            if payload is not None and cache is not None and job.key and result.status != SKIPPED:
                cache.put(job.key, payload)
            _count(summary, result)
            for w in result.workflows:
                # IR JSON files restate another file's workflows: not a deployment.
                if w.engine in COLLISION_ENGINES and result.engine != "ir":
                    ids[(w.engine, w.id)].append((result.path, w.line))
            reporter.file(result, filt.apply(result.findings))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if cache is not None:
            cache.close()
    reporter.cross_file(filt.apply(collision_findings(ids)))
    summary.seconds = time.perf_counter() - t0
    reporter.end(summary)
    return summary


def _key(path: str, data: bytes, config: str) -> str:
    from wfconv.audit.cache import content_key

    return content_key(path, data, config)


def _open_cache(directory: str) -> Cache | None:
    """The cache, or None (with a warning) when it cannot be used: a read-only
    folder or a damaged file must not stop an audit."""
    # Imported here: sqlite3 and hashlib are ~20 ms of a start-up that
    # --no-cache does not need.
    import sqlite3

    from wfconv.audit.cache import Cache

    try:
        cache = Cache(directory)
        cache.get("")  # touches the table: a damaged file fails here
        return cache
    except (OSError, sqlite3.Error) as exc:
        print(f"wfconv audit: cache disabled ({directory}: {exc})", file=sys.stderr)
        return None


def _count(s: Summary, r: FileResult) -> None:
    s.files += 1
    if r.cached:
        s.cached += 1
    if r.status == SKIPPED:
        s.skipped[r.skip_reason or "skipped"] += 1
    elif r.status == FAILED:
        s.failed += 1
    elif r.status == AUDITED:
        s.audited += 1
    s.workflows += len(r.workflows)
    s.tasks += sum(w.tasks for w in r.workflows)


def _progress(total: int, wanted: bool):
    if not wanted or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", file=sys.stderr, leave=False)


def exit_code(summary: Summary, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    floor = SEVERITY_RANK[fail_on]
    return 1 if any(n and SEVERITY_RANK[s] >= floor for s, n in summary.findings.items()) else 0


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1
