"""The series-parallel decomposition (``wfconv.backends.seriesparallel``)
gives exactly the tree and the losses of the quadratic reference it replaced
(``tests/seriesparallel_reference.py``), on random DAGs of every shape."""

from __future__ import annotations

import itertools
import random

import pytest
import seriesparallel_reference as reference
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backend_oozie import reach

from wfconv.backends.seriesparallel import Leaf, Parallel, Series, decompose, implied_edges


@st.composite
def dags(draw):
    """A DAG whose document order is not its topological order: edges go
    from a lower to a higher position of a hidden order, nodes are listed
    in another order; some edges repeat, some are self-loops or name an
    unknown node (both ignored)."""
    n = draw(st.integers(0, 11))
    hidden = draw(st.permutations(list(range(n))))
    density = draw(st.sampled_from([0.1, 0.25, 0.5, 0.8]))
    rnd = random.Random(draw(st.integers(0, 2**32)))
    edges = [
        (f"n{hidden[i]}", f"n{hidden[j]}")
        for i in range(n)
        for j in range(i + 1, n)
        if rnd.random() < density
    ]
    if edges and draw(st.booleans()):
        edges += [edges[0], ("n0", "n0"), ("n0", "ghost")]
    rnd.shuffle(edges)
    return [f"n{i}" for i in range(n)], edges


@settings(max_examples=1500, deadline=None)
@given(dags())
def test_same_tree_and_losses_as_the_reference(dag):
    nodes, edges = dag
    assert decompose(nodes, edges) == reference.decompose(nodes, edges)


def _series_parallel(rnd: random.Random, names: list[str]) -> list[tuple[str, str]]:
    """Edges of a random series-parallel composition over ``names`` (each
    a Leaf), with some transitive edges added."""
    blocks = [([n], [n], []) for n in names]  # (sources, sinks, edges)
    while len(blocks) > 1:
        i = rnd.randrange(len(blocks) - 1)
        (s1, t1, e1), (s2, t2, e2) = blocks[i], blocks[i + 1]
        if rnd.random() < 0.5:
            joined = (s1, t2, e1 + e2 + [(a, b) for a in t1 for b in s2])
        else:
            joined = (s1 + s2, t1 + t2, e1 + e2)
        blocks[i : i + 2] = [joined]
    edges = blocks[0][2] if blocks else []
    # a few transitive edges: implied already, they change nothing
    closure = sorted(reach(names, edges))
    edges += rnd.sample(closure, min(3, len(closure)))
    return edges


@pytest.mark.parametrize("seed", range(40))
def test_series_parallel_graphs_lose_nothing_and_match_the_reference(seed):
    rnd = random.Random(seed)
    names = [f"t{i}" for i in range(rnd.randrange(2, 60))]
    edges = _series_parallel(rnd, names)
    document = names[:]
    rnd.shuffle(document)
    got = decompose(document, edges)
    assert got == reference.decompose(document, edges)
    assert got.losses == []
    assert implied_edges(got.tree) == reach(names, edges)


def test_lanes_between_a_start_and_an_end_are_one_series_of_one_parallel():
    """The shape of bench/bench_large.py: start >> lanes of chains >> end."""
    lanes, length = 7, 5
    chains = [[f"l{i}_{j}" for j in range(length)] for i in range(lanes)]
    nodes = ["start", "end", *(n for c in chains for n in c)]
    edges = [("start", c[0]) for c in chains] + [(c[-1], "end") for c in chains]
    edges += [(a, b) for c in chains for a, b in itertools.pairwise(c)]
    got = decompose(nodes, edges)
    assert got == reference.decompose(nodes, edges)
    assert got.tree == Series(
        [Leaf("start"), Parallel([Series([Leaf(n) for n in c]) for c in chains]), Leaf("end")]
    )


def test_a_cycle_is_refused():
    with pytest.raises(ValueError, match="cycle"):
        decompose(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")])
