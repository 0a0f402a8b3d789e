"""dag-factory configuration files as data: YAML read safely (never a
Python tag executed), with the line of every mapping, and the ``defaults.yml``
files merged the way dag-factory merges them (docs/codes/dagfactory.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wfconv.errors import InputError
from wfconv.frontends.pyeval import FileRefused

DEFAULTS_FILE_NAMES = ("defaults.yml", "defaults.yaml")
# Top-level keys of a config file that are not DAGs.
SYSTEM_KEYS = ("default", "task_groups")
_ENV_VAR = re.compile(r"\$(\w+|\{[^}]*\})")


class LineDict(dict):
    """A YAML mapping that remembers the line it starts on (1-based)."""

    line: int | None = None


@dataclass(frozen=True)
class PyName:
    """``!!python/name:module.attr`` (or ``!!python/object...``): a reference
    to Python code, kept as its dotted name, never imported."""

    qualname: str


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict(loader.construct_pairs(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


def _python_tag(loader: _Loader, suffix: str, node: yaml.Node) -> PyName:
    return PyName(suffix)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/name:", _python_tag)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/object:", _python_tag)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _python_tag)


def load(path: str, text: str) -> Any:
    """The YAML document (InputError when it is not YAML)."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(path, line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise InputError(path, None, "YAML nested too deeply to be read") from None


def env_vars(text: str) -> list[str]:
    """``$NAME`` / ``${NAME}`` that dag-factory expands from the environment
    of the process that loads the file."""
    return sorted({m.group(1).strip("{}") for m in _ENV_VAR.finditer(text)})


def looks_like_config(data: Any) -> bool:
    """A dag-factory config: a mapping whose DAG entries (every key but
    ``default``/``task_groups``) are mappings with ``tasks`` or
    ``default_args``, or a defaults file with ``default_args``."""
    if not isinstance(data, dict) or not data:
        return False
    dags = [v for k, v in data.items() if k not in SYSTEM_KEYS]
    if dags and all(isinstance(v, dict) for v in dags):
        return any("tasks" in v or "default_args" in v for v in dags)
    return False


def defaults_for(
    config_path: Path | None, dags_folder: Path | None, read: Callable[[str], str]
) -> list[tuple[Path, dict]]:
    """The ``defaults.yml`` files that apply to a config, lowest priority
    first: from the DAGs folder (the loader's ``defaults_config_path``) down
    to the config's own folder (or the config's folder and the DAGs folder
    when the config is outside it; the DAGs folder alone for a config given
    as a dict). ``read`` reads a data file of the repository
    (``DataFiles.read``); a file it refuses is skipped, as an unreadable one is."""
    parents = list(config_path.parents) if config_path is not None else []
    if not parents:
        parents = [dags_folder] if dags_folder is not None else []
        dags_folder = None
    if dags_folder is not None and dags_folder in parents:
        dirs = parents[: parents.index(dags_folder) + 1]
    elif dags_folder is not None:
        dirs = [parents[0], dags_folder]
    else:
        dirs = parents[:1]
    found: list[tuple[Path, dict]] = []
    for d in dirs:
        for name in DEFAULTS_FILE_NAMES:
            f = d / name
            if f.is_file():
                try:
                    data = load(str(f), read(str(f)))
                except (FileRefused, InputError):
                    data = None
                if isinstance(data, dict):
                    found.append((f, data))
                break
    return list(reversed(found))


def merge_defaults(configs: list[dict]) -> dict:
    """dag-factory's merge of defaults files: ``default_args`` key by key,
    other keys replaced, ``tags`` united (sorted)."""
    out: dict[str, Any] = {}
    args: dict[str, Any] = {}
    for c in configs:
        args.update(c.get("default_args") or {})
        for k, v in c.items():
            if k == "default_args":
                continue
            if k == "tags" and isinstance(v, list):
                out["tags"] = sorted(set(out.get("tags", [])) | set(v))
            else:
                out[k] = v
    return {"default_args": args, **out}


def merge(config: dict, default: dict) -> dict:
    """dag-factory's merge_configs: keys of ``default`` the config lacks are
    added; nested mappings are merged the same way (the config wins)."""
    for k, v in default.items():
        if k in config:
            if isinstance(config[k], dict) and isinstance(v, dict):
                merge(config[k], v)
        else:
            config[k] = v
    return config
