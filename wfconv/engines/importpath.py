"""Folders importable while one output is read by an engine's child, as a
deployment has them: the output's own folder, and the folders of the user's
modules it imports its callables from. Modules imported from them are
forgotten afterwards, so that the next output's ``helpers`` is its own.

Standard library only: the Airflow child (run by Airflow's interpreter, where
wfconv is not installed) loads this file by its path; the Prefect child
imports it.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def importable(dirs):
    dirs = [os.path.abspath(d) for d in dirs]
    before = set(sys.modules)
    sys.path[:0] = dirs
    try:
        yield
    finally:
        for d in dirs:
            if d in sys.path:
                sys.path.remove(d)
        for name in set(sys.modules) - before:
            where = os.path.abspath(getattr(sys.modules[name], "__file__", None) or "/")
            if any(where.startswith(d + os.sep) for d in dirs):
                del sys.modules[name]
