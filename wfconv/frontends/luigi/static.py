"""Static reading of a Luigi module (never imported): the fallback when the
module cannot be imported, and what ``--static`` asks for.

The shared abstract interpreter (``pyeval``) runs the module's safe part with
the hooks of ``luigi.static_hooks``, which turn Luigi's constructs into the
values of ``luigi.static_values``. This module then does what the child does
with real classes: picks the roots, walks ``requires()`` (a task, list, tuple,
dict or generator), reads outputs and settings, and answers in the child's
shape, so one builder (``luigi.build_bundle``) makes the IR.

Parameter values are parsed, normalised and serialised by Luigi's own
parameter classes (luigi is a wfconv dependency; only the user's module is
never imported), so a value reads the same in both modes.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from wfconv.frontends import pyeval
from wfconv.frontends.luigi.child import (
    failure_handlers,
    handler_params,
    importable_name,
    plain,
    run_action,
    tree,
)
from wfconv.frontends.luigi.static_hooks import LuigiHooks, iterate_date_intervals
from wfconv.frontends.luigi.static_values import (
    MISSING,
    Clone,
    GeneratorResult,
    Instance,
    Target,
    TaskClass,
    flatten,
    unknown_line,
    unknown_text,
)
from wfconv.frontends.pyeval import FunctionValue, Ref

MAX_TASKS = 5000
_TASK_SETTINGS = (
    "retry_count",
    "worker_timeout",
    "priority",
    "resources",
    "disable_window",
    "owner_email",
)
_SETTING_DEFAULTS = {"priority": 0, "resources": {}}


class StaticReader:
    def __init__(self, path: str, text: str, tree: ast.Module, max_tasks: int = MAX_TASKS):
        self.path = path
        self.max_tasks = max_tasks
        self.text = text
        self.tree = tree
        self.module_name = importable_name(Path(path).resolve())[1]
        self.hooks = LuigiHooks(self.module_name)
        from wfconv.frontends.repo import importer_for

        self.interp = pyeval.Interpreter(
            self.hooks,
            path=path,
            source=text,
            module_name=self.module_name,
            file_value=path,
            # the modules beside it (wfconv's helper module wfconv_luigi)
            importer=importer_for(path, {}),
        )
        for name in ("property", "staticmethod", "classmethod", "super", "getattr"):
            self.interp.module_scope.vars[name] = Ref(name)
        iterate_date_intervals(self.interp)
        self.notes: list[dict[str, Any]] = []

    def run(self) -> None:
        self.interp.run_module(self.tree)
        spans = [
            (c.cls.node.lineno, c.cls.node.end_lineno or c.cls.node.lineno)
            for c in self.hooks.classes
        ]
        for n in self.interp.notes:
            # Only what concerns task classes (a parameter default, a class
            # attribute): the rest of the module does not shape the graph.
            owner = [
                c
                for c, (a, b) in zip(self.hooks.classes, spans, strict=True)
                if n.line and a <= n.line <= b
            ]
            if owner:
                self.notes.append(
                    {"code": "static", "class": owner[0].name, "error": n.message, "line": n.line}
                )

    # -- one instance ------------------------------------------------------------
    def _setting(self, inst: Instance, name: str) -> Any:
        value = inst.cls.lookup(name)
        if isinstance(value, FunctionValue):
            value = self.hooks.call_method(self.interp, inst, value)
        if value is MISSING:
            return _SETTING_DEFAULTS.get(name)
        return plain(value) if pyeval.is_known(value) else None

    def _requires(self, inst: Instance) -> Any:
        if inst.cls.requires_from is not None:
            values = [Clone(inst) for _ in inst.cls.requires_from]
            made = [
                self.hooks.call(self.interp, c, [cls], {}, None)
                for c, cls in zip(values, inst.cls.requires_from, strict=True)
            ]
            return made[0] if len(made) == 1 else made
        fn = inst.cls.lookup("requires")
        if not isinstance(fn, FunctionValue):
            return None
        return self.hooks.call_method(self.interp, inst, fn)

    def _shape(self, raw: Any, keys) -> dict[str, Any]:
        if isinstance(raw, GeneratorResult):
            return {"shape": "generator"} if raw.items else {"shape": "none"}
        if raw is None or (isinstance(raw, (list, tuple, dict)) and not raw):
            return {"shape": "none"}
        if isinstance(raw, Instance):
            return {"shape": "task"}
        if isinstance(raw, dict):
            return {
                "shape": "dict",
                "keys": {
                    str(k): [keys(t) for t in flatten(v) if isinstance(t, Instance)]
                    for k, v in raw.items()
                },
            }
        if isinstance(raw, (list, tuple)):
            return {"shape": "list"}
        return {"shape": type(raw).__name__}

    def describe(self, inst: Instance) -> tuple[dict[str, Any], list[Instance]]:
        key = inst.key
        mark = len(self.interp.notes)
        raw = self._requires(inst)
        deps: list[Instance] = []
        for item in flatten(raw):
            if isinstance(item, Instance):
                deps.append(item)
            else:
                u = pyeval.contains_unknown(item)
                what = (
                    f"`{u.source}` ({u.reason})"
                    if u is not None and u.source
                    else (u.reason if u is not None else f"a {type(item).__name__}")
                )
                self.notes.append(
                    {
                        "code": "static",
                        "task_id": key,
                        "error": f"{inst.cls.name}.requires(): {what} is not a task known statically; left out",
                        "line": (u.line if u is not None else None)
                        or _method_line(inst.cls, "requires"),
                    }
                )
        outputs = []
        output_tree = None
        fn = inst.cls.lookup("output")
        if isinstance(fn, FunctionValue):
            raw_output = self.hooks.call_method(self.interp, inst, fn)
            output_tree = tree(
                raw_output,
                lambda t: isinstance(t, Target),
                lambda t: {"class": t.cls, **({"path": t.path} if isinstance(t.path, str) else {})},
            )
            for t in flatten(raw_output):
                if isinstance(t, Target) and isinstance(t.path, str):
                    outputs.append({"class": t.cls, "path": t.path})
                elif isinstance(t, Target):
                    outputs.append({"class": t.cls})
                    self.notes.append(
                        {
                            "code": "static",
                            "task_id": key,
                            "error": f"{inst.cls.name}.output(): the path of a {t.cls} is known only at run time",
                            "line": unknown_line(t.path) or _method_line(inst.cls, "output"),
                        }
                    )
                else:
                    self.notes.append(
                        {
                            "code": "static",
                            "task_id": key,
                            "error": f"{inst.cls.name}.output(): {unknown_text(t)} is not a target known statically",
                            "line": _method_line(inst.cls, "output"),
                        }
                    )
        for n in self.interp.notes[mark:]:
            self.notes.append(
                {"code": "static", "task_id": key, "error": n.message, "line": n.line}
            )
        info = {
            "task_id": key,
            "family": inst.cls.family,
            "class": inst.cls.name,
            "namespace": inst.cls.namespace,
            "kind": inst.kind,
            "module": self.module_name,
            "base": _library_base(inst.cls),
            "file": None,
            "line": inst.cls.line,
            "doc": ast.get_docstring(inst.cls.cls.node),
            "params": inst.param_rows(),
            **{name: self._setting(inst, name) for name in _TASK_SETTINGS},
            "run_yields": _run_yields(inst.cls),
            "run_action": _run_action(inst.cls),
            "wfconv_root": inst.cls.lookup("wfconv_root") is True,
            "requires": self._shape(raw, lambda t: t.key),
            "requires_tree": tree(raw, lambda t: isinstance(t, Instance), lambda t: t.key),
            "deps": [d.key for d in deps],
            "outputs": outputs,
            "output_tree": output_tree,
        }
        if inst.cls.assumed:
            self.notes.append(
                {
                    "code": "static",
                    "task_id": key,
                    "error": f"{inst.cls.name}: its base class is not known statically; read as a Luigi task",
                    "line": inst.cls.line,
                }
            )
        return info, deps

    def walk(
        self,
        root: Instance,
        instances: dict[str, Any] | None = None,
        objects: dict[str, Instance] | None = None,
    ) -> dict[str, Any]:
        instances = {} if instances is None else instances
        stack = [root]
        while stack:
            inst = stack.pop()
            key = inst.key
            if key in instances:
                continue
            if len(instances) >= self.max_tasks:
                self.notes.append(
                    {"code": "too_many", "task_id": root.key, "error": str(self.max_tasks)}
                )
                break
            info, deps = self.describe(inst)
            instances[key] = info
            if objects is not None:
                objects[key] = inst
            stack.extend(reversed(deps))
        return instances

    def walk_failure_handlers(
        self, instances: dict[str, Any], objects: dict[str, Instance], handlers
    ) -> list[list[str]]:
        """The task classes a FAILURE handler of a walked task names, walked
        too (as ``luigi.child.walk_failure_handlers`` does with real classes)."""
        by_name = {c.name: c for c in self.hooks.classes}
        pairs: list[list[str]] = []
        todo = list(instances)
        seen: set[str] = set()
        while todo:
            key = todo.pop(0)
            inst = objects.get(key)
            if key in seen or inst is None:
                continue
            seen.add(key)
            for base in inst.cls.mro():
                for name in handlers.get(base.name, []):
                    cls = by_name.get(name)
                    if cls is None:
                        continue
                    values = handler_params([n for n, _ in cls.params()], inst.values, key)
                    made = self.hooks.instantiate(self.interp, cls, [], values, None)
                    if not isinstance(made, Instance):
                        self.notes.append(
                            {
                                "code": "handler",
                                "task_id": key,
                                "error": f"{name}: cannot be built statically",
                                "line": cls.line,
                            }
                        )
                        continue
                    before = set(instances)
                    self.walk(made, instances, objects)
                    pairs.append([key, made.key])
                    todo.extend(k for k in instances if k not in before)
        return pairs

    # -- roots -------------------------------------------------------------------
    def instantiate_root(self, cls: TaskClass, params: dict[str, str]) -> Instance | str:
        values: dict[str, Any] = {}
        missing = []
        for name, spec in cls.params():
            if name in params:
                try:
                    values[name] = spec.luigi_param().parse(params[name])
                except Exception as exc:
                    return f"--param {name}={params[name]}: {type(exc).__name__}: {exc}"
            elif spec.effective_default is MISSING:
                missing.append(name)
            else:
                values[name] = spec.effective_default
        if missing:
            return "no value for " + ", ".join(repr(m) for m in missing)
        made = self.hooks.instantiate(self.interp, cls, [], values, None)
        if isinstance(made, Instance):
            return made
        return f"{cls.name} cannot be built statically"

    def choose_roots(self, roots: list[str], params: dict[str, str]) -> list[Instance]:
        classes = self.hooks.classes
        if roots:
            candidates = []
            for name in roots:
                match = [c for c in classes if name in (c.name, c.family)]
                if not match:
                    raise LookupError(
                        f"--root {name}: no such task class in the module "
                        f"(known: {', '.join(c.name for c in classes) or 'none'})"
                    )
                candidates.append(match[-1])
        else:
            bases = {id(b) for c in classes for b in c.mro()[1:]}
            for c in classes:
                if id(c) in bases:
                    self.notes.append({"code": "base_class", "class": c.name, "line": c.line})
            candidates = [c for c in classes if id(c) not in bases]
        known = {n for c in candidates for n, _ in c.params()}
        for k in params:
            if k not in known:
                raise LookupError(
                    f"--param {k}: no root task has a parameter {k!r} "
                    f"(parameters: {', '.join(sorted(known)) or 'none'})"
                )
        made = []
        for cls in candidates:
            own = {n for n, _ in cls.params()}
            inst = self.instantiate_root(cls, {k: v for k, v in params.items() if k in own})
            if isinstance(inst, Instance):
                if all(inst.key != m.key for m in made):  # --root X --root X
                    made.append(inst)
            elif roots or inst.startswith("--param"):
                raise LookupError(f"--root {cls.name}: cannot be instantiated: {inst}")
            else:
                self.notes.append(
                    {"code": "not_instantiable", "class": cls.name, "line": cls.line, "error": inst}
                )
        return made

    def statically_required(self) -> set[str]:
        """Families named in requires() of classes that could not be walked."""
        skipped = {n["class"] for n in self.notes if n["code"] == "not_instantiable"}
        by_name = {c.name: c for c in self.hooks.classes}
        out: set[str] = set()
        for c in self.hooks.classes:
            if c.name not in skipped:
                continue
            fn = c.lookup("requires")
            if isinstance(fn, FunctionValue):
                for n in ast.walk(fn.node):
                    if isinstance(n, ast.Name) and n.id in by_name and n.id != c.name:
                        out.add(by_name[n.id].family)
            for r in c.requires_from or []:
                out.add(r.family)
        return out


_PLAIN_BASES = {"Task", "WrapperTask", "ExternalTask"}


def _library_base(cls: TaskClass) -> str | None:
    """The first imported base class, as its qualified import name, unless it is
    Luigi's plain Task/WrapperTask/ExternalTask (same rule as the child's)."""
    for c in cls.mro():
        for b in c.bases:
            if isinstance(b, Ref) and (b.qualname.split(".")[0] == "luigi" or c.assumed):
                return None if b.name in _PLAIN_BASES else b.qualname
    return None


def _method_line(cls: TaskClass, name: str) -> int:
    fn = cls.lookup(name)
    return fn.line if isinstance(fn, FunctionValue) else cls.line


def _run_action(cls: TaskClass) -> dict[str, Any] | None:
    """What run() does when its body says it plainly (luigi.child.run_action)."""

    def method(name: str) -> ast.AST | None:
        fn = cls.lookup(name)
        return fn.node if isinstance(fn, FunctionValue) else None

    return run_action(method("run"), method)


def _run_yields(cls: TaskClass) -> list[int]:
    fn = cls.lookup("run")
    if not isinstance(fn, FunctionValue) or not isinstance(fn.node, ast.FunctionDef):
        return []
    out = []
    stack: list[ast.AST] = list(fn.node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            out.append(n.lineno)
        stack.extend(ast.iter_child_nodes(n))
    return sorted(set(out))


def read(
    path: str,
    text: str,
    tree: ast.Module,
    roots: list[str],
    params: dict[str, str],
    max_tasks: int = MAX_TASKS,
) -> dict[str, Any]:
    """The module's description, read without importing it (same shape as the
    child's answer, with ``read: static``)."""
    reader = StaticReader(path, text, tree, max_tasks)
    reader.run()
    classes = reader.hooks.classes
    try:
        chosen = reader.choose_roots(roots, params)
    except LookupError as exc:
        return {"ok": False, "stage": "options", "error": str(exc), "line": None}
    handlers = failure_handlers(tree)
    walks = []
    for r in chosen:
        objects: dict[str, Instance] = {}
        instances = reader.walk(r, None, objects)
        pairs = reader.walk_failure_handlers(instances, objects, handlers)
        walks.append({"root": r.key, "instances": instances, "handlers": pairs})
    used = {w["instances"][h]["class"] for w in walks for _, h in w["handlers"]}
    reader.notes[:] = [
        n for n in reader.notes if not (n["code"] == "not_instantiable" and n["class"] in used)
    ]
    if not roots:
        required = reader.statically_required()
        for w in walks:
            for info in w["instances"].values():
                for dep in info["deps"]:
                    d = w["instances"].get(dep)
                    if d and d["family"] != info["family"]:
                        required.add(d["family"])
        walks = [w for w in walks if w["instances"][w["root"]]["family"] not in required]
    return {
        "ok": True,
        "read": "static",
        "module_file": None,
        "module_name": reader.module_name,
        "classes": [
            {
                "class": c.name,
                "family": c.family,
                "line": c.line,
                "kind": c.kind,
                "params": [n for n, _ in c.params()],
            }
            for c in classes
        ],
        "walks": walks,
        "notes": reader.notes,
    }
