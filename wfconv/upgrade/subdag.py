"""``SubDagOperator`` → ``TaskGroup`` (UG302), where that is safe (else UG303).

Airflow 2 requires a sub-DAG's id to be ``<parent dag id>.<task id>``, so the
sub-DAG's tasks can become a TaskGroup named like the operator's task id: the
task ``inner`` of sub-DAG ``parent.section`` becomes ``section.inner`` of the
parent, and edges to and from the operator become edges to and from the group.

Safe means the common shape, and only it:

- ``subdag=F(...)`` calls a function ``F`` of the same file that is used
  nowhere else;
- ``F`` makes one DAG (``x = DAG(...)`` or ``with DAG(...) as x``) whose id is
  ``"%s.%s" % (parent, child)``, ``f"{parent}.{child}"`` or
  ``parent + "." + child`` (``child`` then names the group), whose other
  arguments only matter to a separately scheduled DAG, and uses ``x`` only as
  ``dag=x`` of its tasks and in ``return x``;
- the operator has no arguments of its own besides ``task_id``, ``subdag``,
  ``dag`` and ``default_args`` (a retry or pool of the whole sub-DAG has no
  TaskGroup equivalent);
- the operator is made inside the parent's ``with DAG`` block or ``@dag``
  function, or is the whole value of a statement with ``dag=parent`` (the
  statement is then put in ``with parent:``).

The rewrite: ``x = DAG(id, default_args=a, ...)`` becomes
``x = TaskGroup(child, default_args=a)``, ``dag=x`` becomes ``task_group=x``,
and ``SubDagOperator(task_id=..., subdag=F(...))`` becomes ``F(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import ParentNodeProvider, PositionProvider

from wfconv.upgrade.scan import keyword

# DAG arguments that only matter to a DAG scheduled by itself: dropping them
# is what turning a sub-DAG into a group means.
DAG_ONLY = frozenset(
    {
        "dag_id",
        "default_args",
        "schedule",
        "schedule_interval",
        "timetable",
        "start_date",
        "end_date",
        "catchup",
        "description",
        "tags",
        "max_active_runs",
        "concurrency",
        "max_active_tasks",
        "dagrun_timeout",
        "is_paused_upon_creation",
        "doc_md",
        "default_view",
        "orientation",
    }
)
OPERATOR_OWN = frozenset({"task_id", "subdag", "dag", "default_args"})


@dataclass
class Conversion:
    operator: cst.Call
    factory: cst.FunctionDef
    dag_call: cst.Call
    dag_var: str
    child: str
    wrap_with: str | None  # parent DAG name when the statement must go into `with parent:`
    statement: cst.CSTNode | None


@dataclass
class Plan:
    findings: list = field(default_factory=list)
    conversions: list[Conversion] = field(default_factory=list)
    by_operator: dict[int, Conversion] = field(default_factory=dict)
    by_dag_call: dict[int, Conversion] = field(default_factory=dict)
    dag_kwargs: dict[int, str] = field(default_factory=dict)  # id(Arg dag=x) -> x
    wraps: dict[int, str] = field(default_factory=dict)  # id(statement line) -> parent name
    total: int = 0

    def import_removable(self, module: str, name: str) -> bool:
        if name != "SubDagOperator":
            return True
        return self.total > 0 and len(self.conversions) == self.total

    def owns(self, call: cst.Call) -> bool:
        return id(call) in self.by_dag_call

    def replace_call(self, up, original: cst.Call, updated: cst.Call):
        conv = self.by_operator.get(id(original))
        if conv is not None:
            arg = keyword(updated, "subdag")
            return (
                arg.value.with_changes(lpar=original.lpar, rpar=original.rpar)
                if arg is not None
                else None
            )
        conv = self.by_dag_call.get(id(original))
        if conv is not None:
            up.needs.add("airflow.sdk", "TaskGroup")
            args = [f"{conv.child}"]
            default_args = keyword(updated, "default_args")
            if default_args is not None:
                args.append(f"default_args={cst.Module([]).code_for_node(default_args.value)}")
            return cst.parse_expression(f"TaskGroup({', '.join(args)})")
        return None

    def arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg:
        if id(original) in self.dag_kwargs:
            return updated.with_changes(keyword=cst.Name("task_group"))
        return updated

    def wrap(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        parent = self.wraps.get(id(original))
        if parent is None:
            return updated
        inner = updated.with_changes(leading_lines=[])
        return cst.With(
            items=[cst.WithItem(item=cst.Name(parent))],
            body=cst.IndentedBlock(body=[inner]),
            leading_lines=updated.leading_lines,
        )


def _child_name(dag_id: cst.BaseExpression, params: set[str]) -> str | None:
    """The parameter that names the sub-DAG's own part of its id."""
    if isinstance(dag_id, cst.BinaryOperation):
        if isinstance(dag_id.operator, cst.Modulo) and isinstance(dag_id.right, cst.Tuple):
            items = dag_id.right.elements
            left = dag_id.left
            if (
                isinstance(left, cst.SimpleString)
                and left.evaluated_value == "%s.%s"
                and len(items) == 2
                and isinstance(items[1].value, cst.Name)
                and items[1].value.value in params
            ):
                return items[1].value.value
        if isinstance(dag_id.operator, cst.Add) and isinstance(dag_id.right, cst.Name):
            left = dag_id.left
            if (
                isinstance(left, cst.BinaryOperation)
                and isinstance(left.right, cst.SimpleString)
                and left.right.evaluated_value == "."
                and dag_id.right.value in params
            ):
                return dag_id.right.value
    if isinstance(dag_id, cst.FormattedString):
        parts = dag_id.parts
        if (
            len(parts) == 3
            and isinstance(parts[1], cst.FormattedStringText)
            and parts[1].value == "."
            and isinstance(parts[2], cst.FormattedStringExpression)
            and isinstance(parts[2].expression, cst.Name)
            and parts[2].expression.value in params
            and parts[2].conversion is None
            and parts[2].format_spec is None
        ):
            return parts[2].expression.value
    return None


class _Uses(cst.CSTVisitor):
    """Every use of a name inside a function body: ``dag=x`` arguments, the
    ``return x``, the binding itself, anything else."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        self.dag_args: list[cst.Arg] = []
        self.other = 0
        self._allowed: set[int] = set()

    def visit_Arg(self, node: cst.Arg) -> None:
        if (
            node.keyword is not None
            and node.keyword.value == "dag"
            and isinstance(node.value, cst.Name)
            and node.value.value == self.name
        ):
            self.dag_args.append(node)
            self._allowed.add(id(node.value))

    def visit_Return(self, node: cst.Return) -> None:
        if isinstance(node.value, cst.Name):
            self._allowed.add(id(node.value))

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._allowed.add(id(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self._allowed.add(id(node.name))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name and id(node) not in self._allowed:
            self.other += 1


def plan(scan, wrapper, opts) -> Plan:
    from wfconv.upgrade.model import Finding

    p = Plan(total=len(scan.subdag_calls))
    if not scan.subdag_calls:
        return p
    meta = wrapper.resolve(PositionProvider)
    parents = wrapper.resolve(ParentNodeProvider)

    def line(node):
        return meta[node].start.line

    calls_of: dict[str, int] = {}

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name):
                calls_of[node.func.value] = calls_of.get(node.func.value, 0) + 1

    wrapper.module.visit(_Calls())
    module_functions = {
        s.name.value: s for s in wrapper.module.body if isinstance(s, cst.FunctionDef)
    }

    for op in scan.subdag_calls:
        why = _check(op, scan, parents, module_functions, calls_of)
        if isinstance(why, str):
            if opts.enabled("UG303"):
                p.findings.append(
                    Finding("UG303", line(op), f"SubDagOperator left as it is: {why}")
                )
            continue
        conv = why
        if not opts.enabled("UG302"):
            continue
        p.conversions.append(conv)
        p.by_operator[id(op)] = conv
        p.by_dag_call[id(conv.dag_call)] = conv
        uses = _Uses(conv.dag_var)
        conv.factory.body.visit(uses)
        for a in uses.dag_args:
            p.dag_kwargs[id(a)] = conv.dag_var
        if conv.wrap_with is not None and conv.statement is not None:
            p.wraps[id(conv.statement)] = conv.wrap_with
        task_id = keyword(op, "task_id")
        tid = (
            task_id.value.evaluated_value
            if task_id is not None and isinstance(task_id.value, cst.SimpleString)
            else "?"
        )
        p.findings.append(
            Finding(
                "UG302",
                line(op),
                f"SubDagOperator {tid!r} → TaskGroup made by "
                f"`{conv.factory.name.value}()`; its tasks become {tid}.<task>",
            )
        )
    return p


def _check(op: cst.Call, scan, parents, functions, calls_of):
    own = [a.keyword.value if a.keyword is not None else "*" for a in op.args]
    extra = sorted(set(own) - OPERATOR_OWN)
    if extra:
        return f"arguments of the operator itself ({', '.join(extra)}) have no TaskGroup equivalent"
    sub = keyword(op, "subdag")
    if (
        sub is None
        or not isinstance(sub.value, cst.Call)
        or not isinstance(sub.value.func, cst.Name)
    ):
        return "`subdag=` is not a call of a factory function"
    name = sub.value.func.value
    fn = functions.get(name)
    if fn is None:
        return f"the factory `{name}()` is not defined in this file"
    if calls_of.get(name, 0) != 1:
        return f"the factory `{name}()` is called more than once; its other callers expect a DAG"
    sites = [s for s in scan.sites if _inside(s.node, fn, parents)]
    if len(sites) != 1 or sites[0].call is None or sites[0].name is not None:
        return f"`{name}()` does not make exactly one DAG"
    dag_call = sites[0].call
    var = _bound_name(dag_call, parents)
    if var is None:
        return f"the DAG made by `{name}()` is not bound to a name"
    extra = sorted({a.keyword.value for a in dag_call.args if a.keyword is not None} - DAG_ONLY)
    if extra:
        return f"the sub-DAG's arguments {', '.join(extra)} have no TaskGroup equivalent"
    dag_id = keyword(dag_call, "dag_id")
    dag_id_value = (
        dag_id.value
        if dag_id is not None
        else (
            dag_call.args[0].value if dag_call.args and dag_call.args[0].keyword is None else None
        )
    )
    params = {p.name.value for p in fn.params.params}
    child = _child_name(dag_id_value, params) if dag_id_value is not None else None
    if child is None:
        return "the sub-DAG's id is not `<parent>.<child>` built from a parameter of the factory"
    uses = _Uses(var)
    fn.body.visit(uses)
    if uses.other:
        return f"`{name}()` uses its DAG `{var}` for more than `dag={var}` and `return {var}`"
    statement, parent_name = _statement_and_context(op, scan, parents)
    if statement is False:
        return "the operator is inside an expression and has no enclosing DAG block"
    return Conversion(op, fn, dag_call, var, child, parent_name, statement)


def _inside(node, ancestor, parents) -> bool:
    cur = node
    while cur is not None:
        if cur is ancestor:
            return True
        cur = parents.get(cur)
    return False


def _bound_name(call: cst.Call, parents) -> str | None:
    parent = parents.get(call)
    if (
        isinstance(parent, cst.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0].target, cst.Name)
    ):
        return parent.targets[0].target.value
    if (
        isinstance(parent, cst.WithItem)
        and parent.asname is not None
        and isinstance(parent.asname.name, cst.Name)
    ):
        return parent.asname.name.value
    return None


def _statement_and_context(op: cst.Call, scan, parents):
    """(statement line to wrap or None, parent DAG name or None); False when
    it cannot be made safe."""
    cur = parents.get(op)
    while cur is not None:
        if isinstance(cur, cst.With) and any(
            id(i.item) in scan.site_of_call or isinstance(i.item, cst.Name) for i in cur.items
        ):
            return None, None
        if isinstance(cur, cst.FunctionDef) and any(
            id(d.decorator) in scan.site_of_call or id(d) in scan.site_of_call
            for d in cur.decorators
        ):
            return None, None
        cur = parents.get(cur)
    dag = keyword(op, "dag")
    if dag is None or not isinstance(dag.value, cst.Name):
        return False, None
    parent = parents.get(op)
    if isinstance(parent, cst.Assign) or isinstance(parent, cst.Expr):
        line = parents.get(parent)
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return line, dag.value.value
    return False, None
