"""Audit-only facts read from Oozie XML: nodes no transition reaches (AU005).

The Oozie frontend dissolves ``start``/``fork``/``join`` into edges, so an
unreachable node is indistinguishable from a root task in the IR. Reading the
transitions again through the frontend's safe reader (``oozie.xml``) is cheap
and exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree


@dataclass
class Unreachable:
    name: str
    tag: str
    line: int | None


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _targets(node) -> list[str]:
    """Where a node can go: ok/error (actions), case/default (decisions),
    path/@start (forks), @to (joins)."""
    out: list[str] = []
    if _local(node.tag) == "join" and node.get("to"):
        out.append(node.get("to"))
    for el in node.iterdescendants():
        name = _local(el.tag)
        if name in ("ok", "error", "case", "default") and el.get("to"):
            out.append(el.get("to"))
        elif name == "path" and el.get("start"):
            out.append(el.get("start"))
    return out


def workflow_xml_files(path: Path) -> list[Path]:
    if path.is_dir():
        p = path / "workflow.xml"
        return [p] if p.is_file() else []
    return [path]


def unreachable_nodes(xml_path: Path) -> list[Unreachable]:
    """Nodes of a workflow-app that the transitions from ``start`` never reach
    ([] for anything that is not a readable workflow-app)."""
    from wfconv.errors import InputError
    from wfconv.frontends.oozie.xml import load_file

    try:  # the frontend's one safe door (encodings, DOCTYPE and entity refusal)
        root = load_file(str(xml_path)).root
    except InputError:
        return []
    if _local(root.tag) != "workflow-app":
        return []
    nodes = {}
    start = None
    for child in root:
        if not isinstance(child.tag, str):
            continue
        tag = _local(child.tag)
        if tag == "start":
            start = child.get("to")
        elif child.get("name") and tag in ("action", "decision", "fork", "join", "kill", "end"):
            nodes[child.get("name")] = child
    if start is None:
        return []
    seen: set[str] = set()
    todo = [start]
    while todo:
        n = todo.pop()
        if n in seen or n not in nodes:
            continue
        seen.add(n)
        todo.extend(_targets(nodes[n]))
    return [
        Unreachable(name, _local(el.tag), el.sourceline)
        for name, el in nodes.items()
        if name not in seen
    ]
