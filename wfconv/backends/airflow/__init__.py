"""IR -> an Airflow DAG file (Airflow 3 by default, ``airflow_version=2`` for 2.4+).

The module is built from data: each action kind has a builder returning an
``OpSpec`` (operator class + keyword arguments as Python values or ``Code``);
the template ``airflow_dag.py.j2`` lays the specs out. Version differences are
import-path tables (``IMPORTS``), not branches in the builders. Original task
ids are kept as ``task_id=`` strings; variable names come from
``identifier_map``. What Airflow cannot say exactly goes through ``loss()``.

Modules: ``tables`` (import paths per version, sensor keywords), ``context``
(per-emit state, id rules), ``operators`` (one builder per action kind, task
settings, mapping), ``schedule`` (the ``DAG(...)`` arguments and the time
model), this module (names, layout, templates Airflow 3 removed, the file).
"""

from __future__ import annotations

import re
from typing import Any

from wfconv.backends import decisions as dec
from wfconv.backends.airflow.context import (
    MODULE_NAMES,
    Ctx,
    OpSpec,
    airflow_keys,
    seconds,
    task_id_map,
)
from wfconv.backends.airflow.operators import BUILDERS, apply_mapping, opaque, task_settings
from wfconv.backends.airflow.schedule import dag_arguments
from wfconv.backends.airflow.tables import IMPORTS, PLAIN_INSTALL_PROVIDERS, provider_package
from wfconv.backends.airflow.taskflow import CALL_ARGS, taskflow
from wfconv.backends.airflow.templates import airflow3_spelling
from wfconv.backends.common import (
    KNOWN_ACTION_FIELDS,
    Code,
    Emitted,
    annotation_names,
    callable_imports_for,
    file_stem,
    format_python,
    identifier_map,
    import_block,
    local_functions,
    loss,
    py_literal,
    py_str,
    render,
    schedule_period,
    shell_command,
    topo_order,
    xcom_ref,
)
from wfconv.backends.inline import inline_subworkflows
from wfconv.backends.pycode import chain_lines, dependency_chains
from wfconv.ir.model import Diagnostic, Group, Task, Workflow

__all__ = ["CODES", "TARGET", "airflow_keys", "emit", "task_id_map"]

TARGET = "airflow"

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
    "BA130": "removed template variable without an Airflow 3 spelling (no constant period, conf)",
    "BA131": "sensor target_time kept as the source's expression over datetime/pendulum",
    "BA132": "the DAG imports a provider package a plain Airflow install does not bring",
}

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


def _airflow3_templates(ctx: Ctx, task: Task, spec: OpSpec) -> None:
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
                "logical_date; tomorrow_ds, yesterday_ds: macros.ds_add; "
                "prev_execution_date_success: prev_data_interval_start_success; "
                "triggering_dataset_events: triggering_asset_events)",
                task=task,
                severity="info",
                target="template",
            )
        )
    periodic = sorted(set(missing) - {"conf"})
    if periodic:
        ctx.add(
            loss(
                "BA130",
                f"{', '.join(periodic)} removed in Airflow 3 and the schedule has no "
                "constant period to compute it from: kept, renders empty",
                task=task,
                target="template",
            )
        )
    if "conf" in missing:
        ctx.add(
            loss(
                "BA130",
                "conf (Airflow's configuration) is no template variable in Airflow 3: kept, "
                "the template renders it empty or fails when it calls it",
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


def _default_args(ctx: Ctx, specs: dict[str, OpSpec]) -> dict[str, Any]:
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
                    value = seconds(ctx, 300) if default == "<300s>" else default
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
    ctx = Ctx(workflow, version)
    ctx.losses.extend(inlined)
    w = workflow

    specs: dict[str, OpSpec] = {}
    by_id = {t.id: t for t in w.tasks}
    for t in w.tasks:
        builder = BUILDERS.get(t.action.kind, opaque)
        spec = builder(ctx, t)
        known = KNOWN_ACTION_FIELDS.get(t.action.kind, set())
        if spec.decorator:  # the source's decorated function holds them
            known = known | {"callable", "decorator", "op_args", "op_kwargs", "source_code"}
        unknown = sorted(set(t.action.fields) - known)
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
        task_settings(ctx, t, spec)
        apply_mapping(ctx, t, spec)
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
    dag_kwargs = dag_arguments(ctx)
    shared = _default_args(ctx, specs)
    if shared:
        # beside the owner the tasks share (time model writers put it there)
        given = next((v for k, v in dag_kwargs if k == "default_args"), {})
        dag_kwargs = [(k, v) for k, v in dag_kwargs if k != "default_args"]
        dag_kwargs.append(("default_args", {**given, **shared}))

    # Names: imports and helpers first, then the user's functions (they keep
    # their names), then task variables (``<id>_task`` when the id is one of
    # those names) and groups.
    reserved = set(MODULE_NAMES) | {"Dataset"}
    callable_keys = list(ctx.callables)
    exprs, callable_imports, stubs = callable_imports_for(callable_keys, reserved)
    functions, stub_losses = local_functions(stubs, ctx.kept, "BA101", "python stub")
    ctx.losses.extend(stub_losses)
    ctx.typing = annotation_names(f["source"] for f in functions if "source" in f)[0]
    users = {e.split(".", 1)[0] for e in exprs.values()}
    reserved |= users
    plain = identifier_map(w.task_ids(), reserved=set(MODULE_NAMES) | {"Dataset"}, style="snake")
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

    keys = airflow_keys(w.task_ids())
    glabels, tlabels, prefixed = _group_labels(w, keys)
    flow = taskflow(
        w.tasks,
        specs,
        {f"<callable:{i}>": exprs[key] for i, key in enumerate(callable_keys)},
        {f["name"] for f in functions},
        tlabels,
    )
    for t in w.tasks:
        spec = specs[t.id]
        if spec.decorator and t.id not in flow.tasks:  # the operator form after all
            spec.kwargs = [(k, v) for k, v in spec.kwargs if k not in CALL_ARGS]
            spec.set("bash_command", shell_command(t.action.fields))
            ctx.use(spec.cls)
    if flow.tasks:
        ctx.use("task")
        for cls in ("PythonOperator", "BashOperator"):
            if not any(s.cls == cls for tid, s in specs.items() if tid not in flow.tasks):
                ctx.classes.discard(cls)
    for f in functions:
        if f["name"] in flow.decorators:
            f["decorator"] = flow.decorators[f["name"]]

    def output(tid: str) -> str:
        """An upstream's output: a TaskFlow call is its own XComArg."""
        return tvars[tid] if tid in flow.tasks else f"{tvars[tid]}.output"

    def resolve(value: Any) -> Any:
        if isinstance(value, Code) and value.startswith("<kwmap:"):
            i = int(value[len("<kwmap:") : -1])
            return Code(f"{output(ctx.kwarg_maps[i][1])}.map({kwarg_builders[i]['name']})")
        if isinstance(value, Code) and value.startswith("<callable:"):
            return Code(exprs[callable_keys[int(value[10:-1])]])
        ref = xcom_ref(value)
        if ref is not None and ref in ids:
            return Code(output(ref))
        if isinstance(value, list) and not isinstance(value, Code):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    for spec in specs.values():
        spec.kwargs = [(k, resolve(v)) for k, v in spec.kwargs]
        if spec.expand is not None:
            spec.expand = [(k, resolve(v)) for k, v in spec.expand]

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
            if t.id in flow.tasks:
                lines = flow.call(t.id, tlabels[t.id], spec, tvars[t.id], depth)
                return {"kind": "call", "lines": lines, "depth": depth}
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


def _imports(ctx: Ctx, callable_imports: dict[str, set[str]]) -> list[str]:
    """Import lines in ruff/isort order."""
    col = 0 if ctx.version >= 3 else 1
    by_module: dict[str, set[str]] = {m: set(n) for m, n in callable_imports.items()}
    for cls in ctx.classes:
        module = IMPORTS[cls][col]
        name = cls if not (cls == "Asset" and ctx.version < 3) else "Dataset"
        by_module.setdefault(module, set()).add(name)
    by_module.setdefault(IMPORTS["DAG"][col], set()).add("DAG")
    _providers_needed(ctx, by_module)
    std = {"datetime"} if ctx.needs_datetime else set()
    if any(d.uses_fs for d in ctx.decisions):
        std.add("os")
    if "luigi" in ctx.helpers:
        std.add("importlib")
    third_plain = {"pendulum"} if ctx.needs_pendulum else set()
    std_from = {"typing": set(ctx.typing)} if ctx.typing else {}
    return import_block(std, std_from, third_plain, by_module)


def _providers_needed(ctx: Ctx, by_module: dict[str, set[str]]) -> None:
    """BA132 for each provider package the file imports from that a plain
    Airflow install of the target version does not bring: the DAG loads only
    where it is installed (docs/output.md)."""
    needed: dict[str, set[str]] = {}
    for module, names in by_module.items():
        package = provider_package(module)
        if (
            package
            and package.removeprefix("apache-airflow-providers-")
            not in (PLAIN_INSTALL_PROVIDERS[ctx.version])
        ):
            needed.setdefault(package, set()).update(names)
    for package, names in sorted(needed.items()):
        ctx.add(
            loss(
                "BA132",
                f"the DAG imports {', '.join(sorted(names))} from {package}, which a plain "
                "`pip install apache-airflow` does not bring: it loads only where that "
                "package is installed",
                source=ctx.workflow,
                target=package,
            )
        )
