"""The rewrite itself: one libcst transformer over an Airflow 2 DAG file.

Only what Airflow 3 forces to change is touched; everything else (comments,
layout, TaskFlow, loops, factories, ``default_args``, helper code) is left
byte for byte. Each change is a ``Finding`` with a code of
``wfconv.upgrade.codes``; so is each thing that cannot be changed safely
(left as it is). The order of work:

1. ``Scan`` (scan.py) finds the DAG sites, context functions and ``default_args``;
2. each site's schedule is classified (timemodel.py), from its literal or from
   the values wfconv's Airflow reader found for it;
3. ``Upgrade`` rewrites imports, DAG and operator arguments, template strings,
   context access and schedules, and adds the imports its new code needs.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from wfconv.upgrade import jinja, layout, subdag, trigger
from wfconv.upgrade.model import Finding, Options
from wfconv.upgrade.moves import REWRITTEN, known_module, move_of
from wfconv.upgrade.scan import DAG_DECORATORS, Scan, Site, keyword, qualified
from wfconv.upgrade.timemodel import SiteTime, classify_literal, from_ir

SDK = "airflow.sdk"

# DAG(...) keyword arguments Airflow 3 renamed or removed.
DAG_RENAMES = {"concurrency": ("max_active_tasks", "UG203"), "fail_stop": ("fail_fast", "UG204")}
DAG_UI_ONLY = ("default_view", "orientation", "full_filepath")
SCHEDULE_ARGS = ("schedule", "schedule_interval", "timetable")
TRIGGER_RULES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
TRIGGER_RULE_ATTRS = {"DUMMY": "ALWAYS", "NONE_FAILED_OR_SKIPPED": "NONE_FAILED_MIN_ONE_SUCCESS"}
# --timetable trigger: the run's date strings, from data_interval_start.
TRIGGER_FORMATS = {
    "ds": "strftime({q}%Y-%m-%d{q})",
    "ds_nodash": "strftime({q}%Y%m%d{q})",
    "ts": "isoformat()",
    "ts_nodash": "strftime({q}%Y%m%dT%H%M%S{q})",
}
# Classes renamed in Airflow 3 whose keyword arguments were renamed too.
KEYWORD_RENAMES = {
    "airflow.timetables.datasets.DatasetOrTimeSchedule": ("datasets", "assets"),
}
# Where a string is documentation, never a template.
DOC_KWARGS = frozenset({"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "description"})
# Context keys in Python: key -> (new key, needs a schedule with next/prev dates).
CONTEXT_RENAMES = {
    "execution_date": "logical_date",
    "next_execution_date": "data_interval_end",
    "prev_execution_date_success": "prev_data_interval_start_success",
}


@dataclass
class Needs:
    """Imports the new code needs: (module, name) for ``from``, (module, None) for ``import``."""

    items: set[tuple[str, str | None]] = field(default_factory=set)

    def add(self, module: str, name: str | None = None) -> None:
        self.items.add((module, name))


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _string_value(node: cst.BaseExpression):
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            return node.evaluated_value
        except Exception:  # noqa: BLE001 - an f-string part or bytes: not a literal str
            return None
    return None


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Upgrade(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (
        PositionProvider,
        QualifiedNameProvider,
        ParentNodeProvider,
        ScopeProvider,
    )

    def __init__(
        self, scan: Scan, times: dict[int, SiteTime], opts: Options, plan, trigger_plan=None
    ) -> None:
        super().__init__()
        self.scan = scan
        # A file that imports airflow.sdk is written for Airflow 3 already: its
        # schedules mean what Airflow 3 says (the trigger model) and are kept.
        self.airflow3 = scan.imports_sdk
        self.times = times
        self.opts = opts
        self.plan = plan  # subdag.Plan
        self.findings: list[Finding] = []
        self.needs = Needs()
        self.renames: dict[int, str] = {}  # id(Name node) -> new name
        # --timetable trigger: the sites that move (id -> reason for those that cannot).
        self.trigger_refused: dict[int, str] = dict(trigger_plan or {})
        self.trigger_sites: set[int] = {k for k, v in self.trigger_refused.items() if v is None}
        self.removed_imports_kept: set[tuple[str, str]] = set()
        self._string_stack: list[cst.CSTNode] = []
        self._consensus = self._file_schedule()

    # -- helpers -------------------------------------------------------------
    def line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:
            return 0

    def report(self, code: str, node_or_line, message: str) -> bool:
        """Record a finding when its code is enabled; True if it is."""
        if not self.opts.enabled(code):
            return False
        line = node_or_line if isinstance(node_or_line, int) else self.line(node_or_line)
        self.findings.append(Finding(code, line, message))
        return True

    def q(self, node: cst.CSTNode) -> set[str]:
        return qualified(self.get_metadata, node)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    # -- which DAG a node belongs to ------------------------------------------
    def _lookup_dag_name(self, name: cst.Name) -> Site | None:
        scope = self.get_metadata(ScopeProvider, name, None)
        while scope is not None:
            site = self.scan.dag_names.get((id(scope), name.value))
            if site is not None:
                return site
            if scope.parent is scope:
                break
            scope = scope.parent
        return None

    def site_of(self, node: cst.CSTNode) -> Site | None:
        cur = node
        while cur is not None:
            site = self.scan.site_of_call.get(id(cur))
            if site is not None:
                return site
            if isinstance(cur, cst.Call):
                arg = keyword(cur, "dag")
                if arg is not None and isinstance(arg.value, cst.Name):
                    found = self._lookup_dag_name(arg.value)
                    if found is not None:
                        return found
            elif isinstance(cur, cst.With):
                for item in cur.items:
                    site = self.scan.site_of_call.get(id(item.item))
                    if site is None and isinstance(item.item, cst.Name):
                        site = self._lookup_dag_name(item.item)
                    if site is not None:
                        return site
            elif isinstance(cur, cst.FunctionDef):
                for dec in cur.decorators:
                    site = self.scan.site_of_call.get(
                        id(dec.decorator)
                    ) or self.scan.site_of_call.get(id(dec))
                    if site is not None:
                        return site
            cur = self.parent(cur)
        return None

    def _file_schedule(self) -> jinja.Schedule | None:
        """The one schedule every DAG of the file has, if they agree."""
        if self.airflow3:
            return None
        kinds = {
            self.times[id(s.node)].for_templates()
            for s in self.scan.sites
            if not (s.call is not None and self.plan.owns(s.call))
        }
        return kinds.pop() if len(kinds) == 1 else None

    def schedule_for(self, node: cst.CSTNode) -> jinja.Schedule:
        site = self.site_of(node)
        if site is None:
            if self._consensus is None:
                return jinja.UNKNOWN
            if self.trigger_sites and len(self.trigger_sites) == len(self.scan.sites):
                return jinja.Schedule(self._consensus.kind, self._consensus.period, True)
            return self._consensus
        t = self.times[id(site.node)]
        if self.airflow3 and t.kind in ("cron", "delta", "absent"):
            return jinja.UNKNOWN  # Airflow 3's trigger model: no Airflow 2 dates to keep
        return t.for_templates(trigger=id(site.node) in self.trigger_sites)

    # -- imports ---------------------------------------------------------------
    def _in_import_fallback(self, node: cst.CSTNode) -> bool:
        """Inside ``try: ... except ImportError:`` (either branch): code that is
        ready for several Airflow versions already."""
        cur = self.parent(node)
        while cur is not None:
            if isinstance(cur, cst.Try):
                for handler in cur.handlers:
                    t = handler.type
                    names = [e.value for e in t.elements] if isinstance(t, cst.Tuple) else [t]
                    if t is None or any(
                        isinstance(n, cst.Name)
                        and n.value in ("ImportError", "ModuleNotFoundError")
                        for n in names
                    ):
                        return True
            cur = self.parent(cur)
        return False

    def _import_module_name(self, node: cst.ImportFrom) -> str | None:
        if node.relative or node.module is None:
            return None
        return _code(node.module)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ):
        if len(original_node.body) != 1 or not isinstance(original_node.body[0], cst.ImportFrom):
            if len(original_node.body) == 1 and isinstance(original_node.body[0], cst.Import):
                self._check_plain_import(original_node.body[0])
            return self.plan.wrap(original_node, updated_node)
        node = original_node.body[0]
        module = self._import_module_name(node)
        if module is None or not (module == "airflow" or module.startswith("airflow.")):
            return updated_node
        if isinstance(node.names, cst.ImportStar) or self._in_import_fallback(original_node):
            return updated_node
        groups: dict[str, list[cst.ImportAlias]] = {}
        order: list[str] = []
        moved: list[str] = []
        for alias in node.names:
            name = alias.evaluated_name
            move = move_of(module, name)
            target = module
            new_alias = alias
            if move is not None and move.removed:
                if (module, name) in REWRITTEN and self._uses_rewritten(node, module, name):
                    self.report(
                        "UG101",
                        node,
                        f"`{module}.{name}` removed in Airflow 3: its uses are rewritten",
                    )
                    continue
                self.report(
                    "UG103", node, f"`{module}.{name}` was removed in Airflow 3: {move.note}"
                )
                self.removed_imports_kept.add((module, name))
            elif move is not None:
                code = "UG102" if move.name != name else "UG101"
                if self.report(code, node, self._moved_message(module, name, move)):
                    target = move.module
                    if move.name != name:
                        new_alias = alias.with_changes(name=cst.Name(move.name))
                        if alias.asname is None:
                            self._rename_uses(node, name, move.name)
                    moved.append(name)
            if target not in groups:
                groups[target] = []
                order.append(target)
            groups[target].append(new_alias)
        if (
            not moved
            and len(order) == 1
            and order[0] == module
            and len(groups[module]) == len(node.names)
        ):
            return updated_node
        if len(order) == 1 and len(groups[order[0]]) == len(node.names):
            # One new home for every name: only the module changes, and the
            # statement keeps its parentheses, layout and comments.
            stmt = updated_node.body[0].with_changes(
                module=cst.parse_expression(order[0]), names=groups[order[0]]
            )
            return updated_node.with_changes(body=[stmt])
        lines = []
        for i, target in enumerate(order):
            aliases = groups[target]
            aliases = [
                a.with_changes(comma=cst.MaybeSentinel.DEFAULT) if j == len(aliases) - 1 else a
                for j, a in enumerate(aliases)
            ]
            if len(aliases) > 1:
                aliases = [
                    a
                    if j == len(aliases) - 1 or isinstance(a.comma, cst.Comma)
                    else a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                    for j, a in enumerate(aliases)
                ]
            parens = node.lpar is not None and len(aliases) > 1
            stmt = cst.ImportFrom(
                module=cst.parse_expression(target),
                names=aliases,
                lpar=node.lpar if parens else None,
                rpar=node.rpar if parens else None,
            )
            line = updated_node.with_changes(body=[stmt])
            if i > 0:  # the statement's comments stay on its first line
                line = line.with_changes(
                    leading_lines=[],
                    trailing_whitespace=cst.TrailingWhitespace(
                        newline=updated_node.trailing_whitespace.newline
                    ),
                )
            lines.append(line)
        if not lines:  # every name was removed: the comments stay (see _drop_markers)
            return _removed_marker(original_node)
        kept = {c.value for line in lines for c in layout.comments_in(line)}
        lost = [c for c in layout.comments_in(original_node) if c.value not in kept]
        if lost:
            lines[0] = lines[0].with_changes(
                leading_lines=[*lines[0].leading_lines, *(cst.EmptyLine(comment=c) for c in lost)]
            )
        return cst.FlattenSentinel(lines)

    def _uses_rewritten(self, node: cst.ImportFrom, module: str, name: str) -> bool:
        """Whether every use of a removed name is rewritten, so its import can go."""
        if name == "SubDagOperator":
            return self.plan.import_removable(module, name)
        if not self.opts.enabled("UG208" if name == "days_ago" else "UG101"):
            return False
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        for assignment in scope.assignments[name]:
            if getattr(assignment, "node", None) is not node:
                continue
            for access in assignment.references:
                parent = self.parent(access.node)
                if not (isinstance(parent, cst.Call) and parent.func is access.node):
                    return False
        return True

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return self.plan.arg(original_node, updated_node)

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator):
        site = self.scan.site_of_call.get(id(original_node))
        if site is None:  # not a bare @dag
            return updated_node
        bare = cst.Call(func=updated_node.decorator)
        call = self._schedule(site, cst.Call(func=original_node.decorator), bare)
        return updated_node if call is bare else updated_node.with_changes(decorator=call)

    def _moved_message(self, module: str, name: str, move) -> str:
        if move.name != name:
            return f"`{module}.{name}` is `{move.module}.{move.name}` in Airflow 3"
        return f"`{module}` → `{move.module}` ({name})"

    def _check_plain_import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = alias.evaluated_name
            if (
                module.startswith("airflow.")
                and known_module(module)
                and not self._in_import_fallback(node)
            ):
                self.report(
                    "UG103",
                    node,
                    f"`import {module}`: the module was moved or removed in "
                    "Airflow 3; import the names from their new place by hand",
                )

    def _rename_uses(self, import_node: cst.ImportFrom, old: str, new: str) -> None:
        scope = self.get_metadata(ScopeProvider, import_node, None)
        if scope is None:
            return
        for assignment in scope.assignments[old]:
            if getattr(assignment, "node", None) is not import_node:
                continue
            for access in assignment.references:
                if isinstance(access.node, cst.Name):
                    self.renames[id(access.node)] = new

    # -- parameters named after a context key --------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        cf = self.scan.context_functions.get(id(node))
        if cf is None or not cf.by_name:
            return
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        names = {p.name.value for p in params}
        trigger_mode = bool(self.trigger_sites) and self.schedule_for(node).trigger
        for index, param in enumerate(params):
            key = param.name.value
            if (
                trigger_mode
                and key in jinja.RUN_DATE
                and not self._filled_by_caller(node, key, index, param in node.params.kwonly_params)
            ):
                self.report(
                    "UG404",
                    param,
                    f"parameter `{key}` of `{node.name.value}()`: with "
                    "`--timetable trigger` the run's date is `data_interval_start`; "
                    "read it from there by hand",
                )
                continue
            if key not in jinja.REMOVED:
                continue
            filled = self._filled_by_caller(node, key, index, param in node.params.kwonly_params)
            if filled is True:
                continue  # the caller passes it: not the context's value
            if filled is None:
                self.report(
                    "UG404",
                    param,
                    f"parameter `{key}` of `{node.name.value}()`: Airflow 3 "
                    "no longer passes this context key, and the callers' arguments are not "
                    "literal; rename it by hand",
                )
                continue
            new = CONTEXT_RENAMES.get(key)
            schedule = self.schedule_for(node)
            if (
                new is not None
                and key != "execution_date"
                and schedule.kind not in ("periodic", "manual")
            ):
                new = None
            if new is not None and schedule.trigger:
                new = {"execution_date": "data_interval_start"}.get(key, new)
            if new is None or new in names:
                why = (
                    f"`{new}` is a parameter already"
                    if new in names
                    else "Airflow 3 has no context key with its value"
                )
                self.report(
                    "UG404",
                    param,
                    f"parameter `{key}` of `{node.name.value}()`: {why}; "
                    "compute it from `logical_date` / `data_interval_start` by hand",
                )
                continue
            if self._rename_param(node, param, new) and not self.report(
                "UG403",
                param,
                f"parameter `{key}` of `{node.name.value}()` → `{new}` (Airflow 3 passes "
                f"the same value under that name)",
            ):
                for k in [k for k, v in self.renames.items() if v == new]:
                    del self.renames[k]

    def _filled_by_caller(self, fn: cst.FunctionDef, key: str, index: int, kwonly: bool):
        """True when a caller passes the parameter itself, None when it cannot
        be told, False when only the context can fill it."""
        name = fn.name.value
        for op in self.scan.callable_uses.get(name, []):
            op_args, op_kwargs = keyword(op, "op_args"), keyword(op, "op_kwargs")
            if op_kwargs is not None:
                if not isinstance(op_kwargs.value, cst.Dict):
                    return None
                if key in {
                    _string_value(e.key)
                    for e in op_kwargs.value.elements
                    if isinstance(e, cst.DictElement)
                }:
                    return True
            if op_args is not None and not kwonly:
                if not isinstance(op_args.value, (cst.List, cst.Tuple)):
                    return None
                if len(op_args.value.elements) > index:
                    return True
        for call in self.scan.direct_calls.get(name, []):
            if any(a.star for a in call.args):
                return None
            if any(a.keyword is not None and a.keyword.value == key for a in call.args):
                return True
            if not kwonly and sum(1 for a in call.args if a.keyword is None) > index:
                return True
        return False

    def _rename_param(self, fn: cst.FunctionDef, param: cst.Param, new: str) -> bool:
        scope = self.get_metadata(ScopeProvider, param.name, None)
        if scope is None:
            return False
        assignments = list(scope.assignments[param.name.value])
        if len(assignments) != 1 or getattr(assignments[0], "node", None) is not param:
            return False  # the body rebinds the name: renaming could change the code
        self.renames[id(param.name)] = new
        for access in assignments[0].references:
            if isinstance(access.node, cst.Name):
                self.renames[id(access.node)] = new
        return True

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(id(original_node))
        return updated_node.with_changes(value=new) if new else updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        updated_node = updated_node.with_changes(body=_drop_markers(updated_node.body))
        return add_imports(updated_node, self.needs, self.scan)

    def leave_IndentedBlock(self, original_node, updated_node):
        body = _drop_markers(updated_node.body)
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated_node.with_changes(body=body)

    # -- calls -------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.plan.owns(original_node):  # a sub-DAG that becomes a TaskGroup
            return self.plan.replace_call(self, original_node, updated_node)
        site = self.scan.site_of_call.get(id(original_node))
        if site is not None:
            updated_node = self._dag_call(site, original_node, updated_node)
        elif id(original_node) in self.scan.operator_calls:
            updated_node = self._operator_call(original_node, updated_node)
        updated_node = self._renamed_keywords(original_node, updated_node)
        names = self.q(original_node.func)
        if "airflow.utils.dates.days_ago" in names:
            return self._days_ago(original_node, updated_node)
        if "airflow.operators.python.is_venv_installed" in names and self.report(
            "UG101",
            original_node,
            "`is_venv_installed()` was removed in Airflow 3: "
            "replaced by the test it made (virtualenv on PATH or importable)",
        ):
            self.needs.add("shutil")
            self.needs.add("importlib.util")
            return cst.parse_expression(
                'bool(shutil.which("virtualenv") or importlib.util.find_spec("virtualenv"))'
            )
        replaced = self.plan.replace_call(self, original_node, updated_node)
        if replaced is not None:
            return replaced
        return self._context_get(original_node, updated_node)

    def _dag_call(self, site: Site, original: cst.Call, call: cst.Call) -> cst.Call:
        drop: set[int] = set()
        args = list(call.args)
        for i, arg in enumerate(original.args):
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key in DAG_RENAMES:
                new, code = DAG_RENAMES[key]
                if self.report(code, arg, f"`{key}=` is `{new}=` in Airflow 3"):
                    args[i] = args[i].with_changes(keyword=cst.Name(new))
            elif key in DAG_UI_ONLY:
                if self.report("UG205", arg, f"`{key}=` was removed in Airflow 3 (UI only)"):
                    drop.add(i)
            elif key == "sla_miss_callback":
                if self.report("UG206", arg, "`sla_miss_callback=` removed: Airflow 3 has no SLAs"):
                    drop.add(i)
        call = call.with_changes(args=args)
        call = self._schedule(site, original, call)
        if id(site.node) in self.trigger_sites and self.opts.enabled("UG506"):
            call = trigger.shift_dates(call, self.times[id(site.node)].period)
        return layout.remove_args(call, drop)

    def _schedule_arg(self, call: cst.Call) -> tuple[int, str] | None:
        for i, arg in enumerate(call.args):
            if arg.keyword is not None and arg.keyword.value in SCHEDULE_ARGS:
                return i, arg.keyword.value
        positional = [i for i, a in enumerate(call.args) if a.keyword is None and not a.star]
        if len(positional) >= 3:  # DAG(dag_id, description, schedule)
            return positional[2], ""
        return None

    def _schedule(self, site: Site, original: cst.Call, call: cst.Call) -> cst.Call:
        t = self.times[id(site.node)]
        if self.airflow3:
            return self._rename_schedule_arg(original, call)
        found = self._schedule_arg(original)
        star = any(a.star == "**" for a in original.args)
        add: list[cst.Arg] = []
        where = site.node
        if found is not None:
            i, key = found
            arg = call.args[i]
            if key == "schedule_interval" and self.report(
                "UG201", original.args[i], "`schedule_interval=` is `schedule=` in Airflow 3"
            ):
                arg = arg.with_changes(keyword=cst.Name("schedule"))
            if key == "timetable" and self.report(
                "UG202", original.args[i], "`timetable=` is `schedule=` in Airflow 3"
            ):
                arg = arg.with_changes(keyword=cst.Name("schedule"))
            new_value = self._timetable(site, t, arg.value, original.args[i])
            if new_value is not None:
                arg = arg.with_changes(value=new_value)
            call = call.with_changes(args=[*call.args[:i], arg, *call.args[i + 1 :]])
        elif star:
            self.report(
                "UG207",
                where,
                "DAG arguments come from `**kwargs`: if they name no schedule, "
                "Airflow 2 ran this DAG daily and Airflow 3 never will",
            )
        elif self.opts.enabled("UG503"):
            value = self._timetable(site, t, None, where)
            if value is not None:
                add.append(layout.kwarg("schedule", _code(value)))
        if t.kind not in ("none", "datasets") and keyword(original, "catchup") is None:
            if star:
                self.report(
                    "UG207",
                    where,
                    "DAG arguments come from `**kwargs`: Airflow 2 caught up "
                    "by default and Airflow 3 does not; say `catchup=` explicitly",
                )
            elif self.report(
                "UG504",
                where,
                "catch-up was on by default in Airflow 2: `catchup=True` keeps it on in Airflow 3",
            ):
                add.append(layout.kwarg("catchup", "True"))
        return layout.append_args(call, add)

    def _rename_schedule_arg(self, original: cst.Call, call: cst.Call) -> cst.Call:
        found = self._schedule_arg(original)
        if found is None or found[1] not in ("schedule_interval", "timetable"):
            return call
        i, key = found
        if self.report(
            "UG201" if key == "schedule_interval" else "UG202",
            original.args[i],
            f"`{key}=` is `schedule=` in Airflow 3",
        ):
            args = list(call.args)
            args[i] = args[i].with_changes(keyword=cst.Name("schedule"))
            return call.with_changes(args=args)
        return call

    def _timetable(self, site: Site, t: SiteTime, value, where) -> cst.BaseExpression | None:
        """The Airflow 3 schedule expression that keeps Airflow 2's time model
        (None: keep the value as it is)."""
        if t.kind in ("none", "once", "continuous", "datasets", "timetable"):
            return None
        if t.kind == "unknown":
            self.report(
                "UG505",
                where,
                "the schedule's value is not known statically (or takes "
                "values of several kinds): its meaning changes in Airflow 3 "
                "(docs/semantics.md R3); write the timetable explicitly",
            )
            return None
        tz = t.tz or "UTC"
        if t.kind == "absent":
            code = "UG503"
            expr = "timedelta(days=1)"
            self.needs.add("datetime", "timedelta")
            kind = "delta"
        else:
            code = "UG501" if t.kind == "cron" else "UG502"
            expr = _code(value)
            kind = t.kind
        trigger = self._trigger(site, t, kind, expr, tz, where)
        if trigger is not None:
            return trigger
        if kind == "cron":
            msg = f"cron schedule kept in Airflow 2's data-interval model (timezone {tz})"
            if not self.report(code, where, msg):
                return None
            self.needs.add(SDK, "CronDataIntervalTimetable")
            return cst.parse_expression(f"CronDataIntervalTimetable({expr}, timezone={_quote(tz)})")
        msg = (
            "no schedule given: Airflow 2 ran this DAG daily, made explicit"
            if code == "UG503"
            else "timedelta schedule kept in Airflow 2's data-interval model"
        )
        if not self.report(code, where, msg):
            return None
        self.needs.add(SDK, "DeltaDataIntervalTimetable")
        return cst.parse_expression(f"DeltaDataIntervalTimetable({expr})")

    def _trigger(self, site, t, kind, expr, tz, where) -> cst.BaseExpression | None:
        """The trigger timetable asked for with ``--timetable trigger``, or None."""
        if self.opts.timetable != "trigger":
            return None
        if id(site.node) not in self.trigger_sites:
            why = self.trigger_refused.get(id(site.node))
            if why:
                self.report(
                    "UG507",
                    where,
                    f"`--timetable trigger` not possible: {why}; "
                    "the data-interval timetable is kept",
                )
            return None
        if not self.report(
            "UG506",
            where,
            "trigger timetable with Airflow 2's intervals; "
            "start date one period later; templates read data_interval_start",
        ):
            return None
        self.needs.add(SDK, "CronTriggerTimetable" if kind == "cron" else "DeltaTriggerTimetable")
        self.needs.add("datetime", "timedelta")
        return cst.parse_expression(trigger.timetable(kind, expr, tz, t.period))

    def _renamed_keywords(self, original: cst.Call, call: cst.Call) -> cst.Call:
        """Keyword arguments of a class that Airflow 3 renamed with the class."""
        names = self.q(original.func)
        for qual, (old, new) in KEYWORD_RENAMES.items():
            if qual not in names:
                continue
            for i, arg in enumerate(original.args):
                if (
                    arg.keyword is not None
                    and arg.keyword.value == old
                    and self.report(
                        "UG102",
                        arg,
                        f"`{old}=` of `{qual.rsplit('.', 1)[1]}` is `{new}=` in Airflow 3",
                    )
                ):
                    call = call.with_changes(
                        args=[
                            *call.args[:i],
                            call.args[i].with_changes(keyword=cst.Name(new)),
                            *call.args[i + 1 :],
                        ]
                    )
        return call

    def _operator_call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        names = self.q(original.func)
        drop: set[int] = set()
        args = list(call.args)
        for i, arg in enumerate(original.args):
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key == "sla":
                if self.report("UG304", arg, "`sla=` removed: Airflow 3 has no SLAs"):
                    drop.add(i)
            elif key == "task_concurrency":
                if self.report("UG305", arg, "`task_concurrency=` is `max_active_tis_per_dag=`"):
                    args[i] = args[i].with_changes(keyword=cst.Name("max_active_tis_per_dag"))
            elif key == "provide_context":
                if self.report(
                    "UG306", arg, "`provide_context=` removed (the context is always passed)"
                ):
                    drop.add(i)
            elif key == "trigger_rule":
                rule = _string_value(arg.value)
                if rule in TRIGGER_RULES and self.report(
                    "UG307", arg, f"trigger rule {rule!r} is {TRIGGER_RULES[rule]!r} in Airflow 3"
                ):
                    args[i] = args[i].with_changes(
                        value=cst.SimpleString(_quote(TRIGGER_RULES[rule]))
                    )
            elif key == "execution_date" and any(
                n.endswith("TriggerDagRunOperator") for n in names
            ):
                if self.report("UG308", arg, "`execution_date=` is `logical_date=` in Airflow 3"):
                    args[i] = args[i].with_changes(keyword=cst.Name("logical_date"))
            elif key == "use_task_execution_day":
                if self.report(
                    "UG308", arg, "`use_task_execution_day=` is `use_task_logical_date=`"
                ):
                    args[i] = args[i].with_changes(keyword=cst.Name("use_task_logical_date"))
        return layout.remove_args(call.with_changes(args=args), drop)

    # -- default_args dicts ---------------------------------------------------------
    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.Dict:
        if id(original_node) not in self.scan.default_args_dicts:
            return updated_node
        elements = list(updated_node.elements)
        drop: set[int] = set()
        for i, orig in enumerate(original_node.elements):
            key = _string_value(orig.key) if isinstance(orig, cst.DictElement) else None
            el = elements[i]
            if key == "sla" and self.report(
                "UG304", orig, '`"sla"` in default_args removed: Airflow 3 has no SLAs'
            ):
                drop.add(i)
            elif key == "provide_context" and self.report(
                "UG306", orig, '`"provide_context"` in default_args removed'
            ):
                drop.add(i)
            elif key == "task_concurrency" and self.report(
                "UG305", orig, '`"task_concurrency"` in default_args is `"max_active_tis_per_dag"`'
            ):
                elements[i] = el.with_changes(
                    key=cst.SimpleString(_quote("max_active_tis_per_dag"))
                )
            elif key == "trigger_rule":
                rule = _string_value(orig.value)
                if rule in TRIGGER_RULES and self.report(
                    "UG307", orig, f"trigger rule {rule!r} is {TRIGGER_RULES[rule]!r} in Airflow 3"
                ):
                    elements[i] = el.with_changes(
                        value=cst.SimpleString(_quote(TRIGGER_RULES[rule]))
                    )
        return layout.remove_dict_elements(updated_node.with_changes(elements=elements), drop)

    # -- attributes: TriggerRule.DUMMY ------------------------------------------------
    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute):
        attr = original_node.attr.value
        if attr in TRIGGER_RULE_ATTRS and any(
            n.endswith("TriggerRule." + attr) for n in self.q(original_node)
        ):
            if self.report(
                "UG307",
                original_node,
                f"`TriggerRule.{attr}` is `TriggerRule.{TRIGGER_RULE_ATTRS[attr]}` in Airflow 3",
            ):
                return updated_node.with_changes(attr=cst.Name(TRIGGER_RULE_ATTRS[attr]))
        return updated_node

    # -- days_ago ---------------------------------------------------------------------------
    def _days_ago(self, original: cst.Call, call: cst.Call) -> cst.BaseExpression:
        values: dict[str, int] = {}
        names = ["n", "hour", "minute", "second", "microsecond"]
        literal = True
        for i, arg in enumerate(original.args):
            key = (
                arg.keyword.value
                if arg.keyword is not None
                else (names[i] if i < len(names) else "")
            )
            if key == "days":
                key = "n"
            if isinstance(arg.value, cst.Integer) and key in names:
                values[key] = int(arg.value.value)
            else:
                literal = False
        parent = self.parent(original)
        as_start = (
            isinstance(parent, cst.Arg)
            and parent.keyword is not None
            and parent.keyword.value in ("start_date", "end_date")
        ) or (
            isinstance(parent, cst.DictElement)
            and _string_value(parent.key) in ("start_date", "end_date")
        )
        if not self.opts.enabled("UG208"):
            return call
        self.needs.add("pendulum")
        if as_start and literal and "n" in values:
            day = self.opts.day() - _dt.timedelta(days=values["n"])
            time = [values.get(k, 0) for k in names[1:]]
            while time and time[-1] == 0:
                time.pop()
            parts = [str(day.year), str(day.month), str(day.day), *map(str, time)]
            self.report(
                "UG208",
                original,
                f"`{_code(original)}` was {day.isoformat()} when the upgrade ran: "
                "written as that fixed date",
            )
            return cst.parse_expression(f'pendulum.datetime({", ".join(parts)}, tz="UTC")')
        n = _code(original.args[0].value) if original.args else "1"
        if (
            original.args
            and original.args[0].keyword is not None
            and original.args[0].keyword.value not in ("n", "days")
        ):
            n = "1"
        hours = [
            (k, _code(a.value))
            for a in original.args
            if a.keyword is not None and (k := a.keyword.value) in names[1:]
        ]
        base = 'pendulum.today("UTC")'
        if hours:
            base += ".at(" + ", ".join(f"{k}={v}" for k, v in hours) + ")"
        self.report(
            "UG208", original, f"`{_code(original)}` is `{base}.add(days=-{n})` in Airflow 3"
        )
        return cst.parse_expression(
            f"{base}.add(days=-({n}))" if not n.isdigit() else f"{base}.add(days=-{n})"
        )

    # -- template strings ------------------------------------------------------------------
    def _is_doc(self, node: cst.CSTNode) -> bool:
        cur = self.parent(node)
        while isinstance(cur, (cst.ConcatenatedString, cst.FormattedString)):
            cur = self.parent(cur)
        if isinstance(cur, cst.Expr):  # a bare string statement: a docstring
            return True
        if isinstance(cur, cst.Arg) and cur.keyword is not None and cur.keyword.value in DOC_KWARGS:
            return True
        if isinstance(cur, cst.Assign) and any(
            isinstance(t.target, cst.Attribute)
            and t.target.attr.value in DOC_KWARGS | {"__doc__"}
            or isinstance(t.target, cst.Name)
            and t.target.value == "__doc__"
            for t in cur.targets
        ):
            return True
        return False

    def _template(self, original: cst.CSTNode, raw: str) -> str | None:
        if not jinja.has_template(raw) or self._is_doc(original):
            return None
        schedule = self.schedule_for(original)
        new, edits = jinja.rewrite(raw, schedule)
        for e in edits:
            if e.replacement is None:
                self.report(
                    "UG402",
                    original,
                    f"template variable `{e.name}` has no Airflow 3 equivalent here: {e.why}",
                )
            elif not self.opts.enabled("UG401"):
                return None
        applied = [e for e in edits if e.replacement is not None]
        if not applied:
            return None
        for e in applied:
            self.report("UG401", original, f"template `{e.name}` → `{e.replacement}` ({e.why})")
        return new if new != raw else None

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString):
        new = self._template(original_node, updated_node.value)
        return updated_node.with_changes(value=new) if new is not None else updated_node

    def leave_FormattedStringText(self, original_node, updated_node):
        new = self._template(original_node, updated_node.value)
        return updated_node.with_changes(value=new) if new is not None else updated_node

    # -- context access in Python ----------------------------------------------------------
    def _context_function_of(self, node: cst.CSTNode):
        cur = self.parent(node)
        while cur is not None:
            if isinstance(cur, cst.FunctionDef):
                return self.scan.context_functions.get(id(cur))
            cur = self.parent(cur)
        return None

    def _holds_context(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Name):
            return False
        cf = self._context_function_of(value)
        return cf is not None and value.value in cf.context_names

    def _context_key(
        self, key: str, original: cst.CSTNode, subscript: bool, holder: str, quote: str
    ):
        """(new Python expression or new key, code) for a removed context key."""
        schedule = self.schedule_for(original)
        # Keys that are named parameters of the function are not in its
        # **kwargs: Python hands them to the parameter instead.
        named = self._named_params(original)

        def get(k: str) -> str:
            return k if k in named else f"{holder}[{quote}{k}{quote}]"

        if schedule.trigger and key in jinja.RUN_DATE:
            if key == "logical_date":
                return ("key", "data_interval_start"), None
            fmt = TRIGGER_FORMATS.get(key)
            if fmt is None or not subscript:
                return None, "the run's date moved to `data_interval_start`"
            return ("expr", f"{get('data_interval_start')}.{fmt.format(q=quote)}"), None
        if key in CONTEXT_RENAMES:
            new_key = CONTEXT_RENAMES[key]
            if key != "execution_date" and schedule.kind not in ("periodic", "manual"):
                return None, f"`{key}` needs a periodic schedule to have an equivalent here"
            if schedule.trigger:
                new_key = {"execution_date": "data_interval_start"}.get(key, new_key)
            if new_key in named:
                return (
                    (("expr", new_key), None)
                    if subscript
                    else (None, f"`{new_key}` is a parameter")
                )
            return ("key", new_key), None
        if not subscript:
            return None, "`.get()` of a computed key"
        expr, why = jinja.template_replacement(key, schedule)
        if expr is None:
            return None, why
        q = quote
        simple = {
            "macros.ds_add(ds, -1)": f"{get('macros')}.ds_add({get('ds')}, -1)",
            "macros.ds_add(ds, 1)": f"{get('macros')}.ds_add({get('ds')}, 1)",
            "data_interval_end | ds": f"{get('data_interval_end')}.strftime({q}%Y-%m-%d{q})",
            "data_interval_end | ds_nodash": f"{get('data_interval_end')}.strftime({q}%Y%m%d{q})",
            "ds": get("ds"),
            "ds_nodash": get("ds_nodash"),
            "logical_date": get("logical_date"),
            # --timetable trigger: the run's date is data_interval_start
            "data_interval_start": get("data_interval_start"),
            "data_interval_start | ds": f"{get('data_interval_start')}.strftime({q}%Y-%m-%d{q})",
            "data_interval_start | ds_nodash": f"{get('data_interval_start')}.strftime({q}%Y%m%d{q})",
            "macros.ds_add(data_interval_start | ds, -1)": f"{get('macros')}.ds_add("
            f"{get('data_interval_start')}.strftime({q}%Y-%m-%d{q}), -1)",
            "macros.ds_add(data_interval_start | ds, 1)": f"{get('macros')}.ds_add("
            f"{get('data_interval_start')}.strftime({q}%Y-%m-%d{q}), 1)",
        }
        if expr in simple:
            return ("expr", simple[expr]), None
        return None, "no short Python equivalent; compute it from `logical_date`"

    def _named_params(self, node: cst.CSTNode) -> set[str]:
        """The named parameters (as renamed) of the context function around ``node``."""
        cf = self._context_function_of(node)
        if cf is None or not cf.by_name:
            return set()
        p = cf.node.params
        return {
            self.renames.get(id(x.name), x.name.value)
            for x in (*p.posonly_params, *p.params, *p.kwonly_params)
        }

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript):
        if len(original_node.slice) != 1 or not isinstance(original_node.slice[0].slice, cst.Index):
            return updated_node
        key_node = original_node.slice[0].slice.value
        key = _string_value(key_node)
        if not self._context_key_of_interest(key, original_node) or not self._holds_context(
            original_node.value
        ):
            return updated_node
        return self._apply_context(original_node, updated_node, key, key_node, True)

    def _context_key_of_interest(self, key, node) -> bool:
        if key in jinja.REMOVED:
            return True
        return (
            key in jinja.RUN_DATE and bool(self.trigger_sites) and self.schedule_for(node).trigger
        )

    def _context_get(self, original: cst.Call, call: cst.Call):
        func = original.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "get" and original.args):
            return call
        key_node = original.args[0].value
        key = _string_value(key_node)
        if not self._context_key_of_interest(key, original) or not self._holds_context(func.value):
            return call
        return self._apply_context(original, call, key, key_node, False)

    def _apply_context(self, original, updated, key, key_node, subscript):
        holder = _code(original.value if subscript else original.func.value)
        quote = key_node.quote if isinstance(key_node, cst.SimpleString) else '"'
        quote = quote[0]
        new, why = self._context_key(key, original, subscript, holder, quote)
        if new is None:
            self.report("UG404", original, f"context key `{key}` removed in Airflow 3: {why}")
            return updated
        kind, value = new
        if not self.report(
            "UG403",
            original,
            f"context key `{key}` → {'`' + value + '`' if kind == 'key' else value}",
        ):
            return updated
        if kind == "key":
            new_key = cst.SimpleString(f"{quote}{value}{quote}")
            if subscript:
                return updated.with_changes(
                    slice=[updated.slice[0].with_changes(slice=cst.Index(value=new_key))]
                )
            return updated.with_changes(
                args=[updated.args[0].with_changes(value=new_key), *updated.args[1:]]
            )
        return cst.parse_expression(value)


MARKER = "__wfconv_removed__"


def _removed_marker(line: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """A placeholder for a statement that goes, carrying its comments until
    _drop_markers hands them to the next statement."""
    comments = [cst.EmptyLine(comment=c) for c in layout.comments_in(line)]
    return cst.SimpleStatementLine(
        body=[cst.Expr(cst.Name(MARKER))], leading_lines=[*line.leading_lines, *comments]
    )


def _is_marker(stmt) -> bool:
    return m.matches(stmt, m.SimpleStatementLine(body=[m.Expr(m.Name(MARKER))]))


def _drop_markers(body) -> list:
    out = []
    carry: list[cst.EmptyLine] = []
    for stmt in body:
        if _is_marker(stmt):
            carry += [e for e in stmt.leading_lines if e.comment is not None or not carry]
            continue
        if carry:
            stmt = stmt.with_changes(leading_lines=[*carry, *stmt.leading_lines])
            carry = []
        out.append(stmt)
    return out


# -- imports the new code needs ---------------------------------------------------------------


def add_imports(module: cst.Module, needs: Needs, scan: Scan) -> cst.Module:
    """``module`` with the imports of ``needs`` that it does not have yet:
    names from ``airflow.sdk`` join an existing ``from airflow.sdk import``,
    the rest go after the last top-level import."""
    body = list(module.body)
    have = _module_imports(body)
    froms: dict[str, list[str]] = {}
    plain: list[str] = []
    for mod, name in sorted(needs.items, key=lambda x: (x[0], x[1] or "")):
        if name is None:
            if mod.split(".")[0] in have["plain"] and mod in have["modules"]:
                continue
            plain.append(mod)
        elif (mod, name) not in have["from"] and name not in have["names"]:
            froms.setdefault(mod, []).append(name)
    if not froms and not plain:
        return module
    new_lines: list[cst.SimpleStatementLine] = []
    for mod in plain:
        new_lines.append(cst.parse_statement(f"import {mod}"))
    for mod, names in froms.items():
        index = _find_from(body, mod)
        if index is not None:
            line = body[index]
            stmt = line.body[0]
            aliases = list(stmt.names)
            last = aliases[-1]
            aliases[-1] = (
                last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                if not isinstance(last.comma, cst.Comma)
                else last
            )
            added = [cst.ImportAlias(name=cst.Name(n)) for n in names]
            added = [
                a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                for a in added[:-1]
            ] + [added[-1]]
            body[index] = line.with_changes(body=[stmt.with_changes(names=[*aliases, *added])])
        else:
            new_lines.append(cst.parse_statement(f"from {mod} import {', '.join(names)}"))
    if new_lines:
        at = _after_imports(body)
        body[at:at] = new_lines
    return module.with_changes(body=body)


def _module_imports(body) -> dict:
    have = {"from": set(), "names": set(), "plain": set(), "modules": set()}
    for line in body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for stmt in line.body:
            if (
                isinstance(stmt, cst.ImportFrom)
                and not isinstance(stmt.names, cst.ImportStar)
                and stmt.module
            ):
                mod = _code(stmt.module)
                for a in stmt.names:
                    have["from"].add((mod, a.evaluated_name))
                    have["names"].add(a.evaluated_alias or a.evaluated_name)
            elif isinstance(stmt, cst.Import):
                for a in stmt.names:
                    have["modules"].add(a.evaluated_name)
                    have["plain"].add(a.evaluated_alias or a.evaluated_name.split(".")[0])
    return have


def _find_from(body, mod: str) -> int | None:
    for i, line in enumerate(body):
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            stmt = line.body[0]
            if (
                isinstance(stmt, cst.ImportFrom)
                and stmt.module is not None
                and not stmt.relative
                and not isinstance(stmt.names, cst.ImportStar)
                and stmt.lpar is None  # a parenthesized import keeps its own layout
                and _code(stmt.module) == mod
            ):
                return i
    return None


def _after_imports(body) -> int:
    """Where new imports go: after the last top-level import (or after the
    docstring and ``from __future__`` when there is none)."""
    last = None
    for i, line in enumerate(body):
        if isinstance(line, cst.SimpleStatementLine) and any(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in line.body
        ):
            last = i
        elif last is not None:
            break
    if last is not None:
        return last + 1
    if body and m.matches(body[0], m.SimpleStatementLine(body=[m.Expr(m.SimpleString())])):
        return 1
    return 0


# -- the whole pass -------------------------------------------------------------------------


def site_times(scan: Scan, module: cst.Module, ir_workflows, positions) -> dict[int, SiteTime]:
    """Each site's schedule kind, period and timezone."""
    from wfconv.upgrade.timemodel import cron_period

    by_line: dict[int, list] = {}
    by_id: dict[str, list] = {}
    for w in ir_workflows:
        if w.source and w.source.line:
            by_line.setdefault(w.source.line, []).append(w)
        by_id.setdefault(w.id, []).append(w)
    out: dict[int, SiteTime] = {}
    for site in scan.sites:
        call = site.call
        if site.name is not None:  # @dag: the reader reports the DAG where it is called
            dag_id = keyword(call, "dag_id") if call is not None else None
            wid = _string_value(dag_id.value) if dag_id is not None else site.name
            workflows = by_id.get(wid, [])
        else:
            workflows = by_line.get(site.line, [])
        ir_kind, ir_period, ir_tz = from_ir([w.schedule for w in workflows])
        value = None
        if call is not None:
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value in SCHEDULE_ARGS:
                    value = arg.value
            if value is None:
                positional = [a for a in call.args if a.keyword is None and not a.star]
                if len(positional) >= 3 and site.name is None:
                    value = positional[2].value
        tz = ir_tz
        if value is None:
            out[id(site.node)] = SiteTime("absent", 86400.0, tz)
            continue
        kind = _literal_kind(value)
        period = None
        if kind == "cron":
            period = cron_period(_string_value(value), tz or "UTC")
        elif kind in (None, "delta"):
            kind, period = (
                (ir_kind, ir_period) if kind is None or ir_kind == "delta" else (kind, None)
            )
            if kind == "delta" and period is None:
                period = ir_period
        out[id(site.node)] = SiteTime(kind, period, tz)
    return out


def _literal_kind(value: cst.BaseExpression) -> str | None:
    if isinstance(value, cst.Name) and value.value == "None":
        return "none"
    s = _string_value(value)
    if s is not None:
        return classify_literal(s)
    if isinstance(value, (cst.List, cst.Tuple, cst.BinaryOperation)):
        return "datasets"
    if isinstance(value, cst.Call):
        func = _code(value.func)
        last = func.rsplit(".", 1)[-1]
        if last in ("timedelta", "relativedelta"):
            return "delta"
        if last.endswith("Timetable") or last.endswith("Schedule"):
            return "timetable"
        if last in ("Dataset", "Asset", "DatasetAll", "DatasetAny", "AssetAll", "AssetAny"):
            return "datasets"
    return None


@dataclass
class Rewrite:
    code: str
    findings: list[Finding]


def rewrite(path: str, text: str, opts: Options, module: cst.Module, ir_workflows) -> Rewrite:
    wrapper = MetadataWrapper(module)
    scan = Scan()
    wrapper.visit(scan)
    _resolve_context_functions(scan, wrapper)
    times = site_times(scan, wrapper.module, ir_workflows, None)
    plan = subdag.plan(scan, wrapper, opts)
    trigger_plan = {}
    if opts.timetable == "trigger" and not scan.imports_sdk and opts.enabled("UG506"):
        for site in scan.sites:
            if site.call is not None and plan.owns(site.call):
                continue
            t = times[id(site.node)]
            if t.kind in ("cron", "delta", "absent"):
                trigger_plan[id(site.node)] = trigger.why_not(site, t)
    up = Upgrade(scan, times, opts, plan, trigger_plan)
    new = wrapper.visit(up)
    findings = sorted(up.findings + plan.findings, key=lambda f: (f.line, f.code, f.message))
    # One finding per (line, code, message): a name used twice on a line is one change.
    unique = list(dict.fromkeys((f.code, f.line, f.message) for f in findings))
    return Rewrite(new.code, [Finding(c, ln, msg) for c, ln, msg in unique])


def _resolve_context_functions(scan: Scan, wrapper: MetadataWrapper) -> None:
    """python_callable=<name> and callbacks: the functions Airflow calls with
    the context (by keyword for callables, as one dict for callbacks)."""
    for name in scan.callable_names:
        for fn in scan.functions.get(name, []):
            scan._context_function(fn, by_name=True)
    for name in scan.callback_names:
        for fn in scan.functions.get(name, []):
            params = fn.params.params
            if params:
                cf = scan._context_function(fn, by_name=False)
                cf.context_names.add(params[0].name.value)


__all__ = ["DAG_DECORATORS", "Finding", "Options", "Rewrite", "rewrite"]
