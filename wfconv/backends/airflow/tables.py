"""Data the Airflow backend writes from: import paths per version, sensor
target keywords, provider operators for Hadoop engines."""

from __future__ import annotations

from wfconv.ir.model import DATA_INTERVAL, TRIGGER

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
    "task": ("airflow.sdk", "airflow.decorators"),
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
HADOOP_OPERATORS: dict[str, tuple[str, str, str | None, str | None]] = {
    # engine: (class, script kwarg, args kwarg, properties kwarg)
    "spark": ("SparkSubmitOperator", "application", "application_args", "conf"),
    "hive": ("HiveOperator", "hql", None, "hiveconfs"),
    "hive2": ("HiveOperator", "hql", None, "hiveconfs"),
    "pig": ("PigOperator", "pig", None, None),
}


# Provider namespaces whose second level is the distribution
# (``airflow.providers.apache.hive`` is apache-airflow-providers-apache-hive;
# ``airflow.providers.google.cloud`` is apache-airflow-providers-google).
_NAMESPACE_PROVIDERS = {"apache", "atlassian", "cncf", "common", "dbt", "microsoft"}

# Providers ``pip install apache-airflow==<release>`` brings, per target major
# (measured in the 3.3.2 and 2.10.5 installs wfconv verifies in).
PLAIN_INSTALL_PROVIDERS: dict[int, frozenset[str]] = {
    3: frozenset({"common-compat", "common-io", "common-sql", "smtp", "standard"}),
    2: frozenset(
        {"common-compat", "common-io", "common-sql", "fab", "ftp", "http", "imap", "smtp"}
        | {"sqlite"}
    ),
}


def provider_package(module: str) -> str | None:
    """``apache-airflow-providers-<name>`` that holds a module of
    ``airflow.providers``, else None."""
    parts = module.split(".")
    if parts[:2] != ["airflow", "providers"] or len(parts) < 3:
        return None
    name = parts[2]
    if name in _NAMESPACE_PROVIDERS and len(parts) > 3:
        name = f"{name}-{parts[3]}"
    return "apache-airflow-providers-" + name.replace("_", "-")
