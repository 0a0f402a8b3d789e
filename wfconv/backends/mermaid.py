"""Mermaid flowchart of a workflow.

What a reader needs to see: groups as (nested) subgraphs, branch tasks as
diamonds with each outgoing edge labelled by its case (Oozie decision
predicate, ``default``, or ``branch`` for an Airflow callable), non-default
trigger rules under the task name, error edges dashed. Output is
deterministic: node ids follow task order (``n0``, ``n1`` ...), subgraph ids
group order, edges edge order.
"""

from __future__ import annotations

from wfconv.ir.model import Task, Workflow

# Node shapes by action kind: (open, close).
_SHAPES = {
    "branch": ("{", "}"),
    "sensor": ("([", "])"),
    "fail": ("[[", "]]"),
    "subworkflow": ("[[", "]]"),
    "external": ("[(", ")]"),
    "empty": ("(", ")"),
}

# Characters that break a quoted Mermaid label, as Mermaid entity codes.
_ENTITIES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "`": "#96;", "|": "#124;"}


def _label(text: str) -> str:
    """Mermaid label text inside double quotes: entity-escape what breaks it;
    line breaks and other control characters become spaces."""
    out = []
    for ch in str(text):
        if ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        elif ch in "\r\n" or not ch.isprintable():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def edge_labels(w: Workflow) -> dict[tuple[str, str], str]:
    """Labels of the edges leaving branch tasks: the case predicate that
    selects the target (Oozie decision), ``default``, ``if true``
    (short-circuit) or ``branch`` (an Airflow callable chooses)."""
    out: dict[tuple[str, str], str] = {}
    for t in w.tasks:
        if t.action.kind != "branch":
            continue
        f = t.action.fields
        cases = f.get("cases") or []
        for dst in w.downstream(t.id):
            label = None
            for c in cases:
                if isinstance(c, dict) and c.get("to") == dst:
                    label = str(c.get("when") or c.get("expr") or "case")
                    break
            if label is None and f.get("default") == dst:
                label = "default"
            if label is None:
                label = "if true" if f.get("short_circuit") else "branch"
            out[(t.id, dst)] = label
    return out


def _short(t: Task) -> str:
    if t.group and t.id.startswith(t.group + "."):
        return t.id[len(t.group) + 1 :]
    return t.id


def render(w: Workflow) -> str:
    node = {t.id: f"n{i}" for i, t in enumerate(w.tasks)}
    lines = [f"%% workflow: {_label(w.id)}", "flowchart LR"]

    def node_line(t: Task, indent: str) -> str:
        o, c = _SHAPES.get(t.action.kind, ("[", "]"))
        label = _label(_short(t))
        if t.role is not None:
            label += "<br/><b>" + _label(t.role) + "</b>"
        if t.trigger_rule != "all_success":
            label += "<br/><i>" + _label(t.trigger_rule) + "</i>"
        return f'{indent}{node[t.id]}{o}"{label}"{c}'

    known = {g.id for g in w.groups}
    children: dict[str | None, list[str]] = {}
    for g in w.groups:
        parent = g.parent if g.parent in known and g.parent != g.id else None
        children.setdefault(parent, []).append(g.id)
    gids = {g.id: f"g{i}" for i, g in enumerate(w.groups)}
    glabel = {g.id: (g.label or g.id.rsplit(".", 1)[-1]) for g in w.groups}
    done: set[str] = set()

    def emit_group(gid: str | None, depth: int) -> None:
        indent = "    " * depth
        for t in w.tasks:
            if t.group == gid or (gid is None and t.group not in known):
                lines.append(node_line(t, indent))
        for child in children.get(gid, []):
            if child in done:  # a parent cycle in bad input: draw each group once
                continue
            done.add(child)
            lines.append(f'{indent}subgraph {gids[child]}["{_label(glabel[child])}"]')
            emit_group(child, depth + 1)
            lines.append(f"{indent}end")

    emit_group(None, 1)
    labels = edge_labels(w)
    for e in w.edges:
        if e.src not in node or e.dst not in node:
            continue
        if e.kind == "error":
            arrow = "-. error .->"
        elif (e.src, e.dst) in labels:
            arrow = f'-->|"{_label(labels[(e.src, e.dst)])}"|'
        else:
            arrow = "-->"
        lines.append(f"    {node[e.src]} {arrow} {node[e.dst]}")
    return "\n".join(lines) + "\n"
