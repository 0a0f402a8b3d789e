"""Setup and teardown tasks (``Task.role``): what Airflow derives from them.

Airflow (>= 2.7, TriggerRuleDep and DagRun) gives setup/teardown tasks three
effects beyond their edges, computed here once for the runtime and the
backends that emulate them:

- a task that is not a teardown needs its *relevant* setups further upstream
  (not its direct upstreams) to succeed: one failed -> upstream_failed at
  once, one skipped -> skipped, whatever the task's rule. A setup is relevant
  to a task when it has no teardown, or one of its teardowns is downstream of
  the task;
- a teardown waits for its *scope*: every task between its direct upstream
  setups and itself, not only its direct upstreams;
- teardowns do not decide the run's state (unless ``teardown_fails_run``):
  the run's effective leaves are the tasks whose downstreams are all such
  teardowns, and that are not one themselves.

The rule ``all_done_setup_success`` itself reads the direct upstream setups
(``setup_upstreams``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wfconv.ir.model import Workflow


@dataclass
class RoleFacts:
    setup_upstreams: dict[str, list[str]] = field(default_factory=dict)
    indirect_setups: dict[str, list[str]] = field(default_factory=dict)
    scope: dict[str, list[str]] = field(default_factory=dict)
    leaves: list[str] = field(default_factory=list)


def role_facts(w: Workflow) -> RoleFacts:
    """The facts above, keyed by task id (empty lists are left out; ``leaves``
    in task order). Edges to unknown tasks are ignored."""
    ids = [t.id for t in w.tasks]
    known = set(ids)
    role = {t.id: t.role for t in w.tasks}
    fails_run = {t.id: t.teardown_fails_run for t in w.tasks}
    ups: dict[str, list[str]] = {i: [] for i in ids}
    downs: dict[str, list[str]] = {i: [] for i in ids}
    for e in w.edges:
        if e.src in known and e.dst in known and e.dst not in downs[e.src]:
            downs[e.src].append(e.dst)
            ups[e.dst].append(e.src)
    facts = RoleFacts()
    if not any(role.values()):
        facts.leaves = [i for i in ids if not downs[i]]
        return facts
    order = {tid: k for k, tid in enumerate(ids)}
    memo: dict[str, frozenset[str]] = {}

    def descendants(i: str) -> frozenset[str]:
        got = memo.get(i)
        if got is None:
            out: set[str] = set()
            stack = list(downs[i])
            while stack:
                j = stack.pop()
                if j not in out:
                    out.add(j)
                    stack.extend(downs[j])
            got = memo[i] = frozenset(out)
        return got

    teardown = {i: role[i] == "teardown" for i in ids}
    for i in ids:
        setups = [u for u in ups[i] if role[u] == "setup"]
        if setups:
            facts.setup_upstreams[i] = setups
    for s in ids:
        if role[s] != "setup":
            continue
        own = [d for d in downs[s] if teardown[d]]
        for x in sorted(descendants(s), key=order.__getitem__):
            if teardown[x] or s in ups[x]:
                continue
            if own and not any(t in descendants(x) for t in own):
                continue
            facts.indirect_setups.setdefault(x, []).append(s)
    for t in ids:
        if not teardown[t]:
            continue
        direct = set(ups[t])
        in_scope: set[str] = set()
        for s in facts.setup_upstreams.get(t, []):
            in_scope |= {x for x in descendants(s) if x != t and x not in direct}
        scope = sorted((x for x in in_scope if t in descendants(x)), key=order.__getitem__)
        if scope:
            facts.scope[t] = scope

    def ignorable(i: str) -> bool:
        return teardown[i] and not fails_run[i]

    leaves = [i for i in ids if not ignorable(i) and all(ignorable(d) for d in downs[i])]
    facts.leaves = leaves or [i for i in ids if not downs[i]]
    return facts
