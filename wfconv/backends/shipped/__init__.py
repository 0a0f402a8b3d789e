"""Helper modules a backend copies verbatim into an output folder, once.

They are written for the target engine's users, not for wfconv: each depends
on its engine and the standard library only, and is held to the style of the
code wfconv emits (``ruff format`` at 88 columns, docs/output.md), which is
why they live here under their own ``ruff.toml``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def _text(name: str) -> str | None:
    path = HERE / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def is_shipped(path: str | Path, text: str) -> bool:
    """Is this file one of these helper modules, as wfconv writes it (same
    name, same text)? A reader of an output folder skips it: it holds support
    code, not a workflow."""
    name = Path(path).name
    return name.endswith(".py") and name != "__init__.py" and _text(name) == text
