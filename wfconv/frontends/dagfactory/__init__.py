"""dag-factory: Airflow DAGs described in YAML files (codes DF, see
docs/codes/dagfactory.md).

A config file (``*.yml``/``*.yaml`` whose entries are DAGs with ``tasks`` or
``default_args``) is read on its own; a Python file that calls
``dagfactory.DagFactory(...).generate_dags(...)`` or ``load_yaml_dags(...)``
is read by the Airflow reader, which reads the configs it loads. Either way
the DAGs are built by the Airflow reader's own hooks (``build``), so the IR
is what the same DAG written in Python gives, with ``source.engine`` airflow
and ``workflow.extra.dagfactory.config`` naming the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wfconv.errors import InputError
from wfconv.ir.model import Bundle

ENGINE = "dagfactory"


def parse(path: str, text: str | None = None, **options) -> Bundle:
    from wfconv.frontends import _read
    from wfconv.frontends.airflow import reader
    from wfconv.frontends.airflow import version as airflow_version

    if text is None:
        text = _read(Path(path))
    if Path(path).suffix.lower() not in (".yml", ".yaml"):
        return reader.parse(path, text, **options)  # a loader: the Airflow reader follows it
    hooks, interp = reader.reader_for(path, text, options)
    build_config(hooks, interp, Path(path), text, None, strict=True)
    # The config's keys and operator paths tell the Airflow version it was
    # written for, as a Python file's imports do.
    decision = airflow_version.decide(
        airflow_version.config_evidence(_mapping_entries(text)),
        options.get("airflow_source_version"),
    )
    return reader.finish(hooks, interp, path, [], decision)


def _mapping_entries(text: str) -> list[tuple[int, str, object]]:
    """(line, key, scalar value or None) of every mapping key in a YAML text."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    out, todo = [], [root]
    while todo:
        node = todo.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    scalar = value.value if isinstance(value, yaml.ScalarNode) else None
                    out.append((key.start_mark.line + 1, key.value, scalar))
                todo.append(value)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return sorted(out, key=lambda e: e[0])


def build_config(
    hooks, interp, path: Path, text: str, node, strict: bool = False, **loader: Any
) -> list:
    """Build the DAGs of one config file into the Airflow hooks; the
    interpreter reads it as the current file (sources and diagnostics point
    into the YAML). A file that is not YAML is an input error when it was
    asked for (``strict``), a DF001 diagnostic when a loader names it.
    ``loader``: the loader's defaults options (``ConfigBuilder.build_data``)."""
    from wfconv.frontends.dagfactory.build import ConfigBuilder
    from wfconv.frontends.pyeval import SourceUnit
    from wfconv.frontends.repo import Repository

    repo = Repository.of(path)
    shown = str(path)
    unit = SourceUnit(shown, text, Path(path).stem)
    saved = interp.switch_unit(unit, interp.module_scope)
    try:
        builder = ConfigBuilder(hooks, interp, shown, repo.dags_folder if repo else None)
        return builder.build_file(Path(path).resolve(), text, **loader)
    except InputError as exc:
        if strict:
            raise
        hooks.diag("error", "DF001", exc.message, exc.line, None)
        return []
    finally:
        interp.restore_unit(saved)


def build_dict(hooks, interp, data: dict, node, **loader: Any) -> list:
    """Build the DAGs of a config a loader was given as a dict
    (``config_dict=``): read in the loading file, at the loader's line."""
    from wfconv.frontends.dagfactory.build import ConfigBuilder
    from wfconv.frontends.repo import Repository

    path = interp.main_unit.path or "."
    repo = Repository.of(path)
    line = getattr(node, "lineno", None)
    builder = ConfigBuilder(hooks, interp, path, repo.dags_folder if repo else None, line)
    return builder.build_data(data, None, **loader)


def is_config(path: str, text: str) -> bool:
    """Detection: a YAML file that dag-factory would read as DAGs."""
    if "tasks" not in text and "default_args" not in text:
        return False
    from wfconv.frontends.dagfactory.config import load, looks_like_config

    try:
        return looks_like_config(load(path, text))
    except InputError:
        return False
