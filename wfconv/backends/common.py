"""What every code-emitting backend shares: the output value, the ONE escaping
path for embedded strings, identifier mapping, the lossy-output path, template
rendering and a few graph helpers.

Backend module protocol
-----------------------
Each target module (``wfconv/backends/<target>.py``) exposes::

    TARGET = "airflow"
    CODES: dict[str, str]           # stable diagnostic code -> one-line meaning
    def emit(workflow: Workflow, **options) -> Emitted

``emit`` never mutates the workflow. ``Emitted.files`` maps a relative path
(POSIX separators, no leading ``/`` or ``..``) to the file's text; the CLI
writes them under ``-o OUTDIR`` (or prints the single file). Every construct
the target cannot express exactly becomes a ``Diagnostic`` made by ``loss()``
and listed in ``Emitted.diagnostics`` (the fidelity ledger); ``--strict`` fails
when that list holds any warning or error. Options unknown to a backend are
ignored (the CLI passes the same keyword arguments to every target):
``workflows`` (every workflow of the input by id, so that a backend can
resolve sub-workflow calls), and when given ``airflow_version`` (2|3) and
``subworkflow`` (``trigger``|``taskgroup``).

API (kept compatible; add, never change)
----------------------------------------
- ``Emitted(files, diagnostics)``
- ``py_str(s)`` -- the one function that turns text into a Python string
  literal. Every string embedded in generated Python goes through it (directly
  or via ``py_literal``/the ``py``/``pystr`` template filters).
- ``py_literal(value)`` -- JSON-like value -> Python expression; a ``Code``
  value (backend-built source, never user text) is written unchanged.
- ``py_comment(s)`` -- text safe to put after ``# `` (one line, escaped).
- ``identifier_map(ids, reserved=(), style="python"|"class"|"oozie")``
- ``loss(code, message, task=, severity=, target=, source=)`` -> Diagnostic
- ``format_python(code)`` -- normalises whitespace of generated code and
  checks that it compiles (no external formatter is needed).
- ``render(template_name, **context)`` -- jinja2 templates in
  ``wfconv/backends/templates`` with the filters above.
- ``mapped_columns(task.mapped)`` -> mapped inputs per argument.
- ``GraphIndex.of(workflow)`` (tasks/up/down maps), ``topo_order(workflow)``, ``retry_delays(task)``, ``file_stem(text)``.
- ``is_dotted_name``, ``from_import(module, names)`` (isort-style line),
  ``callable_imports_for(keys, reserved)`` -> (expression per
  ``(module|None, dotted name)``, from-imports, stubs to generate),
  ``import_block(...)`` -> isort-ordered import lines.
- ``local_functions(stubs, kept, code, target)`` -> pasted kept functions or
  stubs (+ losses) for callables without a module.
- ``luigi_task_class(task)`` -> (module, class, str params) of a Luigi task.
- ``luigi_standalone(task)`` -> its run() as a self-contained function, when read.
- ``shell_command(fields)``, ``hadoop_command(fields)`` -> command lines.
- ``xcom_ref(value)`` -> upstream id of ``{{ ti.xcom_pull(task_ids='x') }}``.
- ``function_source(source_code, name)`` -> ``FunctionSource`` (a kept user
  function, renamed, with the module-level names it needs).
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import keyword
import math
import re
import sys
import tokenize
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from cronsim import CronSim, CronSimError

from wfconv.backends import pycode
from wfconv.ir.model import Diagnostic, SourceRef, Task, Workflow
from wfconv.ir.templates import shell_join, shell_word

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

SEVERITIES_THAT_COUNT_AS_LOSS = ("error", "warning")


@dataclass
class Emitted:
    """What a backend produced for one workflow."""

    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Files shared by every workflow of an output folder (a helper module),
    # identical whichever workflow wrote them: written once (docs/output.md).
    shared: set[str] = field(default_factory=set)

    def single(self) -> str:
        """The content when exactly one file of the workflow's own was
        produced (stdout mode; shared helper modules aside)."""
        own = [text for name, text in self.files.items() if name not in self.shared]
        if len(own) != 1:
            raise ValueError(f"{len(own)} files emitted, not one")
        return own[0]


# ---------------------------------------------------------------------------
# Escaping: the one path for embedded strings
# ---------------------------------------------------------------------------

_SIMPLE_ESCAPES = {
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _escape_char(ch: str) -> str:
    """Escape one character that must not appear raw in a one-line literal.

    Printable characters (including non-ASCII letters) stay as they are so that
    the output stays readable; control, format (bidi overrides), separator and
    surrogate characters are written as escapes."""
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    if ch.isprintable() and ch != "\x7f":
        return ch
    cp = ord(ch)
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def py_str(s: str) -> str:
    """A Python string literal whose value is exactly ``s``.

    Always a one-line literal (newlines become ``\\n``): no triple quotes, so
    ``\"\"\"``, trailing whitespace and CR characters cannot break the generated
    file or trip ruff's W291/W605. Double quotes unless the text holds more
    ``"`` than ``'`` (the same choice ruff format makes). Deterministic: the result
    depends on ``s`` only.
    """
    if not isinstance(s, str):
        raise TypeError(f"py_str expects str, got {type(s).__name__}")
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'  # nothing to escape (the common case)
    quote = quote_for(s)
    return quote + py_str_body(s, quote) + quote


def quote_for(s: str) -> str:
    """The quote ``py_str`` uses for ``s``: ruff format's choice (double
    quotes, unless the text holds more of them than single quotes)."""
    return "'" if s.count('"') > s.count("'") else '"'


def py_str_body(s: str, quote: str) -> str:
    """The inside of a one-line literal of ``s`` between ``quote`` characters
    (for literals built in parts, such as f-strings)."""
    if s.isascii() and s.isprintable() and quote not in s and "\\" not in s:
        return s  # nothing to escape (the common case)
    return "".join("\\" + ch if ch == quote else _escape_char(ch) for ch in s)


def py_comment(s: str) -> str:
    """Text safe to write after ``# `` on one line: non-printable characters
    (newlines included) are escaped as in a string literal, and trailing
    whitespace is made visible so that the line stays ruff-clean."""
    body = "".join(ch if ch == "\\" else _escape_char(ch) for ch in str(s))
    stripped = body.rstrip(" ")
    return stripped + "\\x20" * (len(body) - len(stripped))


class Code(str):
    """Python source a backend built itself (``datetime.timedelta(seconds=30)``,
    a variable name). ``py_literal`` writes it unchanged, so templates can pass
    every value through the ``py`` filter without knowing which is which.
    Never wrap user text in ``Code``: user text goes through ``py_str``."""

    __slots__ = ()


def py_literal(value: Any) -> str:
    """A Python expression for a JSON-like value (dict, list, tuple, str, int,
    float, bool, None). Strings go through ``py_str``; dict order is kept (it
    is the IR's order, hence deterministic). One line: generated files keep
    long literals on one line rather than depend on a formatter."""
    if isinstance(value, Code):
        return str(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return 'float("nan")'
        if math.isinf(value):
            return 'float("inf")' if value > 0 else 'float("-inf")'
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, dict):
        items = ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        if len(value) == 1:
            return "(" + py_literal(value[0]) + ",)"
        return "(" + ", ".join(py_literal(v) for v in value) + ")"
    if isinstance(value, (set, frozenset)):
        # Sets have no stable order; sort their literals for determinism.
        if not value:
            return "set()"
        return "{" + ", ".join(sorted(py_literal(v) for v in value)) + "}"
    raise TypeError(f"py_literal cannot spell a {type(value).__name__}")


# ---------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------

_OOZIE_MAX = 40  # Oozie node names: [a-zA-Z_][-_a-zA-Z0-9]{0,39}
_STYLES = ("python", "snake", "class", "oozie")
# Valid identifiers, but confusing as generated variable names.
_SOFT_KEYWORDS = {"_", "__"}


def _ascii_fold(text: str) -> str:
    """é -> e, ß -> ss ...; characters without an ASCII form become ``_``."""
    decomposed = unicodedata.normalize("NFKD", text)
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if ch.isascii():
            out.append(ch)
        elif ch == "ß":
            out.append("ss")
        else:
            out.append("_")
    return "".join(out)


def snake_case(text: str) -> str:
    """``TrainModel`` -> ``train_model``, ``HTTPSensor`` -> ``http_sensor``
    (word boundaries only; other characters are left to ``_base_name``)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", text)
    return text.lower()


def _base_name(raw: str, style: str) -> str:
    text = _ascii_fold(raw)
    if style == "snake":
        text = snake_case(text)
    allowed = r"[^A-Za-z0-9_\-]" if style == "oozie" else r"[^A-Za-z0-9_]"
    text = re.sub(allowed, "_", text)
    if style == "class":
        parts = [p for p in re.split(r"_+", text) if p]
        text = "".join(p[:1].upper() + p[1:] for p in parts)
    else:
        text = re.sub(r"_+", "_", text)
    if not text or text == "_":
        text = "Task" if style == "class" else "task"
    if text[0].isdigit() or text[0] == "-":
        text = ("T" if style == "class" else "t_") + text.lstrip("-")
    if style == "oozie":
        text = text[:_OOZIE_MAX]
    return text


def is_identifier(name: str, style: str = "python") -> bool:
    """Is ``name`` usable unchanged in this style?"""
    if style == "oozie":
        return bool(re.fullmatch(r"[A-Za-z_][-_A-Za-z0-9]{0,39}", name))
    if style == "snake" and name != snake_case(name):
        return False
    return (
        name.isidentifier()
        and name.isascii()
        and not keyword.iskeyword(name)
        and name not in _SOFT_KEYWORDS
    )


def identifier_map(
    ids: Iterable[str], *, reserved: Iterable[str] = (), style: str = "python"
) -> dict[str, str]:
    """Map task ids to distinct identifiers of the target, deterministically.

    - An id that is already a valid (ASCII) identifier and not reserved maps to
      itself, whatever the order of the other ids (style ``class`` excepted: it
      always CamelCases: ``extract_orders`` -> ``ExtractOrders``).
    - Others are folded to ASCII (``é`` -> ``e``), non-identifier characters
      become ``_`` (runs collapse), a leading digit gets a ``t_`` prefix, a
      keyword or reserved name a ``_`` suffix, and a collision a stable
      ``_2``, ``_3`` ... suffix, assigned in the order ``ids`` are given.
    - The result is injective, so ``{v: k for k, v in m.items()}`` reverses it;
      backends also keep every original id in the output (``task_id=``,
      a comment) so that parsing the output gives the original ids back.

    ``style``: ``python`` (variables), ``snake`` (functions: ``Fetch`` ->
    ``fetch``, ``TrainModel`` -> ``train_model``), ``class`` (CamelCase class
    names), ``oozie`` (node names: letters, digits, ``_``, ``-``, <= 40 chars).
    """
    if style not in _STYLES:
        raise ValueError(f"unknown identifier style {style!r}; known: {', '.join(_STYLES)}")
    ids = list(dict.fromkeys(ids))
    reserved_set = set(reserved)
    taken: set[str] = set(reserved_set)
    if style != "oozie":
        taken |= set(keyword.kwlist)
    out: dict[str, str] = {}
    if style != "class":
        for raw in ids:
            if is_identifier(raw, style) and raw not in taken:
                out[raw] = raw
        taken |= set(out.values())
    for raw in ids:
        if raw in out:
            continue
        base = _base_name(raw, style)
        if style != "oozie" and (keyword.iskeyword(base) or base in reserved_set):
            base = base + "_"
        name = base
        n = 2
        while name in taken:
            suffix = f"_{n}"
            stem = base[: _OOZIE_MAX - len(suffix)] if style == "oozie" else base
            name = stem + suffix
            n += 1
        out[raw] = name
        taken.add(name)
    return out


# File names longer than this are cut, with a digest of the whole id so that
# two long ids still get two files (most file systems stop at 255 bytes).
FILE_STEM_MAX = 100


# Module names an emitted file must not take: the folder it lands in is first
# on ``sys.path`` when it runs (``python flow.py``, Airflow's DAGs folder), so
# ``json.py`` or ``prefect.py`` there would replace the real module for every
# import of it, the engine's own included. Compared case-insensitively, as
# macOS and Windows file systems match names.
_SHADOWED_MODULES = frozenset(
    name.lower()
    for name in (
        *sys.stdlib_module_names,
        "airflow",
        "prefect",
        "luigi",
        "pendulum",
        "jinja2",
        "wfconv",
        "wfconv_prefect",
        "wfconv_luigi",
    )
)


def file_stem(text: str) -> str:
    """A portable file name stem for a workflow id (lowercase-safe ASCII),
    never the name of a module the emitted code or its engine imports."""
    stem = _base_name(text, "python")
    if len(stem) > FILE_STEM_MAX:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        stem = f"{stem[: FILE_STEM_MAX - 11].rstrip('_')}_{digest}"
    if stem.lower() in _SHADOWED_MODULES:
        stem += "_"
    return stem


# ---------------------------------------------------------------------------
# Imports of user callables (Python targets)
# ---------------------------------------------------------------------------

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def is_dotted_name(name: Any) -> bool:
    """``pkg.mod`` / ``Owner.method``: safe to write as code (ASCII identifiers)."""
    return (
        isinstance(name, str)
        and bool(_DOTTED.fullmatch(name))
        and not any(keyword.iskeyword(p) for p in name.split("."))
    )


def from_import(module: str, names: list[str]) -> str:
    """One ``from`` import, wrapped like isort/ruff do past 88 columns."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 88:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


def callable_imports_for(
    keys: list[tuple[str | None, str]], reserved: set[str]
) -> tuple[dict[tuple[str | None, str], str], dict[str, set[str]], list[dict[str, str]]]:
    """Names for user callables: (expression per key, from-imports, stubs).

    ``module:Owner.method`` imports ``Owner`` once; a name clash between two
    modules (or with a task variable) gets a stable alias. The from-imports
    map a module to its members (``"run"`` or ``"run as run_2"``), ready for
    ``import_block``."""
    units: list[tuple[str | None, str]] = []
    for module, name in keys:
        unit = (module, name.split(".", 1)[0]) if module else (None, name)
        if unit not in units:
            units.append(unit)
    shorts = [u[1].rsplit(".", 1)[-1] for u in units]
    labels = [
        s if shorts.count(s) == 1 else f"{u[0] or 'stub'}.{u[1]}"
        for s, u in zip(shorts, units, strict=True)
    ]
    names = identifier_map(labels, reserved=reserved)
    unit_name = {u: names[lab] for u, lab in zip(units, labels, strict=True)}
    imports: dict[str, set[str]] = {}
    stubs: list[dict[str, str]] = []
    for unit in units:
        module, head = unit
        alias = unit_name[unit]
        if module is None:
            stubs.append(
                {
                    "name": alias,
                    "original": head,
                    "message": f"wfconv: {head} was not found in an importable module; "
                    "replace this stub with the real function",
                }
            )
        else:
            imports.setdefault(module, set()).add(head if alias == head else f"{head} as {alias}")
    exprs: dict[tuple[str | None, str], str] = {}
    for module, name in keys:
        if module is None:
            exprs[(module, name)] = unit_name[(None, name)]
        else:
            head, _, rest = name.partition(".")
            exprs[(module, name)] = unit_name[(module, head)] + ("." + rest if rest else "")
    return exprs, imports, stubs


def _member_key(name: str) -> tuple[int, str]:
    """isort's order-by-type: CONSTANTS, Classes, functions."""
    base = name.split(" as ")[0]
    kind = 0 if base.isupper() and len(base) > 1 else 1 if base[:1].isupper() else 2
    return (kind, base)


def import_block(
    stdlib_plain: set[str],
    stdlib_from: dict[str, set[str]],
    third_plain: set[str],
    third_from: dict[str, set[str]],
    future: bool = True,
) -> list[str]:
    """Import lines as ruff's isort (default settings) writes them: future,
    stdlib, third party; ``import x`` before ``from x import``; modules
    case-insensitively; members by type; ``as`` imports on their own line;
    lines past 88 columns wrapped."""

    def section(plain: set[str], froms: dict[str, set[str]]) -> list[str]:
        out = [f"import {m}" for m in sorted(plain, key=lambda m: (m.lower(), m))]
        stmts: list[tuple[tuple[str, str], str]] = []
        for module, members in froms.items():
            plain_members = sorted((m for m in members if " as " not in m), key=_member_key)
            if plain_members:
                stmts.append(
                    ((module.lower(), plain_members[0].lower()), from_import(module, plain_members))
                )
            for m in sorted(m for m in members if " as " in m):
                stmts.append(((module.lower(), m.lower()), from_import(module, [m])))
        out += [line for _, line in sorted(stmts)]
        return out

    lines = ["from __future__ import annotations"] if future else []
    for plain, froms in ((stdlib_plain, stdlib_from), (third_plain, third_from)):
        block = section(plain, froms)
        if block:
            lines += ([""] if lines else []) + block
    return lines


def module_docstring(description: str | None, origin: str | None, target: str) -> list[str]:
    """The first lines of a generated module: what the workflow is and where
    it came from, one line when that fits (the ledger, beside the output,
    says what was approximated)."""
    first = next(
        (line.strip() for line in (description or "").splitlines() if line.strip()), ""
    ).rstrip(".")
    where = f"converted by wfconv from {origin or 'an IR document'}"
    one = f"{first}: {where}." if first else where[0].upper() + where[1:] + "."
    # one line when it fits, or when it is all there is (ruff format keeps a
    # one-line docstring on its line whatever its length)
    if _docstring_safe(one) and (len(one) + 6 <= 88 or not first):
        return [f'"""{one}"""']
    lines = [f"{first}." if first else "", "", where[0].upper() + where[1:] + "."]
    if not first:
        lines = lines[2:]
    if all(_docstring_safe(line) for line in lines):
        return ['"""' + lines[0], *lines[1:], '"""']
    return [py_str("\n".join(lines) + "\n")]


def _docstring_safe(line: str) -> bool:
    return (
        line.isprintable()
        and "\\" not in line
        and '"""' not in line
        and not line.startswith(('"', " "))
        and not line.endswith('"')
    )


_XCOM_REF = re.compile(
    r"\{\{\s*(?:ti|task_instance)\.xcom_pull\(\s*task_ids\s*=\s*(['\"])(?P<id>[^'\"]+)\1"
    r"(?:\s*,\s*key\s*=\s*(['\"])return_value\3)?\s*\)\s*\}\}"
)


def xcom_ref(value: Any) -> str | None:
    """The upstream task id when ``value`` is exactly the neutral spelling of a
    passed value (``{{ ti.xcom_pull(task_ids='extract') }}``), else None.
    Frontends write TaskFlow data passing this way; Python targets pass the
    native value instead (Airflow ``extract.output``, Prefect the future)."""
    if not isinstance(value, str):
        return None
    m = _XCOM_REF.fullmatch(value.strip())
    return m.group("id") if m else None


@dataclass
class FunctionSource:
    """A user function kept by a frontend (``python.source_code``), checked so
    that it can be pasted into generated code as is."""

    text: str  # the ``def`` (decorators removed), renamed when asked
    params: list[str]  # positional-or-keyword parameter names, in order
    varkw: bool  # has ``**kwargs``
    free_names: list[str]  # globals it needs that are not builtins
    name: str = ""  # the def's name (after renaming)
    varkw_name: str | None = None  # the ``**kwargs`` parameter's name
    uses_varkw: bool = False  # the body reads ``**kwargs``
    doc: bool = False  # starts with a docstring


def function_source(source_code: Any, name: str | None = None) -> FunctionSource | None:
    """Parse a kept function; None when it is not exactly one function.

    ``name`` renames the ``def`` (the generated module may use the original
    name for something else). ``free_names`` lists module-level names the
    function uses (imports, constants of the original file): pasting a function
    with free names would not run, so backends only paste self-contained ones.
    """
    import ast
    import builtins
    import symtable
    import textwrap

    if not isinstance(source_code, str) or not source_code.strip():
        return None
    text = textwrap.dedent(source_code).strip("\n") + "\n"
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    fn = tree.body[0]
    lines = text.splitlines()
    lines = lines[fn.lineno - 1 :]  # drop decorators
    if name and name != fn.name:
        first = lines[0]
        keyword_ = "async def " if isinstance(fn, ast.AsyncFunctionDef) else "def "
        at = first.find(keyword_ + fn.name)
        if at < 0:
            return None
        lines[0] = first[:at] + keyword_ + name + first[at + len(keyword_) + len(fn.name) :]
    text = "\n".join(lines) + "\n"
    try:
        table = symtable.symtable(text, "<kept function>", "exec")
    except SyntaxError:
        return None
    free: set[str] = set()

    def walk(tab) -> None:
        # a free name of a nested scope (a generator expression's ``os``) is
        # a local of the function around it, not a name of the module
        for sym in tab.get_symbols():
            if sym.is_global() and sym.is_referenced():
                free.add(sym.get_name())
        for child in tab.get_children():
            walk(child)

    for child in table.get_children():
        walk(child)
    own = {name or fn.name}
    free = {n for n in free if not hasattr(builtins, n) and n not in own}
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    kwarg = fn.args.kwarg.arg if fn.args.kwarg is not None else None
    uses = kwarg is not None and any(
        isinstance(n, ast.Name) and n.id == kwarg for st in fn.body for n in ast.walk(st)
    )
    first = fn.body[0] if fn.body else None
    doc = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    return FunctionSource(
        text, params, kwarg is not None, sorted(free), name or fn.name, kwarg, uses, doc
    )


def annotation_names(texts: Iterable[str]) -> tuple[set[str], bool]:
    """(names of ``typing`` that pasted functions annotate with, whether they
    have annotations at all): a module pasting them imports the first (so
    that ``Any``, ``Dict`` are defined, ruff F821) and defers annotations
    when there are any (``from __future__ import annotations``: a name of the
    original module in an annotation is then never evaluated)."""
    import ast
    import typing

    names: set[str] = set()
    annotated = False
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            note = getattr(node, "annotation", None) or getattr(node, "returns", None)
            if note is None:
                continue
            annotated = True
            for sub in ast.walk(note):
                if isinstance(sub, ast.Name) and sub.id in typing.__all__ and sub.id[:1].isupper():
                    names.add(sub.id)
    return names, annotated


def local_functions(
    stubs: list[dict[str, str]],
    kept: dict[str, tuple[Any, Task]],
    code: str,
    target: str,
) -> tuple[list[dict[str, Any]], list[Diagnostic]]:
    """Bodies for callables without an importable module.

    ``stubs`` come from ``callable_imports_for``; ``kept`` maps an original
    callable name to (``source_code`` kept by the frontend, first task using
    it). A self-contained kept function is pasted (renamed to its alias):
    entry ``{"name", "source"}``. Otherwise a stub that raises
    NotImplementedError, with the kept source as comments: entry
    ``{"name", "message", "comments"}`` and one ``code`` loss."""
    out: list[dict[str, Any]] = []
    losses: list[Diagnostic] = []
    for stub in stubs:
        source_code, task = kept.get(stub["original"], (None, None))
        fs = function_source(source_code, stub["name"])
        if fs is not None and not fs.free_names:
            out.append({"name": stub["name"], "source": fs.text})
            continue
        if fs is not None:
            why = f"its kept source needs names of the original module ({', '.join(fs.free_names)})"
        else:
            why = "the source does not say which module defines it"
        losses.append(
            loss(
                code,
                f"{stub['original']}: {why}; a stub that raises NotImplementedError is emitted",
                task=task,
                target=target,
            )
        )
        comments = str(source_code).splitlines() if source_code else []
        out.append({"name": stub["name"], "message": stub["message"], "comments": comments})
    return out, losses


def luigi_task_class(task: Task) -> tuple[str, str, dict[str, str]] | None:
    """(module, class, string parameters) when the task is a Luigi task
    instance whose ``run()`` the target should call; None otherwise.

    The Luigi frontend writes ``callable = "<Class>.run"`` with the module and
    the instance's parameters in ``task.params``. Calling ``Class.run`` bare
    would miss ``self``: targets build the instance with
    ``Class.from_str_params(params)`` (Luigi parses each value by its
    parameter type) and call its ``run()``."""
    import json

    f = task.action.fields
    info = task.extra.get("luigi") if isinstance(task.extra, dict) else None
    cls = info.get("class") if isinstance(info, dict) else None
    module = f.get("module")
    if not (isinstance(cls, str) and f.get("callable") == f"{cls}.run"):
        return None
    if not (is_dotted_name(cls) and is_dotted_name(module)):
        return None
    params = {
        str(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True)
        for k, v in (task.params or {}).items()
    }
    return module, cls, params


def luigi_standalone(task: Task) -> tuple[FunctionSource, dict[str, Any]] | None:
    """(function, keyword arguments) when the Luigi reader rewrote the task's
    ``run()`` as a self-contained function (``source_code``; the paths and
    parameters a call passes in ``extra.luigi.run_kwargs``); None otherwise.
    The function returns at once when every output exists (docs/output.md)."""
    info = task.extra.get("luigi") if isinstance(task.extra, dict) else None
    kwargs = info.get("run_kwargs") if isinstance(info, dict) else None
    fs = function_source(task.action.fields.get("source_code"))
    if fs is None or fs.free_names or not isinstance(kwargs, dict):
        return None
    if set(kwargs) != set(fs.params) or not all(k.isidentifier() for k in kwargs):
        return None
    return fs, kwargs


# ---------------------------------------------------------------------------
# Command lines for actions a target runs in a shell
# ---------------------------------------------------------------------------


def env_mapping(fields: dict[str, Any]) -> dict[str, Any] | None:
    """The action's ``env`` when it is a mapping (IR JSON written elsewhere
    may hold something else: it is then no environment, not a crash)."""
    env = fields.get("env")
    return env if isinstance(env, dict) and env else None


def shell_command(fields: dict[str, Any]) -> str:
    """The full command line of a ``shell`` action. ``command`` is complete
    when the frontend also kept ``exec`` (Oozie: exec + args already joined);
    otherwise separately kept ``args`` are appended, quoted."""
    command = str(fields.get("command") or "")
    args = [str(a) for a in fields.get("args") or []]
    if not command and fields.get("exec"):
        return shell_join([str(fields["exec"]), *args])
    if args and "exec" not in fields and not command.endswith(shell_join(args)):
        command = " ".join([command, shell_join(args)]).strip()
    return command


def _q(value: Any) -> str:
    # A word holding a template stays renderable: "-D 'k=/data/{{ ds }}'" would
    # render the template's own quotes into the value.
    return shell_word(str(value))


def _props(fields: dict[str, Any], flag: str = "-D ") -> list[str]:
    return [f"{flag}{_q(f'{k}={v}')}" for k, v in (fields.get("properties") or {}).items()]


def _args(fields: dict[str, Any]) -> list[str]:
    return [_q(a) for a in fields.get("args") or []]


# Oozie <fs> operation -> hdfs dfs command (argument keys of the operation)
_FS_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "delete": ("-rm -r -f", ("path",)),
    "mkdir": ("-mkdir -p", ("path",)),
    "move": ("-mv", ("source", "target")),
    "chmod": ("-chmod", ("permissions", "path")),
    "chgrp": ("-chgrp", ("group", "path")),
    "touchz": ("-touchz", ("path",)),
}


def _fs_ops(f: dict[str, Any]) -> list[str]:
    out = []
    for op in f.get("operations") or []:
        if op.get("op") not in _FS_OPS:
            continue
        flag, keys = _FS_OPS[op["op"]]
        if op["op"] in ("chmod", "chgrp") and str(op.get("recursive", "")).lower() == "true":
            flag += " -R"
        out.append(" ".join(["hdfs dfs", flag, *(_q(op.get(k, "")) for k in keys)]))
    return out


def _script_or_query(script: str) -> list[str]:
    """``-f file`` for a script path, ``-e query`` for inline HiveQL (Airflow's
    HiveOperator takes either in ``hql``)."""
    if any(ch.isspace() for ch in script.strip()) or ";" in script:
        return ["-e", _q(script)]
    return ["-f", _q(script)]


# engine -> builder of the equivalent command line (Oozie action semantics)
_HADOOP_CLI = {
    "java": lambda f: [
        "java",
        *([str(f["java_opts"])] if f.get("java_opts") else []),
        *_props(f, "-D"),
        _q(f.get("main_class") or f.get("script") or "MAIN_CLASS"),
        *_args(f),
    ],
    "map-reduce": lambda f: [
        "hadoop",
        "jar",
        _q(f.get("script") or f.get("jar") or "JOB.jar"),
        *_props(f),
        *_args(f),
    ],
    "streaming": lambda f: [
        "hadoop",
        "jar",
        "hadoop-streaming.jar",
        *_props(f),
        *[f"-{k} {_q(v)}" for k, v in (f.get("streaming") or {}).items() if isinstance(v, str)],
        *_args(f),
    ],
    "pig": lambda f: [
        "pig",
        *_props(f, "-D"),
        *[f"-param {_q(p)}" for p in f.get("params") or []],
        *_args(f),
        "-f",
        _q(f.get("script") or "SCRIPT.pig"),
    ],
    "hive": lambda f: [
        "hive",
        *_props(f, "--hiveconf "),
        *[f"--hivevar {_q(p)}" for p in f.get("params") or []],
        *_script_or_query(f.get("script") or "SCRIPT.hql"),
    ],
    "hive2": lambda f: [
        "beeline",
        *([f"-u {_q(f['jdbc_url'])}"] if f.get("jdbc_url") else []),
        *_props(f, "--hiveconf "),
        *[f"--hivevar {_q(p)}" for p in f.get("params") or []],
        *(
            ["-e", _q(f["query"])]
            if f.get("query")
            else ["-f", _q(f.get("script") or "SCRIPT.hql")]
        ),
    ],
    "spark": lambda f: [
        "spark-submit",
        *([f"--master {_q(f['master'])}"] if f.get("master") else []),
        *([f"--deploy-mode {_q(f['mode'])}"] if f.get("mode") else []),
        *([f"--name {_q(f['name'])}"] if f.get("name") else []),
        *([f"--class {_q(f['main_class'])}"] if f.get("main_class") else []),
        *_props(f, "--conf "),
        *([str(f["spark_opts"])] if f.get("spark_opts") else []),
        _q(f.get("jar") or f.get("script") or "APP.jar"),
        *_args(f),
    ],
    "sqoop": lambda f: [
        "sqoop",
        *([str(f["command"])] if f.get("command") else _args(f)),
    ],
    "distcp": lambda f: ["hadoop", "distcp", *_props(f), *_args(f)],
    "ssh": lambda f: [
        "ssh",
        _q(f.get("host") or "HOST"),
        _q(f.get("command") or ""),
        *_args(f),
    ],
    "git": lambda f: [
        "git",
        "clone",
        *([f"--branch {_q(f['branch'])}"] if f.get("branch") else []),
        _q(f.get("git_uri") or "REPOSITORY"),
        *([_q(f["destination_uri"])] if f.get("destination_uri") else []),
    ],
}


def hadoop_command(fields: dict[str, Any]) -> str:
    """The command line a gateway would run for a ``hadoop`` action (Oozie's
    java, map-reduce, streaming, pig, hive, hive2, spark, sqoop, distcp, ssh,
    git, fs actions), every user value shell-quoted. A placeholder in capitals
    (``JOB.jar``) marks what the IR does not say."""
    engine = str(fields.get("engine") or "")
    if engine == "fs":
        return " && ".join(_fs_ops(fields)) or "true"
    build = _HADOOP_CLI.get(engine)
    if build is None:
        words = [
            engine or "hadoop",
            *([_q(fields["script"])] if fields.get("script") else []),
            *_args(fields),
        ]
        return " ".join(words + _props(fields))
    return " ".join(w for w in build(fields) if w)


# ---------------------------------------------------------------------------
# Lossy output: the single path
# ---------------------------------------------------------------------------


def loss(
    code: str,
    message: str,
    *,
    task: Task | None = None,
    severity: str = "warning",
    target: str | None = None,
    source: SourceRef | Workflow | None = None,
) -> Diagnostic:
    """A ledger entry for a construct the target approximates or drops.

    The location is the task's source line when a task is given, else the
    ``source`` ref (or the workflow's). ``target`` names the construct that
    was produced instead (``"BashOperator placeholder"``, ``"flow.serve(cron=...)"``).
    Severity: ``warning`` = approximated or dropped (``--strict`` fails),
    ``info`` = faithful but worth knowing, ``error`` = output will not work
    without a human.
    """
    ref: SourceRef | None = None
    if task is not None and task.source is not None:
        ref = task.source
    elif isinstance(source, Workflow):
        ref = source.source
    elif isinstance(source, SourceRef):
        ref = source
    if task is not None:
        message = f"task {task.id!r}: {message}"
    d = Diagnostic(
        severity=severity,
        code=code,
        message=message,
        path=ref.path if ref else None,
        line=ref.line if ref else None,
        target=target,
    )
    if task is not None:
        d.task = task.id  # lets verify match a structural difference to this entry
    return d


def is_loss(d: Diagnostic) -> bool:
    return d.severity in SEVERITIES_THAT_COUNT_AS_LOSS


# ---------------------------------------------------------------------------
# Formatting and templates
# ---------------------------------------------------------------------------


def _string_continuation_lines(code: str) -> set[int]:
    """1-based line numbers a multi-line string token touches (their
    whitespace is content and must not be touched)."""
    inside: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0] + 1))
            elif tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1) and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside


def format_python(code: str, filename: str = "<generated>") -> str:
    """Normalise generated Python whitespace and prove it compiles.

    Templates produce formatted code directly; this pass only removes what
    templating leaves behind: trailing whitespace, runs of more than two blank
    lines, blank lines at the start, and makes the file end with exactly one
    newline. Lines inside multi-line strings are left alone. Raises
    ``SyntaxError`` if the code does not compile (a backend bug, never user
    input: every user string went through ``py_str``); modules larger than
    ``PROVE_COMPILES_MAX`` characters are not compiled here.
    """
    lines = code.split("\n")
    # Tokenizing is the slow part: only needed when some line would change.
    touched = (
        any(line != line.rstrip() for line in lines) or "\n\n\n\n" in code or code.startswith("\n")
    )
    keep = _string_continuation_lines(code) if touched else set()
    out: list[str] = []
    blank_run = 0
    for number, line in enumerate(lines, start=1):
        if number in keep:
            out.append(line)
            blank_run = 0
            continue
        line = line.rstrip()
        if not line:
            blank_run += 1
            if blank_run > 2 or not out:
                continue
        else:
            blank_run = 0
        out.append(line)
    while out and not out[-1]:
        out.pop()
    text = "\n".join(out) + "\n"
    if len(text) <= PROVE_COMPILES_MAX:
        compile(text, filename, "exec", dont_inherit=True)
    return text


# Above this size the compile proof is skipped: it costs ~0.4 s per MB (a
# 50,000-task module is 15 MB), and what it guards against, a writer bug, is
# what the tests compile every writer's output for.
PROVE_COMPILES_MAX = 2_000_000


@cache
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["py"] = py_literal
    # Statements too long for a line, laid out as ruff format does (pycode).
    env.globals.update(
        py_lines=lambda prefix, e, suffix="", depth=0: "\n".join(
            pycode.statement(prefix, e, suffix, depth)
        ),
        py_lit=lambda value: pycode.literal(value, py_literal),
        py_call=lambda func, args, tail="": pycode.Call(func, list(args), tail),
        py_kwargs=lambda pairs: [pycode.Kw(k, pycode.literal(v, py_literal)) for k, v in pairs],
    )
    env.filters["pystr"] = py_str
    env.filters["comment"] = py_comment
    return env


def render(template_name: str, **context: Any) -> str:
    """Render ``templates/<template_name>``. Templates must pass every
    user-provided value through the ``py``/``pystr``/``comment`` filters."""
    return _environment().get_template(template_name).render(**context)


# ---------------------------------------------------------------------------
# Graph and retry helpers
# ---------------------------------------------------------------------------


@dataclass
class GraphIndex:
    """Tasks by id and direct upstream/downstream ids (edge order, no
    duplicates), built once: ``Workflow.upstream()`` scans every edge, which
    makes per-task queries quadratic on large DAGs."""

    tasks: dict[str, Task]
    up: dict[str, list[str]]
    down: dict[str, list[str]]

    @classmethod
    def of(cls, w: Workflow) -> GraphIndex:
        tasks = {t.id: t for t in w.tasks}
        up: dict[str, list[str]] = {t: [] for t in tasks}
        down: dict[str, list[str]] = {t: [] for t in tasks}
        seen: set[tuple[str, str]] = set()
        for e in w.edges:
            if e.src in tasks and e.dst in tasks and (e.src, e.dst) not in seen:
                seen.add((e.src, e.dst))
                up[e.dst].append(e.src)
                down[e.src].append(e.dst)
        return cls(tasks, up, down)


def topo_order(workflow: Workflow) -> list[str]:
    """Task ids in a topological order that keeps document order wherever the
    edges allow (Kahn's algorithm with the earliest-declared ready task first):
    deterministic, and readable because it follows the source."""
    import heapq

    index = {t.id: i for i, t in enumerate(workflow.tasks)}
    indeg = dict.fromkeys(index, 0)
    succ: dict[str, list[str]] = {tid: [] for tid in index}
    seen: set[tuple[str, str]] = set()
    for e in workflow.edges:
        if e.src in index and e.dst in index and (e.src, e.dst) not in seen:
            seen.add((e.src, e.dst))
            succ[e.src].append(e.dst)
            indeg[e.dst] += 1
    ready = [index[t] for t, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    ids = [t.id for t in workflow.tasks]
    order: list[str] = []
    while ready:
        tid = ids[heapq.heappop(ready)]
        order.append(tid)
        for nxt in succ[tid]:
            indeg[nxt] -= 1
            if indeg[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    if len(order) != len(ids):
        raise ValueError(f"workflow {workflow.id!r} has a cycle")
    return order


# The delay Airflow uses when a task says nothing (docs/semantics.md §1).
AIRFLOW_DEFAULT_RETRY_DELAY_S = 300.0
AIRFLOW_MAX_RETRY_DELAY_S = 24 * 3600.0


def mapped_columns(mapped: dict[str, Any] | None) -> dict[str, Any]:
    """``mapped["over"]`` with ``expand_kwargs`` spelled as columns.

    Frontends write Airflow's ``.expand_kwargs([{...}, {...}])`` as a zip
    over the single key ``kwargs`` holding a list of dicts; targets that map
    argument by argument want ``{"command": [...], "env": [...]}``. Rows
    missing a key make the input unusable as columns: returned unchanged."""
    over = dict((mapped or {}).get("over") or {})
    rows = over.get("kwargs")
    if (
        set(over) == {"kwargs"}
        and isinstance(rows, list)
        and rows
        and all(isinstance(r, dict) for r in rows)
    ):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        if all(set(r) == set(keys) for r in rows):
            return {k: [r[k] for r in rows] for k in keys}
    return over


def retry_delays(task: Task, default: float | None = None) -> list[float]:
    """The delay before each retry, one per retry (``task.retries`` entries).

    A list in the IR is used per attempt (its last value repeats, as Prefect
    does); ``exponential`` doubles from the base delay (Airflow's lower bound
    d*2^(n-1)), capped by ``max_retry_delay_s`` and Airflow's 24 h."""
    n = max(int(task.retries or 0), 0)
    base = task.retry_delay_s
    if n == 0:
        return []
    if isinstance(base, list):
        if not base:
            return [float(default or 0.0)] * n
        return [float(base[min(i, len(base) - 1)]) for i in range(n)]
    d = float(base if base is not None else (default or 0.0))
    if task.retry_backoff != "exponential":
        return [d] * n
    cap = AIRFLOW_MAX_RETRY_DELAY_S
    if task.max_retry_delay_s is not None:
        cap = min(float(task.max_retry_delay_s), cap)
    delays: list[float] = []
    for _ in range(n):  # doubling stops at the cap (10,000 retries overflow 2**i)
        delays.append(min(d, cap))
        d = min(d * 2, cap) if d > 0 else d
    return delays


def schedule_period(w: Workflow) -> dict[str, int] | None:
    """The schedule's constant period as ``timedelta`` keywords (``{"days": 1}``),
    or None (no schedule, a cron whose ticks are not evenly spaced in UTC):
    what the previous and next run of Airflow 2's ``prev_ds``/``next_ds`` are."""
    s = w.schedule
    period = _period(s.kind, s.seconds, s.cron, s.timezone)
    return dict(period) if period is not None else None  # the cached one stays as it is


@functools.lru_cache(maxsize=256)
def _period(kind, seconds, cron, timezone) -> dict[str, int] | None:
    """``schedule_period`` of one schedule (writers ask once per task: 400 cron
    ticks each made a 50,000-task DAG take 8 minutes)."""
    import datetime as dt

    if kind == "interval" and seconds:
        seconds = float(seconds)
    elif kind == "cron" and cron and (timezone or "UTC") == "UTC":
        from cronsim import CronSim, CronSimError

        try:
            it = CronSim(cron, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
            ticks = [next(it) for _ in range(400)]
        except (CronSimError, StopIteration, ValueError):
            return None
        gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(ticks)}
        if len(gaps) != 1:
            return None
        seconds = gaps.pop()
    else:
        return None
    if not seconds.is_integer() or seconds <= 0:
        return None
    for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return {unit: int(seconds // size)}
    return {"seconds": int(seconds)}


def compact_number(x: float) -> int | float:
    """3.0 -> 3 (so generated code reads ``retry_delay_seconds=30``)."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def cron_field_values(cron: str) -> tuple[list[int], ...] | None:
    """The values each field of a 5-field cron line matches (minute, hour,
    day of month, month, day of week with Sunday as 0), or None when the line
    is not plain cron: two spellings of one schedule give the same tuple.
    cronsim (the runtime's cron engine) parses the fields; its extensions
    (``L``, ``LW``, ``1#2``, a seconds field) are not plain cron."""
    if len(cron.split()) != 5:
        return None
    try:
        cs = CronSim(cron, datetime(2000, 1, 1))
    except CronSimError:
        return None
    fields = (cs.minutes, cs.hours, cs.days, cs.months, cs.weekdays)
    if any(not isinstance(v, int) or v < 0 for f in fields for v in f):
        return None
    return (*(sorted(f) for f in fields[:4]), sorted({d % 7 for d in cs.weekdays}))


# IR field names each action kind uses, as the code backends read them
# (anything else in an action is reported as dropped by the backend).
KNOWN_ACTION_FIELDS = {
    "shell": {"command", "exec", "env", "env_replace", "cwd", "args", "capture_output"},
    "python": {"callable", "module", "op_args", "op_kwargs", "decorator", "source_code"},
    "empty": set(),
    "branch": {
        "callable",
        "module",
        "decorator",
        "cases",
        "default",
        "short_circuit",
        "ignore_downstream_trigger_rules",
        "op_args",
        "op_kwargs",
        "source_code",
    },
    "sensor": {"sensor", "poke_interval_s", "timeout_s", "mode", "soft_fail", "target", "args"},
    "email": {"to", "cc", "bcc", "subject", "body"},
    "sql": {"sql", "conn_id", "operator"},
    "container": {"image", "cmds", "arguments", "namespace", "env"},
    "subworkflow": {
        "workflow",
        "app_path",
        "propagate_configuration",
        "conf",
        "wait_for_completion",
    },
    "fail": {"message"},
    # read by common.hadoop_command
    "hadoop": {
        "engine",
        "script",
        "args",
        "properties",
        "main_class",
        "java_opts",
        "jar",
        "master",
        "mode",
        "name",
        "spark_opts",
        "params",
        "jdbc_url",
        "query",
        "command",
        "host",
        "git_uri",
        "branch",
        "destination_uri",
        "streaming",
        "operations",
        "capture_output",
        "operator",
    },
    "external": {"output"},
    "opaque": {"type", "args", "xml"},
}


# Trigger rules that make a task an error handler of its upstreams.
ERROR_RULES = ("one_failed", "all_failed")


@dataclass
class ErrorPaths:
    """A workflow split the way targets with error transitions need it.

    ``normal``: the ordinary dependencies (deduplicated, in edge order);
    ``errors``: upstream -> the handlers its failure starts (error edges and
    inputs of one_failed/all_failed tasks); ``main``: tasks reachable from the
    roots through normal dependencies, in task order; ``handlers``: the rest.
    """

    normal: list[tuple[str, str]]
    errors: dict[str, list[str]]
    main: list[str]
    handlers: list[str]


def error_paths(w: Workflow) -> ErrorPaths:
    ids = w.task_ids()
    known = set(ids)
    rule = {t.id: t.trigger_rule for t in w.tasks}
    normal: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    errors: dict[str, list[str]] = {}
    for e in w.edges:
        if e.src not in known or e.dst not in known:
            continue
        if e.kind == "error" or rule[e.dst] in ERROR_RULES:
            handlers = errors.setdefault(e.src, [])
            if e.dst not in handlers:
                handlers.append(e.dst)
        elif (e.src, e.dst) not in seen:
            seen.add((e.src, e.dst))
            normal.append((e.src, e.dst))
    has_in = {b for _, b in normal} | {b for ts in errors.values() for b in ts}
    succ: dict[str, list[str]] = {}
    for a, b in normal:
        succ.setdefault(a, []).append(b)
    main: set[str] = set()
    stack = [t for t in ids if t not in has_in]
    while stack:
        n = stack.pop()
        if n not in main:
            main.add(n)
            stack.extend(succ.get(n, []))
    return ErrorPaths(
        normal, errors, [t for t in ids if t in main], [t for t in ids if t not in main]
    )
