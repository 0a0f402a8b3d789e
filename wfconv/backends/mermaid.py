"""Mermaid flowchart of a workflow: groups as subgraphs, branch tasks as
diamonds, non-default trigger rules in the node label, error edges dashed."""

from __future__ import annotations

from wfconv.ir.model import Workflow

# Node shapes by action kind: (open, close).
_SHAPES = {
    "branch": ("{", "}"),
    "sensor": ("([", "])"),
    "fail": ("[[", "]]"),
    "subworkflow": ("[[", "]]"),
    "external": ("[(", ")]"),
    "empty": ("(", ")"),
}


def _label(text: str) -> str:
    """Mermaid label text inside double quotes: entity-escape what breaks it."""
    out = []
    for ch in text:
        if ch == '"':
            out.append("#quot;")
        elif ch == "#":
            out.append("#35;")
        elif ch in "<>":
            out.append("#lt;" if ch == "<" else "#gt;")
        elif ch == "\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def render(w: Workflow) -> str:
    node = {t.id: f"n{i}" for i, t in enumerate(w.tasks)}
    lines = [f"%% workflow: {_label(w.id)}", "flowchart LR"]

    def node_line(t, indent):
        o, c = _SHAPES.get(t.action.kind, ("[", "]"))
        short = t.id.rsplit(".", 1)[-1] if t.group and t.id.startswith(t.group + ".") else t.id
        text = short
        if t.trigger_rule != "all_success":
            text += f"\n{t.trigger_rule}"
        label = _label(text) if "\n" not in text else "<br/>".join(_label(x) for x in text.split("\n"))
        return f'{indent}{node[t.id]}{o}"{label}"{c}'

    children: dict[str | None, list[str]] = {}
    for g in w.groups:
        children.setdefault(g.parent, []).append(g.id)
    gids = {g.id: f"g{i}" for i, g in enumerate(w.groups)}
    glabel = {g.id: (g.label or g.id.rsplit(".", 1)[-1]) for g in w.groups}

    def emit_group(gid: str | None, depth: int):
        indent = "    " * depth
        for t in w.tasks:
            if t.group == gid or (gid is None and t.group not in gids):
                lines.append(node_line(t, indent))
        for child in children.get(gid, []):
            lines.append(f'{indent}subgraph {gids[child]}["{_label(glabel[child])}"]')
            emit_group(child, depth + 1)
            lines.append(f"{indent}end")

    emit_group(None, 1)
    for e in w.edges:
        if e.src not in node or e.dst not in node:
            continue
        arrow = "-. error .->" if e.kind == "error" else "-->"
        lines.append(f"    {node[e.src]} {arrow} {node[e.dst]}")
    return "\n".join(lines) + "\n"
