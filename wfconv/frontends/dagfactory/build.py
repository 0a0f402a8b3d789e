"""dag-factory's DagBuilder, statically: a config's DAGs built with the
Airflow reader's hooks, so a DAG from YAML reads exactly as the same DAG
written in Python would (operator table, default_args, groups, edges).

What dag-factory 1.x does with a config, and what is done here:
- each top-level key but ``default``/``task_groups`` is a DAG, its id the key;
  the file's ``default`` and the ``defaults.yml`` files apply (config.py);
- ``tasks`` (a mapping, or a list of mappings with ``task_id``): ``operator``
  is an import path (an operator of the repository is followed like an
  import), every other key but ``dependencies``/``task_group_name`` is an
  operator argument; ``expand``/``partial`` map the task;
- ``task_groups`` (mapping or list with ``group_name``): ``parent_group_name``
  nests them; a task in a group is ``group.task``;
- ``dependencies`` name tasks or groups; a group means its leaves (or roots),
  as ``set_upstream`` does, once every task exists;
- ``start_date``/``end_date`` strings are dates in ``timezone``; ``schedule``
  ``none`` is no schedule, a list is datasets; the tag ``dagfactory`` is added;
- ``__type__`` mappings build the named class (``datetime.timedelta``...);
  ``!!python/name:`` tags, callbacks and ``$ENV`` values need run time.
"""

from __future__ import annotations

import ast
import copy
import datetime as _dt
from pathlib import Path
from typing import Any

from wfconv.frontends.dagfactory.config import (
    SYSTEM_KEYS,
    LineDict,
    PyName,
    defaults_for,
    env_vars,
    load,
    looks_like_config,
    merge,
    merge_defaults,
)
from wfconv.frontends.pyeval import ModuleValue, Ref, Unknown

# Task keys only dag-factory reads.
TASK_SYSTEM_KEYS = ("operator", "decorator", "dependencies", "task_group_name", "parent_group_name")
DAG_ARGS = (
    "description",
    "schedule",
    "start_date",
    "end_date",
    "catchup",
    "max_active_runs",
    "max_active_tasks",
    "dagrun_timeout",
    "default_args",
    "params",
    "doc_md",
    "template_searchpath",
    "render_template_as_native_obj",
    "is_paused_upon_creation",
    "access_control",
    "timetable",
)


def _at(line: int | None) -> ast.Call:
    """A stand-in call node at a line of the YAML file (the hooks take the
    line of what they build from the node they are given)."""
    node = ast.Call(func=ast.Name(id="config", ctx=ast.Load()), args=[], keywords=[])
    node.lineno = node.end_lineno = line or 1
    node.col_offset = node.end_col_offset = 0
    return node


class ConfigBuilder:
    """Builds the DAGs of one config file into ``hooks`` (AirflowHooks)."""

    def __init__(self, hooks, interp, path: str, dags_folder: Path | None, line: int | None = None):
        self.hooks = hooks
        self.interp = interp
        self.path = path
        self.dags_folder = dags_folder
        self.line = line  # of the loader, for a config given as a dict (no YAML lines)

    def diag(self, severity: str, code: str, message: str, line: int | None, dag: Any = True):
        """A diagnostic of the DAG being built (``dag=None``: of the file)."""
        self.hooks.diag(severity, code, message, line, dag)

    # -- values ----------------------------------------------------------
    def value(self, v: Any, line: int | None) -> Any:
        """A YAML value as the interpreter's value: ``__type__`` mappings
        built (through pyeval's tables and the hooks), Python tags kept as
        references, ``$VAR`` strings flagged."""
        if isinstance(v, PyName):
            return Ref(v.qualname)
        if isinstance(v, dict):
            line = getattr(v, "line", None) or line
            if v.get("__type__") == "builtins.list" and "items" in v:
                return [self.value(i, line) for i in v["items"]]
            if "__join__" in v and isinstance(v["__join__"], list):
                parts = [self.value(i, line) for i in v["__join__"]]
                return "".join(str(p) for p in parts)
            inner = {
                k: self.value(x, line) for k, x in v.items() if k not in ("__type__", "__args__")
            }
            if "__type__" in v and isinstance(v["__type__"], str):
                args = self.value(v.get("__args__") or [], line)
                return self.interp.call(Ref(v["__type__"]), list(args), inner, _at(line))
            return inner
        if isinstance(v, list):
            return [self.value(i, line) for i in v]
        return v

    def import_string(self, dotted: str, line: int | None) -> Any:
        """dag-factory's ``import_string``: a class or function of the
        repository when it has it, else a reference by name."""
        module, _, name = dotted.rpartition(".")
        mod = self.interp.import_module(module, _at(line)) if module else None
        if isinstance(mod, ModuleValue) and name in mod.namespace:
            return mod.namespace[name]
        return Ref(dotted)

    # -- DAGs ------------------------------------------------------------
    def build_file(self, config_path: Path, text: str, **loader: Any) -> list:
        return self.build_data(load(str(config_path), text), config_path, text, **loader)

    def build_data(
        self,
        data: Any,
        config_path: Path | None,
        text: str = "",
        defaults_root: Path | None = None,
        defaults_dict: Any = None,
    ) -> list:
        """The DAGs of a config (``config_path`` None: a dict the loader was
        given); ``defaults_root``/``defaults_dict``: the loader's
        ``defaults_config_path``/``defaults_config_dict``."""
        if not looks_like_config(data):
            self.diag("warning", "DF301", "not a dag-factory config: no DAG in it", None, None)
            return []
        if isinstance(defaults_dict, dict) and defaults_dict:  # replaces defaults.yml
            defaults = merge_defaults([defaults_dict])
        else:
            files = self.interp.files
            root = defaults_root or self.dags_folder
            found = defaults_for(config_path, root, files.read) if files else []
            defaults = merge_defaults([d for _, d in found])
        file_default = copy.deepcopy(data.get("default") or {})
        file_default["default_args"] = {
            **(defaults.get("default_args") or {}),
            **(file_default.get("default_args") or {}),
        }
        dag_level = {k: v for k, v in defaults.items() if k != "default_args"}
        built = []
        for name, conf in data.items():
            if name in SYSTEM_KEYS or not isinstance(conf, dict):
                continue
            dag_conf = LineDict({**copy.deepcopy(dag_level), **copy.deepcopy(conf)})
            dag_conf.line = getattr(conf, "line", None) or self.line
            params = merge(dag_conf, copy.deepcopy(file_default))
            built.append(self.build_dag(str(name), params, dag_conf.line))
        for dag in built:  # the file's own notes belong to its DAGs, not the loader's others
            for var in env_vars(text):
                self.diag(
                    "warning",
                    "DF101",
                    f"${var} is replaced from the environment of the process that loads the "
                    "config: kept as written",
                    None,
                    dag,
                )
        return built

    def build_dag(self, dag_id: str, params: dict, line: int | None):
        hooks = self.hooks
        node = _at(line)
        notes: list[tuple[str, str, str]] = []
        if "schedule_interval" in params:
            notes.append(
                (
                    "warning",
                    "DF201",
                    "`schedule_interval` is refused by dag-factory 1.x (use `schedule`): read as "
                    "the schedule, as dag-factory 0.x did",
                )
            )
            params.setdefault("schedule", params.pop("schedule_interval"))
        kwargs: dict[str, Any] = {"dag_id": dag_id}
        for key in DAG_ARGS:
            if key in params and params[key] is not None:
                kwargs[key] = self.value(params[key], line)
        tz = params.get("timezone", "UTC")
        for key in ("start_date", "end_date"):
            if isinstance(kwargs.get(key), (str, _dt.date)):
                kwargs[key] = self.date(kwargs[key], tz, line)
        default_args = kwargs.get("default_args")
        if isinstance(default_args, dict):
            dtz = default_args.get("timezone", "UTC")
            for key in ("start_date", "end_date"):
                if isinstance(default_args.get(key), (str, _dt.date)):
                    default_args[key] = self.date(default_args[key], dtz, line)
            default_args.pop("timezone", None)
        schedule = kwargs.get("schedule")
        if isinstance(schedule, str) and schedule.strip().lower() == "none":
            kwargs["schedule"] = None
        elif isinstance(schedule, list):
            kwargs["schedule"] = [
                self.interp.call(Ref("airflow.datasets.Dataset"), [u.strip()], {}, node)
                for u in schedule
                if isinstance(u, str) and u.strip()
            ]
        tags = list(kwargs.get("tags") or params.get("tags") or [])
        if "dagfactory" not in tags:
            tags.append("dagfactory")
        kwargs["tags"] = tags
        for callback in ("on_success_callback", "on_failure_callback", "sla_miss_callback"):
            if callback in params or f"{callback}_name" in params:
                notes.append(("info", "DF102", f"{callback}: a Python callable, kept by name only"))
        dag = hooks.make_dag(self.interp, [], kwargs, node)
        for severity, code, message in notes:
            self.diag(severity, code, message, line, dag)
        dag.workflow.extra["dagfactory"] = {"config": self.path}
        hooks.dag_stack.append(dag)
        try:
            self.build_tasks(dag, params, line)
        finally:
            hooks.dag_stack.pop()
        return dag

    def date(self, value: Any, tz: Any, line: int | None) -> Any:
        """dag-factory's get_datetime: a date (string) in ``timezone``; a
        relative time ("3 days") counts back from today: run time."""
        if isinstance(value, _dt.datetime):
            return value.replace(tzinfo=self.tz(tz))
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day, tzinfo=self.tz(tz))
        try:
            parsed = _dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return Unknown("clock", "counts back from the day the config is loaded", line, value)
        return parsed.replace(tzinfo=self.tz(tz))

    def tz(self, tz: Any) -> _dt.tzinfo:
        from wfconv.frontends.pyeval import _tz

        try:
            return _tz(tz) or _dt.UTC
        except Exception:  # an unknown zone name: dag-factory fails too
            return _dt.UTC

    # -- tasks and groups -------------------------------------------------
    def build_tasks(self, dag, params: dict, line: int | None) -> None:
        hooks = self.hooks
        tasks = _normalise(params.get("tasks"), "task_id")
        groups_conf = _normalise(params.get("task_groups"), "group_name")
        groups: dict[str, Any] = {}
        for name in groups_conf:
            self.make_group(name, groups_conf, groups, dag, set())
        instances: dict[str, Any] = dict(groups)
        task_group_of: dict[str, Any] = {}
        for name in _topological(tasks):
            conf = tasks[name]
            tline = getattr(conf, "line", None) or line
            node = _at(tline)
            kwargs = {k: self.value(v, tline) for k, v in conf.items() if k not in TASK_SYSTEM_KEYS}
            kwargs["task_id"] = name
            kwargs["dag"] = dag
            group_name = conf.get("task_group_name")
            if groups and group_name:
                if group_name not in groups:
                    self.diag(
                        "error",
                        "DF302",
                        f"task {name!r}: task group {group_name!r} is not defined: dag-factory "
                        "cannot build this DAG",
                        tline,
                        dag,
                    )
                else:
                    kwargs["task_group"] = groups[group_name]
                    task_group_of[name] = groups[group_name]
            self.callable_args(kwargs, tline)
            expand = kwargs.pop("expand", None)
            partial = kwargs.pop("partial", None)
            target = conf.get("operator") or conf.get("decorator")
            if not isinstance(target, str):
                self.diag(
                    "error",
                    "DF303",
                    f"task {name!r} has neither `operator` nor `decorator`",
                    tline,
                    dag,
                )
                continue
            if "decorator" in conf and "operator" not in conf:
                self.diag(
                    "info",
                    "DF103",
                    f"task {name!r}: the `{target}` decorator is read as a PythonOperator calling "
                    "its python_callable",
                    tline,
                    dag,
                )
                target = "airflow.operators.python.PythonOperator"
            cls = self.import_string(target, tline)
            if isinstance(expand, dict):
                for k, v in list(expand.items()):
                    if isinstance(v, str) and v.endswith(".output") and v[:-7] in instances:
                        expand[k] = hooks.getattr(self.interp, instances[v[:-7]], "output", node)
                kwargs.update(partial or {})
                pc = self.interp.getattr(cls, "partial", node)
                pcall = self.interp.call(pc, [], kwargs, node)
                task = self.interp.call(
                    self.interp.getattr(pcall, "expand", node), [], expand, node
                )
            else:
                task = self.interp.call(cls, [], kwargs, node)
            tid = getattr(task, "id", None) or getattr(getattr(task, "task", None), "id", None)
            if tid is None:
                self.diag(
                    "warning",
                    "DF304",
                    f"task {name!r}: `{target}` is not an operator wfconv can build: left out",
                    tline,
                    dag,
                )
                hooks.lose(tline, f"task {name!r} (`{target}`) could not be built", dag)
                continue
            instances[tid] = task
        for name, conf in {**tasks, **groups_conf}.items():
            deps = conf.get("dependencies") or []
            if not deps:
                continue
            cline = getattr(conf, "line", None) or line
            key = f"{task_group_of[name].full_id}.{name}" if name in task_group_of else name
            source = instances.get(key) if name in tasks or name in groups else None
            for dep in deps:
                dkey = f"{task_group_of[dep].full_id}.{dep}" if dep in task_group_of else dep
                upstream = instances.get(dkey)
                if source is None or upstream is None or not isinstance(dep, str):
                    self.diag(
                        "error",
                        "DF302",
                        f"{name!r} depends on {dep!r}, which is not a task or task group of this "
                        "DAG: dag-factory cannot build it",
                        cline,
                        dag,
                    )
                    continue
                hooks.connect(self.interp, upstream, source, _at(cline))

    def make_group(self, name: str, confs: dict, groups: dict, dag, seen: set) -> Any:
        if name in groups:
            return groups[name]
        conf = confs[name]
        line = getattr(conf, "line", None)
        if name in seen:
            self.diag("error", "DF302", f"task group {name!r} is its own parent", line, dag)
            return None
        seen.add(name)
        kwargs = {
            k: self.value(v, line)
            for k, v in conf.items()
            if k not in TASK_SYSTEM_KEYS and k != "parent_group"
        }
        parent_name = conf.get("parent_group_name")
        if parent_name:
            if parent_name not in confs:
                self.diag(
                    "error",
                    "DF302",
                    f"task group {name!r}: parent {parent_name!r} is not defined",
                    line,
                    dag,
                )
            else:
                kwargs["parent_group"] = self.make_group(parent_name, confs, groups, dag, seen)
        kwargs["group_id"] = name
        kwargs["dag"] = dag
        group = self.hooks.make_group(self.interp, [], kwargs, _at(line))
        groups[name] = group
        return group

    def callable_args(self, kwargs: dict, line: int | None) -> None:
        """``python_callable_name`` + ``python_callable_file``: the function,
        by name and module file (never imported)."""
        name = kwargs.pop("python_callable_name", None)
        file = kwargs.pop("python_callable_file", None)
        if isinstance(name, str) and isinstance(file, str):
            kwargs["python_callable"] = Ref(f"{Path(file).stem}.{name}")
        elif isinstance(kwargs.get("python_callable"), str):
            kwargs["python_callable"] = self.import_string(kwargs["python_callable"], line)
        for key in list(kwargs):
            if key.endswith("_callback") or key.endswith(("_callback_name", "_callback_file")):
                kwargs.pop(key)
        if "variables_as_arguments" in kwargs:
            kwargs.pop("variables_as_arguments")
            self.diag(
                "warning",
                "DF104",
                "variables_as_arguments: Airflow Variables read when the DAG is loaded are not "
                "known statically",
                line,
            )
        for key in ("inlets", "outlets"):
            uris = kwargs.get(key)
            if isinstance(uris, list):
                kwargs[key] = [
                    self.interp.call(Ref("airflow.datasets.Dataset"), [u], {}, _at(line))
                    if isinstance(u, str)
                    else u
                    for u in uris
                ]


def _normalise(value: Any, id_key: str) -> dict[str, dict]:
    """Tasks/groups as a mapping name -> config (a list form has the name
    under ``id_key``)."""
    if isinstance(value, dict):
        return {str(k): (v if isinstance(v, dict) else LineDict()) for k, v in value.items()}
    if isinstance(value, list):
        out: dict[str, dict] = {}
        for entry in value:
            if isinstance(entry, dict) and isinstance(entry.get(id_key), str):
                conf = LineDict({k: v for k, v in entry.items() if k != id_key})
                conf.line = getattr(entry, "line", None)
                out[entry[id_key]] = conf
        return out
    return {}


def _topological(tasks: dict[str, dict]) -> list[str]:
    """dag-factory builds tasks upstream first (Kahn's order; dependencies on
    groups are not counted); a cycle leaves the rest in file order."""
    count = {n: 0 for n in tasks}
    downs: dict[str, list[str]] = {n: [] for n in tasks}
    for n, conf in tasks.items():
        for dep in conf.get("dependencies") or []:
            if dep in tasks:
                downs[dep].append(n)
                count[n] += 1
    ready = [n for n in tasks if count[n] == 0]
    out: list[str] = []
    while ready:
        n = ready.pop(0)
        out.append(n)
        for d in downs[n]:
            count[d] -= 1
            if count[d] == 0:
                ready.append(d)
    return out + [n for n in tasks if n not in out]
