"""What a Prefect task body obviously is, read from its ``ast``.

A task stays a ``python`` action unless its body leaves no room for doubt
(docs/codes/prefect.md): a no-op, a single ``raise``, one checked subprocess
call with a literal command, a ``run_deployment`` call; and the trigger-rule
guard that wfconv's own Prefect backend writes (``gate`` of its helper
module ``wfconv_prefect``) gives the
task's trigger rule back. No guessing: anything else is python.
"""

from __future__ import annotations

import ast
import copy
import functools
import shlex
from dataclasses import dataclass, field
from typing import Any

from wfconv.backends import decisions
from wfconv.frontends import pyeval
from wfconv.frontends.prefect.values import TemplateText, jsonable, role_of
from wfconv.frontends.pyeval import FunctionValue, Ref, Scope, Unknown
from wfconv.ir.model import TRIGGER_RULES, Action

# subprocess calls that fail the task on a non-zero exit.
CHECKED_SUBPROCESS = {"subprocess.check_call", "subprocess.check_output", "subprocess.run"}


@dataclass
class Gate:
    """``if not gate("rule", upstream, ...): return ...`` opening a task
    body: the trigger-rule guard wfconv's Prefect backend writes when a rule
    needs Airflow's states. The rule is the task's trigger rule and the
    ``upstream`` argument carries ordering, not data."""

    rule: str
    param: str
    rest: list[ast.stmt]
    # Upstream task ids whose return value (the ids to follow) decides whether
    # this task runs: those upstreams are branch tasks.
    branches: list[str] = field(default_factory=list)
    # Setup/teardown emulation: tasks named as setups (``setups=``,
    # ``requires=``), whether this task is a teardown (and fails the run),
    # and the parameter (``also=``) carrying the states of indirect setups
    # and of a teardown's scope (ordering the IR derives from roles, not edges).
    setups: list[str] = field(default_factory=list)
    teardown: bool = False
    fails_run: bool = False
    also: str | None = None


HELPER_MODULE = "wfconv_prefect"


def helper_ref(fn: FunctionValue, node: ast.AST, name: str) -> bool:
    """Does ``node`` name ``name`` of wfconv's Prefect helper module (or the
    ``wfconv_<name>`` it once defined in every flow module)?"""
    if not isinstance(node, ast.Name):
        return False
    if node.id == f"wfconv_{name}":
        return True
    value = fn.scope.module.vars.get(node.id)
    if isinstance(value, FunctionValue):  # read from the module beside (a repository)
        unit = getattr(value.scope.module, "unit", None)
        return getattr(unit, "name", None) == HELPER_MODULE and value.name == name
    return isinstance(value, Ref) and value.qualname == f"{HELPER_MODULE}.{name}"


@functools.cache
def _shipped_helpers() -> str:
    from wfconv.backends.prefect import HELPER_SOURCE_PATH

    return HELPER_SOURCE_PATH.read_text(encoding="utf-8")


def helpers_are_wfconvs(interp: pyeval.Interpreter) -> bool:
    """The helper module beside the flow file is exactly the one wfconv
    ships (a sensor is only read back as one when its poll loop is wfconv's)."""
    from pathlib import Path

    if not interp.path:
        return False
    beside = Path(interp.path).with_name(f"{HELPER_MODULE}.py")
    try:
        return beside.read_text(encoding="utf-8") == _shipped_helpers()
    except OSError:
        return False


_SCHEDULED = "logical_date or flow_run.scheduled_start_time"
_LOGICAL_DATE = ast.dump(ast.parse(_SCHEDULED, mode="eval").body)
_RUN_DATES = ast.dump(
    ast.parse(f"wfconv_run_dates({_SCHEDULED}, logical_date is not None)", mode="eval").body
)


def _dates_statement(st: ast.stmt) -> bool:
    """``logical_date = logical_date or flow_run.scheduled_start_time``, or
    ``logical_date, <_ or data_interval_start>, <_ or data_interval_end> =
    wfconv_run_dates(...)``: how wfconv's flows date a run."""
    if not isinstance(st, ast.Assign) or len(st.targets) != 1:
        return False
    target, value = st.targets[0], ast.dump(st.value)
    if isinstance(target, ast.Name):
        return target.id == "logical_date" and value == _LOGICAL_DATE
    names = [getattr(e, "id", None) for e in getattr(target, "elts", [])]
    wanted = ("logical_date", "data_interval_start", "data_interval_end")
    return (
        isinstance(target, ast.Tuple)
        and len(names) == 3
        and names[0] == "logical_date"
        and all(n in (w, "_") for n, w in zip(names[1:], wanted[1:], strict=True))
        and value == _RUN_DATES
    )


def run_date_parameter(fn: FunctionValue) -> str | None:
    """``logical_date``: the flow parameter wfconv's Prefect backend adds to
    give a run's logical date (else the scheduled start), recognised by the
    flow's first statement; it is how a run is dated, not a workflow parameter."""
    body = body_of(fn)
    if body and _dates_statement(body[0]):
        return "logical_date"
    return None


def unrender(node: ast.AST, fn: FunctionValue | None = None, params: bool = True) -> ast.AST:
    """The IR's template spelling of a string wfconv's backend wrote: an
    f-string over the run's values (``f"--date {logical_date:%Y-%m-%d}"`` ->
    ``"--date {{ ds }}"``; with ``params``, the task's other parameters are
    workflow parameters, as in the bodies only wfconv writes), or the
    argument of the ``wfconv_render(X)`` it once wrote."""
    if isinstance(node, ast.JoinedStr) and fn is not None:
        from wfconv.backends.fstrings import RUN_VALUES, from_fstring

        a = fn.node.args
        names = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)} - set(RUN_VALUES)
        names = names if params else set()
        text = from_fstring(node, names)
        if text is None:
            return node
        # the f-string's run values are templates in the IR (literal text is a str)
        return ast.copy_location(ast.Constant(TemplateText(text)), node)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "wfconv_render"
        and len(node.args) == 1
        and not node.keywords
    ):
        return _TemplateStrings().visit(copy.deepcopy(node.args[0]))
    return node


class _TemplateStrings(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(TemplateText(node.value)), node)
        return node


def is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def body_of(fn: FunctionValue) -> list[ast.stmt]:
    """The statements of a def, without its docstring."""
    body = list(getattr(fn.node, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def gate_of(fn: FunctionValue) -> Gate | None:
    body = body_of(fn)
    if not body or not isinstance(body[0], ast.If) or body[0].orelse:
        return None
    test = body[0].test
    if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
        return None
    call = test.operand
    if not (
        isinstance(call, ast.Call)
        and helper_ref(fn, call.func, "gate")
        and len(call.args) >= 2
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value in TRIGGER_RULES
        and isinstance(call.args[1], ast.Name)
    ):
        return None
    if not all(isinstance(st, ast.Return) for st in body[0].body):
        return None
    lists: dict[str, list[str]] = {"branches": [], "setups": [], "requires": []}
    flags: dict[str, bool] = {"teardown": False, "fails_run": False}
    also = None
    for kw in call.keywords:
        if kw.arg in lists:
            if not isinstance(kw.value, (ast.List, ast.Tuple)) or not all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in kw.value.elts
            ):
                return None
            lists[kw.arg] = [e.value for e in kw.value.elts]  # type: ignore[attr-defined]
        elif kw.arg in flags:
            if not isinstance(kw.value, ast.Constant) or not isinstance(kw.value.value, bool):
                return None
            flags[kw.arg] = kw.value.value
        elif kw.arg == "also":
            if not isinstance(kw.value, ast.Name):
                return None
            also = kw.value.id
    return Gate(
        call.args[0].value,
        call.args[1].id,
        body[1:],
        lists["branches"],
        setups=lists["setups"] + lists["requires"],
        teardown=flags["teardown"],
        fails_run=flags["fails_run"],
        also=also,
    )


def shell_command(
    fn: FunctionValue, interp: pyeval.Interpreter, body: list[ast.stmt] | None = None
) -> tuple[str, dict] | None:
    """(command, fields) when the task body is exactly one checked subprocess
    call with a literal command; None otherwise (kept as python: no guessing).
    ``wfconv_render("...")`` (wfconv's own run-time Jinja renderer) around a
    literal counts as literal: its text is the IR's template spelling."""
    node = fn.node
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    body = body_of(fn) if body is None else body
    printed = _printed_command(body)
    if printed is not None:
        return _bash_command(fn, interp, *printed)
    if len(body) != 1:
        return None
    st = body[0]
    call = st.value if isinstance(st, (ast.Expr, ast.Return)) else None
    if isinstance(call, ast.Attribute):  # return subprocess.run(...).stdout
        call = call.value
    if not isinstance(call, ast.Call) or not call.args:
        return None
    func = interp.eval(call.func, fn.scope)
    if not isinstance(func, Ref) or func.qualname not in CHECKED_SUBPROCESS:
        return None
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    if any(k.arg is None for k in call.keywords):
        return None
    # The task's parameters are run-time values; bind them so that reading a
    # command built from them is quietly "not literal" rather than a note.
    local = Scope(fn.scope)
    a = node.args
    for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
        if p is not None:
            local.vars[p.arg] = Unknown(pyeval.RUNTIME, "task parameter", node.lineno, p.arg)

    def const(n: ast.AST | None) -> Any:
        if n is None:
            return None
        v = interp.eval(n, local)
        return None if not pyeval.is_known(v) else v

    if func.qualname == "subprocess.run" and const(kw.get("check")) is not True:
        return None  # a non-zero exit would not fail the task
    cmd = const(unrender(call.args[0]))
    shell = const(kw.get("shell")) is True
    if shell and isinstance(cmd, str):
        command = cmd
    elif not shell and isinstance(cmd, (list, tuple)) and all(isinstance(c, str) for c in cmd):
        command = shlex.join(cmd)
        if any(isinstance(c, TemplateText) for c in cmd):
            command = TemplateText(command)
    else:
        return None
    fields: dict[str, Any] = {"command": command}
    # env={"X": "1"} replaces the environment (subprocess semantics);
    # env={**os.environ, "X": "1"} adds to it, which is the IR's default.
    env_node, inherits = _inherited_env(kw.get("env"), interp, local)
    env = const(env_node)
    if isinstance(env, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        fields["env"] = env
        if not inherits:
            fields["env_replace"] = True
    cwd = const(kw.get("cwd"))
    if isinstance(cwd, str):
        fields["cwd"] = cwd
    if func.qualname == "subprocess.check_output" or const(kw.get("capture_output")) is True:
        fields["capture_output"] = True
    return command, fields


_PRINT_OUTPUT = ast.dump(ast.parse("print(result.stdout + result.stderr)").body[0])
_CHECK_EXIT = ast.dump(ast.parse("result.check_returncode()").body[0])
_RETURN_STDOUT = ast.dump(ast.parse("return result.stdout").body[0])
_BASH = ast.dump(ast.parse('["bash", "-c", command]', mode="eval").body)


def _printed_command(body: list[ast.stmt]) -> tuple[ast.AST, ast.Call, bool] | None:
    """(command, the run call, output returned) of the shell body wfconv's
    Prefect backend writes: ``command = ...``, ``result = subprocess.run(
    ["bash", "-c", command], capture_output=True, text=True, ...)``, the
    output printed, ``result.check_returncode()``, maybe ``return result.stdout``."""
    if len(body) not in (4, 5):
        return None
    first, run, printed, check, *rest = body
    if not (
        isinstance(first, ast.Assign)
        and [getattr(t, "id", None) for t in first.targets] == ["command"]
        and isinstance(run, ast.Assign)
        and [getattr(t, "id", None) for t in run.targets] == ["result"]
        and isinstance(run.value, ast.Call)
        and len(run.value.args) == 1
        and ast.dump(run.value.args[0]) == _BASH
        and ast.dump(printed) == _PRINT_OUTPUT
        and ast.dump(check) == _CHECK_EXIT
        and all(ast.dump(r) == _RETURN_STDOUT for r in rest)
    ):
        return None
    return first.value, run.value, bool(rest)


def _bash_command(
    fn: FunctionValue, interp: pyeval.Interpreter, command: ast.AST, call: ast.Call, output: bool
) -> tuple[str, dict] | None:
    func = interp.eval(call.func, fn.scope)
    if not isinstance(func, Ref) or func.qualname != "subprocess.run":
        return None
    kw = {k.arg: k.value for k in call.keywords}
    if None in kw or set(kw) - {"capture_output", "text", "check", "env", "cwd"}:
        return None
    local = Scope(fn.scope)
    a = fn.node.args
    for p in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
        if p is not None:
            local.vars[p.arg] = Unknown(pyeval.RUNTIME, "task parameter", fn.node.lineno, p.arg)

    def const(n: ast.AST | None) -> Any:
        v = interp.eval(n, local) if n is not None else None
        return v if pyeval.is_known(v) else None

    text = const(unrender(command, fn))
    if not isinstance(text, str):
        return None
    fields: dict[str, Any] = {"command": text}
    env_node, inherits = _inherited_env(kw.get("env"), interp, local)
    if isinstance(env_node, ast.Dict):
        values = [unrender(v, fn) for v in env_node.values]
        env_node = ast.copy_location(ast.Dict(keys=env_node.keys, values=values), env_node)
    env = const(env_node)
    if isinstance(env, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        fields["env"] = env
        if not inherits:
            fields["env_replace"] = True
    elif kw.get("env") is not None:
        return None
    cwd = const(unrender(kw["cwd"], fn)) if kw.get("cwd") is not None else None
    if isinstance(cwd, str):
        fields["cwd"] = cwd
    elif kw.get("cwd") is not None:
        return None
    if output:
        fields["capture_output"] = True
    return text, fields


def _inherited_env(
    node: ast.AST | None, interp: pyeval.Interpreter, scope: Scope
) -> tuple[ast.AST | None, bool]:
    """(the added variables, True) for ``{**os.environ, ...}`` / ``{**os.environ, **{...}}``;
    (node, False) for anything else."""
    if not isinstance(node, ast.Dict) or not node.keys or node.keys[0] is not None:
        return node, False
    first = interp.eval(node.values[0], scope)
    if not (isinstance(first, Ref) and first.qualname == "os.environ"):
        return node, False
    rest = ast.Dict(keys=node.keys[1:], values=node.values[1:])
    if len(rest.keys) == 1 and rest.keys[0] is None:
        return rest.values[0], True
    if any(k is None for k in rest.keys):
        return None, True
    return ast.copy_location(rest, node), True


def body_action(
    fn: FunctionValue, body: list[ast.stmt], interp: pyeval.Interpreter
) -> Action | None:
    """Task bodies whose meaning needs no guessing: a task without
    parameters that does nothing (``pass``/``return None``) is ``empty``
    (one with parameters is a stub whose arguments are worth keeping:
    python); only ``raise E("text")`` is ``fail``; one checked subprocess
    call with a literal command is ``shell``; a
    ``run_deployment("flow/deployment")`` call followed only by completion
    checks is ``subworkflow``."""
    gate = gate_of(fn)
    a = fn.node.args
    params = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    params += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    if gate is not None:
        params = [p for p in params if p != gate.param]
    if not params and all(
        isinstance(st, ast.Pass)
        or (isinstance(st, ast.Return) and (st.value is None or is_none(st.value)))
        or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant))
        for st in body
    ):
        return Action("empty", {})
    if len(body) == 1 and isinstance(body[0], ast.Raise):
        exc = body[0].exc
        if isinstance(exc, ast.Call) and len(exc.args) == 1:
            text = unrender(exc.args[0], fn)
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                return Action("fail", {"message": text.value})
    shell = shell_command(fn, interp, body)
    if shell is not None:
        return Action("shell", shell[1])
    decision = decision_task(fn, body)
    if decision is not None:
        return decision
    sensor = sensor_task(fn, body, interp)
    if sensor is not None:
        return sensor
    email = email_task(fn, body, interp)
    if email is not None:
        return email
    return deployment_task(fn, body, interp)


_EMAIL_HEADERS = {"To": "to", "Cc": "cc", "Bcc": "bcc", "Subject": "subject"}


def email_task(
    fn: FunctionValue, body: list[ast.stmt], interp: pyeval.Interpreter
) -> Action | None:
    """``message = EmailMessage()``, literal ``To``/``Cc``/``Bcc``/``Subject``
    headers, ``message.set_content("...")`` and one ``smtplib.SMTP(...)``
    ``send_message(message)``: an ``email`` action (what wfconv's Prefect
    backend writes for one). Anything else in the body: not an email."""
    if len(body) < 3:
        return None
    first, *headers, content, send = body

    def ref_of(node: ast.AST, qualname: str) -> bool:
        value = interp.eval(node, fn.scope)
        return isinstance(value, Ref) and value.qualname == qualname

    def literal(node: ast.AST) -> str | None:
        node = unrender(node, fn, params=False)
        return (
            node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
        )

    if not (
        isinstance(first, ast.Assign)
        and len(first.targets) == 1
        and isinstance(first.targets[0], ast.Name)
        and isinstance(first.value, ast.Call)
        and not first.value.args
        and not first.value.keywords
        and ref_of(first.value.func, "email.message.EmailMessage")
    ):
        return None
    var = first.targets[0].id
    fields: dict[str, Any] = {}
    for st in headers:
        if not (
            isinstance(st, ast.Assign)
            and len(st.targets) == 1
            and isinstance(st.targets[0], ast.Subscript)
            and isinstance(st.targets[0].value, ast.Name)
            and st.targets[0].value.id == var
            and isinstance(st.targets[0].slice, ast.Constant)
            and st.targets[0].slice.value in _EMAIL_HEADERS
        ):
            return None
        key = _EMAIL_HEADERS[st.targets[0].slice.value]
        text = literal(st.value)
        if text is None or key in fields:
            return None
        fields[key] = text if key == "subject" else [type(text)(a) for a in text.split(", ") if a]
    call = content.value if isinstance(content, ast.Expr) else None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "set_content"
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == var
        and len(call.args) == 1
        and not call.keywords
        and literal(call.args[0]) is not None
    ):
        return None
    fields["body"] = literal(call.args[0])
    if not (
        isinstance(send, ast.With)
        and len(send.items) == 1
        and isinstance(send.items[0].context_expr, ast.Call)
        and ref_of(send.items[0].context_expr.func, "smtplib.SMTP")
        and isinstance(send.items[0].optional_vars, ast.Name)
        and len(send.body) == 1
        and isinstance(send.body[0], ast.Expr)
    ):
        return None
    sent = send.body[0].value
    server = send.items[0].optional_vars.id
    if not (
        isinstance(sent, ast.Call)
        and isinstance(sent.func, ast.Attribute)
        and sent.func.attr == "send_message"
        and isinstance(sent.func.value, ast.Name)
        and sent.func.value.id == server
        and [a.id if isinstance(a, ast.Name) else None for a in sent.args] == [var]
        and not sent.keywords
        and "to" in fields
    ):
        return None
    return Action("email", fields)


def sensor_task(
    fn: FunctionValue, body: list[ast.stmt], interp: pyeval.Interpreter
) -> Action | None:
    """``return poll(lambda: glob.glob("<path>"), poke, timeout)`` (``glob_url``
    for a URL, ``soft_fail=True`` for a soft-failing sensor), ``poll`` and
    ``glob_url`` imported from wfconv's helper module beside the file: the
    file sensor wfconv's Prefect backend writes."""
    if (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Call)
        and helper_ref(fn, body[0].value.func, "poll")
    ):
        return _polled(fn, body[0].value, interp)
    return None


def _polled(fn: FunctionValue, call: ast.Call, interp: pyeval.Interpreter) -> Action | None:
    """``return poll(lambda: glob.glob(path), poke, timeout[, soft_fail=True])``
    with the helper module beside being wfconv's: a file sensor."""
    keywords = [(k.arg, getattr(k.value, "value", None)) for k in call.keywords]
    if keywords not in ([], [("soft_fail", True)]) or not helpers_are_wfconvs(interp):
        return None
    if len(call.args) != 3 or not all(isinstance(a, ast.Constant) for a in call.args[1:]):
        return None
    check = call.args[0]
    if not (
        isinstance(check, ast.Lambda)
        and not check.args.args
        and isinstance(check.body, ast.Call)
        and len(check.body.args) == 1
        and not check.body.keywords
    ):
        return None
    func = check.body.func
    if not helper_ref(fn, func, "glob_url"):
        ref = interp.eval(func, fn.scope)
        if not (isinstance(ref, Ref) and ref.qualname == "glob.glob"):
            return None
    target = unrender(check.body.args[0], fn)
    poke, timeout = (a.value for a in call.args[1:])  # type: ignore[attr-defined]
    if not (
        isinstance(target, ast.Constant)
        and isinstance(target.value, str)
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (poke, timeout))
    ):
        return None
    fields = {
        "sensor": "FileSensor",
        "target": target.value,
        "poke_interval_s": poke,
        "timeout_s": timeout,
        "soft_fail": bool(keywords),
    }
    return Action("sensor", fields)


_PARAMS_ARG = ast.dump(ast.parse('wfconv_context()["params"]', mode="eval").body)


def _parameters_dict(node: ast.AST) -> bool:
    """``{"name": name, ...}``: the run's parameters, as the task receives them."""
    return isinstance(node, ast.Dict) and all(
        isinstance(k, ast.Constant) and isinstance(v, ast.Name)
        for k, v in zip(node.keys, node.values, strict=True)
    )


def decision_task(fn: FunctionValue, body: list[ast.stmt]) -> Action | None:
    """``return wfconv_decide("id", {"p": p, ...})``: an Oozie
    decision as wfconv writes it (wfconv.backends.decisions), read back as its
    cases when the module's table and helpers are exactly the generated ones."""
    if len(body) != 1 or not isinstance(body[0], ast.Return):
        return None
    call = body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "wfconv_decide"
        and not call.keywords
        and len(call.args) == 2
        and isinstance(call.args[0], ast.Constant)
        and (ast.dump(call.args[1]) == _PARAMS_ARG or _parameters_dict(call.args[1]))
    ):
        return None
    module = fn.scope.module.vars
    decide = getattr(module.get("wfconv_decide"), "node", None)
    if decide is None or not decisions.is_decide_function(decide):
        return None
    fields = decisions.read_decision(module, call.args[0].value)
    return Action("branch", fields) if fields is not None else None


def deployment_task(
    fn: FunctionValue, body: list[ast.stmt], interp: pyeval.Interpreter
) -> Action | None:
    if not body:
        return None
    first = body[0]
    call = first.value if isinstance(first, (ast.Assign, ast.Expr)) else None
    if not (isinstance(call, ast.Call) and call.args and isinstance(call.args[0], ast.Constant)):
        return None
    if role_of(interp.eval(call.func, fn.scope)) != "run_deployment":
        return None
    name = call.args[0].value
    rest_ok = all(
        isinstance(st, ast.Return)
        or (
            isinstance(st, ast.If)
            and all(isinstance(x, ast.Raise) for x in st.body)
            and not st.orelse
        )
        for st in body[1:]
    )
    if not isinstance(name, str) or not rest_ok:
        return None
    fields: dict[str, Any] = {"deployment": name, "workflow": name.split("/")[0]}
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    params = kw.get("parameters")
    if params is not None:
        params = unrender(params)
        value = interp.eval(params, fn.scope)
        ok, js = jsonable(value)
        fields["conf"] = js if ok else interp.source_text(params)
    timeout = kw.get("timeout")
    fields["wait_for_completion"] = not (isinstance(timeout, ast.Constant) and timeout.value == 0)
    return Action("subworkflow", fields)
