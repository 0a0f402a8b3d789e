"""Imports: moved and removed Airflow 2 imports rewritten (UG101-UG104), and
the imports the new code needs added (after the file's own imports, or into
its ``from airflow.sdk import`` line).

A mixin of the ``Upgrade`` transformer (codemod.py): it uses its ``report``,
``plan``, ``renames`` and metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ScopeProvider

from wfconv.upgrade import layout
from wfconv.upgrade.moves import REWRITTEN, known_module, move_of
from wfconv.upgrade.scan import code_of


@dataclass
class Needs:
    """Imports the new code needs: (module, name) for ``from``, (module, None) for ``import``."""

    items: set[tuple[str, str | None]] = field(default_factory=set)

    def add(self, module: str, name: str | None = None) -> None:
        self.items.add((module, name))


class ImportRewrites:
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
        return code_of(node.module)

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
        same_name: dict[str, list[str]] = {}  # new module -> names that keep their name
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
            elif move is not None:
                if move.name != name:
                    applied = self.report(
                        "UG102",
                        node,
                        f"`{module}.{name}` is `{move.module}.{move.name}` in Airflow 3",
                    )
                else:
                    applied = self.opts.enabled("UG101")
                    if applied:
                        same_name.setdefault(move.module, []).append(name)
                if applied:
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
        for target, names in same_name.items():
            self.report("UG101", node, f"`{module}` → `{target}` ({', '.join(names)})")
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
        if not self.opts.enabled("UG208" if name == "days_ago" else "UG104"):
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

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        updated_node = updated_node.with_changes(body=_drop_markers(updated_node.body))
        return add_imports(updated_node, self.needs)

    def leave_IndentedBlock(self, original_node, updated_node):
        body = _drop_markers(updated_node.body)
        if not body:
            body = [cst.SimpleStatementLine(body=[cst.Pass()])]
        return updated_node.with_changes(body=body)


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


def add_imports(module: cst.Module, needs: Needs) -> cst.Module:
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
                mod = code_of(stmt.module)
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
                and code_of(stmt.module) == mod
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
