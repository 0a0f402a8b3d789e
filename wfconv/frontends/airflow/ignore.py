""".airflowignore: the files of a DAGs folder the DAG processor never loads
(docs/repositories.md, "Files Airflow ignores").

Airflow walks its DAGs folder top-down; an ``.airflowignore`` in a folder
adds its patterns to those of the folders above it, for that folder and
everything below; a folder that matches is not entered, a file that matches
is not loaded. Two syntaxes (``[core] dag_ignore_file_syntax``):

- ``regexp`` (Airflow 2's default): a pattern ignores a path when
  ``re.search`` finds it in the path relative to the DAGs folder;
- ``glob`` (Airflow 3's default): gitignore's wildmatch (pathspec, as
  Airflow uses), later patterns overriding earlier ones (``!`` re-includes);
  a pattern with a ``/`` before its end is anchored to its file's folder,
  one without matches the last part of the path at any depth.

Both verdicts are computed; the repository's ``airflow.cfg`` picks one, or
else the file's Airflow version does. An ignore file is read as a data file
of the repository (bounded, never outside it).
"""

from __future__ import annotations

import configparser
import re
from dataclasses import dataclass, field
from pathlib import Path

from wfconv.frontends.pyeval import FileRefused
from wfconv.frontends.repo import DataFiles, Repository

IGNORE_FILE = ".airflowignore"
SYNTAXES = ("regexp", "glob")
# The default of [core] dag_ignore_file_syntax, by Airflow major version.
DEFAULT_SYNTAX = {"2": "regexp", "3": "glob"}


@dataclass
class _Rules:
    regexp: list[re.Pattern] = field(default_factory=list)
    # (pattern, anchored folder or None, directories only)
    glob: list[tuple[object, Path | None, bool]] = field(default_factory=list)


class AirflowIgnore:
    """The ``.airflowignore`` verdicts of one DAGs folder (cached per folder)."""

    def __init__(self, repo: Repository):
        self.dags = repo.dags_folder
        self.files = DataFiles(repo)
        self.syntax = _configured_syntax(repo, self.files)
        self._rules: dict[Path, _Rules] = {}

    def verdict(self, path: Path) -> dict[str, bool]:
        """{syntax: ignored} for a file (never ignored outside the folder)."""
        path = Path(path).parent.resolve() / Path(path).name
        out = dict.fromkeys(SYNTAXES, False)
        try:
            parts = path.relative_to(self.dags).parts
        except ValueError:
            return out
        folder = self.dags
        rules = self._folder_rules(folder, _Rules())
        for i, part in enumerate(parts):
            here = folder / part
            is_dir = i < len(parts) - 1
            for syntax in SYNTAXES:
                if not out[syntax] and self._match(syntax, here, rules, is_dir):
                    out[syntax] = True
            if not is_dir:
                break
            folder = here
            rules = self._folder_rules(folder, rules)
        return out

    def _folder_rules(self, folder: Path, above: _Rules) -> _Rules:
        hit = self._rules.get(folder)
        if hit is not None:
            return hit
        rules = _Rules(list(above.regexp), list(above.glob))
        ignore = folder / IGNORE_FILE
        if ignore.is_file():
            try:
                text = self.files.read(str(ignore), hidden=True)
            except FileRefused:
                text = ""
            for line in text.split("\n"):
                pattern = re.sub(r"\s*#.*", "", line)
                if pattern:
                    self._compile(pattern, ignore, rules)
        self._rules[folder] = rules
        return rules

    def _compile(self, pattern: str, ignore: Path, rules: _Rules) -> None:
        from pathspec.patterns import GitWildMatchPattern

        try:
            rules.regexp.append(re.compile(pattern))
        except re.error:
            pass  # Airflow warns and skips it
        if pattern.strip() == "/":
            return
        anchored = ignore.parent if pattern.startswith("/") or "/" in pattern.rstrip("/") else None
        raw = pattern.lstrip("!")
        dir_only = raw.rstrip() != raw.rstrip().rstrip("/")
        try:
            rules.glob.append((GitWildMatchPattern(pattern), anchored, dir_only))
        except ValueError:
            pass

    def _match(self, syntax: str, path: Path, rules: _Rules, is_dir: bool) -> bool:
        if syntax == "regexp":
            rel = path.relative_to(self.dags).as_posix()
            return any(p.search(rel) is not None for p in rules.regexp)
        matched = False
        for pattern, anchored, dir_only in rules.glob:
            if dir_only and not is_dir:
                continue
            rel = path.relative_to(anchored).as_posix() if anchored else path.name
            if is_dir:
                rel += "/"
            if pattern.include is not None and pattern.match_file(rel) is not None:
                matched = pattern.include
        return matched


def _configured_syntax(repo: Repository, files: DataFiles) -> str | None:
    """``[core] dag_ignore_file_syntax`` of the repository's ``airflow.cfg``."""
    cfg = repo.root / "airflow.cfg"
    if not cfg.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(files.read(str(cfg)))
    except (FileRefused, configparser.Error):
        return None
    value = parser.get("core", "dag_ignore_file_syntax", fallback="").strip().lower()
    return value if value in SYNTAXES else None


class IgnoreCheck:
    """The ``.airflowignore`` answers of one folder walk (the ignore files
    read once per DAGs folder)."""

    def __init__(self) -> None:
        self._by_folder: dict[Path, AirflowIgnore] = {}

    def ignored(self, path: Path, version: str | None) -> bool | None:
        """Whether Airflow ``version`` ("2"/"3"; None: either) never loads
        the DAG file ``path``: True/False, or None when the answer depends on
        the version (and ``version`` is None)."""
        repo = Repository.of(path)
        if repo is None:
            return False
        rules = self._by_folder.get(repo.dags_folder)
        if rules is None:
            rules = self._by_folder[repo.dags_folder] = AirflowIgnore(repo)
        verdict = rules.verdict(path)
        if rules.syntax is not None:
            return verdict[rules.syntax]
        if version in DEFAULT_SYNTAX:
            return verdict[DEFAULT_SYNTAX[version]]
        return None if verdict["regexp"] != verdict["glob"] else verdict["glob"]
