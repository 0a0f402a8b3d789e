"""One builder per IR action kind: the operator and keyword arguments that
say it in Airflow, plus task-level settings and mapping."""

from __future__ import annotations

import ast
import datetime as _dt
import itertools
import json
import posixpath
import shlex
from pathlib import Path
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.backends.airflow.context import Ctx, OpSpec, airflow_keys, seconds
from wfconv.backends.airflow.tables import HADOOP_OPERATORS, SENSOR_TARGET_KWARG
from wfconv.backends.common import (
    AIRFLOW_DEFAULT_RETRY_DELAY_S,
    Code,
    GraphIndex,
    compact_number,
    env_mapping,
    file_stem,
    function_source,
    hadoop_command,
    is_dotted_name,
    loss,
    luigi_standalone,
    luigi_task_class,
    mapped_columns,
    py_literal,
    retry_delays,
    shell_command,
    xcom_ref,
)
from wfconv.ir.model import Task


def _is_dotted(name: Any) -> bool:
    return is_dotted_name(name)


def _python_callable(ctx: Ctx, task: Task, what: str = "callable") -> Code:
    """The expression naming the task's callable: an import alias when the
    module is known, else a generated stub (and a BA101 loss)."""
    fields = task.action.fields
    name = fields.get("callable")
    module = fields.get("module")
    if isinstance(name, str) and ":" in name and module is None:
        module, name = name.split(":", 1)
    if not _is_dotted(name):
        name = None
    if name and _is_dotted(module) and not _source_engine_module(task, module):
        key = (module, name)
    else:
        key = (None, name or f"{task.id}_{what}")
        ctx.kept.setdefault(key[1], (fields.get("source_code"), task))
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)  # the name is chosen once all are known
    return Code(f"<callable:{ctx.callables[key]}>")


def _source_engine_module(task: Task, module: Any) -> bool:
    """Is ``module`` the Prefect or Luigi file the task was read from?
    Importing it would import that engine on Airflow's workers (and run its
    decorators): the task's own function is pasted instead, or stubbed with
    a loss that says what it needs (docs/output.md §3)."""
    src = task.source
    if src is None or src.engine not in ("prefect", "luigi") or not src.path:
        return False
    return module == Path(src.path).stem


# --- builders: one per action kind -------------------------------------------------


def _shell(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    command = shell_command(f)
    if command != str(f.get("command") or "") and "exec" not in f:
        ctx.add(
            loss(
                "BA111",
                "arguments appended to bash_command",
                task=task,
                severity="info",
                target="bash_command",
            )
        )
    if command.endswith((".sh", ".bash")):
        source = ctx.workflow.source.engine if ctx.workflow.source else None
        if source == "airflow":
            note = (
                "Airflow reads a bash_command ending in .sh/.bash as a Jinja template file "
                "(kept: the source DAG relied on it)"
            )
        else:
            # Airflow would look the script up as a template file and fail with
            # TemplateNotFound; a trailing space (Airflow's documented escape)
            # makes it run as the command the source engine ran.
            command += " "
            note = "a trailing space keeps Airflow from reading the .sh/.bash command as a template file"
        ctx.add(loss("BA112", note, task=task, severity="info", target="bash_command"))
    if _bash_function(task):
        # the source's @task.bash function, kept (airflow/taskflow.py): it
        # computes the command from its arguments when the task runs
        spec = OpSpec("BashOperator", decorator="task.bash")
        spec.set("python_callable", _python_callable(ctx, task))
        if f.get("op_args"):
            spec.set("op_args", list(f["op_args"]))
        if f.get("op_kwargs"):
            spec.set("op_kwargs", dict(f["op_kwargs"]))
    else:
        spec = OpSpec(ctx.use("BashOperator"))
        spec.set("bash_command", command)
    if env_mapping(f):
        spec.set("env", {str(k): str(v) for k, v in env_mapping(f).items()})
        if not f.get("env_replace"):
            # BashOperator's env alone replaces the whole environment (no PATH,
            # no HOME); the IR's env is added to the inherited one.
            spec.set("append_env", True)
    if f.get("cwd"):
        spec.set("cwd", str(f["cwd"]))
    if f.get("capture_output") is not None:
        spec.set("do_xcom_push", bool(f["capture_output"]))
    return spec


def _bash_function(task: Task) -> bool:
    """A @task.bash function the output can keep: self-contained (else the
    command the reader worked out, as a BashOperator, beats a stub)."""
    f = task.action.fields
    name = f.get("callable")
    if f.get("decorator") != "task.bash" or not isinstance(name, str) or not name.isidentifier():
        return False
    kept = function_source(f.get("source_code"), name)
    return (
        kept is not None
        and not kept.free_names
        and isinstance(f.get("op_args") or [], list)
        and isinstance(f.get("op_kwargs") or {}, dict)
        and not task.mapped
        and task.role is None
    )


def _python(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    deco = f.get("decorator")
    if deco not in (None, "task", "task.python"):
        ctx.add(
            loss(
                "BA116",
                f"@{deco} is emitted as a plain PythonOperator",
                task=task,
                target="PythonOperator",
            )
        )
    spec = OpSpec(ctx.use("PythonOperator"))
    luigi = luigi_task_class(task)
    if luigi is not None:
        return _luigi(ctx, task, spec, luigi)
    spec.set("python_callable", _python_callable(ctx, task))
    if f.get("op_args"):
        spec.set("op_args", list(f["op_args"]))
    if f.get("op_kwargs"):
        spec.set("op_kwargs", dict(f["op_kwargs"]))
    return spec


def _luigi(ctx: Ctx, task: Task, spec: OpSpec, luigi: tuple[str, str, dict[str, str]]) -> OpSpec:
    """A Luigi task: its run() as the reader rewrote it (frontends/luigi/
    standalone.py), pasted and called with its paths and parameters; else
    the task's class, imported and run when the task runs (BA121 says why)."""
    standalone = luigi_standalone(task)
    why = task.extra["luigi"].get("not_standalone") or "no standalone form was read"
    if standalone is not None and _jinja_marks(standalone[1]):
        # op_kwargs is a templated field: Airflow would render the text
        why = "a path or parameter holds {{, {% or {#, which Airflow would render as a template"
        standalone = None
    if standalone is not None:
        fs, kwargs = standalone
        ctx.kept.setdefault(fs.name, (fs.text, task))
        ref = ctx.callables.setdefault((None, fs.name), len(ctx.callables))
        spec.set("python_callable", Code(f"<callable:{ref}>"))
        if kwargs:
            spec.set("op_kwargs", kwargs)
        return spec
    module, cls, params = luigi
    ctx.helpers.add("luigi")
    spec.set("python_callable", Code("wfconv_luigi_run"))
    spec.set("op_args", [module, cls, params])
    ctx.add(
        loss(
            "BA121",
            f"runs {cls}(...).run() of module {module} when its outputs do not exist: Luigi "
            "and that module must be importable on the workers when the task runs (the DAG "
            f"loads without them); its run() is not converted: {why}",
            task=task,
            target="PythonOperator",
        )
    )
    return spec


def _jinja_marks(value: Any) -> bool:
    if isinstance(value, str):
        return any(m in value for m in ("{{", "{%", "{#"))
    if isinstance(value, dict):
        return any(_jinja_marks(v) for v in value.values())
    if isinstance(value, list):
        return any(_jinja_marks(v) for v in value)
    return False


def _empty(ctx: Ctx, task: Task) -> OpSpec:
    return OpSpec(ctx.use("EmptyOperator"))


def _branch(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    if f.get("short_circuit"):
        spec = OpSpec(ctx.use("ShortCircuitOperator"))
        spec.set("python_callable", _python_callable(ctx, task, "condition"))
        if f.get("ignore_downstream_trigger_rules") is not None:
            spec.set("ignore_downstream_trigger_rules", bool(f["ignore_downstream_trigger_rules"]))
        return spec
    spec = OpSpec(ctx.use("BranchPythonOperator"))
    if f.get("callable"):
        spec.set("python_callable", _python_callable(ctx, task, "chooser"))
        if f.get("op_args"):
            spec.set("op_args", list(f["op_args"]))
        if f.get("op_kwargs"):
            spec.set("op_kwargs", dict(f["op_kwargs"]))
        return spec
    if dec.is_decision(f):
        return _decision(ctx, task)
    ctx.helpers.add("choose")
    cases: list[list[str]] = []  # Oozie cases went to _decision: none here
    default = f.get("default")
    if not cases and default is None:
        ctx.add(
            loss(
                "BA103",
                "no callable and no cases: the chooser follows every direct downstream",
                task=task,
                target="BranchPythonOperator",
            )
        )
        default = GraphIndex.of(ctx.workflow).down[task.id]
    spec.set("python_callable", Code("wfconv_choose"))
    spec.set("op_kwargs", {"cases": cases, "default": default})
    return spec


def _decision(ctx: Ctx, task: Task) -> OpSpec:
    """An Oozie decision: its EL cases as Python predicates over the DAG's
    params, walked in order by wfconv_decide (first true case, else default)."""
    d = dec.translate(task.id, task.action.fields)
    for when, to, why in d.untranslated:
        ctx.add(
            loss(
                "BA102",
                f"decision case {when!r} -> {to!r} {why}: left out, in Airflow it never matches",
                task=task,
                target="BranchPythonOperator",
            )
        )
    ctx.decisions.append(d)
    spec = OpSpec(ctx.use("BranchPythonOperator"))
    spec.set("python_callable", Code("wfconv_decide"))
    spec.set("op_kwargs", {"decision": task.id})
    return spec


def _sensor(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    cls = str(f.get("sensor") or "")
    target = f.get("target")
    if cls not in SENSOR_TARGET_KWARG:
        if isinstance(target, str) and target:
            ctx.add(
                loss(
                    "BA106",
                    f"sensor {cls or '(unnamed)'} has no Airflow mapping: a FileSensor waits for {target!r}",
                    task=task,
                    target="FileSensor",
                )
            )
            cls = "FileSensor"
        else:
            ctx.add(
                loss(
                    "BA106",
                    f"sensor {cls or '(unnamed)'} has no Airflow mapping: a PythonSensor stub is emitted",
                    task=task,
                    target="PythonSensor",
                )
            )
            spec = OpSpec(ctx.use("PythonSensor"))
            spec.set("python_callable", _python_callable(ctx, task, "poke"))
            _sensor_common(spec, f, ctx)
            return spec
    if cls == "FileSensor" and isinstance(target, str) and "://" in target:
        scheme = target.split("://", 1)[0].lower()
        remote = _remote_file_sensor(ctx, task, scheme, target)
        if remote is not None:
            cls, target = remote
        elif scheme != "file":
            ctx.add(
                loss(
                    "BA126",
                    f"FileSensor checks the worker's local file system, but {target!r} is on "
                    f"{scheme}://: it never succeeds unless that path is mounted locally "
                    "(a provider sensor for that file system would be faithful)",
                    task=task,
                    target="FileSensor",
                )
            )
    kw = SENSOR_TARGET_KWARG[cls]
    if kw and target is not None:
        if cls in ("TimeSensor", "DateTimeSensor") and isinstance(target, str):
            target = _moment(ctx, task, cls, target)
            if target is None:
                why = f"target_time `{f['target']}` reads names wfconv cannot write"
                return placeholder(ctx, task, cls, why)
        target = _duration(ctx, kw, target)
    spec = OpSpec(ctx.use(cls))
    if kw and target is not None:
        spec.set(kw, target)
    if cls == "PythonSensor":
        spec.set("python_callable", _python_callable(ctx, task, "poke"))
    if cls == "S3KeySensor" and isinstance(target, str) and any(c in target for c in "*?["):
        spec.set("wildcard_match", True)
    _sensor_common(spec, f, ctx)
    return spec


def _moment(ctx: Ctx, task: Task, cls: str, text: str) -> Any:
    """``target_time=`` of a TimeSensor (a ``datetime.time``) or DateTimeSensor
    (a datetime, or text Airflow renders and parses when the sensor runs):
    the IR's ISO text as that value, a template as is, or the source's own
    expression where the source computed it (``datetime.datetime.now(...)``:
    the IR keeps its text, AF104) and it reads only the ``datetime`` and
    ``pendulum`` modules the DAG file imports. None: no value Airflow takes."""
    if cls == "TimeSensor" and _time_of_day(text) is not None:
        ctx.needs_datetime = True
        return Code(_time_of_day(text))
    if cls == "DateTimeSensor" and ("{{" in text or _iso_datetime(text)):
        return text
    modules = _module_names_read(text)
    if modules is None:
        return None
    ctx.needs_datetime |= "datetime" in modules
    ctx.needs_pendulum |= "pendulum" in modules
    ctx.add(
        loss(
            "BA131",
            f"target_time is the source's expression `{text}`: Airflow evaluates it "
            "each time it parses the file, as it did the source's",
            task=task,
            severity="info",
            target=cls,
        )
    )
    return Code(text)


# What an expression kept from the source may read: these attributes of the
# modules a DAG file imports as ``import datetime`` / ``import pendulum``. A
# source that bound the name otherwise (``from datetime import datetime``)
# spells ``datetime.now()``, which is refused rather than misread.
_READABLE_MODULES = {
    "datetime": {"datetime", "date", "time", "timedelta", "timezone", "UTC"},
    "pendulum": {"now", "today", "yesterday", "tomorrow", "datetime", "date", "time"}
    | {"duration", "timezone", "UTC", "parse"},
}


def _module_names_read(text: str) -> set[str] | None:
    """The modules of ``_READABLE_MODULES`` a Python expression reads, or None
    when it reads any other name (or is no expression)."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            return None
        if isinstance(node, ast.Name):
            parent = parents.get(id(node))
            allowed = _READABLE_MODULES.get(node.id, set())
            if not (isinstance(parent, ast.Attribute) and parent.attr in allowed):
                return None
            used.add(node.id)
        elif isinstance(node, (ast.Lambda, ast.NamedExpr, ast.comprehension)):
            return None
    return used


def _iso_datetime(text: str) -> bool:
    try:
        _dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _time_of_day(text: str) -> str | None:
    """``datetime.time(6, 30)`` for the IR's ``"06:30:00"``: TimeSensor takes
    a time, not its text."""
    try:
        t = _dt.time.fromisoformat(text)
    except ValueError:
        return None
    parts = [t.hour, t.minute, t.second, t.microsecond]
    while len(parts) > 2 and not parts[-1]:
        parts.pop()
    return f"datetime.time({', '.join(map(str, parts))})"


def _remote_file_sensor(ctx: Ctx, task: Task, scheme: str, url: str) -> tuple[str, str] | None:
    """A file sensor on HDFS or S3 (an Oozie dataset, a FileSensor given a URL):
    the provider sensor that checks that file system, and its target argument.
    FileSensor would look for the URL on the worker's disk and never succeed."""
    if scheme in ("hdfs", "webhdfs"):
        rest = url.split("://", 1)[1]
        authority, _, path = rest.partition("/")
        ctx.add(
            loss(
                "BA128",
                f"{url!r} waits with WebHdfsSensor (apache-airflow-providers-apache-hdfs) on "
                f"connection webhdfs_default, which must point at the name node {authority or '(default)'}",
                task=task,
                severity="info",
                target="WebHdfsSensor",
            )
        )
        return "WebHdfsSensor", "/" + path
    if scheme in ("s3", "s3a", "s3n"):
        ctx.add(
            loss(
                "BA128",
                f"{url!r} waits with S3KeySensor (apache-airflow-providers-amazon) on "
                "connection aws_default",
                task=task,
                severity="info",
                target="S3KeySensor",
            )
        )
        return "S3KeySensor", "s3://" + url.split("://", 1)[1]
    return None


# Sensor arguments Airflow wants as timedelta; the IR keeps them in seconds.
_TIMEDELTA_KWARGS = {"delta", "execution_delta", "max_wait"}


def _duration(ctx: Ctx, name: str, value: Any) -> Any:
    if (
        name in _TIMEDELTA_KWARGS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return seconds(ctx, value)
    return value


def _sensor_common(spec: OpSpec, f: dict[str, Any], ctx: Ctx) -> None:
    if f.get("poke_interval_s") is not None:
        spec.set("poke_interval", compact_number(float(f["poke_interval_s"])))
    if f.get("timeout_s") is not None:
        spec.set("timeout", compact_number(float(f["timeout_s"])))
    if f.get("mode"):
        spec.set("mode", str(f["mode"]))
    if f.get("soft_fail") is not None:
        spec.set("soft_fail", bool(f["soft_fail"]))
    taken = {k for k, _ in spec.kwargs} | {"task_id"}
    for k, v in (f.get("args") or {}).items():
        if isinstance(k, str) and k.isidentifier() and k not in taken:
            spec.set(k, _duration(ctx, k, v))


def _email(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    spec = OpSpec(ctx.use("EmailOperator"))
    spec.set("to", f.get("to") or [])
    for key in ("cc", "bcc"):
        if f.get(key):
            spec.set(key, f[key])
    spec.set("subject", str(f.get("subject") or ""))
    spec.set("html_content", str(f.get("body") or ""))
    return spec


def _sql(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    op = f.get("operator")
    if op and op != "SQLExecuteQueryOperator":
        ctx.add(
            loss(
                "BA117",
                f"{op} is emitted as SQLExecuteQueryOperator",
                task=task,
                severity="info",
                target="SQLExecuteQueryOperator",
            )
        )
    spec = OpSpec(ctx.use("SQLExecuteQueryOperator"))
    spec.set("sql", f.get("sql") or "")
    if f.get("conn_id"):
        spec.set("conn_id", str(f["conn_id"]))
    return spec


def _container(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    ctx.add(
        loss(
            "BA118",
            "container emitted as KubernetesPodOperator (needs the cncf.kubernetes provider)",
            task=task,
            severity="info",
            target="KubernetesPodOperator",
        )
    )
    spec = OpSpec(ctx.use("KubernetesPodOperator"))
    spec.set("name", task.id)
    spec.set("image", str(f.get("image") or ""))
    if f.get("cmds"):
        spec.set("cmds", list(f["cmds"]))
    if f.get("arguments"):
        spec.set("arguments", list(f["arguments"]))
    if f.get("namespace"):
        spec.set("namespace", str(f["namespace"]))
    if env_mapping(f):
        spec.set("env_vars", dict(env_mapping(f)))
    return spec


def _subworkflow(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    dag_id = f.get("workflow")
    if not dag_id:
        app = str(f.get("app_path") or task.id).rstrip("/")
        dag_id = file_stem(posixpath.basename(app) or task.id)
        ctx.add(
            loss(
                "BA108",
                f"the called workflow is not in the bundle; trigger_dag_id {dag_id!r} "
                f"derived from {app!r}",
                task=task,
                target="TriggerDagRunOperator",
            )
        )
    spec = OpSpec(ctx.use("TriggerDagRunOperator"))
    spec.set("trigger_dag_id", airflow_keys([str(dag_id)])[str(dag_id)])  # as that DAG is emitted
    conf = dict(f.get("conf") or {})
    if f.get("propagate_configuration") and ctx.workflow.params:
        # Oozie passes the parent's configuration to the child: here, every
        # parameter of this run (conf is a templated field).
        inherited = {k: "{{ params[" + json.dumps(k) + "] }}" for k in ctx.workflow.params}
        conf = {**inherited, **conf}
        ctx.add(
            loss(
                "BA122",
                "propagate_configuration: this run's params are passed in conf",
                task=task,
                severity="info",
                target="TriggerDagRunOperator(conf=...)",
            )
        )
    if conf:
        spec.set("conf", conf)
    wait = f.get("wait_for_completion")
    spec.set("wait_for_completion", True if wait is None else bool(wait))
    for key, value in _trigger_options(task).items():
        spec.set(key, value)
    return spec


# TriggerDagRunOperator arguments both targets take (Airflow 2.10 and 3),
# kept from an Airflow source as it gave them; Airflow 2's execution_date is
# logical_date in both.
_TRIGGER_OPTIONS = (
    "trigger_run_id",
    "logical_date",
    "reset_dag_run",
    "poke_interval",
    "allowed_states",
    "failed_states",
    "skip_when_already_exists",
    "deferrable",
)


def _trigger_options(task: Task) -> dict:
    """The TriggerDagRunOperator arguments an Airflow source gave beside the
    ones the IR holds (when the child run is dated, how its end is awaited)."""
    info = task.extra.get("airflow") if isinstance(task.extra, dict) else None
    if not isinstance(info, dict) or info.get("operator") != "TriggerDagRunOperator":
        return {}
    kwargs = info.get("kwargs")
    if not isinstance(kwargs, dict):
        return {}
    kwargs = dict(kwargs)
    if "execution_date" in kwargs:
        kwargs.setdefault("logical_date", kwargs.pop("execution_date"))
    return {k: kwargs[k] for k in _TRIGGER_OPTIONS if k in kwargs}


def _fail(ctx: Ctx, task: Task) -> OpSpec:
    ctx.add(
        loss(
            "BA125",
            "fail/kill: a task raising AirflowFailException fails the run, but tasks already "
            "running are not stopped (Oozie's KILLED becomes failed)",
            task=task,
            target="AirflowFailException",
        )
    )
    ctx.helpers.add("fail")
    ctx.use("AirflowFailException")
    spec = OpSpec(ctx.use("PythonOperator"))
    spec.set("python_callable", Code("wfconv_fail"))
    spec.set("op_args", [str(task.action.get("message") or f"{task.id} failed the run")])
    return spec


def _hadoop(ctx: Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    engine = str(f.get("engine") or "")
    args = [str(a) for a in f.get("args") or []]
    props = f.get("properties") or {}
    # A provider operator only where it holds every field; otherwise the exact
    # command line the Oozie/Hadoop gateway would run.
    plain = set(f) <= {"engine", "script", "args", "properties", "operator"}
    if engine in HADOOP_OPERATORS and f.get("script") and plain:
        cls, script_kw, args_kw, props_kw = HADOOP_OPERATORS[engine]
        dropped = []
        spec = OpSpec(ctx.use(cls))
        spec.set(script_kw, str(f["script"]))
        if args:
            if args_kw:
                spec.set(args_kw, args)
            else:
                dropped.append("args")
        if props:
            if props_kw:
                spec.set(props_kw, {str(k): str(v) for k, v in props.items()})
            else:
                dropped.append("properties")
        if not dropped:
            ctx.add(
                loss(
                    "BA104",
                    f"{engine} action emitted as {cls}",
                    task=task,
                    severity="info",
                    target=cls,
                )
            )
            return spec
    command = hadoop_command(f)
    ctx.add(
        loss(
            "BA105",
            f"{engine or 'hadoop'} action emitted as a BashOperator running {command!r} "
            "(needs the Hadoop client tools on the worker)",
            task=task,
            target="BashOperator",
        )
    )
    spec = OpSpec(ctx.use("BashOperator"))
    spec.set("bash_command", command)
    return spec


def _external(ctx: Ctx, task: Task) -> OpSpec:
    out = task.action.get("output")
    if out:
        ctx.add(
            loss(
                "BA107",
                "external data: a FileSensor waits for it (Luigi would not wait, it fails the "
                "dependency when the data is missing)",
                task=task,
                target="FileSensor",
            )
        )
        spec = OpSpec(ctx.use("FileSensor"))
        spec.set("filepath", str(out))
        return spec
    ctx.add(
        loss(
            "BA107",
            "external task without an output: emitted as EmptyOperator",
            task=task,
            target="EmptyOperator",
        )
    )
    return OpSpec(ctx.use("EmptyOperator"))


# Core import paths Airflow 3 moved: an operator imported from there is not
# re-emitted as is for Airflow 3 (the frontend reports the move, AF203).
_MOVED_IN_3 = ("airflow.operators.", "airflow.sensors.", "airflow.contrib.")


def _original_operator(ctx: Ctx, task: Task) -> OpSpec | None:
    """Airflow source -> Airflow target: the operator class the frontend did
    not know, imported from where the source imported it, with the literal
    arguments it read (nothing is approximated but the import path's future)."""
    info = task.extra.get("airflow") if isinstance(task.extra, dict) else None
    cls = task.action.get("type")
    args = task.action.get("args")
    module = info.get("module") if isinstance(info, dict) else None
    if not (is_dotted_name(module) and is_dotted_name(cls) and "." not in cls):
        return None
    if not isinstance(args, dict) or not all(isinstance(k, str) and k.isidentifier() for k in args):
        return None
    if ctx.version >= 3 and str(module).startswith(_MOVED_IN_3):
        return None
    key = (str(module), str(cls))
    if key not in ctx.callables:
        ctx.callables[key] = len(ctx.callables)
    spec = OpSpec(f"<callable:{ctx.callables[key]}>")
    for k, v in args.items():
        if k not in ("task_id", "dag"):
            spec.set(k, v)
    ctx.add(
        loss(
            "BA123",
            f"{cls} re-emitted from {module} with the literal arguments the source gave",
            task=task,
            severity="info",
            target=str(cls),
        )
    )
    return spec


def opaque(ctx: Ctx, task: Task) -> OpSpec:
    original = _original_operator(ctx, task)
    if original is not None:
        return original
    return placeholder(ctx, task, str(task.action.get("type") or task.action.kind))


def placeholder(ctx: Ctx, task: Task, kind: str, why: str = "has no Airflow equivalent") -> OpSpec:
    """The BashOperator that fails, naming what wfconv could not write."""
    message = f"wfconv: {kind} (task {task.id}) {why}; replace this placeholder"
    ctx.add(
        loss(
            "BA105",
            f"{kind} {why}: emitted as a BashOperator placeholder that fails",
            task=task,
            target="BashOperator",
        )
    )
    spec = OpSpec(ctx.use("BashOperator"), placeholder=True)
    spec.set("bash_command", f"echo {shlex.quote(message)} >&2; exit 1")
    return spec


BUILDERS = {
    "shell": _shell,
    "python": _python,
    "empty": _empty,
    "branch": _branch,
    "sensor": _sensor,
    "email": _email,
    "sql": _sql,
    "container": _container,
    "subworkflow": _subworkflow,
    "fail": _fail,
    "hadoop": _hadoop,
    "external": _external,
    "opaque": opaque,
}


# --- task-level settings ---------------------------------------------------------


def task_settings(ctx: Ctx, task: Task, spec: OpSpec) -> None:
    if task.owner and task.owner != ctx.shared_owner:
        spec.set("owner", task.owner)
    if task.retries:
        spec.set("retries", int(task.retries))
    # Without retries the delay and backoff mean nothing: not written.
    delay = task.retry_delay_s if task.retries else None
    if isinstance(delay, list):
        delays = retry_delays(task, AIRFLOW_DEFAULT_RETRY_DELAY_S) or [float(d) for d in delay]
        first = delays[0] if delays else AIRFLOW_DEFAULT_RETRY_DELAY_S
        doubling = all(b == a * 2 for a, b in itertools.pairwise(delays))
        if len(set(delays)) > 1 and not doubling:
            ctx.add(
                loss(
                    "BA110",
                    f"per-attempt delays {delays} become one retry_delay of {compact_number(first)} s",
                    task=task,
                    target="retry_delay",
                )
            )
        if delays:
            spec.set("retry_delay", seconds(ctx, first))
            if len(set(delays)) > 1 and doubling:
                spec.set("retry_exponential_backoff", True)
                spec.set("max_retry_delay", seconds(ctx, max(delays)))
    elif delay is not None and float(delay) != AIRFLOW_DEFAULT_RETRY_DELAY_S:
        spec.set("retry_delay", seconds(ctx, delay))
    if task.retries and task.retry_backoff == "exponential" and not isinstance(delay, list):
        spec.set("retry_exponential_backoff", True)
        if task.max_retry_delay_s is not None:
            spec.set("max_retry_delay", seconds(ctx, task.max_retry_delay_s))
    if task.timeout_s is not None:
        spec.set("execution_timeout", seconds(ctx, task.timeout_s))
    rule = task.trigger_rule
    if rule == "all_done_min_one_success":
        if ctx.version >= 3:
            ctx.add(
                loss(
                    "BA124",
                    "trigger rule all_done_min_one_success needs Airflow 3.1 or later",
                    task=task,
                    severity="info",
                    target="trigger_rule",
                )
            )
        else:
            rule = "all_done"
            ctx.add(
                loss(
                    "BA124",
                    "Airflow 2 has no all_done_min_one_success: all_done runs the task even "
                    "when no upstream task succeeded",
                    task=task,
                    target="trigger_rule",
                )
            )
    if task.role is not None and ctx.version < 3:
        ctx.add(
            loss(
                "BA127",
                f"{task.role} task: setup/teardown needs Airflow 2.7 or later",
                task=task,
                severity="info",
                target=f"as_{task.role}",
            )
        )
    # as_teardown() sets the teardown rule itself.
    if rule != "all_success" and not (task.role == "teardown" and rule == "all_done_setup_success"):
        spec.set("trigger_rule", rule)
    if task.depends_on_past:
        spec.set("depends_on_past", True)
    if task.pool:
        spec.set("pool", task.pool)
    if task.queue:
        spec.set("queue", task.queue)
    if task.outputs:
        ctx.use("Asset")
        cls = "Asset" if ctx.version >= 3 else "Dataset"
        spec.set("outlets", [Code(f"{cls}({py_literal(o)})") for o in task.outputs])
    if task.doc:
        spec.set("doc_md", task.doc)


def apply_mapping(ctx: Ctx, task: Task, spec: OpSpec) -> None:
    m = task.mapped
    if not m:
        return
    if spec.placeholder:
        ctx.add(
            loss(
                "BA109",
                "the placeholder takes none of the original operator's arguments: emitted "
                "unmapped (one placeholder run instead of one per mapped value)",
                task=task,
                target=".expand",
            )
        )
        return
    over = mapped_columns(m)
    if set(over) != set(m.get("over") or {}):
        m = {**m, "kind": "zip"}  # expand_kwargs rows: one mapped run per row
    python_like = spec.cls in (
        "PythonOperator",
        "BranchPythonOperator",
        "ShortCircuitOperator",
        "PythonSensor",
    )
    if python_like and len(over) == 1:
        ((key, value),) = over.items()
        ref = xcom_ref(value)
        if ref is not None and ref in ctx.workflow.task_ids():
            # Map over an upstream's output: XComArg.map() turns each element
            # into the op_kwargs of one mapped task (Airflow 2.4+ idiom).
            static = dict(dict(spec.kwargs).get("op_kwargs") or {})
            spec.kwargs = [(k, v) for k, v in spec.kwargs if k != "op_kwargs"]
            ctx.kwarg_maps.append((task.id, ref, key, static))
            spec.expand = [("op_kwargs", Code(f"<kwmap:{len(ctx.kwarg_maps) - 1}>"))]
            return
    if not over or not all(isinstance(v, list) for v in over.values()):
        ctx.add(
            loss(
                "BA109",
                "mapped over a value known only at run time: emitted unmapped",
                task=task,
                target="operator",
            )
        )
        return
    names = list(over)
    if m.get("kind") == "zip":
        rows = [dict(zip(names, vals, strict=False)) for vals in zip(*over.values(), strict=False)]
    else:
        rows = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*over.values())]
    if python_like:
        static = dict(dict(spec.kwargs).get("op_kwargs") or {})
        spec.kwargs = [(k, v) for k, v in spec.kwargs if k != "op_kwargs"]
        spec.expand = [("op_kwargs", [{**static, **r} for r in rows])]
        return
    field_to_kwarg = {"command": "bash_command"}
    if m.get("kind") == "zip" and len(names) > 1:
        spec.expand_kwargs = [{field_to_kwarg.get(k, k): v for k, v in r.items()} for r in rows]
    else:
        spec.expand = [(field_to_kwarg.get(k, k), v) for k, v in over.items()]
    mapped_kw = {field_to_kwarg.get(k, k) for k in names}
    spec.kwargs = [(k, v) for k, v in spec.kwargs if k not in mapped_kw]
    if (
        spec.cls == "BashOperator"
        and "env" in names
        and not task.action.fields.get("env_replace")
        and ("append_env", True) not in spec.kwargs
    ):
        # A mapped env is added to the inherited environment (see _shell).
        spec.set("append_env", True)
