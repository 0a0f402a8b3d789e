"""IR -> an Airflow DAG file (Airflow 3 by default, ``airflow_version=2`` for 2.4+).

The module is built from data: each action kind has a builder returning an
``OpSpec`` (operator class + keyword arguments as Python values or ``Code``);
the template ``airflow_dag.py.j2`` lays the specs out. Version differences are
import-path tables (``IMPORTS``), not branches in the builders. Original task
ids are kept as ``task_id=`` strings; variable names come from
``identifier_map``. What Airflow cannot say exactly goes through ``loss()``.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wfconv.backends import decisions as dec
from wfconv.backends.common import (
    AIRFLOW_DEFAULT_RETRY_DELAY_S,
    KNOWN_ACTION_FIELDS,
    Code,
    Emitted,
    GraphIndex,
    annotation_names,
    callable_imports_for,
    compact_number,
    env_mapping,
    file_stem,
    format_python,
    hadoop_command,
    identifier_map,
    import_block,
    is_dotted_name,
    local_functions,
    loss,
    luigi_task_class,
    mapped_columns,
    py_literal,
    py_str,
    render,
    retry_delays,
    schedule_period,
    shell_command,
    topo_order,
    xcom_ref,
)
from wfconv.backends.fstrings import airflow3_spelling
from wfconv.backends.inline import inline_subworkflows
from wfconv.backends.pycode import chain_lines, dependency_chains
from wfconv.errors import InputError
from wfconv.ir.model import DATA_INTERVAL, TRIGGER, Diagnostic, Group, Task, Workflow
from wfconv.runtime.schedule import CATCHUP_BY_DEFAULT, delta_cron, parse_datetime

TARGET = "airflow"

CODES: dict[str, str] = {
    "BA101": "python callable without a known module: a stub that raises is emitted",
    "BA102": "decision case with no Python translation over the params: left out, never matches",
    "BA103": "branch task without callable or cases: the chooser follows every downstream",
    "BA104": "hadoop action mapped to a provider operator that holds all its fields",
    "BA105": "hadoop/opaque action emitted as a BashOperator placeholder",
    "BA106": "unknown sensor: emitted as a PythonSensor stub or FileSensor on its target",
    "BA107": "Luigi ExternalTask: emitted as a FileSensor that waits (Luigi does not wait)",
    "BA108": "sub-workflow without a workflow id: trigger_dag_id derived from the app path",
    "BA109": "mapped task over a run-time value: emitted unmapped",
    "BA110": "per-attempt retry delays: Airflow has one delay (first delay used)",
    "BA111": "shell arguments appended to bash_command",
    "BA112": "bash_command ending in .sh/.bash: a trailing space is added (kept as a template file for Airflow sources)",
    "BA113": "action fields the Airflow backend does not know were dropped",
    "BA114": "data passed between tasks: emitted as ordering only",
    "BA115": "task group ids do not follow Airflow's prefix convention: prefix_group_id=False",
    "BA116": "TaskFlow decorator variant not kept (plain PythonOperator emitted)",
    "BA117": "SQL operator class replaced by SQLExecuteQueryOperator",
    "BA118": "container action emitted as KubernetesPodOperator",
    "BA119": "task or DAG id not valid in Airflow: invalid characters replaced by '_'",
    "BA120": "sub-workflow inlined as a TaskGroup: the child's own run (state, retries, conf) is lost",
    "BA121": "Luigi task: run() called from its module imported when the task runs (needs Luigi there)",
    "BA122": "sub-workflow with propagate_configuration: the run's params are passed in conf",
    "BA123": "operator unknown to wfconv re-emitted from the source's import with its literal arguments",
    "BA124": "trigger rule all_done_min_one_success: Airflow 3.1+ (all_done on Airflow 2)",
    "BA125": "fail/kill task raises AirflowFailException: running tasks are not stopped, KILLED becomes failed",
    "BA126": "FileSensor on a remote URL (gs://, ...): it checks the local file system",
    "BA128": "file sensor on hdfs:// or s3:// emitted as the provider's sensor (connection to set)",
    "BA127": "setup/teardown tasks need Airflow 2.7+ (the Airflow 2 target is 2.4+)",
    "BA201": "schedule timezone is unknown: UTC used",
    "BA202": "no longer emitted: the schedule's time model is written explicitly (BA207 where it cannot be)",
    "BA203": "scheduled workflow without start_date",
    "BA204": "date that is not ISO-8601: dropped",
    "BA205": "group without tasks dropped",
    "BA206": "dataset-or-time schedule needs Airflow 2.9+ (the Airflow 2 target is 2.4+)",
    "BA207": "trigger-model timedelta schedule on Airflow 2 (no DeltaTriggerTimetable): logical dates one interval early",
    "BA129": "template variables Airflow 3 removed written in Airflow 3's terms",
    "BA130": "removed template variable without an Airflow 3 spelling (no constant schedule period)",
}
# The time model a bare cron/timedelta means in each target version (docs/semantics.md R3).
BARE_MODEL = {2: DATA_INTERVAL, 3: TRIGGER}

# Class name -> (Airflow 3 module, Airflow 2 module). One table for every import.
IMPORTS: dict[str, tuple[str, str]] = {
    "DAG": ("airflow.sdk", "airflow"),
    "TaskGroup": ("airflow.sdk", "airflow.utils.task_group"),
    "Asset": ("airflow.sdk", "airflow.datasets"),
    "AssetOrTimeSchedule": ("airflow.sdk", "airflow.timetables.datasets"),
    "DatasetOrTimeSchedule": ("airflow.timetables.datasets", "airflow.timetables.datasets"),
    "CronTriggerTimetable": ("airflow.sdk", "airflow.timetables.trigger"),
    "DeltaTriggerTimetable": ("airflow.sdk", "airflow.timetables.trigger"),
    "CronDataIntervalTimetable": ("airflow.sdk", "airflow.timetables.interval"),
    "DeltaDataIntervalTimetable": ("airflow.sdk", "airflow.timetables.interval"),
    "BashOperator": ("airflow.providers.standard.operators.bash", "airflow.operators.bash"),
    "EmptyOperator": ("airflow.providers.standard.operators.empty", "airflow.operators.empty"),
    "PythonOperator": ("airflow.providers.standard.operators.python", "airflow.operators.python"),
    "BranchPythonOperator": (
        "airflow.providers.standard.operators.python",
        "airflow.operators.python",
    ),
    "ShortCircuitOperator": (
        "airflow.providers.standard.operators.python",
        "airflow.operators.python",
    ),
    "TriggerDagRunOperator": (
        "airflow.providers.standard.operators.trigger_dagrun",
        "airflow.operators.trigger_dagrun",
    ),
    "EmailOperator": ("airflow.providers.smtp.operators.smtp", "airflow.operators.email"),
    "SQLExecuteQueryOperator": (
        "airflow.providers.common.sql.operators.sql",
        "airflow.providers.common.sql.operators.sql",
    ),
    "KubernetesPodOperator": (
        "airflow.providers.cncf.kubernetes.operators.pod",
        "airflow.providers.cncf.kubernetes.operators.pod",
    ),
    "SparkSubmitOperator": (
        "airflow.providers.apache.spark.operators.spark_submit",
        "airflow.providers.apache.spark.operators.spark_submit",
    ),
    "HiveOperator": (
        "airflow.providers.apache.hive.operators.hive",
        "airflow.providers.apache.hive.operators.hive",
    ),
    "PigOperator": (
        "airflow.providers.apache.pig.operators.pig",
        "airflow.providers.apache.pig.operators.pig",
    ),
    "AirflowFailException": ("airflow.exceptions", "airflow.exceptions"),
    # sensors
    "FileSensor": ("airflow.providers.standard.sensors.filesystem", "airflow.sensors.filesystem"),
    "ExternalTaskSensor": (
        "airflow.providers.standard.sensors.external_task",
        "airflow.sensors.external_task",
    ),
    "TimeDeltaSensor": (
        "airflow.providers.standard.sensors.time_delta",
        "airflow.sensors.time_delta",
    ),
    "DateTimeSensor": ("airflow.providers.standard.sensors.date_time", "airflow.sensors.date_time"),
    "TimeSensor": ("airflow.providers.standard.sensors.time", "airflow.sensors.time_sensor"),
    "BashSensor": ("airflow.providers.standard.sensors.bash", "airflow.sensors.bash"),
    "PythonSensor": ("airflow.providers.standard.sensors.python", "airflow.sensors.python"),
    "HttpSensor": ("airflow.providers.http.sensors.http", "airflow.providers.http.sensors.http"),
    "S3KeySensor": (
        "airflow.providers.amazon.aws.sensors.s3",
        "airflow.providers.amazon.aws.sensors.s3",
    ),
    "SqlSensor": (
        "airflow.providers.common.sql.sensors.sql",
        "airflow.providers.common.sql.sensors.sql",
    ),
    "GCSObjectExistenceSensor": (
        "airflow.providers.google.cloud.sensors.gcs",
        "airflow.providers.google.cloud.sensors.gcs",
    ),
    "HdfsSensor": (
        "airflow.providers.apache.hdfs.sensors.hdfs",
        "airflow.providers.apache.hdfs.sensors.hdfs",
    ),
    "WebHdfsSensor": (
        "airflow.providers.apache.hdfs.sensors.web_hdfs",
        "airflow.providers.apache.hdfs.sensors.web_hdfs",
    ),
}

# Known sensors: the keyword that receives the IR ``target``.
SENSOR_TARGET_KWARG: dict[str, str | None] = {
    "FileSensor": "filepath",
    "ExternalTaskSensor": "external_dag_id",
    "TimeDeltaSensor": "delta",
    "DateTimeSensor": "target_time",
    "TimeSensor": "target_time",
    "BashSensor": "bash_command",
    "PythonSensor": None,
    "HttpSensor": "endpoint",
    "S3KeySensor": "bucket_key",
    "SqlSensor": "sql",
    "GCSObjectExistenceSensor": "object",
    "HdfsSensor": "filepath",
    "WebHdfsSensor": "filepath",
}

# Hadoop engines with a provider operator: class and how IR fields map.
_HADOOP_OPERATORS: dict[str, tuple[str, str, str | None, str | None]] = {
    # engine: (class, script kwarg, args kwarg, properties kwarg)
    "spark": ("SparkSubmitOperator", "application", "application_args", "conf"),
    "hive": ("HiveOperator", "hql", None, "hiveconfs"),
    "hive2": ("HiveOperator", "hql", None, "hiveconfs"),
    "pig": ("PigOperator", "pig", None, None),
}


# Names the generated module defines itself; task variables avoid them.
_MODULE_NAMES = (
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

    def set(self, name: str, value: Any) -> None:
        self.kwargs.append((name, value))


@dataclass
class _Ctx:
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


def _seconds(ctx: _Ctx, s: float) -> Code:
    ctx.needs_datetime = True
    return Code(f"datetime.timedelta(seconds={compact_number(float(s))!r})")


def _is_dotted(name: Any) -> bool:
    return is_dotted_name(name)


def _python_callable(ctx: _Ctx, task: Task, what: str = "callable") -> Code:
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


def _shell(ctx: _Ctx, task: Task) -> OpSpec:
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


def _python(ctx: _Ctx, task: Task) -> OpSpec:
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
        module, cls, params = luigi
        ctx.helpers.add("luigi")
        spec.set("python_callable", Code("wfconv_luigi_run"))
        spec.set("op_args", [module, cls, params])
        ctx.add(
            loss(
                "BA121",
                f"runs {cls}(...).run() of module {module} when its outputs do not exist: Luigi "
                "and that module must be importable on the workers when the task runs (the DAG "
                "loads without them); its run() is not converted",
                task=task,
                target="PythonOperator",
            )
        )
        return spec
    spec.set("python_callable", _python_callable(ctx, task))
    if f.get("op_args"):
        spec.set("op_args", list(f["op_args"]))
    if f.get("op_kwargs"):
        spec.set("op_kwargs", dict(f["op_kwargs"]))
    return spec


def _empty(ctx: _Ctx, task: Task) -> OpSpec:
    return OpSpec(ctx.use("EmptyOperator"))


def _branch(ctx: _Ctx, task: Task) -> OpSpec:
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


def _decision(ctx: _Ctx, task: Task) -> OpSpec:
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


def _sensor(ctx: _Ctx, task: Task) -> OpSpec:
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
    spec = OpSpec(ctx.use(cls))
    kw = SENSOR_TARGET_KWARG[cls]
    if cls == "TimeSensor" and isinstance(target, str) and _time_of_day(target) is not None:
        ctx.needs_datetime = True
        spec.set(kw, Code(_time_of_day(target)))
    elif kw and target is not None:
        spec.set(kw, _duration(ctx, kw, target))
    if cls == "PythonSensor":
        spec.set("python_callable", _python_callable(ctx, task, "poke"))
    if cls == "S3KeySensor" and isinstance(target, str) and any(c in target for c in "*?["):
        spec.set("wildcard_match", True)
    _sensor_common(spec, f, ctx)
    return spec


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


def _remote_file_sensor(ctx: _Ctx, task: Task, scheme: str, url: str) -> tuple[str, str] | None:
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


def _duration(ctx: _Ctx, name: str, value: Any) -> Any:
    if (
        name in _TIMEDELTA_KWARGS
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return _seconds(ctx, value)
    return value


def _sensor_common(spec: OpSpec, f: dict[str, Any], ctx: _Ctx) -> None:
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


def _email(ctx: _Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    spec = OpSpec(ctx.use("EmailOperator"))
    spec.set("to", f.get("to") or [])
    for key in ("cc", "bcc"):
        if f.get(key):
            spec.set(key, f[key])
    spec.set("subject", str(f.get("subject") or ""))
    spec.set("html_content", str(f.get("body") or ""))
    return spec


def _sql(ctx: _Ctx, task: Task) -> OpSpec:
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


def _container(ctx: _Ctx, task: Task) -> OpSpec:
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


def _subworkflow(ctx: _Ctx, task: Task) -> OpSpec:
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
    return spec


def _fail(ctx: _Ctx, task: Task) -> OpSpec:
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


def _hadoop(ctx: _Ctx, task: Task) -> OpSpec:
    f = task.action.fields
    engine = str(f.get("engine") or "")
    args = [str(a) for a in f.get("args") or []]
    props = f.get("properties") or {}
    # A provider operator only where it holds every field; otherwise the exact
    # command line the Oozie/Hadoop gateway would run.
    plain = set(f) <= {"engine", "script", "args", "properties", "operator"}
    if engine in _HADOOP_OPERATORS and f.get("script") and plain:
        cls, script_kw, args_kw, props_kw = _HADOOP_OPERATORS[engine]
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


def _external(ctx: _Ctx, task: Task) -> OpSpec:
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


def _original_operator(ctx: _Ctx, task: Task) -> OpSpec | None:
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


def _opaque(ctx: _Ctx, task: Task) -> OpSpec:
    original = _original_operator(ctx, task)
    if original is not None:
        return original
    kind = str(task.action.get("type") or task.action.kind)
    message = f"wfconv: {kind} (task {task.id}) has no Airflow equivalent; replace this placeholder"
    ctx.add(
        loss(
            "BA105",
            f"{kind} emitted as a BashOperator placeholder that fails",
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
    "opaque": _opaque,
}


# --- task-level settings ---------------------------------------------------------


def _task_settings(ctx: _Ctx, task: Task, spec: OpSpec) -> None:
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
            spec.set("retry_delay", _seconds(ctx, first))
            if len(set(delays)) > 1 and doubling:
                spec.set("retry_exponential_backoff", True)
                spec.set("max_retry_delay", _seconds(ctx, max(delays)))
    elif delay is not None and float(delay) != AIRFLOW_DEFAULT_RETRY_DELAY_S:
        spec.set("retry_delay", _seconds(ctx, delay))
    if task.retries and task.retry_backoff == "exponential" and not isinstance(delay, list):
        spec.set("retry_exponential_backoff", True)
        if task.max_retry_delay_s is not None:
            spec.set("max_retry_delay", _seconds(ctx, task.max_retry_delay_s))
    if task.timeout_s is not None:
        spec.set("execution_timeout", _seconds(ctx, task.timeout_s))
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
        spec.set("outlets", Code("[" + ", ".join(f"{cls}({_lit(o)})" for o in task.outputs) + "]"))
    if task.doc:
        spec.set("doc_md", task.doc)


def _lit(value: Any) -> str:
    return py_literal(value)


def _apply_mapping(ctx: _Ctx, task: Task, spec: OpSpec) -> None:
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


# --- workflow-level --------------------------------------------------------------


def _tz(ctx: _Ctx) -> str:
    tz = ctx.workflow.schedule.timezone or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        ctx.add(
            loss(
                "BA201",
                f"timezone {tz!r} is unknown; UTC used",
                source=ctx.workflow,
                target="start_date",
            )
        )
        return "UTC"
    return tz


def _shifted(ctx: _Ctx, text: str | None) -> str | None:
    """A source date, moved back one interval when data intervals stand in
    for trigger ticks (BA207): the run for [T - d, T] starts at the source's
    tick T and exists while T - d is at or before the end date."""
    if not text or not ctx.shift_s:
        return text
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return (moment - _dt.timedelta(seconds=ctx.shift_s)).isoformat()


def _date(ctx: _Ctx, text: str | None, what: str) -> Code | None:
    if not text:
        return None
    try:
        value = _dt.datetime.fromisoformat(str(text))
    except ValueError:
        ctx.add(
            loss(
                "BA204",
                f"{what} {text!r} is not ISO-8601; dropped",
                source=ctx.workflow,
                target=what,
            )
        )
        return None
    tz = _tz(ctx)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    local = value.astimezone(ZoneInfo(tz))
    parts = [
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
    ]
    while len(parts) > 3 and parts[-1] == 0:
        parts.pop()
    ctx.needs_pendulum = True
    return Code(f"pendulum.datetime({', '.join(str(p) for p in parts)}, tz={_lit(tz)})")


def _schedule(ctx: _Ctx) -> Any:
    s = ctx.workflow.schedule
    if s.kind in ("cron", "interval") and s.datasets and (s.cron or s.seconds):
        return _or_time_schedule(ctx, s)
    if (s.kind == "cron" and s.cron) or (s.kind == "interval" and s.seconds):
        return _time_schedule(ctx, s, bare_ok=True)
    if s.kind == "once":
        return "@once"
    if s.kind in ("datasets", "assets") and s.datasets:
        ctx.use("Asset")
        cls = "Asset" if ctx.version >= 3 else "Dataset"
        return Code("[" + ", ".join(f"{cls}({_lit(d)})" for d in s.datasets) + "]")
    return None


def _time_schedule(ctx: _Ctx, s: Any, bare_ok: bool) -> Any:
    """The construct that starts each run when the source does and shows it
    the same logical date and data interval (docs/semantics.md R3): a bare
    cron/timedelta where the target version gives it the source's time
    model, else the timetable that says it (``bare_ok=False``: always the
    timetable)."""
    model = s.time_model
    tz = _lit(s.timezone or "UTC")
    interval = f", interval={_seconds(ctx, s.interval_s)}" if s.interval_s else ""
    # A bare value means a data interval in Airflow 2 and a trigger in 3; a
    # bare cron takes the DAG's timezone, which is start_date's.
    bare = (
        bare_ok
        and not interval
        and BARE_MODEL[ctx.version] == model
        and (s.kind == "interval" or (s.timezone or "UTC") == "UTC" or ctx.workflow.start_date)
    )
    if bare:
        return s.cron if s.kind == "cron" else _seconds(ctx, s.seconds)
    if model == DATA_INTERVAL:
        if s.kind == "cron":
            return Code(f"{ctx.use('CronDataIntervalTimetable')}({_lit(s.cron)}, timezone={tz})")
        return Code(f"{ctx.use('DeltaDataIntervalTimetable')}({_seconds(ctx, s.seconds)})")
    if s.kind == "cron":
        return Code(f"{ctx.use('CronTriggerTimetable')}({_lit(s.cron)}, timezone={tz}{interval})")
    if ctx.version >= 3:
        delta = _seconds(ctx, s.seconds)
        return Code(f"{ctx.use('DeltaTriggerTimetable')}({delta}{interval})")
    # Airflow 2 has no DeltaTriggerTimetable: the same ticks as a cron, else
    # data intervals ending at the ticks (start_date moves back, _start_date).
    start = None
    if ctx.workflow.start_date:
        try:
            start = parse_datetime(ctx.workflow.start_date, s.timezone or "UTC")
        except InputError:
            pass
    cron = delta_cron(float(s.seconds), start) if start is not None else None
    if cron is not None:
        trigger = ctx.use("CronTriggerTimetable")
        return Code(f"{trigger}({_lit(cron)}, timezone={_lit('UTC')}{interval})")
    ctx.shift_s = float(s.seconds)
    if float(s.interval_s or 0) != float(s.seconds):  # else the same dates, exactly
        ctx.add(
            loss(
                "BA207",
                "Airflow 2 has no DeltaTriggerTimetable: a timedelta data interval ending at "
                "each tick starts the same runs, but their logical_date/ds/data_interval_start "
                "are one interval earlier than the source's",
                source=ctx.workflow,
                target="schedule=timedelta",
            )
        )
    return _seconds(ctx, s.seconds)


def _or_time_schedule(ctx: _Ctx, s: Any) -> Code:
    """A time schedule that also runs on dataset/asset updates: Airflow 3's
    AssetOrTimeSchedule (2.9+: DatasetOrTimeSchedule) over the timetable of
    the schedule's time model."""
    v3 = ctx.version >= 3
    timetable = _time_schedule(ctx, s, bare_ok=False)
    ctx.use("Asset")
    asset = "Asset" if v3 else "Dataset"
    events = "[" + ", ".join(f"{asset}({_lit(d)})" for d in s.datasets) + "]"
    if v3:
        return Code(f"{ctx.use('AssetOrTimeSchedule')}(timetable={timetable}, assets={events})")
    ctx.add(
        loss(
            "BA206",
            "DatasetOrTimeSchedule needs Airflow 2.9 or later",
            source=ctx.workflow,
            severity="info",
            target="DatasetOrTimeSchedule",
        )
    )
    return Code(f"{ctx.use('DatasetOrTimeSchedule')}(timetable={timetable}, datasets={events})")


def _catchup(ctx: _Ctx) -> bool | None:
    """``catchup=`` to write: the source's, or its engine's default when the
    target version's default differs (Airflow 2: on, Airflow 3: off)."""
    w = ctx.workflow
    if w.catchup is not None:
        return bool(w.catchup)
    if w.schedule.kind not in ("cron", "interval") or not w.start_date:
        return None  # Airflow refuses catchup=True without a start_date
    meant = CATCHUP_BY_DEFAULT[w.schedule.time_model]
    return meant if meant != CATCHUP_BY_DEFAULT[BARE_MODEL[ctx.version]] else None


def _dag_kwargs(ctx: _Ctx) -> list[tuple[str, Any]]:
    w = ctx.workflow
    dag_id = airflow_keys([w.id])[w.id]
    if dag_id != w.id:
        ctx.add(
            loss(
                "BA119",
                f"Airflow DAG ids allow only letters, digits, '_', '.', '-': {w.id!r} emitted as {dag_id!r}",
                source=w,
                target="dag_id",
            )
        )
    kw: list[tuple[str, Any]] = [("dag_id", dag_id)]
    if w.description:
        kw.append(("description", w.description))
    kw.append(("schedule", _schedule(ctx)))
    start = _date(ctx, _shifted(ctx, w.start_date), "start_date")
    if start is not None:
        kw.append(("start_date", start))
    elif w.schedule.kind not in ("manual", "once", "datasets", "assets"):
        ctx.add(
            loss(
                "BA203",
                "scheduled workflow without start_date: Airflow needs one to schedule runs",
                source=w,
                target="DAG(start_date=...)",
            )
        )
    end = _date(ctx, _shifted(ctx, w.end_date), "end_date")
    if end is not None:
        kw.append(("end_date", end))
    catchup = _catchup(ctx)
    if catchup is not None:
        kw.append(("catchup", catchup))
    if w.max_active_runs is not None:
        kw.append(("max_active_runs", int(w.max_active_runs)))
    if w.timeout_s is not None:
        kw.append(("dagrun_timeout", _seconds(ctx, w.timeout_s)))
    if w.params:
        kw.append(("params", dict(w.params)))
    if ctx.shared_owner:
        kw.append(("default_args", {"owner": ctx.shared_owner}))
    if w.tags:
        kw.append(("tags", list(w.tags)))
    return kw


# --- layout ----------------------------------------------------------------------


def _group_labels(w: Workflow, keys: dict[str, str]) -> tuple[dict[str, str], dict[str, str], bool]:
    """(group id -> TaskGroup group_id, task id -> task_id, prefix?)

    When every id follows Airflow's prefix convention (child ``g.x`` in group
    ``g``, nested group ``g.h`` under ``g``), short labels are emitted and
    Airflow rebuilds the same ids; otherwise ``prefix_group_id=False`` keeps
    every (Airflow-valid, see ``airflow_keys``) id verbatim. Group keys may not
    hold dots or other non-word characters: those become ``_``."""
    groups = {g.id: g for g in w.groups}
    ok = True
    for g in w.groups:
        if g.parent and not g.id.startswith(g.parent + "."):
            ok = False
        if not g.parent and "." in g.id:
            ok = False
    for t in w.tasks:
        if t.group and (t.group not in groups or not keys[t.id].startswith(t.group + ".")):
            ok = False
    glabel: dict[str, str] = {}
    tlabel: dict[str, str] = {}
    for g in w.groups:
        label = g.id[len(g.parent) + 1 :] if ok and g.parent else g.id
        glabel[g.id] = re.sub(r"[^\w-]", "_", label) or "group"
        if glabel[g.id] != label:
            ok = False
    for t in w.tasks:
        key = keys[t.id]
        tlabel[t.id] = key[len(t.group) + 1 :] if ok and t.group else key
    if not ok:  # a relabelled group breaks the prefix scheme: keep full ids
        glabel = {g.id: re.sub(r"[^\w-]", "_", g.id) or "group" for g in w.groups}
        tlabel = {t.id: keys[t.id] for t in w.tasks}
    return glabel, tlabel, ok


def _xcom_refs(value: Any) -> list[str]:
    if isinstance(value, list):
        return [r for v in value for r in _xcom_refs(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _xcom_refs(v)]
    ref = xcom_ref(value)
    return [ref] if ref else []


def _airflow3_templates(ctx: _Ctx, task: Task, spec: OpSpec) -> None:
    """Template variables Airflow 3 removed (``execution_date``, ``prev_ds``,
    ``tomorrow_ds`` ...), spelled in Airflow 3's terms in every argument of
    the operator; BA130 names those without a spelling."""
    period = schedule_period(ctx.workflow)
    missing: set[str] = set()
    changed = False

    def fix(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, Code):
            return value
        if isinstance(value, str):
            text, gone = airflow3_spelling(value, period)
            missing.update(gone)
            changed |= text != value
            return text
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    spec.kwargs = [(k, fix(v)) for k, v in spec.kwargs]
    if spec.expand:
        spec.expand = [(k, fix(v)) for k, v in spec.expand]
    if changed:
        ctx.add(
            loss(
                "BA129",
                "template variables Airflow 3 removed are written in Airflow 3's terms "
                "(execution_date: logical_date; prev_ds, next_ds: the schedule's period from "
                "logical_date; tomorrow_ds, yesterday_ds: macros.ds_add)",
                task=task,
                severity="info",
                target="template",
            )
        )
    if missing:
        ctx.add(
            loss(
                "BA130",
                f"{', '.join(sorted(missing))} removed in Airflow 3 and the schedule has no "
                "constant period to compute it from: kept, renders empty",
                task=task,
                target="template",
            )
        )


# Task settings a DAG's default_args may carry, and what a task that does
# not say them gets from Airflow.
_DEFAULT_ARGS = {
    "retries": 0,
    "retry_delay": "<300s>",
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
}


def _default_args(ctx: _Ctx, specs: dict[str, OpSpec]) -> dict[str, Any]:
    """The retry settings most tasks of the DAG share, moved to its
    ``default_args`` as a person writes them: said once, and said again only
    by the tasks that differ (a task that had Airflow's default says it)."""
    if len(specs) < 2:
        return {}
    shared: dict[str, Any] = {}
    for key, default in _DEFAULT_ARGS.items():
        values = [dict(spec.kwargs).get(key, _MISSING) for spec in specs.values()]
        counts: dict[str, int] = {}
        first: dict[str, Any] = {}
        for v in values:
            if v is not _MISSING:
                text = py_literal(v)
                counts[text] = counts.get(text, 0) + 1
                first.setdefault(text, v)
        if not counts:
            continue
        text, n = max(counts.items(), key=lambda kv: kv[1])
        if n >= 2 and n * 2 > len(values):
            shared[key] = first[text]
            for spec in specs.values():
                here = dict(spec.kwargs).get(key, _MISSING)
                spec.kwargs = [(k, v) for k, v in spec.kwargs if k != key]
                if here is _MISSING:
                    value = _seconds(ctx, 300) if default == "<300s>" else default
                    spec.kwargs.append((key, value))
                elif py_literal(here) != text:
                    spec.kwargs.append((key, here))
    return shared


_MISSING = object()


def _layout(w: Workflow) -> list[tuple[str, Any]]:
    """Nested order of definitions: ('task', Task) and ('group', Group, items),
    in topological order (``x.output`` must be defined before it is used)."""
    groups = {g.id: g for g in w.groups}
    children: dict[str | None, list[tuple[str, Any]]] = {}
    placed: set[str] = set()

    def chain(gid: str | None) -> list[str | None]:
        out: list[str | None] = []
        seen: set[str] = set()
        while gid is not None and gid in groups and gid not in seen:
            seen.add(gid)
            out.append(gid)
            gid = groups[gid].parent
        return out

    by_id = {t.id: t for t in w.tasks}
    for tid in topo_order(w):
        t = by_id[tid]
        path = list(reversed(chain(t.group)))  # outermost first
        parent: str | None = None
        for gid in path:
            if gid not in placed:
                placed.add(gid)
                children.setdefault(parent, []).append(("group", gid))
            parent = gid
        children.setdefault(parent, []).append(("task", t.id))

    def build(parent: str | None) -> list[tuple[str, Any]]:
        items = []
        for kind, ident in children.get(parent, []):
            if kind == "group":
                items.append(("group", ident, build(ident)))
            else:
                items.append(("task", ident))
        return items

    return build(None)


def emit(workflow: Workflow, **options: Any) -> Emitted:
    """Emit one DAG file ``<workflow id>.py``.

    Options: ``airflow_version`` (3 default, or 2); ``subworkflow``
    (``trigger``: TriggerDagRunOperator, the default; ``taskgroup``: inline
    the called workflow as a TaskGroup when ``workflows``, the bundle's
    workflows by id, holds it)."""
    version = int(options.get("airflow_version") or 3)
    if version not in (2, 3):
        raise ValueError("airflow_version must be 2 or 3")
    inlined: list[Diagnostic] = []
    if options.get("subworkflow") == "taskgroup" and options.get("workflows"):
        workflow, inlined = inline_subworkflows(
            workflow,
            options["workflows"],
            lambda t, msg: loss("BA120", msg, task=t, target="TaskGroup"),
        )
    ctx = _Ctx(workflow, version)
    ctx.losses.extend(inlined)
    w = workflow

    specs: dict[str, OpSpec] = {}
    by_id = {t.id: t for t in w.tasks}
    for t in w.tasks:
        builder = BUILDERS.get(t.action.kind, _opaque)
        spec = builder(ctx, t)
        unknown = sorted(set(t.action.fields) - KNOWN_ACTION_FIELDS.get(t.action.kind, set()))
        if unknown:
            ctx.add(
                loss(
                    "BA113",
                    f"{t.action.kind} fields not emitted: {', '.join(unknown)}",
                    task=t,
                    severity="info",
                    target=spec.cls,
                )
            )
        _task_settings(ctx, t, spec)
        _apply_mapping(ctx, t, spec)
        specs[t.id] = spec

    # TaskFlow data passing ({{ ti.xcom_pull(task_ids='x') }} as a whole
    # argument) becomes ``x.output``: Airflow passes the native value and adds
    # the dependency itself.
    passed: set[tuple[str, str]] = set()
    ids = set(w.task_ids())
    for t in w.tasks:
        for name in ("op_args", "op_kwargs"):
            for k, v in specs[t.id].kwargs:
                if k == name:
                    for ref in _xcom_refs(v):
                        if ref in ids:
                            passed.add((ref, t.id))

    passed |= {(ref, tid) for tid, ref, _, _ in ctx.kwarg_maps}
    for e in w.edges:
        if e.kind == "data" and (e.src, e.dst) not in passed:
            ctx.add(
                loss(
                    "BA114",
                    f"the value of {e.src!r} is not passed to {e.dst!r} (ordering kept)",
                    task=by_id[e.dst],
                    target=">>",
                )
            )

    if ctx.version >= 3:
        for t in w.tasks:
            _airflow3_templates(ctx, t, specs[t.id])
    dag_kwargs = _dag_kwargs(ctx)
    shared = _default_args(ctx, specs)
    if shared:
        # beside the owner the tasks share (time model writers put it there)
        given = next((v for k, v in dag_kwargs if k == "default_args"), {})
        dag_kwargs = [(k, v) for k, v in dag_kwargs if k != "default_args"]
        dag_kwargs.append(("default_args", {**given, **shared}))

    # Names: imports and helpers first, then the user's functions (they keep
    # their names), then task variables (``<id>_task`` when the id is one of
    # those names) and groups.
    reserved = set(_MODULE_NAMES) | {"Dataset"}
    callable_keys = list(ctx.callables)
    exprs, callable_imports, stubs = callable_imports_for(callable_keys, reserved)
    functions, stub_losses = local_functions(stubs, ctx.kept, "BA101", "python stub")
    ctx.losses.extend(stub_losses)
    ctx.typing = annotation_names(f["source"] for f in functions if "source" in f)[0]
    users = {e.split(".", 1)[0] for e in exprs.values()}
    reserved |= users
    plain = identifier_map(w.task_ids(), reserved=set(_MODULE_NAMES) | {"Dataset"}, style="snake")
    wanted = {t: f"{v}_task" if v in users else v for t, v in plain.items()}
    chosen = identifier_map(list(dict.fromkeys(wanted.values())), reserved=reserved)
    tvars = {t: chosen[v] for t, v in wanted.items()}
    reserved |= set(tvars.values())
    gvars = identifier_map([f"tg_{g.id}" for g in w.groups], reserved=reserved)
    gvar = {g.id: gvars[f"tg_{g.id}"] for g in w.groups}
    reserved |= set(gvars.values())

    builder_names = identifier_map(
        [f"{tvars[tid]}_kwargs" for tid, *_ in ctx.kwarg_maps],
        reserved=reserved | set(exprs.values()),
    )
    kwarg_builders = []
    for tid, _ref, key, static in ctx.kwarg_maps:
        items = [f"{py_str(str(k))}: {py_literal(v)}" for k, v in static.items() if k != key]
        kwarg_builders.append(
            {
                "name": builder_names[f"{tvars[tid]}_kwargs"],
                "dict": "{" + ", ".join([*items, f"{py_str(key)}: value"]) + "}",
                "task": tid,
            }
        )

    def resolve(value: Any) -> Any:
        if isinstance(value, Code) and value.startswith("<kwmap:"):
            i = int(value[len("<kwmap:") : -1])
            return Code(f"{tvars[ctx.kwarg_maps[i][1]]}.output.map({kwarg_builders[i]['name']})")
        if isinstance(value, Code) and value.startswith("<callable:"):
            return Code(exprs[callable_keys[int(value[10:-1])]])
        ref = xcom_ref(value)
        if ref is not None and ref in ids:
            return Code(f"{tvars[ref]}.output")
        if isinstance(value, list) and not isinstance(value, Code):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    for spec in specs.values():
        spec.kwargs = [(k, resolve(v)) for k, v in spec.kwargs]
        if spec.expand is not None:
            spec.expand = [(k, resolve(v)) for k, v in spec.expand]

    keys = airflow_keys(w.task_ids())
    for t in w.tasks:
        if keys[t.id] != t.id:
            ctx.add(
                loss(
                    "BA119",
                    f"Airflow task ids allow only letters, digits, '_', '.', '-': emitted as {keys[t.id]!r}",
                    task=t,
                    target="task_id",
                )
            )
    glabels, tlabels, prefixed = _group_labels(w, keys)
    if w.groups and not prefixed:
        ctx.add(
            loss(
                "BA115",
                "task ids do not carry their group prefix: TaskGroup(prefix_group_id=False) keeps them",
                source=w,
                severity="info",
                target="TaskGroup",
            )
        )
    grouped = {t.group for t in w.tasks if t.group}
    for g in w.groups:
        if g.id not in grouped and not any(h.parent == g.id for h in w.groups):
            ctx.add(
                loss(
                    "BA205",
                    f"group {g.id!r} has no tasks; dropped",
                    source=g.source,
                    severity="info",
                )
            )
    if w.groups:
        ctx.use("TaskGroup")

    imports = _imports(ctx, callable_imports)
    groups = {g.id: g for g in w.groups}

    def item_view(item: tuple[str, Any], depth: int) -> dict[str, Any]:
        if item[0] == "task":
            t = by_id[item[1]]
            spec = specs[t.id]
            kwargs = [("task_id", tlabels[t.id]), *spec.kwargs]
            view = {
                "kind": "task",
                "var": tvars[t.id],
                "cls": exprs[callable_keys[int(spec.cls[10:-1])]]
                if spec.cls.startswith("<callable:")
                else spec.cls,
                "kwargs": kwargs,
                "expand": spec.expand,
                "expand_kwargs": spec.expand_kwargs,
                "depth": depth,
                "original": t.id,
                "role": t.role,
                "fails_run": t.teardown_fails_run,
            }
            return view
        g: Group = groups[item[1]]
        kwargs = [("group_id", glabels[g.id])]
        if not prefixed:
            kwargs.append(("prefix_group_id", False))
        if g.tooltip:
            kwargs.append(("tooltip", g.tooltip))
        return {
            "kind": "group",
            "var": gvar[g.id],
            "kwargs": kwargs,
            "depth": depth,
            "items": [item_view(i, depth + 1) for i in item[2]],
        }

    body = [item_view(i, 1) for i in _layout(w)]
    edges = []
    seen: set[tuple[str, str]] = set()
    for e in w.edges:
        if (e.src, e.dst) in seen or (e.src, e.dst) in passed:
            continue
        seen.add((e.src, e.dst))
        edges.append((tvars[e.src], tvars[e.dst]))
    edge_lines = chain_lines(dependency_chains(edges, [tvars[t] for t in topo_order(w)]))

    src = w.source
    origin = (
        f"{src.path}:{src.line}"
        if src and src.path and src.line
        else (src.path if src and src.path else None)
    )
    code = render(
        "airflow_dag.py.j2",
        workflow_id=w.id,
        origin=origin,
        version=version,
        imports=imports,
        helpers=sorted(ctx.helpers),
        decision_helpers=dec.helpers_source(ctx.decisions) if ctx.decisions else None,
        decision_table=(
            dec.table_source(ctx.decisions, py_str, py_literal) if ctx.decisions else None
        ),
        decide_source=dec.DECIDE_SOURCE.rstrip("\n") if ctx.decisions else None,
        functions=functions,
        kwarg_builders=kwarg_builders,
        dag_kwargs=dag_kwargs,
        body=body,
        edges=edge_lines,
    )
    name = f"{file_stem(w.id)}.py"
    code = format_python(code, name)
    diagnostics = sorted(ctx.losses, key=lambda d: (d.line or 0, d.code))
    return Emitted({name: code}, diagnostics)


def _imports(ctx: _Ctx, callable_imports: dict[str, set[str]]) -> list[str]:
    """Import lines in ruff/isort order."""
    col = 0 if ctx.version >= 3 else 1
    by_module: dict[str, set[str]] = {m: set(n) for m, n in callable_imports.items()}
    for cls in ctx.classes:
        module = IMPORTS[cls][col]
        name = cls if not (cls == "Asset" and ctx.version < 3) else "Dataset"
        by_module.setdefault(module, set()).add(name)
    by_module.setdefault(IMPORTS["DAG"][col], set()).add("DAG")
    std = {"datetime"} if ctx.needs_datetime else set()
    if any(d.uses_fs for d in ctx.decisions):
        std.add("os")
    if "luigi" in ctx.helpers:
        std.add("importlib")
    third_plain = {"pendulum"} if ctx.needs_pendulum else set()
    std_from = {"typing": set(ctx.typing)} if ctx.typing else {}
    return import_block(std, std_from, third_plain, by_module)
