"""The series-parallel decomposition as ``wfconv.backends.seriesparallel``
computed it before it was made linear per level (global reachability
bitsets, quadratic in the DAG's size): the reference its results are
checked against (``tests/test_seriesparallel.py``)."""

from __future__ import annotations

import heapq
import itertools

from wfconv.backends.seriesparallel import Decomposition, Leaf, Loss, Node, Parallel, Series, _flat


def _closure(order: list[str], succ: dict[str, list[str]], rank: dict[str, int]) -> dict[str, int]:
    """Bitset of the nodes reachable from each node (itself excluded): bit
    ``rank[n]`` is node ``n``."""
    reach: dict[str, int] = {}
    for n in reversed(order):
        r = 0
        for s in succ[n]:
            r |= (1 << rank[s]) | reach[s]
        reach[n] = r
    return reach


def _topo(nodes: list[str], succ: dict[str, list[str]], rank: dict[str, int]) -> list[str]:
    """Kahn's algorithm, the earliest-declared ready node first."""
    members = set(nodes)
    indeg = dict.fromkeys(nodes, 0)
    for n in nodes:
        for s in succ[n]:
            if s in members:
                indeg[s] += 1
    ready = [(rank[n], n) for n in nodes if indeg[n] == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, n = heapq.heappop(ready)
        out.append(n)
        for s in succ[n]:
            if s in members:
                indeg[s] -= 1
                if indeg[s] == 0:
                    heapq.heappush(ready, (rank[s], s))
    if len(out) != len(nodes):
        raise ValueError("graph has a cycle")
    return out


def decompose(nodes: list[str], edges: list[tuple[str, str]]) -> Decomposition:
    """The series-parallel tree of the DAG ``(nodes, edges)``.

    ``nodes`` order is the tie-break order (document order). Edges naming
    unknown nodes are ignored; a cycle raises ``ValueError``.
    """
    rank = {n: i for i, n in enumerate(nodes)}
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    pred: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in dict.fromkeys(edges):
        if a in rank and b in rank and a != b:
            succ[a].append(b)
            pred[b].append(a)
    for n in nodes:
        succ[n].sort(key=rank.__getitem__)
        pred[n].sort(key=rank.__getitem__)
    # A node's bit is 1 << rank[n], made when needed: a table of them would
    # hold n²/16 bytes (150 MB for 50,000 nodes).
    order = _topo(list(nodes), succ, rank)
    reach = _closure(order, succ, rank)
    losses: list[Loss] = []

    def components(subset: list[str]) -> list[list[str]]:
        members = set(subset)
        seen: set[str] = set()
        comps: list[list[str]] = []
        for start in subset:
            if start in seen:
                continue
            stack, comp = [start], []
            seen.add(start)
            while stack:
                n = stack.pop()
                comp.append(n)
                for m in succ[n] + pred[n]:
                    if m in members and m not in seen:
                        seen.add(m)
                        stack.append(m)
            comps.append(sorted(comp, key=rank.__getitem__))
        return comps

    def build(subset: list[str]) -> Node:
        if len(subset) == 1:
            return Leaf(subset[0])
        comps = components(subset)
        if len(comps) > 1:
            return _flat(Parallel([build(c) for c in comps]))
        topo = _topo(subset, succ, rank)
        q_mask_total = 0
        for n in topo:
            q_mask_total |= 1 << rank[n]
        # Every exact cut at once (each node before it reaches each node
        # after it: the running intersection of reach covers what is left),
        # so a chain is one Series, not one split per node (quadratic).
        cuts, common, p_mask = [], -1, 0
        for k in range(1, len(topo)):
            p_mask |= 1 << rank[topo[k - 1]]
            common &= reach[topo[k - 1]]
            if not (q_mask_total & ~p_mask & ~common):
                cuts.append(k)
        if cuts:
            bounds = [0, *cuts, len(topo)]
            parts = [topo[i:j] for i, j in itertools.pairwise(bounds)]
            return _flat(Series([build(sorted(p, key=rank.__getitem__)) for p in parts]))
        # No exact cut: scan prefixes, cost(k) = pairs (a in P, b in Q) with b
        # not reachable from a, and take the cheapest.
        best_k, best_cost = 1, None
        p_mask = 0
        for k in range(1, len(topo)):
            p_mask |= 1 << rank[topo[k - 1]]
            q_mask = q_mask_total & ~p_mask
            cost = 0
            for a in topo[:k]:
                cost += (q_mask & ~reach[a]).bit_count()
                if best_cost is not None and cost >= best_cost:
                    break
            if best_cost is None or cost < best_cost:
                best_k, best_cost = k, cost
                if cost == 0:
                    break
        before, after = topo[:best_k], topo[best_k:]
        if best_cost:
            pairs = [(a, b) for a in before for b in after if not (reach[a] >> rank[b]) & 1]
            losses.append(
                Loss(
                    sorted(before, key=rank.__getitem__),
                    sorted(after, key=rank.__getitem__),
                    pairs,
                )
            )
        return _flat(
            Series(
                [
                    build(sorted(before, key=rank.__getitem__)),
                    build(sorted(after, key=rank.__getitem__)),
                ]
            )
        )

    tree = build(list(nodes)) if nodes else None
    return Decomposition(tree, losses)
