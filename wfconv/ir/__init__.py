"""The intermediate representation (docs/architecture.md §4): model, JSON, schema, validation."""

from wfconv.ir.jsonio import dumps, load, loads
from wfconv.ir.model import (
    ACTION_KINDS,
    IR_VERSION,
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
from wfconv.ir.validate import finalize, find_cycles, require_valid, validate_workflow

__all__ = [
    "ACTION_KINDS",
    "IR_VERSION",
    "TRIGGER_RULES",
    "Action",
    "Bundle",
    "Diagnostic",
    "Edge",
    "Group",
    "Schedule",
    "SourceRef",
    "Task",
    "Workflow",
    "dumps",
    "finalize",
    "find_cycles",
    "load",
    "loads",
    "require_valid",
    "validate_workflow",
]
