"""JSON documents written piece by piece, with the text ``json.dumps`` gives
for the whole document: indented (two spaces) for people, or compact (one
line, no spaces) for programs. Commands whose output grows with their input
(``wfconv parse DIR``, ``wfconv run --format json``) write each item of a
long array as soon as it exists, instead of holding the whole document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def dumps_at(value: Any, indent: bool, depth: int = 0) -> str:
    """``value`` as it reads ``depth`` levels deep inside an indented
    document (the lines after its first are indented to that depth), or
    compact. JSON escapes newlines inside strings, so every newline of the
    text is the layout's."""
    if not indent:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * depth) if depth else text


class ArrayWriter:
    """The items of an array that is the value of a member at ``depth`` (the
    array's own depth: 1 for ``{"runs": [...]}``), written as they come,
    after ``head`` (the document up to the array). Nothing is written before
    the first item or ``close``: a command that fails before it has anything
    to say leaves its output empty."""

    def __init__(self, write: Callable[[str], Any], indent: bool, depth: int = 1, head: str = ""):
        self.write = write
        self.head = head
        self.indent = indent
        self.depth = depth
        self.count = 0
        self._sep = ",\n" + "  " * (depth + 1) if indent else ","

    def add(self, value: Any) -> None:
        if self.count:
            head = self._sep
        else:
            head = self.head + ("[\n" + "  " * (self.depth + 1) if self.indent else "[")
        self.write(head + dumps_at(value, self.indent, self.depth + 1))
        self.count += 1

    def close(self) -> None:
        if not self.count:
            self.write(self.head + "[]")
        else:
            self.write("\n" + "  " * self.depth + "]" if self.indent else "]")
