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
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from wfconv.upgrade import jinja, layout, subdag, trigger
from wfconv.upgrade.context import ContextRewrites
from wfconv.upgrade.imports import ImportRewrites, Needs
from wfconv.upgrade.model import Finding, Options
from wfconv.upgrade.scan import Scan, Site, code_of, keyword, qualified, quote, string_value
from wfconv.upgrade.timemodel import SCHEDULE_ARGS, SiteTime, site_times

SDK = "airflow.sdk"

# Keyword arguments Airflow 3 renamed or removed: {keyword: (code, new name
# or None to drop it, message)}.
DAG_EDITS = {
    "concurrency": (
        "UG203",
        "max_active_tasks",
        "`concurrency=` is `max_active_tasks=` in Airflow 3",
    ),
    "fail_stop": ("UG204", "fail_fast", "`fail_stop=` is `fail_fast=` in Airflow 3"),
    **{
        key: ("UG205", None, f"`{key}=` was removed in Airflow 3 (UI only)")
        for key in ("default_view", "orientation", "full_filepath")
    },
    "sla_miss_callback": ("UG206", None, "`sla_miss_callback=` removed: Airflow 3 has no SLAs"),
}
OPERATOR_EDITS = {
    "sla": ("UG304", None, "`sla=` removed: Airflow 3 has no SLAs"),
    "task_concurrency": (
        "UG305",
        "max_active_tis_per_dag",
        "`task_concurrency=` is `max_active_tis_per_dag=`",
    ),
    "provide_context": ("UG306", None, "`provide_context=` removed (the context is always passed)"),
    "use_task_execution_day": (
        "UG308",
        "use_task_logical_date",
        "`use_task_execution_day=` is `use_task_logical_date=`",
    ),
}
TRIGGER_RULES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
TRIGGER_RULE_ATTRS = {"DUMMY": "ALWAYS", "NONE_FAILED_OR_SKIPPED": "NONE_FAILED_MIN_ONE_SUCCESS"}
# Classes renamed in Airflow 3 whose keyword arguments were renamed too.
KEYWORD_RENAMES = {
    "airflow.timetables.datasets.DatasetOrTimeSchedule": {
        "datasets": ("UG102", "assets", "`datasets=` of `DatasetOrTimeSchedule` is `assets=`"),
    },
}


class Upgrade(ImportRewrites, ContextRewrites, cst.CSTTransformer):
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
        # Removed context keys named in context functions, and those rewritten.
        self.loose_keys: list[tuple[cst.SimpleString, cst.FunctionDef]] = []
        self.handled_keys: set[int] = set()
        # --timetable trigger: the sites that move (id -> reason for those that cannot).
        self.trigger_refused: dict[int, str] = dict(trigger_plan or {})
        self.trigger_sites: set[int] = {k for k, v in self.trigger_refused.items() if v is None}
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

    def _site_of_callable(self, node: cst.CSTNode) -> Site | None:
        """The DAG of the operators that call the function around ``node``
        (``python_callable=f``), when they all belong to one."""
        cur = node
        while cur is not None:
            if isinstance(cur, cst.FunctionDef):
                uses = self.scan.callable_uses.get(cur.name.value, [])
                sites = {id(s): s for s in (self.site_of(op) for op in uses)}
                if len(sites) == 1 and None not in [*sites.values()]:
                    return next(iter(sites.values()))
            cur = self.parent(cur)
        return None

    def schedule_for(self, node: cst.CSTNode) -> jinja.Schedule:
        site = self.site_of(node) or self._site_of_callable(node)
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

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return self.plan.arg(original_node, updated_node)

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator):
        site = self.scan.site_of_call.get(id(original_node))
        if site is None:  # not a bare @dag
            return updated_node
        bare = cst.Call(func=updated_node.decorator)
        call = self._schedule(site, cst.Call(func=original_node.decorator), bare)
        return updated_node if call is bare else updated_node.with_changes(decorator=call)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(id(original_node))
        return updated_node.with_changes(value=new) if new else updated_node

    # -- calls -------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.plan.owns(original_node):  # a sub-DAG that becomes a TaskGroup
            return self.plan.replace_call(self, original_node, updated_node)
        site = self.scan.site_of_call.get(id(original_node))
        if site is not None:
            updated_node = self._dag_call(site, original_node, updated_node)
        elif id(original_node) in self.scan.operator_calls:
            updated_node = self._operator_call(original_node, updated_node)
        for qual, edits in KEYWORD_RENAMES.items():
            if qual in self.q(original_node.func):
                updated_node = self._edit_keywords(original_node, updated_node, edits)
        names = self.q(original_node.func)
        if "airflow.utils.dates.days_ago" in names:
            return self._days_ago(original_node, updated_node)
        if "airflow.operators.python.is_venv_installed" in names and self.report(
            "UG104",
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
        call = self._schedule(site, original, call)
        if id(site.node) in self.trigger_sites and self.opts.enabled("UG506"):
            call = trigger.shift_dates(call, self.times[id(site.node)].period)
        return self._edit_keywords(original, call, DAG_EDITS)

    def _edit_keywords(self, original: cst.Call, call: cst.Call, edits: dict) -> cst.Call:
        """Rename (new name) or drop (None) the keyword arguments ``edits``
        names: {keyword: (code, new name or None, message)}. ``call`` has the
        arguments of ``original`` in the same order (only appended to)."""
        drop: set[int] = set()
        args = list(call.args)
        for i, arg in enumerate(original.args):
            edit = edits.get(arg.keyword.value) if arg.keyword is not None else None
            if edit is None:
                continue
            code, new, message = edit
            if not self.report(code, arg, message):
                continue
            if new is None:
                drop.add(i)
            else:
                args[i] = args[i].with_changes(keyword=cst.Name(new))
        return layout.remove_args(call.with_changes(args=args), drop)

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
                add.append(layout.kwarg("schedule", code_of(value)))
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
            expr = code_of(value)
            kind = t.kind
        moved = self._trigger(site, t, kind, expr, tz, where)
        if moved is not None:
            return moved
        if kind == "cron":
            msg = f"cron schedule kept in Airflow 2's data-interval model (timezone {tz})"
            if not self.report(code, where, msg):
                return None
            self.needs.add(SDK, "CronDataIntervalTimetable")
            return cst.parse_expression(f"CronDataIntervalTimetable({expr}, timezone={quote(tz)})")
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

    def _operator_call(self, original: cst.Call, call: cst.Call) -> cst.Call:
        names = self.q(original.func)
        edits = dict(OPERATOR_EDITS)
        if any(n.endswith("TriggerDagRunOperator") for n in names):
            edits["execution_date"] = (
                "UG308",
                "logical_date",
                "`execution_date=` is `logical_date=` in Airflow 3",
            )
        rule = keyword(original, "trigger_rule")
        value = string_value(rule.value) if rule is not None else None
        if value in TRIGGER_RULES and self.report(
            "UG307", rule, f"trigger rule {value!r} is {TRIGGER_RULES[value]!r} in Airflow 3"
        ):
            i = original.args.index(rule)
            new = call.args[i].with_changes(value=cst.SimpleString(quote(TRIGGER_RULES[value])))
            call = call.with_changes(args=[*call.args[:i], new, *call.args[i + 1 :]])
        return self._edit_keywords(original, call, edits)

    # -- default_args dicts ---------------------------------------------------------
    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.Dict:
        if id(original_node) not in self.scan.default_args_dicts:
            return updated_node
        elements = list(updated_node.elements)
        drop: set[int] = set()
        for i, orig in enumerate(original_node.elements):
            key = string_value(orig.key) if isinstance(orig, cst.DictElement) else None
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
                elements[i] = el.with_changes(key=cst.SimpleString(quote("max_active_tis_per_dag")))
            elif key == "trigger_rule":
                rule = string_value(orig.value)
                if rule in TRIGGER_RULES and self.report(
                    "UG307", orig, f"trigger rule {rule!r} is {TRIGGER_RULES[rule]!r} in Airflow 3"
                ):
                    elements[i] = el.with_changes(
                        value=cst.SimpleString(quote(TRIGGER_RULES[rule]))
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
            and string_value(parent.key) in ("start_date", "end_date")
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
                f"`{code_of(original)}` was {day.isoformat()} when the upgrade ran: "
                "written as that fixed date",
            )
            return cst.parse_expression(f'pendulum.datetime({", ".join(parts)}, tz="UTC")')
        n = code_of(original.args[0].value) if original.args else "1"
        if (
            original.args
            and original.args[0].keyword is not None
            and original.args[0].keyword.value not in ("n", "days")
        ):
            n = "1"
        hours = [
            (k, code_of(a.value))
            for a in original.args
            if a.keyword is not None and (k := a.keyword.value) in names[1:]
        ]
        base = 'pendulum.today("UTC")'
        if hours:
            base += ".at(" + ", ".join(f"{k}={v}" for k, v in hours) + ")"
        self.report(
            "UG208", original, f"`{code_of(original)}` is `{base}.add(days=-{n})` in Airflow 3"
        )
        return cst.parse_expression(
            f"{base}.add(days=-({n}))" if not n.isdigit() else f"{base}.add(days=-{n})"
        )


# -- the whole pass -------------------------------------------------------------------------


@dataclass
class Rewrite:
    code: str
    findings: list[Finding]


def rewrite(path: str, text: str, opts: Options, module: cst.Module, ir_workflows) -> Rewrite:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # parsed for this pass only
    scan = Scan()
    wrapper.visit(scan)
    _resolve_context_functions(scan, wrapper)
    times = site_times(scan, ir_workflows)
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
