"""Routing tasks: IR tasks a frontend invented to model another engine's
transitions (the Oozie frontend marks them ``extra.oozie.synthetic``: an
empty task per error transition, per converging path ...). A backend whose
target has transitions of its own, or no need for them, turns them back into
plain edges so that they do not become real tasks in the output.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from wfconv.ir.model import Edge, Workflow

_ERROR_RULES = ("one_failed", "all_failed")


@dataclass
class Dissolved:
    workflow: Workflow
    # routing task -> the tasks it led to (a decision case may name it)
    redirects: dict[str, list[str]] = field(default_factory=dict)
    # tasks whose error transition led nowhere (Oozie: error -> end)
    error_to_end: set[str] = field(default_factory=set)


def is_routing(task) -> bool:
    return task.action.kind == "empty" and bool((task.extra.get("oozie") or {}).get("synthetic"))


def dissolve_routing(w: Workflow) -> Dissolved:
    """Predecessors are wired to successors (an error route gives an error
    edge, which wins over an ok route between the same tasks); a route into
    nothing records an error transition to the end. ``w`` is not changed."""
    routing = [t.id for t in w.tasks if is_routing(t)]
    if not routing:
        return Dissolved(w)
    out = copy.deepcopy(w)
    result = Dissolved(out)
    rule = {t.id: t.trigger_rule for t in out.tasks}
    for sid in routing:
        ins = [e for e in out.edges if e.dst == sid]
        outs = [e for e in out.edges if e.src == sid]
        result.redirects[sid] = [e.dst for e in outs]
        out.edges = [e for e in out.edges if sid not in (e.src, e.dst)]
        out.tasks = [t for t in out.tasks if t.id != sid]
        routes_error = rule[sid] in _ERROR_RULES
        for e_in in ins:
            kind = "error" if routes_error or e_in.kind == "error" else "control"
            if not outs and kind == "error":
                result.error_to_end.add(e_in.src)
            for e_out in outs:
                existing = next(
                    (x for x in out.edges if (x.src, x.dst) == (e_in.src, e_out.dst)), None
                )
                if existing is None:
                    out.edges.append(Edge(e_in.src, e_out.dst, kind))
                elif kind == "error":
                    existing.kind = "error"
    return result


def control_names(w: Workflow) -> dict[str, tuple[str, frozenset[str]]]:
    """Fork/join names routing tasks were named after (``extra.oozie.join`` /
    ``fork``, set by the Oozie frontend) -> (kind, the real tasks right after
    that node: a join's successor, a fork's path starts). An Oozie backend that
    recreates such a node can give it the same name, so that the same routing
    task ids come back when its output is read again."""
    routing = {t.id for t in w.tasks if is_routing(t)}
    succ: dict[str, list[str]] = {}
    for e in w.edges:
        succ.setdefault(e.src, []).append(e.dst)

    def real_after(tid: str) -> set[str]:
        out: set[str] = set()
        seen = {tid}
        todo = list(succ.get(tid, ()))
        while todo:
            n = todo.pop()
            if n in seen:
                continue
            seen.add(n)
            if n in routing:
                todo.extend(succ.get(n, ()))
            else:
                out.add(n)
        return out

    found: dict[str, tuple[str, set[str]]] = {}
    for t in w.tasks:
        if t.id not in routing:
            continue
        oz = t.extra.get("oozie") or {}
        for kind in ("join", "fork"):
            name = oz.get(kind)
            if isinstance(name, str) and name:
                entry = found.setdefault(name, (kind, set()))
                if entry[0] == kind:
                    entry[1].update(real_after(t.id))
    return {k: (kind, frozenset(after)) for k, (kind, after) in found.items() if after}
