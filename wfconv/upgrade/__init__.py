"""``wfconv upgrade``: move Airflow 2 DAG files to Airflow 3 in place.

A libcst codemod (codemod.py) that changes only what Airflow 3 forces to
change, keeps each DAG's run times and rendered dates (the time model,
docs/semantics.md R3) and reports, with a code of ``codes.py``, every change
it made and everything it could not change safely. docs/upgrade.md is the
user's guide.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wfconv.errors import InputError
from wfconv.upgrade.model import Finding, Options

if TYPE_CHECKING:
    import libcst as cst

# libcst is imported by upgrade_text only: `wfconv audit` reads this package's
# codes (wfconv.upgrade.codes) and must not pay for importing libcst.

__all__ = ["Finding", "Options", "Result", "diff", "upgrade_text"]


@dataclass
class Result:
    path: str
    old: str
    new: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.new != self.old

    def needs_person(self) -> list[Finding]:
        return [f for f in self.findings if f.kind != "fix"]


def _ir_workflows(path: str, text: str) -> list:
    """The DAGs wfconv's Airflow reader finds (for schedule values that are not
    literals). Reading is best effort: a file it cannot read just gives none."""
    from wfconv.frontends import airflow

    try:
        return list(airflow.parse(path, text).workflows)
    except Exception:  # noqa: BLE001 - the rewrite does not depend on it
        return []


def _syntax_error(path: str, text: str, exc: cst.ParserSyntaxError) -> InputError:
    """Python's own words for a syntax error (what the user's editor shows),
    libcst's when Python has none."""
    import ast

    try:
        ast.parse(text, filename=path)
    except SyntaxError as err:
        return InputError(path, err.lineno, f"syntax error: {err.msg}")
    except (ValueError, RecursionError, MemoryError):
        pass
    return InputError(path, exc.raw_line, f"syntax error: {exc.message}")


def upgrade_text(path: str, text: str, opts: Options | None = None) -> Result:
    """Upgrade one file's text. Raises InputError for text that is not Python."""
    import libcst as cst

    from wfconv.upgrade.codemod import rewrite

    opts = opts or Options()
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise _syntax_error(path, text, exc) from None
    except RecursionError:
        raise InputError(path, None, "the code is nested too deeply to be read") from None
    try:
        out = rewrite(path, text, opts, module, _ir_workflows(path, text))
    except RecursionError:
        raise InputError(path, None, "the code is nested too deeply to be rewritten") from None
    return Result(path, text, out.code, out.findings)


def diff(result: Result) -> str:
    """A unified diff of one file (empty when nothing changed)."""
    if not result.changed:
        return ""
    return "".join(
        difflib.unified_diff(
            result.old.splitlines(keepends=True),
            result.new.splitlines(keepends=True),
            fromfile=f"a/{result.path}",
            tofile=f"b/{result.path}",
        )
    )
