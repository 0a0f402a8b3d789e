"""The repository a workflow file lives in, seen the way Airflow's DAG
processor sees it: which of the repository's own modules an ``import``
statement reaches. Documented in docs/repositories.md.

Most DAG files are not alone: they import helper functions from ``utils/``,
operators from ``plugins/``, shared ``default_args`` from a config module.
Airflow runs them with its DAGs folder, its plugins folder and the
project's root on ``sys.path``; the static readers follow the same imports
*without importing anything*: the abstract interpreter (``pyeval``) runs the
imported module's text, and this module only finds that text.

Where modules are looked for, in order (``Repository.roots``):

1. the DAGs folder: the nearest enclosing folder named ``dags``, otherwise the
   folder of the file (or the folder given to a command);
2. the repository root: the parent of a ``dags`` folder, otherwise the nearest
   enclosing folder holding ``.git``, ``pyproject.toml``, ``setup.py``,
   ``setup.cfg``, ``airflow.cfg`` or ``.astro``;
3. ``plugins/`` beside the DAGs folder and in the root, then ``src/``;
4. the folders given with ``--path``.

A DAGs folder that is itself inside a package (``airflow/example_dags``)
also answers to its dotted name (``airflow.example_dags.subdags.subdag``).
Names of the standard library and of the engines (``airflow``, ``prefect``,
``luigi``, ``pendulum``...) are never looked up: the installed package comes
first on Airflow's ``sys.path``, so the repository cannot shadow it.

The parsed modules are cached per process, keyed by path, modification time
and size: a folder of 1,000 DAG files that all import ``utils/common.py``
parses it once (``bench/bench_repo.py`` measures it).
"""

from __future__ import annotations

import ast
import dataclasses
import fnmatch
import functools
import glob
import os
import stat
import sys
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from wfconv.frontends.pyeval import FileRefused, ModuleSource

# Top-level packages an engine installs: never taken from the repository.
ENGINE_PACKAGES = frozenset({"airflow", "prefect", "luigi", "pendulum", "dagfactory", "wfconv"})
INSTALLED_FIRST = ENGINE_PACKAGES | frozenset(sys.stdlib_module_names)

ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg", "airflow.cfg", ".astro")

# Larger modules are not followed (no helper module is this large).
MAX_MODULE_BYTES = 4 * 1024 * 1024
# Data files (configs a factory reads): each, and all of one file's reading.
MAX_DATA_BYTES = 1024 * 1024
# Parsing 1 MB of YAML costs 1-2 s of CPU with libyaml (4-5 s without): the
# total stays within the evaluator's CPU budget (budget.CPU_SECONDS).
MAX_DATA_TOTAL = 2 * 1024 * 1024
MAX_LISTED = 10_000

_EMPTY = ast.Module(body=[], type_ignores=[])


class _ParseCache:
    """path -> (mtime_ns, size, text, tree | error message), least recently
    used first; shared by every repository of the process."""

    def __init__(self, limit: int = 4096):
        self.limit = limit
        self.entries: OrderedDict[str, tuple[int, int, str, ast.Module | str]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, path: Path) -> tuple[str, ast.Module | str]:
        key = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            return "", f"cannot read {path}: {exc.strerror or exc}"
        hit = self.entries.get(key)
        if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
            self.entries.move_to_end(key)
            self.hits += 1
            return hit[2], hit[3]
        self.misses += 1
        text, tree = _parse(path, st.st_size)
        self.entries[key] = (st.st_mtime_ns, st.st_size, text, tree)
        if len(self.entries) > self.limit:
            self.entries.popitem(last=False)
        return text, tree


def _parse(path: Path, size: int) -> tuple[str, ast.Module | str]:
    if size > MAX_MODULE_BYTES:
        return "", f"{path} is larger than {MAX_MODULE_BYTES // 2**20} MB: not read"
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"cannot read {path}: {exc}"
    try:
        return text, ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return text, f"{path}:{exc.lineno}: syntax error: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:
        return text, f"cannot parse {path}: {exc}"


PARSED = _ParseCache()


class Repository:
    """The folders a file's imports are looked up in (see the module doc)."""

    def __init__(
        self,
        dags_folder: Path,
        root: Path,
        extra: tuple[Path, ...] = (),
    ):
        self.dags_folder = dags_folder
        self.root = root
        self.extra = extra
        candidates = [
            dags_folder,
            root,
            dags_folder.parent / "plugins",
            root / "plugins",
            root / "src",
            *extra,
        ]
        self.roots: list[Path] = list(dict.fromkeys(p for p in candidates if p.is_dir()))
        # A DAGs folder inside a package also answers to its dotted name.
        self.aliases: dict[str, Path] = {}
        package = _package_name(dags_folder)
        if package:
            self.aliases[package] = dags_folder
        self._located: dict[str, tuple[Path | None, bool] | None] = {}

    @functools.cached_property
    def resolved_bases(self) -> list[Path]:
        """The folders whose files are the repository's data (DataFiles)."""
        return list(dict.fromkeys(p.resolve() for p in (self.root, *self.extra)))

    def __repr__(self) -> str:
        return f"Repository(dags={self.dags_folder}, roots={[str(r) for r in self.roots]})"

    @classmethod
    def of(cls, path: str | Path, extra: tuple[str, ...] | list[str] = ()) -> Repository | None:
        """The repository of a file or folder that exists (None otherwise)."""
        fast = (os.path.dirname(os.fspath(path)), tuple(extra))
        if fast in _BY_INPUT:  # every file of a folder asks: one answer
            return _BY_INPUT[fast]
        repo = cls._of(path, extra)
        if len(_BY_INPUT) > 4096:
            _BY_INPUT.clear()
        _BY_INPUT[fast] = repo
        return repo

    @classmethod
    def _of(cls, path: str | Path, extra: tuple[str, ...] | list[str]) -> Repository | None:
        p = Path(path)
        try:
            p = p.resolve()
            start = p if p.is_dir() else p.parent
            if not start.is_dir():
                return None
        except OSError:
            return None
        extra_paths = tuple(Path(e).resolve() for e in extra)
        key = (str(start), extra_paths)
        hit = _REPOSITORIES.get(key)
        if hit is not None:
            return hit
        dags = next((a for a in (start, *start.parents) if a.name.lower() == "dags"), None)
        if dags is not None:
            repo = cls(dags, dags.parent, extra_paths)
        else:
            marked = next(
                (a for a in (start, *start.parents) if any((a / m).exists() for m in ROOT_MARKERS)),
                start,
            )
            repo = cls(start, marked, extra_paths)
        if len(_REPOSITORIES) > 1024:
            _REPOSITORIES.clear()
        _REPOSITORIES[key] = repo
        return repo

    def locate(self, name: str) -> tuple[Path | None, bool] | None:
        """(file, is_package) of a module of the repository; the file is None
        for a namespace package (a folder without ``__init__.py``)."""
        if name in self._located:
            return self._located[name]
        found = self._locate(name)
        self._located[name] = found
        return found

    def _locate(self, name: str) -> tuple[Path | None, bool] | None:
        parts = name.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        for prefix, folder in self.aliases.items():
            if name == prefix or name.startswith(prefix + "."):
                rest = name[len(prefix) + 1 :].split(".") if name != prefix else []
                return _find(folder, rest, package_dir=True)
        if parts[0] in INSTALLED_FIRST:
            return None
        namespace = None
        for root in self.roots:
            found = _find(root, parts)
            if found is None:
                continue
            if found[0] is not None:
                return found
            namespace = namespace or found
        return namespace

    def importer(self, name: str) -> ModuleSource | str | None:
        """pyeval's importer: the module's parsed text, an error message
        (a module of the repository that cannot be read), or None."""
        found = self.locate(name)
        if found is None:
            return None
        path, is_package = found
        if path is None:
            return ModuleSource(name, None, "", _EMPTY, True)
        text, tree = PARSED.get(path)
        if isinstance(tree, str):
            return f"module {name} of the repository cannot be read: {tree}"
        return ModuleSource(name, str(path), text, tree, is_package)


_REPOSITORIES: dict[tuple[str, tuple[Path, ...]], Repository] = {}
_BY_INPUT: dict[tuple[str, tuple], Repository | None] = {}


def _find(
    base: Path, parts: list[str], package_dir: bool = False
) -> tuple[Path | None, bool] | None:
    """Python's lookup of ``parts`` under one ``sys.path`` entry."""
    if not parts:
        init = base / "__init__.py"
        return (init, True) if init.is_file() else ((None, True) if package_dir else None)
    folder = base.joinpath(*parts[:-1])
    last = parts[-1]
    init = folder / last / "__init__.py"
    if init.is_file():
        return init, True
    module = folder / f"{last}.py"
    if module.is_file():
        return module, False
    if (folder / last).is_dir():
        return None, True
    return None


def _package_name(folder: Path) -> str | None:
    """``airflow.example_dags`` for a folder with ``__init__.py`` files up to
    a folder without one (None when the folder is no package)."""
    names: list[str] = []
    here = folder
    while (here / "__init__.py").is_file() and here.name.isidentifier():
        names.append(here.name)
        here = here.parent
    return ".".join(reversed(names)) or None


def importer_for(path: str, options: dict) -> Callable[[str], ModuleSource | str | None] | None:
    """pyeval's importer for the file ``path`` read by a frontend's
    ``parse(**options)`` (``repo_paths``: the folders of ``--path``; none
    with ``repository=False``). Module paths are spelled as ``path`` is:
    relative to the working directory when it is relative."""
    if options.get("repository") is False:
        return None
    repo = Repository.of(path, tuple(options.get("repo_paths") or ()))
    if repo is None:
        return None
    if Path(path).is_absolute():
        return repo.importer

    def importer(name: str) -> ModuleSource | str | None:
        found = repo.importer(name)
        if isinstance(found, ModuleSource) and found.path is not None:
            hit = _RELATIVE.get(found.path)
            if hit is None or hit[0] is not found.tree:
                try:
                    rel = dataclasses.replace(found, path=os.path.relpath(found.path))
                except ValueError:  # another drive (Windows)
                    rel = found
                if len(_RELATIVE) > 4096:
                    _RELATIVE.clear()
                hit = _RELATIVE[found.path] = (found.tree, rel)
            return hit[1]
        return found

    return importer


# absolute module path -> (its tree, the ModuleSource with a relative path)
_RELATIVE: dict[str, tuple[ast.Module, ModuleSource]] = {}


class DataFiles:
    """What the static interpreter may read of a repository as data
    (``Interpreter(files=...)``): regular files and folders under the
    repository root or a ``--path`` folder, symbolic links resolved first,
    each file at most ``MAX_DATA_BYTES`` and ``MAX_DATA_TOTAL`` for one DAG
    file. A relative path is taken from the working directory, where the
    path of the file being read (``__file__``) is relative to.
    ``read_paths`` lists the files read, for the IR's sources."""

    def __init__(self, repo: Repository, relative: bool = False):
        self.bases = repo.resolved_bases
        self.relative = relative  # spell the files read relative to the working directory
        self.total = 0
        self.read_paths: list[str] = []

    def _inside(self, path: str, hidden: bool = False) -> Path:
        try:
            real = Path(path).resolve()
        except (OSError, RuntimeError) as exc:
            raise FileRefused(f"{path}: its path cannot be resolved ({exc})") from None
        base = next((b for b in self.bases if real.is_relative_to(b)), None)
        if base is None:
            raise FileRefused(f"{path} is outside the repository: not read")
        # Hidden files and folders (.git, .env, .aws) hold no pipeline's data
        # but may hold secrets that a conversion would copy.
        if not hidden and any(part.startswith(".") for part in real.relative_to(base).parts):
            raise FileRefused(f"{path} is a hidden file or folder: not read")
        return real

    def contains(self, path: str) -> bool:
        """Whether ``path`` may be read (inside the repository, not hidden)."""
        try:
            self._inside(path)
        except FileRefused:
            return False
        return True

    def kind(self, path: str) -> str | None:
        real = self._inside(path)
        return "file" if real.is_file() else "dir" if real.is_dir() else None

    def read(self, path: str, binary: bool = False, hidden: bool = False) -> str | bytes:
        """The file's bytes or text (``hidden``: the caller reads a hidden
        file it names itself, such as ``.airflowignore``)."""
        real = self._inside(path, hidden)
        # Opened without following a link swapped in since it was resolved and
        # without blocking on a FIFO; what it is and how large is checked on
        # the open file, and no more than the cap is read.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            raise FileRefused(f"{path} does not exist in the repository") from None
        except OSError as exc:
            raise FileRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise FileRefused(f"{path} is not a regular file: not read")
            cap = min(MAX_DATA_BYTES, MAX_DATA_TOTAL - self.total)
            try:
                data = f.read(cap + 1) if st.st_size <= cap else b""
            except OSError as exc:
                raise FileRefused(f"{path} cannot be read: {exc.strerror or exc}") from None
            if st.st_size > cap or len(data) > cap:
                raise FileRefused(
                    f"{path} is too large to read statically ({max(st.st_size, len(data))} bytes)"
                )
        self.total += len(data)
        shown = os.path.relpath(path) if self.relative and os.path.isabs(path) else path
        if shown not in self.read_paths:
            self.read_paths.append(shown)
        if binary:
            return data
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise FileRefused(f"{path} is not UTF-8 text") from None

    def listdir(self, path: str) -> list[str]:
        real = self._inside(path)
        if not real.is_dir():
            raise FileRefused(f"{path} is not a folder of the repository")
        # Sorted: Python's order is the file system's, which only the machine knows.
        return sorted(os.listdir(real))[:MAX_LISTED]

    def tree(self, top: str) -> list[tuple[str, list[str], list[str]]]:
        """``os.walk(top)`` (top-down, sorted): symbolic links to folders
        followed once, but never out of the repository; no hidden file or
        folder; at most ``MAX_LISTED`` files in all."""
        out: list[tuple[str, list[str], list[str]]] = []
        seen: set[Path] = set()
        count = 0
        if self.kind(top) != "dir":
            return out
        for here, dirs, names in os.walk(top, followlinks=True):
            real = Path(here).resolve()
            dirs.sort()
            if real in seen or not self.contains(here):
                dirs[:] = []
                continue
            seen.add(real)
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            shown = [n for n in sorted(names) if not n.startswith(".")][: MAX_LISTED - count]
            count += len(shown)
            out.append((here, list(dirs), shown))
            if count >= MAX_LISTED:
                break
        return out

    def walk(self, folder: str) -> list[str]:
        """The files under ``folder`` (``tree``), as dag-factory's loader walks it."""
        return [os.path.join(here, n) for here, _, names in self.tree(folder) for n in names]

    def match(self, folder: str, pattern: str) -> list[str]:
        """``Path(folder).glob(pattern)``: the files and folders under
        ``folder`` whose relative path matches (``**`` any number of
        folders), sorted."""
        parts = [p for p in pattern.split("/") if p not in ("", ".")]
        # A trailing ``**`` (folders only, the folder itself included) differs
        # between Python versions: not read.
        if not parts or ".." in parts or parts[-1] == "**":
            raise FileRefused(f"the pattern {pattern!r} is not read statically")
        out = []
        for here, dirs, names in self.tree(folder):
            rel = os.path.relpath(here, folder)
            for n in (*dirs, *names):
                path = n if rel == "." else f"{rel}/{n}"
                if _glob_match(parts, path.split("/")):
                    out.append(os.path.join(folder, path))
        return sorted(out)

    def glob(self, pattern: str) -> list[str]:
        folder = os.path.dirname(pattern)
        if glob.has_magic(folder):
            raise FileRefused(f"the pattern {pattern!r} has wildcards in folder names: not read")
        names = self.listdir(folder or ".") if self.kind(folder or ".") == "dir" else []
        base = os.path.basename(pattern)
        return [
            os.path.join(folder, n)
            for n in fnmatch.filter(names, base)
            if not (n.startswith(".") and not base.startswith("."))
        ]


def _glob_match(pattern: list[str], parts: list[str]) -> bool:
    """pathlib's glob match of a relative path, segment by segment (``**``:
    any number of folders, none included)."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_match(pattern[1:], parts[i:]) for i in range(len(parts) + 1))
    return (
        bool(parts)
        and fnmatch.fnmatchcase(parts[0], pattern[0])
        and _glob_match(pattern[1:], parts[1:])
    )


def data_files_for(path: str, options: dict) -> DataFiles | None:
    """The data files the reader of ``path`` may read (None with
    ``repository=False``, or no repository)."""
    if options.get("repository") is False:
        return None
    repo = Repository.of(path, tuple(options.get("repo_paths") or ()))
    return DataFiles(repo, not os.path.isabs(path)) if repo is not None else None


def engine_through_imports(path: str, text: str) -> str | None:
    """``airflow`` for a file that imports no engine itself but a module of
    its repository that imports Airflow (a hand-written factory: ``from
    factory_lib.builder import build``), when the file passes the DAG
    processor's own discovery test (its text holds "airflow" and "dag").
    One level of imports is looked at."""
    low = text.lower()
    if "airflow" not in low or "dag" not in low:
        return None
    repo = Repository.of(path)
    if repo is None:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for name in _imported_modules(tree):
        found = repo.locate(name)
        if found is None or found[0] is None:
            continue
        _, module = PARSED.get(found[0])
        if isinstance(module, ast.Module) and any(
            m.split(".")[0] == "airflow" for m in _imported_modules(module)
        ):
            return "airflow"
    return None


def _imported_modules(tree: ast.Module) -> list[str]:
    """Absolute module names a module imports at its top level (and in
    top-level ``if``/``try`` blocks)."""
    out: list[str] = []
    stack = list(tree.body)
    while stack:
        st = stack.pop(0)
        if isinstance(st, ast.Import):
            out.extend(a.name for a in st.names)
        elif isinstance(st, ast.ImportFrom) and st.module and not st.level:
            out.append(st.module)
        elif isinstance(st, (ast.If, ast.Try)):
            stack.extend(st.body)
            stack.extend(st.orelse)
            if isinstance(st, ast.Try):
                for h in st.handlers:
                    stack.extend(h.body)
    return out


def unread_reason(importer: Callable[[str], ModuleSource | str | None] | None, module: str) -> str:
    """Why the names of ``module`` are not known to the static readers, for
    their diagnostics (``importer``: the interpreter's, None when the
    repository is not followed)."""
    if module.split(".")[0] in INSTALLED_FIRST:
        return f"{module} is a module of Python or of an engine, not evaluated statically"
    if importer is None:
        return "the repository's modules are not followed"
    found = importer(module)
    if isinstance(found, str):
        return f"module {module} of the repository cannot be read"
    return f"module {module} is not in the repository; its folder can be given with --path"


__all__ = [
    "ENGINE_PACKAGES",
    "INSTALLED_FIRST",
    "PARSED",
    "DataFiles",
    "Repository",
    "data_files_for",
    "engine_through_imports",
    "importer_for",
    "unread_reason",
]
