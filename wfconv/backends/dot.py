"""Graphviz DOT of a workflow: groups as (nested) clusters, non-default
trigger rules under the task name, branch edges labelled with their case,
error edges dashed red. Deterministic: nodes in task order, clusters in
group order, edges in edge order.

``render(w, style)`` adds what a drawing shows on top (``backends/svg.py``
lays the text out with Graphviz): a title, colours, links, highlighted
tasks and edges; without a style the text is what ``wfconv graph`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from wfconv.backends.mermaid import edge_labels
from wfconv.ir.model import Task, Workflow

_SHAPES = {
    "branch": "diamond",
    "sensor": "ellipse",
    "fail": "octagon",
    "subworkflow": "box3d",
    "external": "cylinder",
    "empty": "oval",
}


def quote(text: str) -> str:
    """A DOT double-quoted string (backslash, quote and line breaks escaped;
    other control characters become spaces)."""
    out = ['"']
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r" or not ch.isprintable():
            out.append(" ")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


@dataclass
class Style:
    """Extra DOT attributes: for the graph (``title``, ``graph``, ``node`` and
    ``edge`` defaults), per task id (``nodes``) and per (src, dst) edge (``edges``)."""

    title: str | None = None
    graph: dict[str, str] = field(default_factory=dict)
    node: dict[str, str] = field(default_factory=dict)
    edge: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


def attrs(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={quote(v)}" for k, v in values.items())


def render(w: Workflow, style: Style | None = None) -> str:
    lines = [f"digraph {quote(w.id)} {{", "    rankdir=LR;", "    node [shape=box];"]
    if style is not None:
        graph = dict(style.graph)
        if style.title is not None:
            graph.update(label=style.title, labelloc="t", labeljust="l")
        if graph:
            lines.append(f"    graph [{attrs(graph)}];")
        if style.node:
            lines.append(f"    node [{attrs(style.node)}];")
        if style.edge:
            lines.append(f"    edge [{attrs(style.edge)}];")
    known = {g.id for g in w.groups}
    children: dict[str | None, list[str]] = {}
    for g in w.groups:
        parent = g.parent if g.parent in known and g.parent != g.id else None
        children.setdefault(parent, []).append(g.id)
    cluster = {g.id: f"cluster_{i}" for i, g in enumerate(w.groups)}
    glabel = {g.id: (g.label or g.id.rsplit(".", 1)[-1]) for g in w.groups}
    done: set[str] = set()

    def node_line(t: Task, indent: str) -> str:
        label = t.id
        if t.role is not None:
            label += f"\n({t.role})"
        if t.trigger_rule != "all_success":
            label += f"\n[{t.trigger_rule}]"
        shape = _SHAPES.get(t.action.kind, "box")
        extra = style.nodes.get(t.id) if style is not None else None
        more = f", {attrs(extra)}" if extra else ""
        return f"{indent}{quote(t.id)} [label={quote(label)}, shape={shape}{more}];"

    def emit(gid: str | None, depth: int) -> None:
        indent = "    " * depth
        for t in w.tasks:
            if t.group == gid or (gid is None and t.group not in known):
                lines.append(node_line(t, indent))
        for child in children.get(gid, []):
            if child in done:
                continue
            done.add(child)
            lines.append(f"{indent}subgraph {cluster[child]} {{")
            lines.append(f"{indent}    label={quote(glabel[child])};")
            emit(child, depth + 1)
            lines.append(f"{indent}}}")

    emit(None, 1)
    ids = set(w.task_ids())
    labels = edge_labels(w)
    for e in w.edges:
        if e.src not in ids or e.dst not in ids:
            continue
        if e.kind == "error":
            edge = ' [style=dashed, color=red, label="error"]'
        elif (e.src, e.dst) in labels:
            edge = f" [style=bold, label={quote(labels[(e.src, e.dst)])}]"
        else:
            edge = ""
        extra = style.edges.get((e.src, e.dst)) if style is not None else None
        if extra:
            edge = f"{edge[:-1]}, {attrs(extra)}]" if edge else f" [{attrs(extra)}]"
        lines.append(f"    {quote(e.src)} -> {quote(e.dst)}{edge};")
    lines.append("}")
    return "\n".join(lines) + "\n"
