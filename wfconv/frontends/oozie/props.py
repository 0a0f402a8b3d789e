"""Oozie properties: ``job.properties`` (Java properties syntax),
``config-default.xml`` and ``<configuration>``/``<parameters>`` blocks.

Why hand-written: ``job.properties`` follows ``java.util.Properties.load``
(``=``, ``:`` or whitespace separators, ``#``/``!`` comments, backslash line
continuations and escapes), which neither configparser nor a split on ``=``
reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass

from wfconv.errors import InputError
from wfconv.frontends.oozie.xml import child_text, children, load_file

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


@dataclass
class Prop:
    """One property with where it was defined (for diagnostics)."""

    name: str
    value: str | None
    path: str | None = None
    line: int | None = None
    description: str | None = None


def _logical_lines(text: str):
    """(first physical line number, logical line) pairs, continuations joined."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i + 1
        cur = lines[i].lstrip(" \t\f")
        i += 1
        if not cur or cur[0] in "#!":
            continue
        while _continues(cur) and i < len(lines):
            cur = cur[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        if _continues(cur):
            cur = cur[:-1]
        yield start, cur


def _continues(line: str) -> bool:
    n = 0
    for c in reversed(line):
        if c != "\\":
            break
        n += 1
    return n % 2 == 1


def _unescape(s: str, path: str, line: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 >= len(s):
            out.append(c)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt == "u":
            hexpart = s[i + 2 : i + 6]
            if len(hexpart) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hexpart):
                raise InputError(path, line, f"malformed \\u escape {s[i : i + 6]!r}")
            out.append(chr(int(hexpart, 16)))
            i += 6
            continue
        out.append(_ESCAPES.get(nxt, nxt))
        i += 2
    return "".join(out)


def parse_properties(text: str, path: str) -> list[Prop]:
    """Properties in file order (a later duplicate wins when turned into a dict)."""
    out: list[Prop] = []
    for lineno, line in _logical_lines(text):
        i = 0
        key_end = None
        while i < len(line):
            c = line[i]
            if c == "\\":
                i += 2
                continue
            if c in "=: \t\f":
                key_end = i
                break
            i += 1
        if key_end is None:
            key, rest = line, ""
        else:
            key = line[:key_end]
            j = key_end
            while j < len(line) and line[j] in " \t\f":
                j += 1
            if j < len(line) and line[j] in "=:":
                j += 1
                while j < len(line) and line[j] in " \t\f":
                    j += 1
            rest = line[j:]
        out.append(Prop(_unescape(key, path, lineno), _unescape(rest, path, lineno), path, lineno))
    return out


def read_properties_file(path: str) -> list[Prop]:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # java.util.Properties reads ISO-8859-1.
        text = data.decode("latin-1")
    return parse_properties(text, path)


def configuration_props(el, path: str) -> list[Prop]:
    """``<configuration><property><name/><value/></property>...`` (also
    ``<parameters>``, whose ``value`` is optional)."""
    if el is None:
        return []
    out = []
    for p in children(el, "property"):
        name = child_text(p, "name")
        if not name:
            continue
        out.append(
            Prop(name, child_text(p, "value"), path, p.sourceline, child_text(p, "description"))
        )
    return out


def read_config_default(path: str) -> list[Prop]:
    doc = load_file(path)
    return configuration_props(doc.root, path)


def as_dict(props: list[Prop]) -> dict[str, str]:
    return {p.name: p.value for p in props if p.value is not None}
