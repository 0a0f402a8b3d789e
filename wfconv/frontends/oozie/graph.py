"""Oozie control flow -> IR edges and Airflow trigger rules.

Why this is a module of its own: Oozie moves a token along transitions
(``ok``, ``error``, decision ``case``/``default``, fork paths, join), while the
IR states, per task, *which upstream states let it run* (Airflow's trigger
rules, with skips propagating down untaken paths, docs/semantics.md R1/R6). Turning
one into the other exactly is the heart of an Oozie migration.

A node runs when ANY of its incoming transitions fires; a join fires when ALL
of its fork paths arrive (at most one alternative per path can arrive). Under
Airflow's rules (S success, F failed, U upstream_failed, K skipped):

============================  ================================  ======================
incoming transitions          rule                              why
============================  ================================  ======================
ok of one node                ``all_success``                   runs iff it succeeded
error of one node             ``one_failed``                    runs iff it failed
ok + error of one node        ``one_done``                      S or F runs; K and U skip
ok of several (alternatives)  ``one_success``                   whichever path arrived
error of several              ``one_failed``                    any failure
a join                        ``all_success`` or, when a path   R6: untaken alternatives
                              has alternatives,                 are skipped, not failed
                              ``none_failed_min_one_success``
anything else                 gate tasks + ``one_success``      see below
============================  ================================  ======================

``one_done`` rather than ``none_skipped`` for "ok and error of the same node":
both fire on S or F and skip on K, but ``none_skipped`` also fires when the
node is upstream_failed (its own predecessor failed), where Oozie would never
reach it; ``one_done`` ignores U (R1).

Synthetic tasks (all ``empty`` unless cloned, ``extra.oozie.synthetic`` set):

- ``<decision>__<target>``: a hop between a decision and a target that other
  transitions also reach (or a fork/join target): Airflow's branch skips every
  direct downstream it does not follow, so a shared target must not be a
  direct downstream of the branch;
- ``<kill>__from_<node>``: a kill node cloned per source when one rule cannot
  serve all its incoming transitions (kill is a leaf, so clones are exact);
- ``<target>__<kind>_from_<node>`` and ``<join>``/``<join>__<path>``: gates
  normalising an arrival (error, ok+error, a join, a path with recoverable
  failures) into "succeeded = arrived" so a ``one_success``/``all_success``
  can combine them;
- ``end__from_<node>``: an ``error`` transition to ``end`` (Oozie then ends
  SUCCEEDED): a ``one_failed`` empty task, so the failure is handled and the
  run's leaves succeed as Oozie's job does.

A decision case whose target is ``end`` has ``"to": null``.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from wfconv.ir.model import Action, Edge, SourceRef, Task

# Diagnostic codes (docs/codes/oozie.md).
UNKNOWN_TRANSITION = "OZ101"
UNREACHABLE = "OZ102"
UNREACHABLE_END = "OZ111"  # only kill/end nodes are unreachable: harmless
DUPLICATE_NODE = "OZ103"
NO_START = "OZ104"
FORK_JOIN_MISMATCH = "OZ105"
NO_DEFAULT = "OZ107"
CONTROL_CYCLE = "OZ108"
BAD_NAME = "OZ109"
END_IN_FORK = "OZ110"
ERROR_TO_END = "OZ303"
KILL_CLONED = "OZ304"
HANDLER_UPSTREAM_FAILED = "OZ305"
SYNTHETIC = "OZ306"

TASK_KINDS = ("action", "decision", "kill")


def _valid_name(name: str) -> bool:
    return (
        0 < len(name) <= 50
        and name[0].isascii()
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)
    )


@dataclass
class Node:
    """One Oozie node as read from the XML."""

    name: str
    kind: str  # start | end | kill | decision | fork | join | action
    line: int | None
    ok: str | None = None
    error: str | None = None
    to: str | None = None
    paths: list[str] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)  # {"when","expr","to","line"}
    default: str | None = None
    task: Task | None = None

    def transitions(self) -> list[tuple[str, str]]:
        """(label, target) pairs in document order."""
        out: list[tuple[str, str | None]] = []
        if self.kind == "action":
            out = [("ok", self.ok), ("error", self.error)]
        elif self.kind in ("start", "join"):
            out = [("to", self.to)]
        elif self.kind == "fork":
            out = [("path", p) for p in self.paths]
        elif self.kind == "decision":
            out = [("case", c["to"]) for c in self.cases] + [("default", self.default)]
        return [(label, t) for label, t in out if t]


class _Reach(dict):
    """Oozie nodes reachable from a node (itself included), computed on
    demand: only fork paths and error targets are ever asked for."""

    def __init__(self, adj: dict[str, list[str]]):
        super().__init__()
        self.adj = adj

    def __missing__(self, key: str) -> set[str]:
        seen = {key}
        todo = [key]
        while todo:
            for t in self.adj.get(todo.pop(), ()):
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        self[key] = seen
        return seen

    def get(self, key, default=None):
        return self[key] if key in self.adj else default


@dataclass
class Arrival:
    src: str  # IR task id, or a join name when kind == "join"
    kind: str  # ok | error | case | join


@dataclass
class Result:
    tasks: list[Task]
    edges: list[Edge]
    diags: list[tuple[str, str, str, int | None]]  # (severity, code, message, line)
    branch_targets: dict[str, dict[str, str | None]]  # decision -> oozie target -> task id


class GraphBuilder:
    def __init__(self, nodes: list[Node], path: str):
        self.path = path
        self.diags: list[tuple[str, str, str, int | None]] = []
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []
        for n in nodes:
            if n.kind != "start" and not _valid_name(n.name):
                self.diag(
                    "warning",
                    BAD_NAME,
                    f"node name {n.name!r} does not match Oozie's identifier pattern "
                    "[a-zA-Z_][-_a-zA-Z0-9]* (at most 50 characters); Oozie refuses it",
                    n.line,
                )
            if n.name in self.nodes:
                self.diag(
                    "error",
                    DUPLICATE_NODE,
                    f"node name {n.name!r} is used twice; the second is ignored",
                    n.line,
                )
                continue
            self.nodes[n.name] = n
            self.order.append(n.name)
        self.tasks: dict[str, Task] = {}
        self.synthetic: dict[str, list[str]] = {}  # anchor oozie node -> synthetic task ids
        self.edges: list[Edge] = []
        self.edge_set: set[tuple[str, str]] = set()
        self.origin: dict[str, str] = {}  # task id -> oozie node it stands for

    def diag(self, severity: str, code: str, message: str, line: int | None) -> None:
        self.diags.append((severity, code, message, line))

    # -- phase 1: validation ------------------------------------------------
    def validate(self) -> str | None:
        starts = [n for n in self.nodes.values() if n.kind == "start"]
        if not starts:
            self.diag("error", NO_START, "workflow has no <start> node", None)
            return None
        start = starts[0]
        for n in self.nodes.values():
            self._check_targets(n)
            if n.kind == "decision" and not n.default:
                self.diag(
                    "error", NO_DEFAULT, f"decision {n.name!r} has no <default> transition", n.line
                )
        seen = {start.name}
        todo = [start.name]
        while todo:
            cur = self.nodes[todo.pop()]
            for _label, t in cur.transitions():
                if t in self.nodes and t not in seen:
                    seen.add(t)
                    todo.append(t)
        unreachable = [name for name in self.order if name not in seen]
        if unreachable:
            # Unused kill/end nodes change nothing; unreachable work is a mistake.
            harmless = all(self.nodes[x].kind in ("kill", "end") for x in unreachable)
            self.diag(
                "warning" if harmless else "error",
                UNREACHABLE_END if harmless else UNREACHABLE,
                "nodes not reachable from <start> are left out: " + ", ".join(unreachable),
                self.nodes[unreachable[0]].line,
            )
            for name in unreachable:
                del self.nodes[name]
            self.order = [n for n in self.order if n in self.nodes]
        self._check_fork_paths()
        return start.name

    def _check_fork_paths(self) -> None:
        """Oozie refuses a fork path that can reach ``end`` without passing a
        join (the job would end while its siblings run)."""
        for name in self.order:
            n = self.nodes[name]
            if n.kind != "fork":
                continue
            for p in n.paths:
                seen = {p}
                todo = [p]
                hit = None
                while todo and hit is None:
                    cur = self.nodes[todo.pop()]
                    if cur.kind == "end":
                        hit = cur.name
                        break
                    if cur.kind == "join":
                        continue
                    for _l, t in cur.transitions():
                        if t in self.nodes and t not in seen:
                            seen.add(t)
                            todo.append(t)
                if hit is not None:
                    self.diag(
                        "warning",
                        END_IN_FORK,
                        f"fork {name!r}: path {p!r} can reach <end> {hit!r} before a join; Oozie refuses "
                        "this, and the IR's run would not stop the other paths",
                        n.line,
                    )

    def _check_targets(self, n: Node) -> None:
        def bad(target: str, label: str) -> bool:
            if target in self.nodes:
                return False
            self.diag(
                "error",
                UNKNOWN_TRANSITION,
                f"node {n.name!r}: {label} transition to unknown node {target!r}",
                n.line,
            )
            return True

        if n.ok and bad(n.ok, "ok"):
            n.ok = None
        if n.error and bad(n.error, "error"):
            n.error = None
        if n.to and bad(n.to, "to"):
            n.to = None
        n.paths = [p for p in n.paths if not bad(p, "fork path")]
        for c in n.cases:
            if c["to"] and bad(c["to"], "case"):
                c["to"] = None
        if n.default and bad(n.default, "default"):
            n.default = None

    # -- phase 2: transitions -> arrivals ---------------------------------------
    def entries(self, target: str, seen: frozenset = frozenset()) -> list[tuple[str, str | None]]:
        """What reaching ``target`` means: ('task', id) | ('join', name) | ('end', None)."""
        n = self.nodes[target]
        if n.kind in TASK_KINDS:
            return [("task", target)]
        if n.kind == "join":
            return [("join", target)]
        if n.kind == "end":
            return [("end", None)]
        if n.kind == "fork":
            if target in seen:
                self.diag(
                    "error",
                    CONTROL_CYCLE,
                    f"fork {target!r} reaches itself through control nodes",
                    n.line,
                )
                return []
            out: list[tuple[str, str | None]] = []
            for p in n.paths:
                out.extend(self.entries(p, seen | {target}))
            return out
        return []

    def arrivals(self, hops: dict[tuple[str, str], str]):
        arr: dict[str, list[Arrival]] = OrderedDict()
        join_in: dict[str, list[Arrival]] = OrderedDict()
        error_ends: list[str] = []
        seen: set[tuple[str, str, str]] = set()

        def add(src: str, kind: str, target: str) -> None:
            hop = hops.get((src, target))
            if hop is not None:
                arr.setdefault(hop, []).append(Arrival(src, kind))
                src, kind = hop, "ok"
            for what, name in self.entries(target):
                if what == "task":
                    if (name, src, kind) not in seen:
                        seen.add((name, src, kind))
                        arr.setdefault(name, []).append(Arrival(src, kind))
                elif what == "join":
                    join_in.setdefault(name, []).append(Arrival(src, kind))
                elif kind == "error" and src not in error_ends:
                    error_ends.append(src)

        for name in self.order:
            n = self.nodes[name]
            if n.kind == "action":
                if n.ok:
                    add(name, "ok", n.ok)
                if n.error:
                    add(name, "error", n.error)
            elif n.kind == "decision":
                for t in dict.fromkeys(
                    [c["to"] for c in n.cases if c["to"]] + ([n.default] if n.default else [])
                ):
                    add(name, "case", t)
            elif n.kind == "join" and n.to:
                add(name, "join", n.to)
        return arr, join_in, error_ends

    def decide_hops(self) -> dict[tuple[str, str], str]:
        arr, _, _ = self.arrivals({})
        hops: dict[tuple[str, str], str] = {}
        for name in self.order:
            n = self.nodes[name]
            if n.kind != "decision":
                continue
            targets = dict.fromkeys(
                [c["to"] for c in n.cases if c["to"]] + ([n.default] if n.default else [])
            )
            for t in targets:
                tk = self.nodes[t].kind
                if tk in ("end", "kill"):
                    continue
                shared = tk in ("action", "decision") and len({a.src for a in arr.get(t, [])}) > 1
                if tk in ("fork", "join") or shared:
                    hops[(name, t)] = f"{name}__{t}"
        return hops

    # -- phase 3: arrivals -> rules, edges, synthetic tasks ------------------------
    def build(self) -> Result:
        start = self.validate()
        for name in self.order:
            n = self.nodes[name]
            if n.kind in TASK_KINDS and n.task is not None:
                self.tasks[name] = n.task
                self.origin[name] = name
        hops = self.decide_hops() if start else {}
        for (dec, target), hop in hops.items():
            t = self._synthetic(hop, dec, f"hop from decision {dec!r} to {target!r}", dec)
            self._name_control(t, target)
        arr, join_in, error_ends = self.arrivals(hops) if start else ({}, {}, [])
        self.join_in = join_in
        self.reach = self._reach_sets()
        self.kill_map: dict[tuple[str, str], str] = {}
        self.guards: dict[str, tuple[str, str]] = {}
        self.ok_guards: dict[str, str] = {}
        self._guard_errors(arr)
        for tid, arrivals in arr.items():
            node = self.nodes.get(tid)
            if node is not None and node.kind == "kill":
                self._compile_kill(tid, arrivals)
            else:
                self._compile(tid, arrivals)
        for src in error_ends:
            gid = self._unique(f"end__from_{src}")
            self._synthetic(gid, src, f"error transition of {src!r} to <end>", src)
            self.tasks[gid].trigger_rule = "one_failed"
            self._edge(src, gid, "error")
            self.diag(
                "info",
                ERROR_TO_END,
                f"action {src!r} has its error transition to <end> (Oozie ends SUCCEEDED): "
                f"the empty task {gid!r} (one_failed) handles the failure",
                self.nodes[src].line,
            )
        self._end_leaves()
        targets = self._branch_targets(hops)
        ordered: list[Task] = []
        for name in self.order:
            if name in self.tasks and self.nodes[name].kind in TASK_KINDS:
                ordered.append(self.tasks[name])
            for sid in self.synthetic.get(name, []):
                ordered.append(self.tasks[sid])
        pos = {t.id: i for i, t in enumerate(ordered)}
        edges = sorted(self.edges, key=lambda e: (pos.get(e.src, -1), pos.get(e.dst, -1)))
        return Result(ordered, edges, self.diags, targets)

    # error transitions: "ran and failed", not "failed or upstream_failed"
    def _guard_errors(self, arr: dict[str, list[Arrival]]) -> None:
        """Replace ``(A, error)`` arrivals by ``(A, guard)`` where Airflow's
        one_failed would fire although Oozie never takes A's error transition:
        A is upstream_failed because an earlier node s failed. That matters
        when s's failure goes elsewhere (else the target runs anyway) and is
        not absorbed before A (s's handler path does not lead to A). For a
        kill target it matters only when s's failure is recoverable (its error
        path reaches ``end``); otherwise the run is being killed anyway."""
        memo: dict[str, set[str]] = {}
        ends = {name for name, n in self.nodes.items() if n.kind == "end"}

        def sources(tid: str) -> set[str]:
            """Actions whose failure can leave ``tid`` upstream_failed."""
            if tid in memo:
                return memo[tid]
            memo[tid] = set()  # cycles are reported elsewhere
            out: set[str] = set()
            for a in arr.get(tid, []):
                if a.kind in ("ok", "case"):
                    out |= self._own_failure(a.src) | sources(a.src)
                elif a.kind == "join":
                    out |= join_sources(a.src, frozenset())
            memo[tid] = out
            return out

        def join_sources(join: str, seen: frozenset) -> set[str]:
            out: set[str] = set()
            for x in self.join_in.get(join, []):
                if x.kind == "join":
                    if x.src not in seen:
                        out |= join_sources(x.src, seen | {join})
                elif x.kind in ("ok", "case"):
                    out |= self._own_failure(x.src) | sources(x.src)
            return out

        def needs_guard(src: str, target: str) -> bool:
            target_node = self.origin.get(target, target)
            is_kill = (
                self.nodes.get(target_node) is not None and self.nodes[target_node].kind == "kill"
            )
            for s in sources(src):
                err = self.nodes[s].error
                if err is None or err == target_node or src in self.reach.get(err, set()):
                    continue
                if is_kill and not self.reach.get(err, set()) & ends:
                    continue
                return True
            return False

        def u_risk(src: str) -> bool:
            """Can ``src`` end upstream_failed in a run Oozie completes?"""
            for s in sources(src):
                err = self.nodes[s].error
                if (
                    err
                    and src not in self.reach.get(err, set())
                    and self.reach.get(err, set()) & ends
                ):
                    return True
            return False

        def recovers(src: str) -> bool:
            """Does the failure of ``src`` itself lead to ``end``?"""
            n = self.nodes.get(src)
            return bool(
                n and n.kind == "action" and n.error and self.reach.get(n.error, set()) & ends
            )

        self.u_risk = u_risk
        for tid, arrivals in arr.items():
            node = self.nodes.get(tid)
            is_kill = node is not None and node.kind == "kill"
            ok_srcs = {a.src for a in arrivals if a.kind != "error"}
            err_srcs = {a.src for a in arrivals if a.kind == "error"}
            for i, a in enumerate(arrivals):
                if a.kind == "error" and a.src not in ok_srcs and needs_guard(a.src, tid):
                    arrivals[i] = Arrival(a.src, "guard")
                    self._make_guard(a.src)
                elif (
                    is_kill
                    and a.kind in ("ok", "case")
                    and a.src not in err_srcs
                    and (u_risk(a.src) or (a.kind == "ok" and recovers(a.src)))
                ):
                    # A kill is a leaf: upstream_failed there would fail a run Oozie completes.
                    arrivals[i] = Arrival(a.src, "case_done" if a.kind == "case" else "okguard")
                    if a.kind == "ok":
                        self._make_ok_guard(a.src)

    def _end_leaves(self) -> None:
        """A task whose only way on is ``end`` (a hop to a join that ends the
        run, a decision whose cases all end it) is a leaf of the IR; if it
        may be upstream_failed in a run Oozie completes, Airflow's leaf rule
        would fail the run. ``end__from_<task>`` (one_done) becomes the leaf."""
        U_RULES = ("all_success", "one_success", "none_failed", "none_failed_min_one_success")
        sources = {e.src for e in self.edges}
        for tid in list(self.tasks):
            t = self.tasks[tid]
            if tid in sources or t.action.kind == "fail" or t.trigger_rule not in U_RULES:
                continue
            if not self.u_risk(tid):
                continue
            gid = self._unique(f"end__from_{tid}")
            anchor = self.origin.get(tid, tid)
            self._synthetic(gid, anchor, f"{tid!r} only leads to <end>", anchor)
            self.tasks[gid].trigger_rule = "one_done"
            self._edge(tid, gid, "ok")

    def _make_ok_guard(self, src: str) -> str:
        """``<src>__ok``: succeeds iff ``src`` succeeded, skipped otherwise
        (also when ``src`` is upstream_failed): ``all_success`` over
        ``<src>__ran`` (one_done) and ``<src>__not_failed`` (all_skipped over
        ``<src>__error``, one_failed)."""
        if src in self.ok_guards:
            return self.ok_guards[src]
        err, ran = self._make_guard(src, note=False)
        nf = self._unique(f"{src}__not_failed")
        self._synthetic(nf, src, f"{src!r} did not fail (all_skipped over {err!r})", src)
        self.tasks[nf].trigger_rule = "all_skipped"
        self._edge(err, nf, "ok")
        ok = self._unique(f"{src}__ok")
        self._synthetic(ok, src, f"{src!r} succeeded", src)
        self._edge(nf, ok, "ok")
        self._edge(ran, ok, "ok")
        self.ok_guards[src] = ok
        self.diag(
            "info",
            HANDLER_UPSTREAM_FAILED,
            f"{src!r} may end upstream_failed in a run Oozie completes; its ok transition to a kill "
            f"node is taken through {ok!r}, which is skipped unless {src!r} succeeded",
            self.nodes[src].line if src in self.nodes else None,
        )
        return ok

    def _own_failure(self, src: str) -> set[str]:
        n = self.nodes.get(src)
        return {src} if n is not None and n.kind == "action" else set()

    def _make_guard(self, src: str, note: bool = True) -> tuple[str, str]:
        if src in self.guards:
            return self.guards[src]
        err = self._unique(f"{src}__error")
        ran = self._unique(f"{src}__ran")
        self._synthetic(err, src, f"{src!r} failed or is upstream_failed (one_failed)", src)
        self.tasks[err].trigger_rule = "one_failed"
        self._edge(src, err, "error")
        self._synthetic(ran, src, f"{src!r} ran: succeeded or failed (one_done)", src)
        self.tasks[ran].trigger_rule = "one_done"
        self._edge(src, ran, "ok")
        self.guards[src] = (err, ran)
        if not note:
            return err, ran
        self.diag(
            "info",
            HANDLER_UPSTREAM_FAILED,
            f"{src!r} may end upstream_failed, where Airflow's one_failed would still fire; its error "
            f"transition is taken when both {err!r} (one_failed) and {ran!r} (one_done) succeed",
            self.nodes[src].line if src in self.nodes else None,
        )
        return err, ran

    def _synthetic(self, tid: str, anchor: str, why: str, origin: str) -> Task:
        line = self.nodes[anchor].line if anchor in self.nodes else None
        t = Task(
            id=tid,
            action=Action("empty", {}),
            source=SourceRef("oozie", self.path, line),
            extra={"oozie": {"synthetic": why}},
        )
        self.tasks[tid] = t
        self.synthetic.setdefault(anchor, []).append(tid)
        self.origin[tid] = origin
        return t

    def _name_control(self, task: Task, node: str) -> None:
        """Record the fork/join a routing task is named after
        (``extra.oozie.join``/``fork``): a backend writing Oozie can give the
        node it recreates the same name, so the same routing ids come back."""
        n = self.nodes.get(node)
        if n is not None and n.kind in ("fork", "join"):
            task.extra["oozie"][n.kind] = node

    # reachability over Oozie nodes, for grouping join inputs by fork path
    def _reach_sets(self) -> _Reach:
        adj = {
            name: [t for _l, t in self.nodes[name].transitions() if t in self.nodes]
            for name in self.order
        }
        return _Reach(adj)

    def _src_node(self, a: Arrival) -> str:
        return a.src if a.kind == "join" else self.origin.get(a.src, a.src)

    def _groups(self, join: str) -> list[list[Arrival]]:
        inputs = self.join_in.get(join, [])
        best: tuple[int, int, list[str]] | None = None
        for name in self.order:
            n = self.nodes[name]
            if n.kind != "fork":
                continue
            idx = []
            for a in inputs:
                hit = [
                    i for i, p in enumerate(n.paths) if self._src_node(a) in self.reach.get(p, ())
                ]
                idx.append(hit[0] if hit else -1)
            if -1 in idx:
                continue
            score = (len(set(idx)), -len(self.reach.get(name, ())))
            if best is None or score > best[:2]:
                best = (*score, [str(i) for i in idx])
        if best is None:
            if len(inputs) > 1:
                self.diag(
                    "warning",
                    FORK_JOIN_MISMATCH,
                    f"join {join!r}: no fork opens all of its incoming paths; each arrival is treated as a path",
                    self.nodes[join].line,
                )
            return [[a] for a in inputs]
        groups: dict[str, list[Arrival]] = OrderedDict()
        for a, key in zip(inputs, best[2], strict=True):
            groups.setdefault(key, []).append(a)
        return list(groups.values())

    def _recoverable(self, src: str) -> bool:
        """Can ``src`` fail without the run being killed (error -> a handler)?"""
        n = self.nodes.get(self.origin.get(src, src))
        if n is None or n.kind != "action" or not n.error:
            return False
        return self.nodes[n.error].kind != "kill"

    def _edge(self, src: str, dst: str, kind: str) -> None:
        ek = "error" if kind == "error" else "control"
        if (src, dst) not in self.edge_set:
            self.edge_set.add((src, dst))
            self.edges.append(Edge(src, dst, ek))

    def _simple_rule(self, arrivals: list[Arrival]) -> str | None:
        """Rule for leaf arrivals when one rule serves them all, else None."""
        if any(a.kind == "join" for a in arrivals):
            return None
        if any(a.kind not in ("ok", "case", "error") for a in arrivals):
            return None
        by_src: dict[str, set[str]] = OrderedDict()
        for a in arrivals:
            by_src.setdefault(a.src, set()).add("ok" if a.kind == "case" else a.kind)
        kinds = list(by_src.values())
        if len(by_src) == 1:
            return {
                frozenset({"ok"}): "all_success",
                frozenset({"error"}): "one_failed",
                frozenset({"ok", "error"}): "one_done",
            }[frozenset(kinds[0])]
        if all(k == {"ok"} for k in kinds):
            return "one_success"
        if all(k == {"error"} for k in kinds):
            return "one_failed"
        return None

    def _compile(self, tid: str, arrivals: list[Arrival]) -> None:
        task = self.tasks[tid]
        if len(arrivals) == 1 and arrivals[0].kind == "case_done":
            # the decision ran and chose this task (a decision that never ran skips it)
            task.trigger_rule = "one_done"
            self._edge(arrivals[0].src, tid, "ok")
            return
        if len(arrivals) == 1 and arrivals[0].kind == "okguard":
            task.trigger_rule = "all_success"
            self._edge(self.ok_guards[arrivals[0].src], tid, "ok")
            return
        guards = [a for a in arrivals if a.kind == "guard"]
        if guards and len(arrivals) == 1:
            task.trigger_rule = "all_success"
            for g in self.guards[guards[0].src]:
                self._edge(g, tid, "ok")
            return
        if guards:
            arrivals = [self._combined_guard(a, tid) if a.kind == "guard" else a for a in arrivals]
        rule = self._simple_rule(arrivals)
        if rule is not None:
            task.trigger_rule = rule
            for a in arrivals:
                self._edge(a.src, tid, a.kind)
            return
        joins = [a for a in arrivals if a.kind == "join"]
        if len(joins) == 1 and len(arrivals) == 1:
            self._compile_join(tid, joins[0].src)
            return
        # Mixed: gate every arrival that is not a plain ok, then one_success.
        by_src: dict[str, list[Arrival]] = OrderedDict()
        for a in arrivals:
            by_src.setdefault(a.src, []).append(a)
        signals: list[str] = []
        for src, group in by_src.items():
            kinds = {a.kind for a in group}
            if kinds <= {"ok", "case"}:
                signals.append(src)
                continue
            if kinds == {"join"}:
                gid = self._unique(src)
                t = self._synthetic(
                    gid, self.origin.get(tid, tid), f"join {src!r} feeding {tid!r}", src
                )
                self._name_control(t, src)
                self._compile_join(gid, src)
            else:
                word = "done" if kinds == {"ok", "error"} else "error"
                gid = self._unique(f"{tid}__{word}_from_{src}")
                self._synthetic(
                    gid, self.origin.get(tid, tid), f"gate: {word} of {src!r} reaching {tid!r}", src
                )
                self._compile(gid, group)
            signals.append(gid)
        task.trigger_rule = "one_success"
        for s in signals:
            self._edge(s, tid, "ok")
        self.diag(
            "info",
            SYNTHETIC,
            f"{tid!r} is reached by transitions no single trigger rule combines; "
            f"gate tasks feed it with one_success: {', '.join(signals)}",
            task.source.line if task.source else None,
        )

    def _combined_guard(self, a: Arrival, target: str) -> Arrival:
        """One task standing for "a.src ran and failed" (all_success over its guards)."""
        gid = f"{a.src}__failed"
        if gid not in self.tasks:
            self._synthetic(gid, a.src, f"{a.src!r} ran and failed", a.src)
            for g in self.guards[a.src]:
                self._edge(g, gid, "ok")
        return Arrival(gid, "ok")

    def _unique(self, tid: str) -> str:
        out, k = tid, 2
        while out in self.tasks or (out in self.nodes and self.nodes[out].kind in TASK_KINDS):
            out = f"{tid}_{k}"
            k += 1
        return out

    def _compile_join(self, tid: str, join: str) -> None:
        task = self.tasks[tid]
        groups = self._flatten(self._groups(join))
        alternatives = False
        signals: list[tuple[str, str]] = []
        for i, group in enumerate(groups):
            if len(group) == 1 and group[0].kind == "ok":
                signals.append((group[0].src, "ok"))
                continue
            plain = all(a.kind in ("ok", "case") for a in group) and not any(
                self._recoverable(a.src) for a in group
            )
            if plain:
                alternatives = True
                signals.extend((a.src, "ok") for a in group)
                continue
            first = self._src_node(group[0])
            gid = self._unique(f"{join}__{first}" if first else f"{join}__path{i + 1}")
            t = self._synthetic(
                gid, join if join in self.nodes else tid, f"path {i + 1} of join {join!r}", join
            )
            self._name_control(t, join)
            self._compile(gid, group)
            signals.append((gid, "ok"))
        task.trigger_rule = "none_failed_min_one_success" if alternatives else "all_success"
        for src, kind in signals:
            self._edge(src, tid, kind)

    def _flatten(self, groups: list[list[Arrival]]) -> list[list[Arrival]]:
        out: list[list[Arrival]] = []
        for g in groups:
            if len(g) == 1 and g[0].kind == "join":
                out.extend(self._flatten(self._groups(g[0].src)))
            else:
                out.append(g)
        return out

    def _compile_kill(self, kid: str, arrivals: list[Arrival]) -> None:
        srcs = list(dict.fromkeys(a.src for a in arrivals))
        branch_shared = len(srcs) > 1 and any(a.kind in ("case", "case_done") for a in arrivals)
        if not branch_shared and (self._simple_rule(arrivals) or (len(arrivals) == 1)):
            self._compile(kid, arrivals)
            for s in srcs:
                self.kill_map[(s, kid)] = kid
            return
        original = self.tasks.pop(kid)
        clones = []
        for s in srcs:
            cid = self._unique(f"{kid}__from_{s}")
            clone = copy.deepcopy(original)
            clone.id = cid
            clone.extra.setdefault("oozie", {})["clone_of"] = kid
            self.tasks[cid] = clone
            self.synthetic.setdefault(kid, []).append(cid)
            self.origin[cid] = kid
            self._compile(cid, [a for a in arrivals if a.src == s])
            self.kill_map[(s, kid)] = cid
            clones.append(cid)
        self.diag(
            "info",
            KILL_CLONED,
            f"kill node {kid!r} is reached by transitions needing different trigger rules; "
            f"cloned per source: {', '.join(clones)}",
            original.source.line if original.source else None,
        )

    def _branch_targets(self, hops: dict[tuple[str, str], str]) -> dict[str, dict[str, str | None]]:
        out: dict[str, dict[str, str | None]] = {}
        for name in self.order:
            n = self.nodes[name]
            if n.kind != "decision":
                continue
            m: dict[str, str | None] = {}
            for t in [c["to"] for c in n.cases if c["to"]] + ([n.default] if n.default else []):
                kind = self.nodes[t].kind
                if (name, t) in hops:
                    m[t] = hops[(name, t)]
                elif kind == "end":
                    m[t] = None
                elif kind == "kill":
                    m[t] = self.kill_map.get((name, t), t)
                else:
                    m[t] = t
            out[name] = m
        return out


def build(nodes: list[Node], path: str) -> Result:
    return GraphBuilder(nodes, path).build()
