"""What the audit produces per file: plain dataclasses that travel between
processes and into the cache as JSON-able dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Finding:
    code: str
    severity: str
    message: str
    path: str
    line: int | None = None
    workflow: str | None = None
    task: str | None = None
    # The frontend diagnostic code this finding was renamed from (AF205 -> AU205).
    origin: str | None = None
    # The message without its day-to-day parts (AU103's run count), when it has any.
    key: str | None = None
    # `wfconv upgrade` fixes it (wfconv/upgrade/codes.py AUDIT_FIXES).
    fixable: bool = False

    def identity(self) -> tuple[str, str, str, str, str]:
        """What `--baseline` compares: not the line, which moves with every edit,
        and not the parts of a message that change by themselves (``key``)."""
        return (
            self.code,
            self.path,
            self.workflow or "",
            self.task or "",
            self.key or self.message,
        )

    def sort_key(self) -> tuple:
        return (self.line or 0, self.code, self.workflow or "", self.task or "", self.message)

    def to_dict(self) -> dict[str, Any]:
        # Explicit (not dataclasses.asdict, which deep-copies): this runs for
        # every finding of every file.
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "workflow": self.workflow,
            "task": self.task,
            "origin": self.origin,
            "key": self.key,
            "fixable": self.fixable,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass
class WorkflowSummary:
    """Per-workflow metrics and the graph the HTML report draws."""

    id: str
    engine: str | None
    line: int | None
    tasks: int
    edges: int
    depth: int | None  # tasks on the longest path (None when cyclic)
    width: int | None  # largest set of tasks that can run at once (see graph.py)
    width_exact: bool
    critical_path: list[str] = field(default_factory=list)
    # Compact graph: task ids, then edges as index pairs.
    nodes: list[str] = field(default_factory=list)
    links: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "engine": self.engine,
            "line": self.line,
            "tasks": self.tasks,
            "edges": self.edges,
            "depth": self.depth,
            "width": self.width,
            "width_exact": self.width_exact,
            "critical_path": self.critical_path,
            "nodes": self.nodes,
            "links": self.links,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WorkflowSummary:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


# FileResult.status values
AUDITED = "audited"
SKIPPED = "skipped"
FAILED = "failed"  # could not be parsed: the findings say why


@dataclass
class FileResult:
    path: str
    status: str
    engine: str | None = None
    skip_reason: str | None = None
    findings: list[Finding] = field(default_factory=list)
    workflows: list[WorkflowSummary] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False
    # Other files of the repository the result was read from (a helper
    # module, a dag-factory config), as [path, mtime_ns, size]: a cached
    # result is stale when one of them changed.
    depends_on: list[list[Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "path": self.path,
            "status": self.status,
            "engine": self.engine,
            "skip_reason": self.skip_reason,
            "findings": [f.to_dict() for f in self.findings],
            "workflows": [w.to_dict() for w in self.workflows],
            "seconds": self.seconds,
        }
        if self.depends_on:
            out["depends_on"] = self.depends_on
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any], cached: bool = False) -> FileResult:
        return cls(
            path=d["path"],
            status=d["status"],
            engine=d.get("engine"),
            skip_reason=d.get("skip_reason"),
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            workflows=[WorkflowSummary.from_dict(w) for w in d.get("workflows", [])],
            seconds=d.get("seconds", 0.0),
            cached=cached,
            depends_on=list(d.get("depends_on") or []),
        )
