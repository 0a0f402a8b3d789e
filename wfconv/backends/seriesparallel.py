"""Turn an arbitrary DAG into a series-parallel tree (for Oozie fork/join).

Oozie only accepts properly nested fork/join pairs, i.e. a graph built from
series and parallel composition. Any DAG can be forced into that shape by
adding orderings; this module adds as few as it can and reports every
ordering it adds that the DAG did not already imply (lost parallelism).

Algorithm (deterministic, recursive on node sets):
- one node: a ``Leaf``;
- several weakly connected components: ``Parallel`` of their trees (exact,
  no edge crosses components);
- one component: a ``Series`` cut ``P | Q`` (every node of P before every
  node of Q). A cut is exact when every node of P reaches every node of Q;
  exact cuts are prefixes of any topological order, so the prefixes of one
  order (document order breaking ties) are the candidates. When no prefix is
  exact the one adding the fewest new orderings wins (earliest on ties) and
  the added pairs are recorded as ``Loss`` entries.

Every node set the recursion meets is convex (a path between two of its
nodes stays inside it), so each step looks only at the edges inside its set.
Exact cuts need no reachability: with P a prefix of a topological order, P
reaches all of Q exactly when every sink of P has an edge to every source of
Q (any node of P reaches a sink of P, any node of Q is reached from a source
of Q, and a path from a sink of P enters Q at a source of Q). Those sinks,
sources and the edges between them are kept up to date as the prefix grows,
so one step costs its set's nodes and edges (plus a sort): a 50,000-task
workflow made of chains is decomposed in well under a second. Only a set
with no exact cut computes reachability (Python ``int`` bitsets over that
set) to price the orderings each prefix would add.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field


@dataclass
class Leaf:
    node: str


@dataclass
class Series:
    children: list[Node]


@dataclass
class Parallel:
    children: list[Node]


Node = Leaf | Series | Parallel


@dataclass
class Loss:
    """Orderings the series-parallel shape adds: each ``after`` node now waits
    for each ``before`` node it did not wait for in the DAG."""

    before: list[str]
    after: list[str]
    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Decomposition:
    tree: Node | None
    losses: list[Loss]


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


def _exact_cuts(
    topo: list[str], succ: dict[str, list[str]], pred: dict[str, list[str]]
) -> list[int]:
    """Every ``k`` where ``topo[:k]`` reaches every node of ``topo[k:]``
    (``succ``/``pred`` hold only edges inside ``topo``'s nodes): every sink
    of the prefix has an edge to every source of the rest."""
    waiting = {n: len(pred[n]) for n in topo}  # predecessors still in Q
    in_p: dict[str, int] = {}  # node of P -> its successors in P
    sources = {n for n in topo if not waiting[n]}
    sinks: set[str] = set()
    links = 0  # edges from a sink of P to a source of Q
    cuts = []
    for k in range(1, len(topo)):
        v = topo[k - 1]  # every predecessor of v is in P: v is a source of Q
        sources.discard(v)
        for p in pred[v]:
            if p in sinks:
                links -= 1
            in_p[p] += 1
            if in_p[p] == 1:  # p has a successor in P now: no longer a sink
                sinks.discard(p)
                links -= len(sources.intersection(succ[p]))
        in_p[v] = 0
        sinks.add(v)
        links += len(sources.intersection(succ[v]))
        for q in succ[v]:
            waiting[q] -= 1
            if not waiting[q]:
                sources.add(q)
                links += len(sinks.intersection(pred[q]))
        if links == len(sinks) * len(sources):
            cuts.append(k)
    return cuts


def _cheapest_cut(
    topo: list[str], succ: dict[str, list[str]]
) -> tuple[int, int, list[tuple[str, str]]]:
    """The prefix ``topo[:k]`` adding the fewest orderings (the earliest on
    ties): ``(k, cost, the pairs (a, b) with b not reachable from a)``.
    Reachability as bitsets over ``topo``'s positions (``succ`` holds only
    edges inside ``topo``'s nodes)."""
    pos = {n: i for i, n in enumerate(topo)}
    reach: dict[str, int] = {}
    for n in reversed(topo):
        r = 0
        for s in succ[n]:
            r |= (1 << pos[s]) | reach[s]
        reach[n] = r
    everything = (1 << len(topo)) - 1
    best_k, best_cost = 1, None
    for k in range(1, len(topo)):
        q_mask = everything & ~((1 << k) - 1)
        cost = 0
        for a in topo[:k]:
            cost += (q_mask & ~reach[a]).bit_count()
            if best_cost is not None and cost >= best_cost:
                break
        if best_cost is None or cost < best_cost:
            best_k, best_cost = k, cost
            if cost == 0:
                break
    pairs = []
    if best_cost:
        pairs = [
            (a, b) for a in topo[:best_k] for b in topo[best_k:] if not (reach[a] >> pos[b]) & 1
        ]
    return best_k, best_cost or 0, pairs


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
    losses: list[Loss] = []

    def by_rank(subset: list[str]) -> list[str]:
        return sorted(subset, key=rank.__getitem__)

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
            comps.append(by_rank(comp))
        return comps

    def build(subset: list[str]) -> Node:
        if len(subset) == 1:
            return Leaf(subset[0])
        comps = components(subset)
        if len(comps) > 1:
            return _flat(Parallel([build(c) for c in comps]))
        topo = _topo(subset, succ, rank)
        members = set(subset)
        inner_succ = {n: [s for s in succ[n] if s in members] for n in topo}
        inner_pred = {n: [p for p in pred[n] if p in members] for n in topo}
        # Every exact cut at once, so a chain is one Series, not one split per
        # node (quadratic).
        cuts = _exact_cuts(topo, inner_succ, inner_pred)
        if cuts:
            bounds = [0, *cuts, len(topo)]
            parts = [topo[i:j] for i, j in itertools.pairwise(bounds)]
            return _flat(Series([build(by_rank(p)) for p in parts]))
        k, cost, pairs = _cheapest_cut(topo, inner_succ)
        before, after = by_rank(topo[:k]), by_rank(topo[k:])
        if cost:
            losses.append(Loss(before, after, pairs))
        return _flat(Series([build(before), build(after)]))

    tree = build(list(nodes)) if nodes else None
    return Decomposition(tree, losses)


def _flat(node: Node) -> Node:
    """Series in Series and Parallel in Parallel merge into their parent."""
    if isinstance(node, Leaf):
        return node
    kids: list[Node] = []
    for c in node.children:
        if type(c) is type(node):
            kids.extend(c.children)
        else:
            kids.append(c)
    return type(node)(kids)


def leaves(node: Node | None) -> list[str]:
    """Node names of a tree in document (left-to-right) order."""
    if node is None:
        return []
    if isinstance(node, Leaf):
        return [node.node]
    out: list[str] = []
    for c in node.children:
        out.extend(leaves(c))
    return out


def implied_edges(node: Node | None) -> set[tuple[str, str]]:
    """Every ordering (a before b) the tree imposes (transitively closed)."""
    out: set[tuple[str, str]] = set()
    if node is None or isinstance(node, Leaf):
        return out
    for c in node.children:
        out |= implied_edges(c)
    if isinstance(node, Series):
        for i, c in enumerate(node.children):
            for d in node.children[i + 1 :]:
                out |= {(a, b) for a in leaves(c) for b in leaves(d)}
    return out
