"""Graph validation with networkx.

Problems become error diagnostics on the workflow (codes IR0xx) rather than
exceptions: ``wfconv parse`` still shows a cyclic workflow so that it can be
inspected, while commands that need a valid graph call ``require_valid``.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from wfconv.errors import InputError
from wfconv.ir.model import ACTION_KINDS, TRIGGER_RULES, Bundle, Diagnostic, Workflow

# Stable codes (documented in README "Diagnostic codes").
DUPLICATE_TASK = "IR001"
UNKNOWN_EDGE_END = "IR002"
UNKNOWN_TRIGGER_RULE = "IR003"
CYCLE = "IR004"
UNKNOWN_GROUP = "IR005"
DUPLICATE_WORKFLOW = "IR006"
UNKNOWN_ACTION = "IR007"
SELF_LOOP = "IR004"

VALIDATION_CODES = {DUPLICATE_TASK, UNKNOWN_EDGE_END, UNKNOWN_TRIGGER_RULE, CYCLE, UNKNOWN_GROUP}


def build_graph(w: Workflow) -> nx.DiGraph:
    """The task graph: nodes in task order, edges in edge order (known tasks only)."""
    g = nx.DiGraph()
    ids = set()
    for t in w.tasks:
        g.add_node(t.id)
        ids.add(t.id)
    for e in w.edges:
        if e.src in ids and e.dst in ids:
            g.add_edge(e.src, e.dst)
    return g


def _acyclic(w: Workflow) -> bool:
    """Linear check (Kahn's algorithm over known tasks) that the graph has no
    cycle. Almost every workflow is acyclic: networkx is only needed to
    explain a bad graph, and building its DiGraph cost a tenth of a parse."""
    ids = {t.id for t in w.tasks}
    indeg = dict.fromkeys(ids, 0)
    succ: dict[str, list[str]] = {}
    for e in w.edges:
        src, dst = e.src, e.dst
        if src in ids and dst in ids:
            if src == dst:
                return False
            succ.setdefault(src, []).append(dst)
            indeg[dst] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for m in succ.get(n, ()):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return seen == len(ids)


def find_cycles(w: Workflow) -> list[list[str]]:
    """One cycle per strongly connected component, as a closed path
    (first node repeated at the end), starting at the component's earliest
    task in document order. Deterministic."""
    if _acyclic(w):
        return []
    g = build_graph(w)
    order = {tid: i for i, tid in enumerate(w.task_ids())}
    cycles: list[list[str]] = []
    for comp in nx.strongly_connected_components(g):
        if len(comp) == 1:
            (n,) = comp
            if g.has_edge(n, n):
                cycles.append([n, n])
            continue
        start = min(comp, key=lambda n: order.get(n, 0))
        sub = g.subgraph(comp)
        # Shortest cycle through `start`: BFS back to it.
        best: list[str] | None = None
        for succ in sorted(sub.successors(start), key=lambda n: order.get(n, 0)):
            try:
                p = nx.shortest_path(sub, succ, start)
            except nx.NetworkXNoPath:
                continue
            cand = [start, *p]
            if best is None or len(cand) < len(best):
                best = cand
        if best:
            cycles.append(best)
    cycles.sort(key=lambda c: order.get(c[0], 0))
    return cycles


def _first_line(w: Workflow, task_id: str) -> int | None:
    for t in w.tasks:
        if t.id == task_id and t.source is not None:
            return t.source.line
    return None


def validate_workflow(w: Workflow) -> list[Diagnostic]:
    """Return the validation diagnostics of one workflow (does not attach them)."""
    path = w.source.path if w.source else None
    out: list[Diagnostic] = []

    counts = Counter(w.task_ids())
    seen: set[str] = set()
    for t in w.tasks:
        if counts[t.id] > 1 and t.id not in seen:
            seen.add(t.id)
            out.append(
                Diagnostic(
                    "error",
                    DUPLICATE_TASK,
                    f"duplicate task id {t.id!r} ({counts[t.id]} tasks share it)",
                    path,
                    t.source.line if t.source else None,
                )
            )
        if t.trigger_rule not in TRIGGER_RULES:
            out.append(
                Diagnostic(
                    "error",
                    UNKNOWN_TRIGGER_RULE,
                    f"task {t.id!r}: unknown trigger rule {t.trigger_rule!r}",
                    path,
                    t.source.line if t.source else None,
                )
            )
        if t.action.kind not in ACTION_KINDS:
            out.append(
                Diagnostic(
                    "error",
                    UNKNOWN_ACTION,
                    f"task {t.id!r}: unknown action kind {t.action.kind!r}",
                    path,
                    t.source.line if t.source else None,
                )
            )

    ids = set(counts)
    group_ids = {g.id for g in w.groups}
    for t in w.tasks:
        if t.group is not None and t.group not in group_ids:
            out.append(
                Diagnostic(
                    "error",
                    UNKNOWN_GROUP,
                    f"task {t.id!r} names unknown group {t.group!r}",
                    path,
                    t.source.line if t.source else None,
                )
            )
    for e in w.edges:
        if e.src in ids and e.dst in ids:
            continue
        for end in (e.src, e.dst):
            if end not in ids:
                other = e.dst if end == e.src else e.src
                out.append(
                    Diagnostic(
                        "error",
                        UNKNOWN_EDGE_END,
                        f"dependency {e.src!r} -> {e.dst!r} names unknown task {end!r}",
                        path,
                        _first_line(w, other),
                    )
                )

    for cyc in find_cycles(w):
        out.append(
            Diagnostic(
                "error",
                CYCLE,
                "cycle: " + " -> ".join(cyc),
                path,
                _first_line(w, cyc[0]),
            )
        )
    return out


_REPLACED_CODES = VALIDATION_CODES | {UNKNOWN_ACTION}


def finalize(w: Workflow) -> Workflow:
    """Attach validation diagnostics (idempotent: earlier IR0xx ones are replaced)."""
    w.diagnostics = [d for d in w.diagnostics if d.code not in _REPLACED_CODES]
    w.diagnostics.extend(validate_workflow(w))
    return w


def validate_bundle(b: Bundle) -> Bundle:
    for w in b.workflows:
        finalize(w)
    return b


def graph_errors(w: Workflow) -> list[Diagnostic]:
    return [d for d in validate_workflow(w) if d.severity == "error"]


def require_valid(b: Bundle) -> None:
    """Refuse a bundle whose graphs are not valid (for convert, run, verify)."""
    for w in b.workflows:
        errs = graph_errors(w)
        if errs:
            d = errs[0]
            raise InputError(d.path, d.line, f"workflow {w.id!r}: {d.message}")
