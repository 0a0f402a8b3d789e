"""Trace output: every state change as one JSON object per line (``--trace``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from wfconv.runtime.results import RunResult


def write_trace(results: Iterable[RunResult], write: Callable[[str], Any]) -> int:
    """Write the events of ``results`` in order with ``write(text)``; returns
    the number of lines."""
    n = 0
    for res in results:
        for ev in res.trace_dicts():
            write(json.dumps(ev, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def read_trace(fh: TextIO) -> list[dict]:
    return [json.loads(line) for line in fh if line.strip()]
