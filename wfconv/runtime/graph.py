"""A workflow compiled for the scheduler loop: integer indices and adjacency
lists, built once per workflow and shared by all its runs (the loop touches
only lists, which keeps simulation near a bare topological walk)."""

from __future__ import annotations

from wfconv.ir.model import Workflow
from wfconv.ir.roles import role_facts
from wfconv.runtime.rules import RULES, RUN, WAIT

# Above this many downstreams a task's duplicate-edge check uses a set.
BIG_FAN_OUT = 16
# Kinds whose simulated attempt needs more than the scenario's fail/skip/duration.
COMPLEX_KINDS = frozenset({"fail", "sensor", "subworkflow"})


class CompiledWorkflow:
    def __init__(self, w: Workflow):
        self.workflow = w
        self.tasks = tasks = list(w.tasks)
        self.ids = ids = [t.id for t in tasks]
        self.index = {tid: i for i, tid in enumerate(ids)}
        n = len(ids)
        self.downs: list[list[int]] = [[] for _ in range(n)]
        self.n_up = [0] * n
        self.error_out = [False] * n
        self.unknown_edge_end = self._add_edges(w.edges)
        for d in self.downs:
            d.sort()  # IR task order: "first downstream" is well defined
        self.rule_name = [t.trigger_rule for t in tasks]
        default_rule = RULES["all_success"]
        self.rule = [RULES.get(r, default_rule) for r in self.rule_name]
        self.rules_known = all(r in RULES for r in self.rule_name)
        self.kind = [t.action.kind for t in tasks]
        self.leaves = [i for i in range(n) if not self.downs[i]]
        self.engine = w.source.engine if w.source else None
        self.group_of = [t.group for t in tasks]
        self._desc: dict[int, frozenset[int]] = {}
        self._sound: bool | None = None
        self._first: list[tuple[int, object]] | None = None
        # Per-task facts every run needs (a workflow is compiled once and
        # run many times: a year of hourly runs, verify's scenarios).
        self.maps_nothing = [_maps_nothing(t) for t in tasks]
        # Tasks whose simulated attempt is plain (no fail/sensor/sub-workflow
        # logic, no execution_timeout): the engine's fast path.
        self.plain = [
            k not in COMPLEX_KINDS and t.timeout_s is None
            for k, t in zip(self.kind, tasks, strict=True)
        ]
        self.depends_on_past = [t.id for t in tasks if t.depends_on_past]
        # Every run of the workflow is the same shifted in time when nothing
        # the scenario does not script can differ (engine.RunEngine._replay_key);
        # its outcome is kept once per default duration.
        self.replayable = all(self.plain) and "branch" not in self.kind and not self.depends_on_past
        self.replays: dict[float, object] = {}
        self._setup_teardown(tasks)

    def _setup_teardown(self, tasks) -> None:
        """Airflow's setup/teardown facts (wfconv.ir.roles) as indices:
        ``setup_ups``, ``indirect_setups``, ``scope``; ``watchers``: tasks to
        re-evaluate when a task settles (it is one of their indirect setups
        or in their scope); ``special``: tasks whose verdict needs any of
        this; ``leaves``: the effective leaves that decide the run's state."""
        n = len(tasks)
        self.has_roles = any(t.role is not None for t in tasks)
        if not self.has_roles:
            # Read only when has_roles: nothing allocated per task otherwise.
            self.special = self.setup_ups = self.indirect_setups = ()
            self.scope = self.watchers = ()
            return
        self.special = [False] * n
        self.setup_ups = [[] for _ in range(n)]
        self.indirect_setups = [[] for _ in range(n)]
        self.scope = [[] for _ in range(n)]
        self.watchers = [[] for _ in range(n)]
        facts = role_facts(self.workflow)
        index = self.index
        for tid, setups in facts.setup_upstreams.items():
            i = index[tid]
            self.setup_ups[i] = [index[s] for s in setups]
            if self.rule_name[i] == "all_done_setup_success":
                self.special[i] = True
        for tid, setups in facts.indirect_setups.items():
            i = index[tid]
            self.indirect_setups[i] = [index[s] for s in setups]
            self.special[i] = True
            for s in self.indirect_setups[i]:
                self.watchers[s].append(i)
        for tid, scope in facts.scope.items():
            i = index[tid]
            self.scope[i] = [index[x] for x in scope]
            self.special[i] = True
            for x in self.scope[i]:
                self.watchers[x].append(i)
        self.leaves = [index[tid] for tid in facts.leaves]

    def _add_edges(self, edges) -> bool:
        """Fill ``downs`` and ``n_up`` (first occurrence of a duplicated edge
        wins) and say whether an edge names an unknown task. Duplicates are
        found in the source's short downstream list, or in a set once it
        grows. (Measured: a global set of (src, dst) pairs cost as much as the
        rest of the compilation and grew worse than linearly with the
        workflow's size; so did a list of upstreams per task, only ever
        counted.)"""
        index, downs, n_up, error_out = self.index, self.downs, self.n_up, self.error_out
        big: dict[int, set[int]] = {}
        unknown = False
        for e in edges:
            a = index.get(e.src)
            b = index.get(e.dst)
            if a is None or b is None:
                unknown = True
                continue
            d = downs[a]
            if len(d) < BIG_FAN_OUT:
                if b in d:
                    continue
            else:
                seen = big.get(a)
                if seen is None:
                    seen = big[a] = set(d)
                if b in seen:
                    continue
                seen.add(b)
            d.append(b)
            n_up[b] += 1
            if e.kind == "error":
                error_out[a] = True
        return unknown

    @property
    def ups(self) -> list[list[int]]:
        """Direct upstreams of each task, ascending (built on demand: the
        scheduler only needs their number, ``n_up``)."""
        out: list[list[int]] = [[] for _ in self.ids]
        for a, ds in enumerate(self.downs):
            for b in ds:
                out[b].append(a)
        return out

    def first_verdicts(self) -> list[tuple[int, object]]:
        """(task, verdict) of the tasks a fresh run decides before anything
        ran (no upstream: RUN; a rule that fires on no settled upstream), in
        task order; computed once (rules are pure). Not for setup/teardown
        verdicts, which read the run's state."""
        if self._first is None:
            first = []
            for i, (rule, n_up) in enumerate(zip(self.rule, self.n_up, strict=True)):
                v = RUN if n_up == 0 else rule(0, 0, 0, 0, n_up)
                if v is not WAIT:
                    first.append((i, v))
            self._first = first
        return self._first

    def is_sound(self) -> bool:
        """Cheap check (O(tasks + edges), computed once) that the graph can be
        scheduled: unique ids, known edge ends and trigger rules, no cycle
        (Kahn's algorithm). When it fails, ``wfconv.ir.validate`` explains why."""
        if self._sound is None:
            self._sound = self._check_sound()
        return self._sound

    def _check_sound(self) -> bool:
        if len(self.index) != len(self.ids) or not self.rules_known or self.unknown_edge_end:
            return False
        indeg = list(self.n_up)
        downs = self.downs
        stack = [i for i, d in enumerate(indeg) if d == 0]
        seen = 0
        while stack:
            j = stack.pop()
            seen += 1
            for d in downs[j]:
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


def _maps_nothing(task) -> bool:
    """A mapped task whose literal input is empty expands to no instance."""
    m = task.mapped
    if not m:
        return False
    over = m.get("over") if isinstance(m, dict) else None
    return isinstance(over, dict) and any(isinstance(v, list) and not v for v in over.values())
