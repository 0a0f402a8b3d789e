"""Is the emitted code a whole workflow? A placeholder that fails, a stub that
raises ``NotImplementedError`` or a task that still imports the source engine
is never EQUIVALENT, whatever the scenarios say (the probe replaces every
task, so the behaviour check cannot see them).

Two independent signals, both reported:
- the emitted files themselves: Python functions whose body only raises
  ``NotImplementedError``, shell commands that only say "wfconv ... not
  converted" and ``exit 1``, imports of another engine's package;
- the ledger entries whose code says a placeholder or stub was written.
"""

from __future__ import annotations

import ast
import re

from wfconv.engines.checks import Check, fail_or_pass
from wfconv.ir.model import Diagnostic

ENGINE_PACKAGES = {"airflow": "airflow", "prefect": "prefect", "luigi": "luigi"}

# Ledger codes whose meaning is "a placeholder, a stub, or code that needs the
# source engine was emitted" (docs/codes/backends-*.md).
PLACEHOLDER_CODES = {
    "BA101": "stub",
    "BA105": "placeholder",
    "BA106": "stub",
    "BA121": "needs the source engine",
    "BP101": "stub",
    "BP105": "placeholder",
    "BP123": "needs the source engine",
    "BL401": "placeholder",
    "BO404": "placeholder",
}

_FAILING_SHELL = re.compile(
    r"wfconv\b.*(?:not converted|no \w+ equivalent|replace this).*exit 1", re.S
)


def _raises_not_implemented(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = [
        s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    exc = body[0].exc
    name = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(name, ast.Name) and name.id == "NotImplementedError"


def scan_python(path: str, text: str, target: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [f"{path}:{exc.lineno}: does not parse: {exc.msg}"]
    out = []
    own = ENGINE_PACKAGES.get(target)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _raises_not_implemented(
            node
        ):
            out.append(f"{path}:{node.lineno}: stub {node.name}() raises NotImplementedError")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _FAILING_SHELL.search(node.value):
                out.append(f"{path}:{node.lineno}: placeholder command {node.value[:80]!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                top = name.split(".")[0]
                if top in ENGINE_PACKAGES.values() and top != own:
                    out.append(f"{path}:{node.lineno}: imports {name} (still needs {top})")
    return out


def scan_files(files: dict[str, str], target: str) -> list[str]:
    out = []
    for path, text in sorted(files.items()):
        if path.endswith(".py"):
            out.extend(scan_python(path, text, target))
        elif path.endswith(".xml"):
            for n, line in enumerate(text.splitlines(), 1):
                if _FAILING_SHELL.search(line):
                    out.append(f"{path}:{n}: placeholder command")
    return out


def completeness(files: dict[str, str], ledger: list[Diagnostic], target: str) -> Check:
    problems = scan_files(files, target)
    for d in ledger:
        kind = PLACEHOLDER_CODES.get(d.code)
        if kind:
            where = f"task {d.task!r}" if d.task else "workflow"
            problems.append(f"{where}: {kind} ({d.code}: {d.message})")
    return fail_or_pass("complete", "emitted code", problems)
