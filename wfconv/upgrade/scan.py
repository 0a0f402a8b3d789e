"""First pass over a DAG file: what the rewrite needs to know before it edits.

Found with libcst's metadata (qualified names through imports, scopes,
parents): the ``DAG(...)`` calls and ``@dag`` decorators (the *sites*), the
names bound to a DAG, the functions that receive Airflow's context and the
parameter or variable that holds it, and the dicts used as ``default_args``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (
    ParentNodeProvider,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

DAG_CLASSES = frozenset(
    {"airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG"}
)
DAG_DECORATORS = frozenset({"airflow.decorators.dag", "airflow.sdk.dag"})
TASK_DECORATORS = ("airflow.decorators.task", "airflow.sdk.task")
SUBDAG_OPERATOR = frozenset(
    {"airflow.operators.subdag.SubDagOperator", "airflow.operators.subdag_operator.SubDagOperator"}
)
OPERATOR_SUFFIXES = ("Operator", "Sensor", "SensorAsync")
CALLBACK_KWARGS = frozenset(
    {
        "on_failure_callback",
        "on_success_callback",
        "on_retry_callback",
        "on_execute_callback",
        "on_skipped_callback",
    }
)
# Methods of an operator class that Airflow calls with the context.
CONTEXT_METHODS = frozenset({"execute", "pre_execute", "post_execute", "poke", "on_kill"})
GET_CURRENT_CONTEXT = frozenset(
    {
        "airflow.operators.python.get_current_context",
        "airflow.utils.context.get_current_context",
        "airflow.sdk.get_current_context",
        "airflow.providers.standard.operators.python.get_current_context",
    }
)


@dataclass
class Site:
    """One DAG definition: a ``DAG(...)`` call, or a ``@dag`` decorator (bare
    or called); ``name`` is the function a ``@dag`` decorates."""

    node: cst.CSTNode  # the Call, or the bare Decorator
    line: int
    call: cst.Call | None
    name: str | None = None


@dataclass
class ContextFunction:
    """A function Airflow calls with the task context."""

    node: cst.FunctionDef
    kwargs_name: str | None = None  # the ``**kwargs`` that collects context keys
    context_names: set[str] = field(default_factory=set)  # names bound to the whole context
    by_name: bool = False  # context keys arrive as named parameters


def qualified(meta, node: cst.CSTNode) -> set[str]:
    try:
        return {q.name for q in meta(QualifiedNameProvider, node)}
    except KeyError:
        return set()


def _decorator_target(dec: cst.Decorator) -> cst.BaseExpression:
    expr = dec.decorator
    return expr.func if isinstance(expr, cst.Call) else expr


def code_of(node: cst.CSTNode) -> str:
    """The source text of a node."""
    return cst.Module([]).code_for_node(node)


def string_value(node: cst.BaseExpression):
    """The value of a string literal, or None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            return node.evaluated_value
        except Exception:  # noqa: BLE001 - an f-string part or bytes: not a literal str
            return None
    return None


def quote(text: str) -> str:
    """A double-quoted Python string literal of ``text``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


class Scan(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (
        PositionProvider,
        QualifiedNameProvider,
        ParentNodeProvider,
        ScopeProvider,
    )

    def __init__(self) -> None:
        super().__init__()
        self.sites: list[Site] = []
        self.site_of_call: dict[int, Site] = {}  # id(Call or Decorator) -> site
        self.dag_names: dict[tuple[int, str], Site] = {}  # (id(scope), name) -> site
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        self.context_functions: dict[int, ContextFunction] = {}
        self.callable_names: set[str] = set()  # python_callable=<name>
        self.callable_uses: dict[str, list[cst.Call]] = {}  # name -> operators calling it
        self.direct_calls: dict[str, list[cst.Call]] = {}  # name -> calls `name(...)`
        self.callback_names: set[str] = set()
        self.default_args_names: set[str] = set()
        self.default_args_dicts: set[int] = set()  # id(Dict)
        self.operator_calls: set[int] = set()
        self.subdag_calls: list[cst.Call] = []
        self.imports_sdk = False  # the file is written for Airflow 3
        self._class_depth = 0
        self._operator_classes: list[bool] = []

    # -- helpers -----------------------------------------------------------
    def line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def q(self, node: cst.CSTNode) -> set[str]:
        return qualified(self.get_metadata, node)

    def scope_id(self, node: cst.CSTNode) -> int:
        scope = self.get_metadata(ScopeProvider, node, None)
        return id(scope) if scope is not None else 0

    # -- imports -------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is not None and not node.relative:
            module = cst.Module([]).code_for_node(node.module)
            if module == "airflow.sdk" or module.startswith("airflow.sdk."):
                self.imports_sdk = True

    def visit_Import(self, node: cst.Import) -> None:
        if any(a.evaluated_name.startswith("airflow.sdk") for a in node.names):
            self.imports_sdk = True

    # -- classes: operator subclasses call execute(self, context) ---------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        is_op = any(
            any(
                n.endswith(("Operator", "Sensor", "Hook")) or n.endswith("BaseSensorOperator")
                for n in self.q(base.value)
            )
            or (isinstance(base.value, cst.Name) and base.value.value.endswith(OPERATOR_SUFFIXES))
            for base in node.bases
        )
        self._operator_classes.append(is_op)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._operator_classes.pop()

    # -- functions -------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.setdefault(node.name.value, []).append(node)
        for dec in node.decorators:
            names = self.q(_decorator_target(dec))
            if names & DAG_DECORATORS:
                call = dec.decorator if isinstance(dec.decorator, cst.Call) else None
                site = Site(call or dec, self.line(dec), call, node.name.value)
                self._add_site(site)
            if any(n == t or n.startswith(t + ".") for n in names for t in TASK_DECORATORS):
                self._context_function(node, by_name=True)
        if (
            self._operator_classes
            and self._operator_classes[-1]
            and node.name.value in CONTEXT_METHODS
        ):
            params = node.params.params
            if len(params) >= 2:
                cf = self._context_function(node, by_name=False)
                cf.context_names.add(params[1].name.value)

    def _context_function(self, node: cst.FunctionDef, by_name: bool) -> ContextFunction:
        cf = self.context_functions.get(id(node))
        if cf is None:
            star = node.params.star_kwarg
            cf = ContextFunction(node, star.name.value if star is not None else None)
            self.context_functions[id(node)] = cf
        cf.by_name = cf.by_name or by_name
        if cf.kwargs_name:
            cf.context_names.add(cf.kwargs_name)
        return cf

    # -- calls -------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.direct_calls.setdefault(node.func.value, []).append(node)
        names = self.q(node.func)
        if names & DAG_CLASSES:
            self._add_site(Site(node, self.line(node), node))
        elif names & SUBDAG_OPERATOR:
            self.subdag_calls.append(node)
            self.operator_calls.add(id(node))
        elif any(
            n.startswith("airflow.") and n.rsplit(".", 1)[-1].endswith(OPERATOR_SUFFIXES)
            for n in names
        ) or any(n == t or n.startswith(t + ".") for n in names for t in TASK_DECORATORS):
            self.operator_calls.add(id(node))
        for arg in node.args:
            if arg.keyword is None:
                continue
            key = arg.keyword.value
            if key == "python_callable" and isinstance(arg.value, cst.Name):
                self.callable_names.add(arg.value.value)
                self.callable_uses.setdefault(arg.value.value, []).append(node)
            elif key in CALLBACK_KWARGS:
                self._callbacks(arg.value)
            elif key == "default_args":
                if isinstance(arg.value, cst.Name):
                    self.default_args_names.add(arg.value.value)
                elif isinstance(arg.value, cst.Dict):
                    self.default_args_dicts.add(id(arg.value))
        if names & GET_CURRENT_CONTEXT:
            self._context_variable(node)

    def _callbacks(self, value: cst.BaseExpression) -> None:
        items = value.elements if isinstance(value, (cst.List, cst.Tuple)) else [value]
        for item in items:
            expr = item.value if isinstance(item, cst.BaseElement) else item
            if isinstance(expr, cst.Name):
                self.callback_names.add(expr.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        if m.matches(node.key, m.SimpleString()) and node.key.evaluated_value in CALLBACK_KWARGS:
            self._callbacks(node.value)
        if m.matches(node.key, m.SimpleString()) and node.key.evaluated_value == "python_callable":
            if isinstance(node.value, cst.Name):
                self.callable_names.add(node.value.value)

    def _context_variable(self, call: cst.Call) -> None:
        """``context = get_current_context()`` inside a function."""
        parent = self.get_metadata(ParentNodeProvider, call, None)
        if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
            return
        target = parent.targets[0].target
        if not isinstance(target, cst.Name):
            return
        fn = self._enclosing_function(parent)
        if fn is None:
            return
        cf = self.context_functions.get(id(fn)) or ContextFunction(fn)
        self.context_functions[id(fn)] = cf
        cf.context_names.add(target.value)

    def _enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        while node is not None:
            node = self.get_metadata(ParentNodeProvider, node, None)
            if isinstance(node, cst.FunctionDef):
                return node
        return None

    # -- DAG names: `dag = DAG(...)`, `with DAG(...) as dag` ----------------------
    def _add_site(self, site: Site) -> None:
        self.sites.append(site)
        self.site_of_call[id(site.node)] = site

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            name = node.targets[0].target.value
            if isinstance(node.value, cst.Call) and self.q(node.value.func) & DAG_CLASSES:
                self._pending_name(node.value, name, node)
            if isinstance(node.value, cst.Dict):
                self._maybe_default_args(name, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if (
            isinstance(node.item, cst.Call)
            and self.q(node.item.func) & DAG_CLASSES
            and node.asname is not None
            and isinstance(node.asname.name, cst.Name)
        ):
            self._pending_name(node.item, node.asname.name.value, node)

    def _pending_name(self, call: cst.Call, name: str, where: cst.CSTNode) -> None:
        self._names_later.append((call, name, self.scope_id(where)))

    _names_later: list

    def visit_Module(self, node: cst.Module) -> None:
        self._names_later = []
        self._dict_assigns: list[tuple[str, cst.Dict]] = []

    def _maybe_default_args(self, name: str, value: cst.Dict) -> None:
        self._dict_assigns.append((name, value))

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, name, scope in self._names_later:
            site = self.site_of_call.get(id(call))
            if site is not None:
                self.dag_names[(scope, name)] = site
        for name, value in self._dict_assigns:
            if name in self.default_args_names:
                self.default_args_dicts.add(id(value))
