"""Removed context and template variables (UG401-UG404): in Jinja strings,
in ``context[...]``/``kwargs.get(...)`` of the functions Airflow calls with its
context, and in parameters named after a context key. What each becomes is
in jinja.py; with ``--timetable trigger`` the run's own date moves too.

A mixin of the ``Upgrade`` transformer (codemod.py).
"""

from __future__ import annotations

import re

import libcst as cst
from libcst.metadata import ScopeProvider

from wfconv.upgrade import jinja
from wfconv.upgrade.scan import code_of, keyword, string_value

# Where a string is documentation, never a template.
DOC_KWARGS = frozenset({"doc", "doc_md", "doc_rst", "doc_json", "doc_yaml", "description"})
# Context keys renamed in Python: the same value under another key.
CONTEXT_RENAMES = {
    "execution_date": "logical_date",
    "next_execution_date": "data_interval_end",
    "prev_execution_date_success": "prev_data_interval_start_success",
}
# --timetable trigger: the run's date strings, from data_interval_start.
TRIGGER_FORMATS = {
    "ds": "strftime({q}%Y-%m-%d{q})",
    "ds_nodash": "strftime({q}%Y%m%d{q})",
    "ts": "isoformat()",
    "ts_nodash": "strftime({q}%Y%m%dT%H%M%S{q})",
}


# The Jinja forms of jinja.template_replacement that shift the run's date.
_SHIFTED = re.compile(
    r"\((logical_date|data_interval_start) ([-+]) macros\.timedelta\((\w+=\d+)\)\)"
    r"(?: \| (ds|ds_nodash))?"
)
_FORMATS = {"ds": "%Y-%m-%d", "ds_nodash": "%Y%m%d"}


class ContextRewrites:
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
                    string_value(e.key)
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
        if string_value(original_node) in jinja.REMOVED:
            fn = self._context_function_of(original_node)
            if fn is not None:  # maybe a context key: checked when the function ends
                self.loose_keys.append((original_node, fn.node))
        new = self._template(original_node, updated_node.value)
        return updated_node.with_changes(value=new) if new is not None else updated_node

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        """A removed key named in a context function but not read as
        ``context["key"]``/``.get("key")`` (a loop over names, a helper): it is
        never silent."""
        for node, fn in self.loose_keys:
            if fn is original_node and id(node) not in self.handled_keys:
                self.report(
                    "UG404",
                    node,
                    f"{node.value} names a context key Airflow 3 removed, "
                    "used in a way wfconv does not rewrite; check it by hand",
                )
        self.loose_keys = [(n, f) for n, f in self.loose_keys if f is not original_node]
        return updated_node

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
        shifted = _SHIFTED.fullmatch(expr)  # (logical_date - macros.timedelta(hours=1)) | ds
        if shifted:
            date, op, delta, fmt = shifted.groups()
            value = f"({get(date)} {op} {get('macros')}.timedelta({delta}))"
            if fmt:
                value += f".strftime({q}{_FORMATS[fmt]}{q})"
            return ("expr", value), None
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
        key = string_value(key_node)
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
        key = string_value(key_node)
        if not self._context_key_of_interest(key, original) or not self._holds_context(func.value):
            return call
        return self._apply_context(original, call, key, key_node, False)

    def _apply_context(self, original, updated, key, key_node, subscript):
        self.handled_keys.add(id(key_node))
        holder = code_of(original.value if subscript else original.func.value)
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
