"""Frontends: source files -> IR. One module per engine, registered here.

Each frontend module exposes::

    ENGINE = "airflow"
    def parse(path: str, text: str | None = None, **options) -> Bundle

``parse`` raises ``wfconv.errors.InputError`` for unreadable input and puts
everything else (constructs it cannot understand) into diagnostics. A directory
of files is walked here; an Oozie application folder is handed to the Oozie
frontend whole.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wfconv.errors import InputError
from wfconv.extras import MissingExtra
from wfconv.ir.model import Bundle, Diagnostic

# Bundle-level diagnostic for a file of a walked folder that could not be read.
INPUT_ERROR = "WF001"

FRONTENDS: dict[str, str] = {
    "airflow": "wfconv.frontends.airflow",
    "prefect": "wfconv.frontends.prefect",
    "luigi": "wfconv.frontends.luigi",
    "oozie": "wfconv.frontends.oozie",
    "dagfactory": "wfconv.frontends.dagfactory",
    "ir": "wfconv.frontends.irjson",
}

ENGINES = tuple(k for k in FRONTENDS if k != "ir")

# File suffixes a directory walk looks at.
_YAML_SUFFIXES = (".yml", ".yaml")
_WALK_SUFFIXES = {".py", ".xml", ".json", *_YAML_SUFFIXES}
_SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".tox", ".mypy_cache"}

_OOZIE_NAMESPACES = ("uri:oozie:workflow:", "uri:oozie:coordinator:", "uri:oozie:bundle:")


def frontend(engine: str):
    try:
        return importlib.import_module(FRONTENDS[engine])
    except KeyError:
        raise InputError(
            None, None, f"unknown engine {engine!r}; known: {', '.join(FRONTENDS)}"
        ) from None


# Detection only (structure is read by the frontends with ast): a C-speed scan
# for import lines. A Python loop over every line cost ~0.2 ms per 7 KB file,
# a tenth of a whole audit of that file.
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)|import[ \t]+([^\n#;]+))", re.M)


def _import_line_starts(text: str) -> list[int]:
    """Start offsets of the lines holding the word ``from`` or ``import``: the
    only lines _IMPORT_LINE can match (it never crosses a newline). Found with
    str.find: ~4x faster than letting the regex try every offset."""
    starts: set[int] = set()
    for word in ("import", "from"):
        i = text.find(word)
        while i != -1:
            start = text.rfind("\n", 0, i) + 1
            starts.add(start)
            end = text.find("\n", i)
            if end == -1:
                break
            i = text.find(word, end)
    return sorted(starts)


def _python_imports(text: str) -> set[str]:
    """Top-level package names imported by a Python file."""
    found: set[str] = set()
    match = _IMPORT_LINE.match
    for start in _import_line_starts(text):
        m = match(text, start)
        if m is None:
            continue
        if m.group(1):
            found.add(m.group(1))
            continue
        for item in m.group(2).split(","):
            name = item.strip().split(" ")[0].strip("()")
            if name:
                found.add(name.split(".")[0])
    return found


def detect_engine(path: str, text: str) -> str | None:
    """Which engine wrote this file? None when it is not a workflow file."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xml":
        head = text[:8192]
        if any(ns in head for ns in _OOZIE_NAMESPACES):
            return "oozie"
        return None
    if suffix == ".json":
        from wfconv.ir.jsonio import is_ir_document

        return "ir" if is_ir_document(text) else None
    if suffix in (".yml", ".yaml"):
        from wfconv.frontends.dagfactory import is_config

        return "dagfactory" if is_config(path, text) else None
    if suffix == ".py" or suffix == "":
        if (
            "airflow" not in text
            and "Airflow" not in text
            and "prefect" not in text
            and "luigi" not in text
            and "dagfactory" not in text
        ):
            return None
        imports = _python_imports(text)
        if "dagfactory" in imports:
            return "dagfactory"  # a loader of YAML configs (read by the Airflow reader)
        # A file may import several engines (an Airflow DAG calling Luigi is
        # rare, a Prefect flow importing airflow never); order = specificity.
        for engine in ("airflow", "prefect", "luigi"):
            if engine in imports:
                return engine
        if suffix == ".py" and "airflow" in text.lower():
            # A DAG file built by a module of its repository (docs/repositories.md).
            from wfconv.frontends.repo import engine_through_imports

            return engine_through_imports(path, text)
    return None


def is_oozie_app_dir(path: Path) -> bool:
    return path.is_dir() and any(
        (path / name).is_file() for name in ("workflow.xml", "coordinator.xml", "bundle.xml")
    )


# Reading a file whole could exhaust memory, so there is a ceiling: a source
# file (Python, XML) is never near 32 MB; an IR document wfconv wrote is far
# larger (a 1M-task workflow is ~300 MB compact, ~550 MB indented), so `.json`
# files get 2 GB. WFCONV_MAX_FILE_MB raises (or lowers) both.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_IR_FILE_BYTES = 2048 * 1024 * 1024
MAX_FILE_ENV = "WFCONV_MAX_FILE_MB"


def max_file_bytes(path: Path) -> int:
    """The size limit for reading ``path`` (see MAX_FILE_BYTES)."""
    env = os.environ.get(MAX_FILE_ENV, "").strip()
    if env:
        try:
            return int(float(env) * 2**20)
        except ValueError:
            raise InputError(
                str(path), None, f"{MAX_FILE_ENV}={env!r} is not a number of megabytes"
            ) from None
    return MAX_IR_FILE_BYTES if path.suffix.lower() == ".json" else MAX_FILE_BYTES


def _read(path: Path) -> str:
    limit = max_file_bytes(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(
            str(path),
            None,
            f"file is larger than {limit / 2**20:g} MB; set {MAX_FILE_ENV} to raise the limit",
        )
    if path.suffix.lower() == ".xml":  # in the encoding its BOM or declaration names
        from wfconv.frontends.oozie.xml import decode

        return decode(str(path), data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(str(path), line, "file is not valid UTF-8 text") from None


def iter_workflow_files(root: Path):
    """Files under ``root`` worth detecting, in sorted (stable) order; Oozie
    application folders are yielded as folders."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        here = Path(dirpath)
        if here != root and is_oozie_app_dir(here):
            dirnames[:] = []
            yield here
            continue
        if here == root and is_oozie_app_dir(here):
            yield here
            dirnames[:] = [d for d in dirnames]
            continue
        for name in sorted(filenames):
            p = here / name
            if p.suffix.lower() in _WALK_SUFFIXES:
                yield p


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused while one file is read.

    ``ast.parse`` and the frontends allocate tens of thousands of small
    objects and free almost all of them by reference counting, yet each 700
    allocations start a collection that walks the young objects (and now and
    then the whole heap): ~20% of a 7 KB DAG's parse time for nothing. The
    collector is restored afterwards (left as it was if the caller had
    already disabled it), so cycles are still collected between files.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_path(path: str | Path, engine: str | None = None, **options) -> Bundle:
    """Parse one file or folder into a Bundle."""
    p = Path(path)
    if p.is_dir():
        return _load_path(p, path, engine, **options)
    with paused_gc():
        return _load_path(p, path, engine, **options)


def _parse_file(engine: str, path: str, text: str | None, **options) -> Bundle:
    """One frontend on one file; input too deep or too big for any reader
    (Python's own parser and ``ast`` walks recurse) is an input error of that
    file, never a bare RecursionError or MemoryError without a path."""
    try:
        return frontend(engine).parse(path, text, **options)
    except InputError as exc:
        # Read with the engine the user named, the file failed: if it is
        # plainly another engine's file, say that rather than the symptom.
        other = detect_engine(path, text) if text is not None else None
        if other is not None and other != engine:
            raise InputError(
                exc.path or path,
                exc.line,
                f"this is a{'n' if other[0] in 'aeiou' else ''} {other} file, not {engine} "
                f"(drop --from, or use --from {other}); read as {engine}: {exc.message}",
            ) from None
        raise
    except RecursionError:
        raise InputError(path, None, "the code is nested too deeply to be read") from None
    except MemoryError:
        raise InputError(path, None, "the file needs more memory than reading it may use") from None


def _is_walked(p: Path, engine: str | None) -> bool:
    """A folder read file by file (not an Oozie application folder)."""
    return p.is_dir() and not (is_oozie_app_dir(p) and engine in (None, "oozie"))


def _load_path(p: Path, path: str | Path, engine: str | None, **options) -> Bundle:
    if _is_walked(p, engine):
        bundle = Bundle()
        for sub in _iter_folder(p, engine, **options):
            bundle.workflows.extend(sub.workflows)
            bundle.diagnostics.extend(sub.diagnostics)
        return bundle
    return _load_one(p, path, engine, **options)


def _load_one(p: Path, path: str | Path, engine: str | None, **options) -> Bundle:
    """One file, or an Oozie application folder."""
    if not p.exists():
        raise InputError(str(path), None, "no such file or directory")
    if p.is_dir():
        return _parse_file("oozie", str(p), None, **options)
    text = _read(p)
    eng = engine or detect_engine(str(p), text)
    if eng is None:
        raise InputError(
            str(p), None, "cannot tell which engine wrote this file; say it with --from ENGINE"
        )
    return _parse_file(eng, str(p), text, **options)


def _iter_folder(p: Path, engine: str | None, **options) -> Iterator[Bundle]:
    """A walked folder, one Bundle per file read (only that file's workflows
    and diagnostics), so a caller can write and forget each before the next."""
    # One unreadable file must not hide the rest of a folder: its error is
    # kept as a bundle diagnostic (code INPUT_ERROR) and the walk goes on;
    # the CLI prints it as path:line: message and exits 2 at the end.
    # A dag-factory config is read once: by the loader that loads it, or
    # on its own when no loader of the walk does.
    seen_configs: set[tuple[str, str]] = set()
    # DAG files Airflow never loads (docs/repositories.md, .airflowignore).
    from wfconv.frontends.airflow.ignore import IgnoreCheck

    ignores = IgnoreCheck()
    for f in iter_workflow_files(p):
        try:
            if f.is_dir():
                sub = _parse_file("oozie", str(f), None, **options)
            else:
                if f.suffix.lower() in _YAML_SUFFIXES and engine not in (None, "dagfactory"):
                    continue  # only dag-factory reads YAML files (prefect.yaml is read beside a flow)
                text = _read(f)
                eng = engine or detect_engine(str(f), text)
                if eng is None:
                    continue
                dag_file = eng in ("airflow", "dagfactory") and f.suffix == ".py"
                skip = (
                    ignores.ignored(f, options.get("airflow_source_version")) if dag_file else False
                )
                if skip:
                    continue
                with paused_gc():
                    sub = _parse_file(eng, str(f), text, **options)
                if skip is None and _ignored_by_version(ignores, f, sub):
                    continue
        except InputError as exc:
            yield Bundle(
                diagnostics=[
                    Diagnostic("error", INPUT_ERROR, exc.message, exc.path or str(f), exc.line)
                ]
            )
            continue
        except MissingExtra as exc:
            if engine is not None:  # every file would need it: say it once
                raise
            yield Bundle(diagnostics=[Diagnostic("error", INPUT_ERROR, exc.reason, str(f))])
            continue
        kept = []
        for w in sub.workflows:
            config = w.extra.get("dagfactory", {}).get("config")
            if config is not None:
                key = (str(Path(config).resolve()), w.id)
                if key in seen_configs:
                    continue
                seen_configs.add(key)
            kept.append(w)
        yield Bundle(kept, sub.diagnostics)


def _ignored_by_version(ignores, f: Path, sub: Bundle) -> bool:
    """A file ``.airflowignore`` ignores in one Airflow version only: ignored
    when it is in the version its DAGs were read as."""
    versions = {w.extra.get("airflow", {}).get("source_version") for w in sub.workflows}
    return all(ignores.ignored(f, v or "2") for v in versions or {None})


def input_errors(bundle: Bundle) -> list[Diagnostic]:
    """Files of walked folders that could not be read (see load_path)."""
    return [d for d in bundle.diagnostics if d.code == INPUT_ERROR]


def iter_load(paths, engine: str | None = None, **options) -> Iterator[Bundle]:
    """What ``load`` reads, one Bundle per file as it is read: a folder of
    10,000 files never holds more than one file's IR (``wfconv parse``,
    ``wfconv convert``)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for path in paths:
        p = Path(path)
        if _is_walked(p, engine):
            yield from _iter_folder(p, engine, **options)
        else:
            yield load_path(path, engine, **options)


def load(paths, engine: str | None = None, **options) -> Bundle:
    """Parse several paths into one Bundle (workflows in argument order)."""
    out = Bundle()
    for b in iter_load(paths, engine, **options):
        out.workflows.extend(b.workflows)
        out.diagnostics.extend(b.diagnostics)
    return out
