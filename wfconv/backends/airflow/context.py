"""Per-emit state of the Airflow backend and the id rules Airflow imposes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.backends.airflow.tables import IMPORTS
from wfconv.backends.common import Code, compact_number
from wfconv.ir.model import Diagnostic, Task, Workflow

# Names the generated module defines itself; task variables avoid them.
MODULE_NAMES = (
    "dag",
    "datetime",
    "pendulum",
    "wfconv_fail",
    "wfconv_choose",
    "wfconv_decide",
    "WFCONV_DECISIONS",
    "fs_exists",
    "os",
    *dec.helper_names(),
    "wfconv_luigi_run",
    "value",
    *IMPORTS,
)

# Airflow's KEY_REGEX for dag_id / task_id / group_id (airflow.utils.helpers).
_AIRFLOW_KEY = re.compile(r"[\w.-]{1,250}")


def task_id_map(w: Workflow) -> dict[str, str]:
    """Source task id -> the task_id Airflow (and its frontend) will see."""
    return airflow_keys(w.task_ids())


def airflow_keys(ids: list[str]) -> dict[str, str]:
    """Task ids Airflow accepts: valid ones unchanged, others with each invalid
    character replaced by ``_`` (and a ``_2``... suffix on a clash). Injective."""
    out = {i: i for i in ids if _AIRFLOW_KEY.fullmatch(i)}
    taken = set(out)
    for i in ids:
        if i in out:
            continue
        base = re.sub(r"[^\w.-]", "_", i)[:240] or "task"
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        out[i] = name
        taken.add(name)
    return out


@dataclass
class OpSpec:
    """One operator call: ``var = cls(kwargs)`` or ``cls.partial(...).expand(...)``."""

    cls: str
    kwargs: list[tuple[str, Any]] = field(default_factory=list)
    expand: list[tuple[str, Any]] | None = None
    expand_kwargs: Any = None
    # a stand-in for an operator wfconv cannot write: its arguments are not
    # the original's, so it is never mapped over them
    placeholder: bool = False
    # written as a call of the source's decorated function (``task.bash``)
    decorator: str | None = None

    def set(self, name: str, value: Any) -> None:
        self.kwargs.append((name, value))


@dataclass
class Ctx:
    """Per-emit state: the workflow, version, collected imports, helpers, losses."""

    workflow: Workflow
    version: int
    losses: list[Diagnostic] = field(default_factory=list)
    classes: set[str] = field(default_factory=set)
    # (module or None, dotted callable name) -> index; None = stub needed
    callables: dict[tuple[str | None, str], int] = field(default_factory=dict)
    # mapped over an upstream output: (task id, upstream id, argument, static kwargs)
    kwarg_maps: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    # callable name -> (source_code kept by the frontend, first task using it)
    kept: dict[str, tuple[Any, Task]] = field(default_factory=dict)
    helpers: set[str] = field(default_factory=set)
    decisions: list[dec.Decision] = field(default_factory=list)
    needs_datetime: bool = False
    needs_pendulum: bool = False
    # Seconds the dates move back (a trigger interval written as data intervals, BA207).
    shift_s: float = 0.0
    # The owner every task shares, written once as default_args (None: they differ).
    shared_owner: str | None = None

    def __post_init__(self) -> None:
        owners = {t.owner for t in self.workflow.tasks}
        self.shared_owner = owners.pop() if len(owners) == 1 else None

    # names of typing the pasted functions annotate with
    typing: set[str] = field(default_factory=set)

    def use(self, cls: str) -> str:
        self.classes.add(cls)
        return cls

    def add(self, d: Diagnostic) -> None:
        self.losses.append(d)


def seconds(ctx: Ctx, s: float) -> Code:
    ctx.needs_datetime = True
    return Code(f"datetime.timedelta(seconds={compact_number(float(s))!r})")
