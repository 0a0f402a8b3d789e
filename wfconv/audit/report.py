"""Text and JSON reports. Both stream: each file's findings are written when
its result arrives; lists that belong after the findings are spooled to a
temporary file so memory stays flat."""

from __future__ import annotations

import json
import tempfile
from typing import TextIO

import wfconv
from wfconv.audit.model import SKIPPED, FileResult, Finding
from wfconv.audit.run import Reporter, Summary


def finding_line(f: Finding) -> str:
    loc = f"{f.path}:{f.line}" if f.line else f.path
    scope = ""
    if f.workflow or f.task:
        scope = f" [{f.workflow or '-'}{'/' + f.task if f.task else ''}]"
    message = " ".join(f.message.split("\n"))  # one finding, one line
    fix = " [*]" if f.fixable else ""  # as ruff marks what its --fix changes
    return f"{loc}: {f.code}{fix} {f.severity}{scope} {message}"


class TableReporter(Reporter):
    def __init__(self, out: TextIO, metrics: bool = False):
        self.out = out
        self.metrics = metrics

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        for f in findings:
            self.out.write(finding_line(f) + "\n")
        if self.metrics:
            for w in result.workflows:
                width = (
                    "-" if w.width is None else f"{w.width}{'' if w.width_exact else ' (at least)'}"
                )
                depth = "-" if w.depth is None else str(w.depth)
                self.out.write(
                    f"{result.path}: workflow {w.id}: {w.tasks} tasks, {w.edges} edges, depth {depth}, width {width}\n"
                )

    def cross_file(self, findings: list[Finding]) -> None:
        self.file(FileResult("", SKIPPED), findings)

    def end(self, s: Summary) -> None:
        skipped = sum(s.skipped.values())
        why = ", ".join(f"{n} {r}" for r, n in sorted(s.skipped.items()))
        lines = [
            "",
            f"{s.files} files: {s.audited} audited, {s.failed} unreadable/unparsable, {skipped} skipped"
            + (f" ({why})" if why else "")
            + (f"; {s.cached} from cache" if s.cached else ""),
            f"{s.workflows} workflows, {s.tasks} tasks",
            "findings: "
            + ", ".join(f"{s.findings.get(k, 0)} {k}" for k in ("error", "warning", "info"))
            + (
                f" ({s.suppressed_by_baseline} in baseline not shown)"
                if s.suppressed_by_baseline
                else ""
            ),
            f"{s.seconds:.2f} s, {s.files_per_s:.0f} files/s",
        ]
        if s.fixable:
            lines.insert(-1, f"[*] {s.fixable} fixable with `wfconv upgrade` (docs/upgrade.md)")
        self.out.write("\n".join(lines) + "\n")


class JsonReporter(Reporter):
    """``{"wfconv_audit": 1, "findings": [...], "workflows": [...], "files": [...], "summary": {...}}``"""

    def __init__(self, out: TextIO):
        self.out = out
        self.first = True
        self.workflows = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.files = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.n_wf = 0
        self.n_files = 0

    def start(self) -> None:
        self.out.write(
            f'{{"wfconv_audit": 1, "wfconv_version": {json.dumps(wfconv.__version__)},\n"findings": ['
        )

    def _findings(self, findings: list[Finding]) -> None:
        for f in findings:
            self.out.write(
                ("\n  " if self.first else ",\n  ") + json.dumps(f.to_dict(), ensure_ascii=False)
            )
            self.first = False

    def file(self, result: FileResult, findings: list[Finding]) -> None:
        self._findings(findings)
        for w in result.workflows:
            d = w.to_dict()
            d.pop("nodes")
            d.pop("links")
            d["path"] = result.path
            self.workflows.write(
                ("," if self.n_wf else "") + "\n  " + json.dumps(d, ensure_ascii=False)
            )
            self.n_wf += 1
        rec = {
            "path": result.path,
            "status": result.status,
            "engine": result.engine,
            "skip_reason": result.skip_reason,
            "workflows": len(result.workflows),
            "findings": len(result.findings),
            "cached": result.cached,
        }
        self.files.write(
            ("," if self.n_files else "") + "\n  " + json.dumps(rec, ensure_ascii=False)
        )
        self.n_files += 1

    def cross_file(self, findings: list[Finding]) -> None:
        self._findings(findings)

    def _copy(self, spool) -> None:
        spool.seek(0)
        while chunk := spool.read(1 << 16):
            self.out.write(chunk)
        spool.close()

    def end(self, s: Summary) -> None:
        self.out.write('\n],\n"workflows": [')
        self._copy(self.workflows)
        self.out.write('\n],\n"files": [')
        self._copy(self.files)
        self.out.write('\n],\n"summary": ' + json.dumps(s.to_dict()) + "}\n")
