"""Workflow drawings as inline SVG, laid out by Graphviz.

The one drawer of wfconv: the web UI, the audit HTML report and compare's
HTML report all draw here. The text is the DOT of ``backends/dot.py`` (what
``wfconv graph --format dot`` prints, plus a ``Style``); Graphviz's ``dot``
program lays it out: ranks, crossing reduction and spline edges routed around
the boxes, and a cycle drawn with its back edge reversed, readable. Many
drawings are laid out by one ``dot`` process (a page of 200 graphs costs one
start). ``dot`` runs through ``wfconv.proc`` with a timeout like every child
wfconv starts.

The SVG is made to sit inside an HTML page: no XML prolog, no DOCTYPE, no
comments, and the XLink namespace only where a drawing has links, so a
report stays one self-contained file whose only URL is the SVG namespace. Where Graphviz
is not installed the drawing is replaced by a note saying how to get it and
the DOT text itself.
"""

from __future__ import annotations

import re
import shutil
from html import escape

from wfconv.backends import dot
from wfconv.ir.model import Action, Edge, Task, Workflow

# Graphs with more tasks than this are not laid out (dot's cost grows fast
# and nobody reads such a picture); the page says so.
MAX_TASKS = 400
TIMEOUT_S = 60.0

FONT = {"fontname": "Helvetica,Arial,sans-serif", "fontsize": "11"}
NODE = {**FONT, "style": "rounded,filled", "fillcolor": "#f8f9fa", "color": "#868e96"}
HOT = {"color": "#d00000", "penwidth": "2.5"}
HOT_EDGE = {"color": "#d9480f", "penwidth": "2"}

# Airflow's colours for task states (the grid, the graph and the Gantt chart
# use the same ones: wfconv/ui/static/ui.css).
STATE_COLOURS = {
    "success": "#2fb344",
    "failed": "#e03131",
    "upstream_failed": "#f59f00",
    "up_for_retry": "#fcc419",
    "skipped": "#f783ac",
    "running": "#4dabf7",
    "scheduled": "#a5d8ff",
    "none": "#e9ecef",
}

_PROLOG = re.compile(r"^.*?(?=<svg\b)", re.S)
_XLINK_NS = re.compile(r'\s+xmlns:xlink="[^"]*"')
_COMMENTS = re.compile(r"<!--.*?-->", re.S)


def dot_program() -> str | None:
    return shutil.which("dot")


def style(
    title: str | None = None,
    highlight: set[str] | frozenset[str] = frozenset(),
    hot_edges: set[tuple[str, str]] | frozenset = frozenset(),
    states: dict[str, str] | None = None,
    links: dict[str, str] | None = None,
) -> dot.Style:
    """The drawing's look: highlighted tasks outlined in red, ``states``
    (task id -> Airflow state) as fill colours, ``links`` (task id -> URL)
    making a box clickable."""
    s = dot.Style(
        title=title,
        graph={**FONT, "bgcolor": "transparent", "color": "#adb5bd"},
        node=dict(NODE),
        edge={**FONT, "color": "#495057"},
    )
    ids = set(highlight) | set(states or ()) | set(links or ())
    for tid in ids:
        a: dict[str, str] = {}
        if states and tid in states:
            a["fillcolor"] = STATE_COLOURS.get(states[tid], STATE_COLOURS["none"])
            a["tooltip"] = f"{tid}: {states[tid]}"
        if links and tid in links:
            a["URL"] = links[tid]
            a.setdefault("tooltip", tid)
        if tid in highlight:
            a.update(HOT)
        s.nodes[tid] = a
    for pair in hot_edges:
        s.edges[pair] = dict(HOT_EDGE)
    return s


def draw(items: list[tuple[Workflow, dot.Style | None]]) -> list[str]:
    """Inline SVG for each (workflow, style), laid out by one ``dot`` run."""
    texts = [dot.render(w, st) for w, st in items]
    todo = [i for i, (w, _) in enumerate(items) if len(w.tasks) <= MAX_TASKS]
    out = [
        _note(f"graph not drawn: {len(w.tasks)} tasks (the drawing stops at {MAX_TASKS})")
        for w, _ in items
    ]
    if not todo:
        return out
    program = dot_program()
    if program is None:
        for i in todo:
            out[i] = _note(
                "graph not drawn: Graphviz's <code>dot</code> program is not installed "
                "(Debian/Ubuntu: <code>apt-get install graphviz</code>); its DOT text:",
                texts[i],
            )
        return out
    from wfconv import proc

    src = "".join(texts[i] for i in todo).encode("utf-8")
    res = proc.run([program, "-Tsvg"], input=src, timeout=TIMEOUT_S, memory_mb=2048)
    svgs = res.stdout.decode("utf-8", "replace").split("<?xml")[1:] if res.ok else []
    if len(svgs) != len(todo):
        # One bad graph (or a time-out) must not cost the others their drawing.
        if len(todo) > 1:
            for i, one in zip(todo, draw_each([items[i] for i in todo]), strict=True):
                out[i] = one
            return out
        why = "timed out" if res.timed_out else res.stderr.decode("utf-8", "replace").strip()
        out[todo[0]] = _note(f"graph not drawn: Graphviz failed ({escape(why[:300])})", texts[0])
        return out
    for i, text in zip(todo, svgs, strict=True):
        out[i] = clean(text)
    return out


def draw_each(items: list[tuple[Workflow, dot.Style | None]]) -> list[str]:
    return [draw([item])[0] for item in items]


def clean(svg: str) -> str:
    """Graphviz's SVG document as an element to inline in HTML."""
    svg = _PROLOG.sub("", svg, count=1)
    svg = _COMMENTS.sub("", svg)
    head, sep, rest = svg.partition(">")
    if "xlink:" not in rest:
        head = _XLINK_NS.sub("", head)
    return head + sep + rest.strip() + "\n"


def _note(message_html: str, dot_text: str | None = None) -> str:
    pre = f"<pre>{escape(dot_text)}</pre>" if dot_text else ""
    return f'<div class="graph-note"><p>{message_html}</p>{pre}</div>'


def render(
    w: Workflow, highlight: set[str] | frozenset = frozenset(), title: str | None = None
) -> str:
    """One workflow as inline SVG, ``highlight`` tasks outlined in red."""
    return draw([(w, style(title or w.id, highlight))])[0]


def plain_workflow(name: str, nodes: list[str], links: list[tuple[int, int]]) -> Workflow:
    """A workflow of bare task names and edges (what the audit keeps of a
    graph) to draw: boxes and arrows, nothing else."""
    return Workflow(
        id=name,
        tasks=[Task(n, Action("opaque")) for n in nodes],
        edges=[Edge(nodes[a], nodes[b]) for a, b in links],
    )
