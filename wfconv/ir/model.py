"""The intermediate representation: plain, typed dataclasses.

Every layer passes these values only (docs/architecture.md §2). The JSON spelling of each
field is the contract of docs/architecture.md §4; `wfconv.ir.jsonio` reads and writes it.

Conventions
- Dates are ISO-8601 strings with an offset (``2023-03-01T00:00:00+00:00``),
  kept as text so that the IR round-trips byte for byte; the runtime parses
  them.
- ``None`` means "not said by the source" (the engine's default applies);
  frontends write explicit values where the source engine has a known default
  that differs between engines (for example Airflow's 300 s retry delay).
- Action fields depend on the action kind; see ``ACTION_FIELDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wfconv.codes import severity as table_severity

IR_VERSION = 1

TRIGGER_RULES = (
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_skipped",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
    # A teardown's rule (Airflow >= 2.7): every direct upstream done, and at
    # least one direct upstream setup succeeded when it has any (all of them
    # skipped: skipped; none succeeded: upstream_failed).
    "all_done_setup_success",
)

# Task roles (Airflow setup/teardown, docs/architecture.md §4 extension): a setup's failure
# stops the tasks in its scope whatever their rule; a teardown waits for its
# scope and does not decide the run's state unless ``teardown_fails_run``.
ROLES = ("setup", "teardown")

ACTION_KINDS = (
    "shell",
    "python",
    "empty",
    "branch",
    "sensor",
    "email",
    "sql",
    "container",
    "subworkflow",
    "fail",
    "hadoop",
    "external",
    "opaque",
)

SCHEDULE_KINDS = ("cron", "interval", "once", "manual", "datasets", "assets")

# Cron presets as the IR spells them out (Airflow's and cron's @names).
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

# The time model of a schedule (docs/semantics.md R3, docs/architecture.md §4):
# "data_interval" - the run for [X, next(X)) starts at next(X) and sees
#   logical_date = data_interval_start = X (Airflow 2; Airflow 3's
#   CronDataIntervalTimetable / DeltaDataIntervalTimetable);
# "trigger" - the run for tick T starts at T and sees logical_date = T and the
#   data interval [T - interval_s, T] (zero-length without interval_s): Airflow 3's
#   bare cron / timedelta, CronTriggerTimetable, Prefect, Oozie nominal times.
DATA_INTERVAL = "data_interval"
TRIGGER = "trigger"
TIME_MODELS = (DATA_INTERVAL, TRIGGER)
# What an IR file written before ``schedule.model`` existed means: wfconv's
# readers and runtime followed Airflow 2 then.
LEGACY_TIME_MODEL = DATA_INTERVAL

SEVERITIES = ("error", "warning", "info")

EDGE_KINDS = ("control", "data", "error")

# What each action kind carries besides ``kind`` (all optional unless noted).
# Frontends may add more keys; backends ignore keys they do not know and say so.
ACTION_FIELDS: dict[str, dict[str, str]] = {
    "shell": {
        "command": "the command line (str, required)",
        "env": "environment variables (dict str->str), added to the inherited environment",
        "env_replace": "true when the source replaces the whole environment with ``env`` "
        "(Airflow's BashOperator without append_env=True, subprocess.run(env=...))",
        "cwd": "working directory",
        "args": "the arguments alone, when the source keeps them apart (list of str); "
        "they are already part of ``command``, which is the whole command line",
        "capture_output": "Oozie capture-output / Airflow do_xcom_push (bool)",
    },
    "python": {
        "callable": "name of the function as written in the source",
        "module": "importable module that defines it, when known",
        "op_args": "positional arguments (list)",
        "op_kwargs": "keyword arguments (dict)",
        "decorator": "TaskFlow decorator used (task, task.virtualenv, ...)",
        "source_code": "the function's source text, when the frontend kept it",
    },
    "empty": {},
    "branch": {
        "callable": "the function choosing the branch (Airflow)",
        "cases": "ordered list of {'when': EL text, 'expr': AST (wfconv.ir.expr), 'to': task id "
        "or null meaning the workflow's end} (Oozie decision)",
        "default": "task id followed when no case holds (null: the end)",
        "short_circuit": "true for ShortCircuitOperator semantics",
        "ignore_downstream_trigger_rules": "ShortCircuit option (bool)",
    },
    "sensor": {
        "sensor": "sensor type (class name, e.g. FileSensor)",
        "poke_interval_s": "seconds between pokes (default 60)",
        "timeout_s": "seconds before the sensor gives up (default 7 days)",
        "mode": "poke | reschedule",
        "soft_fail": "skip instead of fail on timeout (bool)",
        "target": "what is waited for (path, dag id, ...)",
        "args": "other literal arguments (dict)",
    },
    "email": {"to": "list of str", "cc": "", "bcc": "", "subject": "", "body": ""},
    "sql": {"sql": "statement(s)", "conn_id": "", "operator": "original class name"},
    "container": {"image": "", "cmds": "list", "arguments": "list", "namespace": ""},
    "subworkflow": {
        "workflow": "id of the called workflow (when it is in the bundle)",
        "app_path": "Oozie application path",
        "propagate_configuration": "bool",
        "conf": "dict passed to the child run",
        "wait_for_completion": "bool",
    },
    "fail": {"message": "why the run is killed"},
    "hadoop": {
        "engine": "map-reduce|streaming|pipes|pig|hive|hive2|spark|distcp|sqoop|java|ssh|git|fs",
        "operations": "fs actions: ordered list of {'op': delete|mkdir|move|chmod|touchz|chgrp, ...}",
        "script": "",
        "args": "list",
        "properties": "configuration properties (dict)",
    },
    "external": {"output": "path/target of the externally produced data"},
    "opaque": {
        "type": "the original type name (operator class, Oozie action tag) (required)",
        "args": "literal arguments, as far as they could be read",
        "xml": "original XML of an unknown Oozie action",
    },
}


@dataclass
class SourceRef:
    """Where something came from."""

    engine: str | None = None
    path: str | None = None
    line: int | None = None


@dataclass
class Diagnostic:
    """One entry of the fidelity ledger: an approximation, a loss or a problem."""

    severity: str
    code: str
    message: str
    path: str | None = None
    line: int | None = None
    # Backends name the target construct an approximation produced.
    target: str | None = None
    # The task the entry is about, when there is one (lets verify match a
    # structural difference to the ledger entry that explains it).
    task: str | None = None

    def __post_init__(self) -> None:
        # One code, one severity in every command: the table's (wfconv.codes).
        self.severity = table_severity(self.code, self.severity)

    def location(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}"
        return self.path or "-"


@dataclass
class Schedule:
    """When a workflow runs.

    kind: cron (``cron``), interval (``seconds``), once, manual, datasets/assets
    (``datasets``). A cron or interval schedule with ``datasets`` also runs
    when those datasets are updated (Airflow's DatasetOrTimeSchedule /
    AssetOrTimeSchedule). ``model`` says which runs the ticks make and what
    each run sees (TIME_MODELS); the same cron means different runs in
    Airflow 2 and 3, so readers record what their source engine and version
    mean and writers keep it.
    """

    kind: str = "manual"
    cron: str | None = None
    seconds: float | None = None
    timezone: str = "UTC"
    datasets: list[str] = field(default_factory=list)
    # TIME_MODELS; None only in IR files older than the field (LEGACY_TIME_MODEL).
    model: str | None = None
    # Trigger model only: the length of each run's data interval, which ends
    # at the tick (Airflow's CronTriggerTimetable/DeltaTriggerTimetable
    # ``interval=``); None means zero-length.
    interval_s: float | None = None

    @property
    def time_model(self) -> str:
        """The model this schedule means (old IR files: LEGACY_TIME_MODEL)."""
        return self.model or LEGACY_TIME_MODEL


@dataclass
class Action:
    """What a task does. ``fields`` holds the kind-specific keys (ACTION_FIELDS);
    in JSON they sit beside ``kind`` in one flat object."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


@dataclass
class Task:
    id: str
    action: Action
    retries: int = 0
    retry_delay_s: float | list[float] | None = None
    retry_backoff: str = "fixed"
    max_retry_delay_s: float | None = None
    timeout_s: float | None = None
    trigger_rule: str = "all_success"
    group: str | None = None
    source: SourceRef | None = None
    pool: str | None = None
    queue: str | None = None
    # Who owns the task (Airflow's ``owner``, also from default_args); None: not said.
    owner: str | None = None
    depends_on_past: bool = False
    # "setup" / "teardown" (ROLES) or None.
    role: str | None = None
    # A teardown whose failure fails the run (Airflow's on_failure_fail_dagrun).
    teardown_fails_run: bool = False
    # Dynamic task mapping: {"kind": "product"|"zip", "over": {arg: values or expression}}.
    mapped: dict[str, Any] | None = None
    # Luigi parameters / Prefect call arguments that identify the instance.
    params: dict[str, Any] = field(default_factory=dict)
    # Luigi outputs, Airflow outlets (paths or target descriptions).
    outputs: list[str] = field(default_factory=list)
    doc: str | None = None
    # Engine-specific settings kept so that a same-engine re-emit loses nothing.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Edge:
    """``src`` must finish (in the sense of ``dst``'s trigger rule) before ``dst``.

    kind: control (plain ordering), data (a value flows), error (Oozie error
    transition). JSON spells ``src``/``dst`` as ``from``/``to``.
    """

    src: str
    dst: str
    kind: str = "control"


@dataclass
class Group:
    """A TaskGroup / Prefect subflow inlined / Luigi WrapperTask grouping."""

    id: str
    parent: str | None = None
    label: str | None = None
    tooltip: str | None = None
    source: SourceRef | None = None


@dataclass
class Workflow:
    id: str
    description: str | None = None
    schedule: Schedule = field(default_factory=Schedule)
    start_date: str | None = None
    end_date: str | None = None
    catchup: bool | None = None
    params: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    max_active_runs: int | None = None
    timeout_s: float | None = None
    tasks: list[Task] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    source: SourceRef | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # True when the reader could not see the whole workflow statically (a
    # helper it cannot evaluate built tasks, a loop over a run-time value...):
    # the IR may lack tasks or dependencies; ``incomplete_reasons`` say where.
    # ``convert --strict`` and ``verify`` refuse such a workflow.
    incomplete: bool = False
    incomplete_reasons: list[str] = field(default_factory=list)

    # -- convenience -----------------------------------------------------
    def _repr_html_(self) -> str:
        from wfconv import notebook

        return notebook.workflow_html(self)

    def _repr_markdown_(self) -> str:
        from wfconv import notebook

        return notebook.workflow_markdown(self)

    @property
    def complete(self) -> bool:
        """Whether the reader saw the whole workflow (see ``incomplete``)."""
        return not self.incomplete

    def mark_incomplete(self, reason: str) -> None:
        self.incomplete = True
        if reason not in self.incomplete_reasons:
            self.incomplete_reasons.append(reason)

    def task(self, task_id: str) -> Task:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(task_id)

    def task_ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    def upstream(self, task_id: str) -> list[str]:
        return [e.src for e in self.edges if e.dst == task_id]

    def downstream(self, task_id: str) -> list[str]:
        return [e.dst for e in self.edges if e.src == task_id]

    def add_edge(self, src: str, dst: str, kind: str = "control") -> None:
        """Add an edge unless the same pair is already there (first kind wins,
        except that ``data`` upgrades a plain ``control`` edge). O(1): an index
        of the pairs is kept beside ``edges`` and rebuilt if the list changed
        behind its back."""
        index = self.__dict__.get("_edge_index")
        if (
            index is None
            or self.__dict__.get("_edge_list") is not self.edges
            or len(index) != len(self.edges)
        ):
            index = {(e.src, e.dst): e for e in self.edges}
            self.__dict__["_edge_index"] = index
            self.__dict__["_edge_list"] = self.edges
        e = index.get((src, dst))
        if e is not None:
            if kind == "data" and e.kind == "control":
                e.kind = "data"
            return
        e = Edge(src, dst, kind)
        self.edges.append(e)
        index[(src, dst)] = e

    def diag(
        self,
        severity: str,
        code: str,
        message: str,
        path: str | None = None,
        line: int | None = None,
        target: str | None = None,
    ) -> Diagnostic:
        d = Diagnostic(severity, code, message, path, line, target)
        self.diagnostics.append(d)
        return d

    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


@dataclass
class Bundle:
    """What one parse produces: every workflow found, plus file-level diagnostics
    (files that hold no workflow, problems outside any workflow)."""

    workflows: list[Workflow] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def _repr_html_(self) -> str:
        from wfconv import notebook

        return notebook.bundle_html(self)

    def _repr_markdown_(self) -> str:
        from wfconv import notebook

        return notebook.bundle_markdown(self)

    def workflow(self, workflow_id: str) -> Workflow:
        for w in self.workflows:
            if w.id == workflow_id:
                return w
        raise KeyError(workflow_id)

    def all_diagnostics(self) -> list[Diagnostic]:
        out = list(self.diagnostics)
        for w in self.workflows:
            out.extend(w.diagnostics)
        return out


def implied_by_all_success(w: Workflow) -> Callable[[str, str], bool]:
    """``exact(a, c)``: is an edge a -> c implied by the rest of the graph?
    Yes when c is ``all_success`` and a longer path a -> ... -> c runs through
    ``all_success`` tasks only: c's other upstreams then already require a's
    success and carry its failure or skip. The Oozie writer drops such edges
    (a fork/join cannot say them) and its reader restores them; both ask here,
    over the graph as it was when this was called."""
    rule = {t.id: t.trigger_rule for t in w.tasks}
    preds: dict[str, list[str]] = {}
    for e in w.edges:
        if e.kind != "error":
            preds.setdefault(e.dst, []).append(e.src)

    def exact(a: str, c: str) -> bool:
        if rule.get(c) != "all_success":
            return False
        todo = [p for p in preds.get(c, []) if p != a and rule.get(p) == "all_success"]
        seen = set(todo)
        while todo:
            n = todo.pop()
            if a in preds.get(n, []):
                return True
            for p in preds.get(n, []):
                if p not in seen and rule.get(p) == "all_success":
                    seen.add(p)
                    todo.append(p)
        return False

    return exact
