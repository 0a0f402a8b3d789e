"""What a Prefect task body obviously is, read from its ``ast``.

A task stays a ``python`` action unless its body leaves no room for doubt
(docs/codes/prefect.md): a no-op, a single ``raise``, one checked subprocess
call with a literal command, a ``run_deployment`` call; and the trigger-rule
guard that wfconv's own Prefect backend writes (``wfconv_gate``) gives the
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
    """``if not wfconv_gate("rule", upstream, ...): return ...`` opening a task
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


def unrender(node: ast.AST) -> ast.AST:
    """``wfconv_render(X)`` -> X: wfconv's generated run-time Jinja renderer
    wraps text whose templates are already in the IR's neutral spelling (its
    strings come back as TemplateText; any other text is literal)."""
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
        and isinstance(call.func, ast.Name)
        and call.func.id == "wfconv_gate"
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
            text = unrender(exc.args[0])
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
        node = unrender(node)
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


@functools.cache
def _helper_dump(name: str) -> str:
    from wfconv.backends import prefect as backend

    source = {"wfconv_poll": backend.POLL_SOURCE, "wfconv_glob": backend.GLOB_SOURCE}[name]
    return ast.dump(ast.parse(source).body[0])


def _generated(fn: FunctionValue, name: str) -> bool:
    """Whether the module defines ``name`` exactly as wfconv's backend does."""
    node = getattr(fn.scope.module.vars.get(name), "node", None)
    return node is not None and ast.dump(node) == _helper_dump(name)


def sensor_task(
    fn: FunctionValue, body: list[ast.stmt], interp: pyeval.Interpreter
) -> Action | None:
    """``return wfconv_poll(lambda: glob.glob("<path>"), poke, timeout)`` (or
    ``wfconv_glob`` for a URL; with ``soft_fail=True`` inside
    ``if not ...: return ...`` then ``return True``): the file sensor wfconv's
    Prefect backend writes, read back as a ``sensor`` when the helpers are the
    generated ones."""
    soft = False
    if (
        len(body) == 2
        and isinstance(body[0], ast.If)
        and not body[0].orelse
        and isinstance(body[0].test, ast.UnaryOp)
        and isinstance(body[0].test.op, ast.Not)
        and all(isinstance(st, ast.Return) for st in body[0].body)
        and isinstance(body[1], ast.Return)
        and isinstance(body[1].value, ast.Constant)
        and body[1].value.value is True
    ):
        call, soft = body[0].test.operand, True
    elif len(body) == 1 and isinstance(body[0], ast.Return):
        call = body[0].value
    else:
        return None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "wfconv_poll"
        and len(call.args) == 3
        and all(isinstance(a, ast.Constant) for a in call.args[1:])
        and [(k.arg, getattr(k.value, "value", None)) for k in call.keywords]
        == ([("soft_fail", True)] if soft else [])
        and _generated(fn, "wfconv_poll")
    ):
        return None
    check = call.args[0]
    if not (
        isinstance(check, ast.Lambda)
        and not check.args.args
        and not check.args.vararg
        and isinstance(check.body, ast.Call)
        and len(check.body.args) == 1
        and not check.body.keywords
    ):
        return None
    func = check.body.func
    if isinstance(func, ast.Name) and func.id == "wfconv_glob":
        if not _generated(fn, "wfconv_glob"):
            return None
    else:
        ref = interp.eval(func, fn.scope)
        if not (isinstance(ref, Ref) and ref.qualname == "glob.glob"):
            return None
    target = unrender(check.body.args[0])
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
        "soft_fail": soft,
    }
    return Action("sensor", fields)


_PARAMS_ARG = ast.dump(ast.parse('wfconv_context()["params"]', mode="eval").body)


def decision_task(fn: FunctionValue, body: list[ast.stmt]) -> Action | None:
    """``return wfconv_decide("id", wfconv_context()["params"])``: an Oozie
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
        and ast.dump(call.args[1]) == _PARAMS_ARG
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
