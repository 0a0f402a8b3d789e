"""A workflow graph as inline SVG, for self-contained HTML reports (no
JavaScript, no CDN). Layout: layers by longest path from the roots, tasks in
document order within a layer. Highlighted tasks get a red outline."""

from __future__ import annotations

from html import escape

import networkx as nx

from wfconv.ir.model import Workflow

_W, _H, _GAP_X, _GAP_Y, _PAD = 150, 34, 50, 14, 10

_FILL = {
    "branch": "#fff4d6",
    "sensor": "#e6f2ff",
    "fail": "#ffe0e0",
    "empty": "#f2f2f2",
    "subworkflow": "#efe6ff",
}


def layers(w: Workflow) -> dict[str, int]:
    """Longest-path layer of each task (cycles broken by document order)."""
    g = nx.DiGraph()
    g.add_nodes_from(w.task_ids())
    order = {t: i for i, t in enumerate(w.task_ids())}
    for e in w.edges:
        if e.src in order and e.dst in order and order[e.src] != order[e.dst]:
            g.add_edge(e.src, e.dst)
    if not nx.is_directed_acyclic_graph(g):
        g = nx.DiGraph([(a, b) for a, b in g.edges if order[a] < order[b]])
        g.add_nodes_from(order)
    layer: dict[str, int] = {}
    for n in nx.topological_sort(g):
        preds = [layer[p] for p in g.predecessors(n)]
        layer[n] = max(preds) + 1 if preds else 0
    return layer


def _short(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def render(
    w: Workflow, highlight: set[str] | frozenset = frozenset(), title: str | None = None
) -> str:
    layer = layers(w)
    cols: dict[int, list[str]] = {}
    for t in w.task_ids():
        cols.setdefault(layer.get(t, 0), []).append(t)
    pos: dict[str, tuple[int, int]] = {}
    for c, ids in cols.items():
        for r, t in enumerate(ids):
            pos[t] = (_PAD + c * (_W + _GAP_X), _PAD + 24 + r * (_H + _GAP_Y))
    width = _PAD * 2 + (max(cols) + 1 if cols else 1) * (_W + _GAP_X)
    height = _PAD * 2 + 24 + (max((len(v) for v in cols.values()), default=1)) * (_H + _GAP_Y)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or w.id)}">',
        '<defs><marker id="arr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        f'<text x="{_PAD}" y="{_PAD + 12}" font-family="sans-serif" font-size="13" '
        f'font-weight="bold">{escape(title or w.id)}</text>',
    ]
    for e in w.edges:
        if e.src not in pos or e.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        dash = ' stroke-dasharray="5,3" stroke="#c33"' if e.kind == "error" else ' stroke="#555"'
        out.append(
            f'<line x1="{x1 + _W}" y1="{y1 + _H // 2}" x2="{x2}" y2="{y2 + _H // 2}"'
            f'{dash} stroke-width="1.2" marker-end="url(#arr)"/>'
        )
    for t in w.tasks:
        if t.id not in pos:
            continue
        x, y = pos[t.id]
        hot = t.id in highlight
        stroke = ' stroke="#d00" stroke-width="3"' if hot else ' stroke="#333" stroke-width="1"'
        fill = _FILL.get(t.action.kind, "#ffffff")
        label = _short(t.id)
        rule = "" if t.trigger_rule == "all_success" else _short(t.trigger_rule, 24)
        out.append(
            f"<g><title>{escape(t.id)} ({escape(t.action.kind)}, {escape(t.trigger_rule)}"
            + (f", {escape(t.role)}" if t.role else "")
            + ")</title>"
        )
        out.append(
            f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="5" fill="{fill}"{stroke}/>'
        )
        ty = y + (14 if rule else 21)
        out.append(
            f'<text x="{x + 6}" y="{ty}" font-family="monospace" font-size="11">{escape(label)}</text>'
        )
        if rule:
            out.append(
                f'<text x="{x + 6}" y="{y + 28}" font-family="sans-serif" font-size="9" '
                f'fill="#666">{escape(rule)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
