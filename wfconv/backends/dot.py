"""Graphviz DOT of a workflow: groups as clusters, trigger rules as labels."""

from __future__ import annotations

from wfconv.ir.model import Workflow

_SHAPES = {
    "branch": "diamond",
    "sensor": "ellipse",
    "fail": "octagon",
    "subworkflow": "box3d",
    "external": "cylinder",
    "empty": "oval",
}


def quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(w: Workflow) -> str:
    lines = [f"digraph {quote(w.id)} {{", "    rankdir=LR;", "    node [shape=box];"]
    children: dict[str | None, list[str]] = {}
    for g in w.groups:
        children.setdefault(g.parent, []).append(g.id)
    known = {g.id for g in w.groups}
    cluster = {g.id: f"cluster_{i}" for i, g in enumerate(w.groups)}
    glabel = {g.id: (g.label or g.id.rsplit(".", 1)[-1]) for g in w.groups}

    def node_line(t, indent):
        label = t.id
        if t.trigger_rule != "all_success":
            label += f"\n[{t.trigger_rule}]"
        shape = _SHAPES.get(t.action.kind, "box")
        return f"{indent}{quote(t.id)} [label={quote(label)}, shape={shape}];"

    def emit(gid, depth):
        indent = "    " * depth
        for t in w.tasks:
            if t.group == gid or (gid is None and t.group not in known):
                lines.append(node_line(t, indent))
        for child in children.get(gid, []):
            lines.append(f"{indent}subgraph {cluster[child]} {{")
            lines.append(f"{indent}    label={quote(glabel[child])};")
            emit(child, depth + 1)
            lines.append(f"{indent}}}")

    emit(None, 1)
    for e in w.edges:
        attrs = ' [style=dashed, color=red, label="error"]' if e.kind == "error" else ""
        lines.append(f"    {quote(e.src)} -> {quote(e.dst)}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"
