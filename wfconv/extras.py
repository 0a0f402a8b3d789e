"""Optional parts of wfconv and the message a user sees when one is missing.

The base install (``pip install wfconv``) converts, reads, draws, audits and
simulates without any engine installed: code for Prefect or Luigi is text, and
writing it needs neither. A few things need an engine's library in wfconv's
own interpreter; each asks for it here, by the extra that installs it:

- ``[luigi]``: reading Luigi modules (Luigi's graph is made by code, and even
  the static reader lets Luigi's own parameter classes parse values);
- ``[prefect]``: ``verify --engine`` for a Prefect target (it runs the flow);
- ``[dask]``: ``run --executor dask``;
- ``[engines]`` is ``[prefect]`` and ``[luigi]``; ``[all]`` is everything.

The message is one line and the exit code 2 (a usage error), never a
traceback: ``wfconv: this command needs Prefect: pip install 'wfconv[prefect]'``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from wfconv.errors import UsageError


@dataclass(frozen=True)
class Extra:
    name: str  # the extra: pip install 'wfconv[name]'
    module: str  # the module whose presence means it is installed
    label: str  # how the message names it


EXTRAS: dict[str, Extra] = {
    "prefect": Extra("prefect", "prefect", "Prefect"),
    "luigi": Extra("luigi", "luigi", "Luigi"),
    "dask": Extra("dask", "distributed", "Dask"),
}


class MissingExtra(UsageError):
    """An optional dependency is not installed (the CLI exits 2)."""

    def __init__(self, extra: Extra, what: str):
        self.extra = extra
        # Without the "wfconv: " prefix, for messages about one file of many.
        self.reason = f"{what} needs {extra.label}: pip install 'wfconv[{extra.name}]'"
        super().__init__(f"wfconv: {self.reason}")


def installed(name: str) -> bool:
    """Whether the extra ``name`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(EXTRAS[name].module) is not None
    except (ImportError, ValueError):  # a broken or blocked install
        return False


def require(name: str, what: str = "this command") -> None:
    """Raise MissingExtra unless the extra ``name`` is installed."""
    if not installed(name):
        raise MissingExtra(EXTRAS[name], what)
