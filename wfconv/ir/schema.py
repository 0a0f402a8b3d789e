"""The IR's JSON shape, in one place: the dataclasses of ``wfconv.ir.model``
plus the table ``JSON`` below (a JSON name where it differs from the
attribute, fields written only when set, constraints beyond the type).

From them come the JSON Schema (draft 2020-12, ``SCHEMA``), the writer and
reader of ``wfconv.ir.jsonio``, and the check on load: a compiled validator
(jsonschema-rs) for speed, and jsonschema only to explain a bad document by
its JSON path. A new field is added to its dataclass, and to ``JSON`` only if
it needs a name, an omission rule or a constraint.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import (
    ACTION_KINDS,
    EDGE_KINDS,
    IR_VERSION,
    SCHEDULE_KINDS,
    SEVERITIES,
    TIME_MODELS,
    TRIGGER,
    TRIGGER_RULES,
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


@dataclass(frozen=True)
class J:
    """How one dataclass field is spelt in JSON."""

    name: str | None = None  # the JSON key, when not the attribute's name
    omit: bool = False  # written only when set (not None, False or empty)
    required: bool | None = None  # default: required when the field has no default
    schema: dict[str, Any] | None = None  # merged over the schema of its type


_MIN0 = {"minimum": 0}
_DATE = J(schema={"format": "date-time"})

JSON: dict[type, dict[str, J]] = {
    SourceRef: {"line": J(schema=_MIN0)},
    Diagnostic: {
        "severity": J(schema={"enum": list(SEVERITIES)}),
        "code": J(schema={"minLength": 1}),
        "target": J(omit=True),
        "task": J(omit=True),
    },
    Schedule: {
        "kind": J(required=True, schema={"enum": list(SCHEDULE_KINDS)}),
        "cron": J(omit=True, schema={"type": "string"}),
        "seconds": J(omit=True, schema={"type": "number", "exclusiveMinimum": 0}),
        "datasets": J(omit=True),
        # Absent only in files older than the field: read as data_interval.
        "model": J(omit=True, schema={"enum": list(TIME_MODELS)}),
        "interval_s": J(omit=True, schema={"type": "number", "exclusiveMinimum": 0}),
    },
    Task: {
        "id": J(schema={"minLength": 1}),
        "retries": J(schema=_MIN0),
        "retry_delay_s": J(
            schema={
                "oneOf": [
                    {"type": "null"},
                    {"type": "number", "minimum": 0},
                    {"type": "array", "items": {"type": "number", "minimum": 0}},
                ]
            }
        ),
        "retry_backoff": J(schema={"enum": ["fixed", "exponential"]}),
        "max_retry_delay_s": J(schema=_MIN0),
        "timeout_s": J(schema=_MIN0),
        # Unknown trigger rules are a validation diagnostic (IR003), not a
        # schema error, so that `wfconv parse` can still show the document.
        "pool": J(omit=True),
        "queue": J(omit=True),
        "owner": J(omit=True),
        "depends_on_past": J(omit=True),
        "role": J(omit=True, schema={"enum": [None, "setup", "teardown"]}),
        "teardown_fails_run": J(omit=True),
        "mapped": J(omit=True),
        "params": J(omit=True),
        "outputs": J(omit=True),
        "doc": J(omit=True),
        "extra": J(omit=True),
    },
    Edge: {
        "src": J(name="from"),
        "dst": J(name="to"),
        "kind": J(schema={"enum": list(EDGE_KINDS)}),
    },
    Group: {"id": J(schema={"minLength": 1})},
    Workflow: {
        "id": J(schema={"minLength": 1}),
        "start_date": _DATE,
        "end_date": _DATE,
        "max_active_runs": J(schema={"minimum": 1}),
        "timeout_s": J(schema=_MIN0),
        "tasks": J(required=True),
        "extra": J(omit=True),
        # Written only when the reader could not see the whole workflow
        # statically (docs/architecture.md §4, docs/repositories.md).
        "incomplete": J(omit=True),
        "incomplete_reasons": J(omit=True),
    },
    Bundle: {"diagnostics": J(omit=True)},
}

# Key order when it is not the dataclass's (kept so documents stay byte-stable).
ORDER: dict[type, tuple[str, ...]] = {
    Schedule: ("kind", "cron", "seconds", "datasets", "timezone", "model", "interval_s")
}

# Whole-object rules that no single field says.
_OBJECT_RULES: dict[type, dict[str, Any]] = {
    Schedule: {
        "allOf": [
            {"if": {"properties": {"kind": {"const": "cron"}}}, "then": {"required": ["cron"]}},
            {
                "if": {"properties": {"kind": {"const": "interval"}}},
                "then": {"required": ["seconds"]},
            },
            # A data interval that ends at the tick is a trigger timetable's.
            {
                "if": {"required": ["interval_s"]},
                "then": {"required": ["model"], "properties": {"model": {"const": TRIGGER}}},
            },
        ]
    },
}

# An action is one flat object: ``kind`` beside its kind-specific fields.
_ACTION_SCHEMA = {
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


@dataclass(frozen=True)
class Field:
    """One JSON member of a dataclass, resolved from the field and the table."""

    attr: str
    name: str
    omit: bool
    required: bool
    default: Any  # dataclasses.MISSING when required by position
    factory: Any  # a default factory (list, dict, a dataclass) or MISSING
    shape: str  # "value" | "list" | "dict" | "object" | "objects"
    cls: type | None  # the dataclass of "object"/"objects"
    schema: dict[str, Any]


_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _type_schema(tp) -> tuple[dict[str, Any], str, type | None]:
    """(JSON Schema, shape, dataclass) of an annotation."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        nullable = type(None) in args
        (inner,) = [a for a in args if a is not type(None)][:1] or [type(None)]
        sch, shape, cls = _type_schema(inner)
        if nullable and "type" in sch:
            base = sch["type"] if isinstance(sch["type"], list) else [sch["type"]]
            sch = {**sch, "type": [*base, "null"]}
        return sch, shape, cls
    if dataclasses.is_dataclass(tp) or tp is Action:
        return {"$ref": f"#/$defs/{tp.__name__}"}, "object", tp
    origin = typing.get_origin(tp)
    if origin is list:
        sch, _, cls = _type_schema(args[0])
        return {"type": "array", "items": sch}, ("objects" if cls else "list"), cls
    if origin is dict or tp is dict:
        return {"type": "object"}, "dict", None
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}, "value", None
    return {}, "value", None


@cache
def fields_of(cls: type) -> tuple[Field, ...]:
    hints = typing.get_type_hints(cls)
    table = JSON.get(cls, {})
    out = []
    for f in dataclasses.fields(cls):
        j = table.get(f.name, J())
        sch, shape, sub = _type_schema(hints[f.name])
        if j.schema:
            sch = {
                k: v
                for k, v in sch.items()
                if not ({"type", "oneOf"} & j.schema.keys() and k == "type")
            }
            sch.update(j.schema)
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        out.append(
            Field(
                f.name,
                j.name or f.name,
                j.omit,
                (not has_default) if j.required is None else j.required,
                f.default,
                f.default_factory,
                shape,
                sub,
                sch,
            )
        )
    order = ORDER.get(cls)
    if order:
        out.sort(key=lambda fl: order.index(fl.name) if fl.name in order else len(order))
    return tuple(out)


def _object_schema(cls: type) -> dict[str, Any]:
    fields = fields_of(cls)
    sch: dict[str, Any] = {"type": "object"}
    required = [f.name for f in fields if f.required]
    if required:
        sch["required"] = required
    sch["properties"] = {f.name: f.schema for f in fields}
    sch.update(_OBJECT_RULES.get(cls, {}))
    return sch


def _build_schema() -> dict[str, Any]:
    defs = {cls.__name__: _object_schema(cls) for cls in JSON if cls is not Bundle}
    defs["Action"] = _ACTION_SCHEMA
    # A missing source is written as null.
    defs["SourceRef"]["type"] = ["object", "null"]
    top = _object_schema(Bundle)
    top["required"] = ["wfconv_ir", "workflows"]
    top["properties"] = {"wfconv_ir": {"const": IR_VERSION}, **top["properties"]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://wfconv.dev/schema/ir-1.json",
        "title": "wfconv IR, version 1",
        "description": "Workflows, tasks, dependencies, trigger rules, retries and schedules "
        "in one engine-neutral document. Trigger rules use Airflow's vocabulary: "
        + ", ".join(TRIGGER_RULES)
        + ".",
        **top,
        "$defs": defs,
    }


SCHEMA: dict[str, Any] = _build_schema()


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    cls = jsonschema.validators.validator_for(SCHEMA)
    return cls(SCHEMA)


@lru_cache(maxsize=1)
def _fast_check():
    """The same schema compiled in Rust (jsonschema-rs): a 10k-task document
    is checked in ~4 ms, where fastjsonschema's generated Python took ~150 ms
    and jsonschema seconds. Formats are not checked, as in jsonschema without
    a format checker, so both accept the same documents."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(SCHEMA, validate_formats=False).is_valid


def _json_path(parts) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def validate_document(data: Any, path: str = "<input>") -> None:
    """Raise InputError naming the JSON path of the first schema problem
    (the one earliest in the document, so the message is stable)."""
    if _fast_check()(data):
        return
    # explained below, by jsonschema
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if not errors:  # the two validators disagree: trust the explaining one
        return
    err = min(errors, key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    # The most specific message is usually the deepest error of the same branch.
    deepest = max(
        (
            e
            for e in errors
            if list(e.absolute_path)[: len(err.absolute_path)] == list(err.absolute_path)
        ),
        key=lambda e: len(e.absolute_path),
    )
    raise InputError(
        path,
        None,
        f"not a valid wfconv IR document at {_json_path(deepest.absolute_path)}: {deepest.message}",
    )
