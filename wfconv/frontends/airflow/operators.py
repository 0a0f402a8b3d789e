"""Airflow operator table: class name -> IR action builder (docs/architecture.md §10).

A builder receives an :class:`OpArgs` view of the operator's arguments and
returns the IR ``Action``. Arguments a builder reads are marked used; the
frontend keeps every explicit argument nobody used in
``task.extra["airflow"]["kwargs"]`` so a same-engine re-emit loses nothing.

Lookup order (``builder_for``): exact class name, then SQL operator names, then
any ``*Sensor``; anything else is ``opaque`` (AF301 for classes nobody knows,
AF303 for known operators that have no IR action kind).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wfconv.frontends.airflow.objects import unread_names
from wfconv.frontends.pyeval import is_known
from wfconv.ir.model import Action

# Airflow defaults the IR carries explicitly for sensors.
SENSOR_POKE_INTERVAL_S = 60.0
SENSOR_TIMEOUT_S = 7 * 24 * 3600.0


@dataclass
class OpArgs:
    """The arguments of one operator call.

    ``values``: explicit keyword arguments merged over default_args (Airflow
    applies default_args to every operator parameter); ``explicit``: the names
    the call itself gave; ``conv``: abstract value -> JSON value;
    ``required``: called when an IR field's value is only known at run time
    (the frontend emits AF104 and keeps the source text).
    """

    cls: str
    values: dict[str, Any]
    explicit: set[str]
    conv: Callable[[Any], Any]
    required: Callable[[str, Any], Any]
    used: set[str] = field(default_factory=set)
    # Told when a mapping argument (env=) is only known at run time.
    runtime_mapping: Callable[[str, Any], None] = lambda key, value: None

    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.values.get(key, default)

    def take(self, key: str, default: Any = None, *, ir_field: bool = True) -> Any:
        """The JSON value of an argument (marks it used). For IR fields an
        unknown value is reported and replaced by its source text."""
        self.used.add(key)
        if key not in self.values:
            return default
        v = self.values[key]
        if ir_field:
            return self.required(key, v)
        return self.conv(v)

    def mapping(self, key: str) -> dict[str, Any] | None:
        """A mapping argument (``env``, ``environment``): its JSON when every
        key and value is known, else None (the frontend reports it and keeps
        the expression in the task's extra; the IR never holds a string, or
        a half-known dict, where a mapping belongs)."""
        if self.values.get(key) is None:
            self.used.add(key)
            return None
        v = self.values[key]
        if isinstance(v, dict) and is_known_mapping(v):
            self.used.add(key)
            return self.conv(v)
        self.runtime_mapping(key, v)
        return None

    def seconds(self, key: str, default: float | None = None) -> float | None:
        v = self.take(key)
        if v is None or isinstance(v, bool):
            return default
        return float(v) if isinstance(v, (int, float)) else default

    def rest(self, skip: set[str] = frozenset()) -> dict[str, Any]:
        """Explicit arguments not used yet (JSON), for ``args`` of opaque
        actions and sensors; marks them used."""
        out = {}
        for k in sorted(self.explicit):
            if k in self.used or k in skip or k in BASE_OPERATOR_ARGS:
                continue
            out[k] = self.conv(self.values[k])
            self.used.add(k)
        return out


# BaseOperator parameters the frontend maps itself (never inside actions).
BASE_OPERATOR_ARGS = {
    "task_id",
    "dag",
    "task_group",
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
    "execution_timeout",
    "trigger_rule",
    "pool",
    "queue",
    "owner",
    "depends_on_past",
    "doc",
    "doc_md",
    "doc_rst",
    "doc_json",
    "doc_yaml",
    "outlets",
    "start_date",
    "end_date",
}


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _as_list(v: Any) -> Any:
    if v is None or isinstance(v, list):
        return v
    if isinstance(v, str) and "," in v and "{{" not in v:
        return [p.strip() for p in v.split(",") if p.strip()]
    return [v]


def _callable_name(a: OpArgs, key: str = "python_callable") -> Any:
    return a.take(key)


def is_known_mapping(value: dict) -> bool:
    """String keys (no ``**spread`` of a run-time mapping) and known values
    (a name of a module that is not read is not a known value)."""
    return all(
        isinstance(k, str)
        and not k.startswith("**")
        and is_known(v)
        and unread_names(v, _unknown) is v
        for k, v in value.items()
    )


def _unknown(ref: Any) -> None:
    return None


def bash(a: OpArgs) -> Action:
    env = a.mapping("env")
    return Action(
        "shell",
        _clean(
            {
                "command": a.take("bash_command", ""),
                "env": env,
                "env_replace": env_replace(env, a.raw("append_env")),
                "cwd": a.take("cwd"),
                "capture_output": a.take("do_xcom_push") if a.has("do_xcom_push") else None,
            }
        ),
    )


def env_replace(env: Any, append_env: Any) -> bool | None:
    """BashOperator's ``env`` replaces the whole environment of the command
    unless ``append_env=True`` (Airflow >= 2.3): the IR says so with
    ``env_replace`` (its ``env`` is added to the inherited one otherwise)."""
    return True if env is not None and append_env is not True else None


def python(a: OpArgs) -> Action:
    return Action(
        "python",
        _clean(
            {
                "callable": _callable_name(a),
                "op_args": a.take("op_args"),
                "op_kwargs": a.take("op_kwargs"),
            }
        ),
    )


def empty(a: OpArgs) -> Action:
    return Action("empty", {})


def branch_python(a: OpArgs) -> Action:
    return Action(
        "branch",
        _clean(
            {
                "callable": _callable_name(a),
                "op_args": a.take("op_args"),
                "op_kwargs": a.take("op_kwargs"),
            }
        ),
    )


def short_circuit(a: OpArgs) -> Action:
    return Action(
        "branch",
        _clean(
            {
                "callable": _callable_name(a),
                "short_circuit": True,
                "ignore_downstream_trigger_rules": a.take("ignore_downstream_trigger_rules", True),
                "op_args": a.take("op_args"),
                "op_kwargs": a.take("op_kwargs"),
            }
        ),
    )


def branch_other(a: OpArgs) -> Action:
    """Branch operators that are not Python callables (datetime, weekday, SQL)."""
    follow = {
        "follow_task_ids_if_true": a.take("follow_task_ids_if_true"),
        "follow_task_ids_if_false": a.take("follow_task_ids_if_false"),
    }
    return Action("branch", _clean({"operator": a.cls, **follow, "args": a.rest() or None}))


def email(a: OpArgs) -> Action:
    return Action(
        "email",
        _clean(
            {
                "to": _as_list(a.take("to")),
                "cc": _as_list(a.take("cc")),
                "bcc": _as_list(a.take("bcc")),
                "subject": a.take("subject"),
                "body": a.take("html_content"),
            }
        ),
    )


def trigger_dagrun(a: OpArgs) -> Action:
    return Action(
        "subworkflow",
        _clean(
            {
                "workflow": a.take("trigger_dag_id"),
                "conf": a.take("conf"),
                "wait_for_completion": a.take("wait_for_completion", False),
            }
        ),
    )


def subdag(a: OpArgs) -> Action:
    return Action(
        "subworkflow", _clean({"workflow": a.take("subdag"), "wait_for_completion": True})
    )


def kubernetes_pod(a: OpArgs) -> Action:
    return Action(
        "container",
        _clean(
            {
                "image": a.take("image"),
                "cmds": a.take("cmds"),
                "arguments": a.take("arguments"),
                "namespace": a.take("namespace"),
                "env": a.mapping("env_vars"),
            }
        ),
    )


def docker(a: OpArgs) -> Action:
    cmd = a.take("command")
    return Action(
        "container",
        _clean(
            {
                "image": a.take("image"),
                "cmds": cmd if isinstance(cmd, list) or cmd is None else [cmd],
                "env": a.mapping("environment"),
            }
        ),
    )


def sql(a: OpArgs) -> Action:
    conn = None
    for k in sorted(a.values):
        if k.endswith("conn_id"):
            conn = a.take(k)
            break
    return Action("sql", _clean({"sql": a.take("sql", ""), "conn_id": conn, "operator": a.cls}))


def _hadoop(
    engine: str, script_key: str, args_key: str | None = None
) -> Callable[[OpArgs], Action]:
    def build(a: OpArgs) -> Action:
        return Action(
            "hadoop",
            _clean(
                {
                    "engine": engine,
                    "script": a.take(script_key),
                    "args": a.take(args_key) if args_key else None,
                    "properties": a.take("conf") if engine == "spark" else None,
                    "operator": a.cls,
                }
            ),
        )

    return build


def dataproc_job(a: OpArgs) -> Action:
    job = a.take("job")
    engine = "spark"
    if isinstance(job, dict):
        for key, eng in (
            ("pyspark_job", "spark"),
            ("spark_job", "spark"),
            ("hive_job", "hive"),
            ("pig_job", "pig"),
            ("hadoop_job", "map-reduce"),
            ("spark_sql_job", "spark"),
        ):
            if key in job:
                engine = eng
                break
    return Action("hadoop", _clean({"engine": engine, "job": job, "operator": a.cls}))


def sensor(a: OpArgs) -> Action:
    target_key = SENSOR_TARGETS.get(a.cls)
    target = a.take(target_key) if target_key else None
    return Action(
        "sensor",
        _clean(
            {
                "sensor": a.cls,
                "poke_interval_s": a.seconds("poke_interval", SENSOR_POKE_INTERVAL_S),
                "timeout_s": a.seconds("timeout", SENSOR_TIMEOUT_S),
                "mode": a.take("mode", "poke"),
                "soft_fail": a.take("soft_fail", False),
                "target": target,
                "args": a.rest() or None,
            }
        ),
    )


def opaque(a: OpArgs) -> Action:
    return Action("opaque", {"type": a.cls, "args": a.rest()})


# What a sensor waits for, by class.
SENSOR_TARGETS: dict[str, str] = {
    "FileSensor": "filepath",
    "ExternalTaskSensor": "external_dag_id",
    "ExternalTaskSensorAsync": "external_dag_id",
    "TimeDeltaSensor": "delta",
    "TimeDeltaSensorAsync": "delta",
    "TimeSensor": "target_time",
    "TimeSensorAsync": "target_time",
    "DateTimeSensor": "target_time",
    "DateTimeSensorAsync": "target_time",
    "DayOfWeekSensor": "week_day",
    "S3KeySensor": "bucket_key",
    "S3PrefixSensor": "prefix",
    "GCSObjectExistenceSensor": "object",
    "SqlSensor": "sql",
    "HttpSensor": "endpoint",
    "PythonSensor": "python_callable",
    "BashSensor": "bash_command",
    "HdfsSensor": "filepath",
    "WebHdfsSensor": "filepath",
    "HivePartitionSensor": "table",
    "NamedHivePartitionSensor": "partition_names",
    "SFTPSensor": "path",
    "WasbBlobSensor": "blob_name",
}

SQL_OPERATORS = {
    "SQLExecuteQueryOperator",
    "PostgresOperator",
    "MySqlOperator",
    "SqliteOperator",
    "MsSqlOperator",
    "OracleOperator",
    "JdbcOperator",
    "SnowflakeOperator",
    "SnowflakeSqlApiOperator",
    "RedshiftSQLOperator",
    "RedshiftDataOperator",
    "TrinoOperator",
    "PrestoOperator",
    "VerticaOperator",
    "DatabricksSqlOperator",
    "BigQueryExecuteQueryOperator",
    "DruidOperator",
    "ExasolOperator",
    "SQLCheckOperator",
    "SQLValueCheckOperator",
    "SQLIntervalCheckOperator",
    "SQLThresholdCheckOperator",
    "SQLColumnCheckOperator",
    "SQLTableCheckOperator",
}

OPERATORS: dict[str, Callable[[OpArgs], Action]] = {
    "BashOperator": bash,
    "PythonOperator": python,
    "PythonVirtualenvOperator": python,
    "ExternalPythonOperator": python,
    "EmptyOperator": empty,
    "DummyOperator": empty,
    "BranchPythonOperator": branch_python,
    "BranchPythonVirtualenvOperator": branch_python,
    "BranchExternalPythonOperator": branch_python,
    "ShortCircuitOperator": short_circuit,
    "BranchDateTimeOperator": branch_other,
    "BranchDayOfWeekOperator": branch_other,
    "BranchSQLOperator": branch_other,
    "EmailOperator": email,
    "TriggerDagRunOperator": trigger_dagrun,
    "SubDagOperator": subdag,
    "KubernetesPodOperator": kubernetes_pod,
    "GKEStartPodOperator": kubernetes_pod,
    "EksPodOperator": kubernetes_pod,
    "DockerOperator": docker,
    "SparkSubmitOperator": _hadoop("spark", "application", "application_args"),
    "SparkSqlOperator": _hadoop("spark", "sql"),
    "SparkJDBCOperator": _hadoop("spark", "spark_app_name"),
    "HiveOperator": _hadoop("hive", "hql"),
    "PigOperator": _hadoop("pig", "pig"),
    "SqoopOperator": _hadoop("sqoop", "cmd_type"),
    "SSHOperator": _hadoop("ssh", "command"),
    "DataprocSubmitJobOperator": dataproc_job,
}

# Known operators that have no IR action kind (kept opaque, AF303 not AF301).
KNOWN_OPAQUE = {
    "LatestOnlyOperator",
    "EmrAddStepsOperator",
    "EmrCreateJobFlowOperator",
    "EmrTerminateJobFlowOperator",
    "EmrServerlessStartJobOperator",
    "EmrContainerOperator",
    "ExternalTaskMarker",
    "SimpleHttpOperator",
    "HttpOperator",
    "S3CopyObjectOperator",
    "S3DeleteObjectsOperator",
    "GCSToBigQueryOperator",
    "BigQueryInsertJobOperator",
    "LambdaInvokeFunctionOperator",
    "GenericTransfer",
    "SlackWebhookOperator",
    "SlackAPIPostOperator",
    "DatabricksSubmitRunOperator",
    "DatabricksRunNowOperator",
    "GlueJobOperator",
    "EcsRunTaskOperator",
}


def builder_for(cls: str) -> tuple[Callable[[OpArgs], Action], str]:
    """(builder, status) where status is ``known``, ``opaque-known`` or ``unknown``."""
    if cls in OPERATORS:
        return OPERATORS[cls], "known"
    if cls in SQL_OPERATORS:
        return sql, "known"
    if cls.endswith(("Sensor", "SensorAsync")):
        return sensor, "known" if cls in SENSOR_TARGETS else "sensor"
    if cls in KNOWN_OPAQUE:
        return opaque, "opaque-known"
    return opaque, "unknown"
