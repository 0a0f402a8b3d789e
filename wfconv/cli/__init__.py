"""Command line: a thin click layer (docs/architecture.md §8).

Commands live in small modules and are imported only when used, so that
``wfconv parse`` does not pay for importing Prefect. Exit codes: 0 success,
1 the check ran and found problems, 2 usage or input error.
"""

from __future__ import annotations

import importlib

import click

from wfconv import __version__

# command name -> "module:attribute"
COMMANDS: dict[str, str] = {
    "parse": "wfconv.cli.core:parse_cmd",
    "graph": "wfconv.cli.core:graph_cmd",
    "schema": "wfconv.cli.core:schema_cmd",
    "convert": "wfconv.cli.convert:convert_cmd",
    "run": "wfconv.cli.run:run_cmd",
    "runs": "wfconv.cli.runs:runs_cmd",
    "ui": "wfconv.cli.ui:ui_cmd",
    "audit": "wfconv.cli.audit:audit_cmd",
    "verify": "wfconv.cli.verify:verify_cmd",
    "compare": "wfconv.cli.verify:compare_cmd",
    "engines": "wfconv.cli.engines:engines_cmd",
    "explain": "wfconv.cli.explain:explain_cmd",
    "upgrade": "wfconv.cli.upgrade:upgrade_cmd",
}

SOURCES = ("airflow", "prefect", "luigi", "oozie")
TARGETS = ("airflow", "prefect", "luigi", "oozie")
PAIR_ALIASES = tuple(f"{s}-to-{t}" for s in SOURCES for t in TARGETS if s != t)


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return [*COMMANDS, *PAIR_ALIASES]

    def get_command(self, ctx, name):
        if name in COMMANDS:
            target = COMMANDS[name]
        elif name in PAIR_ALIASES:
            src, dst = name.split("-to-")
            try:
                mod = importlib.import_module("wfconv.cli.convert")
            except ModuleNotFoundError:
                return None
            return mod.make_alias(src, dst)
        else:
            return None
        mod_name, attr = target.split(":")
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:
                return None  # command not built yet
            raise
        return getattr(mod, attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wfconv")
def main():
    """Move workflows between Airflow, Prefect, Luigi and Oozie, and prove the move is faithful.

    \b
    Start with:
      wfconv parse corpus/airflow/etl_basic.py        # the IR of a DAG file
      wfconv graph corpus/airflow/etl_basic.py        # a Mermaid picture
      wfconv convert dags/etl.py --to prefect -o out/ # emit code for another engine
    """
