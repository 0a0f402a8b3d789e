"""IR <-> JSON (docs/architecture.md §4, ``wfconv_ir: 1``).

Writing is deterministic: fields in dataclass order, two-space indent, UTF-8
kept as is, a final newline. Reading validates against the JSON Schema first so
that a bad file is reported with the JSON path of the problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import (
    IR_VERSION,
    Action,
    Bundle,
    Diagnostic,
    Edge,
    Group,
    Schedule,
    SourceRef,
    Task,
    Workflow,
)

# ---------------------------------------------------------------------------
# to JSON


def _source(s: SourceRef | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"engine": s.engine, "path": s.path, "line": s.line}


def _diag(d: Diagnostic) -> dict[str, Any]:
    out: dict[str, Any] = {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "path": d.path,
        "line": d.line,
    }
    if d.target is not None:
        out["target"] = d.target
    if d.task is not None:
        out["task"] = d.task
    return out


def schedule_to_dict(s: Schedule) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": s.kind}
    if s.kind == "cron":
        out["cron"] = s.cron
    elif s.kind == "interval":
        out["seconds"] = s.seconds
    if s.kind in ("datasets", "assets") or (s.kind in ("cron", "interval") and s.datasets):
        # A time schedule that also runs on dataset updates keeps them too.
        out["datasets"] = list(s.datasets)
    out["timezone"] = s.timezone
    return out


def action_to_dict(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": a.kind}
    for k, v in a.fields.items():
        if k != "kind":
            out[k] = v
    return out


def task_to_dict(t: Task) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "action": action_to_dict(t.action),
        "retries": t.retries,
        "retry_delay_s": t.retry_delay_s,
        "retry_backoff": t.retry_backoff,
        "max_retry_delay_s": t.max_retry_delay_s,
        "timeout_s": t.timeout_s,
        "trigger_rule": t.trigger_rule,
        "group": t.group,
        "source": _source(t.source),
    }
    # Optional fields are written only when set, to keep documents short.
    if t.pool is not None:
        out["pool"] = t.pool
    if t.queue is not None:
        out["queue"] = t.queue
    if t.depends_on_past:
        out["depends_on_past"] = True
    if t.role is not None:
        out["role"] = t.role
    if t.teardown_fails_run:
        out["teardown_fails_run"] = True
    if t.mapped is not None:
        out["mapped"] = t.mapped
    if t.params:
        out["params"] = t.params
    if t.outputs:
        out["outputs"] = list(t.outputs)
    if t.doc is not None:
        out["doc"] = t.doc
    if t.extra:
        out["extra"] = t.extra
    return out


def workflow_to_dict(w: Workflow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": w.id,
        "description": w.description,
        "schedule": schedule_to_dict(w.schedule),
        "start_date": w.start_date,
        "end_date": w.end_date,
        "catchup": w.catchup,
        "params": w.params,
        "tags": list(w.tags),
        "max_active_runs": w.max_active_runs,
        "timeout_s": w.timeout_s,
        "tasks": [task_to_dict(t) for t in w.tasks],
        "edges": [{"from": e.src, "to": e.dst, "kind": e.kind} for e in w.edges],
        "groups": [
            {
                "id": g.id,
                "parent": g.parent,
                "label": g.label,
                "tooltip": g.tooltip,
                "source": _source(g.source),
            }
            for g in w.groups
        ],
        "source": _source(w.source),
        "diagnostics": [_diag(d) for d in w.diagnostics],
    }
    if w.extra:
        out["extra"] = w.extra
    return out


def bundle_to_dict(b: Bundle) -> dict[str, Any]:
    out: dict[str, Any] = {
        "wfconv_ir": IR_VERSION,
        "workflows": [workflow_to_dict(w) for w in b.workflows],
    }
    if b.diagnostics:
        out["diagnostics"] = [_diag(d) for d in b.diagnostics]
    return out


def dumps(b: Bundle) -> str:
    return json.dumps(bundle_to_dict(b), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# from JSON


def _source_from(d: dict[str, Any] | None) -> SourceRef | None:
    if d is None:
        return None
    return SourceRef(d.get("engine"), d.get("path"), d.get("line"))


def _diag_from(d: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        d["severity"],
        d["code"],
        d["message"],
        d.get("path"),
        d.get("line"),
        d.get("target"),
        d.get("task"),
    )


def schedule_from_dict(d: dict[str, Any] | None) -> Schedule:
    if d is None:
        return Schedule()
    return Schedule(
        kind=d["kind"],
        cron=d.get("cron"),
        seconds=d.get("seconds"),
        timezone=d.get("timezone") or "UTC",
        datasets=list(d.get("datasets") or []),
    )


def task_from_dict(d: dict[str, Any]) -> Task:
    a = dict(d["action"])
    kind = a.pop("kind")
    return Task(
        id=d["id"],
        action=Action(kind, a),
        retries=d.get("retries", 0) or 0,
        retry_delay_s=d.get("retry_delay_s"),
        retry_backoff=d.get("retry_backoff", "fixed") or "fixed",
        max_retry_delay_s=d.get("max_retry_delay_s"),
        timeout_s=d.get("timeout_s"),
        trigger_rule=d.get("trigger_rule", "all_success") or "all_success",
        group=d.get("group"),
        source=_source_from(d.get("source")),
        pool=d.get("pool"),
        queue=d.get("queue"),
        depends_on_past=bool(d.get("depends_on_past", False)),
        role=d.get("role"),
        teardown_fails_run=bool(d.get("teardown_fails_run", False)),
        mapped=d.get("mapped"),
        params=dict(d.get("params") or {}),
        outputs=list(d.get("outputs") or []),
        doc=d.get("doc"),
        extra=dict(d.get("extra") or {}),
    )


def workflow_from_dict(d: dict[str, Any]) -> Workflow:
    return Workflow(
        id=d["id"],
        description=d.get("description"),
        schedule=schedule_from_dict(d.get("schedule")),
        start_date=d.get("start_date"),
        end_date=d.get("end_date"),
        catchup=d.get("catchup"),
        params=dict(d.get("params") or {}),
        tags=list(d.get("tags") or []),
        max_active_runs=d.get("max_active_runs"),
        timeout_s=d.get("timeout_s"),
        tasks=[task_from_dict(t) for t in d.get("tasks", [])],
        edges=[Edge(e["from"], e["to"], e.get("kind", "control")) for e in d.get("edges", [])],
        groups=[
            Group(
                g["id"],
                g.get("parent"),
                g.get("label"),
                g.get("tooltip"),
                _source_from(g.get("source")),
            )
            for g in d.get("groups", [])
        ],
        source=_source_from(d.get("source")),
        diagnostics=[_diag_from(x) for x in d.get("diagnostics", [])],
        extra=dict(d.get("extra") or {}),
    )


def bundle_from_dict(d: dict[str, Any]) -> Bundle:
    return Bundle(
        workflows=[workflow_from_dict(w) for w in d.get("workflows", [])],
        diagnostics=[_diag_from(x) for x in d.get("diagnostics", [])],
    )


def is_ir_document(text: str) -> bool:
    """Cheap check used by auto-detection: does this JSON text claim to be IR?"""
    head = text.lstrip()[:4096]
    return head.startswith("{") and '"wfconv_ir"' in head


def loads(text: str, path: str = "<string>") -> Bundle:
    """Parse and schema-check an IR document; problems are InputErrors."""
    from wfconv.ir.schema import validate_document

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, exc.lineno, f"invalid JSON: {exc.msg}") from None
    validate_document(data, path)
    return bundle_from_dict(data)


def load(path: str | Path) -> Bundle:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, f"cannot read: {exc}") from None
    return loads(text, str(path))
