"""Graph measures the audit needs, on plain dicts (no networkx in the hot path:
the audit runs them on every workflow of tens of thousands of files).

Width is the size of a maximum antichain (the most tasks that can run at the
same time when nothing else limits them). It is computed exactly with Dilworth's
theorem (width = tasks - maximum matching in the reachability graph) for
workflows up to ``EXACT_WIDTH_LIMIT`` tasks; larger ones get the widest level of
the longest-path layering, which is an antichain and so a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

from wfconv.ir.model import Workflow

EXACT_WIDTH_LIMIT = 400


@dataclass
class TaskGraph:
    ids: list[str]  # unique task ids in document order
    succ: dict[str, list[str]]
    pred: dict[str, list[str]]
    topo: list[str] | None  # None when there is a cycle

    @classmethod
    def of(cls, w: Workflow) -> TaskGraph:
        ids: list[str] = []
        seen: set[str] = set()
        for t in w.tasks:
            if t.id not in seen:
                seen.add(t.id)
                ids.append(t.id)
        succ: dict[str, list[str]] = {i: [] for i in ids}
        pred: dict[str, list[str]] = {i: [] for i in ids}
        pairs: set[tuple[str, str]] = set()
        for e in w.edges:
            if e.src in seen and e.dst in seen and (e.src, e.dst) not in pairs:
                pairs.add((e.src, e.dst))
                succ[e.src].append(e.dst)
                pred[e.dst].append(e.src)
        return cls(ids, succ, pred, _topo(ids, succ, pred))

    @property
    def edge_count(self) -> int:
        return sum(len(v) for v in self.succ.values())


def _topo(ids, succ, pred) -> list[str] | None:
    indeg = {i: len(pred[i]) for i in ids}
    ready = [i for i in ids if indeg[i] == 0]
    out: list[str] = []
    k = 0
    while k < len(ready):
        n = ready[k]
        k += 1
        out.append(n)
        for s in succ[n]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    return out if len(out) == len(ids) else None


def longest_path(g: TaskGraph) -> list[str]:
    """The critical path counted in tasks (no durations are known statically)."""
    if g.topo is None or not g.ids:
        return []
    best: dict[str, int] = {}
    back: dict[str, str | None] = {}
    for n in g.topo:
        b, via = 1, None
        for p in g.pred[n]:
            if best[p] + 1 > b:
                b, via = best[p] + 1, p
        best[n], back[n] = b, via
    end = max(g.topo, key=lambda n: best[n])
    path = [end]
    while back[path[-1]] is not None:
        path.append(back[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


def level_width(g: TaskGraph) -> int:
    if g.topo is None or not g.ids:
        return 0
    level: dict[str, int] = {}
    for n in g.topo:
        level[n] = max((level[p] + 1 for p in g.pred[n]), default=0)
    counts: dict[int, int] = {}
    for v in level.values():
        counts[v] = counts.get(v, 0) + 1
    return max(counts.values())


def exact_width(g: TaskGraph) -> int:
    """Dilworth: max antichain = n - max matching of the bipartite graph
    (u -> v for every v reachable from u). Reachability as int bitsets."""
    assert g.topo is not None
    index = {n: i for i, n in enumerate(g.topo)}
    n = len(g.topo)
    reach = [0] * n
    for node in reversed(g.topo):
        i = index[node]
        r = 0
        for s in g.succ[node]:
            j = index[s]
            r |= reach[j] | (1 << j)
        reach[i] = r
    match_right = [-1] * n
    rows: dict[int, list[int]] = {}

    def row(u: int) -> list[int]:
        # The reachable tasks of u as indexes, built only for the few tasks
        # an augmenting search visits (building all n rows cost more than
        # the whole matching).
        out = rows.get(u)
        if out is None:
            out = []
            r = reach[u]
            while r:
                low = r & -r
                out.append(low.bit_length() - 1)
                r ^= low
            rows[u] = out
        return out

    def augment(u: int, seen: list[bool]) -> bool:
        # Iterative-enough for our sizes: recursion depth <= chain length.
        for v in row(u):
            if not seen[v]:
                seen[v] = True
                if match_right[v] == -1 or augment(match_right[v], seen):
                    match_right[v] = u
                    return True
        return False

    # A greedy matching first (each task to its earliest reachable free
    # task, one bitset operation) leaves Kuhn's augmenting searches only the
    # tasks it could not place: the same maximum (a free task without an
    # augmenting path never gains one), without a search per task.
    matching = 0
    free_right = (1 << n) - 1
    free: list[int] = []
    for u in range(n):
        avail = reach[u] & free_right
        if avail:
            v = (avail & -avail).bit_length() - 1
            match_right[v] = u
            free_right ^= 1 << v
            matching += 1
        elif reach[u]:
            free.append(u)
    for u in free:
        if augment(u, [False] * n):
            matching += 1
    return n - matching


def width(g: TaskGraph) -> tuple[int | None, bool]:
    """(width, exact?)"""
    if g.topo is None:
        return None, False
    if len(g.ids) <= EXACT_WIDTH_LIMIT:
        return exact_width(g), True
    return level_width(g), False
