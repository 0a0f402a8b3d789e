"""JSON Schema (draft 2020-12) of the IR document, and the check that uses it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import ACTION_KINDS, EDGE_KINDS, SCHEDULE_KINDS, SEVERITIES, TRIGGER_RULES

_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_NUM = {"type": ["number", "null"], "minimum": 0}

_SOURCE = {
    "type": ["object", "null"],
    "properties": {
        "engine": _NULLABLE_STR,
        "path": _NULLABLE_STR,
        "line": {"type": ["integer", "null"], "minimum": 0},
    },
    "additionalProperties": True,
}

_DIAGNOSTIC = {
    "type": "object",
    "required": ["severity", "code", "message"],
    "properties": {
        "severity": {"enum": list(SEVERITIES)},
        "code": {"type": "string", "minLength": 1},
        "message": {"type": "string"},
        "path": _NULLABLE_STR,
        "line": {"type": ["integer", "null"]},
        "target": _NULLABLE_STR,
        "task": _NULLABLE_STR,
    },
}

_SCHEDULE = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {"enum": list(SCHEDULE_KINDS)},
        "cron": {"type": "string"},
        "seconds": {"type": "number", "exclusiveMinimum": 0},
        "timezone": {"type": "string"},
        "datasets": {"type": "array", "items": {"type": "string"}},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "cron"}}}, "then": {"required": ["cron"]}},
        {
            "if": {"properties": {"kind": {"const": "interval"}}},
            "then": {"required": ["seconds"]},
        },
    ],
}

_ACTION = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": list(ACTION_KINDS)}},
    "allOf": [
        {
            "if": {"properties": {"kind": {"const": "shell"}}},
            "then": {"required": ["command"], "properties": {"command": {"type": "string"}}},
        },
        {
            "if": {"properties": {"kind": {"const": "opaque"}}},
            "then": {"required": ["type"], "properties": {"type": {"type": "string"}}},
        },
    ],
}

_TASK = {
    "type": "object",
    "required": ["id", "action"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "action": _ACTION,
        "retries": {"type": "integer", "minimum": 0},
        "retry_delay_s": {
            "oneOf": [
                {"type": "null"},
                {"type": "number", "minimum": 0},
                {"type": "array", "items": {"type": "number", "minimum": 0}},
            ]
        },
        "retry_backoff": {"enum": ["fixed", "exponential"]},
        "max_retry_delay_s": _NULLABLE_NUM,
        "timeout_s": _NULLABLE_NUM,
        # Unknown trigger rules are a validation diagnostic, not a schema error,
        # so that `wfconv parse` can still show the document.
        "trigger_rule": {"type": "string"},
        "group": _NULLABLE_STR,
        "source": _SOURCE,
        "pool": _NULLABLE_STR,
        "queue": _NULLABLE_STR,
        "depends_on_past": {"type": "boolean"},
        "role": {"enum": [None, "setup", "teardown"]},
        "teardown_fails_run": {"type": "boolean"},
        "mapped": {"type": ["object", "null"]},
        "params": {"type": "object"},
        "outputs": {"type": "array", "items": {"type": "string"}},
        "doc": _NULLABLE_STR,
        "extra": {"type": "object"},
    },
}

_EDGE = {
    "type": "object",
    "required": ["from", "to"],
    "properties": {
        "from": {"type": "string"},
        "to": {"type": "string"},
        "kind": {"enum": list(EDGE_KINDS)},
    },
}

_GROUP = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "parent": _NULLABLE_STR,
        "label": _NULLABLE_STR,
        "tooltip": _NULLABLE_STR,
        "source": _SOURCE,
    },
}

_DATE = {"type": ["string", "null"], "format": "date-time"}

_WORKFLOW = {
    "type": "object",
    "required": ["id", "tasks"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "description": _NULLABLE_STR,
        "schedule": _SCHEDULE,
        "start_date": _DATE,
        "end_date": _DATE,
        "catchup": {"type": ["boolean", "null"]},
        "params": {"type": "object"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "max_active_runs": {"type": ["integer", "null"], "minimum": 1},
        "timeout_s": _NULLABLE_NUM,
        "tasks": {"type": "array", "items": _TASK},
        "edges": {"type": "array", "items": _EDGE},
        "groups": {"type": "array", "items": _GROUP},
        "source": _SOURCE,
        "diagnostics": {"type": "array", "items": _DIAGNOSTIC},
        "extra": {"type": "object"},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://wfconv.dev/schema/ir-1.json",
    "title": "wfconv IR, version 1",
    "description": "Workflows, tasks, dependencies, trigger rules, retries and schedules "
    "in one engine-neutral document. Trigger rules use Airflow's vocabulary: "
    + ", ".join(TRIGGER_RULES)
    + ".",
    "type": "object",
    "required": ["wfconv_ir", "workflows"],
    "properties": {
        "wfconv_ir": {"const": 1},
        "workflows": {"type": "array", "items": _WORKFLOW},
        "diagnostics": {"type": "array", "items": _DIAGNOSTIC},
    },
}


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(SCHEMA)
    return cls(SCHEMA)


def _json_path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def validate_document(data: Any, path: str = "<input>") -> None:
    """Raise InputError naming the JSON path of the first schema problem
    (the one earliest in the document, so the message is stable)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:
        return
    err = min(errors, key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    # The most specific message is usually the deepest error of the same branch.
    deepest = max(
        (e for e in errors if list(e.absolute_path)[: len(err.absolute_path)] == list(err.absolute_path)),
        key=lambda e: len(e.absolute_path),
    )
    raise InputError(path, None, f"not a valid wfconv IR document at {_json_path(deepest.absolute_path)}: {deepest.message}")
