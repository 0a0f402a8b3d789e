"""Prefect 3 frontend: read ``@flow``/``@task`` modules statically into the IR.

The file is never imported. The module runs through the shared abstract
interpreter (``wfconv.frontends.pyeval``) so constants, f-strings, loops over
literal lists and helper functions are known; hooks turn ``@task``/``@flow``
functions into templates, and every flow body is then interpreted again with
Prefect's own execution model in mind:

- a task call inside a flow body is one IR task (``python`` action: callable =
  the task function, module = the file's stem; ``shell`` only when the task
  body is nothing but a checked ``subprocess`` call with a literal command);
  ids are the task's ``name=`` or function name, then ``name-1``, ``name-2`` …
  for further calls, in call order (Prefect's counter scheme ``name-0``,
  ``name-1`` … with the first call keeping the bare name; Prefect 3.8 itself
  names runs ``name-<3 random hex>``, which is not reproducible);
- futures and results passed as arguments are ``data`` edges, ``wait_for`` and
  blocking are ``control`` edges: a direct call (or ``.result()``) blocks the
  flow body, so every task started after it depends on it (a failure there
  raises in the flow, which stops everything after it); ``wait()`` blocks
  without raising, so what follows depends on it with ``allow_failure``
  semantics;
- ``allow_failure(x)`` makes the edge from x tolerant: a task whose upstreams
  are all tolerant gets trigger rule ``all_done`` (Prefect lets it run once x
  is Completed, Failed or NotReady, which is Airflow's success, failed or
  upstream_failed); a task with some tolerant and some strict upstreams gets
  ``all_done`` too, with warning PF201, since the IR has no per-edge rule;
- ``.map`` is one task with ``mapped = {"kind": "zip", "over": {...}}``;
- a subflow call is a ``subworkflow`` task naming the other flow, which is
  emitted as its own workflow;
- control flow on run-time values (``if``, ``while``, loops over task results
  or parameters, ``try``) keeps every task that can be known, each marked in
  ``task.extra["prefect"]`` with the condition or loop it sits in, and a
  diagnostic at the line;
- schedules come from ``serve``/``deploy``/``to_deployment`` calls and from a
  ``prefect.yaml`` beside the file (``wfconv.frontends.prefect.deploy``).

Diagnostic codes are listed in docs/codes/prefect.md. Companion modules:
``prefect.values`` (the interpreter's values), ``prefect.bodies`` (what a task
body obviously is), ``prefect.deploy`` (deployments and schedules).
"""

from __future__ import annotations

import ast
import datetime
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.frontends import budget, pychunks, pyeval
from wfconv.frontends.prefect import deploy, losses
from wfconv.frontends.prefect.bodies import body_action, body_of, gate_of, run_date_parameter
from wfconv.frontends.prefect.values import (
    RUNTIME_TEMPLATES,
    Annotated,
    DecoratorSpec,
    Derived,
    ExpBackoff,
    FlowParam,
    FlowTemplate,
    TagsContext,
    TaskOut,
    TaskTemplate,
    TemplateText,
    collect,
    ir_text,
    jsonable,
    module_name,
    param_template,
    refs_of,
    role_of,
    seconds,
    xcom,
)
from wfconv.frontends.pyeval import NOT_HANDLED, BoundMethod, FunctionValue, Ref, Scope, Unknown
from wfconv.frontends.repo import data_files_for, importer_for
from wfconv.ir import literal
from wfconv.ir.model import Action, Bundle, Diagnostic, SourceRef, Task, Workflow
from wfconv.ir.validate import finalize

ENGINE = "prefect"

# -- diagnostic codes (docs/codes/prefect.md) ---------------------------------
RUNTIME_VALUE = "PF101"
LOOP_READ_ONCE = "PF102"
CONDITION_BOTH = "PF103"
WHILE_READ_ONCE = "PF104"
GATHER_COMPUTED = "PF105"
TRY_EXCEPT = "PF106"
NOT_INTERPRETED = "PF107"
EVAL_ERROR = "PF108"
BUDGET = "PF109"
NO_FLOW = "PF110"
PARTIAL_ALLOW_FAILURE = "PF201"
UNRESOLVED_FUTURE = "PF202"
RETURN_STATE = "PF203"
NEVER_AWAITED = "PF204"
RUN_DEPLOYMENT = "PF205"
STALE_BACKOFF = "PF206"
OPTION_UNKNOWN = "PF207"
STAR_ARGS = "PF208"
NOT_SEEN = "PF111"
INCOMPLETE = "PF112"

_NOTE_CODES = {
    pyeval.RUNTIME: (RUNTIME_VALUE, "warning"),
    pyeval.LOOP: (LOOP_READ_ONCE, "warning"),
    pyeval.CONDITION: (CONDITION_BOTH, "warning"),
    pyeval.UNSUPPORTED: (NOT_INTERPRETED, "info"),
    pyeval.ERROR: (EVAL_ERROR, "warning"),
    pyeval.LIMIT: (BUDGET, "warning"),
}

# @task options that map onto IR task fields; the rest go to extra["prefect"].
_TASK_FIELD_OPTIONS = {"name", "retries", "retry_delay_seconds", "timeout_seconds", "description"}
# The assets of @materialize(...), kept among a task template's options.
_ASSETS_OPTION = "__assets__"
# @flow options that map onto IR workflow fields.
_FLOW_FIELD_OPTIONS = {"name", "description", "timeout_seconds"}


@dataclass
class FlowBuild:
    """What one flow body produced so far."""

    template: FlowTemplate
    workflow: Workflow
    counters: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    upstream: dict[str, dict[str, bool]] = field(default_factory=dict)  # id -> {up: tolerant}
    barrier: dict[str, bool] = field(default_factory=dict)  # id -> tolerant
    futures: dict[str, int] = field(default_factory=dict)  # submitted id -> line
    consumed: set[str] = field(default_factory=set)
    coroutines: dict[str, int] = field(default_factory=dict)
    tags: list[list[str]] = field(default_factory=list)
    context: list[dict[str, Any]] = field(default_factory=list)  # enclosing if/loop/try
    returns: list[str] = field(default_factory=list)
    forced_rules: dict[str, str] = field(default_factory=dict)  # except-branch tasks
    # Tasks a wfconv_gate(..., branches=[...]) names: their return value is the
    # list of ids to follow, i.e. they are branch tasks.
    gate_branches: set[str] = field(default_factory=set)
    # Setup/teardown roles read from wfconv_gate calls: id -> role, and the
    # teardowns whose failure fails the run.
    roles: dict[str, str] = field(default_factory=dict)
    fails_run: set[str] = field(default_factory=set)
    # What the body does that cannot be seen statically: (path, line) ->
    # (what was called, why): the workflow is incomplete.
    losses: dict[tuple[str | None, int | None], tuple[str, str]] = field(default_factory=dict)


# -----------------------------------------------------------------------------
# the interpreter: module run + flow bodies


class _Hooks(pyeval.Hooks):
    def __init__(self, reader: PrefectReader):
        self.r = reader

    def call(self, interp, func, args, kwargs, node):
        return self.r.on_call(func, args, kwargs, node)

    def getattr(self, interp, obj, name, node):
        if isinstance(obj, (TaskTemplate, FlowTemplate)):
            if name in ("fn", "__wrapped__"):
                return obj.fn
            if name == "name":
                return obj.name if isinstance(obj, TaskTemplate) else obj.prefect_name
            return BoundMethod(obj, name)
        if isinstance(obj, TaskOut):
            if name in (
                "result",
                "wait",
                "state",
                "aresult",
                "get_state",
                "is_completed",
                "is_failed",
                "add_done_callback",
            ):
                return BoundMethod(obj, name)
            return Derived(
                pyeval.RUNTIME,
                "attribute of a task result",
                getattr(node, "lineno", None),
                interp.source_text(node),
                refs=obj.ids,
            )
        if isinstance(obj, Derived):
            if name in ("result", "wait", "aresult") and obj.refs:
                # an item of a list of futures (read once) is a future too
                future = TaskOut(
                    obj.kind, obj.reason, obj.line, obj.source, ids=obj.refs, mode="future"
                )
                return BoundMethod(future, name)
            return Derived(obj.kind, obj.reason, obj.line, interp.source_text(node), refs=obj.refs)
        return NOT_HANDLED

    def getitem(self, interp, obj, key, node):
        if self.r.flow is not None and isinstance(obj, (dict, list, tuple)):
            picked = losses.chosen(obj, key)
            if picked is not None:
                picked.line, picked.source = node.lineno, interp.source_text(node)
                return picked
        if isinstance(obj, TaskOut):
            if obj.mode == "mapped":
                return TaskOut(
                    pyeval.RUNTIME,
                    "one mapped future",
                    node.lineno,
                    interp.source_text(node),
                    ids=obj.ids,
                    mode="future",
                )
            return Derived(
                pyeval.RUNTIME,
                "item of a task result",
                node.lineno,
                interp.source_text(node),
                refs=obj.ids,
            )
        if isinstance(obj, Derived):
            return Derived(obj.kind, obj.reason, obj.line, interp.source_text(node), refs=obj.refs)
        return NOT_HANDLED

    def binop(self, interp, op, left, right, node):
        refs = refs_of([left, right])
        if refs:
            return Derived(
                pyeval.RUNTIME,
                "computed from task results",
                node.lineno,
                interp.source_text(node),
                refs=tuple(refs),
            )
        if any(isinstance(v, Ref) and v.qualname.startswith("prefect.") for v in (left, right)):
            # INPUTS + TASK_SOURCE: a Prefect configuration object, kept as source.
            return Unknown(
                pyeval.UNSUPPORTED, "Prefect object", node.lineno, interp.source_text(node)
            )
        return NOT_HANDLED

    def decorate(self, interp, decorator, target, node):
        return self.r.on_decorate(decorator, target, node)

    def enter_with(self, interp, value, node):
        if isinstance(value, TagsContext) and self.r.flow is not None:
            self.r.flow.tags.append(value.tags)
        return NOT_HANDLED

    def exit_with(self, interp, value, node):
        if isinstance(value, TagsContext) and self.r.flow is not None and self.r.flow.tags:
            self.r.flow.tags.pop()

    def note(self, interp, note):
        self.r.on_note(note)


class _Interp(pyeval.Interpreter):
    """pyeval with Prefect's reading of control flow inside flow bodies.

    Outside flows (module level) it behaves exactly like pyeval. Inside a flow,
    an ``if`` on a run-time value reads both arms from the same starting point
    (blocking tasks of one arm do not order the other arm), loops over run-time
    values read their body once instead of skipping it, ``try`` reads its
    handlers, and ``await`` is what blocks on a coroutine.
    """

    reader: PrefectReader

    def eval(self, node, scope):
        build = self.reader.flow
        if build is None:
            return super().eval(node, scope)
        mark = len(build.created)
        value = super().eval(node, scope)
        if isinstance(value, Unknown) and not isinstance(value, (TaskOut, Derived, FlowParam)):
            refs = self._names_refs(node, scope) + build.created[mark:]
            if refs:
                value = Derived(
                    value.kind,
                    value.reason,
                    value.line,
                    value.source,
                    refs=tuple(dict.fromkeys(refs)),
                )
        return value

    def call(self, func, args, kwargs, node):
        value = super().call(func, args, kwargs, node)
        if type(value) is Unknown and self.reader.flow is not None:
            why = losses.unseen(self, func, value)
            if why is not None:
                self.reader.lose(node, why)
        return value

    def _names_refs(self, node: ast.AST, scope: Scope) -> list[str]:
        out: list[str] = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                v = scope.lookup(sub.id)
                if v is not NOT_HANDLED:
                    out.extend(refs_of(v))
        return out

    # -- statements with Prefect semantics inside flows -----------------------
    def _s_if(self, st, scope):
        build = self.reader.flow
        if build is None:
            return super()._s_if(st, scope)
        test = self.eval(st.test, scope)
        if not isinstance(test, Unknown) and pyeval._truth_known(test):
            self.exec_block(st.body if test else st.orelse, scope)
            return
        src = pyeval._short(self.source_text(st.test))
        self.reader.diag(
            CONDITION_BOTH,
            "warning",
            f"`if {src}` depends on a run-time value: tasks of both branches kept "
            "(each marked with its condition in extra.prefect.conditions)",
            st.lineno,
        )
        start = dict(build.barrier)
        before = dict(scope.vars)
        build.context.append({"if": self.source_text(st.test), "line": st.lineno, "branch": "body"})
        self._block(st.body, scope)
        after_body, barrier_body = dict(scope.vars), dict(build.barrier)
        build.context[-1] = {**build.context[-1], "branch": "else"}
        scope.vars.clear()
        scope.vars.update(before)
        build.barrier = dict(start)
        self._block(st.orelse, scope)
        build.context.pop()
        for k, v in barrier_body.items():
            build.barrier[k] = build.barrier.get(k, True) and v
        for name in set(after_body) | set(scope.vars):
            a, b = after_body.get(name, NOT_HANDLED), scope.vars.get(name, NOT_HANDLED)
            if a is b:
                continue
            refs = tuple(dict.fromkeys(refs_of(a) + refs_of(b)))
            scope.vars[name] = Derived(
                pyeval.CONDITION, "set in a branch", st.lineno, name, refs=refs
            )

    def _e_ifexp(self, node, scope):
        """``a() if ok else b()`` on a run-time value: both arms are read (like
        an ``if`` statement); the value depends on both."""
        build = self.reader.flow
        if build is None:
            return super()._e_ifexp(node, scope)
        test = self.eval(node.test, scope)
        if not isinstance(test, Unknown) and pyeval._truth_known(test):
            return self.eval(node.body if test else node.orelse, scope)
        mark, start = len(build.created), dict(build.barrier)
        build.context.append(
            {"if": self.source_text(node.test), "line": node.lineno, "branch": "body"}
        )
        try:
            a = self.eval(node.body, scope)
            after_body = dict(build.barrier)
            build.context[-1] = {**build.context[-1], "branch": "else"}
            build.barrier = dict(start)
            b = self.eval(node.orelse, scope)
        finally:
            build.context.pop()
        for k, v in after_body.items():
            build.barrier[k] = build.barrier.get(k, True) and v
        if build.created[mark:]:
            self.reader.diag(
                CONDITION_BOTH,
                "warning",
                f"`{pyeval._short(self.source_text(node))}` depends on a run-time value: "
                "tasks of both arms kept (each marked with its condition in extra.prefect.conditions)",
                node.lineno,
            )
        return Derived(
            pyeval.CONDITION,
            "conditional on a run-time value",
            node.lineno,
            self.source_text(node),
            refs=tuple(dict.fromkeys(refs_of(a) + refs_of(b))),
        )

    def _comprehension(self, generators, scope, emit, node):
        """pyeval's comprehension, except that inside flows a filter on a
        run-time value keeps the item (the tasks it would create are kept,
        marked with the condition) instead of giving up on the whole
        comprehension."""
        build = self.reader.flow
        if build is None:
            return super()._comprehension(generators, scope, emit, node)
        inner = Scope(scope)
        spent = budget.Items()  # iterations of this comprehension

        def rec(i: int) -> bool:
            if i == len(generators):
                emit(inner)
                return True
            gen = generators[i]
            items = self.iterate(self.eval(gen.iter, inner), gen.iter)
            if items is None:
                return False
            for n, item in enumerate(items):
                if n >= pyeval.MAX_LOOP:
                    self.note(
                        pyeval.LIMIT,
                        f"comprehension stopped after {pyeval.MAX_LOOP} items",
                        node.lineno,
                    )
                    break
                self._tick(node.lineno)  # the evaluator's step and time budget
                spent.add()
                self.bind(gen.target, item, inner)
                unknown: list[ast.expr] = []
                skip = False
                for cond in gen.ifs:
                    c = self.eval(cond, inner)
                    if isinstance(c, Unknown) or not pyeval._truth_known(c):
                        unknown.append(cond)
                    elif not c:
                        skip = True
                        break
                if skip:
                    continue
                for cond in unknown:
                    build.context.append(
                        {"if": self.source_text(cond), "line": cond.lineno, "branch": "body"}
                    )
                mark = len(build.created)
                try:
                    ok = rec(i + 1)
                finally:
                    for _ in unknown:
                        build.context.pop()
                if unknown and build.created[mark:]:
                    self.reader.diag_once(
                        CONDITION_BOTH,
                        "warning",
                        f"filter `{pyeval._short(self.source_text(unknown[0]))}` depends on a run-time value: "
                        "the item's tasks are kept, marked with the condition",
                        unknown[0].lineno,
                    )
                if not ok:
                    return False
            return True

        return rec(0)

    def _s_for(self, st, scope):
        build = self.reader.flow
        if build is None:
            return super()._s_for(st, scope)
        it = self.eval(st.iter, scope)
        if not isinstance(it, Unknown) and pyeval._iterable_known(it):
            self._unroll(st, scope, it)
            return
        self._read_once(st, scope, it, LOOP_READ_ONCE, "loop over")

    def _unroll(self, st, scope, it) -> None:
        """pyeval's loop over a known iterable, without evaluating it twice
        (its expression may itself call tasks)."""
        items = self.iterate(it, st.iter)
        if items is None:
            return
        for i, item in enumerate(items):
            if i >= pyeval.MAX_LOOP:
                self.note(
                    pyeval.LIMIT, f"loop stopped after {pyeval.MAX_LOOP} iterations", st.lineno
                )
                break
            self.bind(st.target, item, scope)
            try:
                self.exec_block(st.body, scope)
            except pyeval._Break:
                return
            except pyeval._Continue:
                continue
        self.exec_block(st.orelse, scope)

    def _s_while(self, st, scope):
        build = self.reader.flow
        if build is None:
            return super()._s_while(st, scope)
        # Tasks called in the test run on every iteration too: they belong
        # to the loop.
        mark = len(build.created)
        build.context.append({"loop": self.source_text(st.test), "line": st.lineno})
        try:
            test = self.eval(st.test, scope)
        finally:
            build.context.pop()
        if not isinstance(test, Unknown) and pyeval._truth_known(test):
            return super()._s_while(st, scope)
        self._read_once(st, scope, test, WHILE_READ_ONCE, "while", mark)

    def _read_once(self, st, scope, value, code, what, mark=None):
        build = self.reader.flow
        src = self.source_text(st.iter if isinstance(st, (ast.For, ast.AsyncFor)) else st.test)
        build.context.append({"loop": src, "line": st.lineno})
        if mark is None:
            mark = len(build.created)
        if isinstance(st, (ast.For, ast.AsyncFor)):
            element: Any
            if isinstance(value, TaskOut) and value.mode == "mapped":
                element = TaskOut(
                    pyeval.RUNTIME,
                    "one mapped future",
                    st.lineno,
                    src,
                    ids=value.ids,
                    mode="future",
                )
            else:
                element = Derived(
                    pyeval.LOOP,
                    "loop item",
                    st.lineno,
                    f"<item of {src}>",
                    refs=tuple(refs_of(value)),
                )
            self._bind_unknown(st.target, element, scope)
        try:
            self._block(st.body, scope)
        finally:
            build.context.pop()
        made = build.created[mark:]
        if made:
            self.reader.diag(
                code,
                "warning",
                f"{what} `{pyeval._short(src)}` depends on a run-time value: body read once; "
                f"task(s) {', '.join(made)} stand for every run-time iteration",
                st.lineno,
            )
        self._block(st.orelse, scope)

    def _bind_unknown(self, target, value, scope):
        if isinstance(target, ast.Name):
            scope.assign(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self._bind_unknown(e.value if isinstance(e, ast.Starred) else e, value, scope)

    def _block(self, stmts, scope):
        """Run a block that may or may not run at run time (a branch, a loop
        body read once, an except handler): ``break``/``continue`` end it, and
        so does ``return``/``raise``, whose value is recorded as returned;
        what follows the statement is still read."""
        try:
            self.exec_block(stmts, scope)
        except (pyeval._Break, pyeval._Continue):
            pass
        except pyeval._Return as r:
            build = self.reader.flow
            refs = refs_of(r.value)
            build.returns.extend(i for i in refs if i not in build.returns)
            build.consumed.update(refs)

    def _s_try(self, st, scope):
        build = self.reader.flow
        if build is None:
            return super()._s_try(st, scope)
        mark = len(build.created)
        self._block(st.body, scope)
        # What can raise in the try body: its blocking calls (direct calls,
        # .result()); submitted futures never raise there.
        raising = [b for b, tol in build.barrier.items() if not tol and b in build.created[mark:]]
        self._block(st.orelse, scope)
        after_body = dict(build.barrier)
        ends: dict[str, bool] = {b: True for b in after_body}
        if st.handlers:
            self.reader.diag(
                TRY_EXCEPT,
                "info",
                "try/except: the except branch runs when a blocking task of the try body fails: its first "
                f"tasks get trigger rule one_failed on {', '.join(raising) or 'nothing known'}; what follows the "
                "try waits for both paths (all_done)",
                st.lineno,
            )
        for h in st.handlers:
            what = self.source_text(h.type) if h.type is not None else "any exception"
            build.context.append({"except": what, "line": h.lineno})
            if h.name:
                scope.assign(h.name, Unknown(pyeval.RUNTIME, "exception", h.lineno, h.name))
            build.barrier = {b: True for b in raising} or dict(after_body)
            hmark = len(build.created)
            try:
                self._block(h.body, scope)
            finally:
                build.context.pop()
            for tid in build.created[hmark:]:
                if raising and set(build.upstream.get(tid, {})) & set(raising):
                    build.forced_rules[tid] = "one_failed"
            for b in build.barrier:
                ends[b] = True
        build.barrier = ends
        self._block(st.finalbody, scope)

    def _s_asyncwith(self, st, scope):
        return self._s_with(st, scope)

    def iterate(self, value, node):
        """Inside flows, a task result, mapped futures or a parameter are
        iterated as one stand-in item (the body/comprehension is read once)."""
        if self.reader.flow is None or not isinstance(value, Unknown):
            return super().iterate(value, node)
        self._read_once_count += 1
        src = f"<item of {self.source_text(node)}>"
        if isinstance(value, TaskOut) and value.mode == "mapped":
            return [
                TaskOut(
                    pyeval.RUNTIME,
                    "one mapped future",
                    getattr(node, "lineno", None),
                    src,
                    ids=value.ids,
                    mode="future",
                )
            ]
        return [
            Derived(
                pyeval.LOOP,
                "item of a run-time iterable",
                getattr(node, "lineno", None),
                src,
                refs=tuple(refs_of(value)),
            )
        ]

    _read_once_count = 0

    def _comprehension_once(self, base, node, scope):
        build = self.reader.flow
        if build is None:
            return base(self, node, scope)
        before, mark = self._read_once_count, len(build.created)
        value = base(self, node, scope)
        if self._read_once_count == before:
            return value
        made = build.created[mark:]
        if (
            not made
            and isinstance(value, list)
            and len(value) == 1
            and isinstance(value[0], TaskOut)
            and value[0].mode in ("result", "future")
        ):
            # [f.result() for f in futures] / [f for f in futures]: all of them.
            item = value[0]
            return TaskOut(
                item.kind,
                item.reason,
                node.lineno,
                self.source_text(node),
                ids=item.ids,
                mode="result" if item.mode == "result" else "mapped",
            )
        if made:
            d = self.reader.diag(
                LOOP_READ_ONCE,
                "warning",
                f"comprehension `{pyeval._short(self.source_text(node))}` iterates over a run-time value: "
                f"read once; task(s) {', '.join(made)} stand for every item",
                node.lineno,
            )
            self.reader.pending_comprehensions[id(node)] = d
        refs = tuple(dict.fromkeys(refs_of(value) + self._names_refs(node, scope) + made))
        return Derived(
            pyeval.LOOP,
            "comprehension over a run-time value",
            node.lineno,
            self.source_text(node),
            refs=refs,
        )

    def _e_listcomp_once(self, node, scope):
        return self._comprehension_once(pyeval.Interpreter._e_listcomp, node, scope)

    def _e_dictcomp_once(self, node, scope):
        return self._comprehension_once(pyeval.Interpreter._e_dictcomp, node, scope)

    def _e_joinedstr(self, node, scope):
        """Inside flows, an f-string over plain names that are flow parameters
        or task results becomes a template string (``{{ params.day }}``)."""
        if self.reader.flow is None or not all(
            isinstance(v, ast.Constant)
            or (
                isinstance(v, ast.FormattedValue)
                and v.format_spec is None
                and v.conversion == -1
                and _is_dotted(v.value)
            )
            for v in node.values
        ):
            return super()._e_joinedstr(node, scope)
        parts: list[str] = []  # the template spelling: literal text escaped
        plain: list[str] = []  # the text, when nothing is a run-time value
        refs: list[str] = []
        templated = False
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(literal.escape(str(v.value)))
                plain.append(str(v.value))
                continue
            val = self.eval(v.value, scope)
            if isinstance(val, FlowParam):
                parts.append(param_template(val.name))
                templated = True
            elif (
                isinstance(val, TaskOut) and len(val.ids) == 1 and val.mode in ("result", "future")
            ):
                parts.append(xcom(val.ids[0]))
                refs.append(val.ids[0])
                templated = True
            elif isinstance(val, Ref) and val.qualname in RUNTIME_TEMPLATES:
                parts.append(RUNTIME_TEMPLATES[val.qualname])
                templated = True
            elif isinstance(val, (str, int, float)) and not isinstance(val, bool):
                parts.append(literal.escape(format(val, "")))
                plain.append(format(val, ""))
            else:
                return super()._e_joinedstr(node, scope)
        if not templated:
            return "".join(plain)
        return Derived(
            pyeval.RUNTIME,
            "f-string of run-time values",
            node.lineno,
            self.source_text(node),
            refs=tuple(refs),
            template=TemplateText("".join(parts)),
        )

    def _e_await(self, node, scope):
        value = self.eval(node.value, scope)
        return self.reader.on_await(value, node)

    _STMT = {
        **pyeval.Interpreter._STMT,
        ast.If: _s_if,
        ast.For: _s_for,
        ast.AsyncFor: _s_for,
        ast.While: _s_while,
        ast.Try: _s_try,
        ast.AsyncWith: _s_asyncwith,
    }
    if hasattr(ast, "TryStar"):
        _STMT[ast.TryStar] = _s_try
    _EXPR = {
        **pyeval.Interpreter._EXPR,
        ast.IfExp: _e_ifexp,
        ast.Await: _e_await,
        ast.JoinedStr: _e_joinedstr,
        ast.ListComp: _e_listcomp_once,
        ast.GeneratorExp: _e_listcomp_once,
        ast.SetComp: _e_listcomp_once,
        ast.DictComp: _e_dictcomp_once,
    }


# -----------------------------------------------------------------------------
# the reader


class PrefectReader:
    """Reads one module: templates first (module run), then each flow body."""

    def __init__(self, path: str, text: str, options: dict | None = None):
        self.path = path
        self.text = text
        self.module = module_name(path)
        self.interp = _Interp(
            _Hooks(self),
            path=path,
            source=text,
            module_name="__wfconv_prefect__",
            # Tasks and flows of the repository's other modules (docs/repositories.md).
            importer=importer_for(path, options or {}),
            files=data_files_for(path, options or {}),
        )
        self.interp.reader = self
        self.flow: FlowBuild | None = None
        self.flows: list[FlowTemplate] = []
        self.module_diags: list[Diagnostic] = []
        self.deployments: list[deploy.Deployment] = []
        self._main_nodes: set[int] = set()
        self._deploy_nodes: set[int] = set()  # deployment calls already recorded
        self._action_cache: dict[int, Action | None] = {}
        # comprehension node id -> its read-once diagnostic (gather re-labels it)
        self.pending_comprehensions: dict[int, Diagnostic] = {}
        # Losses outside flow bodies (reading stopped): every flow is incomplete.
        self.module_losses: dict[tuple[str | None, int | None], tuple[str, str]] = {}
        self._once: set[tuple[int, str, str, int | None]] = set()  # diag_once's entries

    # -- diagnostics -----------------------------------------------------------
    def diag(
        self, code: str, severity: str, message: str, line: int | None, task: str | None = None
    ) -> Diagnostic:
        d = Diagnostic(severity, code, message, self.path, line, task=task)
        if self.flow is not None:
            self.flow.workflow.diagnostics.append(d)
        else:
            self.module_diags.append(d)
        return d

    def diag_once(self, code: str, severity: str, message: str, line: int | None) -> None:
        """``diag`` unless this entry was already made here once (loop
        iterations; a comprehension met 20,000 times made 20,000 entries)."""
        where = self.flow.workflow.diagnostics if self.flow is not None else self.module_diags
        key = (id(where), code, message, line)
        if key not in self._once:
            self._once.add(key)
            self.diag(code, severity, message, line)

    def lose(self, node: ast.AST | None, why: str, line: int | None = None) -> None:
        """Something that may have run tasks cannot be seen statically: the
        flow being read (or, outside flows, every flow) is incomplete."""
        label = "reading stopped"
        if isinstance(node, ast.Call):
            label = pyeval._short(self.interp.source_text(node.func), 60)
            line = node.lineno
        where = self.flow.losses if self.flow is not None else self.module_losses
        where.setdefault((self.interp.path or self.path, line), (label, why))

    def on_note(self, note: pyeval.Note) -> None:
        if note.kind == pyeval.LIMIT:
            self.lose(None, f"reading stopped here ({note.message})", note.line)
        code, severity = _NOTE_CODES.get(note.kind, (NOT_INTERPRETED, "info"))
        if code == RUNTIME_VALUE and self.flow is not None:
            # Flow bodies are ordinary Python that runs at flow run time: an
            # unknown value there matters only where it steers the graph, and
            # those places (if/for/while/gather) have their own diagnostics;
            # an argument it feeds is marked in extra.prefect.expression_args.
            return
        self.diag_once(code, severity, note.message, note.line)

    # -- decorators ------------------------------------------------------------
    def on_decorate(self, decorator: Any, target: Any, node: ast.AST) -> Any:
        role = role_of(decorator)
        if role in ("task", "flow") and isinstance(target, FunctionValue):
            return self._template(role, target, {}, {})
        if isinstance(decorator, DecoratorSpec) and isinstance(target, FunctionValue):
            return self._template(decorator.role, target, decorator.options, decorator.nodes)
        return NOT_HANDLED

    def _template(self, role: str, fn: FunctionValue, options: dict, nodes: dict):
        if role == "task":
            return TaskTemplate(fn, dict(options), dict(nodes))
        tpl = FlowTemplate(fn, dict(options), dict(nodes))
        # Every flow the module creates is a workflow: decorated at module
        # level, made by a factory function, or defined inside another flow.
        if not any(f.fn.node is fn.node and f.id == tpl.id for f in self.flows):
            self.flows.append(tpl)
        return tpl

    # -- calls -----------------------------------------------------------------
    def on_call(self, func: Any, args: list, kwargs: dict, node: ast.Call | None) -> Any:
        line = node.lineno if node is not None else None
        role = role_of(func)
        if role in ("task", "flow"):
            if args and isinstance(args[0], FunctionValue):
                return self._template(role, args[0], kwargs, self._kw_nodes(node))
            return DecoratorSpec(role, dict(kwargs), self._kw_nodes(node), line)
        if role is not None:
            handler = _ROLE_CALLS.get(role)
            if handler is not None:
                return handler(self, args, kwargs, node)
        if isinstance(func, DecoratorSpec) and args and isinstance(args[0], FunctionValue):
            return self._template(func.role, args[0], func.options, func.nodes)
        if self.flow is None and isinstance(func, Ref) and func.qualname.startswith("prefect."):
            # Outside flows, other Prefect calls build configuration objects
            # (task runners, cache policies, storage blocks): kept as source
            # text where they are used, not worth a warning.
            return Unknown(pyeval.RUNTIME, "Prefect object", line, self._src(node))
        if isinstance(func, BoundMethod):
            return self._method(func, args, kwargs, node)
        if isinstance(func, TaskTemplate):
            return self.task_call(func, args, kwargs, node, "call")
        if isinstance(func, FunctionValue) and self.flow is not None:
            return self._helper_call(func, args, kwargs, node)
        if isinstance(func, FlowTemplate):
            return self.subflow_call(func, args, kwargs, node)
        if self._list_mutation(func, args):
            return None
        return NOT_HANDLED

    def _helper_call(self, fn: FunctionValue, args: list, kwargs: dict, node) -> Any:
        """A plain function called from a flow body runs inline (its task
        calls are the flow's). When it calls no task, what it does is plain
        Python at run time: its diagnostics say nothing about the graph and
        are dropped."""
        build = self.flow
        mark, dmark = len(build.created), len(build.workflow.diagnostics)
        result = self.interp.call_function(fn, args, kwargs, node)
        if len(build.created) == mark:
            del build.workflow.diagnostics[dmark:]
        return result

    def _list_mutation(self, func: Any, args: list) -> bool:
        """pyeval refuses to put Unknowns into lists through methods; task
        futures are Unknowns, and ``futures.append(t.submit())`` must work."""
        owner = getattr(func, "__self__", None)
        name = getattr(func, "__name__", "")
        if isinstance(owner, list) and name in ("append", "extend", "insert") and args:
            if all(pyeval.is_known(a) for a in args):
                return False  # pyeval does it
            if name == "append":
                owner.append(args[0])
            elif name == "insert" and len(args) == 2:
                owner.insert(args[0] if isinstance(args[0], int) else len(owner), args[1])
            elif name == "extend":
                owner.extend(args[0] if isinstance(args[0], (list, tuple)) else [args[0]])
            return True
        return False

    @staticmethod
    def _kw_nodes(node: ast.Call | None) -> dict[str, ast.AST]:
        return {k.arg: k.value for k in node.keywords if k.arg} if node is not None else {}

    def _method(self, bm: BoundMethod, args: list, kwargs: dict, node: ast.Call | None) -> Any:
        obj, name = bm.obj, bm.name
        if isinstance(obj, TaskTemplate):
            if name in ("submit", "map"):
                return self.task_call(obj, args, kwargs, node, name)
            if name == "with_options":
                return obj.with_options(kwargs, self._kw_nodes(node))
            if name == "__call__":
                return self.task_call(obj, args, kwargs, node, "call")
            if name in ("serve", "delay", "apply_async"):
                return None
        if isinstance(obj, FlowTemplate):
            if name == "with_options":
                return obj.with_options(kwargs, self._kw_nodes(node))
            if name in ("serve", "deploy", "to_deployment"):
                return self.deployment_call(obj, name, args, kwargs, node)
            if name == "__call__":
                return self.subflow_call(obj, args, kwargs, node)
            if name in ("from_source",):
                return None
        if isinstance(obj, TaskOut):
            return self._future_method(obj, name, kwargs, node)
        return NOT_HANDLED

    def _future_method(self, out: TaskOut, name: str, kwargs: dict, node) -> Any:
        build = self.flow
        line = node.lineno if node is not None else None
        src = self.interp.source_text(node) if node is not None else None
        if build is not None:
            build.consumed.update(out.ids)
        if name in ("result", "aresult"):
            raises = kwargs.get("raise_on_failure", True) is not False
            if build is not None and name == "result":
                self._block_on(out.ids, tolerant=not raises)
            mode = "coroutine" if name == "aresult" else "result"
            return TaskOut(pyeval.RUNTIME, "task result", line, src, ids=out.ids, mode=mode)
        if name == "wait":
            if build is not None:
                self._block_on(out.ids, tolerant=True)
            return None
        return Derived(pyeval.RUNTIME, "task state", line, src, refs=out.ids)

    # -- roles -----------------------------------------------------------------
    def _r_asset(self, args, kwargs, node):
        """``Asset(key="s3://...")``: the key names what the task produces."""
        key = args[0] if args else kwargs.get("key")
        if isinstance(key, str):
            return key
        return Unknown(pyeval.RUNTIME, "asset key", getattr(node, "lineno", None), self._src(node))

    def _r_materialize(self, args, kwargs, node):
        """``@materialize(asset, ...)`` (Prefect 3.4+): a task whose outputs are
        the assets it materializes (keys or Asset objects)."""
        line = node.lineno if node is not None else None
        options = dict(kwargs)
        options[_ASSETS_OPTION] = [a for a in args]
        return DecoratorSpec("task", options, self._kw_nodes(node), line)

    def _r_exponential_backoff(self, args, kwargs, node):
        return ExpBackoff(args[0] if args else kwargs.get("backoff_factor"))

    def _r_wait(self, args, kwargs, node):
        futures = args[0] if args else kwargs.get("futures")
        ids = refs_of(futures)
        if self.flow is not None:
            self.flow.consumed.update(ids)
            self._block_on(ids, tolerant=True)
        return Derived(
            pyeval.RUNTIME,
            "done and not-done futures",
            node.lineno,
            self.interp.source_text(node),
            refs=tuple(ids),
        )

    def _r_as_completed(self, args, kwargs, node):
        ids = refs_of(args[0] if args else kwargs.get("futures"))
        if self.flow is not None:
            self.flow.consumed.update(ids)
        return TaskOut(
            pyeval.RUNTIME,
            "futures as they complete",
            node.lineno,
            self.interp.source_text(node),
            ids=tuple(ids),
            mode="mapped",
        )

    def _r_gather(self, args, kwargs, node):
        for a in node.args if node is not None else []:
            inner = a.value if isinstance(a, ast.Starred) else a
            d = self.pending_comprehensions.pop(id(inner), None)
            if d is not None:
                d.code = GATHER_COMPUTED
                d.message = (
                    f"asyncio.gather over `{pyeval._short(self.interp.source_text(inner))}`, "
                    "a list computed at run time: " + d.message.split(": ", 1)[-1]
                )
        return list(args)

    def _r_tags(self, args, kwargs, node):
        return TagsContext([a for a in args if isinstance(a, str)])

    def _r_serve(self, args, kwargs, node):
        return None

    def _r_from_source(self, args, kwargs, node):
        """``flow.from_source(source, entrypoint="this_file.py:fn")``: the flow
        of this file (its ``.deploy(...)`` gives the schedule); another file's
        flow is out of reach (PF305)."""
        entry = kwargs.get("entrypoint", args[1] if len(args) > 1 else None)
        line = node.lineno if node is not None else None
        if isinstance(entry, str) and ":" in entry:
            file_part, _, func = entry.rpartition(":")
            if Path(file_part).name == Path(self.path).name:
                for tpl in self.flows:
                    if tpl.fn.name == func:
                        return tpl
        self.diag(
            deploy.SCHEDULE_UNKNOWN,
            "warning",
            f"flow.from_source(entrypoint={entry!r}): not a flow of this file; its deployment is ignored",
            line,
        )
        return Unknown(pyeval.RUNTIME, "remote flow", line, self._src(node))

    def _r_runtime(self, args, kwargs, node):
        """Prefect helpers that only exist inside a run (loggers): silently unknown."""
        return Unknown(
            pyeval.RUNTIME, "run-time helper", node.lineno if node else None, self._src(node)
        )

    def _r_run_deployment(self, args, kwargs, node):
        if self.flow is None:
            return NOT_HANDLED
        name = args[0] if args else kwargs.get("name")
        line = node.lineno if node is not None else None
        self.diag(
            RUN_DEPLOYMENT,
            "warning",
            f"run_deployment({pyeval._short(self.interp.source_text(node.args[0]) if node.args else 'name=…')}) "
            "starts a deployment's flow run: kept as a subworkflow task naming the deployment",
            line,
        )
        flow_name = name.split("/")[0] if isinstance(name, str) else None
        fields: dict[str, Any] = {"deployment": name if isinstance(name, str) else self._src(node)}
        if flow_name:
            fields["workflow"] = flow_name
        params = kwargs.get("parameters")
        ok, params_json = jsonable(params)
        if params is not None:
            if ok:
                fields["conf"] = params_json
            elif isinstance(params, dict):  # per key, as arguments are (run-time values as text)
                fields["conf"] = {str(k): self._render(v, None) for k, v in params.items()}
            else:
                fields["conf"] = self._render(params, None)
        timeout = kwargs.get("timeout")
        fields["wait_for_completion"] = timeout != 0
        base = fields["deployment"] if isinstance(fields["deployment"], str) else "run_deployment"
        task = self._new_task(base, Action("subworkflow", fields), line)
        ups: dict[str, bool] = {}
        collect([args, kwargs], ups)
        self._wire(task, ups, {}, line)
        self._block_on([task.id], tolerant=False)
        return TaskOut(pyeval.RUNTIME, "flow run", line, self._src(node), ids=(task.id,))

    def _src(self, node) -> str | None:
        return self.interp.source_text(node) if node is not None else None

    # -- awaiting --------------------------------------------------------------
    def on_await(self, value: Any, node: ast.AST) -> Any:
        build = self.flow
        if build is None:
            return self.interp.unknown(pyeval.RUNTIME, "awaits a run-time result", node)
        ids = [i for i in refs_of(value) if i in build.coroutines]
        for i in ids:
            build.coroutines.pop(i, None)
        if ids:
            self._block_on(ids, tolerant=False)
            build.consumed.update(ids)
        if isinstance(value, TaskOut):
            return TaskOut(
                value.kind,
                value.reason,
                value.line,
                value.source,
                ids=value.ids,
                mode="result" if value.mode == "coroutine" else value.mode,
            )
        if isinstance(value, list):
            return [
                TaskOut(v.kind, v.reason, v.line, v.source, ids=v.ids, mode="result")
                if isinstance(v, TaskOut) and v.mode == "coroutine"
                else v
                for v in value
            ]
        if isinstance(value, Unknown):
            return value
        return Unknown(
            pyeval.RUNTIME,
            "awaited value",
            getattr(node, "lineno", None),
            self.interp.source_text(node),
        )

    # -- tasks -----------------------------------------------------------------
    def _new_task(self, base: str, action: Action, line: int | None) -> Task:
        build = self.flow
        assert build is not None
        n = build.counters.get(base, 0)
        tid = base if n == 0 else f"{base}-{n}"
        while tid in build.upstream:
            n += 1
            tid = f"{base}-{n}"
        build.counters[base] = n + 1
        task = Task(
            id=tid, action=action, retry_delay_s=0, source=SourceRef(ENGINE, self.path, line)
        )
        build.workflow.tasks.append(task)
        build.created.append(tid)
        build.upstream[tid] = {}
        extra: dict[str, Any] = {}
        if build.context:
            extra["conditions"] = [dict(c) for c in build.context]
        tags = [t for group in build.tags for t in group]
        if tags:
            extra["tags"] = tags
        if extra:
            task.extra["prefect"] = extra
        return task

    def _block_on(self, ids, tolerant: bool) -> None:
        """Everything started from now on waits for ``ids``."""
        build = self.flow
        if build is None or not ids:
            return
        covered = self._ancestors(ids)
        barrier = {b: tol for b, tol in build.barrier.items() if b not in covered or b in ids}
        for i in ids:
            barrier[i] = barrier.get(i, True) and tolerant
        build.barrier = barrier

    def _ancestors(self, ids) -> set[str]:
        build = self.flow
        seen: set[str] = set()
        stack = list(ids)
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            stack.extend(build.upstream.get(i, {}))
        return seen

    def _wire(self, task: Task, data: dict[str, bool], control: dict[str, bool], line) -> None:
        """Edges into ``task``: data from arguments, control from wait_for and
        from the blocking calls before it."""
        build = self.flow
        wf = build.workflow
        ups = build.upstream[task.id]
        for src, tol in data.items():
            if src == task.id:
                continue
            wf.add_edge(src, task.id, "data")
            ups[src] = ups.get(src, True) and tol
            build.consumed.add(src)
        for src, tol in control.items():
            if src == task.id:
                continue
            wf.add_edge(src, task.id, "control")
            ups[src] = ups.get(src, True) and tol
            build.consumed.add(src)
        known = self._ancestors(list(ups))
        for src, tol in build.barrier.items():
            if src == task.id or src in known:
                continue
            wf.add_edge(src, task.id, "control")
            ups[src] = ups.get(src, True) and tol

    def task_call(self, tpl: TaskTemplate, args: list, kwargs: dict, node, mode: str) -> Any:
        line = node.lineno if node is not None else None
        src = self._src(node)
        if self.flow is None:
            # A task called outside a flow body (e.g. at module level under
            # __main__ or inside another task) runs on its own: not part of a workflow.
            return Unknown(pyeval.RUNTIME, "task run outside a flow", line, src)
        kwargs = dict(kwargs)
        wait_for = kwargs.pop("wait_for", None)
        return_state = kwargs.pop("return_state", False) is True
        kwargs.pop("deferred", None)
        action = self._action(tpl)
        task = self._new_task(tpl.name, action, line)
        self._apply_options(task, tpl)
        bound, extra_args, star = self._bind(tpl.fn, args, kwargs)
        if star:
            self.diag(
                STAR_ARGS,
                "warning",
                f"`{pyeval._short(src)}`: *args/**kwargs of run-time shape; arguments kept as source",
                line,
            )
        data: dict[str, bool] = {}
        control: dict[str, bool] = {}
        gate = gate_of(tpl.fn)
        if gate is not None and gate.param in bound:
            # wfconv's generated guard: the rule is the trigger rule; the
            # upstream states it receives are ordering only.
            collect(bound.pop(gate.param), control)
            if gate.also is not None:
                # Indirect setups / a teardown's scope: implied by the roles.
                bound.pop(gate.also, None)
            self.flow.forced_rules[task.id] = gate.rule
            self.flow.gate_branches.update(gate.branches)
            for s in gate.setups:
                self.flow.roles.setdefault(s, "setup")
            if gate.teardown:
                self.flow.roles[task.id] = "teardown"
                if gate.fails_run:
                    self.flow.fails_run.add(task.id)
            collect([list(bound.values()), extra_args], data)
        else:
            collect([args, kwargs], data)
        if wait_for is not None:
            collect(wait_for, control)
        if mode == "map":
            self._mapped(task, tpl, bound)
        elif action.kind == "python":
            self._arguments(task, bound, extra_args)
        self._wire(task, data, control, line)
        if return_state and mode == "call":
            self.diag(
                RETURN_STATE,
                "info",
                f"{task.id}: return_state=True: a failure does not raise in the flow, what follows still runs",
                line,
                task=task.id,
            )
        build = self.flow
        if mode == "call" and tpl.is_async:
            build.coroutines[task.id] = line or 0
            return TaskOut(pyeval.RUNTIME, "coroutine", line, src, ids=(task.id,), mode="coroutine")
        if mode == "call":
            self._block_on([task.id], tolerant=return_state)
            return TaskOut(
                pyeval.RUNTIME,
                "task result",
                line,
                src,
                ids=(task.id,),
                mode="state" if return_state else "result",
            )
        build.futures[task.id] = line or 0
        return TaskOut(
            pyeval.RUNTIME,
            "task future",
            line,
            src,
            ids=(task.id,),
            mode="mapped" if mode == "map" else "future",
        )

    def subflow_call(self, tpl: FlowTemplate, args: list, kwargs: dict, node) -> Any:
        line = node.lineno if node is not None else None
        src = self._src(node)
        if self.flow is None:
            return Unknown(pyeval.RUNTIME, "flow run", line, src)
        kwargs = dict(kwargs)
        return_state = kwargs.pop("return_state", False) is True
        wait_for = kwargs.pop("wait_for", None)
        fields: dict[str, Any] = {"workflow": tpl.id, "wait_for_completion": True}
        bound, extra_args, _ = self._bind(tpl.fn, args, kwargs)
        conf = {k: self._render(v, None) for k, v in bound.items()}
        if conf:
            fields["conf"] = conf
        name = tpl.options.get("name")
        base = name if isinstance(name, str) and name else tpl.fn.name
        task = self._new_task(base, Action("subworkflow", fields), line)
        retries = tpl.options.get("retries")
        if isinstance(retries, int) and not isinstance(retries, bool):
            task.retries = retries
        delay = seconds(tpl.options.get("retry_delay_seconds"))
        if delay is not None:
            task.retry_delay_s = delay
        timeout = seconds(tpl.options.get("timeout_seconds"))
        if timeout is not None:
            task.timeout_s = timeout
        if tpl.overridden:
            self._extra(task)["with_options"] = sorted(set(tpl.overridden))
        data: dict[str, bool] = {}
        collect([args, kwargs], data)
        control: dict[str, bool] = {}
        if wait_for is not None:
            collect(wait_for, control)
        self._wire(task, data, control, line)
        if tpl.is_async:
            self.flow.coroutines[task.id] = line or 0
            return TaskOut(pyeval.RUNTIME, "coroutine", line, src, ids=(task.id,), mode="coroutine")
        self._block_on([task.id], tolerant=return_state)
        return TaskOut(
            pyeval.RUNTIME,
            "flow result",
            line,
            src,
            ids=(task.id,),
            mode="state" if return_state else "result",
        )

    @staticmethod
    def _extra(task: Task) -> dict[str, Any]:
        return task.extra.setdefault("prefect", {})

    def _action(self, tpl: TaskTemplate) -> Action:
        """What the task body obviously is (see ``_body_action``), else python."""
        key = id(tpl.fn.node)
        if key not in self._action_cache:
            gate = gate_of(tpl.fn)
            body = gate.rest if gate is not None else body_of(tpl.fn)
            self._action_cache[key] = body_action(tpl.fn, body, self.interp)
        found = self._action_cache[key]
        if found is not None:
            return Action(found.kind, dict(found.fields))
        unit = tpl.fn.scope.module.unit  # a task imported from a module of the repository
        module = unit.name if unit is not None else self.module
        fields = {"callable": tpl.fn.name, "module": module}
        # The task's own function, as written (its decorators are dropped by
        # the writers): a target that does not run Prefect pastes it.
        node = tpl.fn.node
        if unit is None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            text = self.interp.source_text(node)
            fields["source_code"] = textwrap.dedent(" " * node.col_offset + text)
        return Action("python", fields)

    def _bind(self, fn: FunctionValue, args: list, kwargs: dict) -> tuple[dict, list, bool]:
        """Arguments by parameter name (positional ones mapped through the
        signature), extra positionals, and whether a */** of unknown shape
        was passed."""
        a = fn.node.args
        names = [p.arg for p in (*a.posonlyargs, *a.args)]
        bound: dict[str, Any] = {}
        star = any(isinstance(k, str) and k.startswith("**") for k in kwargs)
        for name, value in zip(names, args, strict=False):
            bound[name] = value
        extra = list(args[len(names) :])
        for k, v in kwargs.items():
            bound[k] = v
        return bound, extra, star

    def _render(self, value: Any, node: ast.AST | None) -> Any:
        """An argument as the IR keeps it: literal JSON, a template for task
        outputs (``{{ ti.xcom_pull(task_ids='x') }}``) and flow parameters
        (``{{ params.x }}``), else the expression's source text."""
        if isinstance(value, Annotated):
            return self._render(value.value, node)
        if isinstance(value, FlowParam):
            return param_template(value.name)
        if isinstance(value, TaskOut):
            if len(value.ids) == 1:
                return xcom(value.ids[0])
            return [xcom(i) for i in value.ids]
        if isinstance(value, list) and value and not isinstance(value, Unknown):
            if any(isinstance(v, (TaskOut, FlowParam, Annotated)) for v in value):
                return [self._render(v, None) for v in value]
        if isinstance(value, dict) and any(
            isinstance(v, (TaskOut, FlowParam, Annotated)) for v in value.values()
        ):
            return {str(k): self._render(v, None) for k, v in value.items()}
        if isinstance(value, Derived) and value.template is not None:
            return value.template
        if isinstance(value, Ref) and value.qualname in RUNTIME_TEMPLATES:
            return RUNTIME_TEMPLATES[value.qualname]
        ok, js = jsonable(value)
        if ok:
            return js
        if isinstance(value, Unknown) and value.source:
            return value.source
        return self.interp.source_text(node) if node is not None else repr(value)

    def _arguments(self, task: Task, bound: dict, extra: list) -> None:
        if bound:
            task.action.fields["op_kwargs"] = {k: self._render(v, None) for k, v in bound.items()}
        if extra:
            task.action.fields["op_args"] = [self._render(v, None) for v in extra]
        exprs = sorted(k for k, v in bound.items() if self._is_expression(v))
        if exprs:
            self._extra(task)["expression_args"] = exprs

    @classmethod
    def _is_expression(cls, value: Any) -> bool:
        """Is the rendered argument source text (rather than a literal or a
        template)?"""
        if isinstance(value, Annotated):
            value = value.value
        if isinstance(value, (TaskOut, FlowParam)):
            return False
        if isinstance(value, Derived) and value.template is not None:
            return False
        if isinstance(value, Ref) and value.qualname in RUNTIME_TEMPLATES:
            return False
        if isinstance(value, (list, tuple)) and not isinstance(value, Unknown):
            return any(cls._is_expression(v) for v in value)
        if isinstance(value, dict):
            return any(cls._is_expression(v) for v in value.values())
        return isinstance(value, Unknown) or not jsonable(value)[0]

    def _mapped(self, task: Task, tpl: TaskTemplate, bound: dict) -> None:
        over: dict[str, Any] = {}
        static: dict[str, Any] = {}
        for name, value in bound.items():
            if isinstance(value, Annotated) and value.kind in ("unmapped", "quote"):
                static[name] = self._render(value.value, None)
            elif self._iterable(value):
                if isinstance(value, dict) and not any(
                    isinstance(v, Unknown) for v in value.values()
                ):
                    value = list(value)
                over[name] = self._render(value, None)
            else:
                static[name] = self._render(value, None)
        task.mapped = {"kind": "zip", "over": over}
        if static:
            task.action.fields["op_kwargs"] = static

    @staticmethod
    def _iterable(value: Any) -> bool:
        """Would Prefect map over this argument? (iterables except str/bytes;
        run-time values are assumed iterable, as .map requires one)."""
        if isinstance(value, Annotated):
            return value.kind == "allow_failure"
        if isinstance(value, FlowParam):
            return not isinstance(value.default, (str, bytes, int, float, bool))
        if isinstance(value, Unknown):
            return True
        return isinstance(value, (list, tuple, set, frozenset, dict, range))

    # -- options -> IR fields --------------------------------------------------
    def _apply_options(self, task: Task, tpl: TaskTemplate) -> None:
        opts = tpl.options
        line = task.source.line if task.source else None
        retries = opts.get("retries")
        if isinstance(retries, int) and not isinstance(retries, bool):
            task.retries = retries
        elif retries is not None:
            self._option_unknown(tpl, "retries", line)
        self._retry_delay(task, tpl, line)
        timeout = opts.get("timeout_seconds")
        if seconds(timeout) is not None:
            task.timeout_s = seconds(timeout)
        elif timeout is not None:
            self._option_unknown(tpl, "timeout_seconds", line)
        desc = opts.get("description")
        task.doc = desc if isinstance(desc, str) else ast.get_docstring(tpl.fn.node)
        assets = opts.get(_ASSETS_OPTION)
        if assets is not None:
            task.outputs = [a for a in assets if isinstance(a, str)]
            self._extra(task)["materialize"] = True
        extra: dict[str, Any] = {}
        for key, value in opts.items():
            if key in _TASK_FIELD_OPTIONS or key == _ASSETS_OPTION:
                continue
            ok, js = jsonable(value)
            if ok:
                extra[key] = js
            elif isinstance(value, FunctionValue):
                extra[key] = value.name
            elif isinstance(value, Ref):
                extra[key] = (
                    value.qualname.rsplit(".", 1)[-1]
                    if value.qualname.startswith("prefect.")
                    else value.qualname
                )
            else:
                extra[key] = self._option_source(tpl, key)
        tags = extra.pop("tags", None)
        if tags is not None:
            ctx_tags = self._extra(task).get("tags", [])
            merged = [*(tags if isinstance(tags, list) else [tags]), *ctx_tags]
            self._extra(task)["tags"] = list(dict.fromkeys(merged))
        if extra:
            self._extra(task).update(extra)
        if tpl.overridden:
            self._extra(task)["with_options"] = sorted(set(tpl.overridden))

    def _option_source(self, tpl, key: str) -> str:
        node = tpl.nodes.get(key)
        return self.interp.source_text(node) if node is not None else key

    def _option_unknown(self, tpl, key: str, line) -> None:
        self.diag(
            OPTION_UNKNOWN,
            "warning",
            f"{tpl.name}: {key}={pyeval._short(self._option_source(tpl, key))} is not known statically; IR default kept",
            line,
        )

    def _retry_delay(self, task: Task, tpl: TaskTemplate, line) -> None:
        value = tpl.options.get("retry_delay_seconds")
        if value is None:
            return
        if isinstance(value, ExpBackoff):
            factor = seconds(value.factor)
            if factor is None:
                self._option_unknown(tpl, "retry_delay_seconds", line)
                return
            task.retry_delay_s = factor
            task.retry_backoff = "exponential"
            self._extra(task)["retry_delay_seconds"] = {"exponential_backoff": factor}
            # Prefect expands the backoff into a list when the task is created,
            # sized by the retries of that moment; with_options(retries=...)
            # keeps the old list.
            base_retries = tpl.options.get("retries")
            if "retries" in tpl.overridden and "retry_delay_seconds" not in tpl.overridden:
                self.diag(
                    STALE_BACKOFF,
                    "warning",
                    f"{task.id}: with_options(retries=...) keeps the exponential_backoff delays computed "
                    f"for the original retries ({base_retries}); later retries reuse the last delay",
                    line,
                    task=task.id,
                )
            return
        secs = seconds(value)
        if secs is not None:
            task.retry_delay_s = secs
            return
        if (
            isinstance(value, (list, tuple))
            and value
            and all(seconds(v) is not None for v in value)
        ):
            task.retry_delay_s = [seconds(v) for v in value]
            return
        self._option_unknown(tpl, "retry_delay_seconds", line)

    # -- schedules -------------------------------------------------------------
    def _schedule_spec(self, kind: str, args: list, kwargs: dict, node) -> Any:
        line = node.lineno if node is not None else None
        key = {"cron": "cron", "interval": "interval", "rrule": "rrule"}[kind]
        value = args[0] if args else kwargs.get(key)
        if kind == "interval":
            value = seconds(value)
        if value is None or isinstance(value, Unknown):
            return Unknown(pyeval.RUNTIME, "schedule", line, self._src(node))
        tz = kwargs.get("timezone")
        anchor = kwargs.get("anchor_date")
        if isinstance(anchor, datetime.datetime):
            anchor = anchor.isoformat()
        elif not isinstance(anchor, str):
            anchor = None
        day_or = kwargs.get("day_or")
        return deploy.ScheduleSpec(
            kind,
            value,
            tz if isinstance(tz, str) else None,
            anchor,
            day_or if isinstance(day_or, bool) else None,
            kwargs.get("active", True) is not False,
            line,
        )

    def deployment_call(self, tpl: FlowTemplate, how: str, args: list, kwargs: dict, node) -> Any:
        line = node.lineno if node is not None else None
        specs: list[deploy.ScheduleSpec] = []
        for key in ("cron", "interval", "rrule"):
            value = kwargs.get(key)
            if value is None:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                spec = self._schedule_spec(key, [v], {}, node)
                if isinstance(spec, deploy.ScheduleSpec):
                    specs.append(spec)
                else:
                    self.diag(
                        deploy.SCHEDULE_UNKNOWN,
                        "warning",
                        f"{how}({key}=…): schedule not known statically; left manual",
                        line,
                    )
        for key in ("schedule", "schedules"):
            value = kwargs.get(key)
            if value is None:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, deploy.ScheduleSpec):
                    specs.append(v)
                else:
                    self.diag(
                        deploy.SCHEDULE_UNKNOWN,
                        "warning",
                        f"{how}({key}=…): schedule not known statically; left manual",
                        line,
                    )
        name = args[0] if args else kwargs.get("name")
        settings: dict[str, Any] = {}
        for key in (
            "work_pool_name",
            "work_queue_name",
            "image",
            "version",
            "description",
            "concurrency_limit",
            "global_limit",
            "limit",
        ):
            ok, js = jsonable(kwargs.get(key))
            if kwargs.get(key) is not None and ok:
                settings[key] = js
        params = kwargs.get("parameters")
        ok_params, params_js = jsonable(params if params is not None else {})
        tags = kwargs.get("tags")
        paused = kwargs.get("paused")
        dep = deploy.Deployment(
            flow=tpl.fn.name,
            via=how,
            name=name if isinstance(name, str) else None,
            schedules=specs,
            paused=paused if isinstance(paused, bool) else None,
            parameters=params_js if ok_params else {},
            tags=[t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            settings=settings,
            path=self.path,
            line=line,
        )
        if node is None or id(node) not in self._deploy_nodes:
            self.deployments.append(dep)
        if node is not None:
            self._deploy_nodes.add(id(node))
        return Unknown(pyeval.RUNTIME, "deployment", line, self._src(node))

    # -- module ----------------------------------------------------------------
    def read(self) -> Bundle:
        try:
            tree = pychunks.parse_module(self.text.removeprefix("\ufeff"), self.path, lazy=False)
        except SyntaxError as exc:
            raise InputError(self.path, exc.lineno, f"syntax error: {exc.msg}") from None
        except ValueError as exc:  # null bytes
            raise InputError(self.path, None, f"cannot parse: {exc}") from None
        except (RecursionError, MemoryError):
            raise InputError(self.path, None, "nested too deeply to read") from None
        try:
            self.interp.run_module(tree)
        except RecursionError:
            raise InputError(self.path, None, "nested too deeply to read") from None
        self._run_main_guard(tree)
        self._scan_deployments(tree)
        bundle = Bundle()
        for tpl in self.flows:
            bundle.workflows.append(self._read_flow(tpl))
        yaml_deps, yaml_diags = deploy.read_prefect_yaml(Path(self.path), self.path)
        self.module_diags.extend(yaml_diags)
        by_func: dict[str, list[deploy.Deployment]] = {}
        for d in [*self.deployments, *yaml_deps]:
            by_func.setdefault(d.flow, []).append(d)
        for tpl, w in zip(self.flows, bundle.workflows, strict=True):
            deploy.apply_deployments(
                w,
                by_func.get(tpl.fn.name, []),
                self.path,
                self.interp.module_scope.vars.get("WFCONV_TIME"),
            )
            finalize(w)
        if not self.flows:
            self.module_diags.append(
                Diagnostic(
                    "warning",
                    NO_FLOW,
                    "no @flow function found statically in this file",
                    self.path,
                    None,
                )
            )
        bundle.diagnostics.extend(self.module_diags)
        return bundle

    def _run_main_guard(self, tree: ast.Module) -> None:
        """Interpret ``if __name__ == "__main__":`` blocks (statically, like the
        rest of the module): that is where ``serve``/``deploy`` usually sit."""
        for st in tree.body:
            if isinstance(st, ast.If) and _is_main_guard(st.test):
                self._main_nodes.update(id(n) for n in ast.walk(st))
                try:
                    self.interp.exec_block(st.body, self.interp.module_scope)
                except (pyeval._Return, pyeval._Break, pyeval._Continue, pyeval._Abort):
                    pass

    def _scan_deployments(self, tree: ast.Module) -> None:
        """Run deployment calls that sit in plain functions (``def main():``)
        without running anything else there: only the ``serve``/``deploy``/
        ``to_deployment`` calls and their arguments. Flow bodies and the
        ``__main__`` blocks (already interpreted) are skipped."""
        flow_nodes = {id(t.fn.node) for t in self.flows}
        scope = self.interp.module_scope
        stack: list[ast.AST] = [tree]
        while stack:
            node = stack.pop()
            if id(node) in flow_nodes or id(node) in self._main_nodes:
                continue
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("serve", "deploy", "to_deployment")
            ):
                self.interp.eval(node, scope)
            stack.extend(ast.iter_child_nodes(node))
        self.interp.line = None

    def _read_flow(self, tpl: FlowTemplate) -> Workflow:
        opts = tpl.options
        fn = tpl.fn
        line = fn.node.lineno
        w = Workflow(id=tpl.id, source=SourceRef(ENGINE, self.path, line))
        desc = opts.get("description")
        w.description = desc if isinstance(desc, str) else ast.get_docstring(fn.node)
        timeout = seconds(opts.get("timeout_seconds"))
        if timeout is not None:
            w.timeout_s = timeout
        extra: dict[str, Any] = {"name": tpl.prefect_name, "function": fn.name}
        for key, value in opts.items():
            if key in _FLOW_FIELD_OPTIONS:
                continue
            ok, js = jsonable(value)
            if ok:
                extra[key] = js
            elif isinstance(value, FunctionValue):
                extra[key] = value.name
            else:
                node = tpl.nodes.get(key)
                extra[key] = self.interp.source_text(node) if node is not None else repr(value)
        if tpl.is_async:
            extra["async"] = True
        w.extra["prefect"] = extra
        build = FlowBuild(tpl, w)
        scope = Scope(fn.scope)
        params = self._flow_params(fn, w)
        scope.vars.update(params)
        self.flow = build
        saved_depth = self.interp.depth
        try:
            self.interp.exec_block(fn.node.body, scope)
        except pyeval._Return as r:
            build.returns = refs_of(r.value)
            build.consumed.update(build.returns)
        except pyeval._Abort:
            pass
        except (pyeval._Break, pyeval._Continue):
            pass
        finally:
            self.interp.depth = saved_depth
            self._finish(build)
            self.flow = None
        return w

    def _flow_params(self, fn: FunctionValue, w: Workflow) -> dict[str, FlowParam]:
        a = fn.node.args
        positional = [*a.posonlyargs, *a.args]
        first_default = len(positional) - len(fn.defaults)
        out: dict[str, FlowParam] = {}
        required: list[str] = []
        dating = run_date_parameter(fn)  # wfconv's logical_date: not a workflow parameter
        for i, p in enumerate(positional):
            default = fn.defaults[i - first_default] if i >= first_default else NOT_HANDLED
            if p.arg != dating:
                self._param(p.arg, default, w, out, required)
        for p in a.kwonlyargs:
            if p.arg != dating:
                self._param(p.arg, fn.kw_defaults.get(p.arg, NOT_HANDLED), w, out, required)
        if required:
            w.extra["prefect"]["required_parameters"] = required
        return out

    def _param(self, name, default, w, out, required) -> None:
        if default is NOT_HANDLED:
            required.append(name)
            w.params[name] = None
        else:
            ok, js = jsonable(default)
            w.params[name] = (
                js if ok else (default.source if isinstance(default, Unknown) else repr(default))
            )
        out[name] = FlowParam(
            pyeval.RUNTIME,
            "flow parameter",
            None,
            name,
            name=name,
            default=None if default is NOT_HANDLED else default,
        )

    def _finish(self, build: FlowBuild) -> None:
        w = build.workflow
        for task in w.tasks:
            _literal_text(task)
            task.role = build.roles.get(task.id, task.role)
            task.teardown_fails_run = task.id in build.fails_run
            if task.id in build.gate_branches and task.action.kind == "python":
                task.action = Action("branch", dict(task.action.fields))
            ups = build.upstream.get(task.id, {})
            flags = set(ups.values())
            if task.id in build.forced_rules:
                task.trigger_rule = build.forced_rules[task.id]
            elif True in flags:
                task.trigger_rule = "all_done"
                if False in flags:
                    strict = sorted(u for u, tol in ups.items() if not tol)
                    tol = sorted(u for u, t in ups.items() if t)
                    self.diag(
                        PARTIAL_ALLOW_FAILURE,
                        "warning",
                        f"{task.id}: failure of {', '.join(tol)} is tolerated (allow_failure or wait()) but Prefect still needs "
                        f"{', '.join(strict)} to succeed, the IR rule all_done also runs it when they fail",
                        task.source.line if task.source else None,
                        task=task.id,
                    )
        self.flow = build
        for tid, line in build.futures.items():
            if tid not in build.consumed:
                self.diag(
                    UNRESOLVED_FUTURE,
                    "warning",
                    f"the future of {tid} is never resolved (no .result()/.wait()/wait_for/return): "
                    "Prefect does not wait for it and cancels it if it has not started when the flow returns",
                    line,
                    task=tid,
                )
        for tid, line in build.coroutines.items():
            self.diag(
                NEVER_AWAITED,
                "warning",
                f"{tid}: the coroutine of this async task is never awaited, so Prefect never runs it "
                "(kept as a task)",
                line,
                task=tid,
            )
        if build.returns:
            w.extra["prefect"]["returns"] = build.returns
        self._mark_losses(build)

    def _mark_losses(self, build: FlowBuild) -> None:
        """PF111 at each call that could not be seen, the IR's incomplete mark
        with the same reasons, and one PF112 summary of how much is missing."""
        w = build.workflow
        found = {**self.module_losses, **build.losses}
        if not found:
            return
        for (path, line), (label, why) in found.items():
            message = (
                f"`{label}`: {why}: if it runs tasks or flows, their runs and the dependencies "
                "through them are missing"
                if label != "reading stopped"
                else f"{why}: tasks after this point are missing"
            )
            w.diagnostics.append(Diagnostic("warning", NOT_SEEN, message, path, line))
            w.mark_incomplete(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        labels = list(dict.fromkeys(label for label, _ in found.values()))
        w.diagnostics.append(
            Diagnostic(
                "warning",
                INCOMPLETE,
                f"flow {w.id!r} is incomplete: {len(found)} call(s) or part(s) of it could not "
                f"be read statically ({', '.join(labels)}), so tasks or dependencies may be "
                f"missing from its {len(w.tasks)} task(s) (see incomplete_reasons)",
                self.path,
                build.template.fn.node.lineno,
            )
        )


# Action fields holding text a run renders (commands, arguments, messages).
# Prefect renders no Jinja: their literal text is escaped (values.ir_text);
# the others are names (callable, module, workflow, deployment) or wfconv's
# own tables (branch cases), already in the IR's spelling.
_TEXT_FIELDS = (
    "command",
    "env",
    "cwd",
    "message",
    "to",
    "cc",
    "bcc",
    "subject",
    "body",
    "target",
    "conf",
    "op_args",
    "op_kwargs",
)


def _literal_text(task: Task) -> None:
    fields = task.action.fields
    for key in _TEXT_FIELDS:
        if key in fields:
            fields[key] = ir_text(fields[key])
    if task.mapped and isinstance(task.mapped.get("over"), dict):
        task.mapped["over"] = ir_text(task.mapped["over"])


def _is_dotted(node: ast.AST) -> bool:
    """``name`` or ``a.b.c``: safe to evaluate twice (no calls)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _annotation(kind: str):
    def handler(reader: PrefectReader, args, kwargs, node):
        return Annotated(kind, args[0] if args else None)

    return handler


def _schedule(kind: str):
    def handler(reader: PrefectReader, args, kwargs, node):
        return reader._schedule_spec(kind, args, kwargs, node)

    return handler


# role -> handler(reader, args, kwargs, node)
_ROLE_CALLS = {
    "exponential_backoff": PrefectReader._r_exponential_backoff,
    "allow_failure": _annotation("allow_failure"),
    "unmapped": _annotation("unmapped"),
    "quote": _annotation("quote"),
    "wait": PrefectReader._r_wait,
    "as_completed": PrefectReader._r_as_completed,
    "gather": PrefectReader._r_gather,
    "tags": PrefectReader._r_tags,
    "cron": _schedule("cron"),
    "interval": _schedule("interval"),
    "rrule": _schedule("rrule"),
    "serve": PrefectReader._r_serve,
    "runtime": PrefectReader._r_runtime,
    "from_source": PrefectReader._r_from_source,
    "run_deployment": PrefectReader._r_run_deployment,
    "materialize": PrefectReader._r_materialize,
    "asset": PrefectReader._r_asset,
}


def parse(path: str, text: str | None = None, **options) -> Bundle:
    """Read a Prefect module (never imported). Luigi's options are ignored."""
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(path, None, f"cannot read: {exc}") from None
    return PrefectReader(path, text, options).read()
