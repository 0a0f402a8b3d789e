"""A workflow compiled for the scheduler loop: integer indices and adjacency
lists, built once per workflow and shared by all its runs (the loop touches
only lists, which keeps simulation near a bare topological walk)."""

from __future__ import annotations

from wfconv.ir.model import Workflow
from wfconv.runtime.rules import RULES


class CompiledWorkflow:
    def __init__(self, w: Workflow):
        self.workflow = w
        self.ids = [t.id for t in w.tasks]
        self.index = {tid: i for i, tid in enumerate(self.ids)}
        self.tasks = list(w.tasks)
        n = len(self.ids)
        self.ups: list[list[int]] = [[] for _ in range(n)]
        self.downs: list[list[int]] = [[] for _ in range(n)]
        self.error_out = [False] * n
        seen: set[tuple[int, int]] = set()
        for e in w.edges:
            a, b = self.index.get(e.src), self.index.get(e.dst)
            if a is None or b is None or (a, b) in seen:
                continue
            seen.add((a, b))
            self.ups[b].append(a)
            self.downs[a].append(b)
            if e.kind == "error":
                self.error_out[a] = True
        for d in self.downs:
            d.sort()  # IR task order: "first downstream" is well defined
        self.rule_name = [t.trigger_rule for t in self.tasks]
        self.rule = [RULES.get(r, RULES["all_success"]) for r in self.rule_name]
        self.rules_known = all(r in RULES for r in self.rule_name)
        self.n_up = [len(u) for u in self.ups]
        self.kind = [t.action.kind for t in self.tasks]
        self.leaves = [i for i in range(n) if not self.downs[i]]
        self.engine = w.source.engine if w.source else None
        self.group_of = [t.group for t in self.tasks]
        self._desc: dict[int, frozenset[int]] = {}

    def is_sound(self) -> bool:
        """Cheap check (O(tasks + edges)) that the graph can be scheduled:
        unique ids, known edge ends and trigger rules, no cycle (Kahn's
        algorithm). When it fails, ``wfconv.ir.validate`` explains why."""
        w = self.workflow
        if len(self.index) != len(self.ids) or not self.rules_known:
            return False
        if any(e.src not in self.index or e.dst not in self.index for e in w.edges):
            return False
        indeg = list(self.n_up)
        stack = [i for i, d in enumerate(indeg) if d == 0]
        seen = 0
        while stack:
            j = stack.pop()
            seen += 1
            for d in self.downs[j]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    stack.append(d)
        return seen == len(self.ids)

    def descendants(self, i: int) -> frozenset[int]:
        """All tasks reachable downstream of ``i`` (cached)."""
        got = self._desc.get(i)
        if got is not None:
            return got
        out: set[int] = set()
        stack = list(self.downs[i])
        while stack:
            j = stack.pop()
            if j not in out:
                out.add(j)
                stack.extend(self.downs[j])
        got = frozenset(out)
        self._desc[i] = got
        return got

    def in_group(self, i: int, group: str) -> bool:
        g = self.group_of[i]
        tid = self.ids[i]
        return (
            g == group
            or (g is not None and g.startswith(group + "."))
            or tid.startswith(group + ".")
        )
