"""Static Airflow frontend: a DAG file -> IR, without importing it.

The module is run by the shared abstract interpreter (``pyeval``); this
module supplies the hooks that give Airflow's objects their meaning: ``DAG``
calls and ``with`` blocks, operators (via the table in ``airflow.operators``),
TaskFlow decorators, TaskGroups, ``>>``/``<<``, ``chain``, ``.partial().expand()``.
Everything Python can compute from the file alone is computed (loops over
literal lists, f-strings, DAG factories called with literal arguments);
anything that needs run time becomes a diagnostic at its line.

Diagnostics are attributed to the DAG being built when they happen (inside a
``with DAG`` block, an ``@dag`` body, or the DAG a task belongs to); module-level
ones (an import, a config file read at the top) are given to every DAG of the
file, or to the bundle when the file defines none. Codes: docs/codes/airflow.md.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.errors import InputError
from wfconv.frontends import pychunks, pyeval
from wfconv.frontends.airflow import operators as ops
from wfconv.frontends.airflow import schedule as time_model
from wfconv.frontends.airflow import version as airflow_version
from wfconv.frontends.airflow.objects import (
    AssetDecorator,
    DagDecorator,
    DagFunction,
    DagObj,
    DagParamRef,
    DatasetCond,
    DatasetObj,
    GroupDecorator,
    GroupFunction,
    GroupObj,
    LabelObj,
    ParamObj,
    PartialCall,
    TaskDecorator,
    TaskFlowFn,
    TaskObj,
    TimetableObj,
    UnreadName,
    XComArg,
    function_source,
    iso,
    jsonable,
    seconds,
    tz_name,
    unread_names,
    xcom_sources,
)
from wfconv.frontends.pyeval import (
    CONDITION,
    ERROR,
    LIMIT,
    LOOP,
    NOT_HANDLED,
    RUNTIME,
    UNSUPPORTED,
    BoundMethod,
    ClassValue,
    FileRefused,
    FunctionValue,
    Hooks,
    InstanceValue,
    Interpreter,
    Note,
    Ref,
    SuperValue,
    Unknown,
    contains_unknown,
    linear_bases,
)
from wfconv.frontends.repo import (
    ENGINE_PACKAGES,
    Repository,
    data_files_for,
    importer_for,
    unread_reason,
)
from wfconv.ir.model import (
    CRON_PRESETS,
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
from wfconv.ir.validate import finalize

ENGINE = "airflow"

# BaseOperator arguments that set IR task fields (task_id/dag/task_group are read apart).
_FIELD_ARGS = frozenset(ops.BASE_OPERATOR_ARGS - {"task_id", "dag", "task_group"})
_SCALAR_JSON = {str, int, bool, type(None)}
_NODE_TYPES: tuple[type, ...] = ()  # set below, once the classes exist

# Airflow's task defaults, written explicitly into the IR.
DEFAULT_RETRIES = 0
DEFAULT_RETRY_DELAY_S = 300.0
DEFAULT_TRIGGER_RULE = "all_success"
# Time schedules that also run on dataset/asset events (Airflow 2.9+ / 3).
_OR_TIME_SCHEDULES = ("DatasetOrTimeSchedule", "AssetOrTimeSchedule")

# Interpreter note kind -> (severity, code).
NOTE_CODES: dict[str, tuple[str, str]] = {
    RUNTIME: ("warning", "AF101"),
    LOOP: ("warning", "AF102"),
    CONDITION: ("warning", "AF105"),
    UNSUPPORTED: ("warning", "AF106"),
    ERROR: ("warning", "AF107"),
    LIMIT: ("warning", "AF108"),
}

TRIGGER_RULE_RENAMES = {
    "dummy": "always",
    "none_failed_or_skipped": "none_failed_min_one_success",
}

# Calls whose value depends on the current date (AF103 when used as a DAG date).
CLOCK_CALLS = {
    "airflow.utils.dates.days_ago",
    "airflow.utils.timezone.utcnow",
    "airflow.utils.timezone.now",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.datetime.today",
    "datetime.date.today",
    "pendulum.now",
    "pendulum.today",
    "pendulum.yesterday",
    "pendulum.tomorrow",
    "time.time",
}

# Template variables removed in Airflow 3 (AF205).
REMOVED_TEMPLATE_VARS = {
    "execution_date",
    "next_execution_date",
    "prev_execution_date",
    "prev_execution_date_success",
    "next_ds",
    "next_ds_nodash",
    "prev_ds",
    "prev_ds_nodash",
    "yesterday_ds",
    "yesterday_ds_nodash",
    "tomorrow_ds",
    "tomorrow_ds_nodash",
    "conf",
}

# Import paths removed or moved in Airflow 3 (AF203): module prefix -> replacement.
MOVED_IMPORTS: dict[str, str] = {
    "airflow.operators.bash_operator": "airflow.providers.standard.operators.bash",
    "airflow.operators.bash": "airflow.providers.standard.operators.bash",
    "airflow.operators.python_operator": "airflow.providers.standard.operators.python",
    "airflow.operators.python": "airflow.providers.standard.operators.python",
    "airflow.operators.dummy_operator": "airflow.providers.standard.operators.empty",
    "airflow.operators.dummy": "airflow.providers.standard.operators.empty",
    "airflow.operators.empty": "airflow.providers.standard.operators.empty",
    "airflow.operators.email_operator": "airflow.providers.smtp.operators.smtp",
    "airflow.operators.email": "airflow.providers.smtp.operators.smtp",
    "airflow.operators.dagrun_operator": "airflow.providers.standard.operators.trigger_dagrun",
    "airflow.operators.trigger_dagrun": "airflow.providers.standard.operators.trigger_dagrun",
    "airflow.operators.latest_only": "airflow.providers.standard.operators.latest_only",
    "airflow.operators.datetime": "airflow.providers.standard.operators.datetime",
    "airflow.operators.weekday": "airflow.providers.standard.operators.weekday",
    "airflow.operators.subdag": "(removed: use TaskGroups)",
    "airflow.operators.subdag_operator": "(removed: use TaskGroups)",
    "airflow.sensors.base": "airflow.sdk (BaseSensorOperator)",
    "airflow.sensors.base_sensor_operator": "airflow.sdk (BaseSensorOperator)",
    "airflow.sensors.filesystem": "airflow.providers.standard.sensors.filesystem",
    "airflow.sensors.external_task": "airflow.providers.standard.sensors.external_task",
    "airflow.sensors.external_task_sensor": "airflow.providers.standard.sensors.external_task",
    "airflow.sensors.time_delta": "airflow.providers.standard.sensors.time_delta",
    "airflow.sensors.time_delta_sensor": "airflow.providers.standard.sensors.time_delta",
    "airflow.sensors.time_sensor": "airflow.providers.standard.sensors.time",
    "airflow.sensors.date_time": "airflow.providers.standard.sensors.date_time",
    "airflow.sensors.python": "airflow.providers.standard.sensors.python",
    "airflow.sensors.bash": "airflow.providers.standard.sensors.bash",
    "airflow.sensors.weekday": "airflow.providers.standard.sensors.weekday",
    "airflow.decorators": "airflow.sdk",
    "airflow.models.dag": "airflow.sdk",
    "airflow.models.baseoperator": "airflow.sdk",
    "airflow.models.param": "airflow.sdk",
    "airflow.models.variable": "airflow.sdk",
    "airflow.utils.task_group": "airflow.sdk",
    "airflow.utils.edgemodifier": "airflow.sdk",
    "airflow.utils.helpers": "airflow.sdk (chain, cross_downstream)",
    "airflow.utils.dates": "(removed: use pendulum/datetime)",
    "airflow.datasets": "airflow.sdk (Asset)",
    "airflow.contrib": "the provider packages (airflow.providers.*)",
    "airflow.hooks": "airflow.providers.*.hooks",
}

# DAG(...) keyword arguments mapped to IR fields (the rest goes to dag_kwargs).
DAG_FIELDS = {
    "dag_id",
    "description",
    "schedule",
    "schedule_interval",
    "timetable",
    "start_date",
    "end_date",
    "catchup",
    "params",
    "tags",
    "max_active_runs",
    "dagrun_timeout",
    "default_args",
}

# Mapped classic-operator arguments -> IR action field names.
FIELD_OF_KWARG = {"bash_command": "command", "html_content": "body", "trigger_dag_id": "workflow"}

# Airflow's validate_key (airflow/utils/helpers.py): unicode word characters, '-' and '.'.
AIRFLOW_KEY = re.compile(r"^[\w.-]+$")
AIRFLOW_KEY_MAX = 250

_TEMPLATE_SPAN = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
_IDENT = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=4096)
def _removed_template_vars_cached(text: str) -> tuple[str, ...]:
    return tuple(_removed_template_vars(text))


def _removed_template_vars(text: str) -> list[str]:
    if "{" not in text:
        return []
    found: list[str] = []
    for m in _TEMPLATE_SPAN.finditer(text):
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        for ident in _IDENT.findall(inner):
            if ident in REMOVED_TEMPLATE_VARS and ident not in found:
                found.append(ident)
    return found


def _is_timetable_class(cls: ClassValue) -> bool:
    """A class of the file that is a timetable (by its name or a base's)."""
    return any("Timetable" in n for n in (cls.name, *cls.base_names()))


def _is_airflow(ref: Ref) -> bool:
    return ref.qualname == "airflow" or ref.qualname.startswith("airflow.")


def _is_operator_name(name: str) -> bool:
    return (
        name.endswith(("Operator", "Sensor", "SensorAsync"))
        or name in ops.OPERATORS
        or name in ops.KNOWN_OPAQUE
    )


# Qualified names _call_ref found to be operator classes (a verdict that
# depends on the name alone): every later call of one skips the ~15 checks.
_OPERATOR_REFS: dict[str, str] = {}


def _remember_operator(qualname: str, name: str) -> None:
    if len(_OPERATOR_REFS) >= 4096:  # bounded across a long audit
        _OPERATOR_REFS.clear()
    _OPERATOR_REFS[qualname] = name


def _task_decorator_kind(ref: Ref) -> str | None:
    """``task`` / ``task.bash`` ... for refs to Airflow's TaskFlow decorator."""
    q = ref.qualname
    if not (q.endswith(".task") or ".task." in q) or not _is_airflow(ref):
        return None
    parts = q.split(".")
    if parts[-1] == "task" and len(parts) >= 2:
        return "task"
    if len(parts) >= 3 and parts[-2] == "task":
        return f"task.{parts[-1]}"
    return None


# ---------------------------------------------------------------------------
# the hooks


class AirflowHooks(Hooks):
    def __init__(self, path: str):
        self._path = path
        self.interp: Interpreter | None = None
        # Operator / TaskGroup subclasses of the repository being constructed:
        # id(instance) -> (class, call node, call kwargs), until their engine
        # base's __init__ runs.
        self.pending: dict[int, tuple] = {}
        # What could not be seen statically: (dag or None for the whole
        # file, path, line, what) -> the workflow is marked incomplete.
        self.losses: dict[tuple, str] = {}
        self.built: dict[int, TaskObj | GroupObj] = {}
        self.dags: list[DagObj] = []
        self.dag_stack: list[DagObj] = []
        self.group_stack: list[GroupObj] = []
        self.orphans: list[TaskObj] = []
        self.file_diags: list[Diagnostic] = []
        self._file_keys: set = set()
        self.clock: dict[int | None, tuple[str, DagObj | None]] = {}
        self.clock_used: set[int | None] = set()
        self.dag_functions: list[DagFunction] = []
        # Open `with setup_or_teardown:` blocks: (context task, tasks created inside).
        self.st_stack: list[tuple[TaskObj, list[TaskObj]]] = []

    @property
    def path(self) -> str:
        """The file being read right now: the DAG file, or a module of its
        repository that it imports (diagnostics and sources point there)."""
        interp = self.interp
        return interp.path if interp is not None and interp.path is not None else self._path

    # -- what cannot be seen ----------------------------------------------
    def lose(self, line: int | None, what: str, dag: DagObj | None | bool = True) -> None:
        """Part of a workflow cannot be seen statically: the DAG being built
        (or, with ``dag=None``, every DAG of the file) is incomplete."""
        target = self.current_dag() if dag is True else dag
        key = (id(target) if target is not None else None, self.path, line)
        self.losses.setdefault(
            key, f"{self.path}:{line}: {what}" if line else f"{self.path}: {what}"
        )

    def discarded(self, interp: Interpreter, value: Unknown, node: ast.Call) -> None:
        # `build_tasks(dag)` inside a DAG, or given a DAG/group: whatever it
        # adds to the DAG is not seen.
        if _harmless(value):
            return
        if self.current_dag() is None:
            return
        self.lose(
            node.lineno,
            f"`{_short(interp.source_text(node))}` is not evaluated statically "
            f"({value.reason}): tasks it adds to the DAG are missing",
        )

    def skipped(self, interp: Interpreter, nodes, why: str, line: int | None) -> None:
        builds = _builds_airflow_objects(interp, nodes)
        if builds is None:
            return
        what = {"loop": "loop", "while": "`while` loop", "comprehension": "comprehension"}[why]
        if builds == "dag":
            self.diag(
                "warning",
                "AF114",
                f"the {what} at this line builds DAGs from a value known only at run time: "
                "those DAGs are not read",
                line,
                None,
            )
            return
        self.lose(
            line,
            f"the {what} at this line runs over a value known only at run time: "
            f"the tasks and dependencies it builds are missing",
            True if self.current_dag() is not None else None,
        )

    # -- diagnostics -----------------------------------------------------
    def current_dag(self) -> DagObj | None:
        return self.dag_stack[-1] if self.dag_stack else None

    def diag(
        self,
        severity: str,
        code: str,
        message: str,
        line: int | None,
        dag: DagObj | None | bool = True,
    ) -> None:
        """Attach to ``dag`` (True: the DAG being built now; None: the file)."""
        target = self.current_dag() if dag is True else dag
        key = (code, message, line)
        if target is None:
            if key not in self._file_keys:
                self._file_keys.add(key)
                self.file_diags.append(Diagnostic(severity, code, message, self.path, line))
            return
        if key not in target.diag_keys:
            target.diag_keys.add(key)
            target.workflow.diagnostics.append(Diagnostic(severity, code, message, self.path, line))

    def note(self, interp: Interpreter, note: Note) -> None:
        severity, code = NOTE_CODES.get(note.kind, ("warning", "AF106"))
        self.diag(severity, code, note.message, note.line)
        if note.kind == LIMIT:
            self.lose(note.line, f"reading stopped here ({note.message})", None)

    def to_str(self, interp: Interpreter, obj: Any) -> Any:
        if isinstance(obj, (XComArg, DagParamRef)):
            return obj.template()
        if isinstance(obj, TaskObj):
            return obj.id
        if isinstance(obj, DatasetObj):
            return obj.name
        return NOT_HANDLED

    def required(
        self,
        interp: Interpreter,
        what: str,
        value: Any,
        node: ast.AST | None,
        dag: DagObj | None | bool = True,
    ) -> Any:
        """JSON of a value an IR field needs; unknown parts are kept as source
        text with AF104 (AF113 for names of modules that are not read)."""
        if type(value) in _SCALAR_JSON:
            return value
        value = self.unread(interp, what, value, node, dag)
        u = contains_unknown(value)
        if u is None:
            return jsonable(value)
        if u.kind == "clock":
            self.clock_used.add(u.line)
        src = u.source if isinstance(value, Unknown) else None
        text = src or (interp.source_text(node) if node is not None else u.reason)
        if not isinstance(u, UnreadName):
            self.diag(
                "warning",
                "AF104",
                f"{what}: `{_short(text)}` is only known at run time ({u.reason}); "
                "kept as source text",
                u.line or getattr(node, "lineno", None),
                dag,
            )
        return text if isinstance(value, Unknown) else jsonable(value)

    def unread(
        self,
        interp: Interpreter,
        what: str,
        value: Any,
        node: ast.AST | None,
        dag: DagObj | None | bool = True,
    ) -> Any:
        """``value`` with each name of a module wfconv does not read
        (``bash_command=settings.CMD`` when ``settings`` is not in the
        repository) made unknown, and said (AF113) at the argument's line:
        its dotted name is not its value."""
        if type(value) in _NO_NAMES:  # most values (a task_id): no name inside
            return value

        def unknown(ref: Ref) -> Ref | UnreadName:
            q = ref.qualname
            if q.split(".", 1)[0] in ENGINE_PACKAGES:
                return ref  # an engine's constant (WeekDay.MONDAY): named exactly
            arg = _keyword(node, what.rsplit(".", 1)[-1])
            text = interp.source_text(arg) if arg is not None and value is ref else q
            line = arg.lineno if arg is not None else getattr(node, "lineno", None)
            shown = f"`{_short(text)}`" + (f" ({q})" if text != q else "")
            why = unread_reason(interp.importer, q.rsplit(".", 1)[0] if "." in q else q)
            self.diag(
                "warning",
                "AF113",
                f"{what}: {shown} is a name of a module that is not read ({why}): "
                "its value is unknown",
                line,
                dag,
            )
            return UnreadName(RUNTIME, "a name of a module that is not read", line, text, q)

        return unread_names(value, unknown)

    # -- calls -----------------------------------------------------------
    def call(self, interp, func, args, kwargs, node):
        if type(func) is Ref:
            return self._call_ref(interp, func, args, kwargs, node)
        if type(func) is FunctionValue:
            return NOT_HANDLED
        if isinstance(func, BoundMethod):
            return self._call_method(interp, func, args, kwargs, node)
        if isinstance(func, TaskFlowFn):
            return self.taskflow_task(interp, func, args, kwargs, node)
        if isinstance(func, TaskDecorator):
            if (
                func.kind == "teardown"
                and args
                and isinstance(args[0], (FunctionValue, TaskFlowFn))
            ):
                # teardown(on_failure_fail_dagrun=True)(fn), the decorator called by hand
                return self.decorate(interp, func, args[0], node)
            if args and isinstance(args[0], FunctionValue):
                return TaskFlowFn(args[0], func.kind, dict(func.kwargs))
            return NOT_HANDLED
        if isinstance(func, DagDecorator):
            if args and isinstance(args[0], FunctionValue):
                return self._dag_function(args[0], func.kwargs)
            return NOT_HANDLED
        if isinstance(func, DagFunction):
            return self.run_dag_function(interp, func, args, kwargs, node)
        if isinstance(func, GroupDecorator):
            if args and isinstance(args[0], FunctionValue):
                return GroupFunction(args[0], func.kwargs)
            return NOT_HANDLED
        if isinstance(func, GroupFunction):
            return self.run_group_function(interp, func, args, kwargs, node)
        if isinstance(func, ClassValue):
            base = engine_base(func)
            if base is not None:
                return self.instantiate(interp, func, args, kwargs, node)
        return NOT_HANDLED

    # -- Operator and TaskGroup subclasses of the repository ---------------
    def instantiate(self, interp: Interpreter, cls: ClassValue, args, kwargs, node) -> Any:
        """``MyOperator(...)`` / ``MyGroup(...)`` for a class of the
        repository whose ancestors include an Airflow operator or TaskGroup:
        its ``__init__`` runs, and the call that reaches Airflow's
        ``__init__`` (``super().__init__(...)``, ``TaskGroup.__init__(self,
        ...)``) builds the task or group with the arguments it passes. Until
        then ``self`` is a plain instance; afterwards it is the task/group."""
        inst = InstanceValue(cls)
        # Where the class is called: the task belongs there.
        self.pending[id(inst)] = (cls, node, dict(kwargs), interp.unit, interp.module_scope)
        try:
            init = pyeval.class_lookup(cls, "__init__")
            if isinstance(init, FunctionValue):
                interp.call_function(init, [inst, *args], dict(kwargs), node)
            else:
                self.base_init(interp, inst, list(args), dict(kwargs), node)
            built = self.built.pop(id(inst), None)
            if built is None:
                # __init__ never called Airflow's (the class is not an
                # operator after all, or the call is not known statically).
                self.diag(
                    "warning",
                    "AF312",
                    f"{cls.name}.__init__ does not reach Airflow's __init__ statically: "
                    f"read with the arguments of the call",
                    getattr(node, "lineno", None),
                )
                built = self.base_init(interp, inst, list(args), dict(kwargs), node)
        finally:
            self.pending.pop(id(inst), None)
            self.built.pop(id(inst), None)
        built.attrs.update({k: v for k, v in inst.attrs.items() if k not in built.attrs})
        return built

    def base_init(self, interp: Interpreter, inst: InstanceValue, args, kwargs, node) -> Any:
        """Airflow's own ``__init__`` for a pending subclass instance."""
        pending = self.pending.get(id(inst))
        if pending is None or id(inst) in self.built:
            return None
        cls, call, call_kwargs, unit, module_scope = pending
        kind, _ = engine_base(cls)
        # The task or group is where the class is called, not where its
        # __init__ calls Airflow's.
        node = call if call is not None else node
        saved = interp.switch_unit(unit, module_scope)
        try:
            obj = self._build_subclass(interp, cls, kind, args, kwargs, call_kwargs, node)
        finally:
            interp.restore_unit(saved)
        obj.user_cls = cls
        obj.attrs.update(inst.attrs)
        self.built[id(inst)] = obj
        interp.replace_object(inst, obj)
        return obj

    def _build_subclass(self, interp, cls, kind, args, kwargs, call_kwargs, node) -> Any:
        if kind == "group":
            obj: Any = self.make_group(interp, args, kwargs, node)
        else:
            obj = self.operator(
                interp, cls.name, cls, args, kwargs, node, behaves_as=behaves_as(cls)
            )
            # A task result given to the class is an upstream, whatever its
            # __init__ does with it (Airflow resolves template fields).
            for src in xcom_sources(
                [v for k, v in call_kwargs.items() if k not in ("dag", "task_group")]
            ):
                if src is not obj:
                    self.add_edge(src, obj, "data")
            action = obj.task.action
            if action.kind == "opaque":
                # What the call gave the class (its own parameters included).
                action.fields["args"] = {
                    k: jsonable(v)
                    for k, v in sorted(call_kwargs.items())
                    if k not in ops.BASE_OPERATOR_ARGS and k != "default_args"
                }
        return obj

    def _dag_function(self, fn: FunctionValue, kwargs: dict) -> DagFunction:
        df = DagFunction(fn, dict(kwargs))
        self.dag_functions.append(df)
        return df

    def _call_ref(self, interp: Interpreter, ref: Ref, args, kwargs, node):
        q = ref.qualname
        name = _OPERATOR_REFS.get(q)
        if name is not None:
            return self.operator(interp, name, ref, args, kwargs, node)
        name = ref.name
        if q.startswith("dagfactory.") or q == "dagfactory":
            return self._dagfactory(interp, ref, args, kwargs, node)
        if q in ("os.path.abspath", "os.path.realpath") and args and args[0] == interp.file_value:
            # Airflow loads a DAG file by its absolute path.
            return str(Path(str(args[0])).resolve())
        if q in _CONF_GET and _conf_key(args, kwargs) == ("core", "dags_folder"):
            return self._dags_folder(interp)
        if name == "__init__" and args and isinstance(args[0], InstanceValue) and self.pending:
            # TaskGroup.__init__(self, ...) / BaseOperator.__init__(self, ...)
            self.base_init(interp, args[0], list(args[1:]), dict(kwargs), node)
            return None
        if q in CLOCK_CALLS or (name == "days_ago" and _is_airflow(ref)):
            return self._clock(interp, node)
        if not _is_airflow(ref):
            if _is_operator_name(name):
                _remember_operator(q, name)
                return self.operator(interp, name, ref, args, kwargs, node)
            parent = q.rsplit(".", 1)[0] if "." in q else ""
            if name == "partial" and _is_operator_name(parent.rsplit(".", 1)[-1]):
                return PartialCall(parent.rsplit(".", 1)[-1], Ref(parent), dict(kwargs), list(args))
            self._unknown_builder(interp, ref, args, kwargs, node)
            return NOT_HANDLED
        kind = _task_decorator_kind(ref)
        if kind is not None:
            if args and isinstance(args[0], FunctionValue):
                return TaskFlowFn(args[0], kind, dict(kwargs))
            return TaskDecorator(kind, dict(kwargs))
        if name == "asset":
            if args and isinstance(args[0], FunctionValue):
                return self.make_asset(interp, args[0], kwargs, node)
            return AssetDecorator(dict(kwargs))
        if (
            name in ("setup", "teardown")
            and args
            and isinstance(args[0], (FunctionValue, TaskFlowFn))
        ):
            return self.decorate(interp, ref, args[0], node)
        if name == "teardown" and not args and _is_airflow(ref):
            # @teardown(on_failure_fail_dagrun=True): the decorator, configured.
            return TaskDecorator("teardown", dict(kwargs))
        handler = self._AIRFLOW_CALLS.get(name)
        if handler is not None:
            return handler(self, interp, ref, args, kwargs, node)
        parts = q.split(".")
        if name == "get" and len(parts) >= 2 and parts[-2] == "Variable":
            key = args[0] if args else kwargs.get("key")
            return interp.unknown(
                RUNTIME, f"reads Airflow Variable {key!r} when the file is parsed", node
            )
        if name == "partial" and len(parts) >= 2 and _is_operator_name(parts[-2]):
            return PartialCall(parts[-2], Ref(".".join(parts[:-1])), dict(kwargs), list(args))
        if name.endswith("Timetable") or name in _OR_TIME_SCHEDULES:
            return TimetableObj(name, list(args), dict(kwargs), q)
        if _is_operator_name(name):
            _remember_operator(q, name)
            return self.operator(interp, name, ref, args, kwargs, node)
        return NOT_HANDLED

    def _unknown_builder(self, interp: Interpreter, ref: Ref, args, kwargs, node) -> None:
        """A function the reader cannot follow (an installed library's, a
        module it cannot find) given a DAG or a TaskGroup: it may add tasks
        to it (cosmos' DbtTaskGroup(dag=...), build_tasks(dag))."""
        given = [*args, *kwargs.values()]
        target = next((v for v in given if isinstance(v, (DagObj, GroupObj))), None)
        if target is None and not ref.name.endswith(("TaskGroup", "Group")):
            return
        if target is None and self.current_dag() is None:
            return
        dag = target if isinstance(target, DagObj) else (target.dag if target else True)
        self.lose(
            getattr(node, "lineno", None),
            f"`{_short(interp.source_text(node)) if node is not None else ref.qualname}` "
            f"({ref.qualname}) is not evaluated statically: tasks it adds are missing",
            dag,
        )

    # -- dag-factory loaders (docs/codes/dagfactory.md) ---------------------
    def _dagfactory(self, interp: Interpreter, ref: Ref, args, kwargs, node) -> Any:
        if ref.name == "DagFactory":  # dag-factory 0.x
            config = args[0] if args else kwargs.get("config_filepath", kwargs.get("config_file"))
            return DagFactoryObj(config, dict(kwargs))
        if ref.name == "load_yaml_dags":
            given = {**dict(zip(_LOAD_YAML_DAGS, args, strict=False)), **kwargs}
            loader = self._dagfactory_defaults(given)
            folder = given.get("dags_folder")
            config = given.get("config_filepath")
            if config is not None:
                self._dagfactory_config(interp, config, node, loader=loader)
            elif given.get("config_dict") is not None:
                self._dagfactory_dict(interp, given["config_dict"], node, loader)
            elif isinstance(folder, str):
                self._dagfactory_folder(interp, folder, given.get("suffix"), node, loader)
            elif folder is None:
                repo = Repository.of(interp.main_unit.path or ".")
                if repo is not None:
                    self._dagfactory_folder(
                        interp, str(repo.dags_folder), given.get("suffix"), node, loader
                    )
            else:
                self._dagfactory_config(interp, folder, node)  # says it is unknown
            return None
        return NOT_HANDLED

    def _dagfactory_defaults(self, given: dict) -> dict:
        """The loader's ``defaults_config_path``/``defaults_config_dict``."""
        loader: dict[str, Any] = {}
        root = given.get("defaults_config_path", given.get("default_args_config_path"))
        found = self._existing(root) if isinstance(root, str) else None
        if found is not None:
            loader["defaults_root"] = found.resolve()
        defaults = given.get("defaults_config_dict", given.get("default_args_config_dict"))
        if isinstance(defaults, dict):
            loader["defaults_dict"] = defaults
        return loader

    def _dagfactory_dict(self, interp: Interpreter, config: Any, node, loader: dict) -> None:
        from wfconv.frontends.dagfactory import build_dict

        if not isinstance(config, dict) or _dagfactory_shape_unknown(config):
            self.lose(
                getattr(node, "lineno", None),
                f"the dag-factory config `{_short(interp.source_text(node))}` is only known "
                "at run time: its DAGs are not read",
                None,
            )
            return
        for dag in build_dict(self, interp, config, node, **loader):
            interp.module_scope.vars.setdefault(dag.id, dag)

    def _dagfactory_folder(
        self, interp: Interpreter, folder: str, suffix: Any, node, loader: dict
    ) -> None:
        line = getattr(node, "lineno", None)
        base = self._existing(folder)
        files = interp.files
        if base is None or files is None:
            self.lose(line, f"dag-factory folder {folder!r} is not in the repository", None)
            return
        try:
            if files.kind(str(base)) != "dir":
                self.lose(line, f"dag-factory folder {folder!r} is not a folder", None)
                return
        except FileRefused as exc:
            self.lose(line, f"dag-factory loader: {exc}", None)
            return
        suffixes = tuple(suffix) if isinstance(suffix, (list, tuple)) else (".yaml", ".yml")
        refused = [
            why
            for f in files.walk(str(base))
            if f.endswith(suffixes)
            and (why := self._dagfactory_config(interp, f, node, True, loader)) is not None
        ]
        if refused:  # a file not read may hold DAGs
            self.lose(line, f"dag-factory loader: {'; '.join(refused)}", None)

    def _dagfactory_config(
        self, interp: Interpreter, config: Any, node, quiet=False, loader: dict | None = None
    ) -> str | None:
        """Build the DAGs of one config; with ``quiet`` (a file of a folder)
        a file that is no config is skipped and a refusal returned, not said."""
        from wfconv.frontends.dagfactory import build_config, is_config

        line = getattr(node, "lineno", None)
        if not isinstance(config, str):
            self.lose(
                line,
                f"the dag-factory config path `{_short(interp.source_text(node))}` is only known "
                "at run time: its DAGs are not read",
                None,
            )
            return None
        if not quiet and _relative_in_airflow(config, interp.main_unit.path or ""):
            self.diag(
                "error",
                "DF305",
                f"dag-factory refuses the relative config path {config!r} (it must be "
                "absolute): Airflow cannot import this file, so it has no DAG from it",
                line,
                None,
            )
            return None
        path = self._existing(config)
        if path is None or interp.files is None:
            self.lose(line, f"dag-factory config {config!r} is not in the repository", None)
            return None
        shown = (
            os.path.relpath(path)
            if not Path(interp.main_unit.path or "").is_absolute()
            else str(path)
        )
        # Read as any data file of the repository is (docs/repositories.md):
        # inside it, a regular file, bounded; the file joins the sources.
        try:
            text = interp.files.read(shown)
        except FileRefused as exc:
            if quiet:
                return str(exc)
            self.lose(line, f"dag-factory loader: {exc}", None)
            return None
        if quiet and not is_config(str(path), text):
            return None
        for dag in build_config(self, interp, Path(shown), text, node, **(loader or {})):
            # generate_dags(globals()): the DAGs are this file's.
            interp.module_scope.vars.setdefault(dag.id, dag)
        return None

    def _dags_folder(self, interp: Interpreter) -> Any:
        """Airflow's ``[core] dags_folder`` where it runs this file: the DAGs
        folder of the repository (docs/repositories.md), absolute as Airflow's."""
        repo = Repository.of(interp.main_unit.path or ".")
        return str(repo.dags_folder) if repo is not None else NOT_HANDLED

    def _existing(self, value: str) -> Path | None:
        """A path a loader names, found in this repository: as written, or
        (an absolute path of the machine it runs on, `/usr/local/airflow/dags/
        x.yml`) by its longest tail that exists under the repository root."""
        p = Path(value)
        files = self.interp.files if self.interp else None
        if p.exists() and (files is None or files.contains(value)):
            return p
        repo = Repository.of(self.interp.main_unit.path or ".") if self.interp else None
        if repo is None:
            return None
        parts = p.parts[1:] if p.is_absolute() else p.parts
        for i in range(len(parts)):
            for base in (repo.root, repo.dags_folder):
                cand = base.joinpath(*parts[i:])
                if parts[i:] and cand.exists():
                    return cand
        # Outside the repository: the reader of the data files says so.
        return p if p.exists() else None

    def _clock(self, interp: Interpreter, node: ast.AST) -> Unknown:
        u = interp.unknown("clock", "depends on the current date", node, note=False)
        self.clock.setdefault(u.line, (u.source or "", self.current_dag()))
        return u

    # Airflow callables by name (module path varies across versions).
    def _c_dag(self, interp, ref, args, kwargs, node):
        if ref.name == "dag":
            if args and isinstance(args[0], FunctionValue):
                return self._dag_function(args[0], kwargs)
            return DagDecorator(dict(kwargs))
        return self.make_dag(interp, args, kwargs, node)

    def _c_task_group(self, interp, ref, args, kwargs, node):
        if args and isinstance(args[0], FunctionValue):
            return GroupFunction(args[0], dict(kwargs))
        return GroupDecorator(dict(kwargs))

    def _c_taskgroup(self, interp, ref, args, kwargs, node):
        return self.make_group(interp, args, kwargs, node)

    def _c_chain(self, interp, ref, args, kwargs, node):
        if ref.name == "cross_downstream":
            ups = args[0] if args else kwargs.get("from_tasks")
            downs = args[1] if len(args) > 1 else kwargs.get("to_tasks")
            for u in _listify(ups):
                self.connect(interp, u, downs, node)
            return None
        items = list(args)
        for up, down in zip(items, items[1:], strict=False):
            if ref.name == "chain_linear":
                self.connect(interp, up, down, node)
                continue
            ul, dl = isinstance(up, (list, tuple)), isinstance(down, (list, tuple))
            if ul and dl:
                if len(up) != len(down):
                    self.diag(
                        "warning",
                        "AF107",
                        f"chain(): lists of different lengths ({len(up)} and {len(down)}): Airflow refuses this",
                        node.lineno,
                    )
                    continue
                for u, d in zip(up, down, strict=True):
                    self.connect(interp, u, d, node)
            else:
                self.connect(interp, up, down, node)
        return None

    def _c_label(self, interp, ref, args, kwargs, node):
        return LabelObj(args[0] if args else kwargs.get("label"))

    def _c_dataset(self, interp, ref, args, kwargs, node):
        kind = "assets" if ref.name.startswith("Asset") else "datasets"
        name = kwargs.get("name") if kind == "assets" else None
        uri = args[0] if args else kwargs.get("uri")
        value = name if isinstance(name, str) else uri
        if not isinstance(value, str):
            value = jsonable(value)
            value = value.get("__expr__") if isinstance(value, dict) else str(value)
        return DatasetObj(kind, value)

    def _c_param(self, interp, ref, args, kwargs, node):
        default = args[0] if args else kwargs.get("default")
        spec = {"default": jsonable(default)}
        spec.update({k: jsonable(v) for k, v in sorted(kwargs.items()) if k != "default"})
        return ParamObj(default, spec)

    def _c_xcomarg(self, interp, ref, args, kwargs, node):
        op = args[0] if args else kwargs.get("operator")
        if isinstance(op, TaskObj):
            return XComArg(op, kwargs.get("key") if isinstance(kwargs.get("key"), str) else None)
        return NOT_HANDLED

    def _c_tz_datetime(self, interp, ref, args, kwargs, node):
        if ref.qualname.endswith("timezone.datetime"):
            if contains_unknown(args) or contains_unknown(kwargs):
                return NOT_HANDLED
            tz = kwargs.pop("tzinfo", None) or _dt.UTC
            try:
                return _dt.datetime(*args, **kwargs, tzinfo=tz)
            except (TypeError, ValueError):
                return NOT_HANDLED
        return NOT_HANDLED

    _AIRFLOW_CALLS = {
        "DAG": _c_dag,
        "dag": _c_dag,
        "task_group": _c_task_group,
        "TaskGroup": _c_taskgroup,
        "chain": _c_chain,
        "chain_linear": _c_chain,
        "cross_downstream": _c_chain,
        "Label": _c_label,
        "Dataset": _c_dataset,
        "Asset": _c_dataset,
        "DatasetAlias": _c_dataset,
        "AssetAlias": _c_dataset,
        "Param": _c_param,
        "XComArg": _c_xcomarg,
        "datetime": _c_tz_datetime,
    }

    # -- methods of Airflow objects ---------------------------------------
    def _call_method(self, interp: Interpreter, bm: BoundMethod, args, kwargs, node):
        obj, name = bm.obj, bm.name
        if isinstance(obj, SuperValue):
            if name == "__init__" and isinstance(obj.obj, InstanceValue):
                self.base_init(interp, obj.obj, list(args), dict(kwargs), node)
                return None
            return NOT_HANDLED
        if isinstance(obj, (TaskObj, XComArg, GroupObj)):
            if name == "set_downstream":
                self.connect(interp, obj, args[0] if args else None, node)
                return None
            if name == "set_upstream":
                self.connect(interp, args[0] if args else None, obj, node)
                return None
        if isinstance(obj, (TaskObj, XComArg)) and name in ("as_setup", "as_teardown"):
            tobj = obj.task if isinstance(obj, XComArg) else obj
            self.mark_role(tobj, name[3:], node)
            if name == "as_teardown" and kwargs.get("on_failure_fail_dagrun") is not None:
                tobj.task.teardown_fails_run = kwargs["on_failure_fail_dagrun"] is True
            if name == "as_teardown":
                for s in self.endpoints(
                    kwargs.get("setups", args[0] if args else None), upstream=True
                ):
                    self.mark_role(s, "setup", node)
                    self.add_edge(s, tobj, "control")
            return obj
        if isinstance(obj, ClassValue) and name == "partial":
            return PartialCall(obj.name, obj, dict(kwargs), list(args))
        if isinstance(obj, XComArg) and name in ("map", "concat", "resolve"):
            return obj
        if isinstance(obj, XComArg) and name == "zip":
            return ("__zip__", obj, *args)
        if isinstance(obj, TaskFlowFn):
            if name == "override":
                return TaskFlowFn(obj.fn, obj.kind, {**obj.kwargs, **kwargs}, obj.role)
            if name == "partial":
                return PartialCall(obj, None, dict(kwargs), list(args))
            if name in ("expand", "expand_kwargs"):
                return self.mapped(interp, PartialCall(obj, None, {}, []), name, args, kwargs, node)
        if isinstance(obj, PartialCall):
            if name == "partial":
                return PartialCall(
                    obj.target, obj.ref, {**obj.kwargs, **kwargs}, obj.args + list(args)
                )
            if name in ("expand", "expand_kwargs"):
                return self.mapped(interp, obj, name, args, kwargs, node)
        if isinstance(obj, GroupFunction) and name in ("expand", "expand_kwargs", "partial"):
            self.diag(
                "warning",
                "AF109",
                f"mapped task group `{obj.fn.name}.{name}()`: read as one group instance",
                node.lineno,
            )
            if name == "partial":
                return obj
            # The mapped values go in as the arguments (one instance): a task
            # result mapped over still makes the group's tasks wait for it.
            mapped = dict(kwargs) if name == "expand" else {}
            return self.run_group_function(interp, obj, [], mapped, node)
        if isinstance(obj, DagObj):
            if name in ("add_task", "add_tasks"):
                for t in _listify(args[0] if args else []):
                    if isinstance(t, TaskObj) and t.dag is None:
                        self.adopt(t, obj)
                return None
            if name in ("test", "cli", "run", "clear", "show"):
                return None
            if name == "get_task" and args and isinstance(args[0], str):
                return obj.tasks.get(args[0], NOT_HANDLED)
        if isinstance(obj, DagFactoryObj):
            if name == "generate_dags":
                if obj.config is None and "config" in obj.kwargs:  # DagFactory(config={...})
                    self._dagfactory_dict(interp, obj.kwargs["config"], node, {})
                else:
                    self._dagfactory_config(interp, obj.config, node)
            return None
        if isinstance(obj, DatasetObj):
            return NOT_HANDLED
        return NOT_HANDLED

    def getattr(self, interp, obj, name, node):
        if isinstance(obj, Ref) and obj.name == "TriggerRule":
            return name.lower()
        if isinstance(obj, Ref) and obj.qualname == "airflow.settings" and name == "DAGS_FOLDER":
            return self._dags_folder(interp)
        if isinstance(obj, (TaskObj, GroupObj)) and obj.user_cls is not None:
            # Attributes and methods of the repository's subclass.
            if name in obj.attrs:
                return obj.attrs[name]
            if pyeval.class_lookup(obj.user_cls, name) is not NOT_HANDLED:
                return interp.class_attr(obj.user_cls, name, obj, node)
        if isinstance(obj, TaskObj):
            if name == "output":
                return XComArg(obj)
            if name == "task_id":
                return obj.id
            if name == "dag":
                return obj.dag
        if isinstance(obj, DagObj):
            if name == "dag_id":
                return obj.id
            if name == "default_args":
                return obj.default_args
        if isinstance(obj, GroupObj) and name == "group_id":
            return obj.full_id
        return NOT_HANDLED

    def getitem(self, interp, obj, key, node):
        if isinstance(obj, XComArg) and isinstance(key, str):
            return XComArg(obj.task, key)
        if isinstance(obj, TaskObj) and isinstance(key, str):
            return XComArg(obj, key)
        return NOT_HANDLED

    def setattr(self, interp, obj, name, value, node):
        if isinstance(obj, (TaskObj, GroupObj)) and obj.user_cls is not None:
            if name not in _FIELD_ARGS and name != "dag":
                obj.attrs[name] = value  # an attribute of the subclass itself
                return None
        if isinstance(obj, GroupObj):
            return NOT_HANDLED
        if isinstance(obj, TaskObj):
            if name == "dag" and isinstance(value, DagObj):
                self.adopt(obj, value)
            else:
                self.apply_task_field(interp, obj, name, value, node)
            return None
        if isinstance(obj, DagObj):
            if name == "description":
                obj.workflow.description = self.required(interp, "description", value, node, obj)
            else:  # doc_md, owner_links, ...: kept for a same-engine re-emit
                obj.dag_kwargs[name] = jsonable(value)
            return None
        return NOT_HANDLED

    def binop(self, interp, op, left, right, node):
        t = type(op)
        if (t is ast.RShift or t is ast.LShift) and (
            type(left) in _NODE_TYPES
            or type(right) in _NODE_TYPES
            or _is_node(left)
            or _is_node(right)
            # `helper() >> other_helper()` in a DAG: two tasks not seen.
            or (
                (type(left) is Unknown or type(right) is Unknown)
                and self.current_dag() is not None
                and not isinstance(left, (int, float))
                and not isinstance(right, (int, float))
            )
        ):
            if isinstance(op, ast.RShift):
                self.connect(interp, left, right, node)
            else:
                self.connect(interp, right, left, node)
            return right
        if isinstance(op, (ast.BitAnd, ast.BitOr)) and (
            isinstance(left, (DatasetObj, DatasetCond))
            or isinstance(right, (DatasetObj, DatasetCond))
        ):
            return DatasetCond("all" if isinstance(op, ast.BitAnd) else "any", [left, right])
        return NOT_HANDLED

    def enter_with(self, interp, value, node):
        if isinstance(value, (TaskObj, XComArg)):
            self.st_stack.append((value.task if isinstance(value, XComArg) else value, []))
            return value
        if isinstance(value, DagObj):
            self.dag_stack.append(value)
            return value
        if isinstance(value, GroupObj):
            self.group_stack.append(value)
            if value.dag is not None:
                self.dag_stack.append(value.dag)
            return value
        return NOT_HANDLED

    def exit_with(self, interp, value, node):
        if isinstance(value, (TaskObj, XComArg)) and self.st_stack:
            self.close_setup_teardown(*self.st_stack.pop())
            return
        if isinstance(value, DagObj) and self.dag_stack and self.dag_stack[-1] is value:
            self.dag_stack.pop()
        elif isinstance(value, GroupObj) and self.group_stack and self.group_stack[-1] is value:
            self.group_stack.pop()
            if value.dag is not None and self.dag_stack and self.dag_stack[-1] is value.dag:
                self.dag_stack.pop()

    def decorate(self, interp, decorator, target, node):
        if not isinstance(target, (FunctionValue, TaskFlowFn)):
            return NOT_HANDLED
        if isinstance(decorator, TaskDecorator) and decorator.kind == "teardown":
            fails = {"on_failure_fail_dagrun": decorator.kwargs.get("on_failure_fail_dagrun")}
            if isinstance(target, TaskFlowFn):
                return TaskFlowFn(target.fn, target.kind, {**target.kwargs, **fails}, "teardown")
            return TaskFlowFn(target, "task", fails, "teardown")
        if (
            isinstance(decorator, Ref)
            and _is_airflow(decorator)
            and decorator.name in ("setup", "teardown")
        ):
            if isinstance(target, TaskFlowFn):
                return TaskFlowFn(target.fn, target.kind, target.kwargs, decorator.name)
            if isinstance(target, FunctionValue):
                return TaskFlowFn(target, "task", {}, decorator.name)
        if not isinstance(target, FunctionValue):
            return NOT_HANDLED  # e.g. @task stacked on @task: not a function any more
        if isinstance(decorator, Ref) and _is_airflow(decorator):
            kind = _task_decorator_kind(decorator)
            if kind is not None:
                return TaskFlowFn(target, kind, {})
            if decorator.name == "dag":
                return self._dag_function(target, {})
            if decorator.name == "task_group":
                return GroupFunction(target, {})
            if decorator.name == "asset":
                return self.make_asset(interp, target, {}, node)
        if isinstance(decorator, AssetDecorator):
            return self.make_asset(interp, target, decorator.kwargs, node)
        if isinstance(decorator, TaskDecorator):
            return TaskFlowFn(target, decorator.kind, dict(decorator.kwargs))
        if isinstance(decorator, DagDecorator):
            return self._dag_function(target, decorator.kwargs)
        if isinstance(decorator, GroupDecorator):
            return GroupFunction(target, decorator.kwargs)
        return NOT_HANDLED

    # -- DAGs ------------------------------------------------------------
    def make_asset(self, interp: Interpreter, fn: FunctionValue, kwargs: dict, node) -> DatasetObj:
        """Airflow 3 ``@asset``: a DAG named after the asset, holding one task
        (the function) whose outlet is the asset; the decorated name is the
        Asset, usable in other schedules."""
        name = kwargs.get("name") if isinstance(kwargs.get("name"), str) else fn.name
        uri = kwargs.get("uri") if isinstance(kwargs.get("uri"), str) else None
        dag_kwargs = {
            k: v
            for k, v in kwargs.items()
            if k not in ("name", "uri", "group", "extra", "watchers")
        }
        dag = self.make_dag(interp, [], {"dag_id": name, **dag_kwargs}, node, fn)
        self.dag_stack.append(dag)
        try:
            res = self.taskflow_task(interp, TaskFlowFn(fn, "asset", {}), [], {}, node)
        finally:
            self.dag_stack.pop()
        res.task.task.outputs = [uri or name]
        return DatasetObj("assets", name)

    def make_dag(
        self, interp: Interpreter, args, kwargs, node, fn: FunctionValue | None = None
    ) -> DagObj:
        kwargs = dict(kwargs)
        line = node.lineno if node is not None else (fn.line if fn else None)
        raw_id = kwargs.pop("dag_id", args[0] if args else (fn.name if fn else None))
        if raw_id is None:
            raw_id = Unknown(RUNTIME, "no dag_id", line, "<missing dag_id>")
        wf = Workflow(id="", source=SourceRef(ENGINE, self.path, line))
        dag = DagObj(wf, {}, line)
        dag.foreign = interp.importing > 0
        wf.id = str(self.required(interp, "dag_id", raw_id, node, dag))
        for d in self.dags:
            if d.id == wf.id:
                self.diag(
                    "warning",
                    "AF305",
                    f"DAG id {wf.id!r} is defined more than once in this file (Airflow keeps the last one)",
                    line,
                    dag,
                )
        self.dags.append(dag)
        self.configure_dag(interp, dag, args[1:] if len(args) > 1 else [], kwargs, node)
        return dag

    def configure_dag(self, interp: Interpreter, dag: DagObj, args, kwargs: dict, node) -> None:
        wf = dag.workflow
        line = dag.line
        if args:
            # DAG(dag_id, description, schedule, ...): Airflow's positional order.
            for name, v in zip(("description", "schedule"), args, strict=False):
                kwargs.setdefault(name, v)
        default_args = kwargs.get("default_args") or {}
        if not isinstance(default_args, dict):
            self.required(interp, "default_args", default_args, node, dag)
            default_args = {}
        dag.default_args = default_args
        if "description" in kwargs and kwargs["description"] is not None:
            wf.description = self.required(interp, "description", kwargs["description"], node, dag)
        self.apply_schedule(interp, dag, kwargs, node)
        dag.no_start_date = _scheduled(kwargs) and not (
            "start_date" in default_args or _given(kwargs.get("start_date"))
        )
        for key, attr in (("start_date", "start_date"), ("end_date", "end_date")):
            value = kwargs.get(key, default_args.get(key))
            if value is None:
                continue
            u = contains_unknown(value)
            if u is not None:
                if u.kind == "clock":
                    self.clock_used.add(u.line)
                    self.diag(
                        "warning",
                        "AF103",
                        f"{key} `{_short(u.source)}` depends on the day the file is parsed: left null",
                        u.line,
                        dag,
                    )
                else:
                    self.required(interp, key, value, node, dag)
                dag.extra[f"{key}_expr"] = u.source
                continue
            stamp = iso(value)
            if stamp is None:
                self.diag(
                    "warning",
                    "AF104",
                    f"{key} {jsonable(value)!r} is not a date: left null",
                    line,
                    dag,
                )
                continue
            setattr(wf, attr, stamp)
            if key == "start_date" and isinstance(value, _dt.datetime) and value.tzinfo is not None:
                wf.schedule.timezone = tz_name(value.tzinfo) or "UTC"
        if "catchup" in kwargs:
            c = kwargs["catchup"]
            wf.catchup = c if isinstance(c, bool) else None
            if not isinstance(c, bool):
                self.required(interp, "catchup", c, node, dag)
        params = kwargs.get("params")
        if isinstance(params, dict):
            self._set_params(dag, self.unread(interp, "params", params, node, dag))
        elif params is not None:
            self.required(interp, "params", params, node, dag)
        tags = kwargs.get("tags")
        if isinstance(tags, (list, tuple, set)):
            wf.tags = [
                t if isinstance(t, str) else str(self.required(interp, "tag", t, node, dag))
                for t in (sorted(tags) if isinstance(tags, set) else tags)
            ]
        if isinstance(kwargs.get("max_active_runs"), int):
            wf.max_active_runs = kwargs["max_active_runs"]
        if "dagrun_timeout" in kwargs:
            wf.timeout_s = seconds(kwargs["dagrun_timeout"])
        for k in sorted(kwargs):
            if k not in DAG_FIELDS:
                dag.dag_kwargs[k] = jsonable(kwargs[k])
        if default_args:
            dag.dag_kwargs["default_args"] = jsonable(default_args)

    def _set_params(self, dag: DagObj, params: dict) -> None:
        specs = {}
        for k, v in params.items():
            dag.workflow.params[str(k)] = jsonable(v)
            if isinstance(v, ParamObj):
                specs[str(k)] = v.spec
        if specs:
            dag.extra.setdefault("params", {}).update(specs)

    def apply_schedule(self, interp: Interpreter, dag: DagObj, kwargs: dict, node) -> None:
        wf = dag.workflow
        line = dag.line
        arg = None
        for name in ("schedule", "schedule_interval", "timetable"):
            if name in kwargs:
                arg = name
                break
        dag.extra["schedule_arg"] = arg
        if arg is None:
            wf.schedule = Schedule(kind="manual")
            dag.extra["bare_schedule"] = None  # the version's default (schedule.settle)
            return
        # A bare cron/preset/timedelta: its time model is the file's version's
        # (settled in _read_module); an explicit timetable pops this mark.
        dag.extra["bare_schedule"] = True
        value = kwargs[arg]
        kw_line = _keyword_line(node, arg) or line
        if arg == "schedule_interval":
            self.diag(
                "info",
                "AF201",
                "`schedule_interval=` was removed in Airflow 3: use `schedule=`",
                kw_line,
                dag,
            )
        if arg == "timetable":
            self.diag(
                "info",
                "AF206",
                "`timetable=` was removed in Airflow 3 (pass the timetable as `schedule=`)",
                kw_line,
                dag,
            )
        tz = wf.schedule.timezone
        wf.schedule = self.schedule_from(interp, dag, value, kw_line, node)
        wf.schedule.timezone = wf.schedule.timezone or tz

    def schedule_from(
        self, interp: Interpreter, dag: DagObj, value: Any, line: int | None, node
    ) -> Schedule:
        if value is None:
            return Schedule(kind="manual")
        if isinstance(value, str):
            v = value.strip()
            if v == "@once":
                return Schedule(kind="once")
            if v == "@continuous":
                dag.extra["schedule"] = "@continuous"
                self.diag(
                    "warning",
                    "AF207",
                    "`@continuous` (start a new run as soon as one ends) has no IR schedule: kept in extra, read as manual",
                    line,
                    dag,
                )
                return Schedule(kind="manual")
            if v in CRON_PRESETS:
                return Schedule(kind="cron", cron=CRON_PRESETS[v])
            if len(v.split()) == 5:
                return Schedule(kind="cron", cron=v)
            dag.extra["schedule"] = v
            self.diag(
                "warning",
                "AF208",
                f"schedule {v!r} is not a 5-field cron expression or preset: kept in extra, read as manual",
                line,
                dag,
            )
            return Schedule(kind="manual")
        if isinstance(value, _dt.timedelta):
            return Schedule(kind="interval", seconds=value.total_seconds())
        if isinstance(value, (DatasetObj, DatasetCond, list, tuple)):
            items = _flatten_datasets(value)
            if items and all(isinstance(i, DatasetObj) for i in items):
                kind = "assets" if any(i.kind == "assets" for i in items) else "datasets"
                if isinstance(value, DatasetCond):
                    dag.extra["schedule"] = jsonable(value)
                    self.diag(
                        "info",
                        "AF209",
                        "dataset condition (`&`/`|`): the IR keeps the list of names; the condition is in extra",
                        line,
                        dag,
                    )
                return Schedule(kind=kind, datasets=[i.name for i in items])
        if isinstance(value, TimetableObj) and value.cls in _OR_TIME_SCHEDULES:
            # Runs on the timetable and also when the datasets/assets update.
            inner = value.kwargs.get("timetable")
            events = value.kwargs.get("assets", value.kwargs.get("datasets"))
            items = _flatten_datasets(events) if events is not None else []
            sched = self.schedule_from(interp, dag, inner, line, node)
            if (
                sched.kind in ("cron", "interval")
                and items
                and all(isinstance(i, DatasetObj) for i in items)
            ):
                sched.datasets = [i.name for i in items]
                self.diag(
                    "info",
                    "AF212",
                    f"{value.cls}: runs on the time schedule and when "
                    f"{', '.join(sched.datasets)} update (schedule.datasets); the runtime "
                    "simulates the time schedule only",
                    line,
                    dag,
                )
            return sched

        def report(severity: str, code: str, message: str) -> None:
            self.diag(severity, code, message, line, dag)

        if isinstance(value, TimetableObj) and time_model.is_airflow_timetable(value):
            # An explicit timetable says its own time model, in either version.
            dag.extra.pop("bare_schedule", None)
            return time_model.timetable_schedule(value, report)
        if (
            isinstance(value, (TimetableObj, ClassValue))
            or (isinstance(value, InstanceValue) and _is_timetable_class(value.cls))
            or (
                isinstance(value, Unknown)
                and value.kind != "clock"
                and "Timetable" in (value.source or "")
            )
        ):
            dag.extra.pop("bare_schedule", None)
            dag.extra["timetable"] = jsonable(value)
            return time_model.custom_timetable(value, report)
        text = self.required(interp, "schedule", value, node, dag)
        dag.extra["schedule"] = text
        return Schedule(kind="manual")

    def run_dag_function(self, interp: Interpreter, df: DagFunction, args, kwargs, node) -> DagObj:
        df.called = True
        dag = self.make_dag(
            interp,
            [],
            {
                "dag_id": df.kwargs.get("dag_id", df.fn.name),
                **{k: v for k, v in df.kwargs.items() if k != "dag_id"},
            },
            node,
            df.fn,
        )
        dag.workflow.source = SourceRef(
            ENGINE, self.path, node.lineno if node is not None else df.fn.line
        )
        bound = interp.bind_arguments(df.fn, list(args), dict(kwargs))
        a = df.fn.node.args
        names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
        params = {}
        call_kwargs = {}
        for n in names:
            v = bound.get(n)
            if not (isinstance(v, Unknown) and v.reason.startswith("argument ")):
                params[n] = v
            call_kwargs[n] = DagParamRef(n)
        if params:
            self._set_params(dag, params)
        doc = ast.get_docstring(df.fn.node) if isinstance(df.fn.node, ast.FunctionDef) else None
        if doc and dag.workflow.description is None and "doc_md" not in df.kwargs:
            dag.dag_kwargs["doc_md"] = doc
        self.dag_stack.append(dag)
        saved_groups = self.group_stack
        self.group_stack = []
        try:
            interp.call_function(df.fn, [], call_kwargs, node)
        finally:
            self.group_stack = saved_groups
            if self.dag_stack and self.dag_stack[-1] is dag:
                self.dag_stack.pop()
        return dag

    # -- groups ----------------------------------------------------------
    def make_group(self, interp: Interpreter, args, kwargs, node, unique: bool = False) -> GroupObj:
        raw = args[0] if args else kwargs.get("group_id")
        dag = kwargs.get("dag") if isinstance(kwargs.get("dag"), DagObj) else None
        parent = (
            kwargs.get("parent_group") if isinstance(kwargs.get("parent_group"), GroupObj) else None
        )
        if parent is None and self.group_stack:
            cand = self.group_stack[-1]
            if dag is None or cand.dag is dag:
                parent = cand
        if dag is None:
            dag = parent.dag if parent is not None else self.current_dag()
        label = (
            None if raw is None else str(self.required(interp, "group_id", raw, node, dag or True))
        )
        prefix = kwargs.get("prefix_group_id", True)
        prefix = prefix if isinstance(prefix, bool) else True
        unique = unique or kwargs.get("add_suffix_on_collision") is True
        if unique and label is not None and dag is not None:
            label = self._unique(
                dag, label, lambda lb: (parent.child_id(lb) if parent else lb) in dag.groups
            )
        full = parent.child_id(label) if (parent is not None and label is not None) else label
        ga = kwargs.get("default_args") if isinstance(kwargs.get("default_args"), dict) else {}
        group = GroupObj(label, full, prefix, dag, parent, ga)
        if dag is None:
            self.diag(
                "warning",
                "AF306",
                f"TaskGroup {label!r} created outside any DAG",
                node.lineno if node else None,
                None,
            )
            return group
        if full is not None:
            if full in dag.groups:
                self.diag(
                    "warning",
                    "AF307",
                    f"TaskGroup id {full!r} is used twice in DAG {dag.id!r}",
                    node.lineno,
                    dag,
                )
            dag.groups[full] = group
            tooltip = kwargs.get("tooltip")
            dag.workflow.groups.append(
                Group(
                    id=full,
                    parent=parent.full_id if parent is not None else None,
                    label=label,
                    tooltip=tooltip if isinstance(tooltip, str) and tooltip else None,
                    source=SourceRef(ENGINE, self.path, node.lineno if node is not None else None),
                )
            )
        return group

    def run_group_function(self, interp: Interpreter, gf: GroupFunction, args, kwargs, node) -> Any:
        gkw = dict(gf.kwargs)
        gid = gkw.pop("group_id", gf.fn.name)
        group = self.make_group(interp, [gid], gkw, node, unique=True)
        self.group_stack.append(group)
        pushed = group.dag is not None and self.current_dag() is not group.dag
        if pushed:
            self.dag_stack.append(group.dag)
        try:
            ret = interp.call_function(gf.fn, list(args), dict(kwargs), node)
        finally:
            if self.group_stack and self.group_stack[-1] is group:
                self.group_stack.pop()
            if pushed and self.dag_stack and self.dag_stack[-1] is group.dag:
                self.dag_stack.pop()
        if ret is not None and _is_node(ret):
            return ret
        return group

    # -- tasks -----------------------------------------------------------
    def _unique(self, dag: DagObj, label: str, taken) -> str:
        """Airflow's ``name``, ``name__1``, ``name__2`` for decorated tasks/groups."""
        if not taken(label):
            return label
        core = re.split(r"__\d+$", label)[0]
        n = 1
        while taken(f"{core}__{n}"):
            n += 1
        return f"{core}__{n}"

    def _context(self, kwargs: dict) -> tuple[DagObj | None, GroupObj | None]:
        dag = kwargs.get("dag") if isinstance(kwargs.get("dag"), DagObj) else None
        group = kwargs.get("task_group") if isinstance(kwargs.get("task_group"), GroupObj) else None
        if group is None and self.group_stack:
            cand = self.group_stack[-1]
            if dag is None or cand.dag is dag:
                group = cand
        if dag is None:
            dag = group.dag if group is not None else self.current_dag()
        return dag, group

    def _defaults(self, dag: DagObj | None, group: GroupObj | None, own: Any) -> dict[str, Any]:
        if group is None and own is None and dag is not None:
            return dag.default_args
        chain: list[dict] = []
        g = group
        while g is not None:
            chain.append(g.default_args)
            g = g.parent
        merged: dict[str, Any] = dict(dag.default_args) if dag is not None else {}
        for d in reversed(chain):
            merged.update(d)
        if isinstance(own, dict):
            merged.update(own)
        return merged

    def operator(
        self,
        interp: Interpreter,
        cls: str,
        ref: Any,
        args,
        kwargs,
        node,
        mapped: dict | None = None,
        behaves_as: str | None = None,
    ) -> TaskObj:
        kwargs = dict(kwargs)
        line = node.lineno if node is not None else None
        dag, group = self._context(kwargs)
        if args:
            self.diag(
                "warning",
                "AF104",
                f"{cls}: positional arguments are not read ({len(args)} given)",
                line,
                dag,
            )
        raw_id = kwargs.get("task_id")
        if raw_id is None:
            raw_id = Unknown(RUNTIME, "no task_id given", line, f"<{cls} without task_id>")
        raw_id = self.unread(interp, "task_id", raw_id, node, dag if dag is not None else None)
        label = str(
            self.required(interp, "task_id", raw_id, node, dag if dag is not None else None)
        )
        if contains_unknown(raw_id) is not None:
            known = (
                "comes from a module that is not read"
                if isinstance(raw_id, UnreadName)
                else ("is only known at run time")
            )
            self.lose(line, f"task id `{label}` {known}", dag)
        task_id = group.child_id(label) if group is not None else label
        values = {**self._defaults(dag, group, kwargs.get("default_args")), **kwargs}
        values.pop("default_args", None)
        explicit = set(kwargs) - {"default_args"}
        builder, status = ops.builder_for(cls)
        if isinstance(ref, ClassValue):
            # A subclass defined in the repository: it does what its Airflow
            # base does unless it has its own execute()/poke().
            builder, status = ops.builder_for(behaves_as) if behaves_as else (ops.opaque, "custom")
            if status == "unknown":
                builder, status = ops.opaque, "custom"
            elif status != "custom":
                status = "subclass"
            if status == "custom" and engine_base(ref) == ("operator", "sensor"):
                builder, status = ops.sensor, "custom-sensor"
        opargs = ops.OpArgs(
            cls,
            values,
            explicit,
            jsonable,
            lambda key, v: (
                v
                if type(v) in _SCALAR_JSON
                else self.required(
                    interp, f"{cls}.{key}", v, node, dag if dag is not None else None
                )
            ),
        )
        opargs.runtime_mapping = lambda key, v: self._runtime_env(interp, cls, key, v, node, dag)
        action = builder(opargs)
        self._callable_details(interp, action, values)
        if status == "subclass":
            self.diag(
                "info",
                "AF313",
                f"operator {cls} (defined in the repository) is a {behaves_as} without its own "
                f"execute(): task {task_id!r} read as {behaves_as}",
                line,
                dag,
            )
        elif status in ("custom", "custom-sensor"):
            kept = "a sensor" if status == "custom-sensor" else "opaque"
            self.diag(
                "info",
                "AF301",
                f"operator {cls} is a class of the repository with its own code: task "
                f"{task_id!r} kept as {kept} with its literal arguments",
                line,
                dag,
            )
        if cls == "DummyOperator":
            self.diag(
                "info",
                "AF202",
                "`DummyOperator` was removed in Airflow 3: use EmptyOperator",
                line,
                dag,
            )
        if cls == "SubDagOperator":
            self.diag(
                "warning",
                "AF204",
                "`SubDagOperator` was removed in Airflow 3 (use TaskGroups); read as a sub-workflow task",
                line,
                dag,
            )
            child = values.get("subdag")
            if isinstance(child, DagObj) and dag is not None and child is not dag:
                self._subdag(child, dag, line)
        if status == "unknown":
            self.diag(
                "info",
                "AF301",
                f"operator {cls} is not in the operator table: task {task_id!r} kept as opaque with its literal arguments",
                line,
                dag,
            )
        elif status == "opaque-known":
            self.diag(
                "info",
                "AF303",
                f"operator {cls} has no IR action kind: task {task_id!r} kept as opaque",
                line,
                dag,
            )
        task = Task(id=task_id, action=action, source=SourceRef(ENGINE, self.path, line))
        module = (
            ref.qualname.rsplit(".", 1)[0] if isinstance(ref, Ref) and "." in ref.qualname else None
        )
        if isinstance(ref, ClassValue):
            module = ref_module(ref)
        tobj = self._register(
            interp, task, dag, group, cls, values, opargs.used, explicit, node, module
        )
        if mapped is not None:
            task.mapped = mapped
        for k, v in kwargs.items():
            # Only task references and containers can carry an XComArg.
            if type(v) in _MAY_HOLD_XCOM and k not in ("dag", "task_group"):
                for src in xcom_sources(v):
                    if src is not tobj:
                        self.add_edge(src, tobj, "data")
        return tobj

    def _runtime_env(self, interp: Interpreter, cls: str, key: str, value: Any, node, dag) -> None:
        u = contains_unknown(value)
        text = (u.source if isinstance(value, Unknown) and u.source else None) or _short(
            interp.source_text(_keyword(node, key) or node) if node is not None else key
        )
        names: list[str] = []
        unread_names(value, lambda ref: names.append(ref.qualname))
        if u is not None:
            why = f"is only known at run time ({u.reason})"
        elif names:
            why = f"holds {names[0]}, a name of a module that is not read"
        else:
            why = "is not a mapping of names to values"
        self.diag(
            "warning",
            "AF111",
            f"{cls}.{key}: `{_short(text)}` {why}: the task's environment is not in "
            f"the IR (the expression is kept in extra.airflow.kwargs)",
            getattr(node, "lineno", None),
            dag,
        )

    def _subdag(self, child: DagObj, parent: DagObj, line: int | None) -> None:
        """A sub-DAG runs only inside its parent's SubDagOperator: Airflow
        never schedules it on its own, so its IR schedule is manual (its own
        is kept in extra)."""
        wf = child.workflow
        child.extra["subdag_of"] = parent.id
        if wf.schedule.kind != "manual":
            child.extra["subdag_schedule"] = jsonable(
                {"kind": wf.schedule.kind, "cron": wf.schedule.cron, "seconds": wf.schedule.seconds}
            )
            wf.schedule = Schedule(kind="manual", timezone=wf.schedule.timezone)
        self.diag(
            "info",
            "AF315",
            f"sub-DAG of {parent.id!r}: it runs only when that DAG's SubDagOperator runs it, "
            "so it has no schedule of its own (extra.airflow.subdag_of)",
            line,
            child,
        )

    def _callable_details(self, interp: Interpreter, action: Action, values: dict) -> None:
        """Name, module and source text of a classic operator's python_callable."""
        fn = values.get("python_callable")
        if action.kind not in ("python", "branch", "sensor") or fn is None:
            return
        key = "target" if action.kind == "sensor" else "callable"
        if isinstance(fn, FunctionValue):
            action.fields[key] = fn.name
            if action.kind == "python" and _fail_call(fn, action.fields):
                # A callable that only raises AirflowFailException(message) is a
                # fail action: the run fails without retries, with that message.
                message = action.fields["op_args"][0]
                action.kind = "fail"
                action.fields.clear()
                action.fields["message"] = message
                return
            if action.kind == "branch":
                decision = _decision_fields(fn, action.fields)
                if decision is not None:
                    action.fields.clear()
                    action.fields.update(decision)
                    return
            if action.kind != "sensor":
                action.fields["source_code"] = function_source(interp, fn)
        elif isinstance(fn, Ref):
            action.fields[key] = fn.name
            if action.kind != "sensor" and "." in fn.qualname:
                action.fields["module"] = fn.qualname.rsplit(".", 1)[0]
        elif isinstance(fn, TaskFlowFn):
            action.fields[key] = fn.fn.name

    def _register(
        self, interp, task: Task, dag, group, cls, values, used, explicit, node, module=None
    ) -> TaskObj:
        tobj = TaskObj(task, dag, group, cls)
        tobj.foreign = interp.importing > 0
        if group is not None:
            task.group = group.full_id if group.full_id else None
        used = set(used)
        for key in sorted(values.keys() & _FIELD_ARGS):
            if self.apply_task_field(interp, tobj, key, values[key], node, silent_extra=True):
                used.add(key)
        used.update(("task_id", "dag", "task_group"))
        kw = {k: jsonable(values[k]) for k in sorted(explicit) if k not in used}
        extra: dict[str, Any] = {"operator": cls}
        if module:
            extra["module"] = module
        extra["kwargs"] = kw
        task.extra["airflow"] = extra
        self._check_templates(task, dag, node)
        for _, created in self.st_stack:
            created.append(tobj)
        if dag is None:
            self.orphans.append(tobj)
        else:
            self._add_to_dag(tobj, dag)
        return tobj

    def _add_to_dag(self, tobj: TaskObj, dag: DagObj) -> None:
        tobj.dag = dag
        dag.tasks.setdefault(tobj.id, tobj)
        dag.workflow.tasks.append(tobj.task)

    def adopt(self, tobj: TaskObj, dag: DagObj) -> None:
        if tobj.dag is None:
            if tobj in self.orphans:
                self.orphans.remove(tobj)
            self._add_to_dag(tobj, dag)

    def _check_templates(self, task: Task, dag: DagObj | None, node) -> None:
        seen: list[str] = []
        for values in (task.action.fields, task.extra.get("airflow", {}).get("kwargs", {})):
            for key, v in values.items():
                t = type(v)
                if t is str:
                    if "{" not in v or key == "source_code":
                        continue
                elif t is list or t is dict:
                    v = json.dumps(v, ensure_ascii=False)
                    if "{{" not in v and "{%" not in v:
                        continue
                else:
                    continue
                for x in _removed_template_vars_cached(v):
                    if x not in seen:
                        seen.append(x)
        if seen:
            self.diag(
                "info",
                "AF205",
                f"task {task.id!r}: template variable(s) {', '.join(seen)} removed in Airflow 3",
                node.lineno if node is not None else None,
                dag,
            )

    def apply_task_field(
        self, interp, tobj: TaskObj, key: str, value: Any, node, silent_extra: bool = False
    ) -> bool:
        """Set one BaseOperator argument on the IR task; False if it is not an IR field."""
        t = tobj.task
        dag = tobj.dag
        if key == "retries":
            if isinstance(value, int) and not isinstance(value, bool):
                t.retries = value
            else:
                self.required(interp, f"{t.id}.retries", value, node, dag)
        elif key == "retry_delay":
            s = seconds(value)
            if s is None:
                self.required(interp, f"{t.id}.retry_delay", value, node, dag)
            else:
                t.retry_delay_s = s
        elif key == "retry_exponential_backoff":
            t.retry_backoff = "exponential" if value is True else "fixed"
        elif key == "max_retry_delay":
            t.max_retry_delay_s = seconds(value)
        elif key == "execution_timeout":
            t.timeout_s = seconds(value)
        elif key == "trigger_rule":
            rule = (
                value
                if isinstance(value, str)
                else self.required(interp, f"{t.id}.trigger_rule", value, node, dag)
            )
            rule = str(rule).lower()
            if rule in TRIGGER_RULE_RENAMES:
                self.diag(
                    "info",
                    "AF210",
                    f"trigger rule {rule!r} was removed in Airflow 3: read as {TRIGGER_RULE_RENAMES[rule]!r}",
                    getattr(node, "lineno", None),
                    dag,
                )
                rule = TRIGGER_RULE_RENAMES[rule]
            t.trigger_rule = rule
        elif key == "pool":
            t.pool = (
                value
                if isinstance(value, str)
                else self.required(interp, f"{t.id}.pool", value, node, dag)
            )
        elif key == "owner":
            t.owner = (
                value
                if isinstance(value, str)
                else self.required(interp, f"{t.id}.owner", value, node, dag)
            )
        elif key == "queue":
            t.queue = (
                value
                if isinstance(value, str)
                else self.required(interp, f"{t.id}.queue", value, node, dag)
            )
        elif key == "depends_on_past":
            t.depends_on_past = value is True
        elif key in ("doc", "doc_md", "doc_rst", "doc_json", "doc_yaml"):
            t.doc = (
                value
                if isinstance(value, str)
                else jsonable(value)
                if not isinstance(value, Unknown)
                else None
            )
        elif key == "outlets":
            t.outputs = [str(jsonable(o)) for o in _listify(value)]
        elif key in ("start_date", "end_date"):
            return False
        elif silent_extra:
            return False
        else:
            t.extra.setdefault("airflow", {}).setdefault("kwargs", {})[key] = jsonable(value)
        return True

    def taskflow_task(
        self,
        interp: Interpreter,
        tf: TaskFlowFn,
        args,
        kwargs,
        node,
        mapped: dict | None = None,
        partial_args=None,
    ) -> XComArg:
        opts = dict(tf.kwargs)
        fails_run = opts.pop("on_failure_fail_dagrun", None) if tf.role == "teardown" else None
        line = node.lineno if node is not None else None
        dag, group = self._context(opts)
        label = opts.get("task_id", tf.fn.name)
        label = str(self.required(interp, "task_id", label, node, dag))
        if dag is not None:
            label = self._unique(
                dag, label, lambda lb: (group.child_id(lb) if group else lb) in dag.tasks
            )
        task_id = group.child_id(label) if group is not None else label
        values = {**self._defaults(dag, group, opts.get("default_args")), **opts}
        values.pop("default_args", None)
        call_args = list(partial_args or []) + list(args)
        action = self._taskflow_action(interp, tf, call_args, kwargs, values)
        task = Task(id=task_id, action=action, source=SourceRef(ENGINE, self.path, line))
        explicit = set(opts) - {"default_args", "task_id"}
        used = set(ops.BASE_OPERATOR_ARGS) & set(values)
        used |= {"multiple_outputs"} if "multiple_outputs" not in explicit else set()
        used |= self._TASKFLOW_CONSUMED.get(tf.kind, set())
        tobj = self._register(interp, task, dag, group, tf.kind, values, used, explicit, node)
        task.extra["airflow"]["operator"] = f"@{tf.kind}"
        if tf.role is not None:
            self.mark_role(tobj, tf.role, node)
            if fails_run is not None:
                task.teardown_fails_run = fails_run is True
        if mapped is not None:
            task.mapped = mapped
        # Task results in the call's arguments, and in operator arguments given
        # to the decorator or .override() (e.g. env={"X": other["key"]}), make
        # the task wait for their producers, as Airflow does.
        options = [v for k, v in opts.items() if k not in ("dag", "task_group")]
        for src in xcom_sources([call_args, kwargs, options]):
            if src is not tobj:
                self.add_edge(src, tobj, "data")
        return XComArg(tobj)

    _TASKFLOW_CONSUMED = {
        "task.sensor": {"poke_interval", "timeout", "mode", "soft_fail"},
        "task.bash": {"env", "cwd", "append_env"},
    }

    def _taskflow_action(self, interp: Interpreter, tf: TaskFlowFn, args, kwargs, values) -> Action:
        name = tf.fn.name
        op_args = jsonable(list(args))
        op_kwargs = jsonable(dict(kwargs))
        source = function_source(interp, tf.fn)
        common = {"callable": name, "decorator": tf.kind}
        if op_args:
            common["op_args"] = op_args
        if op_kwargs:
            common["op_kwargs"] = op_kwargs
        kind = tf.kind
        if kind == "task.bash":
            command = self._bash_command(interp, tf, args, kwargs)
            # BashOperator arguments given to @task.bash(...) or .override(...)
            # belong to the action, as they do for a classic BashOperator.
            env = values.get("env")
            if env is not None and not (isinstance(env, dict) and ops.is_known_mapping(env)):
                self._runtime_env(interp, "@task.bash", "env", env, None, True)
                env = None
            shell = {
                k: jsonable(v)
                for k, v in (("env", env), ("cwd", values.get("cwd")))
                if v is not None
            }
            if ops.env_replace(env, values.get("append_env")):
                shell["env_replace"] = True
            return Action("shell", {"command": command, **shell, **common, "source_code": source})
        if kind in ("task.branch", "task.branch_virtualenv", "task.branch_external_python"):
            return Action("branch", {**common, "source_code": source})
        if kind == "task.short_circuit":
            return Action(
                "branch",
                {
                    **common,
                    "short_circuit": True,
                    "ignore_downstream_trigger_rules": values.get(
                        "ignore_downstream_trigger_rules", True
                    )
                    is not False,
                    "source_code": source,
                },
            )
        if kind == "task.sensor":
            return Action(
                "sensor",
                {
                    "sensor": "PythonSensor",
                    "poke_interval_s": seconds(values.get("poke_interval"))
                    or ops.SENSOR_POKE_INTERVAL_S,
                    "timeout_s": seconds(values.get("timeout")) or ops.SENSOR_TIMEOUT_S,
                    "mode": values.get("mode", "poke")
                    if isinstance(values.get("mode", "poke"), str)
                    else "poke",
                    "soft_fail": values.get("soft_fail") is True,
                    "target": name,
                    **common,
                    "source_code": source,
                },
            )
        return Action("python", {**common, "source_code": source})

    def _bash_command(self, interp: Interpreter, tf: TaskFlowFn, args, kwargs) -> str:
        """@task.bash: the function returns the command. Evaluated when the
        body is a plain ``return <expression>`` over known values, else the
        returned expression's source is kept."""
        node = tf.fn.node
        body = [
            s
            for s in node.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        returns = [s for s in body if isinstance(s, ast.Return) and s.value is not None]
        if len(body) == 1 and returns:
            probe = Interpreter(Hooks(), path=self.path, source=interp.source)
            probe.module_scope = interp.module_scope
            probe.depth = MAX_PROBE_DEPTH
            try:
                val = probe.call_function(tf.fn, list(args), dict(kwargs))
            except Exception:  # a probe must never break the parse
                val = None
            if isinstance(val, str):
                return val
        text = interp.source_text(returns[-1].value) if returns else interp.source_text(node)
        self.diag(
            "warning",
            "AF104",
            f"@task.bash {tf.fn.name}(): the command is computed when the task runs; "
            f"kept as the source of its return expression",
            node.lineno,
        )
        return text

    def mapped(self, interp: Interpreter, pc: PartialCall, how: str, args, kwargs, node):
        if how == "expand_kwargs":
            over_value = args[0] if args else kwargs.get("kwargs")
            rows = jsonable(over_value)
            if isinstance(rows, list) and not isinstance(pc.target, TaskFlowFn):
                rows = [
                    {FIELD_OF_KWARG.get(k, k): v for k, v in r.items()}
                    if isinstance(r, dict)
                    else r
                    for r in rows
                ]
            spec = {"kind": "zip", "over": {"kwargs": rows}}
            srcs = xcom_sources(over_value)
        else:
            kind = "product"
            over: dict[str, Any] = {}
            srcs = []
            for k, v in kwargs.items():
                if isinstance(v, tuple) and v and v[0] == "__zip__":
                    kind = "zip"
                    parts = list(v[1:])
                    over[k] = [jsonable(p) for p in parts]
                    for p in parts:
                        srcs.extend(xcom_sources(p))
                    continue
                field_name = (
                    FIELD_OF_KWARG.get(k, k) if not isinstance(pc.target, TaskFlowFn) else k
                )
                over[field_name] = jsonable(v)
                srcs.extend(xcom_sources(v))
            spec = {"kind": kind, "over": over}
        if isinstance(pc.target, TaskFlowFn):
            res = self.taskflow_task(
                interp, pc.target, [], dict(pc.kwargs), node, mapped=spec, partial_args=pc.args
            )
            tobj = res.task
        else:
            tobj = self.operator(interp, pc.target, pc.ref, pc.args, pc.kwargs, node, mapped=spec)
            res = tobj
            fields = tobj.task.action.fields
            if tobj.task.action.kind == "shell" and "env_replace" not in fields:
                rows = spec["over"].get("kwargs")
                maps_env = "env" in spec["over"] or (
                    isinstance(rows, list) and any(isinstance(r, dict) and "env" in r for r in rows)
                )
                # A mapped env replaces the environment too, unless append_env=True.
                if maps_env and ops.env_replace({}, pc.kwargs.get("append_env")):
                    fields["env_replace"] = True
        for src in srcs:
            if src is not tobj:
                self.add_edge(src, tobj, "data")
        return res

    # -- setup / teardown (Airflow 2.7+) ----------------------------------
    def mark_role(self, tobj: TaskObj, role: str, node) -> None:
        """Flag a setup or teardown task (IR ``role``). Like Airflow's
        ``as_teardown()`` and ``@teardown``, a teardown gets the rule
        all_done_setup_success, whatever it had."""
        extra = tobj.task.extra.setdefault("airflow", {})
        if extra.get(role):
            return
        extra[role] = True
        tobj.task.role = role
        if role == "teardown":
            tobj.task.trigger_rule = "all_done_setup_success"

    def close_setup_teardown(self, ctx: TaskObj, created: list[TaskObj]) -> None:
        """``with teardown(setup()):`` makes the setups upstream of the tasks
        created inside and the teardown downstream of them."""
        dag = ctx.dag
        if dag is None:
            return
        if ctx.task.role == "teardown":
            teardowns = [ctx]
            setups = [
                dag.tasks[e.src]
                for e in dag.workflow.edges
                if e.dst == ctx.id and e.src in dag.tasks and dag.tasks[e.src].task.role == "setup"
            ]
        else:
            setups = [ctx]
            teardowns = [
                dag.tasks[e.dst]
                for e in dag.workflow.edges
                if e.src == ctx.id
                and e.dst in dag.tasks
                and dag.tasks[e.dst].task.role == "teardown"
            ]
        inner = [t for t in created if t.dag is dag and t not in setups and t not in teardowns]
        ids = {t.id for t in inner}
        has_up = {e.dst for e in dag.workflow.edges if e.src in ids and e.dst in ids}
        has_down = {e.src for e in dag.workflow.edges if e.src in ids and e.dst in ids}
        for t in inner:
            # Roots/leaves that are themselves setups/teardowns are not linked
            # to the outer ones (as in Airflow).
            if t.task.role is not None:
                continue
            if t.id not in has_up:
                for s in setups:
                    self.add_edge(s, t, "control")
            if t.id not in has_down:
                for td in teardowns:
                    self.add_edge(t, td, "control")

    # -- dependencies ----------------------------------------------------
    def endpoints(self, value: Any, upstream: bool) -> list[TaskObj]:
        if isinstance(value, TaskObj):
            return [value]
        if isinstance(value, XComArg):
            return [value.task]
        if isinstance(value, GroupObj):
            return self.group_ends(value, roots=not upstream)
        if isinstance(value, (list, tuple, set)):
            out: list[TaskObj] = []
            for v in value:
                out.extend(self.endpoints(v, upstream))
            return out
        return []

    def group_ends(self, group: GroupObj, roots: bool) -> list[TaskObj]:
        """Airflow's get_roots/get_leaves: group tasks with no upstream
        (downstream) inside the group, right now. A teardown is never a leaf:
        Airflow walks up from it to the last work task(s) before it."""
        dag = group.dag
        if dag is None:
            return []
        members = [t for t in dag.tasks.values() if group.contains(t.group)]
        ids = {t.id for t in members}
        ups: dict[str, list[str]] = {}
        downs: dict[str, list[str]] = {}
        for e in dag.workflow.edges:
            if e.src in ids and e.dst in ids:
                ups.setdefault(e.dst, []).append(e.src)
                downs.setdefault(e.src, []).append(e.dst)
        if roots:
            return [t for t in members if t.id not in ups]
        tasks = dag.tasks

        def role(tid: str) -> str | None:
            return tasks[tid].task.role if tid in tasks else None

        def before_teardown(tid: str, seen: set[str]) -> list[str]:
            out: list[str] = []
            for up in ups.get(tid, []):
                if up in seen:
                    continue
                seen.add(up)
                if role(up) == "teardown":
                    out.extend(before_teardown(up, seen))
                elif role(tid) == "teardown" and role(up) == "setup":
                    continue
                elif not any(d != tid and role(d) != "teardown" for d in downs.get(up, [])):
                    out.append(up)
            return out

        leaves: list[TaskObj] = []
        for t in members:
            if t.id in downs:
                continue
            if t.task.role != "teardown":
                leaves.append(t)
            else:
                leaves.extend(tasks[i] for i in before_teardown(t.id, set()) if i in tasks)
        return list(dict.fromkeys(leaves))

    def connect(self, interp: Interpreter, up: Any, down: Any, node) -> None:
        if type(up) is TaskObj and type(down) is TaskObj:  # `a >> b`: most edges
            self.add_edge(up, down, "control")
            return
        if isinstance(down, LabelObj):
            down.upstream.extend(self.endpoints(up, upstream=True))
            return
        if isinstance(up, LabelObj):
            ups = up.upstream
            downs = self.endpoints(down, upstream=False)
            for u in ups:
                for d in downs:
                    if self.add_edge(u, d, "control") and u.dag is not None:
                        u.dag.extra.setdefault("edge_labels", []).append(
                            {"from": u.id, "to": d.id, "label": jsonable(up.text)}
                        )
            return
        ups = self.endpoints(up, upstream=True)
        downs = self.endpoints(down, upstream=False)
        for bad in (up, down):
            if type(bad) not in _NODE_TYPES and bad is not None and not _is_node(bad):
                u = contains_unknown(bad)
                what = _short(u.source) if u is not None and u.source else type(bad).__name__
                line = getattr(node, "lineno", None)
                self.diag(
                    "warning",
                    "AF110",
                    f"dependency on `{what}`, which is not a task known statically: ignored",
                    line,
                )
                self.lose(
                    line,
                    f"`{what}` is used as a task but is not known statically: "
                    f"its task(s) and the dependency at this line are missing",
                )
        for u in ups:
            for d in downs:
                self.add_edge(u, d, "control")

    def add_edge(self, u: TaskObj, d: TaskObj, kind: str) -> bool:
        dag = u.dag
        if dag is None or dag is not d.dag:
            dag = dag or d.dag
            if dag is None:
                return False
            if u.dag is None:
                self.adopt(u, dag)
            if d.dag is None:
                self.adopt(d, dag)
        if u.dag is not d.dag:
            self.diag(
                "warning",
                "AF311",
                f"dependency {u.id!r} -> {d.id!r} joins two DAGs ({u.dag.id!r}, {d.dag.id!r}): ignored",
                d.task.source.line if d.task.source else None,
                d.dag,
            )
            return False
        key = (u.id, d.id)
        edge = dag.edge_index.get(key)
        if edge is None:
            edge = Edge(u.id, d.id, kind)
            dag.edge_index[key] = edge
            dag.workflow.edges.append(edge)
        elif kind == "data" and edge.kind == "control":
            edge.kind = "data"
        return True


def _given(value: Any) -> bool:
    """Whether a DAG() argument counts as given for Airflow 2's start-date
    check (truthy; a value known only at run time is taken as given)."""
    if value is None or isinstance(value, Unknown) or contains_unknown(value) is not None:
        return value is not None
    try:
        return bool(value)
    except Exception:  # an object of the interpreter without a truth value
        return True


def _scheduled(kwargs: dict) -> bool:
    """Whether DAG() was given a schedule Airflow 2 checks for a start_date
    (``schedule``/``schedule_interval``/``timetable``, truthy and known)."""
    return any(
        k in kwargs and contains_unknown(kwargs[k]) is None and _given(kwargs[k])
        for k in ("schedule", "schedule_interval", "timetable")
    )


# Airflow's configuration getters (``conf.get("core", "dags_folder")``).
_CONF_GET = frozenset(
    {
        "airflow.configuration.conf.get",
        "airflow.configuration.conf.get_mandatory_value",
        "airflow.configuration.get",
    }
)


def _conf_key(args: list, kwargs: dict) -> tuple[str, str] | None:
    section = args[0] if args else kwargs.get("section")
    key = args[1] if len(args) > 1 else kwargs.get("key")
    if isinstance(section, str) and isinstance(key, str):
        return section.lower(), key.lower()
    return None


def _relative_in_airflow(path: str, main: str) -> bool:
    """Whether ``path`` is relative where Airflow runs the DAG file ``main``.
    Airflow's ``__file__`` is absolute; ours is spelled as the input is, so
    a path built from it is relative when the input is: such a path starts
    with the file's folder (a file of the working directory cannot tell)."""
    if os.path.isabs(path):
        return False
    if os.path.isabs(main):
        return True
    folder = os.path.dirname(main)
    return bool(folder) and not os.path.normpath(path).startswith(os.path.normpath(folder) + "/")


def _dagfactory_shape_unknown(config: dict) -> bool:
    """Whether a dag-factory config given as a dict has a run-time value
    where its DAGs, tasks, groups or dependencies are (a value an operator
    is given may be unknown: the task is still there)."""
    structural = (
        "dependencies",
        "task_group_name",
        "parent_group_name",
        "operator",
        "decorator",
        "task_id",
        "group_name",
    )
    for dag in config.values():
        if isinstance(dag, Unknown):
            return True
        if not isinstance(dag, dict):
            continue
        for key in ("tasks", "task_groups"):
            entries = dag.get(key)
            shape = list(entries) if isinstance(entries, dict) else entries
            if contains_unknown(shape) is not None:
                return True
            for conf in entries.values() if isinstance(entries, dict) else entries or ():
                if isinstance(conf, Unknown) or (
                    isinstance(conf, dict)
                    and contains_unknown([conf.get(k) for k in structural]) is not None
                ):
                    return True
    return False


# load_yaml_dags()'s parameters, in order (dag-factory 1.x).
_LOAD_YAML_DAGS = (
    "globals_dict",
    "dags_folder",
    "config_filepath",
    "defaults_config_path",
    "config_dict",
    "defaults_config_dict",
    "suffix",
)


@dataclass(eq=False)
class DagFactoryObj:
    """``dagfactory.DagFactory(config)`` before ``generate_dags``."""

    config: Any
    kwargs: dict


_NODE_TYPES = (TaskObj, XComArg, GroupObj, LabelObj)
_MAY_HOLD_XCOM = {TaskObj, XComArg, list, tuple, dict, set}

# The @task.bash probe may follow two nested calls at most.
MAX_PROBE_DEPTH = pyeval.MAX_DEPTH - 2


_SENSOR_BASES = ("BaseSensorOperator",)


def engine_base(cls: ClassValue) -> tuple[str, str] | None:
    """("group", name) for a TaskGroup subclass of the repository,
    ("operator", "sensor"|"operator") for an operator subclass (any class
    with an Airflow operator or sensor among its ancestors, whatever its
    own name), None otherwise."""
    for base in linear_bases(cls)[1:]:
        if isinstance(base, Ref):
            name = base.name
            if name == "TaskGroup":
                return ("group", name)
            if name in ("BaseOperator", *_SENSOR_BASES) or _is_operator_name(name):
                sensor = name in _SENSOR_BASES or name.endswith(("Sensor", "SensorAsync"))
                return ("operator", "sensor" if sensor else "operator")
    return None


def behaves_as(cls: ClassValue) -> str | None:
    """The Airflow operator whose behaviour a subclass keeps: its nearest
    Airflow base, unless a class of the repository on the way defines
    ``execute``/``poke`` (then it runs its own code: None)."""
    for base in linear_bases(cls):
        if isinstance(base, ClassValue):
            if "execute" in base.namespace or "poke" in base.namespace:
                return None
        elif isinstance(base, Ref) and base.name not in ("object",):
            return base.name
    return None


def ref_module(cls: ClassValue) -> str | None:
    """The dotted module a class of the repository is defined in."""
    return cls.module


def _listify(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return [value]


def _flatten_datasets(value: Any) -> list[Any]:
    if isinstance(value, DatasetCond):
        out = []
        for v in value.items:
            out.extend(_flatten_datasets(v))
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_flatten_datasets(v))
        return out
    return [value]


def _is_node(value: Any) -> bool:
    if isinstance(value, (TaskObj, XComArg, GroupObj, LabelObj)):
        return True
    if isinstance(value, (list, tuple, set)) and value:
        return all(_is_node(v) for v in value)
    return False


def _short(text: str | None, limit: int = 80) -> str:
    if not text:
        return ""
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 3] + "..."


# Values that cannot hold an imported name (unread_names returns them as they are).
_NO_NAMES = frozenset({str, int, float, bool, type(None)})


def _keyword(node: ast.AST | None, name: str) -> ast.expr | None:
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value
    return None


def _keyword_line(node: ast.AST | None, name: str) -> int | None:
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value.lineno
    return None


# ---------------------------------------------------------------------------
# imports


# Node classes with nested statements (only these need a look inside).
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")
_BLOCK_NODES = frozenset(
    c
    for c in vars(ast).values()
    if isinstance(c, type) and issubclass(c, ast.AST) and set(c._fields) & set(_BLOCK_FIELDS)
)


def _imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(module, line, fallback) of every import statement (any depth of
    statements); ``fallback``: inside an ``except ImportError`` handler, the
    old path a file tries only when the new one is missing."""
    out: list[tuple[str, int, bool]] = []
    body = tree.body
    if isinstance(body, pychunks.Statements):  # a large file: only what holds imports
        body = body.holding(ast.Import, ast.ImportFrom)
    stack: list[tuple[ast.AST, bool]] = [(st, False) for st in reversed(body)]
    while stack:
        st, fallback = stack.pop()
        t = type(st)
        if t is ast.Import:
            out.extend((a.name, st.lineno, fallback) for a in st.names)
        elif t is ast.ImportFrom:
            if st.module and not st.level:
                out.append((st.module, st.lineno, fallback))
        elif t is ast.ExceptHandler:
            inner = fallback or _catches_import_error(st.type)
            stack.extend((sub, inner) for sub in reversed(st.body))
        elif t in _BLOCK_NODES:
            for name in ("body", "orelse", "finalbody", "handlers"):
                sub = getattr(st, name, None)
                if isinstance(sub, pychunks.Statements):  # a large file's lazy block
                    sub = sub.holding(ast.Import, ast.ImportFrom)
                if sub:
                    stack.extend((x, fallback) for x in reversed(sub))
    return out


def _catches_import_error(node: ast.expr | None) -> bool:
    names = node.elts if isinstance(node, ast.Tuple) else [node]
    return any(
        n is None or (isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError"))
        for n in names
    )


def _moved(module: str) -> str | None:
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        repl = MOVED_IMPORTS.get(".".join(parts[:i]))
        if repl is not None:
            return repl
    return None


def _mark_losses(hooks: AirflowHooks, dag: DagObj) -> None:
    """An incomplete workflow says so: IR ``incomplete``/``incomplete_reasons``
    and one AF112 summary of how much could not be seen."""
    reasons = [r for (owner, *_), r in hooks.losses.items() if owner in (id(dag), None)]
    if not reasons:
        return
    wf = dag.workflow
    for r in reasons:
        wf.mark_incomplete(r)
    n = len(reasons)
    hooks.diag(
        "warning",
        "AF112",
        f"workflow {wf.id!r} is incomplete: {n} part(s) of it could not be read statically, "
        f"so tasks or dependencies are missing from its {len(wf.tasks)} task(s) "
        f"(see incomplete_reasons)",
        dag.line,
        dag,
    )


def _harmless(value: Unknown) -> bool:
    """An unknown call result that cannot have built tasks: a known run-time
    read (a file, a variable, the clock) or a logging/printing helper."""
    reason = value.reason
    return not (
        reason.startswith(("calls ", "name ", "instance of class"))
        or "not evaluated statically" in reason
        or "is not defined" in reason
    )


def _builds_airflow_objects(interp: Interpreter, nodes) -> str | None:
    """Whether skipped code would build DAGs ("dag"), tasks or dependencies
    ("task"), judged from the names it calls (looked up, not evaluated)."""
    found: str | None = None
    for root in nodes:
        for n in ast.walk(root):
            if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.RShift, ast.LShift)):
                found = "task"
            elif isinstance(n, ast.Call):
                kind = _callee_kind(interp, n.func)
                if kind == "dag":
                    return "dag"
                found = found or kind
    return found


def _callee_kind(interp: Interpreter, func: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    value = interp.module_scope.lookup(func.id)
    for _fn, local in reversed(interp.frames):
        hit = local.lookup(func.id)
        if hit is not NOT_HANDLED:
            value = hit
            break
    name = parts[0] if parts else func.id
    if isinstance(value, Ref):
        name = value.attr(".".join(reversed(parts))).name if parts else value.name
        if name in ("DAG", "dag"):
            return "dag"
        if _is_operator_name(name) or name in (
            "TaskGroup",
            "chain",
            "set_downstream",
            "set_upstream",
        ):
            return "task"
        return None
    if isinstance(value, (DagFunction, DagDecorator)):
        return "dag"
    if isinstance(value, (TaskFlowFn, GroupFunction, FunctionValue, TaskObj, GroupObj, XComArg)):
        return "task"
    if isinstance(value, ClassValue) and engine_base(value) is not None:
        return "task"
    return None


def _check_keys(hooks: AirflowHooks, dag: DagObj) -> None:
    """AF212: ids Airflow refuses (``validate_key``: letters, digits, ``_``,
    ``-``, ``.``; at most 250 characters). The IR keeps them as written."""
    wf = dag.workflow
    named = [("DAG id", wf.id, wf.source.line if wf.source else None)]
    named += [("task id", t.id, t.source.line if t.source else None) for t in wf.tasks]
    named += [("TaskGroup id", g.id, g.source.line if g.source else None) for g in wf.groups]
    for what, key, line in named:
        if len(key) > AIRFLOW_KEY_MAX or not AIRFLOW_KEY.match(key):
            hooks.diag(
                "warning",
                "AF213",
                f"{what} {key!r} is not a valid Airflow key (letters, digits, '_', '-', '.'; "
                f"at most {AIRFLOW_KEY_MAX} characters): Airflow refuses this DAG",
                line,
                dag,
            )


# ---------------------------------------------------------------------------
# entry point


def parse(path: str, text: str | None = None, **options) -> Bundle:
    """Read one Airflow DAG file statically into a Bundle.

    ``airflow_source_version`` ("2" | "3"): the version a file that does not
    show its own is read as (docs/codes/airflow.md "Airflow 2 or 3")."""
    if text is None:
        from wfconv.frontends import _read

        text = _read(Path(path))
    try:
        tree = pychunks.parse_module(text, path)  # large files: in pieces
    except SyntaxError as exc:
        raise InputError(path, exc.lineno, f"syntax error: {exc.msg}") from None
    except ValueError as exc:  # null bytes
        raise InputError(path, None, f"cannot parse: {exc}") from None
    except (RecursionError, MemoryError):
        raise InputError(path, None, "the code is nested too deeply to be read") from None
    try:
        return _read_module(path, text, tree, options)
    except SyntaxError as exc:  # in a lazy block of a large file, reached while reading
        raise InputError(path, exc.lineno, f"syntax error: {exc.msg}") from None
    except RecursionError:
        raise InputError(
            path, None, "the code is nested too deeply to be read statically"
        ) from None


def reader_for(
    path: str, text: str, options: dict | None = None
) -> tuple[AirflowHooks, Interpreter]:
    """The hooks and interpreter that read ``path`` (the dag-factory reader
    builds its DAGs with them too)."""
    hooks = AirflowHooks(path)
    interp = Interpreter(
        hooks,
        path=path,
        source=text,
        module_name=Path(path).stem,
        # The path as given: Path(__file__).stem / basename(__file__) dag ids read right.
        file_value=path,
        instances=True,
        importer=importer_for(path, options or {}),
        # Configs of the repository a factory reads (docs/repositories.md).
        files=data_files_for(path, options or {}),
    )
    hooks.interp = interp
    return hooks, interp


def _read_module(path: str, text: str, tree: ast.Module, options: dict | None = None) -> Bundle:
    options = options or {}
    hooks, interp = reader_for(path, text, options)
    if isinstance(tree.body, pychunks.Statements):  # a large file: gathered while read
        gatherer = airflow_version.Gatherer(text)
        tree.body.observers.append(gatherer.add)
        interp.run_module(tree)
        evidence = gatherer.evidence()
    else:
        interp.run_module(tree)
        evidence = airflow_version.gather(tree, text)
    decision = airflow_version.decide(evidence, options.get("airflow_source_version"))
    return finish(hooks, interp, path, _imports(tree), decision)


def finish(
    hooks: AirflowHooks,
    interp: Interpreter,
    path: str,
    imports: list,
    decision: airflow_version.Decision,
) -> Bundle:
    """The bundle of what the hooks built: file-level checks, diagnostics
    attributed, every workflow validated; ``decision`` is the Airflow version
    the file is read as (what its bare schedules mean)."""
    # A DAG made while an imported module ran is that module's, unless this
    # file binds it to one of its names (Airflow collects the DAGs of the
    # module it loads).
    own = {id(v) for v in interp.module_scope.vars.values() if isinstance(v, DagObj)}
    hooks.dags = [d for d in hooks.dags if not d.foreign or id(d) in own]
    hooks.orphans = [t for t in hooks.orphans if not t.foreign]

    for module, line, fallback in imports:
        repl = _moved(module)
        # `try: <new path> except ImportError: <old path>` is ready for
        # Airflow 3 already: its fallback import is no finding.
        if repl is not None and not fallback:
            hooks.diag(
                "info",
                "AF203",
                f"`{module}` was removed or moved in Airflow 3: use {repl}",
                line,
                None,
            )
    for line, (src, dag) in hooks.clock.items():
        if line not in hooks.clock_used:
            hooks.diag(
                "warning",
                "AF101",
                f"`{_short(src)}` reads the clock: its value depends on when the file is parsed",
                line,
                dag,
            )
    for df in hooks.dag_functions:
        if not df.called:
            hooks.diag(
                "warning",
                "AF304",
                f"@dag function {df.fn.name}() is never called: it defines no DAG",
                df.fn.line,
                None,
            )
    for t in hooks.orphans:
        hooks.diag(
            "warning",
            "AF306",
            f"task {t.id!r} is created outside any DAG: not part of a workflow",
            t.task.source.line if t.task.source else None,
            None,
        )

    bundle = Bundle()
    module_names = sorted({m for m, _, _ in imports})
    sources = sorted(
        {m.path for m in interp.modules.values() if m is not None and m.path}
        | set(interp.files.read_paths if interp.files is not None else ())
    )
    for dag in hooks.dags:
        wf = dag.workflow
        time_model.settle(
            wf,
            dag.extra.pop("bare_schedule", False),
            decision,
            lambda sev, code, msg, dag=dag: hooks.diag(sev, code, msg, dag.line, dag),
        )
        dag.extra["source_version"] = decision.version
        if dag.no_start_date and decision.version == "2":
            hooks.diag(
                "error",
                "AF115",
                "a DAG given a schedule needs a start_date (in the DAG or its default_args) in "
                "Airflow 2: DAG() raises 'DAG is missing the start_date parameter' and the file "
                "does not load (Airflow 3 loads it)",
                dag.line,
                dag,
            )
        _check_keys(hooks, dag)
        _mark_losses(hooks, dag)
        wf.diagnostics.extend(
            d for d in hooks.file_diags if (d.code, d.message, d.line) not in dag.diag_keys
        )
        wf.diagnostics.sort(key=lambda d: (d.line or 0, d.code, d.message))
        extra: dict[str, Any] = {
            "schedule_arg": dag.extra.pop("schedule_arg", None),
            "imports": module_names,
            "dag_kwargs": dag.dag_kwargs,
        }
        extra.update(dag.extra)
        if sources:
            # The repository's files this DAG was read from besides its own.
            extra["sources"] = sources
        wf.extra["airflow"] = extra
        for t in wf.tasks:
            if t.retry_delay_s is None:
                t.retry_delay_s = DEFAULT_RETRY_DELAY_S
        finalize(wf)
        bundle.workflows.append(wf)
    if not hooks.dags:
        bundle.diagnostics.extend(sorted(hooks.file_diags, key=lambda d: (d.line or 0, d.code)))
        bundle.diagnostics.append(
            Diagnostic(
                "warning", "AF302", "no DAG could be found statically in this file", path, None
            )
        )
    return bundle


_FAIL_EXCEPTIONS = (
    "airflow.exceptions.AirflowFailException",
    "airflow.sdk.exceptions.AirflowFailException",
)


def _fail_call(fn: FunctionValue, fields: dict) -> bool:
    """Whether calling ``fn`` with the task's op_args can only fail the run.

    True for a one-parameter ``def`` whose body (after a docstring) is just
    ``raise AirflowFailException(param)``, called with one literal string in
    ``op_args`` and nothing else: what wfconv's ``wfconv_fail`` is, and what a
    hand-written fail task looks like.
    """
    node = fn.node
    args = fields.get("op_args")
    if (
        not isinstance(node, ast.FunctionDef)
        or set(fields) - {"callable", "op_args"}
        or not isinstance(args, list)
        or len(args) != 1
        or not isinstance(args[0], str)
    ):
        return False
    a = node.args
    if a.posonlyargs or a.kwonlyargs or a.vararg or a.kwarg or len(a.args) != 1 or a.defaults:
        return False
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].cause is not None:
        return False
    call = body[0].exc
    if (
        not isinstance(call, ast.Call)
        or call.keywords
        or len(call.args) != 1
        or not (isinstance(call.args[0], ast.Name) and call.args[0].id == a.args[0].arg)
    ):
        return False
    exc = call.func
    if isinstance(exc, ast.Name):
        ref = fn.scope.lookup(exc.id)
    elif isinstance(exc, ast.Attribute) and isinstance(exc.value, ast.Name):
        base = fn.scope.lookup(exc.value.id)
        ref = base.attr(exc.attr) if isinstance(base, Ref) else None
    else:
        return False
    return isinstance(ref, Ref) and ref.qualname in _FAIL_EXCEPTIONS


def _decision_fields(fn: FunctionValue, fields: dict) -> dict | None:
    """An Oozie decision as wfconv writes it (wfconv.backends.decisions):
    ``wfconv_decide`` over a ``WFCONV_DECISIONS`` entry whose every predicate
    is exactly the translation of its EL text, with the EL helpers as
    generated. Read back as the decision's cases and default; None otherwise."""
    if not dec.is_decide_function(fn.node) or set(fields) - {"callable", "op_kwargs"}:
        return None
    kwargs = fields.get("op_kwargs")
    if not isinstance(kwargs, dict) or set(kwargs) != {"decision"}:
        return None
    return dec.read_decision(fn.scope.module.vars, kwargs["decision"])
