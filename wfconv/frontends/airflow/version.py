"""Which Airflow a DAG file is written for: 2 or 3.

Why it matters: the same ``schedule="0 6 * * *"`` or ``timedelta`` means a
data-interval timetable in Airflow 2 and a trigger timetable in Airflow 3
(docs/semantics.md R3), so the reader must know the version to record the
schedule's time model. The rule (docs/codes/airflow.md "Airflow 2 or 3"):

1. *Hard* evidence, constructs that work in one version only: an
   ``airflow.sdk`` import means 3; ``schedule_interval=``/``timetable=``
   arguments, ``days_ago``, ``DummyOperator``, ``SubDagOperator`` and the
   imports Airflow 3 removed (``airflow.utils.dates``, ``airflow.datasets``,
   ``airflow.contrib``, ``airflow.operators.dummy*``, 1.x module names such as
   ``airflow.operators.bash_operator``) mean 2. Hard evidence for one side
   only decides; evidence for both (a file broken in each) follows the
   option, else 3.
2. Otherwise the user's option (``--airflow-source-version``) decides.
3. Otherwise *soft* evidence, paths that still import in Airflow 3 but are
   Airflow 2's spelling (``airflow.operators.*``, ``airflow.sensors.*``,
   ``airflow.decorators``, ``airflow.models.*``, ``airflow.utils.*``,
   ``airflow.hooks.*``) against the standard provider
   (``airflow.providers.standard``) Airflow 3 ships: one side only decides.
4. Otherwise the file is read as Airflow 2 (most DAG files without an
   ``airflow.sdk`` import were written for it), and the reader says so with
   a warning.

An import tried in a ``try`` whose handler catches ImportError, or tried in
that handler, is written for both versions and is no evidence either way.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from wfconv.frontends import pychunks

# (module prefix, why) of hard Airflow 2 evidence.
_HARD2_MODULES = (
    ("airflow.utils.dates", "imports airflow.utils.dates (days_ago; removed in Airflow 3)"),
    ("airflow.datasets", "imports airflow.datasets (Airflow 3 has airflow.sdk.Asset)"),
    ("airflow.contrib", "imports airflow.contrib (removed in Airflow 3)"),
    ("airflow.operators.dummy", "imports airflow.operators.dummy (removed in Airflow 3)"),
    ("airflow.operators.subdag", "imports airflow.operators.subdag (removed in Airflow 3)"),
)
# Airflow 1.x module names (airflow.operators.bash_operator ...), gone in 3.
_LEGACY_SUFFIXES = ("_operator", "_sensor")
_HARD2_KEYWORDS = {
    "schedule_interval": "`schedule_interval=` (removed in Airflow 3)",
    "timetable": "`timetable=` (removed in Airflow 3)",
}
_HARD2_NAMES = {
    "days_ago": "`days_ago` (removed in Airflow 3)",
    "DummyOperator": "`DummyOperator` (removed in Airflow 3)",
    "SubDagOperator": "`SubDagOperator` (removed in Airflow 3)",
}
_SOFT2_PREFIXES = (
    "airflow.operators",
    "airflow.sensors",
    "airflow.decorators",
    "airflow.models",
    "airflow.utils",
    "airflow.hooks",
)
_SOFT3_PREFIXES = ("airflow.providers.standard",)


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@dataclass
class Evidence:
    """What a file says about its Airflow version: (line, why) per side."""

    hard2: list[tuple[int, str]] = field(default_factory=list)
    hard3: list[tuple[int, str]] = field(default_factory=list)
    soft2: list[tuple[int, str]] = field(default_factory=list)
    soft3: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Decision:
    """The version a file is read as, and how sure the reader is."""

    version: str  # "2" | "3"
    how: str  # "evidence" | "option" | "assumed" | "conflict"
    reasons: list[tuple[int, str]]

    @property
    def certain(self) -> bool:
        return self.how in ("evidence", "option")


def _module_evidence(ev: Evidence, module: str, line: int) -> None:
    if not _under(module, "airflow"):
        return
    if _under(module, "airflow.sdk"):
        ev.hard3.append((line, "imports airflow.sdk"))
        return
    for prefix, why in _HARD2_MODULES:
        if _under(module, prefix):
            ev.hard2.append((line, why))
            return
    last = module.rsplit(".", 1)[-1]
    if module.count(".") >= 2 and last.endswith(_LEGACY_SUFFIXES):
        ev.hard2.append(
            (line, f"imports {module} (an Airflow 1 module name, removed in Airflow 3)")
        )
        return
    if any(_under(module, p) for p in _SOFT3_PREFIXES):
        ev.soft3.append((line, f"imports {module} (Airflow 3's standard provider)"))
    elif any(_under(module, p) for p in _SOFT2_PREFIXES):
        ev.soft2.append((line, f"imports {module} (Airflow 2's path)"))


def config_evidence(entries) -> Evidence:
    """Evidence from a DAG described as data (a dag-factory config): each
    entry is (line, key, value) for every mapping key of the document. A
    ``schedule_interval``/``timetable`` key is hard Airflow 2 evidence, an
    ``operator`` value is read like an import of its module."""
    ev = Evidence()
    for line, key, value in entries:
        if key in _HARD2_KEYWORDS:
            ev.hard2.append((line, _HARD2_KEYWORDS[key].replace("=`", ":` key")))
        elif key == "operator" and isinstance(value, str) and "." in value:
            module, name = value.rsplit(".", 1)
            if name in _HARD2_NAMES:
                ev.hard2.append((line, _HARD2_NAMES[name]))
            else:
                _module_evidence(ev, module, line)
    return ev


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    node = handler.type
    names = node.elts if isinstance(node, ast.Tuple) else [node]
    return any(
        n is None or (isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError"))
        for n in names
    )


# Fields that hold statements: imports and ``try`` are statements, so they
# are found without visiting a single expression (most of a module's nodes).
# A large file's lazy blocks (wfconv.frontends.pychunks.Statements, a list
# subclass) are not entered: their observers hand their statements over.
_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(nodes) -> list[ast.AST]:
    """Every statement under ``nodes`` (themselves included) at any depth,
    with except handlers and match cases (the nodes that hold statements)."""
    out: list[ast.AST] = []
    stack = list(nodes)
    while stack:
        st = stack.pop()
        out.append(st)
        for name in _STATEMENT_FIELDS:
            sub = getattr(st, name, None)
            if sub and type(sub) is list:
                stack.extend(sub)
    return out


def _dual_import_lines(statements: list[ast.AST]) -> set[int]:
    """Lines of imports inside a try/except ImportError (body or handler)."""
    out: set[int] = set()
    for node in statements:
        if type(node) is ast.Try and any(_catches_import_error(h) for h in node.handlers):
            for sub in _statements([*node.body, *node.handlers]):
                if type(sub) in (ast.Import, ast.ImportFrom):
                    out.add(sub.lineno)
    return out


def gather(tree: ast.Module, text: str | None = None) -> Evidence:
    """Every piece of version evidence in a module, in line order (``text``:
    the module's source, see ``Gatherer``)."""
    g = Gatherer(text)
    g.add(tree)
    return g.evidence()


class Gatherer:
    """``gather`` one statement at a time: a large file's lazy blocks
    (wfconv.frontends.pychunks) hand it their statements as the evaluator
    reads them, so the file is parsed once. With the module's ``text``,
    expressions are visited only when a keyword that is evidence can be
    there (its name is in the text)."""

    def __init__(self, text: str | None = None) -> None:
        self.ev = Evidence()
        # Identifiers are NFKC-normalised by the parser: a non-ASCII text may
        # spell a keyword differently, so only an ASCII text is trusted.
        self.keywords = (
            text is None or not text.isascii() or any(k in text for k in _HARD2_KEYWORDS)
        )

    def add(self, tree: ast.AST) -> None:
        _gather_into(self.ev, tree, self.keywords)

    def evidence(self) -> Evidence:
        for side in (self.ev.hard2, self.ev.hard3, self.ev.soft2, self.ev.soft3):
            side.sort()
        return self.ev


def _gather_into(ev: Evidence, tree: ast.AST, keywords: bool) -> None:
    statements = _statements([tree])
    dual = _dual_import_lines(statements)
    for node in statements:
        t = type(node)
        if t is ast.Import and node.lineno not in dual:
            for alias in node.names:
                _module_evidence(ev, alias.name, node.lineno)
        elif t is ast.ImportFrom and node.lineno not in dual:
            if node.module and not node.level:
                _module_evidence(ev, node.module, node.lineno)
                if _under(node.module, "airflow"):
                    for alias in node.names:
                        if alias.name in _HARD2_NAMES:
                            ev.hard2.append((node.lineno, _HARD2_NAMES[alias.name]))
    if keywords:
        for node in pychunks.walk(tree):
            if type(node) is ast.keyword and node.arg in _HARD2_KEYWORDS:
                ev.hard2.append((getattr(node, "lineno", 0), _HARD2_KEYWORDS[node.arg]))


def decide(ev: Evidence, option: str | None = None) -> Decision:
    """The rule of the module docstring."""
    if ev.hard3 and not ev.hard2:
        return Decision("3", "evidence", ev.hard3)
    if ev.hard2 and not ev.hard3:
        return Decision("2", "evidence", ev.hard2)
    if ev.hard2 and ev.hard3:
        return Decision(option or "3", "conflict", ev.hard3 + ev.hard2)
    if option is not None:
        return Decision(option, "option", [])
    if ev.soft3 and not ev.soft2:
        return Decision("3", "evidence", ev.soft3)
    if ev.soft2 and not ev.soft3:
        return Decision("2", "evidence", ev.soft2)
    return Decision("2", "assumed", ev.soft2 + ev.soft3)


def describe(d: Decision) -> str:
    """One sentence for the ledger: the version and why."""
    shown = ", ".join(f"{why} (line {line})" if line else why for line, why in d.reasons[:3])
    more = f" and {len(d.reasons) - 3} more" if len(d.reasons) > 3 else ""
    if d.how == "evidence":
        return f"read as Airflow {d.version}: {shown}{more}"
    if d.how == "option":
        return f"read as Airflow {d.version} (--airflow-source-version)"
    if d.how == "conflict":
        return (
            f"the file mixes Airflow 2 and 3 constructs ({shown}{more}); read as "
            f"Airflow {d.version}"
        )
    why = f" ({shown}{more} hold for both)" if shown else ""
    return (
        f"nothing in the file tells Airflow 2 from 3{why}: read as Airflow {d.version}; "
        "pass --airflow-source-version 3 if it is written for Airflow 3"
    )
