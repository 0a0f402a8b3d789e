"""Where each Airflow 2 import lives in Airflow 3 (UG101, UG102, UG103).

Two sources of facts, both checked against the real engines by
``tests/test_upgrade_engine.py`` (every target below imports in Airflow 3.3.2
when its provider is installed):

- ``MODULES``/``NAMES``: the modules and names of Airflow 2.x that Airflow 3
  moved to ``airflow.sdk`` or to a provider (``apache-airflow-providers-standard``,
  ``-smtp``, ``-common-sql``), or renamed;
- ``airflow1_paths.json``: the Airflow 1 paths that Airflow 2.10.5 still
  accepted through its own deprecation tables (``airflow.operators.bash_operator``,
  ``airflow.contrib.*``, ...), each with the 2.10.5 path it stood for. Airflow 3
  dropped all of them; the 2.10.5 path is then moved again by ``MODULES``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

SDK = "airflow.sdk"
STANDARD = "airflow.providers.standard"

# Whole modules: every name keeps its name and moves to the new module.
MODULES: dict[str, str] = {
    "airflow.operators.bash": f"{STANDARD}.operators.bash",
    "airflow.operators.branch": f"{STANDARD}.operators.branch",
    "airflow.operators.datetime": f"{STANDARD}.operators.datetime",
    "airflow.operators.email": "airflow.providers.smtp.operators.smtp",
    "airflow.operators.empty": f"{STANDARD}.operators.empty",
    "airflow.operators.generic_transfer": "airflow.providers.common.sql.operators.generic_transfer",
    "airflow.operators.latest_only": f"{STANDARD}.operators.latest_only",
    "airflow.operators.python": f"{STANDARD}.operators.python",
    "airflow.operators.smooth": f"{STANDARD}.operators.smooth",
    "airflow.operators.trigger_dagrun": f"{STANDARD}.operators.trigger_dagrun",
    "airflow.operators.weekday": f"{STANDARD}.operators.weekday",
    "airflow.sensors.bash": f"{STANDARD}.sensors.bash",
    "airflow.sensors.date_time": f"{STANDARD}.sensors.date_time",
    "airflow.sensors.external_task": f"{STANDARD}.sensors.external_task",
    "airflow.sensors.filesystem": f"{STANDARD}.sensors.filesystem",
    "airflow.sensors.python": f"{STANDARD}.sensors.python",
    "airflow.sensors.time_delta": f"{STANDARD}.sensors.time_delta",
    "airflow.sensors.time_sensor": f"{STANDARD}.sensors.time",
    "airflow.sensors.weekday": f"{STANDARD}.sensors.weekday",
    "airflow.hooks.filesystem": f"{STANDARD}.hooks.filesystem",
    "airflow.hooks.package_index": f"{STANDARD}.hooks.package_index",
    "airflow.hooks.subprocess": f"{STANDARD}.hooks.subprocess",
    "airflow.hooks.dbapi": "airflow.providers.common.sql.hooks.sql",
    "airflow.triggers.external_task": f"{STANDARD}.triggers.external_task",
    "airflow.triggers.file": f"{STANDARD}.triggers.file",
    "airflow.triggers.temporal": f"{STANDARD}.triggers.temporal",
    "airflow.utils.weekday": f"{STANDARD}.utils.weekday",
    "airflow.decorators": SDK,
    "airflow.utils.task_group": SDK,
    "airflow.utils.edgemodifier": SDK,
    "airflow.utils.trigger_rule": SDK,
    "airflow.utils.dag_parsing_context": SDK,
    "airflow.models.param": SDK,
    "airflow.models.xcom_arg": SDK,
    "airflow.io.path": SDK,
    "airflow.timetables.trigger": SDK,
    "airflow.timetables.interval": SDK,
    "airflow.timetables.events": SDK,
}

# Single names: (module, name) -> (new module, new name). A name listed here
# wins over its module's entry in MODULES; a module with entries here and none
# in MODULES keeps its other names where they are.
NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("airflow", "DAG"): (SDK, "DAG"),
    ("airflow", "Dataset"): (SDK, "Asset"),
    ("airflow.models", "DAG"): (SDK, "DAG"),
    ("airflow.models", "BaseOperator"): (SDK, "BaseOperator"),
    ("airflow.models", "BaseOperatorLink"): (SDK, "BaseOperatorLink"),
    ("airflow.models", "Param"): (SDK, "Param"),
    ("airflow.models", "ParamsDict"): (SDK, "ParamsDict"),
    ("airflow.models", "Variable"): (SDK, "Variable"),
    ("airflow.models", "XComArg"): (SDK, "XComArg"),
    ("airflow.models.dag", "DAG"): (SDK, "DAG"),
    ("airflow.models.baseoperator", "BaseOperator"): (SDK, "BaseOperator"),
    ("airflow.models.baseoperator", "chain"): (SDK, "chain"),
    ("airflow.models.baseoperator", "chain_linear"): (SDK, "chain_linear"),
    ("airflow.models.baseoperator", "cross_downstream"): (SDK, "cross_downstream"),
    ("airflow.models.baseoperatorlink", "BaseOperatorLink"): (SDK, "BaseOperatorLink"),
    ("airflow.models.variable", "Variable"): (SDK, "Variable"),
    ("airflow.models.connection", "Connection"): (SDK, "Connection"),
    ("airflow.utils.helpers", "chain"): (SDK, "chain"),
    ("airflow.utils.helpers", "cross_downstream"): (SDK, "cross_downstream"),
    ("airflow.utils.context", "Context"): (SDK, "Context"),
    ("airflow.utils.context", "get_current_context"): (SDK, "get_current_context"),
    ("airflow.operators.python", "get_current_context"): (SDK, "get_current_context"),
    ("airflow.operators.dummy", "DummyOperator"): (f"{STANDARD}.operators.empty", "EmptyOperator"),
    ("airflow.operators.empty", "DummyOperator"): (f"{STANDARD}.operators.empty", "EmptyOperator"),
    ("airflow.sensors.base", "BaseSensorOperator"): (SDK, "BaseSensorOperator"),
    ("airflow.sensors.base", "PokeReturnValue"): (SDK, "PokeReturnValue"),
    ("airflow.sensors.base", "poke_mode_only"): ("airflow.sdk.bases.sensor", "poke_mode_only"),
    ("airflow.hooks.base", "BaseHook"): (SDK, "BaseHook"),
    ("airflow.notifications.basenotifier", "BaseNotifier"): (SDK, "BaseNotifier"),
    ("airflow.datasets", "Dataset"): (SDK, "Asset"),
    ("airflow.datasets", "DatasetAlias"): (SDK, "AssetAlias"),
    ("airflow.datasets", "DatasetAll"): (SDK, "AssetAll"),
    ("airflow.datasets", "DatasetAny"): (SDK, "AssetAny"),
    ("airflow.datasets.metadata", "Metadata"): (SDK, "Metadata"),
    ("airflow.timetables.datasets", "DatasetOrTimeSchedule"): (SDK, "AssetOrTimeSchedule"),
    ("airflow.utils", "timezone"): (SDK, "timezone"),
    ("airflow.sensors.external_task", "ExternalTaskSensorLink"): (
        f"{STANDARD}.sensors.external_task",
        "ExternalDagLink",
    ),
}

# Names Airflow 3 removed with nothing to import instead. A value is the
# message; the upgrade rewrites the uses of some of them itself (REWRITTEN).
REMOVED: dict[tuple[str, str | None], str] = {
    ("airflow.operators.subdag", None): "SubDAGs were removed: use a TaskGroup",
    ("airflow.operators.subdag_operator", None): "SubDAGs were removed: use a TaskGroup",
    ("airflow.utils.dates", "days_ago"): "use a fixed `pendulum.datetime(...)`",
    ("airflow.utils.dates", "date_range"): "use `pendulum.interval(start, end).range(...)`",
    ("airflow.utils.dates", None): "the module was removed: use pendulum or datetime",
    ("airflow.operators.python", "is_venv_installed"): "test for virtualenv with `shutil.which`",
    (
        "airflow.utils.decorators",
        "apply_defaults",
    ): "default arguments are always applied: delete the decorator",
    ("airflow.contrib", None): "airflow.contrib was removed: import from the provider packages",
    ("airflow.datasets", "expand_alias_to_datasets"): "no DAG-level replacement",
    ("airflow.utils.trigger_rule", "DUMMY"): "use TriggerRule.ALWAYS",
}

# Removed names whose call sites the upgrade rewrites (UG104, UG208): the
# import is then deleted instead of being reported.
REWRITTEN: frozenset[tuple[str, str]] = frozenset(
    {
        ("airflow.utils.dates", "days_ago"),
        ("airflow.operators.python", "is_venv_installed"),
        ("airflow.operators.subdag", "SubDagOperator"),
        ("airflow.operators.subdag_operator", "SubDagOperator"),
    }
)


@dataclass(frozen=True)
class Move:
    module: str | None  # None: removed
    name: str | None
    note: str = ""

    @property
    def removed(self) -> bool:
        return self.module is None


@functools.cache
def airflow1_paths() -> dict[str, dict[str, str]]:
    path = Path(__file__).with_name("airflow1_paths.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _removed(module: str, name: str) -> Move | None:
    for key in ((module, name), (module, None)):
        if key in REMOVED:
            return Move(None, None, REMOVED[key])
    parts = module.split(".")
    for i in range(len(parts) - 1, 1, -1):
        prefix = ".".join(parts[:i])
        if (prefix, None) in REMOVED:
            return Move(None, None, REMOVED[(prefix, None)])
    return None


def move_of(module: str, name: str) -> Move | None:
    """Where ``from module import name`` must come from in Airflow 3; None
    when it stays."""
    old = airflow1_paths().get(module, {}).get(name)
    if old is not None:  # an Airflow 1 path: first to where 2.10.5 sent it
        module, name = old.rsplit(".", 1)
        if module == "airflow.operators.subdag":
            return _removed(module, name)
        return move_of(module, name) or Move(module, name)
    if (module, name) in NAMES:
        return Move(*NAMES[(module, name)])
    removed = _removed(module, name)
    if removed is not None:
        return removed
    if module in MODULES:
        return Move(MODULES[module], name)
    return None


def known_module(module: str) -> bool:
    """Whether ``import module`` (as a module) names a path Airflow 3 moved or removed."""
    return (
        module in MODULES
        or module in airflow1_paths()
        or _removed(module, "") is not None
        or any(m == module for m, _ in NAMES)
    )
